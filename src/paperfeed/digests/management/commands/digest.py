"""paperfeed digest send|preview: send every due email digest exactly once, or show one without sending it.

`send` also posts every due chat delivery (webhooks: services/chat.py). It exits 0 when every due digest was sent (or
had nothing new), 1 when some could not be sent (the mail server went away or refused an address, a receiver was
away or refused a webhook), 2 on a usage error. Run it from cron every 15 minutes (docs/operations.md).
"""

from __future__ import annotations

import signal
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from paperfeed.core.periods import parse_instant
from paperfeed.digests.models import Subscription
from paperfeed.digests.services import chat, sending

NOT_ALL_SENT = 1


def parse_now(value: str | None) -> datetime:
    """--now as an aware datetime (core.periods.parse_instant), now when not given; a usage error otherwise."""
    try:
        return parse_instant(value) if value else timezone.now()
    except ValueError as error:
        raise CommandError(f"--now {error}", returncode=2) from None


class Command(BaseCommand):
    help = (
        "Email digests: `send` composes and sends every digest that is due (each exactly once), `preview EMAIL` "
        "shows one without sending it. Exit status of send: 0 all sent, 1 some not sent, 2 usage error."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="send|preview")
        send = actions.add_parser("send", help="compose and send every due digest")
        send.add_argument("--frequency", choices=["daily", "weekly"], help="only daily or only weekly digests")
        send.add_argument("--dry-run", action="store_true", help="print who would get what; send and record nothing")
        send.add_argument(
            "--now", metavar="ISO-TIME", help="act as if it were this time (default: now), e.g. 2026-11-28T07:30Z"
        )
        preview = actions.add_parser("preview", help="show the digest one subscriber would get, sending nothing")
        preview.add_argument("email", help="the subscriber's address")
        preview.add_argument("--now", metavar="ISO-TIME", help="compose as if at this time (default: now)")
        preview.add_argument("--output", type=Path, metavar="FILE", help="write to this file instead of the terminal")
        preview.add_argument("--html", action="store_true", help="the HTML part instead of the plain-text one")

    def handle(self, *args, action: str, **options):
        if action == "send":
            self.send(**options)
        else:
            self.preview(**options)

    def send(self, frequency: str | None, dry_run: bool, now: str | None, verbosity: int, **options) -> None:
        moment = parse_now(now)
        stop_requested: list[int] = []
        previous = signal.getsignal(signal.SIGTERM)
        try:
            # SIGTERM (systemd stopping, a deploy) lets the digest being sent finish and be recorded, then stops.
            signal.signal(signal.SIGTERM, lambda number, frame: stop_requested.append(number))
        except ValueError:  # not the main thread (tests run commands from threads): no signal handling there
            previous = None
        report = self.stdout.write if dry_run or verbosity >= 2 else None
        try:
            summary = sending.send_due(
                moment, frequency=frequency, dry_run=dry_run, report=report, should_stop=lambda: bool(stop_requested)
            )
            # Then the chat deliveries (docs/webhooks.md), with the same guarantees; said only on sites that have any.
            posted = None
            if chat.has_webhooks():
                posted = chat.send_due(
                    moment,
                    frequency=frequency,
                    dry_run=dry_run,
                    report=report,
                    should_stop=lambda: bool(stop_requested),
                )
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        for problem in summary.problems + (posted.problems if posted else []):
            self.stderr.write(problem)
        self.stdout.write(summary.describe())
        if posted is not None:
            self.stdout.write(posted.describe())
        if not summary.ok or (posted is not None and not posted.ok):
            raise SystemExit(NOT_ALL_SENT)

    def preview(self, email: str, now: str | None, output: Path | None, html: bool, **options) -> None:
        moment = parse_now(now)
        subscription = Subscription.objects.filter(email=email.strip().lower()).first()
        if subscription is None:
            raise CommandError(
                f"No subscription for {email!r}. `paperfeed subscribers export` lists the active ones.", returncode=2
            )
        shown = sending.preview(subscription, moment)
        period = shown.digest.period
        note = ""
        if subscription.status != Subscription.Status.ACTIVE:
            note = f" (the subscription is {subscription.status}: nothing is sent to it)"
        if shown.message is None:
            self.stdout.write(f"{subscription.email} {period.key}: nothing new, no email would be sent{note}.")
            return
        message = shown.message
        if html:
            text = message.alternatives[0][0]
        else:
            headers = [
                f"From: {message.from_email}",
                f"To: {', '.join(message.to)}",
                f"Subject: {message.subject}",
                f"List-Unsubscribe: {message.extra_headers['List-Unsubscribe']}",
            ]
            text = "\n".join(headers) + "\n\n" + message.body
        if output is not None:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(f"cannot write {output}: {error.strerror}", returncode=2) from None
            count = len(shown.digest.items)
            self.stdout.write(f"{subscription.email} {period.key}: {count} papers written to {output}{note}.")
        else:
            self.stdout.write(text)
            if note:
                self.stderr.write(note.strip(" ()") + ".")
