"""arXiv's metadata snapshot: one line of arxiv-metadata-oai-snapshot.json (JSON Lines, the Kaggle dataset).

This feeds a bulk loader of millions of lines, so the per-line path keeps to orjson and string methods;
the LaTeX conversion (paperfeed.core.latex) runs only on names that hold a backslash or a brace.
"""

from __future__ import annotations

from datetime import date

import orjson

from paperfeed.core.latex import latex_to_unicode
from paperfeed.core.records import PaperRecord, RecordError, clean_text, make_record

_MONTHS = {
    name: number for number, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)
}

_PARSED_SHAPE = "`authors_parsed` must be a list of [keyname, forenames, suffix] lists"


def parse_snapshot_line(line: bytes) -> PaperRecord:
    """One line of the arXiv metadata snapshot as a PaperRecord, or RecordError."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise RecordError(f"not valid JSON: {error}") from None
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    arxiv_id = _text(obj, "id", required=True)
    title = _text(obj, "title", required=True)
    abstract = _text(obj, "abstract", required=True)
    version, published, last_created = _versions(obj.get("versions"))
    update_date = _update_date(_text(obj, "update_date"))
    categories = _text(obj, "categories")
    return make_record(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=_authors(obj),
        categories=categories.split() if categories else (),
        version=version,
        published=published,
        updated=last_created or update_date,
        comment=_text(obj, "comments"),
        doi=_text(obj, "doi"),
        journal_ref=_text(obj, "journal-ref"),
    )


def _text(obj: dict, key: str, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise RecordError(f"`{key}` is missing")
        return None
    if not isinstance(value, str):
        raise RecordError(f"`{key}` must be a string, not {type(value).__name__}")
    return value


def _update_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecordError(f"`update_date` {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _versions(versions: object) -> tuple[int, date, date | None]:
    """The highest version number, the date of the first version and of the highest one (if given)."""
    if versions is None:
        raise RecordError("`versions` is missing")
    if not isinstance(versions, list) or not versions:
        raise RecordError('`versions` must be a non-empty list like [{"version": "v1", "created": "…"}]')
    first = last = None
    first_number = last_number = 0
    for item in versions:
        label = item.get("version") if isinstance(item, dict) else None
        if not isinstance(label, str) or label[:1] != "v" or not label[1:].isdigit() or not label.isascii():
            raise RecordError(f"`versions` has an entry without a version like v1: {str(item)[:60]}")
        number = int(label[1:])
        if number < 1:
            raise RecordError(f"`versions` has version {label!r}; versions start at v1")
        if first is None or number < first_number:
            first, first_number = item, number
        if last is None or number > last_number:
            last, last_number = item, number
    published = _created(first, required=True)
    return last_number, published, _created(last) if last is not first else published


def _created(version: dict, required: bool = False) -> date | None:
    value = version.get("created")
    if value is None and not required:
        return None
    label = version["version"]
    if not isinstance(value, str):
        raise RecordError(f"`versions` {label}: `created` must be a date like 'Mon, 2 Apr 2007 19:18:42 GMT'")
    # RFC 2822 as arXiv writes it, "Mon, 2 Apr 2007 19:18:42 GMT": the weekday is optional.
    parts = value.split()
    if parts and parts[0].endswith(","):
        del parts[0]
    try:
        return date(int(parts[2]), _MONTHS[parts[1]], int(parts[0]))
    except (IndexError, KeyError, ValueError, OverflowError):
        raise RecordError(
            f"`versions` {label}: `created` {value[:40]!r} is not a date like 'Mon, 2 Apr 2007 19:18:42 GMT'"
        ) from None


def _authors(obj: dict) -> list[str]:
    parsed = obj.get("authors_parsed")
    if parsed is None:
        return _split_authors(_text(obj, "authors"))
    if type(parsed) is not list:
        raise RecordError(_PARSED_SHAPE)
    names = []
    for parts in parsed:
        # The hot loop of the bulk load: exact type checks and f-strings are the cheap way to build names.
        if type(parts) is list and len(parts) == 3:
            keyname, forenames, suffix = parts
        elif type(parts) is list and 0 < len(parts) < 3:
            keyname, forenames, suffix = (*parts, "", "")[:3]
        else:
            keyname = None
        if type(keyname) is not str or type(forenames) is not str or type(suffix) is not str:
            raise RecordError(f"{_PARSED_SHAPE}, not {str(parts)[:60]}")
        name = f"{forenames} {keyname}" if forenames else keyname
        names.append(f"{name} {suffix}" if suffix else name)
    text = "".join(names)
    if "\\" in text or "{" in text or "}" in text:
        return [latex_to_unicode(name) for name in names]
    return names


def _split_authors(authors: str | None) -> list[str]:
    """The names in "A. One, B. Two and C. Three", which may have a serial comma and line breaks."""
    if not authors:
        return []
    return [
        latex_to_unicode(name.strip())
        for part in clean_text(authors).split(",")
        for name in part.split(" and ")
        if name.strip()
    ]
