"""arXiv OAI-PMH ListRecords pages (metadataPrefix arXiv, arXivRaw, and oai_dc as a best effort)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.records import PaperRecord, RecordError, clean_text, make_record
from paperfeed.core.sources import SourceError
from paperfeed.core.sources.arxiv_xml import (
    arxiv_categories,
    child_text,
    find,
    find_all,
    iso_date,
    local_name,
    read_xml,
    require_category,
    rfc822_date,
    split_authors,
    text,
)

# --- OAI-PMH ListRecords ---


@dataclass(frozen=True)
class OaiError:
    code: str  # e.g. "noRecordsMatch", "badResumptionToken", "badArgument"
    message: str


@dataclass(frozen=True)
class OaiRecord:
    record: PaperRecord  # listed_on=None: the service decides daily entries
    datestamp: date | None
    sets: tuple[str, ...]  # header setSpec values, e.g. ("cs:cs:LG",)


@dataclass(frozen=True)
class OaiPage:
    records: list[OaiRecord]
    deleted: list[str]  # arXiv ids (no version) of records whose header has status="deleted"
    resumption_token: str | None  # None on the last page (element absent or empty)
    error: OaiError | None  # the OAI-PMH <error>, if any; records is then empty
    response_date: datetime | None
    skipped: list[tuple[str, str]]  # (OAI identifier or arXiv id, reason)


_OAI_PREFIX = re.compile(r"^oai:arxiv\.org:", re.IGNORECASE)
_VERSION = re.compile(r"v(\d{1,4})")


def parse_list_records(body: bytes) -> OaiPage:
    """One ListRecords page: papers, deletions, resumption token or OAI error; SourceError if unreadable."""
    root = read_xml(body, source="OAI-PMH", expected="OAI-PMH XML", roots=("OAI-PMH",))
    try:
        response_date = datetime.fromisoformat(child_text(root, "responseDate"))
    except ValueError:
        response_date = None
    error = find(root, "error")
    if error is not None:
        oai_error = OaiError(code=error.get("code", "").strip(), message=clean_text(text(error)))
        return OaiPage([], [], None, oai_error, response_date, [])
    listing = find(root, "ListRecords")
    if listing is None:
        request = find(root, "request")
        verb = request.get("verb", "") if request is not None else ""
        what = f" (verb {verb!r})" if verb else ""
        raise SourceError(f"expected a ListRecords page or an OAI-PMH error but got neither{what}")
    records: list[OaiRecord] = []
    deleted: list[str] = []
    skipped: list[tuple[str, str]] = []
    for element in find_all(listing, "record"):
        header = find(element, "header")
        identifier = child_text(header, "identifier")
        label = identifier or "(no identifier)"
        try:
            if header is None:
                raise RecordError("the record has no header")
            if header.get("status") == "deleted":
                parsed = parse_arxiv_id(_OAI_PREFIX.sub("", identifier))
                if parsed is None:
                    raise RecordError("a deleted record whose identifier is not an arXiv id")
                deleted.append(parsed.id)
                continue
            sets = tuple(s for s in (clean_text(text(e)) for e in find_all(header, "setSpec")) if s)
            record = _read_metadata(find(element, "metadata"), _OAI_PREFIX.sub("", identifier), sets)
            records.append(OaiRecord(record, iso_date(child_text(header, "datestamp")), sets))
        except ValueError as problem:  # RecordError, or a number or date in this record out of range
            skipped.append((label, str(problem)))
    token = child_text(listing, "resumptionToken") or None
    return OaiPage(records, deleted, token, None, response_date, skipped)


def _read_metadata(metadata: etree._Element | None, fallback_id: str, sets: tuple[str, ...]) -> PaperRecord:
    payload = next((child for child in metadata if local_name(child)), None) if metadata is not None else None
    if payload is None:
        raise RecordError("the record has no metadata")
    reader = _READERS.get(local_name(payload))
    if reader is None:
        raise RecordError(f"unknown metadata format <{local_name(payload)}>")
    return reader(payload, fallback_id, sets)


def _from_arxiv(meta: etree._Element, fallback_id: str, sets: tuple[str, ...]) -> PaperRecord:
    authors = [_full_name(author) for author in find_all(find(meta, "authors"), "author")]
    record = make_record(
        arxiv_id=child_text(meta, "id") or fallback_id,
        title=child_text(meta, "title"),
        abstract=child_text(meta, "abstract"),
        authors=authors,
        categories=arxiv_categories(child_text(meta, "categories").split()),
        published=iso_date(child_text(meta, "created")),
        updated=iso_date(child_text(meta, "updated")),
        comment=child_text(meta, "comments"),
        doi=child_text(meta, "doi"),
        journal_ref=child_text(meta, "journal-ref"),
    )
    return require_category(record)


def _full_name(author: etree._Element) -> str:
    parts = (child_text(author, "forenames"), child_text(author, "keyname"), child_text(author, "suffix"))
    return " ".join(part for part in parts if part)


def _from_arxiv_raw(meta: etree._Element, fallback_id: str, sets: tuple[str, ...]) -> PaperRecord:
    dates: dict[int, date | None] = {}
    for element in find_all(meta, "version"):
        match = _VERSION.fullmatch(element.get("version", "").strip())
        if match:
            dates[int(match.group(1))] = rfc822_date(child_text(element, "date"))
    latest = max(dates, default=None)
    record = make_record(
        arxiv_id=child_text(meta, "id") or fallback_id,
        title=child_text(meta, "title"),
        abstract=child_text(meta, "abstract"),
        authors=split_authors(child_text(meta, "authors")),
        categories=arxiv_categories(child_text(meta, "categories").split()),
        version=latest,
        published=dates[1 if 1 in dates else min(dates)] if dates else None,
        updated=dates[latest] if latest is not None else None,
        comment=child_text(meta, "comments"),
        doi=child_text(meta, "doi"),
        journal_ref=child_text(meta, "journal-ref"),
    )
    return require_category(record)


def _from_oai_dc(meta: etree._Element, fallback_id: str, sets: tuple[str, ...]) -> PaperRecord:
    # Best effort: Dublin Core has no category codes (the subjects are prose), so categories come from the
    # new-style setSpecs ("cs:cs:LG" is cs.LG, "physics:hep-th" is hep-th) and may be empty.
    links = [text(e).strip() for e in find_all(meta, "identifier")]
    arxiv_id = next((link for link in links if parse_arxiv_id(link)), fallback_id)
    descriptions = [text(e).strip() for e in find_all(meta, "description")]
    comment = next((d.removeprefix("Comment:").strip() for d in descriptions if d.startswith("Comment:")), None)
    abstract = next((d for d in descriptions if not d.startswith("Comment:")), "")
    dates = [d for d in (iso_date(text(e)) for e in find_all(meta, "date")) if d]
    return make_record(
        arxiv_id=arxiv_id,
        title=child_text(meta, "title"),
        abstract=abstract,
        authors=[_first_last(text(e)) for e in find_all(meta, "creator")],
        categories=arxiv_categories([_set_category(s) for s in sets]),
        published=dates[0] if dates else None,
        updated=dates[-1] if len(dates) > 1 else None,
        comment=comment,
    )


def _first_last(name: str) -> str:
    """A Dublin Core "Liepins, Vilnis" as "Vilnis Liepins" ("Smith, John, Jr." as "John Smith Jr.")."""
    parts = [part.strip() for part in name.split(",")]
    if len(parts) in (2, 3) and all(parts):
        return " ".join([parts[1], parts[0], *parts[2:]])
    return name


def _set_category(spec: str) -> str:
    parts = spec.split(":")
    if len(parts) == 3:
        return f"{parts[1]}.{parts[2]}"
    if len(parts) == 2 and parts[0] != parts[1]:
        return parts[1]
    return ""


_READERS = {"arXiv": _from_arxiv, "arXivRaw": _from_arxiv_raw, "dc": _from_oai_dc}
