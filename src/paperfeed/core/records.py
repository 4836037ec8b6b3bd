"""Paper records and the JSON Lines format of shared/data/arxiv-daily/papers.jsonl(.gz).

Parsers take bytes and give plain records or a RecordError saying, in the user's terms, what is wrong.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson

from paperfeed.core.addresses import DEFAULT_SOURCE, paper_address
from paperfeed.core.arxiv_ids import parse_arxiv_id

# C0 controls other than whitespace, and DEL: never wanted in titles or abstracts, and they would collide
# with the markers the search highlighter uses.
_CONTROL = dict.fromkeys([*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F])


class RecordError(ValueError):
    """A record that cannot be loaded; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class PaperRecord:
    arxiv_id: str
    version: int | None
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    primary_category: str
    published: date | None
    updated: date | None
    comment: str | None
    listed_on: date | None  # the day it appeared in arXiv's daily listing: its daily entry
    doi: str | None = None
    journal_ref: str | None = None
    source: str = DEFAULT_SOURCE  # where the paper comes from (core.sources.registry)
    external_id: str = ""  # its id there; an arXiv paper's is its arXiv id (`arxiv_id`), also when left empty

    @property
    def identity(self) -> tuple[str, str]:
        """(source, id there): what the paper is, whichever source told us of it."""
        return self.source, self.external_id or self.arxiv_id

    @property
    def address(self) -> str:
        """How URLs name it: its arXiv id, or `source:id` (core.addresses)."""
        return paper_address(*self.identity)


def clean_text(value: str) -> str:
    """Whitespace folded to single spaces, control characters dropped."""
    # Most text is clean already, and these C-speed checks are much cheaper than rebuilding every string.
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value
    return " ".join(value.translate(_CONTROL).split())


# Tags that leak into abstracts from feeds and HTML sources. Only these are removed: a bare `<` is common in
# LaTeX ($a<b$) and must survive.
_MARKUP = re.compile(
    r"</?(?:p|br|b|i|u|em|strong|span|div|a|sub|sup|tt|code|pre|ul|ol|li|font|h[1-6])(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)


def strip_markup(value: str) -> str:
    """Text with stray HTML tags (<p>, <br/>, <a href=…>, …) removed and their text kept."""
    if "<" not in value:
        return value
    return _MARKUP.sub(" ", value)


def make_record(
    *,
    arxiv_id: str = "",
    title: str,
    abstract: str,
    authors: list[str] | tuple[str, ...],
    categories: list[str] | tuple[str, ...] = (),
    primary_category: str | None = None,
    version: int | None = None,
    published: date | None = None,
    updated: date | None = None,
    comment: str | None = None,
    listed_on: date | None = None,
    doi: str | None = None,
    journal_ref: str | None = None,
    source: str = DEFAULT_SOURCE,
    external_id: str = "",
) -> PaperRecord:
    """A clean, checked PaperRecord from a source's fields; RecordError says what is wrong.

    An arXiv paper's id is its arXiv id, which may carry a version (2503.11731v2) that fills `version` when it is
    not given. A paper of another source has its `external_id` there (already as the source writes it), and an
    arXiv id only when it is on arXiv too. Text is cleaned (markup stripped from the abstract, whitespace folded,
    control characters dropped); empty optional strings become None; the primary category is put first.
    """
    parsed = parse_arxiv_id(arxiv_id or "") if arxiv_id or source == DEFAULT_SOURCE else None
    if parsed is None and (arxiv_id or source == DEFAULT_SOURCE):
        raise RecordError(f"{(arxiv_id or '')[:40]!r} is not an arXiv id (like 2503.11731 or hep-th/9901001)")
    external_id = clean_text(external_id or "") if source != DEFAULT_SOURCE else parsed.id
    if not external_id:
        raise RecordError(f"a {source} paper without its id there")
    title = clean_text(strip_markup(title or ""))
    if not title:
        raise RecordError(f"{paper_address(source, external_id)}: the title is empty")
    names = tuple(name for name in (clean_text(a) for a in authors) if name)
    cats = tuple(c for c in (clean_text(c) for c in categories) if c)
    primary = clean_text(primary_category or "") or (cats[0] if cats else "")
    if primary and primary not in cats:
        cats = (primary, *cats)
    if updated is not None and published is not None and updated <= published:
        updated = None
    return PaperRecord(
        arxiv_id=parsed.id if parsed is not None else "",
        version=version if version is not None or parsed is None else parsed.version,
        title=title,
        abstract=clean_text(strip_markup(abstract or "")),
        authors=names,
        categories=cats,
        primary_category=primary,
        published=published,
        updated=updated,
        comment=clean_text(comment or "") or None,
        listed_on=listed_on,
        doi=clean_text(doi or "") or None,
        journal_ref=clean_text(journal_ref or "") or None,
        source=source,
        external_id=external_id,
    )


def _field(obj: dict, key: str, required: bool):
    value = obj.get(key)
    if value is None and required:
        raise RecordError(f"`{key}` is missing")
    return value


def _text(obj: dict, key: str, required: bool = True, allow_empty: bool = False) -> str | None:
    value = _field(obj, key, required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"`{key}` must be a string, not {type(value).__name__}")
    value = clean_text(value)
    if not value and not allow_empty:
        if required:
            raise RecordError(f"`{key}` is empty")
        return None
    return value


def _names(obj: dict, key: str) -> tuple[str, ...]:
    value = _field(obj, key, required=True)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RecordError(f"`{key}` must be a list of strings")
    return tuple(name for name in map(clean_text, value) if name)


def _date(obj: dict, key: str) -> date | None:
    value = _field(obj, key, required=False)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"`{key}` must be a date string (YYYY-MM-DD), not {type(value).__name__}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise RecordError(f"`{key}` {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def record_from_dict(obj: object) -> PaperRecord:
    """A PaperRecord from one decoded papers.jsonl object, or RecordError."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    raw_id = _text(obj, "id")
    parsed = parse_arxiv_id(raw_id)
    if parsed is None:
        raise RecordError(f"`id` {raw_id[:40]!r} is not an arXiv id (like 2503.11731 or hep-th/9901001)")
    version = obj.get("version", parsed.version)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise RecordError(f"`version` must be a positive whole number, not {version!r}")
    categories = _names(obj, "categories")
    primary = _text(obj, "primary_category", required=not categories) or categories[0]
    if primary not in categories:
        categories = (primary, *categories)
    listed_on = _date(obj, "first_listed")
    published = _date(obj, "published") or listed_on
    updated = _date(obj, "updated") or _date(obj, "last_seen")
    if updated is not None and published is not None and updated <= published:
        updated = None
    return PaperRecord(
        arxiv_id=parsed.id,
        external_id=parsed.id,
        version=version,
        title=_text(obj, "title"),
        abstract=_text(obj, "abstract", allow_empty=True),
        authors=_names(obj, "authors"),
        categories=categories,
        primary_category=primary,
        published=published,
        updated=updated,
        comment=_text(obj, "comment", required=False),
        listed_on=listed_on,
    )


def parse_jsonl_line(line: bytes) -> PaperRecord:
    """One line of papers.jsonl as a PaperRecord, or RecordError."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise RecordError(f"not valid JSON: {error}") from None
    return record_from_dict(obj)


class LineReader:
    """The non-blank lines of a JSON Lines file, plain or gzip (known by its magic number, not its name).

    `position` and `size` are in bytes of the file on disk, for progress bars.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._raw = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        self.size = os.fstat(self._raw.fileno()).st_size
        if self._raw.read(2) == b"\x1f\x8b":
            self._raw.seek(0)
            self._stream: io.BufferedIOBase = io.BufferedReader(
                gzip.GzipFile(fileobj=self._raw, mode="rb"), buffer_size=1 << 20
            )
        else:
            self._raw.seek(0)
            self._stream = self._raw
        self.lineno = 0

    @property
    def position(self) -> int:
        return self._raw.tell()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """(line number, line); a damaged gzip stream raises RecordError for the line it broke in."""
        try:
            for line in self._stream:
                self.lineno += 1
                if line.strip():
                    yield self.lineno, line
        except (OSError, EOFError, zlib.error) as error:
            self.lineno += 1
            raise RecordError(f"the gzip data is damaged here ({error})") from None

    def close(self) -> None:
        self._stream.close()
        self._raw.close()

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
