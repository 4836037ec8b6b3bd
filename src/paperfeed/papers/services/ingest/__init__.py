"""Bringing papers in from the outside: arXiv (OAI-PMH, announcement feeds, API), Hugging Face, the bioRxiv API
(bioRxiv and medRxiv), files.

Each source module fetches with the shared client (ingest.http), parses with a core parser
(paperfeed.core.sources) and writes through the one loader (services.loading), so every source upserts the
same way. Failures raise IngestError (or FetchError) with a message an operator can act on; what was
committed before stays, and the next run continues from there.
"""

from __future__ import annotations

from django.conf import settings

from paperfeed.papers.services.ingest.http import SourceClient


class IngestError(Exception):
    """A harvest that cannot go on: the message says why and what to do."""


def arxiv_client() -> SourceClient:
    """A client paced as arXiv's terms ask (one request every PAPERFEED_ARXIV_DELAY_SECONDS)."""
    return SourceClient(
        min_interval=settings.PAPERFEED_ARXIV_DELAY_SECONDS,
        timeout=settings.PAPERFEED_HTTP_TIMEOUT_SECONDS,
        retries=settings.PAPERFEED_HTTP_RETRIES,
        contact=settings.PAPERFEED_CONTACT_EMAIL,
    )


def hf_client() -> SourceClient:
    return SourceClient(
        min_interval=1.0,
        timeout=settings.PAPERFEED_HTTP_TIMEOUT_SECONDS,
        retries=settings.PAPERFEED_HTTP_RETRIES,
        contact=settings.PAPERFEED_CONTACT_EMAIL,
    )


def biorxiv_client() -> SourceClient:
    """The bioRxiv API publishes no rate limit; a second between pages keeps a backfill of thousands of pages
    polite."""
    return SourceClient(
        min_interval=1.0,
        timeout=settings.PAPERFEED_HTTP_TIMEOUT_SECONDS,
        retries=settings.PAPERFEED_HTTP_RETRIES,
        contact=settings.PAPERFEED_CONTACT_EMAIL,
    )
