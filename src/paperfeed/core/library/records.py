"""What every library format reads into: records, per-entry problems, the file's limits, and the clean-up of values.

Titles and abstracts become plain text through the one LaTeX converter (paperfeed.core.latex); DOIs and arXiv ids
are found wherever an exporter put them, so that entries match papers whatever the format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.latex import latex_to_unicode

MAX_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 5000
FORMATS = {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL JSON"}
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


# --- values ---

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


def make_record(
    entry: int, key: str, title: str, abstract: str, authors: list[str], year, doi: str, arxiv_id: str
) -> LibraryRecord:
    """A record of an entry's values, title and abstract as plain text; ValueError when it has nothing to match or
    embed."""
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


def check_count(number: int) -> None:
    """LibraryError once a file has more entries than one import takes."""
    if number > MAX_ENTRIES:
        raise LibraryError(
            f"the file has more than {MAX_ENTRIES:,} entries, the most one import takes; "
            "export a smaller part of your library (a collection or folder) and import it in parts"
        )
