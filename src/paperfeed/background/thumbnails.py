"""Thumbnails as a task: a bounded pass (papers.services.thumbnails) that queues the next one while papers wait.

Asked for by every upkeep pass (so after each ingest and every few minutes), unless thumbnails are off, nothing
waits for one, or this process's passes rest after a host could not be reached.
"""

from __future__ import annotations

from django.conf import settings

from paperfeed.background.queue import enqueue_once, task
from paperfeed.papers.services import thumbnails


def request() -> bool:
    """Ask a worker for a thumbnail pass soon; True if one was enqueued. Never runs it in the caller (see
    upkeep.request)."""
    if settings.PAPERFEED_THUMBNAILS == "off" or not make_thumbnails.get_backend().supports_defer:
        return False
    if thumbnails.resting() or not thumbnails.has_work():
        return False
    return enqueue_once(make_thumbnails)


@task()
def make_thumbnails() -> str:
    report = thumbnails.thumbnail_pass()
    if report.left and report.outage is None:
        make_thumbnails.enqueue()  # this one is running, so enqueue_once would not: the rest after the queue's others
    return str(report)
