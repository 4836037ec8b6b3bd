"""GitHub stars of the papers' code repositories, through GitHub's REST API (`GET /repos/{owner}/{repo}`).

Polite by GitHub's rules (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api):
one request at a time, a pause between two, conditional requests (If-None-Match with the stored ETag: a 304 costs
nothing against the rate limit and changes nothing but the time of the check), and a pass that stops as soon as
X-RateLimit-Remaining reaches 0 or GitHub asks to wait (Retry-After, or X-RateLimit-Reset), saying how long.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from paperfeed.core.github import NotARepository, repo_of, same_repo, stars_in
from paperfeed.papers.models import Paper, PaperExtras
from paperfeed.papers.services.refresh.remote import (
    DEFAULT_WAIT,
    Answer,
    PacedClient,
    PassReport,
    Unreachable,
    due,
    note_problem,
    wait_asked,
)

NAME = "GitHub stars"
BATCH = 20  # papers a pass, without a token: GitHub allows 60 requests an hour
BATCH_WITH_TOKEN = 200  # with one, 5,000 an hour


def client(pause: float = 1.0) -> PacedClient:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if settings.PAPERFEED_GITHUB_TOKEN:
        headers["Authorization"] = f"Bearer {settings.PAPERFEED_GITHUB_TOKEN}"
    return PacedClient(headers, pause, settings.PAPERFEED_HTTP_TIMEOUT_SECONDS, settings.PAPERFEED_CONTACT_EMAIL)


def due_papers(now: datetime):
    """Papers with a GitHub code link that are due for a check (remote.due)."""
    with_code = Paper.objects.filter(code_url__icontains="github.com/")
    return due(with_code, "github_checked_at", now, settings.PAPERFEED_REFRESH_HOURS, settings.PAPERFEED_REFRESH_DAYS)


def _rate_limit_wait(answer: Answer, now: float) -> float | None:
    """How long GitHub asks us to wait, if it does: Retry-After, else the reset time of a spent rate limit."""
    asked = wait_asked(answer.headers)
    if asked is not None:
        return asked
    if answer.headers.get("X-RateLimit-Remaining") == "0":
        try:
            return max(float(answer.headers.get("X-RateLimit-Reset", "")) - now, 1.0)
        except ValueError:
            return DEFAULT_WAIT
    return None


def _is_rate_limited(answer: Answer) -> bool:
    """403 and 429 are how GitHub says "too many requests" (the primary or a secondary rate limit); a 403 that
    says nothing of a limit is a refusal of this repository."""
    if answer.status == 429:
        return True
    if answer.status != 403:
        return False
    return (
        answer.headers.get("X-RateLimit-Remaining") == "0"
        or "Retry-After" in answer.headers
        or b"rate limit" in answer.body.lower()
    )


def _save(paper: Paper, **fields) -> None:
    """One statement per paper: a row is created with everything known, or updated, never half-written."""
    PaperExtras.objects.update_or_create(paper=paper, defaults=fields)


def refresh(batch: int | None = None, pause: float = 1.0, now: datetime | None = None) -> PassReport:
    """Ask GitHub for the stars of up to `batch` due papers' repositories, stalest first."""
    now = now or timezone.now()
    batch = batch or (BATCH_WITH_TOKEN if settings.PAPERFEED_GITHUB_TOKEN else BATCH)
    papers = list(due_papers(now).select_related("extras")[:batch])
    report = PassReport(NAME, due=len(papers))
    base = settings.PAPERFEED_GITHUB_API_URL.rstrip("/")
    http = client(pause)
    try:
        for paper in papers:
            extras = getattr(paper, "extras", None)
            before = extras.github_problem if extras else ""
            repo = repo_of(paper.code_url)
            if repo is None:
                problem = note_problem(NAME, paper, "the code link is not a GitHub repository's address", before)
                _save(paper, github_checked_at=now, github_problem=problem)
                report.problems += 1
                continue
            known = extras is not None and same_repo(extras.github_repo, repo)
            conditional = {"If-None-Match": extras.github_etag} if known and extras.github_etag else {}
            try:
                answer = http.get(f"{base}/repos/{repo}", headers=conditional)
            except Unreachable as error:
                problem = note_problem(NAME, paper, f"GitHub: {error}", before)
                _save(paper, github_problem=problem)  # not marked checked: first in line next time
                report.problems += 1
                report.wait, report.stopped_by = DEFAULT_WAIT, f"GitHub did not answer ({error})"
                break
            if _is_rate_limited(answer):
                report.wait = _rate_limit_wait(answer, time.time()) or DEFAULT_WAIT
                report.stopped_by = f"GitHub's rate limit (HTTP {answer.status})"
                break
            if answer.status >= 500:
                problem = note_problem(NAME, paper, f"GitHub answered HTTP {answer.status}", before)
                _save(paper, github_problem=problem)
                report.problems += 1
                report.wait, report.stopped_by = wait_asked(answer.headers) or DEFAULT_WAIT, problem
                break
            if answer.status == 304 and conditional:
                _save(paper, github_checked_at=now, github_problem="")
                report.checked += 1
            elif answer.status == 200:
                try:
                    stars = stars_in(answer.body)
                except NotARepository as error:
                    problem = note_problem(NAME, paper, f"GitHub's answer for {repo} is {error}", before)
                    _save(paper, github_checked_at=now, github_problem=problem)
                    report.problems += 1
                else:
                    changed = extras is None or extras.github_stars != stars or not known
                    _save(
                        paper,
                        github_stars=stars,
                        github_repo=repo,
                        github_etag=answer.headers.get("ETag", "")[:200],
                        github_checked_at=now,
                        github_problem="",
                    )
                    report.checked += 1
                    report.changed += int(changed)
            else:
                if answer.status == 404:
                    reason = f"GitHub has no public repository {repo} (HTTP 404)"
                else:
                    reason = f"GitHub answered HTTP {answer.status} for {repo}"
                problem = note_problem(NAME, paper, reason, before)
                _save(paper, github_checked_at=now, github_problem=problem)
                report.problems += 1
            if answer.headers.get("X-RateLimit-Remaining") == "0":
                report.wait = _rate_limit_wait(answer, time.time())
                report.stopped_by = "GitHub's rate limit is spent"
                break
    finally:
        http.close()
    return report
