"""bioRxiv and medRxiv, one family of paper sources: Cold Spring Harbor's two preprint servers share their DOIs
(10.1101/2024.01.01.575001; a DOI is unique across both), their page layout and their API
(https://api.biorxiv.org/details/{server}/2024-01-01/2024-01-31/0). This module reads that API's `details` JSON
and defines bioRxiv's SOURCE; medrxiv.py defines medRxiv's from the same parts. `paperfeed ingest biorxiv FILE`
loads a saved page; `paperfeed ingest biorxiv` harvests the API itself (papers.services.ingest.biorxiv_api).

A page is `{"messages": [{"status": "ok", "cursor": 0, "count": 100, "total": "1234", …}], "collection": [entry,
…]}`, one entry per version of a preprint: `doi`, `title`, `authors` ("Lovelace, A.; Turing, A. M."), `date` (the
version's, YYYY-MM-DD), `version`, `type`, `license`, `category` (the server's subject, such as "neuroscience" or
"Epidemiology", kept in lower case as the paper's category), `abstract`, `published` (the journal DOI, or "NA") and
`server`. A version 1 is a new preprint: it goes on the daily list of its date; a later version updates it. An
entry that cannot be read, or that belongs to the other server, is skipped with the reason; the others are loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

import orjson

from paperfeed.core.records import PaperRecord, RecordError, make_record
from paperfeed.core.sources import SourceError
from paperfeed.core.sources.registry import PaperSource, SourceFile

# The family's DOIs: 10.1101/ and a six-digit number (before December 2019) or the posting date and a number.
_DOI = r"10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,8}"
_ID = re.compile(rf"(?P<doi>{_DOI})(?:v(?P<version>\d+))?(?:\.full(?:\.pdf|-text)?|\.abstract)?/?", re.ASCII)
_IN_TEXT = re.compile(rf"\b{_DOI}", re.ASCII)
_EXPECTED = "expected the JSON of api.biorxiv.org/details (an object with `messages` and `collection`)"
EMPTY_STATUS = "no posts found"  # what the API says of an interval or cursor without preprints
PAGE_SIZE = 100  # entries the API gives per page; the next page is at cursor + 100


@dataclass(frozen=True)
class Server:
    """One of the family's servers: its name in the API and in addresses, how people write it, its web site."""

    name: str  # "biorxiv": the API's `server`, the source's name and the address prefix
    label: str  # "bioRxiv"
    host: str  # "www.biorxiv.org"

    def link_prefix(self) -> re.Pattern:
        site = re.escape(self.host.removeprefix("www."))
        return re.compile(
            rf"^(?:doi:|https?://(?:dx\.)?doi\.org/|https?://(?:www\.)?{site}/content/(?:early/[\d/]+/)?)"
        )


BIORXIV = Server("biorxiv", "bioRxiv", "www.biorxiv.org")
MEDRXIV = Server("medrxiv", "medRxiv", "www.medrxiv.org")


@dataclass(frozen=True)
class DetailsPage:
    """One page of the `details` endpoint as read: the preprints of one server (one record each, versions
    merged), the entries skipped (what, why), and the page's place in the interval from `messages[0]`."""

    records: list[PaperRecord]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    status: str = "ok"
    cursor: int | None = None  # where this page starts among the interval's entries, when the API said
    count: int = 0  # entries on this page (of both servers, readable or not)
    total: int | None = None  # entries in the whole interval, when the API said

    @property
    def is_empty(self) -> bool:
        return self.count <= 0 or self.status.lower() == EMPTY_STATUS

    def next_cursor(self, cursor: int) -> int | None:
        """Where the page after this one (asked for at `cursor`) starts; None when this one is the last."""
        if self.is_empty:
            return None
        following = cursor + self.count
        if self.total is None:  # the API did not say how many: a full page may have a next one
            return following if self.count >= PAGE_SIZE else None
        return following if following < self.total else None


def _versioned(doi: str, version: int | None) -> str:
    return f"{doi}v{version}" if version else doi


def id_parser(server: Server):
    """parse_id for one server: (DOI, version) from a DOI, `doi:` DOI, doi.org link or a link to that server."""
    prefix = server.link_prefix()

    def parse_id(text: str) -> tuple[str, int | None] | None:
        match = _ID.fullmatch(prefix.sub("", text.strip(), count=1))
        if match is None:
            return None
        return match["doi"], int(match["version"]) if match["version"] else None

    return parse_id


parse_id = id_parser(BIORXIV)


def _author(name: str) -> str:
    """'Lovelace, A.' → 'A. Lovelace', as names are written on the site; other forms are kept."""
    last, comma, first = name.partition(",")
    return f"{first.strip()} {last.strip()}" if comma and first.strip() else name.strip()


def _entry(entry: object, server: Server) -> PaperRecord:
    if not isinstance(entry, dict):
        raise RecordError(f"expected a JSON object, got {type(entry).__name__}")
    written = str(entry.get("server") or server.name).lower()
    if written != server.name:
        raise RecordError(f"a {written} preprint, not a {server.label} one")
    if not str(entry.get("doi") or "").strip():
        raise RecordError("the entry has no `doi`")
    found = _ID.fullmatch(str(entry["doi"]).strip())
    if found is None:
        raise RecordError(
            f"`doi` {str(entry['doi'])[:60]!r} is not a {server.label} DOI (like 10.1101/2024.01.01.575001)"
        )
    doi = found["doi"]
    try:
        version = int(str(entry.get("version") or "1"))
        posted = date.fromisoformat(str(entry.get("date") or "")[:10])
    except ValueError:
        raise RecordError(f"{doi}: `version` must be a number and `date` a day (YYYY-MM-DD)") from None
    authors = entry.get("authors")
    if not isinstance(authors, str):
        raise RecordError(f"{doi}: `authors` must be a string of names separated by semicolons")
    category = " ".join(str(entry.get("category") or "").split()).lower()
    first = version == 1
    return make_record(
        source=server.name,
        external_id=doi,
        title=str(entry.get("title") or ""),
        abstract=str(entry.get("abstract") or ""),
        authors=[_author(name) for name in authors.split(";") if name.strip()],
        categories=[category] if category else [],
        version=version,
        published=posted if first else None,
        updated=None if first else posted,
        listed_on=posted if first else None,
        doi=doi,
        comment=str(entry.get("type") or "").strip() or None,
    )


def _number(value: object) -> int | None:
    """The API writes its counts as numbers or as strings of digits; None when it wrote neither."""
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _not_json(body: bytes, error: Exception) -> SourceError:
    text = body.lstrip()[:200].decode("utf-8", "replace")
    if text.startswith("<"):
        title = re.search(r"<title[^>]*>([^<]{1,100})", text, re.I)
        shown = f" ({title[1].strip()!r})" if title else ""
        return SourceError(f"{_EXPECTED}, but got an HTML page{shown}, not JSON")
    return SourceError(f"{_EXPECTED}, but it is not JSON ({error})")


def read_details(body: bytes, server: Server = BIORXIV) -> DetailsPage:
    """One page of the `details` endpoint: `server`'s preprints and where the page sits in its interval.
    SourceError when the page is not such JSON at all (nothing of it can be trusted)."""
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise _not_json(body, error) from None
    if not isinstance(page, dict) or not isinstance(page.get("collection", []), list):
        raise SourceError(f"{_EXPECTED}, but got {type(page).__name__} without a `collection` list")
    messages = page.get("messages")
    message = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
    entries = page.get("collection", [])
    latest: dict[str, PaperRecord] = {}
    skipped = []
    for number, entry in enumerate(entries, start=1):
        try:
            record = _entry(entry, server)
        except RecordError as error:
            doi = entry.get("doi") if isinstance(entry, dict) else None
            skipped.append((str(doi)[:80] if doi else f"entry {number}", str(error)))
            continue
        latest[record.external_id] = _together(latest.get(record.external_id), record)
    count = _number(message.get("count"))
    return DetailsPage(
        list(latest.values()),
        skipped,
        status=" ".join(str(message.get("status") or "ok").split())[:200],
        cursor=_number(message.get("cursor")),
        count=len(entries) if count is None else count,
        total=_number(message.get("total")),
    )


def details_parser(server: Server):
    """parse_file for one server: the preprints of a saved page of the `details` endpoint."""

    def parse_details(body: bytes) -> SourceFile:
        page = read_details(body, server)
        return SourceFile(page.records, page.skipped)

    return parse_details


parse_details = details_parser(BIORXIV)


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


def source_for(server: Server) -> PaperSource:
    """The registry entry of one of the family's servers."""
    return PaperSource(
        name=server.name,
        label=server.label,
        id_label="DOI",
        parse_id=id_parser(server),
        page_url=lambda doi, version=None: f"https://{server.host}/content/{_versioned(doi, version)}",
        pdf_url=lambda doi, version=None: f"https://{server.host}/content/{_versioned(doi, version)}.full.pdf",
        ids_in=lambda text: (match.group(0) for match in _IN_TEXT.finditer(text)),
        parse_file=details_parser(server),
        file_help=f"a page of api.biorxiv.org/details/{server.name}/… saved as JSON ({server.label} preprints); "
        "without FILE, harvest the API",
    )


SOURCE = source_for(BIORXIV)
