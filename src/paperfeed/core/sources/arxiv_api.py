"""The arXiv API's Atom feed (export.arxiv.org/api/query): search results and look-ups by id.

The API reports a bad request with HTTP 200 and a single entry whose id is …/api/errors#…; an unknown id gives
a feed without entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from paperfeed.core.records import PaperRecord, clean_text, make_record
from paperfeed.core.sources import SourceError
from paperfeed.core.sources.arxiv_xml import (
    arxiv_categories,
    child_text,
    find,
    find_all,
    iso_date,
    read_xml,
    require_category,
)


@dataclass(frozen=True)
class ApiFeed:
    records: list[PaperRecord]  # listed_on=None
    total_results: int | None  # opensearch:totalResults
    skipped: list[tuple[str, str]]


def parse_api_feed(body: bytes) -> ApiFeed:
    """The papers in one API response; SourceError if it cannot be read or is the API's error report."""
    root = read_xml(body, source="arXiv API", expected="arXiv API Atom XML", roots=("feed",))
    entries = find_all(root, "entry")
    errors = [entry for entry in entries if "/api/errors" in child_text(entry, "id")]
    if errors and len(errors) == len(entries):
        message = clean_text(child_text(errors[0], "summary") or child_text(errors[0], "title"))
        raise SourceError(f"the arXiv API reported an error: {message or 'no message given'}")
    records: list[PaperRecord] = []
    skipped: list[tuple[str, str]] = []
    for entry in entries:
        label = child_text(entry, "id") or child_text(entry, "title") or "(no id)"
        if entry in errors:
            skipped.append((label, f"an API error entry: {clean_text(child_text(entry, 'summary'))}"))
            continue
        try:
            records.append(_record(entry))
        except ValueError as problem:  # RecordError, or a number in this entry out of range
            skipped.append((label, str(problem)))
    return ApiFeed(records, _total(child_text(root, "totalResults")), skipped)


def _record(entry: etree._Element) -> PaperRecord:
    primary = find(entry, "primary_category")
    primary_term = primary.get("term", "") if primary is not None else ""
    record = make_record(
        arxiv_id=child_text(entry, "id"),
        title=child_text(entry, "title"),
        abstract=child_text(entry, "summary"),
        authors=[child_text(author, "name") for author in find_all(entry, "author")],
        categories=arxiv_categories([e.get("term", "") for e in find_all(entry, "category")]),
        primary_category=primary_term if arxiv_categories([primary_term]) else None,
        published=iso_date(child_text(entry, "published")),
        updated=iso_date(child_text(entry, "updated")),
        comment=child_text(entry, "comment"),
        doi=child_text(entry, "doi"),
        journal_ref=child_text(entry, "journal_ref"),
    )
    return require_category(record)


def _total(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None
