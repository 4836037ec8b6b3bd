"""What the arXiv parsers share: safe XML reading with operator-readable errors, namespace-blind element
lookup, dates, category codes and author lists."""

from __future__ import annotations

import html
import re
from datetime import date
from email.utils import parsedate_to_datetime

from lxml import etree

from paperfeed.core.records import PaperRecord, RecordError, clean_text, strip_markup
from paperfeed.core.sources import SourceError

_LEADING = b" \t\r\n\xef\xbb\xbf"  # whitespace and a UTF-8 byte order mark
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_POSITION = re.compile(r",? line \d+, column \d+$")


def _snippet(data: bytes | str, limit: int = 80) -> str:
    value = clean_text(data.decode("utf-8", "replace") if isinstance(data, bytes) else data)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def read_xml(body: bytes, *, source: str, expected: str, roots: tuple[str, ...]) -> etree._Element:
    """The root element of an XML response, or SourceError saying what came instead of `expected`."""
    start = body.lstrip(_LEADING)
    if not start:
        raise SourceError(f"the {source} response is empty; expected {expected}")
    if _HTML_START.match(start):
        raise _html_error(expected, start)
    if start[:1] in (b"{", b"["):
        raise SourceError(f"expected {expected} but got JSON: {_snippet(start)!r}")
    try:
        # A parser per call: lxml parsers must not be shared between threads.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as error:
        if not start.startswith(b"<"):
            raise SourceError(f"expected {expected} but got text: {_snippet(start)!r}") from None
        if _HTML_START.search(start[:2048]):  # XHTML that does not parse, e.g. for its &nbsp;
            raise _html_error(expected, start) from None
        line, column = error.position or (0, 0)
        message = _POSITION.sub("", error.msg or "unknown error")
        raise SourceError(
            f"the {source} response is not well-formed XML: line {line}, column {column}: {message}"
        ) from None
    name = local_name(root)
    if name.lower() == "html":
        raise _html_error(expected, start)
    if name not in roots:
        raise SourceError(f"expected {expected} but got XML whose root element is <{name}>")
    return root


def _html_error(expected: str, start: bytes) -> SourceError:
    match = _HTML_TITLE.search(start)
    title = _snippet(html.unescape(match.group(1).decode("utf-8", "replace"))) if match else ""
    return SourceError(f"expected {expected} but got an HTML page ({f'title: {title!r}' if title else 'no title'})")


def local_name(element: etree._Element) -> str:
    """The tag without its namespace; "" for comments and processing instructions."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def find_all(parent: etree._Element | None, name: str) -> list[etree._Element]:
    """The children named `name` in any namespace: arXiv's formats mix several and old copies differ."""
    if parent is None:
        return []
    return [child for child in parent if local_name(child) == name]


def find(parent: etree._Element | None, name: str) -> etree._Element | None:
    """The first child named `name` in any namespace, or None."""
    return next(iter(find_all(parent, name)), None)


def text(element: etree._Element | None) -> str:
    """All the text inside an element (nested markup included), or "" for None."""
    return "" if element is None else "".join(element.itertext())


def child_text(parent: etree._Element | None, name: str) -> str:
    """The text of the first child named `name`, stripped; "" when there is none."""
    return text(find(parent, name)).strip()


def iso_date(value: str) -> date | None:
    """The date at the start of an ISO 8601 date or timestamp, or None."""
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def rfc822_date(value: str) -> date | None:
    """The date of an RFC 822 timestamp ("Tue, 24 Jul 2007 20:10:27 GMT") in its own zone, or None."""
    try:
        return parsedate_to_datetime(value.strip()).date()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


# Like "cs.LG", "hep-th", "cond-mat.mes-hall"; not ACM ("I.2.7") or MSC ("68T50") classes.
_CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}
_PARENS = re.compile(r"\([^()]*\)")
_NAME_BREAK = re.compile(r"\s*(?:[,;]|\band\b)\s*")


def arxiv_categories(values: list[str] | tuple[str, ...]) -> list[str]:
    """The values that are arXiv category codes, in order, without repeats."""
    found: list[str] = []
    for value in values:
        value = value.strip()
        if _CATEGORY.fullmatch(value) and value not in found:
            found.append(value)
    return found


def split_authors(value: str) -> list[str]:
    """Names from one author string ("A, B (Affil.), and C"): affiliations dropped, suffixes kept."""
    value = clean_text(strip_markup(value))
    for _ in range(20):  # nested affiliations like "((1) MIT, (2) CERN)"; the bound keeps odd input cheap
        shorter = _PARENS.sub(" ", value)
        if shorter == value:
            break
        value = shorter
    names: list[str] = []
    for piece in _NAME_BREAK.split(value):
        piece = piece.strip()
        if piece.lower() in _SUFFIXES and names:
            names[-1] = f"{names[-1]} {piece}"
        elif piece:
            names.append(piece)
    return names


def require_category(record: PaperRecord) -> PaperRecord:
    """The record, or RecordError when it has no arXiv category: the site files every paper under one."""
    if not record.primary_category:
        raise RecordError(f"{record.arxiv_id}: no arXiv category")
    return record
