"""Emailing notifications exactly once: claim, send, record — at once, or in one daily summary per member.

A notification is claimed by a conditional UPDATE (`emailed_at` empty and no live claim → this run's token and
time), so of two senders taking the same rows each row goes to one of them only. After the mail server accepted
the message the row gets `emailed_at`. A claim left by a sender that died (killed mid-send) is taken over once it
is STALE_CLAIM old; in that narrow window — the server took the message, the sender died before recording it —
a message may go twice, as with digests. A message the server would not take now releases its claim: the next
pass (the worker's, every minute or so, or `paperfeed notifications send-daily`) tries again; an address refused
for good, a member who turned the kind off, or a comment they may no longer see ends its email for good.

The daily summary holds, per member, the unread notifications of the kinds they want daily, made before today
(UTC) and not yet emailed. A member's day is claimed the same way (`summary_sent_on`), so a member gets one
summary a day however many passes run.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from paperfeed.community.models import Profile
from paperfeed.notifications.models import TOPIC_OF, Delivery, EmailPreferences, Kind, Notification
from paperfeed.notifications.services import emails, preferences
from paperfeed.notifications.services.describe import Described, describe, one_line
from paperfeed.notifications.services.visibility import may_see

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)  # a claim this old belongs to a sender that died: another may take it over
GRACE = timedelta(minutes=1)  # an at-once email younger than this is still in the queue's hands
OWED_WITHIN = timedelta(days=2)  # an at-once email that could not go out for this long is not tried any more
CHUNK = 200


# --- the claim ---


def _claimable(now: datetime) -> Q:
    return Q(emailed_at__isnull=True) & (Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - STALE_CLAIM))


def claim(notifications: QuerySet[Notification], now: datetime | None = None) -> tuple[str, list[Notification]]:
    """Take these notifications for this sender: (its token, those it got). One conditional UPDATE: a row another
    sender holds (a claim younger than STALE_CLAIM) or already emailed is not taken."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    notifications.filter(_claimable(now)).exclude(email_plan=Delivery.NEVER).update(
        email_claimed_at=now, email_claim=token
    )
    taken = Notification.objects.filter(email_claim=token, emailed_at__isnull=True).select_related(
        "recipient", "actor", "paper", "comment__paper", "claim__author"
    )
    return token, list(taken.order_by("created", "id"))


def _mine(token: str, items: Iterable[Notification]) -> QuerySet[Notification]:
    return Notification.objects.filter(id__in=[n.id for n in items], email_claim=token, emailed_at__isnull=True)


def record_sent(token: str, items: Iterable[Notification]) -> int:
    return _mine(token, items).update(emailed_at=timezone.now())


def release(token: str, items: Iterable[Notification], **changes) -> int:
    """Give the claims back (the next pass tries again), with any change to the rows."""
    return _mine(token, items).update(email_claimed_at=None, email_claim="", **changes)


def give_up(token: str, items: Iterable[Notification], reason: str) -> int:
    """These will never be emailed (they stay on the site), and why."""
    return release(token, items, email_plan=Delivery.NEVER, email_error=one_line(reason, 300))


# --- what may be sent ---


def _verified(user_ids: Iterable[int]) -> set[int]:
    return set(
        Profile.objects.filter(user_id__in=list(user_ids), email_verified=True).values_list("user_id", flat=True)
    )


def _why_not(notification: Notification, choice: Delivery, verified: bool) -> str:
    """Why this notification must not be emailed now, or empty."""
    if choice == Delivery.NEVER:
        return "the member turned these emails off"
    if not verified:
        return "the member has no confirmed email address"
    comment = notification.comment
    if comment is not None and not may_see(notification.recipient, comment):
        return "the comment is no longer shown to the member"
    return ""


# --- the mail server ---


class MailServerGone(Exception):
    """The mail server cannot take messages now: the pass stops, the rest waits for the next one."""


@dataclass(frozen=True)
class Refused:
    reason: str  # for good: this message will never be taken


class Mailer:
    """One connection to the mail server for a pass, opened when the first message is ready."""

    def __init__(self) -> None:
        self.connection = get_connection()
        self.open = False

    def send(self, message: EmailMultiAlternatives) -> Refused | None:
        """Send one message (None: accepted); Refused for a permanent refusal of it; MailServerGone otherwise."""
        try:
            if not self.open:
                self.connection.open()
                self.open = True
            if self.connection.send_messages([message]) != 1:
                raise MailServerGone("the mail backend did not take the message")
        except smtplib.SMTPRecipientsRefused as error:
            replies = list(error.recipients.values())
            reason = "; ".join(f"{code} {_text(text)}" for code, text in replies)
            if replies and all(code >= 500 for code, _ in replies):
                return Refused(reason)
            raise MailServerGone(reason) from error
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 and not isinstance(
                error, smtplib.SMTPSenderRefused | smtplib.SMTPConnectError | smtplib.SMTPHeloError
            ):
                return Refused(f"{error.smtp_code} {_text(error.smtp_error)}")
            self.close()
            raise MailServerGone(f"{error.smtp_code} {_text(error.smtp_error)}") from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise MailServerGone(one_line(str(error) or type(error).__name__, 300)) from error
        return None

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - a dead socket may fail in any way while saying goodbye
            log.debug("closing the mail connection failed", exc_info=True)
        if hasattr(self.connection, "connection"):
            self.connection.connection = None
        self.open = False


def _text(value: bytes | str) -> str:
    return one_line(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value), 300)


# --- a pass ---


@dataclass
class Summary:
    emailed: int = 0  # notifications now emailed
    messages: int = 0  # emails sent
    not_sent: int = 0  # notifications left for the next pass (the mail server did not take them now)
    given_up: int = 0  # notifications that will never be emailed (turned off, refused for good…)
    taken: int = 0  # notifications another sender had
    stopped: str = ""  # why the pass stopped before the end
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.not_sent

    def describe(self, what: str) -> str:
        line = f"{what}: {self.messages} email{'s' if self.messages != 1 else ''} sent ({self.emailed} notifications)"
        line += f", {self.not_sent} not sent, {self.given_up} not to be emailed"
        if self.taken:
            line += f", {self.taken} being sent by another sender"
        return line + (f" ({self.stopped})" if self.stopped else "") + "."


def _send_one(
    mailer: Mailer, token: str, items: list[Notification], message_of: Callable[[], object], summary: Summary
):
    """Send one message made of `items` (claimed with `token`) and record the outcome; MailServerGone stops."""
    try:
        message = message_of()
        outcome = mailer.send(message)
    except emails.InvalidAddress as error:
        outcome = Refused(str(error))
    except MailServerGone as error:
        release(token, items)
        summary.not_sent += len(items)
        summary.stopped = f"the mail server is not taking mail: {error}"
        raise
    except BaseException:
        release(token, items)
        raise
    if outcome is None:
        summary.emailed += record_sent(token, items)
        summary.messages += 1
    else:
        summary.given_up += give_up(token, items, f"refused by the mail server: {outcome.reason}")
        summary.problems.append(f"{items[0].recipient.email}: refused for good: {outcome.reason}")


def send_at_once(ids: Iterable[int], now: datetime | None = None, mailer: Mailer | None = None) -> Summary:
    """Email each of these notifications (those meant to go at once) on its own, unless another sender has it."""
    ids = list(ids)
    token, claimed = claim(Notification.objects.filter(id__in=ids, email_plan=Delivery.NOW), now)
    summary = Summary(taken=len(ids) - len(claimed))
    if not claimed:
        return summary
    own_mailer = mailer is None
    mailer = mailer or Mailer()
    verified = _verified(n.recipient_id for n in claimed)
    choices = {pk: preferences.choices_of(n.recipient) for pk, n in {n.recipient_id: n for n in claimed}.items()}
    try:
        for index, notification in enumerate(claimed):
            choice = choices[notification.recipient_id][TOPIC_OF[Kind(notification.kind)]]
            if choice == Delivery.DAILY:  # changed their mind since: the summary takes it
                release(token, [notification], email_plan=Delivery.DAILY)
                continue
            reason = _why_not(notification, choice, notification.recipient_id in verified)
            if reason:
                summary.given_up += give_up(token, [notification], reason)
                continue
            item = describe(notification)
            try:
                _send_one(mailer, token, [notification], lambda item=item: emails.at_once(item), summary)
            except MailServerGone:
                rest = claimed[index + 1 :]
                release(token, rest)
                summary.not_sent += len(rest)
                break
    finally:
        if own_mailer:
            mailer.close()
    return summary


def send_owed(now: datetime | None = None) -> Summary:
    """Send the at-once emails still owed: those whose task was lost or whose sender died (a stale claim), or that
    the mail server would not take when they were made."""
    now = now or timezone.now()
    owed = Notification.objects.filter(
        _claimable(now), email_plan=Delivery.NOW, created__lt=now - GRACE, created__gte=now - OWED_WITHIN
    )
    total = Summary()
    mailer = Mailer()
    try:
        while True:
            ids = list(owed.order_by("id").values_list("id", flat=True)[:CHUNK])
            if not ids:
                break
            part = send_at_once(ids, now, mailer)
            for name in ("emailed", "messages", "not_sent", "given_up", "taken"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
            total.problems += part.problems
            if part.not_sent or part.stopped or not (part.emailed or part.given_up):
                total.stopped = part.stopped
                break
    finally:
        mailer.close()
    return total


# --- the daily summary ---


def _today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def _waiting_daily(now: datetime) -> QuerySet[Notification]:
    """Unread notifications for a daily summary, made before `now`'s UTC day, that no live sender holds."""
    start = datetime.combine(_today(now), time.min, tzinfo=UTC)
    return Notification.objects.filter(
        _claimable(now), email_plan=Delivery.DAILY, read_at__isnull=True, created__lt=start
    )


def _claim_day(user_id: int, now: datetime) -> tuple[date | None] | None:
    """Take the member's summary of `now`'s day for this pass: (the day of their previous summary,), or None when
    another pass took it or it went out already."""
    today = _today(now)
    row, _ = EmailPreferences.objects.get_or_create(user_id=user_id)
    before = row.summary_sent_on
    if before == today:
        return None
    taken = EmailPreferences.objects.filter(user_id=user_id, summary_sent_on=before).update(summary_sent_on=today)
    return (before,) if taken == 1 else None


def _release_day(user_id: int, now: datetime, before: date | None) -> None:
    EmailPreferences.objects.filter(user_id=user_id, summary_sent_on=_today(now)).update(summary_sent_on=before)


def send_daily(now: datetime | None = None, should_stop: Callable[[], bool] | None = None) -> Summary:
    """Send each member with notifications waiting for a daily summary their one summary of the day."""
    now = now or timezone.now()
    should_stop = should_stop or (lambda: False)
    members = list(_waiting_daily(now).order_by("recipient_id").values_list("recipient_id", flat=True).distinct())
    summary = Summary()
    mailer = Mailer()
    try:
        for user_id in members:
            if should_stop():
                summary.stopped = "stopped on request"
                break
            try:
                _summary_for(user_id, now, mailer, summary)
            except MailServerGone:
                break
    finally:
        mailer.close()
    return summary


def _summary_for(user_id: int, now: datetime, mailer: Mailer, summary: Summary) -> None:
    day = _claim_day(user_id, now)
    if day is None:
        return
    token, claimed = claim(_waiting_daily(now).filter(recipient_id=user_id), now)
    user = User.objects.get(pk=user_id)
    choices = preferences.choices_of(user)
    verified = bool(_verified([user_id]))
    items: list[Described] = []
    for notification in claimed:
        choice = choices[TOPIC_OF[Kind(notification.kind)]]
        if choice == Delivery.NOW:  # changed their mind since: sent on its own
            release(token, [notification], email_plan=Delivery.NOW)
            continue
        reason = _why_not(notification, choice, verified)
        if reason:
            summary.given_up += give_up(token, [notification], reason)
            continue
        items.append(describe(notification))
    if not items:
        _release_day(user_id, now, day[0])
        return
    taken = [item.notification for item in items]
    try:
        _send_one(mailer, token, taken, lambda: emails.daily_summary(user, items), summary)
    except MailServerGone:
        _release_day(user_id, now, day[0])
        raise
