"""Hugging Face's daily papers list: the JSON body of `GET https://huggingface.co/api/daily_papers`.

Two recorded shapes are read: the 2024 one (paper, publishedAt, numComments, submittedBy) and the 2026 one,
which adds paper.submittedOnDailyAt, projectPage, githubRepo, githubStars, ai_summary, ai_keywords and
ai_summary_model and an organization on the paper and the entry. Both have the entry's `thumbnail`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import orjson

from paperfeed.core.links import LinkError, check_link
from paperfeed.core.records import PaperRecord, RecordError, clean_text, make_record
from paperfeed.core.sources import SourceError

_EXPECTED = "expected a JSON list of daily papers"
MAX_SUMMARY = 2000  # characters; Hugging Face's are one or two sentences
MAX_KEYWORD = 100
MAX_KEYWORDS = 20
_TITLE = re.compile(rb"<title[^>]*>([^<]{0,200})", re.IGNORECASE)


@dataclass(frozen=True)
class HfOrganization:
    name: str  # the handle, e.g. "google"
    fullname: str | None
    avatar: str | None  # an http(s) URL


@dataclass(frozen=True)
class HfDailyPaper:
    record: PaperRecord  # listed_on is `day`; HF gives no categories
    day: date  # the day it is on HF's daily list
    upvotes: int  # HF's own votes, kept apart from local ones
    num_comments: int
    organization: HfOrganization | None
    project_page: str | None
    github_repo: str | None
    submitted_by: str | None  # the submitter's display name
    github_stars: int | None = None
    summary: str | None = None  # Hugging Face's AI summary (ai_summary)
    keywords: tuple[str, ...] = ()  # ai_keywords
    summary_model: str | None = None  # ai_summary_model: the model that wrote them
    thumbnail: str | None = None  # an image URL


@dataclass(frozen=True)
class HfDailyList:
    papers: list[HfDailyPaper]
    skipped: list[tuple[str, str]]  # (arXiv id or "entry N", reason)


def parse_daily_papers(body: bytes) -> HfDailyList:
    """The papers of a daily_papers response; entries that cannot be read go to `skipped`."""
    entries = _load_list(body)
    papers: list[HfDailyPaper] = []
    skipped: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        try:
            papers.append(_paper(entry))
        except RecordError as error:
            skipped.append((_identifier(entry, index), str(error)))
    return HfDailyList(papers=papers, skipped=skipped)


def _load_list(body: bytes) -> list:
    head = body.lstrip()[:1]
    if not head:
        raise SourceError(f"{_EXPECTED} but the body is empty")
    if head == b"<":
        if body.lstrip()[:5].lower() == b"<?xml" and b"<html" not in body[:4096].lower():
            raise SourceError(f"{_EXPECTED} but got an XML document")
        title = _TITLE.search(body[:4096])
        named = f" titled {clean_text(title.group(1).decode('utf-8', 'replace'))!r}" if title else ""
        raise SourceError(f"{_EXPECTED} but got an HTML page{named}")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise SourceError(f"{_EXPECTED} but the body is not valid JSON ({error})") from None
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        keys = ", ".join(str(key) for key in list(value)[:8]) or "none"
        message = value.get("error")
        detail = f": {clean_text(message)[:200]!r}" if isinstance(message, str) else ""
        raise SourceError(f"{_EXPECTED} but got a JSON object with keys {keys}{detail}")
    kind = "null" if value is None else type(value).__name__
    raise SourceError(f"{_EXPECTED} but got a JSON {kind}")


def _identifier(entry: object, index: int) -> str:
    paper = entry.get("paper") if isinstance(entry, dict) else None
    paper_id = paper.get("id") if isinstance(paper, dict) else None
    if isinstance(paper_id, str) and paper_id.strip():
        return clean_text(paper_id)[:40]
    return f"entry {index}"


def _paper(entry: object) -> HfDailyPaper:
    if not isinstance(entry, dict):
        raise RecordError(f"expected a JSON object, got {type(entry).__name__}")
    paper = entry.get("paper")
    if not isinstance(paper, dict):
        raise RecordError("the entry has no `paper` object")
    paper_id = paper.get("id")
    if not isinstance(paper_id, str):
        raise RecordError("`paper.id` is missing")
    title = _string(paper, "title", "paper.") or _string(entry, "title")
    if title is None:
        raise RecordError("`paper.title` is missing")
    day = _date(paper, "submittedOnDailyAt", "paper.") or _date(entry, "publishedAt")
    if day is None:
        raise RecordError("neither `paper.submittedOnDailyAt` nor `publishedAt` gives the day")
    record = make_record(
        arxiv_id=paper_id,
        title=title,
        abstract=_string(paper, "summary", "paper.") or _string(entry, "summary") or "",
        authors=_authors(paper.get("authors")),
        published=_date(paper, "publishedAt", "paper."),
        listed_on=day,
    )
    return HfDailyPaper(
        record=record,
        day=day,
        upvotes=_count(paper.get("upvotes")),
        num_comments=_count(entry.get("numComments")),
        organization=_organization(entry.get("organization")) or _organization(paper.get("organization")),
        project_page=_url(paper.get("projectPage")),
        github_repo=_url(paper.get("githubRepo")),
        submitted_by=_person(entry.get("submittedBy")) or _person(paper.get("submittedOnDailyBy")),
        github_stars=_count(paper.get("githubStars")) if paper.get("githubStars") is not None else None,
        summary=_text(paper.get("ai_summary"), MAX_SUMMARY),
        keywords=_keywords(paper.get("ai_keywords")),
        summary_model=_text(paper.get("ai_summary_model"), 200),
        thumbnail=_url(entry.get("thumbnail")) or _url(paper.get("thumbnail")),
    )


def _string(obj: dict, key: str, prefix: str = "") -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"`{prefix}{key}` must be a string, not {type(value).__name__}")
    return value


def _date(obj: dict, key: str, prefix: str = "") -> date | None:
    value = _string(obj, key, prefix)
    if not value:
        return None
    try:
        # The UTC calendar day of an ISO timestamp such as 2024-10-25T00:57:09.392Z.
        return date.fromisoformat(value[:10])
    except ValueError:
        raise RecordError(f"`{prefix}{key}` {value[:40]!r} is not a date") from None


def _authors(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"`paper.authors` must be a list, not {type(value).__name__}")
    names = []
    for author in value:
        if isinstance(author, dict) and author.get("hidden") is not True and isinstance(author.get("name"), str):
            names.append(author["name"])
    return names


def _count(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


def _url(value: object) -> str | None:
    """The value when it is an absolute http(s) URL that is safe to render as a link, else None."""
    if not isinstance(value, str):
        return None
    try:
        return check_link(value)
    except LinkError:
        return None


def _text(value: object, most: int) -> str | None:
    """A short text as plain text (markup is shown as written), or None when there is none or it is too long."""
    if not isinstance(value, str):
        return None
    value = clean_text(value)
    return value if value and len(value) <= most else None


def _keywords(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    words = (_text(word, MAX_KEYWORD) for word in value)
    return tuple(dict.fromkeys(word for word in words if word))[:MAX_KEYWORDS]


def _organization(value: object) -> HfOrganization | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    name = clean_text(value["name"])
    if not name:
        return None
    fullname = value.get("fullname")
    return HfOrganization(
        name=name,
        fullname=(clean_text(fullname) or None) if isinstance(fullname, str) else None,
        avatar=_url(value.get("avatar")),
    )


def _person(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in ("fullname", "name", "user"):
        name = value.get(key)
        if isinstance(name, str) and clean_text(name):
            return clean_text(name)
    return None
