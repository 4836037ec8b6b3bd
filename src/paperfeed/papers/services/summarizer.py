"""This site's summarizer: a summary and keywords for papers that Hugging Face did not summarize, asked of any
OpenAI-compatible chat endpoint (PAPERFEED_SUMMARY_URL; a local llama.cpp, vLLM or Ollama server speaks it).

Off unless the URL is set. Run by background work (background/summaries.py) and `paperfeed summarize`, never by
a page: pages show what PaperExtras holds. A pass takes the newest daily-list papers first, then the rest by date,
within the day's budget (PAPERFEED_SUMMARY_PER_DAY papers sent, counted by the UTC day, the site's time zone),
and a bounded batch, so that a slow model never holds the queue for long. A paper whose try failed is tried
again after RETRY_AFTER. A Hugging Face summary is never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic

import httpx
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from paperfeed.core.summaries import Summary, SummaryError, completion_content, messages, parse_summary
from paperfeed.papers.models import DailyEntry, Paper, PaperExtras, SummaryOrigin, visible_condition
from paperfeed.papers.services.ingest.http import user_agent

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(hours=6)  # before a paper whose try failed is sent again
BATCH = 20  # papers in one pass at the most
PASS_SECONDS = 60.0  # no new paper is started after this long, so that other tasks (emails) do not wait long
MAX_TOKENS = 400
# Problems with the endpoint rather than the paper: the pass stops, and the next one tries again.
STOPS_THE_PASS = {"connection", "timeout", "status", "format"}
# Of those, the ones where no text was generated: the paper keeps its place and its try does not count.
NOT_A_TRY = {"connection", "status"}
_logged: set[str] = set()  # problem kinds logged since the last summary written, so each is logged once


@dataclass
class Outcome:
    address: str
    summary: Summary | None = None
    problem: str = ""
    kind: str = ""  # of the problem: connection, timeout, status, request, format, content, kept


@dataclass
class SummaryPass:
    model: str = ""
    budget: int = 0
    used_before: int = 0  # papers already sent today when the pass began
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: str = ""  # why the pass stopped early, when the endpoint failed
    off: str = ""  # why nothing was tried at all
    configured: bool = True  # False when PAPERFEED_SUMMARY_URL is not set

    @property
    def written(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.summary is not None]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.summary is None]

    @property
    def budget_left(self) -> int:
        tries = sum(1 for o in self.outcomes if o.kind not in NOT_A_TRY)
        return max(self.budget - self.used_before - tries, 0)


def enabled() -> bool:
    return bool(settings.PAPERFEED_SUMMARY_URL and settings.PAPERFEED_SUMMARY_PER_DAY)


class ChatEndpoint:
    """POSTs to BASE/chat/completions; `summarize` gives a Summary or raises SummaryError with a kind."""

    def __init__(self, base: str, model: str, api_key: str = "", timeout: float = 120.0) -> None:
        self.url = f"{base}/chat/completions"
        self.model = model
        headers = {"User-Agent": user_agent(None), "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), headers=headers)
        self.timeout = timeout

    def close(self) -> None:
        self._http.close()

    def summarize(self, title: str, abstract: str) -> Summary:
        request = {
            "model": self.model,
            "messages": messages(title, abstract),
            "temperature": 0.2,
            "max_tokens": MAX_TOKENS,
            "stream": False,
        }
        try:
            response = self._http.post(self.url, json=request)
        except httpx.TimeoutException:
            raise SummaryError("timeout", f"{self.url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise SummaryError("connection", f"cannot reach {self.url}: {error or type(error).__name__}") from None
        if response.status_code >= 400:
            # 400, 413, 422: this paper's request was refused (too long for the model's context, say); the rest
            # (401, 404, 429, 5xx) are the endpoint's trouble and would refuse every paper alike.
            kind = "request" if response.status_code in (400, 413, 422) else "status"
            raise SummaryError(kind, f"{self.url} answered {response.status_code}: {_error_text(response)}")
        return parse_summary(completion_content(response.content))


def _error_text(response: httpx.Response) -> str:
    """The error message of an OpenAI-style error body ({"error": {"message": …}}), else the body's start."""
    try:
        error = response.json().get("error")
        text = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        text = None
    if not isinstance(text, str) or not text.strip():
        text = response.text
    text = " ".join(text.split())
    return text[:150] + ("…" if len(text) > 150 else "") if text else "(no message)"


def _waiting(now: datetime) -> Q:
    """Visible papers with an abstract and no summary, whose last try, if any, is older than RETRY_AFTER."""
    retry_before = now - RETRY_AFTER
    due = Q(extras__summary_tried_at__isnull=True) | Q(extras__summary_tried_at__lt=retry_before)
    return visible_condition() & ~Q(abstract="") & (Q(extras__isnull=True) | (Q(extras__summary="") & due))


def candidates(limit: int, now: datetime) -> list[Paper]:
    """Up to `limit` papers to summarize: the newest daily lists' first, then the others, newest first."""
    waiting = Paper.objects.filter(_waiting(now))
    chosen: list[int] = []
    listed = (
        DailyEntry.objects.filter(paper__in=waiting.values("id"))
        .order_by("-day", "paper_id")
        .values_list("paper_id", flat=True)[: limit * 3]  # a paper may be on several lists
    )
    for paper_id in listed:
        if paper_id not in chosen:
            chosen.append(paper_id)
        if len(chosen) == limit:
            break
    if len(chosen) < limit:
        rest = waiting.exclude(id__in=chosen).order_by(F("published").desc(nulls_last=True), "-id")
        chosen += rest.values_list("id", flat=True)[: limit - len(chosen)]
    papers = Paper.objects.in_bulk(chosen)
    return [papers[i] for i in chosen if i in papers]


def sent_today(now: datetime) -> int:
    """Papers sent to the summarizer since midnight (the site's time zone, UTC), whatever came back."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return PaperExtras.objects.filter(summary_tried_at__gte=midnight).count()


def _claim(paper: Paper, now: datetime) -> datetime | None | bool:
    """Mark the paper as being tried now, unless another pass took it or it got a summary meanwhile: its previous
    try time (None if never) when claimed, False when not. Many workers never send a paper twice."""
    extras, _ = PaperExtras.objects.get_or_create(paper=paper)
    previous = extras.summary_tried_at
    claimed = PaperExtras.objects.filter(
        Q(summary_tried_at=previous) if previous else Q(summary_tried_at__isnull=True), paper=paper, summary=""
    ).update(summary_tried_at=now)
    return previous if claimed else False


def _store(paper: Paper, summary: Summary, model: str) -> bool:
    """Write the summary unless one arrived meanwhile (Hugging Face's, from an ingest): True if written."""
    return bool(
        PaperExtras.objects.filter(paper=paper, summary="").update(
            summary=summary.text,
            summary_keywords=summary.keywords,
            summary_origin=SummaryOrigin.SITE,
            summary_model=model[:200],
            summary_at=timezone.now(),
            summary_problem="",
        )
    )


def _report(outcome: Outcome) -> None:
    """Log a problem of a kind not logged since the last summary written; the others are in summary_problem."""
    if outcome.kind not in _logged:
        _logged.add(outcome.kind)
        log.warning("summarizer: %s: %s", outcome.address, outcome.problem)


def summarize_pending(
    limit: int | None = None,
    *,
    seconds: float = PASS_SECONDS,
    endpoint: ChatEndpoint | None = None,
    on_paper: Callable[[Outcome], None] | None = None,
) -> SummaryPass:
    """One pass: summarize up to `limit` (BATCH by default) waiting papers within the day's budget, starting no
    new paper after `seconds`; each paper's result is written (or its problem noted) as soon as it is known."""
    now = timezone.now()
    run = SummaryPass(model=settings.PAPERFEED_SUMMARY_MODEL, budget=settings.PAPERFEED_SUMMARY_PER_DAY)
    if not settings.PAPERFEED_SUMMARY_URL:
        run.off, run.configured = "the summarizer is off: PAPERFEED_SUMMARY_URL is not set", False
        return run
    run.used_before = sent_today(now)
    room = min(BATCH if limit is None else limit, run.budget - run.used_before)
    if room <= 0:
        run.off = f"today's budget of {run.budget:,} papers (PAPERFEED_SUMMARY_PER_DAY) is spent"
        return run
    own_endpoint = endpoint is None
    endpoint = endpoint or ChatEndpoint(
        settings.PAPERFEED_SUMMARY_URL,
        settings.PAPERFEED_SUMMARY_MODEL,
        settings.PAPERFEED_SUMMARY_API_KEY,
        settings.PAPERFEED_SUMMARY_TIMEOUT_SECONDS,
    )
    started = monotonic()
    try:
        for paper in candidates(room, now):
            if run.outcomes and monotonic() - started > seconds:
                break
            outcome = _summarize_one(endpoint, paper, run.model)
            if outcome is None:
                continue
            run.outcomes.append(outcome)
            if on_paper:
                on_paper(outcome)
            if outcome.kind in STOPS_THE_PASS:
                run.stopped = outcome.problem
                break
    finally:
        if own_endpoint:
            endpoint.close()
    return run


def _summarize_one(endpoint: ChatEndpoint, paper: Paper, model: str) -> Outcome | None:
    previous = _claim(paper, timezone.now())
    if previous is False:
        return None
    outcome = Outcome(paper.address)
    try:
        summary = endpoint.summarize(paper.title, paper.abstract)
    except SummaryError as error:
        outcome.problem, outcome.kind = str(error), error.kind
        fields = {"summary_problem": outcome.problem[:300]}
        if error.kind in NOT_A_TRY:  # nothing was generated: the paper keeps its place and the day's budget
            fields["summary_tried_at"] = previous
        PaperExtras.objects.filter(paper=paper).update(**fields)
        _report(outcome)
        return outcome
    if not _store(paper, summary, model):
        outcome.problem, outcome.kind = "it got Hugging Face's summary meanwhile, which is kept", "kept"
        return outcome
    outcome.summary = summary
    _logged.clear()
    return outcome
