"""A notification in words: who did what on which paper, where it leads, and what the comment said. The site's
list and both kinds of email say it the same way."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from paperfeed.notifications.models import Kind, Notification
from paperfeed.notifications.services.visibility import may_see

EXCERPT_CHARS = 280

_LEADS = {
    Kind.MENTION: "{actor} mentioned you in a comment on",
    Kind.REPLY: "{actor} replied to your comment on",
    Kind.PAPER_COMMENT: "{actor} commented on your paper",
    Kind.CLAIM_APPROVED: "A moderator confirmed you as {author} on",
    Kind.CLAIM_REFUSED: "A moderator did not confirm you as {author} on",
}


@dataclass(frozen=True)
class Described:
    notification: Notification
    lead: str  # what happened, up to the paper's title: "@bob replied to your comment on"
    title: str  # the paper's title, on one line
    path: str  # where it leads on the site
    excerpt: str  # the comment's text, shortened; empty when the comment is gone or hidden from the reader
    gone: str  # why there is no excerpt, when a comment's notification has none

    @property
    def sentence(self) -> str:
        return f"{self.lead} “{self.title}”"


def one_line(text: str, limit: int | None = None) -> str:
    """`text` on one line (every run of white space one space), cut with an ellipsis beyond `limit` characters."""
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def describe(notification: Notification) -> Described:
    """The notification in words (expects actor, paper, comment and claim's author loaded with it)."""
    paper = notification.paper
    actor = f"@{notification.actor.username}" if notification.actor_id else "Someone"
    author = notification.claim.author.name if notification.claim_id else ""
    lead = _LEADS[Kind(notification.kind)].format(actor=actor, author=one_line(author))
    page = reverse("paper", args=[paper.address])
    comment = notification.comment
    excerpt = gone = ""
    if comment is None:
        path = page + ("#claim" if notification.claim_id else "")
    elif may_see(notification.recipient, comment):
        path = f"{page}#comment-{comment.pk}"
        excerpt = one_line(comment.body, EXCERPT_CHARS)
    else:
        path = f"{page}#comments"
        gone = "This comment was deleted or is no longer shown."
    return Described(notification, lead, one_line(paper.title), path, excerpt, gone)
