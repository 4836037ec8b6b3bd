"""paperfeed zotero sync [--user NAME]: sync the linked Zotero libraries now, as the worker does in the background.

Exit status 0 when every library is in step, 1 when some could not be synced (a paused link, Zotero asking to wait,
Zotero in trouble: each is printed with its reason), 2 when there is nothing to sync (an unknown user, no link).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from paperfeed.recommend.models import ZoteroLink
from paperfeed.recommend.services import zotero


class Command(BaseCommand):
    help = (
        "Sync the Zotero libraries members linked (Zotero Web API, PAPERFEED_ZOTERO_API_URL) now: what changed "
        "since the last pass is added to, changed in or removed from their library items. The worker does this "
        "every PAPERFEED_ZOTERO_SYNC_MINUTES."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sync"], help="sync: one pass over the linked libraries now")
        parser.add_argument("--user", metavar="NAME", help="only this member's libraries (username or email)")
        parser.add_argument("--pause", type=float, default=0.5, help="seconds between two requests (default 0.5)")

    def handle(self, *args, action: str, user: str | None, pause: float, **options):
        if pause < 0:
            raise CommandError("--pause must be at least 0", returncode=2)
        now = timezone.now()
        links = ZoteroLink.objects.all()
        if user is not None:
            account = get_user_model().objects.filter(Q(username=user) | Q(email__iexact=user)).first()
            if account is None:
                raise CommandError(f"there is no user {user!r} (give a username or an email address)", returncode=2)
            links = links.filter(user=account)
        links = list(links.select_related("user").order_by("id"))
        if not links:
            raise CommandError("no Zotero library is linked" + (f" by {user}" if user else ""), returncode=2)
        # Paused links wait for a new key; a link Zotero asked us to leave alone waits for its time.
        ready = [link for link in links if not link.paused and not (link.resting_until and link.resting_until > now)]
        report = zotero.sync_links(ready, pause, now)
        for link in links:
            if link.paused:
                self.stdout.write(f"{_name(link)}: paused: {link.problem}")
            elif link not in ready:
                self.stdout.write(f"{_name(link)}: Zotero asked to wait until {link.resting_until:%Y-%m-%d %H:%M} UTC")
        for link, result in report.results:
            counts = f"{result.added} added, {result.updated} updated, {result.removed} removed"
            detail = f": {result.message}" if result.message else ""
            self.stdout.write(f"{_name(link)}: {result.outcome} ({counts}){detail}")
        self.stdout.write(report.line())
        if len(ready) < len(links) or not report.ok:
            raise SystemExit(1)


def _name(link: ZoteroLink) -> str:
    return f"{link.user.username}'s Zotero {link.get_library_type_display()} {link.library_id}"
