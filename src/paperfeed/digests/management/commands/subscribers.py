"""paperfeed subscribers import|export: digest subscriber lists as CSV, for operators moving in or out.

import: exit 0 when every line was imported, 1 when some lines were skipped (each reported as FILE:LINE: what is
wrong; the good lines are imported), 2 when the file cannot be read as a subscriber list (nothing imported).
The format is described in paperfeed.digests.services.subscribers and docs/operations.md.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from paperfeed.digests.services import subscribers

SOME_SKIPPED = 1


class Command(BaseCommand):
    help = (
        "Digest subscribers as CSV: `import FILE.csv` (header email,frequency[,categories,keywords]; addresses "
        "confirmed elsewhere become active) and `export [--output FILE]` (the active subscribers)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="import|export")
        load = actions.add_parser("import", help="import a CSV of subscribers confirmed on another service")
        load.add_argument("file", type=Path, metavar="FILE.csv")
        dump = actions.add_parser("export", help="write the active subscribers as CSV")
        dump.add_argument("--output", type=Path, metavar="FILE", help="write here instead of standard output")

    def handle(self, *args, action: str, **options):
        if action == "import":
            self.import_(options["file"])
        else:
            self.export(options["output"])

    def import_(self, file: Path) -> None:
        try:
            report = subscribers.import_csv(file)
        except subscribers.HeaderError as error:
            raise CommandError(f"{file}: {error}. Nothing was imported.", returncode=2) from None
        for line, address in report.updated:
            self.stdout.write(f"{file}:{line}: {address} was already subscribed: updated")
        for line, problem in report.problems:
            self.stderr.write(f"{file}:{line}: {problem}")
        self.stdout.write(report.describe())
        if report.problems:
            raise SystemExit(SOME_SKIPPED)

    def export(self, output: Path | None) -> None:
        if output is None:
            count = subscribers.export_csv(self.stdout)
            self.stderr.write(f"{count} active subscriber{'s' if count != 1 else ''} exported.")
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = subscribers.export_csv(out)
        except OSError as error:
            raise CommandError(f"cannot write {output}: {error.strerror}", returncode=2) from None
        self.stdout.write(f"{count} active subscriber{'s' if count != 1 else ''} written to {output}.")
