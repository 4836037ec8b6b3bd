"""A BibTeX library (.bib) read into records: bibtexparser 2.x reads the entries."""

from __future__ import annotations

import logging
import re

from paperfeed.core.latex import latex_to_unicode
from paperfeed.core.library.records import (
    EntryProblem,
    LibraryRecord,
    ParsedLibrary,
    arxiv_id_in,
    check_count,
    make_record,
)


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
            check_count(number)
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


def bibtex_name(name: str) -> str:
    """'Lovelace, Ada' → 'Ada Lovelace'; 'von Neumann, Jr., John' → 'John von Neumann Jr.'."""
    parts = [p.strip() for p in latex_to_unicode(name).split(",")]
    if len(parts) == 2:
        return f"{parts[1]} {parts[0]}".strip()
    if len(parts) == 3:
        return f"{parts[2]} {parts[0]} {parts[1]}".strip()
    return " ".join(parts)


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
    authors = [bibtex_name(a) for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip()]
    return make_record(
        number,
        key,
        fields.get("title", ""),
        fields.get("abstract", ""),
        authors,
        fields.get("year") or fields.get("date", ""),
        fields.get("doi", ""),
        arxiv_id,
    )
