"""The refreshes of GitHub stars and Hugging Face artifacts as tasks (papers.services.refresh does the work).

Asked for by the workers at the upkeep cadence (`request`); however many ask, one pass of each waits in the queue.
A pass that GitHub or Hugging Face stopped (a rate limit, Retry-After, a server in trouble) puts the next pass in
the queue for when the remote said, or a minute on: that waiting pass is what keeps the others from being queued
before then."""

from __future__ import annotations

from paperfeed.background.queue import defer, enqueue_once, task
from paperfeed.papers.services.refresh import github, hf_artifacts


def _after(work, report) -> str:
    if report.wait:
        later = defer(work, report.wait)
        if later is not None:
            later.enqueue()
    return report.line()


@task()
def refresh_github() -> str:
    return _after(refresh_github, github.refresh())


@task()
def refresh_hf_artifacts() -> str:
    return _after(refresh_hf_artifacts, hf_artifacts.refresh())


def request() -> int:
    """Queue a pass of each refresh unless one waits already (or the backend would run it here and now, as
    upkeep.request explains); how many were queued."""
    return sum(
        enqueue_once(work) for work in (refresh_github, refresh_hf_artifacts) if work.get_backend().supports_defer
    )
