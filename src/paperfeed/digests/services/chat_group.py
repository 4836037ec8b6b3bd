"""A reading group's webhook: the group's "this week's reading" (its pin) and what its editors added to the group's
collections lately, each paper posted once (the send log's history leaves out what earlier deliveries posted).

Registered as the content kind "group" in chat_content.py. Its owners and editors manage the webhook
(chat_hooks.webhooks_of); the message links to the group's page, which only its members can open.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from paperfeed.community.models import CollectionItem, Group
from paperfeed.community.services.groups import weekly_reading
from paperfeed.core.webhooks.message import Message, MessageSection
from paperfeed.digests.services.compose import History
from paperfeed.digests.services.schedule import WEEKLY, DigestPeriod
from paperfeed.papers.models import visible_condition

ADDED_MOST = 50  # additions a delivery lists at most; the rest are on the group's page


def group_message(run, group: Group, period: DigestPeriod, history: History) -> tuple[Message, list[int]]:
    """The delivery of `period` for the group's webhook, and the ids of the papers it posts: the week's pin unless
    posted already, then the papers added to the group's collections during the period's span and not posted yet."""
    sections, posted = [], []
    pin = weekly_reading(group, period.local_date)
    if pin is not None and pin.paper_id not in history.sent:
        card = run.digests.cards([pin.paper_id]).get(pin.paper_id)  # none when the paper was hidden since
        if card is not None:
            who = f"pinned by @{pin.pinned_by.username}" if pin.pinned_by else "pinned"
            note = " ".join(pin.note.split())
            reasons = (f"{who}: {note}",) if note else (who,)
            sections.append(MessageSection("weekly-reading", "This week's reading", (run.paper_line(card, reasons),)))
            posted.append(pin.paper_id)
    span = timedelta(days=7 if period.frequency == WEEKLY else 1)
    added = (
        CollectionItem.objects.filter(collection__group=group, added_at__gt=run.now - span, added_at__lte=run.now)
        .filter(visible_condition("paper"))
        .exclude(paper_id__in=[*history.sent, *posted])
        .select_related("collection", "added_by")
        .order_by("-added_at", "-id")
    )
    reasons_of: dict[int, str] = {}
    for item in added[: ADDED_MOST * 2]:
        who = f"@{item.added_by.username}" if item.added_by else "an editor"
        reasons_of.setdefault(item.paper_id, f"added to {item.collection.name} by {who}")
    ids = list(reasons_of)[:ADDED_MOST]
    cards = run.digests.cards(ids)
    lines = tuple(run.paper_line(cards[pid], (reasons_of[pid],)) for pid in ids if pid in cards)
    if lines:
        sections.append(MessageSection("added", "Added to the group's collections", lines))
        posted.extend(pid for pid in ids if pid in cards)
    message = Message(
        event="group",
        title=f"{group.name} on {run.site_name} · {period.label}",
        site_name=run.site_name,
        site_url=run.site_url,
        link=run.url(reverse("group", args=[group.slug])),
        sections=tuple(sections),
        period=period.key,
    )
    return message, posted
