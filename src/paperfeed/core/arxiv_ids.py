"""arXiv identifiers: new style (2503.11731, 2503.11731v2) and old style (hep-th/9901001v3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEW = re.compile(r"(?P<id>\d{4}\.\d{4,5})(?:v(?P<version>\d+))?")
_OLD = re.compile(r"(?P<id>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?")
_PREFIX = re.compile(r"^(?:arxiv:|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)", re.IGNORECASE)


@dataclass(frozen=True)
class ArxivId:
    id: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.id}v{self.version}" if self.version else self.id


def parse_arxiv_id(text: str) -> ArxivId | None:
    """The id and version in `text` (an id, `arXiv:` id or arxiv.org URL), or None when it is not one."""
    text = _PREFIX.sub("", text.strip())
    if text.endswith(".pdf"):
        text = text[:-4]
    for pattern in (_NEW, _OLD):
        match = pattern.fullmatch(text)
        if match:
            version = match.group("version")
            return ArxivId(match.group("id"), int(version) if version else None)
    return None


def arxiv_ids_in(text: str) -> set[str]:
    """Every arXiv id written anywhere in `text` (links, JSON, BibTeX), without versions; may include strings that
    only look like one (a caller looks them up)."""
    return {match.group("id") for pattern in (_NEW, _OLD) for match in pattern.finditer(text)}
