"""paperfeed load-jsonl FILE[.gz]: load papers in the papers.jsonl format (same as `ingest jsonl`)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from paperfeed.papers.management.commands.ingest import load_file_command


class Command(BaseCommand):
    help = (
        "Load papers from a JSON Lines file (plain or gzip), one transaction per batch. "
        "Exit status: 0 something changed, 1 nothing changed, 2 error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--skip-bad", action="store_true", help="report malformed lines and go on")
        parser.add_argument("--batch-size", type=int, default=2000, help="lines per transaction (default 2000)")

    def handle(self, *args, **options):
        load_file_command(self, "jsonl", options["file"], options["skip_bad"], options["batch_size"])
