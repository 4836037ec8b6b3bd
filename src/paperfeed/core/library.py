"""Reading a reference library someone exported — BibTeX, RIS or Zotero's CSL JSON — into plain records.

Pure Python (bibtexparser 2.x for BibTeX, rispy for RIS, json for CSL JSON): bytes in, records and problems out.
A broken entry does not stop the rest: each problem names its entry (1-based position, line, key) and the good
entries are kept. What makes the whole file unusable — too big, too many entries, not a library in any of the
three formats — raises LibraryError with a message for the person who uploaded it, and nothing is kept.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.latex import latex_to_unicode

MAX_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 5000
FORMATS = {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL JSON"}
EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csl-json", ".csljson": "csl-json"}
MAX_TITLE_CHARS = 1000
MAX_ABSTRACT_CHARS = 10_000
MAX_AUTHORS = 100


class LibraryError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do. Nothing was kept."""


@dataclass(frozen=True)
class LibraryRecord:
    """One reference of the library, cleaned: plain-text title and abstract, a bare DOI and arXiv id."""

    entry: int  # 1-based position among the file's entries
    key: str  # the BibTeX key, RIS ID or CSL id; "" when it has none
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    doi: str = ""  # lower case, without a https://doi.org/ prefix
    arxiv_id: str = ""  # without version


@dataclass(frozen=True)
class EntryProblem:
    """An entry that could not be read, and why."""

    entry: int
    message: str
    line: int | None = None
    key: str = ""

    def describe(self) -> str:
        """'entry 3 (line 12, smith2020): no closing brace …' — as reports and the command print it."""
        where = ", ".join(part for part in (f"line {self.line}" if self.line else "", self.key) if part)
        return f"entry {self.entry}{f' ({where})' if where else ''}: {self.message}"


@dataclass
class ParsedLibrary:
    format: str  # a key of FORMATS
    records: list[LibraryRecord] = field(default_factory=list)
    problems: list[EntryProblem] = field(default_factory=list)

    @property
    def entries(self) -> int:
        """How many entries the file holds, readable or not."""
        return len(self.records) + len(self.problems)

    @property
    def format_name(self) -> str:
        return FORMATS[self.format]


# --- text clean-up ---

_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


_FORMATTING = re.compile(
    r"\\(?:math[a-z]*|text[a-z]*|boldsymbol|bm|operatorname|emph|left|right|big+|Big+|displaystyle|scriptstyle)\b"
)
_NAMED = re.compile(r"\\([A-Za-z]+)")


def normalise_title(title: str) -> str:
    """A title as compared across sources: LaTeX and accents stripped, case folded, no punctuation, single spaces.

    In math, formatting commands go and other commands keep their name: "$\\mathcal{O}(n \\log n)$" reads
    "o n log n", as a reference manager that dropped the markup would write it."""
    text = latex_to_unicode(title)
    text = _NAMED.sub(r" \1 ", _FORMATTING.sub(" ", text)).replace("$", " ")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _PUNCTUATION.sub(" ", text.casefold())
    return _SPACES.sub(" ", text).strip()


_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.I)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)
_ARXIV_IN_TEXT = re.compile(
    r"arxiv(?:\.org/(?:abs|pdf)/|[\s:./]*(?:e-?print)?[\s:./]*)"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)",
    re.I,
)


def normalise_doi(value: str) -> str:
    """The bare DOI in lower case ('10.1000/xyz'), from a DOI, a doi: reference or a doi.org link; '' if none."""
    match = _DOI.search(value.strip())
    if not match:
        return ""
    return match.group(1).rstrip(".,;)]}").lower()


def arxiv_id_in(*values: str) -> str:
    """The first arXiv id (without version) found in these values: bare ids, arXiv: references, arxiv.org links,
    or arXiv's own DOIs (10.48550/arXiv.2301.00001); '' if none."""
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        parsed = parse_arxiv_id(value)
        if parsed is None:
            doi = _ARXIV_DOI.match(normalise_doi(value) or "")
            if doi:
                parsed = parse_arxiv_id(doi.group(1))
        if parsed is None:
            match = _ARXIV_IN_TEXT.search(value)
            if match:
                parsed = parse_arxiv_id(match.group(1))
        if parsed is not None:
            return parsed.id
    return ""


def _year(value: object) -> int | None:
    match = re.search(r"\b(1[5-9]\d\d|2\d\d\d)\b", str(value or ""))
    return int(match.group(1)) if match else None


def _bibtex_name(name: str) -> str:
    """'Lovelace, Ada' → 'Ada Lovelace'; 'von Neumann, Jr., John' → 'John von Neumann Jr.'."""
    parts = [p.strip() for p in latex_to_unicode(name).split(",")]
    if len(parts) == 2:
        return f"{parts[1]} {parts[0]}".strip()
    if len(parts) == 3:
        return f"{parts[2]} {parts[0]} {parts[1]}".strip()
    return " ".join(parts)


def _record(
    entry: int, key: str, title: str, abstract: str, authors: list[str], year, doi: str, arxiv_id: str
) -> LibraryRecord:
    """A record from cleaned values, or ValueError when it has nothing to match or embed."""
    title = latex_to_unicode(title)[:MAX_TITLE_CHARS]
    abstract = latex_to_unicode(abstract)[:MAX_ABSTRACT_CHARS]
    doi = normalise_doi(doi)
    arxiv_match = _ARXIV_DOI.match(doi)
    if arxiv_match and not arxiv_id:
        arxiv_id = arxiv_id_in(arxiv_match.group(1))
    if not (title or doi or arxiv_id):
        raise ValueError("it has no title, DOI or arXiv id")
    names = tuple(n for n in (" ".join(a.split()) for a in authors[:MAX_AUTHORS]) if n)
    return LibraryRecord(entry, key[:200], title, abstract, names, _year(year), doi[:200], arxiv_id)


# --- BibTeX ---


def parse_bibtex(text: str) -> ParsedLibrary:
    """Entries of a BibTeX file (@string abbreviations resolved; @comment and @preamble ignored)."""
    import bibtexparser
    from bibtexparser import model

    # bibtexparser also logs each broken block as a warning; the problems below say it once, by entry.
    splitter_log = logging.getLogger("bibtexparser.splitter")
    level = splitter_log.level
    splitter_log.setLevel(logging.ERROR)
    try:
        library = bibtexparser.parse_string(text)
    finally:
        splitter_log.setLevel(level)
    parsed = ParsedLibrary("bibtex")
    number = 0
    for block in library.blocks:
        if isinstance(block, model.Entry):
            number += 1
            _check_count(number)
            fields = {f.key.lower(): str(f.value) for f in block.fields}
            try:
                parsed.records.append(_bibtex_record(number, block.key, fields))
            except ValueError as error:
                parsed.problems.append(EntryProblem(number, str(error), block.start_line + 1, block.key))
        elif isinstance(block, model.DuplicateBlockKeyBlock):
            number += 1
            parsed.problems.append(
                EntryProblem(number, f"the key {block.key} is used twice; this entry was skipped", block.start_line + 1)
            )
        elif isinstance(block, model.ParsingFailedBlock):
            raw = block.raw.lstrip()
            if not raw.startswith("@") or re.match(r"@(comment|preamble|string)\b", raw, re.I):
                continue  # stray text between entries is a comment in BibTeX
            number += 1
            key = re.match(r"@\w+\s*[{(]\s*([^,\s]*)", raw)
            parsed.problems.append(
                EntryProblem(number, _bibtex_error(block), block.start_line + 1, key.group(1) if key else "")
            )
    return parsed


def _bibtex_error(block) -> str:
    reason = getattr(block.error, "abort_reason", "") or str(block.error)
    reason = " ".join(reason.split()).rstrip(".")
    # bibtexparser's words for the usual case: a value left open until the next entry began.
    if "Was still looking for field-value closing" in reason:
        reason = 'a value is not closed: a } or " is missing before the next entry starts'
    return f"it is not valid BibTeX ({reason})" if reason else "it is not valid BibTeX"


def _bibtex_record(number: int, key: str, fields: dict[str, str]) -> LibraryRecord:
    archive = fields.get("archiveprefix", "") or fields.get("eprinttype", "")
    eprint = fields.get("eprint", "")
    arxiv_id = arxiv_id_in(
        fields.get("arxivid", ""),
        eprint if archive.lower() == "arxiv" or re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", eprint) else "",
        fields.get("url", ""),
        fields.get("journal", ""),
        fields.get("note", ""),
        fields.get("howpublished", ""),
        fields.get("doi", ""),
    )
    authors = [_bibtex_name(a) for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip()]
    return _record(
        number,
        key,
        fields.get("title", ""),
        fields.get("abstract", ""),
        authors,
        fields.get("year") or fields.get("date", ""),
        fields.get("doi", ""),
        arxiv_id,
    )


# --- RIS ---

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -( |$)")


def _ris_entries(text: str) -> Iterator[tuple[int, str]]:
    """(first line, text) of each TY … ER block; lines outside a block are skipped."""
    lines = text.splitlines()
    start, block = None, []
    for number, line in enumerate(lines, 1):
        tag = _RIS_TAG.match(line)
        if tag and tag.group(1) == "TY":
            if start is not None:
                yield start, "\n".join(block)  # a TY without the previous ER: the previous one ends here
            start, block = number, [line]
        elif start is not None:
            block.append(line)
            if tag and tag.group(1) == "ER":
                yield start, "\n".join(block)
                start, block = None, []
    if start is not None:
        yield start, "\n".join(block)


def parse_ris(text: str) -> ParsedLibrary:
    """Entries of a RIS file, each read on its own so that one broken entry does not lose the others."""
    import rispy

    parsed = ParsedLibrary("ris")
    for number, (line, block) in enumerate(_ris_entries(text), 1):
        _check_count(number)
        if not re.search(r"^ER  -", block, re.M):
            parsed.problems.append(EntryProblem(number, "it has no end (an ER  - line)", line))
            continue
        bad = next((row for row in block.splitlines()[1:] if row.strip() and not _RIS_TAG.match(row)), None)
        if bad is not None:
            shown = bad.strip()[:60]
            parsed.problems.append(
                EntryProblem(
                    number, f"“{shown}” is not a RIS line (TAG  - value)", line + block.splitlines().index(bad)
                )
            )
            continue
        try:
            entries = rispy.loads(block, skip_unknown_tags=True)
            if len(entries) != 1:
                raise ValueError("it is not one RIS entry")
            parsed.records.append(_ris_record(number, entries[0]))
        except ValueError as error:
            parsed.problems.append(EntryProblem(number, str(error), line))
        except Exception as error:  # noqa: BLE001 - rispy raises bare KeyErrors and the like on odd input
            parsed.problems.append(EntryProblem(number, f"it is not valid RIS ({type(error).__name__})", line))
    return parsed


def _ris_record(number: int, entry: dict) -> LibraryRecord:
    def one(*names: str) -> str:
        for name in names:
            value = entry.get(name)
            if isinstance(value, list):
                value = value[0] if value else ""
            if value:
                return str(value)
        return ""

    urls = entry.get("urls") or []
    authors = [_bibtex_name(str(a)) for a in (entry.get("authors") or entry.get("first_authors") or [])]
    notes = entry.get("notes") or []
    arxiv_id = arxiv_id_in(*[str(u) for u in urls], one("doi"), one("number"), one("secondary_title"), *map(str, notes))
    return _record(
        number,
        one("id"),
        one("title", "primary_title", "translated_title"),
        one("abstract", "notes_abstract"),
        authors,
        one("year", "publication_year", "date"),
        one("doi"),
        arxiv_id,
    )


# --- CSL JSON ---


def _json_items(text: str) -> Iterator[tuple[int, object | json.JSONDecodeError]]:
    """(line, item or the error that item gave) for each element of a top-level JSON array.

    A broken element is reported and reading resumes at the next element that starts a line, as Zotero and
    Better BibTeX write one object per block; a file that is not an array at all raises LibraryError."""
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    if not text.startswith("[", position):
        if text.startswith("{", position):
            try:
                single = json.loads(text)
            except json.JSONDecodeError as error:
                raise LibraryError(f"the file is not valid JSON (line {error.lineno}: {error.msg})") from None
            items = single.get("items") if isinstance(single, dict) else None
            if isinstance(items, list):  # {"items": [...]}, as some exporters wrap it
                for item in items:
                    yield 0, item
                return
            yield 1, single
            return
        raise LibraryError("the file is not CSL JSON: it should be a list of references, [ {…}, {…} ]")
    position += 1
    read = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            if read:
                message = "the file ends before the list is closed with ]: it may have been cut short"
                yield text.count("\n") + 1, json.JSONDecodeError(message, text, position)
                return
            raise LibraryError("the JSON list is not closed (no ] at the end): the file may have been cut short")
        if text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            yield line, error
            resume = re.compile(r"\n[ \t]*\{").search(text, max(error.pos, position + 1))
            if resume is None:
                return
            position = resume.start() + 1
            continue
        read += 1
        yield line, item


def parse_csl_json(text: str) -> ParsedLibrary:
    """Entries of a CSL JSON file (Zotero's "CSL JSON" export, Better CSL JSON)."""
    parsed = ParsedLibrary("csl-json")
    for number, (line, item) in enumerate(_json_items(text), 1):
        _check_count(number)
        key = str(item.get("id", ""))[:200] if isinstance(item, dict) else ""
        if isinstance(item, json.JSONDecodeError):
            parsed.problems.append(EntryProblem(number, f"it is not valid JSON ({item.msg})", item.lineno))
            continue
        if not isinstance(item, dict):
            parsed.problems.append(EntryProblem(number, "it is not a reference (a JSON object {…})", line or None))
            continue
        try:
            parsed.records.append(_csl_record(number, key, item))
        except (ValueError, TypeError, AttributeError) as error:
            message = str(error) if isinstance(error, ValueError) else "a field has an unexpected shape"
            parsed.problems.append(EntryProblem(number, message, line or None, key))
    return parsed


def _csl_text(item: dict, name: str) -> str:
    value = item.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str | int | float):
        raise ValueError(f"its {name} is not text")
    return str(value)


def _csl_name(person: object) -> str:
    if isinstance(person, str):
        return person
    if not isinstance(person, dict):
        return ""
    if person.get("literal"):
        return str(person["literal"])
    parts = [person.get("given"), person.get("non-dropping-particle"), person.get("family"), person.get("suffix")]
    return " ".join(str(p) for p in parts if p)


def _csl_year(item: dict) -> object:
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            return parts[0][0]
        return issued.get("raw") or issued.get("literal")
    return issued


def _csl_record(number: int, key: str, item: dict) -> LibraryRecord:
    authors = item.get("author") or []
    if not isinstance(authors, list):
        raise ValueError("its author field is not a list of people")
    arxiv_id = arxiv_id_in(
        _csl_text(item, "arxiv"),
        _csl_text(item, "number")
        if "arxiv" in (_csl_text(item, "archive") + _csl_text(item, "publisher")).lower()
        else "",
        _csl_text(item, "URL"),
        _csl_text(item, "DOI"),
        _csl_text(item, "container-title"),
        _csl_text(item, "note"),
        _csl_text(item, "number"),
    )
    return _record(
        number,
        key,
        _csl_text(item, "title"),
        _csl_text(item, "abstract"),
        [_csl_name(a) for a in authors],
        _csl_year(item),
        _csl_text(item, "DOI"),
        arxiv_id,
    )


# --- the file ---


def _check_count(number: int) -> None:
    if number > MAX_ENTRIES:
        raise LibraryError(
            f"the file has more than {MAX_ENTRIES:,} entries, the most one import takes; "
            "export a smaller part of your library (a collection or folder) and import it in parts"
        )


def detect_format(data: bytes, filename: str = "") -> str:
    """The format by the file's extension, else by its first characters; LibraryError when neither tells."""
    name = filename.lower()
    for extension, format_ in EXTENSIONS.items():
        if name.endswith(extension):
            return format_
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"[", b"{")):
        return "csl-json"
    if re.match(rb"TY  - ", head):
        return "ris"
    if re.search(rb"^\s*@\w+\s*[{(]", head, re.M):
        return "bibtex"
    raise LibraryError(
        "this is not a library file paperfeed can read: export your library as BibTeX (.bib), RIS (.ris) "
        "or CSL JSON (.json)"
    )


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), else Latin-1 as older exports use."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if b"\x00" in data:
            raise LibraryError("this is a binary file, not a library export (BibTeX, RIS or CSL JSON)") from None
        return data.decode("latin-1")


def parse_library(data: bytes, filename: str = "") -> ParsedLibrary:
    """Records and per-entry problems of a library file; LibraryError when the file as a whole cannot be read."""
    if len(data) > MAX_BYTES:
        raise LibraryError(
            f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. "
            "Export without attachments or notes, or import your library in parts"
        )
    if not data.strip():
        raise LibraryError("the file is empty")
    format_ = detect_format(data, filename)
    text = decode(data)
    if "\x00" in text:
        raise LibraryError("this is a binary file, not a library export (BibTeX, RIS or CSL JSON)")
    parser = {"bibtex": parse_bibtex, "ris": parse_ris, "csl-json": parse_csl_json}[format_]
    parsed = parser(text)
    if parsed.entries == 0:
        raise LibraryError(f"no {FORMATS[format_]} entries were found in the file")
    return parsed
