"""paperfeed index: bring the keyword index in step, embed the papers that have no embedding yet and bring the
vector index in step."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.papers.retrieval import rebuild_keyword_index, sync_keyword_index, vectors
from paperfeed.papers.services.embedding import embed_pending


class Command(BaseCommand):
    told: str | None = None  # what the background loop last said about a missing vector store
    help = (
        "Bring the keyword index in step with the database (rebuild it with --rebuild), compute embeddings for "
        "papers that have none (all of them with --rebuild) and update the vector index, rebuilding it when it is "
        "missing or out of step. (On a running site, `paperfeed worker` does this whenever papers arrive.)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="rebuild the keyword index, embed every paper again and rebuild the vector index",
        )

    def handle(self, *args, rebuild: bool, **options):
        try:
            embedder = default_embedder()
        except ModelError as error:
            raise CommandError(str(error), returncode=2) from None
        self.run_once(embedder, rebuild)

    def keyword_index(self, rebuild: bool, quiet: bool) -> None:
        """Rebuild the keyword index (--rebuild) or apply the changes to papers it has not seen yet."""
        bar = tqdm(desc="Keyword index", unit=" papers", file=sys.stderr, disable=None if not quiet else True)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        report = rebuild_keyword_index(progress) if rebuild else sync_keyword_index(progress)
        bar.close()
        if report.action == "rebuilt":
            why = "" if rebuild else f" ({report.reason})"
            self.stdout.write(f"Rebuilt the keyword index{why}: {report.papers:,} papers.")
        elif report.action == "applied" and not quiet:
            self.stdout.write(f"Keyword index: brought {report.papers:,} changed papers up to date.")

    def run_once(self, embedder, rebuild: bool, quiet: bool = False) -> None:
        self.keyword_index(rebuild, quiet)
        bar = tqdm(desc="Embedding", unit=" papers", file=sys.stderr, disable=None if not quiet else True)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        run = embed_pending(embedder, rebuild=rebuild, on_progress=progress)
        bar.close()
        if run.unavailable:
            if not (quiet and self.told == run.unavailable):  # the background loop says it once
                self.stderr.write(run.unavailable)
                self.told = run.unavailable
            if run.embedded or not quiet:
                self.stdout.write(f"Embedded {run.embedded:,} papers; they wait in the database for the vector store.")
            self.stdout.flush()
            return
        state = vectors.index_state(embedder.name)
        held = state.count if state else 0
        if quiet and not run.embedded and not run.rebuilt:
            return
        message = f"Embedded {run.embedded:,} papers; the vector index holds {held:,}."
        if run.rebuilt:
            message += f" Rebuilt it ({run.rebuilt})."
        self.stdout.write(message)
        self.stdout.flush()
