"""What the two refreshes share: one polite HTTP client, which papers are due, and the report of a pass.

Neither refresh retries inside a pass: a remote that is down or asks us to slow down ends the pass, says how long to
wait, and the papers not reached stay due for the next one. A failure never overwrites a stored value."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.db.models import F, QuerySet

from paperfeed.papers.models import DailyEntry, Paper
from paperfeed.papers.services.ingest.http import retry_after, user_agent

log = logging.getLogger("paperfeed.refresh")

PROBLEM_CHARS = 300  # PaperExtras' *_problem columns
DEFAULT_WAIT = 60.0  # seconds to leave a remote alone after a 429 or 5xx that names no time


@dataclass
class PassReport:
    """What one pass did: the due papers it took (its batch), those checked, values that changed, problems met, and
    how long to leave the remote alone (None: ask again at the next pass)."""

    name: str
    due: int = 0
    checked: int = 0
    changed: int = 0
    problems: int = 0
    wait: float | None = None
    stopped_by: str = ""

    def line(self) -> str:
        if not self.due:
            return f"{self.name}: nothing due"
        text = f"{self.name}: checked {self.checked} of {self.due} due papers, {self.changed} changed"
        if self.problems:
            text += f", {self.problems} with a problem (kept their old values)"
        if self.stopped_by:
            text += f"; stopped: {self.stopped_by}"
            if self.wait:
                text += f" (next try in {self.wait:.0f} s)"
        return text


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes


class Unreachable(Exception):
    """No HTTP answer at all: a timeout or a connection that failed."""


@dataclass
class PacedClient:
    """GETs with at least `pause` seconds between two requests; no retries (the next pass is the retry)."""

    headers: dict[str, str] = field(default_factory=dict)
    pause: float = 1.0
    timeout: float = 30.0
    contact: str | None = None
    sleep: Callable[[float], None] = time.sleep
    _last: float | None = field(default=None, init=False)
    _http: httpx.Client | None = field(default=None, init=False)

    def get(self, url: str, params: dict | None = None, headers: dict | None = None) -> Answer:
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                headers={"User-Agent": user_agent(self.contact), **self.headers},
                follow_redirects=True,  # GitHub answers 301 for a renamed repository
            )
        if self._last is not None:
            wait = self._last + self.pause - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last = time.monotonic()
        try:
            response = self._http.get(url, params=params, headers=headers)
        except httpx.TimeoutException:
            raise Unreachable(f"no answer within {self.timeout:g} s") from None
        except httpx.TransportError as error:
            raise Unreachable(f"could not connect ({error.__class__.__name__}: {error})") from None
        return Answer(response.status_code, response.headers, response.content)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def wait_asked(headers: httpx.Headers) -> float | None:
    """Seconds a Retry-After header asks for; None when there is none."""
    return retry_after(headers.get("Retry-After"))


def due(papers: QuerySet[Paper], checked_field: str, now: datetime, hours: float, days: float) -> QuerySet[Paper]:
    """Of `papers`, those anyone may see that were on a daily list in the last `days` days and were not checked in
    the last `hours` hours: never-checked first (newest first), then the stalest."""
    since = (now - timedelta(days=days)).date()
    recent = DailyEntry.objects.filter(day__gte=since).values("paper_id")
    checked = F(f"extras__{checked_field}")
    stale = now - timedelta(hours=hours)
    return (
        papers.visible()
        .filter(id__in=recent)
        .exclude(**{f"extras__{checked_field}__gte": stale})
        .order_by(checked.asc(nulls_first=True), "-published", "-id")
    )


def note_problem(name: str, paper: Paper, problem: str, before: str) -> str:
    """The problem as stored (cut to fit), logged only when it is new for this paper: a remote that keeps failing
    the same way is logged once, not at every pass."""
    problem = problem[:PROBLEM_CHARS]
    if problem != before:
        log.warning("%s of %s: %s", name, paper.address, problem)
    return problem
