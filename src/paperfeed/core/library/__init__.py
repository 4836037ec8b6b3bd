"""Reading a reference library someone exported — BibTeX, RIS or Zotero's CSL JSON — into plain records.

Pure Python (bibtexparser 2.x for BibTeX, rispy for RIS, json for CSL JSON): bytes in, records and problems out.
A broken entry does not stop the rest: each problem names its entry (1-based position, line, key) and the good
entries are kept. What makes the whole file unusable — too big, too many entries, not a library in any of the
three formats — raises LibraryError with a message for the person who uploaded it, and nothing is kept.

One module per format (bibtex, ris, csl_json), as core/sources has; `records` holds what they read into and the
clean-up of values, `files` the file as a whole and `parse_library`, the entry point.
"""

from paperfeed.core.library.bibtex import bibtex_names, parse_bibtex
from paperfeed.core.library.csl_json import parse_csl_json
from paperfeed.core.library.files import EXTENSIONS, decode, detect_format, parse_library
from paperfeed.core.library.records import (
    FORMATS,
    MAX_ABSTRACT_CHARS,
    MAX_AUTHORS,
    MAX_BYTES,
    MAX_ENTRIES,
    MAX_TITLE_CHARS,
    EntryProblem,
    LibraryError,
    LibraryRecord,
    ParsedLibrary,
    arxiv_id_in,
    normalise_doi,
    normalise_title,
)
from paperfeed.core.library.ris import parse_ris, ris_name

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MAX_ABSTRACT_CHARS",
    "MAX_AUTHORS",
    "MAX_BYTES",
    "MAX_ENTRIES",
    "MAX_TITLE_CHARS",
    "EntryProblem",
    "LibraryError",
    "LibraryRecord",
    "ParsedLibrary",
    "arxiv_id_in",
    "bibtex_names",
    "decode",
    "detect_format",
    "normalise_doi",
    "normalise_title",
    "parse_bibtex",
    "parse_csl_json",
    "parse_library",
    "parse_ris",
    "ris_name",
]
