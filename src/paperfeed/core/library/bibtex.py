"""A BibTeX library (.bib) read into records: bibtexparser 2.x reads the entries and splits the names."""

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

# The name splitter reads ~ as a tie (a space) even after a backslash, so Pe\~na would come apart; the tilde accent
# stands in as a character of no meaning to it while names are split.
_TILDE_ACCENT = "\ue000"


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


def bibtex_names(value: str) -> list[str]:
    """The people of a BibTeX name list, each as "First von Last Jr" in plain text.

    The functions behind bibtexparser's name middleware (SeparateCoAuthors, SplitNameParts) split as BibTeX does:
    on "and" outside braces, so "{Research and Development Team}" stays one name, then each name in any of BibTeX's
    three forms ("First von Last", "von Last, First", "von Last, Jr, First"). Called with strict=False rather than
    as middleware, a name with an unmatched brace is read as best it can instead of losing its entry; "and others"
    (et al.) is not a person."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

    names = []
    for name in split_multiple_persons_names(value.replace("\\~", _TILDE_ACCENT)):
        if name.strip().lower() == "others":
            continue
        parts = parse_single_name_into_parts(name, strict=False)
        text = latex_to_unicode(parts.merge_first_name_first.replace(_TILDE_ACCENT, "\\~"))
        if text:
            names.append(text)
    return names


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
    return make_record(
        number,
        key,
        fields.get("title", ""),
        fields.get("abstract", ""),
        bibtex_names(fields.get("author", "")),
        fields.get("year") or fields.get("date", ""),
        fields.get("doi", ""),
        arxiv_id,
    )
