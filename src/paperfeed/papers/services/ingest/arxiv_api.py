"""`ingest arxiv-id`: single papers by id, from the arXiv API (also used when a user submits a paper)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.records import PaperRecord
from paperfeed.core.sources.arxiv_api import parse_api_feed
from paperfeed.papers.services.ingest import IngestError
from paperfeed.papers.services.ingest.http import SourceClient
from paperfeed.papers.services.loading import LoadSummary, PaperLoader

PER_REQUEST = 100


@dataclass
class FetchedPapers:
    records: list[PaperRecord]
    unknown: list[str] = field(default_factory=list)  # ids arXiv does not know
    skipped: list[tuple[str, str]] = field(default_factory=list)


def fetch_papers(client: SourceClient, ids: list[str]) -> FetchedPapers:
    """The arXiv records of these ids (versions ignored); ids arXiv does not know are listed apart."""
    parsed = [(text, parse_arxiv_id(text)) for text in ids]
    bad = [text for text, arxiv_id in parsed if arxiv_id is None]
    if bad:
        raise IngestError(f"not arXiv ids: {', '.join(bad)} — write them like 2503.11731 or hep-th/9901001")
    wanted = list(dict.fromkeys(arxiv_id.id for _, arxiv_id in parsed))
    result = FetchedPapers([])
    for start in range(0, len(wanted), PER_REQUEST):
        chunk = wanted[start : start + PER_REQUEST]
        params = {"id_list": ",".join(chunk), "max_results": str(len(chunk))}
        feed = parse_api_feed(client.get(settings.PAPERFEED_ARXIV_API_URL, params=params).content)
        result.records += feed.records
        result.skipped += feed.skipped
        found = {r.arxiv_id for r in feed.records}
        result.unknown += [i for i in chunk if i not in found]
    return result


def ingest_ids(client: SourceClient, ids: list[str]) -> tuple[LoadSummary, FetchedPapers]:
    fetched = fetch_papers(client, ids)
    summary = LoadSummary()
    if fetched.records:
        PaperLoader().write(fetched.records, summary)
    return summary, fetched
