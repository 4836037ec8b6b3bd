"""A RIS library (.ris) read into records, one TY … ER block at a time so that a broken block loses only itself."""

from __future__ import annotations

import re
from collections.abc import Iterator

from paperfeed.core.latex import latex_to_unicode
from paperfeed.core.library.records import (
    EntryProblem,
    LibraryRecord,
    ParsedLibrary,
    arxiv_id_in,
    check_count,
    make_record,
)

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
        check_count(number)
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
    authors = [ris_name(str(a)) for a in (entry.get("authors") or entry.get("first_authors") or [])]
    notes = entry.get("notes") or []
    arxiv_id = arxiv_id_in(*[str(u) for u in urls], one("doi"), one("number"), one("secondary_title"), *map(str, notes))
    return make_record(
        number,
        one("id"),
        one("title", "primary_title", "translated_title"),
        one("abstract", "notes_abstract"),
        authors,
        one("year", "publication_year", "date"),
        one("doi"),
        arxiv_id,
    )


def ris_name(name: str) -> str:
    """A RIS name, written "Last, First, Suffix", as "First Last Suffix": "King, Martin Luther, Jr." is
    "Martin Luther King Jr."; a name without a comma is kept as written."""
    last, *rest = (part.strip() for part in latex_to_unicode(name).split(","))
    return " ".join(part for part in (" ".join(rest[:1]), last, " ".join(rest[1:])) if part)
