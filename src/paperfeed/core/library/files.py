"""The file as a whole: its format (by extension, else by its first bytes), its text, its limits, and the parser
of its format."""

from __future__ import annotations

import re

from paperfeed.core.library.bibtex import parse_bibtex
from paperfeed.core.library.csl_json import parse_csl_json
from paperfeed.core.library.records import FORMATS, MAX_BYTES, LibraryError, ParsedLibrary
from paperfeed.core.library.ris import parse_ris

EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csl-json", ".csljson": "csl-json"}
PARSERS = {"bibtex": parse_bibtex, "ris": parse_ris, "csl-json": parse_csl_json}


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
    parsed = PARSERS[format_](text)
    if parsed.entries == 0:
        raise LibraryError(f"no {FORMATS[format_]} entries were found in the file")
    return parsed
