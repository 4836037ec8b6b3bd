"""arXiv as a paper source: ids (2503.11731, hep-th/9901001), links, and the ids in any text. Its harvests and
feeds are read by arxiv_oai, arxiv_feed and arxiv_api; its papers are addressed by their id alone."""

from __future__ import annotations

from paperfeed.core.arxiv_ids import arxiv_ids_in, parse_arxiv_id
from paperfeed.core.sources.registry import PaperSource


def _parse(text: str) -> tuple[str, int | None] | None:
    parsed = parse_arxiv_id(text)
    return (parsed.id, parsed.version) if parsed is not None else None


def _versioned(id_: str, version: int | None) -> str:
    return f"{id_}v{version}" if version else id_


SOURCE = PaperSource(
    name="arxiv",
    label="arXiv",
    id_label="arXiv id",
    parse_id=_parse,
    page_url=lambda id_, version=None: f"https://arxiv.org/abs/{_versioned(id_, version)}",
    pdf_url=lambda id_, version=None: f"https://arxiv.org/pdf/{_versioned(id_, version)}",
    ids_in=arxiv_ids_in,
)
