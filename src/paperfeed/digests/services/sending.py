"""Sending every due digest exactly once: claim, compose, send over one SMTP connection, record.

Exactly once rests on the send log (`Delivery`, unique per subscription and period). Before a digest is composed,
the run claims it by inserting its row with status `claimed`; a second run doing the same at the same moment gets
an IntegrityError and moves on, so two runs never send one digest twice. A claim left behind by a run that was
killed mid-send is taken over once it is STALE_CLAIM old, by an optimistic update that only one run can win
(`filter(id=…, status=claimed, claimed_at=old).update(claimed_at=now)`, as healthchecks' sendreports does).
After the mail server accepted the message the row becomes `sent`, with the message id and the papers it held.

Transient trouble (connection refused or lost, timeouts, 4xx replies) is retried with backoff on a fresh
connection. When the server stays away the run stops, deletes the claim of the digest it was sending, and says how
many were sent and how many not; the next run sends exactly the rest. A permanent rejection of an address (5xx)
marks the subscription `bounced`: it gets no more digests.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from paperfeed.digests.models import Delivery, Subscription
from paperfeed.digests.services.compose import (
    Digest,
    DigestComposer,
    Follows,
    History,
    compose_for,
    follows,
    histories,
)
from paperfeed.digests.services.render import DigestRenderer, InvalidAddress, header_text, subject
from paperfeed.digests.services.schedule import DigestPeriod, current_period, is_due

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=15)  # a claim this old belongs to a run that died: another run may take it over
RETRY_DELAYS = (1.0, 4.0, 10.0)  # seconds to wait before each new attempt after a transient SMTP error
MAX_DEFERRED_IN_A_ROW = 3  # this many messages deferred (4xx) one after the other: the server is not taking mail
BATCH = 500  # due digests whose subscribers' history is loaded in one go
CLAIM_CHUNK = 20  # digests claimed in one transaction; the run stops: the unsent ones are released


@dataclass(frozen=True)
class DueDigest:
    subscription: Subscription
    period: DigestPeriod
    stale_claim: tuple[int, datetime] | None = None  # (delivery id, claimed_at) of a dead run's claim


@dataclass
class RunSummary:
    due: int = 0
    sent: int = 0
    empty: int = 0  # nothing new: recorded, no email
    failed: int = 0  # refused for good by the mail server: the subscription is now bounced
    not_sent: int = 0  # left for the next run
    taken: int = 0  # claimed by another run at the same time
    stopped: str = ""  # why the run stopped before the end
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every due digest was sent or had nothing to send."""
        return not (self.failed or self.not_sent)

    def describe(self) -> str:
        if self.dry_run:
            return (
                f"Dry run: {self.due} digest{'s' if self.due != 1 else ''} due; {self.sent} would be sent, "
                f"{self.empty} have nothing new. Nothing was sent or recorded."
            )
        line = f"sent {self.sent}, empty {self.empty}, failed {self.failed}, not sent {self.not_sent}"
        if self.stopped:
            line += f" ({self.stopped})"
        if self.taken:
            line += f"; {self.taken} being sent by another run at the same time"
        return f"Digests: {line}."


class MailServerGone(Exception):
    """The mail server cannot take messages now; the run stops and the rest waits for the next run."""


@dataclass(frozen=True)
class Refused:
    reason: str  # permanent: the address is bounced


@dataclass(frozen=True)
class Deferred:
    reason: str  # temporary, for this message only: it goes out with the next run


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return header_text(f"{code} {text}", 300)


def _problem(error: BaseException) -> str:
    return header_text(str(error) or type(error).__name__, 300)


class Mailer:
    """One connection to the mail server for the whole run, reopened after transient errors."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.connection = get_connection()
        self._open = False
        self._sleep = sleep

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - a dead socket may fail in any way while saying goodbye
            log.debug("closing the mail connection failed", exc_info=True)
        if hasattr(self.connection, "connection"):
            self.connection.connection = None
        self._open = False

    def send(self, message: EmailMultiAlternatives) -> Refused | Deferred | None:
        """Send one message (None: accepted). Raises MailServerGone when the server cannot take mail."""
        message.connection = self.connection
        transient = ""
        recipient_level = False
        for attempt in range(len(RETRY_DELAYS) + 1):
            if attempt:
                self.close()
                self._sleep(RETRY_DELAYS[attempt - 1])
            try:
                if not self._open:
                    self.connection.open()
                    self._open = True
                if self.connection.send_messages([message]) == 1:
                    return None
                transient, recipient_level = "the mail backend did not take the message", False
            except smtplib.SMTPRecipientsRefused as error:
                replies = list(error.recipients.values())
                reason = "; ".join(_reply(code, text) for code, text in replies)
                if replies and all(code >= 500 for code, _ in replies):
                    return Refused(reason)
                transient, recipient_level = reason, True
            except smtplib.SMTPAuthenticationError as error:
                raise MailServerGone(
                    f"the mail server refused the user name or password of PAPERFEED_EMAIL_URL: "
                    f"{_reply(error.smtp_code, error.smtp_error)}"
                ) from error
            except smtplib.SMTPSenderRefused as error:
                if error.smtp_code >= 500:
                    raise MailServerGone(
                        f"the mail server refused the sender {error.sender} (PAPERFEED_EMAIL_FROM): "
                        f"{_reply(error.smtp_code, error.smtp_error)}"
                    ) from error
                transient, recipient_level = _reply(error.smtp_code, error.smtp_error), False
            except smtplib.SMTPResponseException as error:
                if error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
                    return Refused(_reply(error.smtp_code, error.smtp_error))
                transient, recipient_level = _reply(error.smtp_code, error.smtp_error), error.smtp_code != 421
            except (smtplib.SMTPException, OSError) as error:
                transient, recipient_level = _problem(error), False
            log.info("sending to %s failed (attempt %d): %s", message.to, attempt + 1, transient)
        if recipient_level:
            return Deferred(transient)
        self.close()
        raise MailServerGone(f"the mail server stopped answering: {transient}")


# --- the send log ---


def claim(due: DueDigest) -> Delivery | None:
    """Claim the digest for this run; None when another run has it (or had it: then it is done)."""
    now = timezone.now()
    if due.stale_claim is not None:
        delivery_id, claimed_at = due.stale_claim
        taken = Delivery.objects.filter(id=delivery_id, status=Delivery.Status.CLAIMED, claimed_at=claimed_at)
        if taken.update(claimed_at=now) != 1:
            return None
        return Delivery.objects.get(id=delivery_id)
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                subscription=due.subscription, period=due.period.key, status=Delivery.Status.CLAIMED, claimed_at=now
            )
    except IntegrityError:
        return None


def claim_all(items: list[DueDigest]) -> list[Delivery | None]:
    """Claim several digests in one transaction (each insert under its own savepoint, so one lost race does not
    undo the others): one commit instead of one per digest."""
    with transaction.atomic():
        return [claim(item) for item in items]


def release(delivery: Delivery) -> None:
    """Give a claim back, so that the next run sends this digest."""
    Delivery.objects.filter(id=delivery.id, status=Delivery.Status.CLAIMED).delete()


def _finish(delivery: Delivery, status: str, digest: Digest | None, **fields) -> None:
    if digest is not None:
        fields["listed_through"] = digest.listed_through
    Delivery.objects.filter(id=delivery.id).update(status=status, **fields)


def record_sent(delivery: Delivery, digest: Digest, message_id: str) -> None:
    ids = digest.paper_ids
    _finish(
        delivery,
        Delivery.Status.SENT,
        digest,
        sent_at=timezone.now(),
        message_id=message_id[:255],
        paper_count=len(ids),
        papers=ids,
    )


def record_empty(delivery: Delivery, digest: Digest) -> None:
    _finish(delivery, Delivery.Status.EMPTY, digest, paper_count=0, papers=[])


def record_bounce(delivery: Delivery, subscription: Subscription, reason: str) -> None:
    """The address was refused for good: the delivery failed, and the subscription gets no more digests."""
    with transaction.atomic():
        _finish(delivery, Delivery.Status.FAILED, None, error=reason)
        Subscription.objects.filter(id=subscription.id).update(status=Subscription.Status.BOUNCED, bounce_reason=reason)


# --- what is due ---


def due_digests(now: datetime, frequency: str | None = None) -> list[DueDigest]:
    """Every active subscription whose digest is due at `now` and not yet sent (nor being sent by a live run)."""
    subscriptions = (
        Subscription.objects.filter(status=Subscription.Status.ACTIVE).select_related("interests").order_by("id")
    )
    if frequency:
        subscriptions = subscriptions.filter(frequency=frequency)
    candidates: list[tuple[Subscription, DigestPeriod]] = []
    for subscription in subscriptions:
        period = current_period(
            subscription.frequency, subscription.weekday, subscription.time_zone, subscription.hour, now
        )
        if is_due(period, now):
            candidates.append((subscription, period))
    logged: dict[tuple[int, str], tuple[int, str, datetime]] = {}
    for start in range(0, len(candidates), 500):  # by subscription and period: the unique index answers
        chunk = candidates[start : start + 500]
        rows = Delivery.objects.filter(
            subscription_id__in=[s.id for s, _ in chunk], period__in={p.key for _, p in chunk}
        ).values_list("subscription_id", "period", "id", "status", "claimed_at")
        for sid, key, delivery_id, status, claimed_at in rows:
            logged[(sid, key)] = (delivery_id, status, claimed_at)
    stale_before = timezone.now() - STALE_CLAIM
    due = []
    for subscription, period in candidates:
        found = logged.get((subscription.id, period.key))
        if found is None:
            due.append(DueDigest(subscription, period))
        elif found[1] == Delivery.Status.CLAIMED and found[2] < stale_before:
            due.append(DueDigest(subscription, period, stale_claim=(found[0], found[2])))
    return due


# --- the run ---


class _Stop(Exception):
    """Ends the run early; `left` digests (counting the current one) were not sent."""

    def __init__(self, reason: str, left: int) -> None:
        super().__init__(reason)
        self.reason, self.left = reason, left


class DigestRun:
    """One `digest send`: every digest due at `now`, each claimed, composed, sent and recorded in turn."""

    def __init__(
        self,
        now: datetime,
        frequency: str | None = None,
        dry_run: bool = False,
        report: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        self.now, self.frequency, self.dry_run = now, frequency, dry_run
        self.report = report or (lambda line: None)
        self.should_stop = should_stop or (lambda: False)
        self.mailer = mailer
        self.composer = DigestComposer(now)
        self.renderer = DigestRenderer()
        self.deferred_in_a_row = 0

    def run(self) -> RunSummary:
        due = due_digests(self.now, self.frequency)
        self.summary = RunSummary(due=len(due), dry_run=self.dry_run)
        if self.mailer is None and not self.dry_run:
            self.mailer = Mailer()  # it connects when the first message is ready, not before
        try:
            for start in range(0, len(due), BATCH):
                self._batch(due[start : start + BATCH], len(due) - start)
        except _Stop as stop:
            self.summary.not_sent += stop.left
            self.summary.stopped = stop.reason
        finally:
            self.composer.close()
            if self.mailer is not None:
                self.mailer.close()
        return self.summary

    def _batch(self, batch: list[DueDigest], left: int) -> None:
        """Some due digests, with their subscribers' history loaded at once; `left` counts those not done yet."""
        ids = [d.subscription.id for d in batch]
        active = set(
            Subscription.objects.filter(id__in=ids, status=Subscription.Status.ACTIVE).values_list("id", flat=True)
        )
        self.summary.due -= sum(1 for i in ids if i not in active)  # unsubscribed while this run was going
        batch = [d for d in batch if d.subscription.id in active]
        left -= len(ids) - len(batch)
        past = histories({d.subscription.id: d.period for d in batch})
        followed = follows(ids)
        self.composer.prefetch(d.subscription for d in batch)
        for start in range(0, len(batch), CLAIM_CHUNK):
            chunk = batch[start : start + CLAIM_CHUNK]
            if self.should_stop():
                raise _Stop("stopped on request", left)
            if self.dry_run:
                for item in chunk:
                    sid = item.subscription.id
                    self._dry(self.composer.compose(item.subscription, item.period, past[sid], followed[sid]))
                left -= len(chunk)
                continue
            claims = claim_all(chunk)
            try:
                for item in chunk:
                    if self.should_stop():
                        raise _Stop("stopped on request", left)
                    delivery = claims.pop(0)
                    sid = item.subscription.id
                    if delivery is None:
                        self.summary.taken += 1
                    else:
                        self._send(item, delivery, past[sid], followed[sid], left)
                    left -= 1
            finally:
                for delivery in claims:  # the run stops: the claims not used yet go back
                    if delivery is not None:
                        release(delivery)

    def _dry(self, digest: Digest) -> None:
        who = f"{digest.subscription.email} {digest.period.key}"
        if digest.is_empty:
            self.summary.empty += 1
            self.report(f"{who}: nothing new, no email")
        else:
            self.summary.sent += 1
            self.report(f"{who}: would send {len(digest.items)} papers: {subject(digest, self.renderer.site)}")

    def _send(self, item: DueDigest, delivery: Delivery, history: History, followed: Follows, left: int) -> None:
        """Compose, send and log one claimed digest; raises _Stop when the run cannot go on."""
        subscription, summary = item.subscription, self.summary
        who = f"{subscription.email} {item.period.key}"
        try:
            digest = self.composer.compose(subscription, item.period, history, followed)
            if digest.is_empty:
                record_empty(delivery, digest)
                summary.empty += 1
                self.report(f"{who}: nothing new, no email")
                return
            try:
                message = self.renderer.message(digest)
            except InvalidAddress as error:
                outcome: Refused | Deferred | None = Refused(str(error))
            else:
                outcome = self.mailer.send(message)
        except MailServerGone as error:
            release(delivery)
            raise _Stop(str(error), left) from error
        except BaseException:
            release(delivery)
            raise
        if outcome is None:
            record_sent(delivery, digest, message.extra_headers["Message-ID"])
            summary.sent += 1
            self.deferred_in_a_row = 0
            self.report(f"{who}: sent {len(digest.items)} papers")
        elif isinstance(outcome, Refused):
            record_bounce(delivery, subscription, outcome.reason)
            summary.failed += 1
            self.deferred_in_a_row = 0
            summary.problems.append(f"{subscription.email}: refused for good, no more digests: {outcome.reason}")
        else:
            release(delivery)
            summary.not_sent += 1
            self.deferred_in_a_row += 1
            summary.problems.append(f"{subscription.email}: deferred, the next run tries again: {outcome.reason}")
            if self.deferred_in_a_row >= MAX_DEFERRED_IN_A_ROW:
                raise _Stop(f"the mail server kept deferring messages: {outcome.reason}", left - 1)


def send_due(
    now: datetime,
    frequency: str | None = None,
    dry_run: bool = False,
    report: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunSummary:
    """Compose and send every digest due at `now` (see DigestRun); `report` hears one line per digest, and
    `should_stop` is asked before each (a SIGTERM lets the digest being sent finish, then stops)."""
    return DigestRun(now, frequency, dry_run, report, should_stop).run()


@dataclass(frozen=True)
class Preview:
    digest: Digest
    message: EmailMultiAlternatives | None  # None: nothing new, no email would go out


def preview(subscription: Subscription, now: datetime | None = None) -> Preview:
    """The digest `subscription` would get at `now`, as the email it would be; sends and records nothing."""
    digest = compose_for(subscription, now or timezone.now())
    if digest.is_empty:
        return Preview(digest, None)
    return Preview(digest, DigestRenderer().message(digest))
