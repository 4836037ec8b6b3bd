"""paperfeed ingest SOURCE …: bring papers in from arXiv, Hugging Face, bioRxiv and medRxiv, or files.

Exit status: 0 when something changed, 1 when nothing did (so cron can skip work that depends on new papers),
2 on error, with the message on stderr. What was committed before an error stays; the next run goes on.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from paperfeed.core.periods import PeriodError, parse_day, parse_period
from paperfeed.core.records import parse_jsonl_line
from paperfeed.core.sources import SourceError
from paperfeed.core.sources.biorxiv import BIORXIV, MEDRXIV
from paperfeed.core.sources.registry import sources as registered_sources
from paperfeed.core.sources.snapshot import parse_snapshot_line
from paperfeed.papers.services.ingest import IngestError, arxiv_client, biorxiv_api, biorxiv_client, hf_client
from paperfeed.papers.services.ingest.arxiv_api import ingest_ids
from paperfeed.papers.services.ingest.arxiv_feed import ingest_announcements
from paperfeed.papers.services.ingest.arxiv_oai import harvest
from paperfeed.papers.services.ingest.hf import ingest_hf_daily
from paperfeed.papers.services.ingest.http import FetchError
from paperfeed.papers.services.loading import BadLine, LoadSummary, load_file, load_source_file
from paperfeed.papers.services.progress import file_progress
from paperfeed.papers.signals import papers_loaded

PARSERS = {"jsonl": parse_jsonl_line, "snapshot": parse_snapshot_line}
API_SERVERS = {server.name: server for server in (BIORXIV, MEDRXIV)}  # sources harvested when no FILE is given
NOTHING_CHANGED = 1


def fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def load_file_command(command: BaseCommand, kind: str, file: Path, skip_bad: bool, batch_size: int) -> None:
    """Load a file of records with a progress bar; shared by `ingest jsonl|snapshot` and `load-jsonl`."""
    if not file.is_file():
        raise fail(f"{file}: no such file")
    if batch_size < 1:
        raise fail("--batch-size must be at least 1")
    update, close = file_progress(f"Loading {file.name}")
    try:
        summary = load_file(file, PARSERS[kind], batch_size=batch_size, skip_bad=skip_bad, on_progress=update)
    except BadLine as error:
        close()
        done = error.summary
        kept = (
            f"Lines 1–{done.committed_through} were loaded ({done.describe()})"
            if done.committed_through
            else "Nothing was loaded"
        )
        raise fail(
            f"{error}\n{kept}; nothing from the batch holding line {error.line} on. "
            "Fix the line and run again (loaded papers are not loaded twice), or pass --skip-bad."
        ) from None
    close()
    for line, reason in summary.skipped:
        command.stderr.write(f"{file}:{line}: skipped: {reason}")
    if summary.skipped:
        command.stderr.write(f"{len(summary.skipped):,} bad lines skipped.")
    finish(command, summary)


def finish(command: BaseCommand, summary: LoadSummary, changed: bool | None = None) -> None:
    command.stdout.write(summary.describe())
    if not (summary.changed if changed is None else changed):
        raise SystemExit(NOTHING_CHANGED)
    papers_loaded.send(sender=None)  # a worker embeds the new papers for search by meaning and refits recommendations


def report_skipped(command: BaseCommand, skipped: list[tuple[str, str]]) -> None:
    for what, reason in skipped:
        command.stderr.write(f"skipped {what}: {reason}")


def window(from_: str | None, until: str | None):
    """The days --from and --until name (None when not given); a clear error for one that is not a day."""
    try:
        return (parse_day(from_, "--from") if from_ else None, parse_day(until, "--until") if until else None)
    except PeriodError as error:
        raise fail(str(error)) from None


class Command(BaseCommand):
    help = (
        "Bring papers in: arxiv-oai (harvest), arxiv-new (the day's announcements), "
        "arxiv-id (single papers), hf-daily (Hugging Face's daily list), biorxiv and medrxiv (the bioRxiv API, or "
        "a saved page of it), snapshot or jsonl (files). "
        "Exit status: 0 something changed, 1 nothing changed, 2 error."
    )

    def add_arguments(self, parser):
        sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
        oai = sources.add_parser("arxiv-oai", help="harvest arXiv's OAI-PMH service, resumably")
        oai.add_argument(
            "--from", dest="from_", metavar="DATE", help="first day (YYYY-MM-DD); default: where the last run ended"
        )
        oai.add_argument("--until", metavar="DATE", help="last day (YYYY-MM-DD); default: today")
        oai.add_argument(
            "--set", dest="set_spec", metavar="SET", help="an OAI set such as cs or cs:cs:LG (default: all)"
        )
        oai.add_argument("--format", dest="metadata_prefix", choices=["arXiv", "arXivRaw"], default="arXiv")
        new = sources.add_parser("arxiv-new", help="the day's announcements of arXiv categories")
        new.add_argument("categories", nargs="+", metavar="CATEGORY", help="e.g. cs.LG cs.CV")
        ids = sources.add_parser("arxiv-id", help="single papers from the arXiv API")
        ids.add_argument("ids", nargs="+", metavar="ID", help="e.g. 2503.11731 hep-th/9901001")
        hf = sources.add_parser("hf-daily", help="Hugging Face's daily papers list")
        when = hf.add_mutually_exclusive_group()
        when.add_argument("--date", metavar="DATE", help="a day, YYYY-MM-DD (default: today)")
        when.add_argument("--week", metavar="WEEK", help="an ISO week, YYYY-Www")
        when.add_argument("--month", metavar="MONTH", help="a month, YYYY-MM")
        for source in registered_sources().values():
            if source.parse_file is not None:
                files = sources.add_parser(source.name, help=source.file_help or f"a file of {source.label} papers")
                if source.name not in API_SERVERS:
                    files.add_argument("file", type=Path)
                    continue
                files.add_argument("file", type=Path, nargs="?", help="a saved page; without it, harvest the API")
                files.add_argument(
                    "--from",
                    dest="from_",
                    metavar="DATE",
                    help="first day (YYYY-MM-DD); default: where the last run ended",
                )
                files.add_argument("--until", metavar="DATE", help="last day (YYYY-MM-DD); default: today")
        for kind in PARSERS:
            files = sources.add_parser(kind, help=f"a {kind} file, plain or gzip")
            files.add_argument("file", type=Path)
            files.add_argument("--skip-bad", action="store_true", help="report malformed lines and go on")
            files.add_argument("--batch-size", type=int, default=2000, help="lines per transaction")

    def handle(self, *args, source: str, **options):
        try:
            registered = registered_sources().get(source)
            if source in API_SERVERS and options["file"] is None:
                self.ingest_preprint_server(API_SERVERS[source], **options)
                return
            if registered is not None and registered.parse_file is not None:
                if options.get("from_") or options.get("until"):
                    raise fail(f"{source}: --from and --until choose what to harvest; a FILE is loaded whole")
                self.ingest_source_file(registered, **options)
                return
            getattr(self, "ingest_" + source.replace("-", "_"))(**options)
        except (FetchError, SourceError, IngestError) as error:
            raise fail(f"{source}: {error}") from None

    def ingest_arxiv_oai(self, from_, until, set_spec, metadata_prefix, **options):
        start, end = window(from_, until)
        bar = tqdm(desc="Harvesting", unit=" pages", file=sys.stderr, disable=None)

        def on_page(progress):
            bar.update(1)
            bar.set_postfix_str(f"{progress.summary.papers:,} papers", refresh=True)

        try:
            with arxiv_client() as client:
                result = harvest(
                    client,
                    set_spec=set_spec,
                    metadata_prefix=metadata_prefix,
                    from_=start,
                    until=end,
                    on_page=on_page,
                )
        except (FetchError, SourceError, IngestError) as error:
            raise fail(
                f"arxiv-oai: {error}\nPages harvested before this were saved; run the same command again to "
                "go on from the last saved page."
            ) from None
        finally:
            bar.close()
        first, last = result.window
        notes = [f"Harvested {first} to {last}: {result.pages} page(s)."]
        if result.resumed:
            notes.append("Resumed an interrupted harvest.")
        if result.restarted:
            notes.append("arXiv no longer accepted the saved resumption token, so the window was harvested again.")
        if result.deleted:
            notes.append(f"{result.deleted:,} papers withdrawn from arXiv were removed.")
        self.stdout.write(" ".join(notes))
        report_skipped(self, result.skipped)
        finish(self, result.summary, changed=result.changed)

    def ingest_preprint_server(self, server, from_, until, **options):
        """`paperfeed ingest biorxiv|medrxiv [--from D] [--until D]`: harvest the bioRxiv API for one server."""
        start, end = window(from_, until)
        bar = tqdm(desc="Harvesting", unit=" pages", file=sys.stderr, disable=None)

        def on_page(progress):
            bar.total = -(-progress.total // 100) if progress.total else None
            bar.update(1)
            bar.set_postfix_str(f"{progress.summary.papers:,} preprints", refresh=True)

        try:
            with biorxiv_client() as client:
                result = biorxiv_api.harvest(client, server, from_=start, until=end, on_page=on_page)
        except (FetchError, SourceError, IngestError) as error:
            raise fail(
                f"{server.name}: {error}\nPages harvested before this were saved; run the same command again to "
                "go on from the last saved page."
            ) from None
        finally:
            bar.close()
        first, last = result.window
        notes = [f"{server.label}, harvested {first} to {last}: {result.pages} page(s)."]
        if result.resumed:
            notes.append("Resumed an interrupted harvest.")
        self.stdout.write(" ".join(notes))
        report_skipped(self, result.skipped)
        finish(self, result.summary)

    def ingest_arxiv_new(self, categories, **options):
        with arxiv_client() as client:
            result = ingest_announcements(client, categories)
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.kinds.items())) or "no announcements"
        self.stdout.write(f"arXiv announcements for {' '.join(categories)}: {kinds}.")
        report_skipped(self, result.skipped)
        finish(self, result.summary)

    def ingest_arxiv_id(self, ids, **options):
        with arxiv_client() as client:
            summary, fetched = ingest_ids(client, ids)
        report_skipped(self, fetched.skipped)
        if fetched.unknown:
            self.stdout.write(summary.describe())
            raise fail(f"arXiv does not know {', '.join(fetched.unknown)}; the other ids were loaded")
        finish(self, summary)

    def ingest_hf_daily(self, date, week, month, **options):
        try:
            period = parse_period(date, week, month) or parse_period(date_=timezone.now().date().isoformat())
        except PeriodError as error:
            raise fail(str(error)) from None
        with hf_client() as client:
            summary, skipped = ingest_hf_daily(client, period)
        self.stdout.write(f"Hugging Face daily papers, {period.label}:")
        report_skipped(self, skipped)
        finish(self, summary)

    def ingest_source_file(self, source, file: Path, **options):
        """A file of a paper source registered in core.sources.registry (`paperfeed ingest NAME FILE`)."""
        if not file.is_file():
            raise fail(f"{file}: no such file")
        summary, skipped = load_source_file(file, source.parse_file, listing=source.name)
        self.stdout.write(f"{source.label}, {file.name}:")
        report_skipped(self, skipped)
        finish(self, summary)

    def ingest_jsonl(self, file, skip_bad, batch_size, **options):
        load_file_command(self, "jsonl", file, skip_bad, batch_size)

    def ingest_snapshot(self, file, skip_bad, batch_size, **options):
        load_file_command(self, "snapshot", file, skip_bad, batch_size)
