"""paperfeed load-jsonl FILE[.gz]: load papers in the papers.jsonl format."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.services.loading import BadLine, LoadSummary, load_jsonl
from paperfeed.papers.services.progress import file_progress


def describe(summary: LoadSummary) -> str:
    """One line for people: what the load changed."""
    if not summary.changed:
        text = f"Nothing changed: all {summary.papers:,} papers were already up to date."
    else:
        text = (
            f"{summary.papers:,} papers: {summary.new:,} new, {summary.updated:,} updated, "
            f"{summary.unchanged:,} unchanged; {summary.daily_entries:,} daily-list entries added."
        )
    if summary.duplicates:
        text += f" {summary.duplicates:,} ids appeared more than once (the later line was kept)."
    return text


class Command(BaseCommand):
    help = (
        "Load papers from a JSON Lines file (plain or gzip), one transaction per batch. "
        "Exit status: 0 something changed, 1 nothing changed, 2 error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--skip-bad", action="store_true", help="report malformed lines and go on")
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="lines per transaction (default 2000)"
        )

    def handle(self, *args, file: Path, skip_bad: bool, batch_size: int, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        update, close = file_progress(f"Loading {file.name}")
        try:
            summary = load_jsonl(file, batch_size=batch_size, skip_bad=skip_bad, on_progress=update)
        except BadLine as error:
            close()
            done = error.summary
            kept = (
                f"Lines 1–{done.committed_through} were loaded ({describe(done)})"
                if done.committed_through
                else "Nothing was loaded"
            )
            raise CommandError(
                f"{error}\n{kept}; nothing from the batch holding line {error.line} on. "
                "Fix the line and run again (loaded papers are not loaded twice), or pass --skip-bad.",
                returncode=2,
            ) from None
        close()
        for line, reason in summary.skipped:
            self.stderr.write(f"{file}:{line}: skipped: {reason}")
        if summary.skipped:
            self.stderr.write(f"{len(summary.skipped):,} bad lines skipped.")
        self.stdout.write(describe(summary))
        if not summary.changed:
            raise SystemExit(1)
