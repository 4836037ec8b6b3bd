"""The sources papers come from, and how a paper's address names one of their papers.

Each source is a module of paperfeed.core.sources that defines `SOURCE`, a PaperSource: its name (the prefix of
its papers' addresses), how people write its ids, the links to a paper on the source's own site, where its ids
appear in text, and, when it has one, the parser of the files `paperfeed ingest NAME FILE` loads. A new source is
its module plus one line in SOURCE_MODULES (see docs/architecture.md, "A new paper source").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from paperfeed.core.addresses import DEFAULT_SOURCE, paper_address
from paperfeed.core.records import PaperRecord

# One line per source, arXiv first (its ids are tried first when an address has no prefix).
SOURCE_MODULES = ("paperfeed.core.sources.arxiv", "paperfeed.core.sources.biorxiv", "paperfeed.core.sources.medrxiv")


@dataclass(frozen=True)
class SourceFile:
    """What a source's file parser read: the records, and the entries it could not read (what, why)."""

    records: list[PaperRecord]
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PaperSource:
    name: str  # lower case, the prefix of addresses: "arxiv", "biorxiv"
    label: str  # as people write it: "arXiv", "bioRxiv"
    id_label: str  # what its ids are called: "arXiv id", "DOI"
    parse_id: Callable[[str], tuple[str, int | None] | None]  # (id, version) from an id or link as written
    page_url: Callable[[str, int | None], str]  # the paper on the source's own site (a version, if given)
    pdf_url: Callable[[str, int | None], str] | None = None
    ids_in: Callable[[str], Iterable[str]] = lambda text: ()  # ids written anywhere in a text, maybe too many
    parse_file: Callable[[bytes], SourceFile] | None = None  # for `paperfeed ingest NAME FILE`
    file_help: str = ""  # what such a file is, for the command's help


@dataclass(frozen=True)
class PaperAddress:
    source: str
    external_id: str
    version: int | None = None

    def __str__(self) -> str:
        return paper_address(self.source, self.external_id)

    @property
    def with_version(self) -> str:
        return f"{self}v{self.version}" if self.version else str(self)

    @property
    def label(self) -> str:
        """As people name it: `arXiv:2503.11731`, `bioRxiv:10.1101/…`."""
        return f"{sources()[self.source].label}:{self.external_id}"

    @property
    def page_url(self) -> str:
        """The paper on its source's site (the version asked for, if any)."""
        return sources()[self.source].page_url(self.external_id, self.version)


@cache
def sources() -> dict[str, PaperSource]:
    """The registered sources by name, in SOURCE_MODULES order (loaded on first use: a source's module imports
    this one)."""
    found: dict[str, PaperSource] = {}
    for module in SOURCE_MODULES:
        source = importlib.import_module(module).SOURCE
        if source.name in found or source.name != source.name.lower() or ":" in source.name:
            raise RuntimeError(f"{module}: a source's name must be new, lower case and without ':' ({source.name!r})")
        found[source.name] = source
    if DEFAULT_SOURCE not in found:
        raise RuntimeError(f"the {DEFAULT_SOURCE} source must be registered")
    return found


def source_named(name: str) -> PaperSource | None:
    return sources().get(name)


def parse_address(text: str) -> PaperAddress | None:
    """The paper an address or link names: `2503.11731v2`, `arXiv:2503.11731`, an arxiv.org link,
    `biorxiv:10.1101/…`, or an id or link any registered source recognizes; None when none does."""
    text = (text or "").strip()
    prefix, colon, rest = text.partition(":")
    named = sources().get(prefix.lower()) if colon else None
    candidates = [(named, rest)] if named is not None else [(source, text) for source in sources().values()]
    for source, written in candidates:
        found = source.parse_id(written)
        if found is not None:
            return PaperAddress(source.name, *found)
    return None


def addresses_in(text: str) -> set[tuple[str, str]]:
    """(source, id) of every paper id any source finds written in `text` (links, JSON, BibTeX); may include strings
    that only look like one (a caller looks them up)."""
    return {(source.name, found) for source in sources().values() for found in source.ids_in(text)}
