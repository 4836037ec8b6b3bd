"""The Hugging Face models, datasets and Spaces that cite each paper, from the Hub's list endpoints
(`/api/models?filter=arxiv:ID`, `/api/datasets?…`, `/api/spaces?…` under PAPERFEED_HF_API_URL). Only papers with an
arXiv id have them. A paper's three lists are stored together or not at all: a failure on any one of them keeps
what was stored before."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from paperfeed.core.hf_artifacts import COUNTED, KINDS, NotAListing, artifacts, parse_listing
from paperfeed.papers.models import Paper, PaperExtras
from paperfeed.papers.services.refresh.remote import (
    DEFAULT_WAIT,
    PacedClient,
    PassReport,
    Unreachable,
    due,
    note_problem,
    wait_asked,
)

NAME = "Hugging Face artifacts"
BATCH = 20  # papers a pass, three requests each


class Stop(Exception):
    """The Hub asked us to slow down or is in trouble: the pass ends here."""

    def __init__(self, problem: str, wait: float) -> None:
        super().__init__(problem)
        self.wait = wait


class Refused(Exception):
    """The Hub's answer about this paper cannot be used (a 4xx, or not a list): recorded, the pass goes on."""


def due_papers(now: datetime):
    return due(
        Paper.objects.filter(arxiv_id__isnull=False),
        "hf_artifacts_checked_at",
        now,
        settings.PAPERFEED_REFRESH_HOURS,
        settings.PAPERFEED_REFRESH_DAYS,
    )


def _listing(http: PacedClient, base: str, kind: str, arxiv_id: str) -> list[dict]:
    params = {"filter": f"arxiv:{arxiv_id}", "sort": "likes", "direction": "-1", "limit": str(COUNTED)}
    try:
        answer = http.get(f"{base}/api/{kind}", params=params)
    except Unreachable as error:
        raise Stop(f"Hugging Face: {error}", DEFAULT_WAIT) from None
    if answer.status == 429 or answer.status >= 500:
        raise Stop(
            f"Hugging Face answered HTTP {answer.status} for its {kind}", wait_asked(answer.headers) or DEFAULT_WAIT
        )
    if answer.status != 200:
        raise Refused(f"Hugging Face answered HTTP {answer.status} for its {kind}")
    try:
        return parse_listing(kind, answer.body)
    except NotAListing as error:
        raise Refused(f"Hugging Face's list of {kind} is {error}") from None


def refresh(batch: int | None = None, pause: float = 1.0, now: datetime | None = None) -> PassReport:
    """Ask the Hub for the models, datasets and Spaces citing up to `batch` due papers, stalest first."""
    now = now or timezone.now()
    batch = batch or BATCH
    papers = list(due_papers(now).select_related("extras")[:batch])
    report = PassReport(NAME, due=len(papers))
    base = settings.PAPERFEED_HF_API_URL.rstrip("/")
    http = PacedClient(
        {"Accept": "application/json"}, pause, settings.PAPERFEED_HTTP_TIMEOUT_SECONDS, settings.PAPERFEED_CONTACT_EMAIL
    )
    try:
        for paper in papers:
            extras = getattr(paper, "extras", None)
            before = extras.hf_artifacts_problem if extras else ""
            try:
                found = artifacts({kind: _listing(http, base, kind, paper.arxiv_id) for kind in KINDS})
            except Stop as stop:
                problem = note_problem(NAME, paper, str(stop), before)
                PaperExtras.objects.update_or_create(paper=paper, defaults={"hf_artifacts_problem": problem})
                report.problems += 1
                report.wait, report.stopped_by = stop.wait, problem
                break
            except Refused as refused:
                problem = note_problem(NAME, paper, str(refused), before)
                PaperExtras.objects.update_or_create(
                    paper=paper, defaults={"hf_artifacts_checked_at": now, "hf_artifacts_problem": problem}
                )
                report.problems += 1
                continue
            PaperExtras.objects.update_or_create(
                paper=paper,
                defaults={"hf_artifacts": found, "hf_artifacts_checked_at": now, "hf_artifacts_problem": ""},
            )
            report.checked += 1
            report.changed += int(extras is None or extras.hf_artifacts != found)
    finally:
        http.close()
    return report
