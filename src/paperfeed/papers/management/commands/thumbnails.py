"""paperfeed thumbnails: make the thumbnails of recent papers now, in passes, as `paperfeed worker` does by itself.

Exit status: 0 when every paper due a try was tried (made or refused, each with its reason), 1 when a host could not
be reached or asked to slow down (run it again later), 2 when thumbnails are off.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.services.thumbnails import RECENT_DAYS, thumbnail_pass


class Command(BaseCommand):
    help = (
        f"Make thumbnails for the papers of the last {RECENT_DAYS} days' daily lists that have none: Hugging Face's "
        "thumbnail when its list gave one, else the first page of the arXiv PDF (PAPERFEED_THUMBNAILS). "
        "A paper whose PDF cannot be used is told with its reason and not tried again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="try at most this many papers (default: all)")

    def handle(self, *args, limit: int | None, **options):
        if settings.PAPERFEED_THUMBNAILS == "off":
            raise CommandError("thumbnails are off (PAPERFEED_THUMBNAILS=off): nothing was fetched", returncode=2)
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1", returncode=2)
        made = refused = 0
        left = limit
        while True:
            report = thumbnail_pass(limit=min(left, 10) if left is not None else 10)
            for address, origin in report.made:
                self.stdout.write(f"{address}: thumbnail from {'the PDF' if origin == 'pdf' else 'Hugging Face'}")
            for address, reason in report.refused:
                self.stdout.write(f"{address}: no thumbnail: {reason}")
            made, refused = made + len(report.made), refused + len(report.refused)
            if left is not None:
                left -= len(report.made) + len(report.refused)
            if report.outage or not report.left or (left is not None and left <= 0):
                break
        self.stdout.write(f"Made {made:,} thumbnails; {refused:,} papers have none.")
        if report.outage:
            raise CommandError(f"stopped: {report.outage}; run it again later", returncode=1)
