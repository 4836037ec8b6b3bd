"""Email from the task queue: rendered in the request, sent by a worker, retried while the mail server is down.

A message is sent at least once: a worker killed after the mail server took a message but before the queue
recorded it runs the task again, so in that narrow window a message may go twice. A message whose link has expired
by the time the server takes mail again is dropped (and logged): a dead link helps nobody.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from paperfeed.background.queue import defer, task

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LONGEST_WAIT = 6 * 3600


class MailNotSent(Exception):
    """The mail server did not take the message (the task's result records why and what happens next)."""


def retry_delay(attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1`: PAPERFEED_MAIL_RETRY_SECONDS, four times longer each time."""
    return min(settings.PAPERFEED_MAIL_RETRY_SECONDS * 4 ** (attempt - 1), LONGEST_WAIT)


def queue_email(
    kind: str, to: str, subject: str, body: str, headers: dict | None = None, expires: datetime | None = None
) -> None:
    """Hand a rendered email to the queue; a worker sends it. Enqueued in the caller's transaction: a request
    that fails after this sends nothing."""
    send_email.enqueue(kind, to, subject, body, headers or {}, expires.isoformat() if expires else None)


@task()
def send_email(
    kind: str, to: str, subject: str, body: str, headers: dict, expires: str | None, attempt: int = 1
) -> str:
    if expires and timezone.now() > parse_datetime(expires):
        log.warning("dropped the %s email to %s: its link expired before the mail server took it", kind, to)
        return f"dropped the {kind} email to {to}: its link had expired"
    try:
        EmailMultiAlternatives(subject, body, None, [to], headers=headers).send()
    except OSError as error:  # smtplib's errors included
        delay = retry_delay(attempt)
        later = defer(send_email, delay) if attempt < MAX_ATTEMPTS else None
        if later is None:
            log.error("could not send the %s email to %s (attempt %d): %s", kind, to, attempt, error)
            raise MailNotSent(f"gave up after attempt {attempt}: {error}") from error
        later.enqueue(kind, to, subject, body, headers, expires, attempt + 1)
        log.warning("the %s email to %s was not sent (%s); trying again in %d s", kind, to, error, delay)
        raise MailNotSent(f"{error}; attempt {attempt + 1} of {MAX_ATTEMPTS} in {delay:.0f} s") from error
    return f"sent the {kind} email to {to}"
