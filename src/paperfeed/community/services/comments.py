"""Discussions under papers: posting, replying (one level deep), editing, deleting, and the threads a page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, Expression
from django.db.models.functions import Coalesce
from django.utils import timezone

from paperfeed.community.models import Comment
from paperfeed.community.services import throttle
from paperfeed.community.services.mentions import usernames_named
from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.markdown import MarkdownTooLong, render_markdown
from paperfeed.core.sources.registry import PaperAddress
from paperfeed.papers.models import Paper
from paperfeed.papers.services.cards import per_paper

# Enough for a lively discussion, too few to flood one: a throwaway account cannot post hundreds a minute.
COMMENTS_PER_USER = throttle.Limit("comment-user", 10, timedelta(minutes=10))


class CommentRefused(Exception):
    """A comment that cannot be posted or changed as asked; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field  # what was wrong: "body", "parent" (the comment replied to) or "user"


@dataclass(frozen=True)
class ShownComment:
    """A comment as a page shows it, with what the viewer may do to it."""

    comment: Comment
    can_edit: bool = False
    can_delete: bool = False

    @property
    def deleted(self) -> bool:
        return is_deleted(self.comment)

    @property
    def removed(self) -> bool:
        """Hidden by a moderator, yet kept as a placeholder because visible replies hang under it."""
        return self.comment.hidden


@dataclass(frozen=True)
class Thread:
    """A top-level comment and its replies, oldest first."""

    comment: ShownComment
    replies: list[ShownComment] = field(default_factory=list)


@dataclass(frozen=True)
class Discussion:
    """What a paper page shows of its comments, and why the viewer may not join in (None when they may)."""

    threads: list[Thread]
    count: int  # comments shown, placeholders left out: the figure on the paper's card
    posting_problem: str | None


def shown_comment_count() -> Expression:
    """The comments shown under a paper, as a card annotation: hidden ones and the placeholders of deleted ones
    (kept for their replies, with an empty body) left out."""
    return Coalesce(per_paper(Comment, Count("pk"), hidden=False, body__gt=""), 0)


def is_deleted(comment: Comment) -> bool:
    """A deleted comment kept as a placeholder so its replies stay: its body is emptied, never blank otherwise."""
    return comment.body == ""


def _clean_body(body: str) -> tuple[str, str]:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise CommentRefused("Write something first: the comment was empty.")
    try:
        return body, render_markdown(body, mentions=usernames_named)
    except MarkdownTooLong as error:
        raise CommentRefused(str(error)) from None


def visible_paper(address: PaperAddress) -> Paper | None:
    """The paper people may comment on: one that exists and is not hidden."""
    return Paper.objects.visible().named(address).first()


_PARENT_GONE = (
    "The comment you replied to is no longer part of this discussion. You can post yours as a comment of its own."
)


def _parent_for(paper: Paper, parent_id: str | None) -> Comment | None:
    if parent_id in (None, ""):
        return None
    try:
        parent = Comment.objects.filter(pk=int(parent_id)).first()
    except (TypeError, ValueError):
        parent = None
    if parent is None or parent.hidden or parent.paper_id != paper.id:
        raise CommentRefused(_PARENT_GONE, field="parent")
    if parent.parent_id is not None:
        # Replies are one level deep: answering a reply joins the thread of its top-level comment.
        parent = Comment.objects.filter(pk=parent.parent_id, hidden=False).first()
        if parent is None:
            raise CommentRefused(_PARENT_GONE, field="parent")
    return parent


def post_comment(user: AbstractBaseUser, paper: Paper, body: str, parent_id: str | None = None) -> Comment:
    """Post a comment (or a reply to `parent_id`) on the paper, as the user; raises CommentRefused with the reason."""
    problem = posting_problem(user)
    if problem:
        raise CommentRefused(problem, status=403, field="user")
    body, html = _clean_body(body)
    parent = _parent_for(paper, parent_id)
    key = str(user.pk)
    if not user.is_staff and not COMMENTS_PER_USER.allowed(key):
        wait, window = throttle.minutes(COMMENTS_PER_USER.wait(key)), throttle.minutes(COMMENTS_PER_USER.window)
        raise CommentRefused(
            f"You have posted {COMMENTS_PER_USER.limit} comments in the last {window} minutes. "
            f"Wait {wait} minute{'s' if wait > 1 else ''} and post this one again.",
            status=429,
            field="user",
        )
    with transaction.atomic():
        COMMENTS_PER_USER.hit(key)
        return Comment.objects.create(paper=paper, author=user, parent=parent, body=body, body_html=html)


def may_edit(user: AbstractBaseUser | AnonymousUser, comment: Comment) -> bool:
    """Authors in good standing edit their own comments; staff may edit any."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return comment.author_id == user.pk and posting_problem(user) is None


def may_delete(user: AbstractBaseUser | AnonymousUser, comment: Comment) -> bool:
    """Authors may always take back what they wrote (even when banned); staff may delete any comment."""
    return user.is_authenticated and (user.is_staff or comment.author_id == user.pk)


def comment_for_change(comment_id: int) -> Comment:
    """The comment someone wants to edit or delete; one that is hidden or already deleted cannot be changed."""
    comment = Comment.objects.select_related("paper", "author").filter(pk=comment_id).first()
    if comment is None or comment.hidden or comment.paper.hidden or is_deleted(comment):
        raise CommentRefused("This comment does not exist or was deleted.", status=404)
    return comment


def edit_comment(user: AbstractBaseUser, comment: Comment, body: str) -> Comment:
    """Replace the comment's text; it is marked as edited when the text changed."""
    if not may_edit(user, comment):
        raise CommentRefused(refusal(user, comment, "edit"), status=403)
    body, html = _clean_body(body)
    if body != comment.body:
        comment.body, comment.body_html, comment.edited_at = body, html, timezone.now()
        comment.save(update_fields=["body", "body_html", "edited_at"])
    return comment


def delete_comment(user: AbstractBaseUser, comment: Comment) -> None:
    """Delete the comment; one with replies stays as a "deleted" placeholder so the replies keep their place."""
    if not may_delete(user, comment):
        raise CommentRefused(refusal(user, comment, "delete"), status=403)
    with transaction.atomic():
        if comment.replies.exists():
            comment.body = comment.body_html = ""
            comment.save(update_fields=["body", "body_html"])
            return
        parent = comment.parent
        comment.delete()
        # A placeholder left only for replies goes once its last reply goes.
        if parent is not None and is_deleted(parent) and not parent.replies.exists():
            parent.delete()


def refusal(user: AbstractBaseUser, comment: Comment, verb: str) -> str:
    """Why the user may not edit or delete (the verb) this comment, in words for them."""
    if comment.author_id != user.pk:
        return f"You can only {verb} your own comments."
    return posting_problem(user) or f"You cannot {verb} this comment."


def discussion(paper: Paper, viewer: AbstractBaseUser | AnonymousUser) -> Discussion:
    """The paper's comments as its page shows them, oldest thread first, leaving out what moderators hid."""
    problem = posting_problem(viewer)
    comments = list(Comment.objects.filter(paper=paper).select_related("author").order_by("created_at", "id"))
    visible_replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is not None and not comment.hidden:
            visible_replies.setdefault(comment.parent_id, []).append(comment)

    def shown(comment: Comment) -> ShownComment:
        own = viewer.is_authenticated and (viewer.is_staff or comment.author_id == viewer.pk)
        changeable = own and not comment.hidden and not is_deleted(comment)
        return ShownComment(
            comment, can_edit=changeable and (viewer.is_staff or problem is None), can_delete=changeable
        )

    threads, count = [], 0
    for comment in comments:
        if comment.parent_id is not None:
            continue
        replies = visible_replies.get(comment.id, [])
        placeholder = comment.hidden or is_deleted(comment)
        if placeholder and not replies:
            continue
        threads.append(Thread(shown(comment), [shown(reply) for reply in replies]))
        count += (not placeholder) + len(replies)
    return Discussion(threads, count, problem)
