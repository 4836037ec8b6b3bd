"""paperfeed backup [PATH] [--keep N]: a consistent backup of the site's database while it runs."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.services.backup import backup
from paperfeed.papers.services.databases import DatabaseProblem


class Command(BaseCommand):
    help = (
        "Back up the site's database while it runs: SQLite's online backup API, checked with PRAGMA "
        "integrity_check (pg_dump --format=custom on PostgreSQL), to PATH or DATA_DIR/backups/paperfeed-<UTC "
        "time>, with the secret key beside it. Exit status 0 when the backup is written, 2 when it is not."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", metavar="PATH", help="a new file, or a folder (default DATA_DIR/backups)"
        )
        parser.add_argument(
            "--keep", type=int, metavar="N", help="then remove all but the newest N dated backups of that folder"
        )

    def handle(self, *args, path: str | None, keep: int | None, **options):
        try:
            report = backup(path, keep)
        except DatabaseProblem as problem:
            raise CommandError(str(problem), returncode=2) from None
        self.stdout.write(f"Backed up the site's database to {report.path} ({report.size / 1e6:,.1f} MB).")
        self.stdout.write(report.key)
        if report.pruned:
            self.stdout.write(
                f"Removed {len(report.pruned)} older backup{'s' if len(report.pruned) > 1 else ''} (--keep {keep}): "
                + ", ".join(path.name for path in report.pruned)
            )
