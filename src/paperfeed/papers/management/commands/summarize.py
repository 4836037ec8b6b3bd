"""paperfeed summarize [--limit N]: one pass of this site's summarizer by hand, saying what it did for each paper.

Exit status: 0 when summaries were written, 1 when none were (nothing waiting, the day's budget spent, answers
refused), 2 when the summarizer is off or its endpoint failed (unreachable, timed out, an error status, an answer
that is not a chat completion).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.services.summarizer import BATCH, Outcome, summarize_pending

NOTHING_WRITTEN = 1


class Command(BaseCommand):
    help = (
        "Ask the summarizer (PAPERFEED_SUMMARY_URL) for summaries of papers that have none, newest daily lists "
        "first, within the day's budget (PAPERFEED_SUMMARY_PER_DAY), and print what happened to each. "
        "(On a running site, `paperfeed worker` does this after each ingest and every few minutes.)"
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=BATCH, help=f"papers to send at the most (default {BATCH})")

    def handle(self, *args, limit: int, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1", returncode=2)

        def said(outcome: Outcome) -> None:
            if outcome.summary:
                keywords = ", ".join(outcome.summary.keywords) or "no keywords"
                self.stdout.write(f"{outcome.address}: {outcome.summary.text} [{keywords}]")
            else:
                self.stdout.write(f"{outcome.address}: not summarized: {outcome.problem}")

        run = summarize_pending(limit, seconds=float("inf"), on_paper=said)
        if not run.configured:
            raise CommandError(
                f"{run.off}. Set it to an OpenAI-compatible endpoint's base (such as http://127.0.0.1:8080/v1) and "
                "PAPERFEED_SUMMARY_MODEL (README, Configuration).",
                returncode=2,
            )
        if run.off:
            self.stdout.write(f"Nothing sent: {run.off}.")
            raise SystemExit(NOTHING_WRITTEN)
        written, failed = len(run.written), len(run.failed)
        if not run.outcomes:
            self.stdout.write("No paper is waiting for a summary.")
        else:
            self.stdout.write(
                f"Summarized {written:,} papers with {run.model}, {failed:,} not; "
                f"{run.budget_left:,} of today's {run.budget:,} left."
            )
        if run.stopped:
            raise CommandError(
                f"stopped: {run.stopped}. Nothing else was sent; run it again once that is fixed.", returncode=2
            )
        if not written:
            raise SystemExit(NOTHING_WRITTEN)
