"""paperfeed restore PATH: put a backup made by `paperfeed backup` in place of the site's database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.services.databases import DatabaseProblem
from paperfeed.papers.services.restore import restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `paperfeed backup`: checks it first (a paperfeed database, undamaged, not from "
        "a newer paperfeed); on SQLite keeps the current database as paperfeed.sqlite3.before-restore-<time> and "
        "swaps the backup in, on PostgreSQL restores into the configured empty database with pg_restore; then "
        "migrates and has the search indexes rebuilt. Stop the site first. Exit status 0 when restored, 2 when "
        "nothing was changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="PATH", help="the backup file (.sqlite3, or .dump from pg_dump)")

    def handle(self, *args, path: str, **options):
        try:
            report = restore(path)
        except DatabaseProblem as problem:
            raise CommandError(str(problem), returncode=2) from None
        self.stdout.write(
            f"Restored {report.source} into the {report.database}: {report.papers:,} papers, "
            f"{report.members:,} members."
        )
        if report.kept:
            self.stdout.write(f"The database as it was before is kept as {report.kept}.")
        if report.migrated:
            self.stdout.write(f"Migrated the older backup: applied {', '.join(report.migrated)}.")
        self.stdout.write(report.key)
        self.stdout.write(
            "The search indexes were removed: `paperfeed serve` rebuilds them from the restored database as it "
            "starts (or run `paperfeed index`)."
        )
