"""Upkeep as tasks: bring this node's keyword index in step, embed papers that have no embedding yet (and update the
vector store), embed imported library entries and refit stale For you models; and ask for a thumbnail pass
(background.thumbnails).

Asked for after each ingest, load, submission or library import (`request`), and every few minutes by the workers
themselves, so nothing waits for a cron job. However many ask, one upkeep waits in the queue at a time.
"""

from __future__ import annotations

import logging
from functools import cache

from paperfeed.background import summaries, thumbnails, zotero
from paperfeed.background.queue import enqueue_once, task
from paperfeed.core.embedder import MiniLMEmbedder, ModelError
from paperfeed.notifications.services import tasks as notification_tasks
from paperfeed.papers.retrieval import sync_keyword_index
from paperfeed.papers.services.embedding import embed_pending
from paperfeed.recommend.services.training import background_pass

log = logging.getLogger(__name__)


@cache
def _embedder():
    """One embedder per worker process, on one core: workers share the box with web processes."""
    return MiniLMEmbedder(threads=1)


def request() -> bool:
    """Ask a worker for an upkeep pass soon (no-op when one is already waiting); True if one was enqueued.

    Upkeep never runs inside the caller (a web request, an ingest): with a backend that would run it at once
    instead of queueing it (django-tasks' immediate backend, which the in-process tests use for emails) nothing
    is enqueued, and the next worker pass or `paperfeed index` does the work."""
    if not upkeep.get_backend().supports_defer:
        return False
    return enqueue_once(upkeep)


@task()
def upkeep() -> str:
    summaries.request()  # a task of its own, so that a slow summarizer never holds up indexing
    thumbnails.request()
    zotero.request()  # the linked Zotero libraries that are due a sync
    notification_tasks.request()  # emails owed at once, and the daily summaries once a day
    done = []
    keyword = sync_keyword_index()
    if keyword.papers:
        done.append(f"keyword index: {keyword.action} {keyword.papers:,} papers")
    try:
        embedder = _embedder()
    except ModelError as error:
        log.error("upkeep cannot embed: %s", error)
        raise
    embedded = embed_pending(embedder)
    if embedded.embedded or embedded.rebuilt:
        done.append(f"embedded {embedded.embedded:,} papers")
    refits = background_pass(embedder)
    if refits.refitted or refits.embedded_items or refits.removed:
        done.append(f"refitted {refits.refitted:,} models, embedded {refits.embedded_items:,} library entries")
    if refits.left:
        request()  # the rest in the next pass, after whatever else waits in the queue
        done.append(f"{refits.left:,} models left for the next pass")
    return "; ".join(done) or "nothing to do"
