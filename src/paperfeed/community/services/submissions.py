"""Submissions: a user puts a paper on today's list, fetched from the arXiv API first when the site lacks it.

A submission is all or nothing: the paper (when new) and its daily entry are written in one transaction, after
the arXiv answer is in hand, so a failed or slow arXiv leaves no trace. One paper is submitted once a day: the
unique (paper, day, source) constraint settles two people submitting it at the same moment.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from paperfeed.community.services import throttle
from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.arxiv_ids import ArxivId, parse_arxiv_id
from paperfeed.core.records import PaperRecord
from paperfeed.core.sources import SourceError
from paperfeed.papers.models import DailyEntry, Paper
from paperfeed.papers.services.ingest import IngestError, arxiv_client
from paperfeed.papers.services.ingest.arxiv_api import fetch_papers
from paperfeed.papers.services.ingest.http import FetchError
from paperfeed.papers.services.loading import LoadSummary, PaperLoader
from paperfeed.papers.signals import papers_loaded

logger = logging.getLogger(__name__)

DAILY_LIMIT = 10  # papers one user may submit in LIMIT_WINDOW
LOOKUP_LIMIT = 30  # arXiv look-ups one user may cause in LIMIT_WINDOW (typos and unknown ids included)
LIMIT_WINDOW = timedelta(hours=24)
# Someone is waiting for the page: one quick retry, not the patient schedule of a nightly harvest.
ARXIV_TIMEOUT_SECONDS = 10.0
ARXIV_RETRIES = 1
ARXIV_BACKOFF_SECONDS = 1.0
ARXIV_LOOKUPS = throttle.Limit("submit-arxiv-lookup", LOOKUP_LIMIT, LIMIT_WINDOW)

UNREACHABLE = "Could not reach arXiv just now; nothing was saved. Try again in a few minutes."
EXAMPLES = "2503.11731, hep-th/9901001 or https://arxiv.org/abs/2503.11731"
_ARXIV_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>[^?#]+)(?:[?#].*)?$", re.IGNORECASE
)


class SubmissionError(Exception):
    """A submission that was not taken; the message says why in the submitter's words, `status` is the HTTP one."""

    status = 400


class NotAnArxivId(SubmissionError):
    pass


class UnknownOnArxiv(SubmissionError):
    pass


class SubmissionRefused(SubmissionError):
    status = 403


class TooManySubmissions(SubmissionError):
    status = 429


class ArxivUnavailable(SubmissionError):
    status = 503


class AlreadySubmitted(SubmissionError):
    """The paper is already on that day's list as a submission; `entry` is the submission that got there first."""

    status = 409

    def __init__(self, entry: DailyEntry, by_you: bool) -> None:
        self.entry = entry
        self.by_you = by_you
        who = "you" if by_you else f"@{entry.submitter_name}"
        listed = "today's list" if entry.day == timezone.localdate() else f"the list of {_day(entry.day)}"
        super().__init__(f"{entry.paper.source_label} is already on {listed}, submitted by {who}.")


@dataclass(frozen=True)
class Submission:
    entry: DailyEntry
    fetched: bool  # the paper was new to this site and came from the arXiv API


def parse_submitted(text: str) -> ArxivId | None:
    """The arXiv id in what a user typed: an id (any style, with or without version) or an abs/pdf/html link."""
    text = text.strip()
    match = _ARXIV_URL.match(text)
    if match:
        text = match.group("rest").rstrip("/")
    return parse_arxiv_id(text)


def submissions_left(user: AbstractBaseUser, now: datetime | None = None) -> int:
    """How many more papers the user may submit before the rolling 24-hour limit stops them."""
    return max(DAILY_LIMIT - _recent_submissions(user, now or timezone.now()).count(), 0)


def submit_paper(user: AbstractBaseUser, text: str, today: date | None = None) -> Submission:
    """Put the paper named by `text` on today's list as the user's submission, fetching it from arXiv if needed.

    Raises a SubmissionError subclass, with nothing written, when the user may not submit, the text names no
    arXiv paper, the paper is already submitted for today, or arXiv cannot be asked.
    """
    problem = posting_problem(user)
    if problem:
        raise SubmissionRefused(problem)
    wanted = parse_submitted(text)
    if wanted is None:
        shown = text.strip()[:100] or "nothing"
        raise NotAnArxivId(f"“{shown}” is not an arXiv id or arXiv link. Write it like {EXAMPLES}.")
    now = timezone.now()
    _check_limit(user, now)
    today = today or timezone.localdate(now)
    paper = Paper.objects.filter(arxiv_id=wanted.id).first()
    records: list[PaperRecord] = []
    if paper is not None:
        if paper.hidden:
            raise SubmissionRefused(
                f"arXiv:{wanted.id} has been hidden by a moderator of this site; it cannot be listed."
            )
        _refuse_if_submitted(user, wanted.id, today)
    else:
        records = _fetch(user, wanted.id)
    for attempt in range(2):
        try:
            with transaction.atomic():
                if records:
                    PaperLoader().write(records, LoadSummary())
                paper = Paper.objects.get(arxiv_id=wanted.id)
                entry = DailyEntry.objects.create(
                    paper=paper,
                    day=today,
                    source=DailyEntry.Source.SUBMISSION,
                    submitted_by=user,
                    submitter_name=user.get_username(),
                    created_at=now,
                )
            if records:
                papers_loaded.send(sender=Paper)  # a worker embeds the new paper for search by meaning
            return Submission(entry, fetched=bool(records))
        except IntegrityError:
            # Someone else submitted it (or stored the paper) a moment ago: say who, or try once more.
            _refuse_if_submitted(user, wanted.id, today)
            if attempt:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _recent_submissions(user: AbstractBaseUser, now: datetime):
    return DailyEntry.objects.filter(
        source=DailyEntry.Source.SUBMISSION, submitted_by=user, created_at__gt=now - LIMIT_WINDOW
    )


def _check_limit(user: AbstractBaseUser, now: datetime) -> None:
    recent = _recent_submissions(user, now).order_by("created_at").values_list("created_at", flat=True)
    times = list(recent[:DAILY_LIMIT])
    if len(times) >= DAILY_LIMIT:
        again = timezone.localtime(times[0] + LIMIT_WINDOW)
        raise TooManySubmissions(
            f"You have submitted {DAILY_LIMIT} papers in the last 24 hours, the most this site takes. "
            f"You can submit again from {_day(again)}, {again:%H:%M} {again.tzname()}."
        )


def _refuse_if_submitted(user: AbstractBaseUser, arxiv_id: str, day: date) -> None:
    entry = (
        DailyEntry.objects.select_related("paper")
        .filter(paper__arxiv_id=arxiv_id, day=day, source=DailyEntry.Source.SUBMISSION)
        .first()
    )
    if entry is not None:
        raise AlreadySubmitted(entry, by_you=entry.submitted_by_id == user.pk)


def _fetch(user: AbstractBaseUser, arxiv_id: str) -> list[PaperRecord]:
    """arXiv's record of the paper; counted against the user's look-ups, since each one is a request to arXiv."""
    key = str(user.pk)
    if not ARXIV_LOOKUPS.allowed(key):
        raise TooManySubmissions(
            f"You have asked arXiv about {LOOKUP_LIMIT} papers in the last 24 hours, the most this site allows. "
            "Papers already on this site can still be submitted."
        )
    ARXIV_LOOKUPS.hit(key)
    client = arxiv_client()
    client.timeout = min(client.timeout, ARXIV_TIMEOUT_SECONDS)
    client.retries = min(client.retries, ARXIV_RETRIES)
    client.backoff = ARXIV_BACKOFF_SECONDS
    try:
        with client:
            fetched = fetch_papers(client, [arxiv_id])
    except (FetchError, SourceError, IngestError, httpx.HTTPError) as error:
        logger.warning("A submission of %s could not be looked up on arXiv: %s", arxiv_id, error)
        raise ArxivUnavailable(UNREACHABLE) from None
    records = [record for record in fetched.records if record.arxiv_id == arxiv_id]
    if records:
        return records
    if fetched.skipped:
        logger.warning("arXiv's record of %s was unreadable: %s", arxiv_id, fetched.skipped)
        raise ArxivUnavailable(f"arXiv's record of {arxiv_id} could not be read, so nothing was saved.")
    raise UnknownOnArxiv(f"arXiv has no paper {arxiv_id}. Check the number, or paste the link from its arXiv page.")
