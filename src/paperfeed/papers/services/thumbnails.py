"""Thumbnails of recent papers, made by background work: Hugging Face's thumbnail when its list gave one, else the
first page of the arXiv PDF (PAPERFEED_THUMBNAILS says which, or none). Files live in the data directory's
thumbnails folder, named after their content; PaperExtras records the name, or why there is none.

What goes wrong stays cheap and quiet. A paper whose PDF is encrypted, broken, larger than 50 MB or not a PDF gets
its reason recorded and logged once, and is not tried again; one whose file could not be fetched (a 404, a 500) is
tried again a day later. A host that cannot be reached, or asks to slow down (429, 503), ends the pass without
blaming any paper, is logged once, and the periodic passes of this process rest for a while (a laptop offline).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from paperfeed.core import thumbnails as making
from paperfeed.core.addresses import DEFAULT_SOURCE
from paperfeed.papers.models import DailyEntry, Paper, PaperExtras
from paperfeed.papers.services.ingest.http import user_agent

log = logging.getLogger(__name__)

RECENT_DAYS = 14  # papers listed this many days back get thumbnails, the latest lists first
BATCH = 10  # papers per pass: a pass of PDFs paced at arXiv's 3 s takes half a minute
FETCH_RETRY = timedelta(days=1)
FETCH_PROBLEM = "could not fetch"  # how a problem worth another try starts
REST_AFTER_OUTAGE = 15 * 60.0  # seconds the periodic passes of this process rest after a host could not be reached
HF_THUMBNAIL_HOST = "cdn-thumbnails.huggingface.co"  # where the links of Hugging Face's list point
CHUNK = 64 * 1024

_rest_until = 0.0
_last_outage: str | None = None


class Outage(Exception):
    """A host that cannot be reached or asks to slow down: no paper's fault, so no paper's problem."""


@dataclass
class PassReport:
    made: list[tuple[str, str]] = field(default_factory=list)  # (paper address, origin)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (paper address, reason)
    outage: str | None = None
    left: bool = False  # papers wait for another pass

    def __str__(self) -> str:
        parts = []
        if self.made:
            parts.append(f"made {len(self.made)} thumbnail{'s' if len(self.made) != 1 else ''}")
        if self.refused:
            parts.append(f"{len(self.refused)} paper{'s' if len(self.refused) != 1 else ''} without one")
        if self.outage:
            parts.append(f"stopped: {self.outage}")
        if self.left and not self.outage:
            parts.append("more in the next pass")
        return "; ".join(parts) or "nothing to do"


def folder() -> Path:
    """The data directory's thumbnails folder (read at call time: tests point DATA_DIR elsewhere)."""
    return Path(settings.DATA_DIR) / "thumbnails"


def resting() -> bool:
    """Whether this process's periodic passes rest after an outage."""
    return time.monotonic() < _rest_until


def candidates(mode: str, today: date, now: datetime) -> QuerySet[Paper]:
    """Visible papers of the last RECENT_DAYS days' lists that have no thumbnail and are due a try, the most
    recently listed first; each with `listed_on`, `hf_url` and `tried_at`."""
    if mode == "off":
        return Paper.objects.none()
    latest = DailyEntry.objects.filter(paper_id=OuterRef("pk"), day__gte=today - timedelta(days=RECENT_DAYS))
    has_hf = Q(extras__hf_thumbnail_url__gt="")
    usable = has_hf if mode == "huggingface" else has_hf | Q(source=DEFAULT_SOURCE)
    due = Q(extras__thumbnail_tried_at__isnull=True) | Q(
        extras__thumbnail_problem__startswith=FETCH_PROBLEM, extras__thumbnail_tried_at__lt=now - FETCH_RETRY
    )
    return (
        Paper.objects.visible()
        .annotate(
            listed_on=Subquery(latest.order_by("-day").values("day")[:1]),
            hf_url=F("extras__hf_thumbnail_url"),
            tried_at=F("extras__thumbnail_tried_at"),
            problem=F("extras__thumbnail_problem"),
        )
        .filter(Q(listed_on__isnull=False), Q(extras__isnull=True) | Q(extras__thumbnail=""), usable, due)
        .order_by("-listed_on", "-id")
    )


def has_work() -> bool:
    """Whether a pass would find anything to do (one cheap query: the queue is not asked for nothing)."""
    now = timezone.now()
    return candidates(settings.PAPERFEED_THUMBNAILS, timezone.localdate(now), now).exists()


def thumbnail_pass(limit: int = BATCH) -> PassReport:
    """Make the thumbnails of up to `limit` papers; stops at the first outage."""
    global _rest_until, _last_outage
    mode = settings.PAPERFEED_THUMBNAILS
    now = timezone.now()
    papers = list(candidates(mode, timezone.localdate(now), now)[: limit + 1])
    report = PassReport(left=len(papers) > limit)
    with _Fetcher() as fetcher:
        for paper in papers[:limit]:
            try:
                _one(paper, mode, fetcher, report)
            except Outage as outage:
                report.outage = str(outage)
                report.left = True
                _rest_until = time.monotonic() + REST_AFTER_OUTAGE
                if report.outage != _last_outage:
                    log.warning("thumbnails: %s; trying again later", outage)
                _last_outage = report.outage
                break
            _last_outage = None
    return report


def _one(paper: Paper, mode: str, fetcher: _Fetcher, report: PassReport) -> None:
    # Marked as tried before anything is fetched or drawn: should PDFium take the worker down with it, the task's
    # next run goes on with the next paper rather than meeting this one again.
    PaperExtras.objects.update_or_create(paper=paper, defaults={"thumbnail_tried_at": timezone.now()})
    try:
        thumbnail = _make(paper, mode, fetcher)
    except Outage:
        PaperExtras.objects.filter(paper=paper).update(thumbnail_tried_at=paper.tried_at)
        raise
    except making.ThumbnailError as error:
        reason = str(error)[:300]
        PaperExtras.objects.filter(paper=paper).update(thumbnail_problem=reason)
        if reason != (paper.problem or ""):
            log.warning("no thumbnail for %s: %s", paper.address, reason)
        report.refused.append((paper.address, reason))
        return
    _write(thumbnail)
    PaperExtras.objects.filter(paper=paper).update(
        thumbnail=thumbnail.file_name, thumbnail_origin=thumbnail.origin, thumbnail_problem=""
    )
    report.made.append((paper.address, thumbnail.origin))


def _make(paper: Paper, mode: str, fetcher: _Fetcher) -> making.Thumbnail:
    """Hugging Face's thumbnail when there is one; else, or when it fails and PDFs are allowed, the PDF's page."""
    hf_problem = None
    if paper.hf_url:
        try:
            return _from_hugging_face(paper.hf_url, fetcher)
        except making.ThumbnailError as error:
            hf_problem = f"Hugging Face's thumbnail: {error}"
            if mode == "huggingface" or paper.source != DEFAULT_SOURCE:
                raise making.ThumbnailError(hf_problem) from None
    try:
        return _from_pdf(paper, fetcher)
    except making.ThumbnailError as error:
        if hf_problem is None:
            raise
        # A problem worth another try is named first, so that the paper is tried again.
        first, second = (str(error), hf_problem) if str(error).startswith(FETCH_PROBLEM) else (hf_problem, error)
        raise making.ThumbnailError(f"{first}; {second}") from None


def _from_hugging_face(link: str, fetcher: _Fetcher) -> making.Thumbnail:
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or parts.hostname != HF_THUMBNAIL_HOST:
        raise making.ThumbnailError(f"the link {link[:100]!r} is not on {HF_THUMBNAIL_HOST}")
    url = settings.PAPERFEED_HF_THUMBNAIL_URL + parts.path + (f"?{parts.query}" if parts.query else "")
    body, kind = fetcher.get(url, making.MAX_IMAGE_BYTES, "the image", pace=0.0)
    if not kind.startswith("image/"):
        raise making.ThumbnailError(f"the server sent {kind or 'no Content-Type'}, not an image")
    return making.from_image(body)


def _from_pdf(paper: Paper, fetcher: _Fetcher) -> making.Thumbnail:
    url = f"{settings.PAPERFEED_ARXIV_PDF_URL}/{paper.external_id}"
    body, kind = fetcher.get(url, making.MAX_PDF_BYTES, "the PDF", pace=settings.PAPERFEED_ARXIV_DELAY_SECONDS)
    if not making.looks_like_pdf(body):
        raise making.ThumbnailError(f"the file is not a PDF (the server sent {kind or 'no Content-Type'})")
    return making.from_pdf(body)


def _write(thumbnail: making.Thumbnail) -> None:
    """Written aside, then renamed into place: a reader never sees half a file (and the same content twice is one
    file)."""
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    target = where / thumbnail.file_name
    if target.exists():
        return
    aside = where / f".{thumbnail.file_name}.{os.getpid()}.tmp"
    with aside.open("wb") as out:
        out.write(thumbnail.webp)
        out.flush()
        os.fsync(out.fileno())
    os.replace(aside, target)


class _Fetcher:
    """GETs that stop reading past a size cap, paced per host; one attempt each (a failed paper waits a day)."""

    def __init__(self) -> None:
        self._http: httpx.Client | None = None
        self._last_start: dict[str, float] = {}

    def __enter__(self) -> _Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._http is not None:
            self._http.close()

    def get(self, url: str, cap: int, what: str, pace: float) -> tuple[bytes, str]:
        """The body and its Content-Type; ThumbnailError for this file's fault, Outage for the host's."""
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(settings.PAPERFEED_HTTP_TIMEOUT_SECONDS),
                headers={"User-Agent": user_agent(settings.PAPERFEED_CONTACT_EMAIL)},
                follow_redirects=True,
            )
        host = urlsplit(url).netloc
        wait = self._last_start.get(host, -pace) + pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_start[host] = time.monotonic()
        too_large = making.ThumbnailError(f"{what} is larger than {cap // (1024 * 1024)} MB")
        try:
            with self._http.stream("GET", url) as response:
                status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                if response.status_code in (429, 503):
                    raise Outage(f"{host} asks to slow down ({status})")
                if not response.is_success:
                    raise making.ThumbnailError(f"{FETCH_PROBLEM} {what}: {status} from {url[:200]}")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise too_large
                body = bytearray()
                for chunk in response.iter_bytes(CHUNK):
                    body += chunk
                    if len(body) > cap:
                        raise too_large
                return bytes(body), response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as error:
            raise Outage(f"could not reach {host} ({error.__class__.__name__}: {error})") from None
        except httpx.HTTPError as error:  # cut off, or too slow, half way through this file
            raise making.ThumbnailError(f"{FETCH_PROBLEM} {what}: {error.__class__.__name__}: {error}") from None
