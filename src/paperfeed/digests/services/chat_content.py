"""What a webhook posts, by content kind: a small registry of providers, each making one delivery's message.

A provider gets the run (`ChatComposer`: what every delivery of the run shares, computed once — the digest
composer with its trending list, list windows and cards), the webhook, its period and its history (the papers its
earlier deliveries posted, and the list day they got to), and returns a `Content`: the neutral message
(paperfeed.core.webhooks.message) with the ids of the papers it posts (logged, so they are never posted twice).

Registered here: "digest" (the owner's digest, composed exactly as their email digest is, from their interests
and digest preferences) and "saved-search" (one of their saved searches: its new matches on the lists since the
last delivery). A new kind (a reading group's weekly reading) is a module with a provider function and one
`register(ContentKind(...))` line at the end of this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from paperfeed.community.models import Interests
from paperfeed.community.services.interests import saved_searches
from paperfeed.core.webhooks.message import Message, MessageSection, PaperLine
from paperfeed.digests.models import Subscription, Webhook
from paperfeed.digests.services.chat_group import group_message
from paperfeed.digests.services.compose import DigestComposer, DigestItem, Follows, History
from paperfeed.digests.services.render import site_name
from paperfeed.digests.services.schedule import WEEKLY, DigestPeriod, list_window
from paperfeed.papers.services.cards import PaperCard

SAVED_SEARCH_MOST = 100  # papers a saved-search delivery lists at most (the rest: "and N more" on the site)


@dataclass(frozen=True)
class Content:
    message: Message
    paper_ids: list[int] = field(default_factory=list)
    listed_through: date | None = None

    @property
    def is_empty(self) -> bool:
        return not self.paper_ids


class ChatComposer:
    """What every delivery of one run shares: the digest composer (trending, list windows, cards), the site."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.digests = DigestComposer(now)
        self.site_name = site_name()
        self.site_url = settings.PAPERFEED_SITE_URL

    def url(self, path: str) -> str:
        return self.site_url + path

    def paper_line(self, card: PaperCard, reasons: tuple[str, ...] = ()) -> PaperLine:
        paper = card.paper
        url = self.url(reverse("paper", args=[paper.address]))
        return PaperLine(paper.address, " ".join(paper.title.split()), url, card.authors_line, reasons)

    def close(self) -> None:
        self.digests.close()


Provider = Callable[[ChatComposer, Webhook, DigestPeriod, History], Content]


@dataclass(frozen=True)
class ContentKind:
    key: str  # stored in Webhook.content
    label: str  # on the form: what the webhook gets
    provide: Provider
    describe: Callable[[Webhook], str]  # on the settings row: "your digest", "your saved search “…”"
    available: Callable[[Webhook], str | None] = lambda webhook: None  # why it cannot be delivered now, if so


CONTENT_KINDS: dict[str, ContentKind] = {}


def register(kind: ContentKind) -> None:
    CONTENT_KINDS[kind.key] = kind


def content_for(run: ChatComposer, webhook: Webhook, period: DigestPeriod, history: History) -> Content:
    """The webhook's next delivery, made by the provider of its content kind."""
    kind = CONTENT_KINDS.get(webhook.content)
    if kind is None:
        raise LookupError(f"no content kind {webhook.content!r} is registered")
    return kind.provide(run, webhook, period, history)


def describe(webhook: Webhook) -> str:
    kind = CONTENT_KINDS.get(webhook.content)
    return kind.describe(webhook) if kind else f"{webhook.content} (not available on this site)"


# --- the owner's digest ---


def digest_subscription_of(user) -> Subscription:
    """The member's digest subscription (whatever its status: its preferences are theirs), or, when they never
    subscribed, an unsaved one with the defaults over their interests: the webhook's digest is then composed as
    their email digest would be."""
    subscription = Subscription.objects.filter(user=user).select_related("interests").first()
    if subscription is not None:
        return subscription
    interests = Interests.objects.filter(user=user).first() or Interests(user=user)
    return Subscription(user=user, email=user.email or "", interests=interests)


def _follows(interests: Interests) -> Follows:
    if interests.pk is None:
        return Follows()
    return Follows(
        frozenset(interests.authors.values_list("id", flat=True)),
        frozenset(interests.organizations.values_list("id", flat=True)),
    )


def _lines(run: ChatComposer, items: list[DigestItem]) -> tuple[PaperLine, ...]:
    return tuple(run.paper_line(item.card, item.reasons) for item in items)


def digest_content(run: ChatComposer, webhook: Webhook, period: DigestPeriod, history: History) -> Content:
    subscription = digest_subscription_of(webhook.owner)
    digest = run.digests.compose(subscription, period, history, _follows(subscription.interests))
    weekly = period.frequency == WEEKLY
    sections = tuple(
        MessageSection(section.key, section.title(weekly), _lines(run, items), section.note)
        for section, items in digest.sections
        if items
    )
    message = Message(
        event="digest",
        title=f"{run.site_name} {'weekly' if weekly else 'daily'} digest · {period.label}",
        site_name=run.site_name,
        site_url=run.site_url,
        link=run.url(reverse("daily")),
        sections=sections,
        period=period.key,
    )
    return Content(message, digest.paper_ids, digest.listed_through)


# --- one saved search ---


def _search_label(webhook: Webhook) -> str:
    q = " ".join(webhook.search_q.split())
    return q if len(q) <= 60 else q[:59] + "…"


def saved_search_missing(webhook: Webhook) -> str | None:
    """Why the saved search cannot be delivered: the member removed it from their interests."""
    interests = Interests.objects.filter(user=webhook.owner).first()
    if (webhook.search_q, webhook.search_mode) in saved_searches(interests):
        return None
    return f"the saved search “{_search_label(webhook)}” is no longer among your saved searches"


def saved_search_content(run: ChatComposer, webhook: Webhook, period: DigestPeriod, history: History) -> Content:
    """The papers listed since the last delivery that the search finds (as the site's search finds them), most
    upvoted first; none already posted by this webhook."""
    latest = run.digests.latest_list_day(period.local_date)
    window = list_window(period, history.listed_through, latest)
    listed_through = max((d for d in (latest, history.listed_through) if d is not None), default=None)
    papers = run.digests.period_papers(window)
    found = sorted(
        papers.search(webhook.search_q, webhook.search_mode or "keyword") - history.sent, key=papers.rank.__getitem__
    )
    label = _search_label(webhook)
    cards = run.digests.cards(found[:SAVED_SEARCH_MOST])
    lines = tuple(
        run.paper_line(cards[pid], (f"matches “{label}”",)) for pid in found[:SAVED_SEARCH_MOST] if pid in cards
    )
    link = run.url(
        reverse("search") + "?" + urlencode({"q": webhook.search_q, "mode": webhook.search_mode or "keyword"})
    )
    message = Message(
        event="saved-search",
        title=f"New on {run.site_name} for “{label}” · {period.label}",
        site_name=run.site_name,
        site_url=run.site_url,
        link=link,
        sections=(MessageSection("saved-search", "New on the lists", lines),) if lines else (),
        period=period.key,
    )
    # Every match counts as delivered, those past SAVED_SEARCH_MOST too: the message links to them on the site.
    return Content(message, found, listed_through)


def test_message(run: ChatComposer, webhook: Webhook) -> Message:
    """What "Send a test message" posts: a title and one line, no papers."""
    return Message(
        event="test",
        title=f"Test message from {run.site_name}",
        site_name=run.site_name,
        site_url=run.site_url,
        link=run.url(reverse("daily")),
        intro=f"This webhook will get {describe(webhook)}.",
    )


register(ContentKind("digest", "my digest", digest_content, lambda webhook: "your digest"))
register(
    ContentKind(
        "saved-search",
        "one of my saved searches",
        saved_search_content,
        lambda webhook: f"new papers for your saved search “{_search_label(webhook)}”",
        saved_search_missing,
    )
)


def group_content(run: ChatComposer, webhook: Webhook, period: DigestPeriod, history: History) -> Content:
    message, paper_ids = group_message(run, webhook.group, period, history)
    return Content(message, paper_ids)


register(
    ContentKind(
        "group",
        "a reading group's weekly reading and additions",
        group_content,
        lambda webhook: (
            f"the weekly reading and additions of the group {webhook.group.name}"
            if webhook.group_id
            else "a reading group's weekly reading"
        ),
        lambda webhook: None if webhook.group_id else "it names no reading group",
    )
)
