"""bioRxiv as a paper source: its DOIs (10.1101/2024.01.01.575001), links to biorxiv.org, and the JSON of the
bioRxiv API's `details` endpoint (https://api.biorxiv.org/details/biorxiv/2024-01-01/2024-01-31/0), which
`paperfeed ingest biorxiv FILE` loads: save each page of an interval (100 papers; the next one at cursor+100) and
ingest it.

A page is `{"messages": [{"status": "ok", …}], "collection": [entry, …]}`, one entry per version of a preprint:
`doi`, `title`, `authors` ("Lovelace, A.; Turing, A. M."), `date` (the version's, YYYY-MM-DD), `version`, `type`,
`license`, `category` (a bioRxiv subject such as "neuroscience"), `abstract`, `published` (the journal DOI, or
"NA") and `server`. A version 1 is a new preprint: it goes on the daily list of its date; a later version updates
it. An entry that cannot be read is skipped with the reason, the others are loaded.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import orjson

from paperfeed.core.records import PaperRecord, RecordError, make_record
from paperfeed.core.sources import SourceError
from paperfeed.core.sources.registry import PaperSource, SourceFile

# bioRxiv's DOIs: 10.1101/ and a six-digit number (before December 2019) or the posting date and a number.
_DOI = r"10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,8}"
_ID = re.compile(rf"(?P<doi>{_DOI})(?:v(?P<version>\d+))?(?:\.full(?:\.pdf|-text)?|\.abstract)?/?", re.ASCII)
_LINK = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/|https?://(?:www\.)?biorxiv\.org/content/(?:early/[\d/]+/)?)")
_IN_TEXT = re.compile(rf"\b{_DOI}", re.ASCII)
_EXPECTED = "expected the JSON of api.biorxiv.org/details (an object with `messages` and `collection`)"


def parse_id(text: str) -> tuple[str, int | None] | None:
    """(DOI, version) from a DOI, `doi:` DOI, doi.org or biorxiv.org link; None when it is none of them."""
    match = _ID.fullmatch(_LINK.sub("", text.strip(), count=1))
    if match is None:
        return None
    return match["doi"], int(match["version"]) if match["version"] else None


def _versioned(doi: str, version: int | None) -> str:
    return f"{doi}v{version}" if version else doi


def _author(name: str) -> str:
    """'Lovelace, A.' → 'A. Lovelace', as names are written on the site; other forms are kept."""
    last, comma, first = name.partition(",")
    return f"{first.strip()} {last.strip()}" if comma and first.strip() else name.strip()


def _entry(entry: object) -> PaperRecord:
    if not isinstance(entry, dict):
        raise RecordError(f"expected a JSON object, got {type(entry).__name__}")
    server = str(entry.get("server") or "biorxiv").lower()
    if server != "biorxiv":
        raise RecordError(f"a {server} preprint, not a bioRxiv one")
    found = parse_id(str(entry.get("doi") or ""))
    if found is None:
        raise RecordError(f"`doi` {str(entry.get('doi'))[:60]!r} is not a bioRxiv DOI (like 10.1101/2024.01.01.575001)")
    try:
        version = int(str(entry.get("version") or "1"))
        posted = date.fromisoformat(str(entry.get("date") or "")[:10])
    except ValueError:
        raise RecordError(f"{found[0]}: `version` must be a number and `date` a day (YYYY-MM-DD)") from None
    authors = entry.get("authors")
    if not isinstance(authors, str):
        raise RecordError(f"{found[0]}: `authors` must be a string of names separated by semicolons")
    category = str(entry.get("category") or "").strip().lower()
    first = version == 1
    return make_record(
        source="biorxiv",
        external_id=found[0],
        title=str(entry.get("title") or ""),
        abstract=str(entry.get("abstract") or ""),
        authors=[_author(name) for name in authors.split(";") if name.strip()],
        categories=[category] if category else [],
        version=version,
        published=posted if first else None,
        updated=None if first else posted,
        listed_on=posted if first else None,
        doi=found[0],
        comment=str(entry.get("type") or "").strip() or None,
    )


def parse_details(body: bytes) -> SourceFile:
    """The preprints of one page of the `details` endpoint; entries that cannot be read go to `skipped`."""
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise SourceError(f"{_EXPECTED}, but it is not JSON ({error})") from None
    if not isinstance(page, dict) or not isinstance(page.get("collection", []), list):
        raise SourceError(f"{_EXPECTED}, but got {type(page).__name__} without a `collection` list")
    latest: dict[str, PaperRecord] = {}
    skipped = []
    for number, entry in enumerate(page.get("collection", []), start=1):
        try:
            record = _entry(entry)
        except RecordError as error:
            doi = entry.get("doi") if isinstance(entry, dict) else None
            skipped.append((str(doi)[:80] if doi else f"entry {number}", str(error)))
            continue
        latest[record.external_id] = _together(latest.get(record.external_id), record)
    return SourceFile(list(latest.values()), skipped)


def _together(known: PaperRecord | None, record: PaperRecord) -> PaperRecord:
    """Two versions of one preprint on a page as one record: the latest version's text, the first one's day."""
    if known is None:
        return record
    older, newer = sorted((known, record), key=lambda r: r.version or 0)
    return replace(
        newer,
        published=older.published or newer.published,
        listed_on=older.listed_on or newer.listed_on,
        updated=newer.updated or newer.published if newer.version != older.version else newer.updated,
    )


SOURCE = PaperSource(
    name="biorxiv",
    label="bioRxiv",
    id_label="DOI",
    parse_id=parse_id,
    page_url=lambda doi, version=None: f"https://www.biorxiv.org/content/{_versioned(doi, version)}",
    pdf_url=lambda doi, version=None: f"https://www.biorxiv.org/content/{_versioned(doi, version)}.full.pdf",
    ids_in=lambda text: (match.group(0) for match in _IN_TEXT.finditer(text)),
    parse_file=parse_details,
    file_help="a page of api.biorxiv.org/details/biorxiv/… as JSON (bioRxiv preprints)",
)
