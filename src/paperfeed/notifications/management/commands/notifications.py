"""paperfeed notifications send-daily: each member's daily summary of notifications (once a day), and any email
owed at once that a crashed or stopped worker left unsent.

Exits 0 when everything due went out (or had nothing to send), 1 when the mail server did not take some (they wait
for the next run), 2 on a usage error. Run it from cron once a day or more (docs/operations.md); `paperfeed worker`
does the same by itself every few minutes.
"""

from __future__ import annotations

import signal
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from paperfeed.core.periods import parse_instant
from paperfeed.notifications.services import sending

NOT_ALL_SENT = 1


def parse_now(value: str | None) -> datetime:
    """--now as an aware datetime (core.periods.parse_instant), now when not given; a usage error otherwise."""
    try:
        return parse_instant(value) if value else timezone.now()
    except ValueError as error:
        raise CommandError(f"--now {error}", returncode=2) from None


class Command(BaseCommand):
    help = (
        "Notification emails: `send-daily` sends each member's daily summary (once a day: what came before today, "
        "UTC) and the at-once emails still owed. Exit status: 0 all sent, 1 some not sent, 2 usage error."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="send-daily")
        daily = actions.add_parser("send-daily", help="send the daily summaries that are due, and owed emails")
        daily.add_argument(
            "--now", metavar="ISO-TIME", help="act as if it were this time (default: now), e.g. 2026-11-28T07:30Z"
        )

    def handle(self, *args, action: str, now: str | None = None, **options):
        moment = parse_now(now)
        stopping: list[int] = []
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
        try:
            owed = sending.send_owed(moment)
            daily = sending.send_daily(moment, should_stop=lambda: bool(stopping))
        finally:
            signal.signal(signal.SIGTERM, previous)
        self.stdout.write(owed.describe("Owed at once"))
        self.stdout.write(daily.describe("Daily summaries"))
        for problem in owed.problems + daily.problems:
            self.stderr.write(problem)
        if not (owed.ok and daily.ok):
            raise SystemExit(NOT_ALL_SENT)
