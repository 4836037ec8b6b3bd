"""Posting every due chat delivery exactly once: claim, compose, POST, record — as email digests are sent.

Exactly once rests on the chat send log (`WebhookDelivery`, unique per webhook and period), with the guarantees of
services/sending.py: a run claims a delivery by inserting its row before composing it (a second run's insert fails,
so it moves on); a claim left behind by a killed run is taken over once STALE_CLAIM old, by an optimistic update
only one run can win; the row becomes `sent` once the receiver answered 2xx. Every request carries
`X-Paperfeed-Delivery`, the same for every attempt at one webhook's period (a UUID derived from both), so a
receiver can drop the one duplicate a kill between its 2xx and our record could cause.

Temporary trouble (see chat_post: connection errors, timeouts, 429, 5xx) releases the claim: the next run tries
again, and after a 429 not before its Retry-After. A permanent refusal (another 4xx, a redirect, an address that
is now refused) marks the delivery `failed` and pauses the webhook with the reason, shown on its settings row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from paperfeed.digests.models import Subscription, Webhook, WebhookDelivery
from paperfeed.digests.services.chat_content import CONTENT_KINDS, ChatComposer, Content, content_for
from paperfeed.digests.services.chat_post import PERMANENT, SENT, Answer, build, deliver
from paperfeed.digests.services.compose import SENT_MEMORY, History
from paperfeed.digests.services.schedule import DAILY, DigestPeriod, current_period, is_due

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=15)  # as for email: a claim this old belongs to a run that died


@dataclass(frozen=True)
class DueDelivery:
    webhook: Webhook
    period: DigestPeriod
    stale_claim: tuple[int, datetime] | None = None


@dataclass
class ChatSummary:
    due: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0  # refused for good: the webhook is paused
    not_sent: int = 0  # left for the next run
    taken: int = 0  # being posted by another run
    dry_run: bool = False
    stopped: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.not_sent)

    def describe(self) -> str:
        if self.dry_run:
            return f"Chat dry run: {self.due} due; {self.sent} would be posted, {self.empty} have nothing new."
        line = f"sent {self.sent}, empty {self.empty}, failed {self.failed}, not sent {self.not_sent}"
        if self.stopped:
            line += f" ({self.stopped})"
        if self.taken:
            line += f"; {self.taken} being posted by another run at the same time"
        return f"Chat: {line}."


def delivery_id(webhook: Webhook, key: str) -> str:
    """The X-Paperfeed-Delivery of this webhook's delivery for period `key`: the same at every attempt."""
    return str(uuid.uuid5(webhook.uid, key))


# --- when ---


def schedule_of(webhook: Webhook, subscriptions: dict[int, Subscription] | None = None) -> tuple[str, int, str, int]:
    """(frequency, weekday, time zone, hour): the webhook's own, or its owner's email digest's ("as my email
    digest"; daily at the webhook's hour when they have none)."""
    if webhook.schedule == Webhook.Schedule.EMAIL:
        found = (subscriptions or {}).get(webhook.owner_id)
        if found is None and subscriptions is None:
            found = Subscription.objects.filter(user_id=webhook.owner_id).first()
        if found is not None:
            return found.frequency, found.weekday, found.time_zone, found.hour
        return DAILY, webhook.weekday, webhook.time_zone, webhook.hour
    return webhook.schedule, webhook.weekday, webhook.time_zone, webhook.hour


def period_of(webhook: Webhook, now: datetime, subscriptions: dict[int, Subscription] | None = None) -> DigestPeriod:
    return current_period(*schedule_of(webhook, subscriptions), now)


def due_deliveries(now: datetime, frequency: str | None = None) -> list[DueDelivery]:
    """Every active webhook whose delivery is due at `now` and not yet made (nor being made by a live run)."""
    webhooks = list(
        Webhook.objects.filter(status=Webhook.Status.ACTIVE, content__in=list(CONTENT_KINDS))
        .filter(Q(retry_not_before__isnull=True) | Q(retry_not_before__lte=timezone.now()))
        .select_related("owner", "group")
        .order_by("id")
    )
    owners = {w.owner_id for w in webhooks if w.schedule == Webhook.Schedule.EMAIL}
    subscriptions = {s.user_id: s for s in Subscription.objects.filter(user_id__in=owners)}
    candidates = []
    for webhook in webhooks:
        period = period_of(webhook, now, subscriptions)
        if (frequency is None or period.frequency == frequency) and is_due(period, now):
            candidates.append((webhook, period))
    logged = {
        (wid, key): (did, status, claimed_at)
        for wid, key, did, status, claimed_at in WebhookDelivery.objects.filter(
            webhook_id__in=[w.id for w, _ in candidates], key__in={p.key for _, p in candidates}
        ).values_list("webhook_id", "key", "id", "status", "claimed_at")
    }
    stale_before = timezone.now() - STALE_CLAIM
    due = []
    for webhook, period in candidates:
        found = logged.get((webhook.id, period.key))
        if found is None:
            due.append(DueDelivery(webhook, period))
        elif found[1] == WebhookDelivery.Status.CLAIMED and found[2] < stale_before:
            due.append(DueDelivery(webhook, period, stale_claim=(found[0], found[2])))
    return due


def history_of(webhook: Webhook, period: DigestPeriod) -> History:
    """What the webhook's earlier deliveries of the last SENT_MEMORY days posted, and the list day they reached."""
    rows = WebhookDelivery.objects.filter(
        webhook=webhook,
        status__in=[WebhookDelivery.Status.SENT, WebhookDelivery.Status.EMPTY],
        claimed_at__gte=timezone.now() - SENT_MEMORY - timedelta(days=14),
    ).exclude(key=period.key)
    sent: set[int] = set()
    through: date | None = None
    for papers, listed in rows.values_list("papers", "listed_through"):
        sent.update(pid for pid in papers or () if isinstance(pid, int))
        if listed is not None and (through is None or listed > through):
            through = listed
    return History(frozenset(sent), through)


# --- the send log ---


def claim(due: DueDelivery) -> WebhookDelivery | None:
    """Claim the delivery for this run; None when another run has it (or had it)."""
    now = timezone.now()
    if due.stale_claim is not None:
        delivery_pk, claimed_at = due.stale_claim
        taken = WebhookDelivery.objects.filter(
            id=delivery_pk, status=WebhookDelivery.Status.CLAIMED, claimed_at=claimed_at
        )
        if taken.update(claimed_at=now) != 1:
            return None
        return WebhookDelivery.objects.get(id=delivery_pk)
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(webhook=due.webhook, key=due.period.key, claimed_at=now)
    except IntegrityError:
        return None


def release(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(id=delivery.id, status=WebhookDelivery.Status.CLAIMED).delete()


def _finish(delivery: WebhookDelivery, status: str, content: Content | None, **fields) -> None:
    if content is not None:
        fields["listed_through"] = content.listed_through
    WebhookDelivery.objects.filter(id=delivery.id).update(status=status, **fields)


def record_sent(delivery: WebhookDelivery, content: Content, answer: Answer) -> None:
    with transaction.atomic():
        _finish(
            delivery,
            WebhookDelivery.Status.SENT,
            content,
            sent_at=timezone.now(),
            paper_count=min(len(content.paper_ids), 32767),
            papers=content.paper_ids,
            answer=answer.detail,
        )
        Webhook.objects.filter(id=delivery.webhook_id).update(last_error="", last_error_at=None, retry_not_before=None)


def record_empty(delivery: WebhookDelivery, content: Content) -> None:
    _finish(delivery, WebhookDelivery.Status.EMPTY, content, paper_count=0, papers=[])


def pause(webhook: Webhook, reason: str) -> None:
    """The receiver refused for good: no more deliveries until the member changes or resumes the webhook."""
    Webhook.objects.filter(id=webhook.id).update(
        status=Webhook.Status.PAUSED, paused_reason=reason, paused_at=timezone.now()
    )


def record_refused(delivery: WebhookDelivery, reason: str) -> None:
    with transaction.atomic():
        _finish(delivery, WebhookDelivery.Status.FAILED, None, answer=reason)
        pause(delivery.webhook, reason)


def record_temporary(delivery: WebhookDelivery, answer: Answer) -> None:
    """Release the claim (the next run tries again), and keep the reason, and a 429's wait, on the webhook."""
    with transaction.atomic():
        release(delivery)
        fields = {"last_error": answer.detail, "last_error_at": timezone.now()}
        if answer.retry_after is not None:
            fields["retry_not_before"] = timezone.now() + timedelta(seconds=answer.retry_after)
        Webhook.objects.filter(id=delivery.webhook_id).update(**fields)


# --- the run ---


class ChatRun:
    """The chat part of one `digest send`: every delivery due at `now`, each claimed, composed, posted, recorded."""

    def __init__(
        self,
        now: datetime,
        frequency: str | None = None,
        dry_run: bool = False,
        report: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.now, self.frequency, self.dry_run = now, frequency, dry_run
        self.report = report or (lambda line: None)
        self.should_stop = should_stop or (lambda: False)

    def run(self) -> ChatSummary:
        due = due_deliveries(self.now, self.frequency)
        summary = self.summary = ChatSummary(due=len(due), dry_run=self.dry_run)
        composer = ChatComposer(self.now)
        try:
            for n, item in enumerate(due):
                if self.should_stop():
                    summary.not_sent += len(due) - n
                    summary.stopped = "stopped on request"
                    break
                self._one(composer, item)
        finally:
            composer.close()
        return summary

    def _one(self, composer: ChatComposer, item: DueDelivery) -> None:
        webhook, summary = item.webhook, self.summary
        who = f"webhook {webhook.id} ({webhook.kind}, {webhook.owner.username}) {item.period.key}"
        unavailable = CONTENT_KINDS[webhook.content].available(webhook)
        if self.dry_run:
            content = content_for(composer, webhook, item.period, history_of(webhook, item.period))
            if content.is_empty or unavailable:
                summary.empty += 1
                self.report(f"{who}: nothing new, nothing posted")
            else:
                summary.sent += 1
                self.report(f"{who}: would post {len(content.paper_ids)} papers")
            return
        delivery = claim(item)
        if delivery is None:
            summary.taken += 1
            return
        try:
            if unavailable:
                record_refused(delivery, f"{unavailable}: change what this webhook gets, or delete it")
                summary.failed += 1
                summary.problems.append(f"{who}: paused, {unavailable}")
                return
            content = content_for(composer, webhook, item.period, history_of(webhook, item.period))
            if content.is_empty:
                record_empty(delivery, content)
                summary.empty += 1
                self.report(f"{who}: nothing new, nothing posted")
                return
            request = build(webhook.kind, content.message, delivery_id(webhook, item.period.key), webhook.secret)
            answer = deliver(webhook.url, request)
        except BaseException:
            release(delivery)
            raise
        if answer.outcome == SENT:
            record_sent(delivery, content, answer)
            summary.sent += 1
            self.report(f"{who}: posted {len(content.paper_ids)} papers ({answer.detail})")
        elif answer.outcome == PERMANENT:
            record_refused(delivery, answer.detail)
            summary.failed += 1
            summary.problems.append(f"{who}: refused for good, the webhook is paused: {answer.detail}")
        else:
            record_temporary(delivery, answer)
            summary.not_sent += 1
            summary.problems.append(f"{who}: not posted, the next run tries again: {answer.detail}")


def send_due(
    now: datetime,
    frequency: str | None = None,
    dry_run: bool = False,
    report: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ChatSummary:
    """Post every chat delivery due at `now` (see ChatRun)."""
    return ChatRun(now, frequency, dry_run, report, should_stop).run()


def has_webhooks() -> bool:
    return Webhook.objects.exists()
