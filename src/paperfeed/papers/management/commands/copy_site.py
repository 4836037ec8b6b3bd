"""paperfeed copy-site --to URL: copy the site's database into another, empty one, and check every table."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.services.databases import DatabaseProblem, rows_in_words, shown
from paperfeed.papers.services.progress import count_progress
from paperfeed.papers.services.running import servers_using
from paperfeed.papers.services.sitecopy import TableCheck, compare_with, copy_site


class Command(BaseCommand):
    help = (
        "Copy every table of this site's database into another, empty database (SQLite to PostgreSQL, or back), "
        "in one transaction, then check every table on both sides by row count and checksum. Exit status 0 when "
        "every table is the same, 1 when some differ (the copy is then not kept), 2 on error (nothing written)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            required=True,
            metavar="URL",
            help="the empty database to copy into: postgresql://user:password@host:5432/name, or "
            "sqlite:////path/to/new.sqlite3",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="copy nothing: compare this site's database with the one at URL (a copy made earlier)",
        )

    def handle(self, *args, to: str, check: bool, **options):
        try:
            if check:
                self.stdout.write(f"Comparing this site's database with {shown(to)}…")
                checks = compare_with(to, on_table=self.show)
                self.verdict_of_check(checks)
                return
            self.copy(to)
        except DatabaseProblem as problem:
            raise CommandError(str(problem), returncode=2) from None
        except KeyboardInterrupt:
            written = "" if check else ": nothing was written to the target, it is as it was"
            raise CommandError(f"interrupted{written}", returncode=130) from None

    def copy(self, to: str) -> None:
        running = servers_using(Path(settings.DATA_DIR))
        if running:
            self.stderr.write(
                f"Note: paperfeed is running on this site ({'; '.join(running)}). The copy is one consistent "
                "snapshot; what the site writes from now on is not in it. Stop the site before you switch."
            )
        self.stdout.write(f"Copying this site's database to {shown(to)}…")
        update, close = count_progress("Copying", self.stderr, unit=" rows")
        done = [0, 0]

        def started(total: int) -> None:
            done[1] = total
            update(0, total)

        def copied(table: str, rows: int) -> None:
            done[0] += rows
            update(done[0], done[1])

        try:
            report = copy_site(to, on_table=self.show, on_progress=copied, on_start=started)
        finally:
            close()
        if report.not_copied:
            self.stdout.write(
                f"Not copied, as no model of this paperfeed uses them (a cache starts empty): "
                f"{', '.join(report.not_copied)}"
            )
        if not report.kept:
            different = [check.table for check in report.checks if not check.equal]
            raise CommandError(
                f"Verdict: the copy is NOT the same as this site in {len(different)} table(s) "
                f"({', '.join(different)}), so it was not kept: the {report.target} is as it was.",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Verdict: the copy is complete. All {len(report.checks)} tables hold the same {report.rows:,} rows "
                f"in both databases (row counts and checksums)."
            )
        )
        self.stdout.write(
            "Next:\n"
            "  1. Stop paperfeed on the old database (the site, its indexer, cron jobs) if it still runs.\n"
            f"  2. Give every paperfeed process PAPERFEED_DATABASE_URL={shown(to)} (the URL you gave --to), "
            "e.g. in /etc/paperfeed.env.\n"
            "  3. Start it: `paperfeed serve`. The search indexes in this data directory match the copy; in "
            "another data directory they are built from the database on first start (or run `paperfeed index`).\n"
            f"  Take {Path(settings.DATA_DIR) / 'secret_key'} along (or set PAPERFEED_SECRET_KEY): with another "
            "key, every member is signed out and links already emailed stop working."
        )

    def show(self, check: TableCheck) -> None:
        if check.equal:
            rows = rows_in_words(check.rows_here)
            self.stdout.write(f"  {check.table:<40} {rows:>15}  same  {check.checksum_here[:12]}")
            return
        self.stdout.write(
            f"  {check.table:<40} {rows_in_words(check.rows_here):>15} here, {check.rows_there:,} there  DIFFERENT "
            f"(checksums {check.checksum_here[:12]} and {check.checksum_there[:12]}; first difference at "
            f"{check.first_difference})"
        )

    def verdict_of_check(self, checks: list[TableCheck]) -> None:
        different = [check.table for check in checks if not check.equal]
        if different:
            raise CommandError(
                f"Verdict: {len(different)} of {len(checks)} tables differ: {', '.join(different)}.", returncode=1
            )
        rows = sum(check.rows_here for check in checks)
        self.stdout.write(
            self.style.SUCCESS(f"Verdict: the two databases hold the same {rows:,} rows in all {len(checks)} tables.")
        )
