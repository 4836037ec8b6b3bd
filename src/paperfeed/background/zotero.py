"""The live Zotero sync as a task (recommend.services.zotero does the work).

Asked for by every upkeep pass (after each ingest, a link saved, and every minute from the workers): a pass is
enqueued only when a link is due — PAPERFEED_ZOTERO_SYNC_MINUTES after its last pass, at once after a key is saved,
or once the wait Zotero asked for is over — and one waits in the queue at a time.
"""

from __future__ import annotations

from paperfeed.background.queue import enqueue_once, task
from paperfeed.recommend.services import zotero


def request() -> bool:
    """Ask a worker for a sync pass when a link is due; True if one was enqueued. Never runs it in the caller (see
    upkeep.request)."""
    if not sync_zotero.get_backend().supports_defer or not zotero.has_due():
        return False
    return enqueue_once(sync_zotero)


@task()
def sync_zotero() -> str:
    report = zotero.sync_due()
    if len(report.results) >= zotero.LINKS_PER_PASS and zotero.has_due():  # the rest after the queue's others
        sync_zotero.enqueue()
    return report.line()
