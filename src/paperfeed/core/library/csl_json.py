"""A CSL JSON library (Zotero's "CSL JSON" export, Better CSL JSON) read into records, element by element."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from paperfeed.core.library.records import (
    EntryProblem,
    LibraryError,
    LibraryRecord,
    ParsedLibrary,
    arxiv_id_in,
    check_count,
    make_record,
)


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
        check_count(number)
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
    return make_record(
        number,
        key,
        _csl_text(item, "title"),
        _csl_text(item, "abstract"),
        [_csl_name(a) for a in authors],
        _csl_year(item),
        _csl_text(item, "DOI"),
        arxiv_id,
    )
