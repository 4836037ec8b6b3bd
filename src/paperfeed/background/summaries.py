"""This site's summarizer as background work: a pass over the papers that have no summary (papers.services.summarizer),
asked for by every upkeep (after each ingest, and every few minutes), one waiting in the queue at a time.

A task of its own rather than a step of upkeep: a slow model then never holds up indexing, and a pass is bounded
(a batch, a minute) so that emails queued behind it do not wait long.
"""

from __future__ import annotations

from paperfeed.background.queue import enqueue_once, task
from paperfeed.papers.services.summarizer import enabled, summarize_pending


def request() -> bool:
    """Ask a worker for a summary pass (no-op when the summarizer is off or a pass already waits); True if one was
    enqueued. Like upkeep, never run inside the caller by a backend that would run it at once."""
    if not enabled() or not summarize.get_backend().supports_defer:
        return False
    return enqueue_once(summarize)


@task()
def summarize() -> str:
    run = summarize_pending()
    if run.off:
        return run.off
    done = f"summarized {len(run.written):,} papers, {len(run.failed):,} not; {run.budget_left:,} left today"
    return done + (f"; stopped: {run.stopped}" if run.stopped else "")
