"""paperfeed index: bring the keyword index in step, embed the papers that have no embedding yet and bring the
vector index in step."""

from __future__ import annotations

import os
import signal
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from paperfeed.core.embedder import MiniLMEmbedder, ModelError, default_embedder
from paperfeed.papers.retrieval import rebuild_keyword_index, sync_keyword_index, vectors
from paperfeed.papers.services.embedding import embed_pending


class Command(BaseCommand):
    told: str | None = None  # what the background loop last said about a missing vector store
    help = (
        "Bring the keyword index in step with the database (rebuild it with --rebuild), compute embeddings for "
        "papers that have none (all of them with --rebuild) and update the vector index, rebuilding it when it is "
        "missing or out of step. --watch keeps doing so in the background."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="rebuild the keyword index, embed every paper again and rebuild the vector index",
        )
        parser.add_argument(
            "--watch", type=float, metavar="SECONDS", help="run forever, looking for new papers every SECONDS"
        )

    def handle(self, *args, rebuild: bool, watch: float | None, **options):
        if watch is not None and watch <= 0:
            raise CommandError("--watch takes a number of seconds above 0", returncode=2)
        try:
            # In the background beside web workers: one core and a low priority, so that pages stay fast.
            embedder = default_embedder() if watch is None else MiniLMEmbedder(threads=1)
        except ModelError as error:
            raise CommandError(str(error), returncode=2) from None
        if watch is None:
            self.run_once(embedder, rebuild)
            return
        os.nice(10)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))  # finish the batch in hand, then stop
        while not stopping:
            self.run_once(embedder, rebuild=False, quiet=True)
            self.refit_recommendations(embedder)
            deadline = time.monotonic() + watch
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, watch))

    def refit_recommendations(self, embedder) -> None:
        """Embed imported library entries and refit stale For you models: the background half of recommendations."""
        from paperfeed.recommend.services.training import background_pass

        run = background_pass(embedder)
        if run.terms_rebuilt:
            self.stdout.write("Recommendations: fitted the term index on the papers' words.")
        if run.refitted or run.removed or run.embedded_items:
            parts = [f"refitted {run.refitted:,} model{'' if run.refitted == 1 else 's'}"]
            if run.removed:
                parts.append(f"removed {run.removed:,} of users with no signal left")
            if run.embedded_items:
                parts.append(f"embedded {run.embedded_items:,} library entr{'y' if run.embedded_items == 1 else 'ies'}")
            if run.left:
                parts.append(f"{run.left:,} more in the next rounds")
            self.stdout.write(f"Recommendations: {', '.join(parts)}.")
            self.stdout.flush()

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
