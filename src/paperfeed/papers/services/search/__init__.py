"""Keyword search: the one door to the search engine, behind a small backend interface.

SQLite FTS5 now; a PostgreSQL tsvector backend can implement the same three methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from django.db import connection

from paperfeed.core.fusion import reciprocal_rank_fusion
from paperfeed.core.search_query import SearchQuery, meaning_text
from paperfeed.papers.models import Paper
from paperfeed.papers.services.cards import PaperCard, author_names, cards_for_ids


@dataclass(frozen=True)
class SearchDocument:
    paper_id: int
    title: str
    abstract: str
    authors: Sequence[str]


@dataclass(frozen=True)
class SearchFilters:
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class SearchHit:
    paper_id: int
    title_html: str  # escaped, with <mark> around matched words
    snippet_html: str


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int  # how many papers match
    reachable: int  # how many of them can be paged through (all, unless capped)
    relaxed: bool  # no paper had every word, so these match any of them
    capped: bool = False  # so many matched that only the most recently added ones were ranked


class SearchBackend(Protocol):
    """A keyword engine. It never finds papers hidden by a moderator: `index` leaves them out (see reindex)."""

    def index(self, documents: Sequence[SearchDocument]) -> None: ...

    def remove(self, paper_ids: Sequence[int]) -> None: ...

    def search(self, query: SearchQuery, filters: SearchFilters, offset: int, limit: int) -> SearchPage: ...

    def newest(self, filters: SearchFilters, offset: int, limit: int) -> SearchPage: ...

    def ranking(self, query: SearchQuery, filters: SearchFilters, limit: int, cap: int) -> tuple[list[int], bool]: ...

    def highlights(self, query: SearchQuery, documents: Sequence[SearchDocument], relaxed: bool) -> list[SearchHit]: ...


def get_backend() -> SearchBackend:
    if connection.vendor == "sqlite":
        from paperfeed.papers.services.search.sqlite_fts import SqliteFtsBackend

        return SqliteFtsBackend()
    raise RuntimeError(f"keyword search has no backend for the {connection.vendor} database yet")


REINDEX_CHUNK = 500


def reindex(paper_ids: Sequence[int]) -> None:
    """Bring the keyword index in step with these papers as stored now: after a moderator hides or shows them,
    or edits them in the admin. Hidden papers end up out of the index, the others in it once."""
    backend = get_backend()
    ids = list(paper_ids)
    for start in range(0, len(ids), REINDEX_CHUNK):
        chunk = ids[start : start + REINDEX_CHUNK]
        backend.remove(chunk)
        names = author_names(chunk)
        rows = Paper.objects.filter(id__in=chunk).values_list("id", "title", "abstract")
        backend.index([SearchDocument(pid, title, abstract, names.get(pid, ())) for pid, title, abstract in rows])


PAGE_SIZE = 20
# Work a search does beside the request's thread: embedding the query while the keyword side runs.
side_work = ThreadPoolExecutor(max_workers=2, thread_name_prefix="paperfeed-search")
MAX_PAGE = 50  # deep pages of a keyword search help nobody and cost the engine the most
MODES = ("hybrid", "keyword", "semantic")
FUSION_DEPTH = 100  # how many of each ranking's best take part in the hybrid fusion
FUSION_RANK_CAP = 1000  # the keyword side of a hybrid search ranks at most this many matches, newest first
# Reciprocal-rank fusion: score = KEYWORD_WEIGHT / (RRF_K + keyword rank) + 1 / (RRF_K + semantic rank).
# Chosen on BEIR SciFact's train split (docs/search-quality.md).
RRF_K = 10.0
KEYWORD_WEIGHT = 1.5


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    cards: list[PaperCard]  # with title_html and snippet_html set where the words matched
    total: int
    page: int
    pages: int
    relaxed: bool
    capped: bool
    mode: str = "keyword"  # the mode that answered
    meaning_unavailable: bool = False  # semantic or hybrid was asked for, but there is no vector index yet

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _pages(count: int) -> int:
    return min(max((count + PAGE_SIZE - 1) // PAGE_SIZE, 1), MAX_PAGE)


def _highlights(hits: list[SearchHit]) -> dict[int, dict]:
    return {hit.paper_id: {"title_html": hit.title_html, "snippet_html": hit.snippet_html} for hit in hits}


def search_papers(
    query: SearchQuery, filters: SearchFilters, page: int = 1, mode: str = "keyword", text: str = ""
) -> SearchResults:
    """One page of results as paper cards: by keyword (BM25), by meaning (embeddings), or both fused (RRF).

    `text` is what was typed, embedded as is for the semantic side. Without a vector index, semantic and hybrid
    answer by keyword and say so.
    """
    page = min(max(page, 1), MAX_PAGE)
    backend = get_backend()
    meaning = None
    if mode in ("semantic", "hybrid") and text.strip():
        from paperfeed.papers.services.search.semantic import meaning_in_background, semantic_ranking

        # The query is embedded and looked up in the vector index on another thread while the keyword side runs.
        meaning = meaning_in_background(meaning_text(text[:2000], query), FUSION_DEPTH)
    if meaning is None:
        return _keyword_results(backend, query, filters, page, unavailable=mode != "keyword" and bool(text.strip()))
    keyword_ids, relaxed = [], False
    if mode == "hybrid" and query:
        keyword_ids, relaxed = backend.ranking(query, filters, FUSION_DEPTH, FUSION_RANK_CAP)
    ranking = semantic_ranking(meaning.result(), filters)
    if ranking is None:  # the index went away meanwhile
        return _keyword_results(backend, query, filters, page, unavailable=True)
    if keyword_ids:
        ranking = reciprocal_rank_fusion([keyword_ids, ranking], k=RRF_K, weights=[KEYWORD_WEIGHT, 1.0])
    offset = (page - 1) * PAGE_SIZE
    cards = cards_for_ids(ranking[offset : offset + PAGE_SIZE])
    if query:
        # Words are marked only on the page shown, not on the hundred results that went into the fusion. (Marking
        # them on a side thread while the cards are read was measured: no faster, so it is done here.)
        documents = [SearchDocument(c.paper.id, c.paper.title, c.paper.abstract, c.authors) for c in cards]
        marks = _highlights(backend.highlights(query, documents, relaxed))
        cards = [replace(card, **marks[card.paper.id]) if card.paper.id in marks else card for card in cards]
    return SearchResults(query, cards, len(ranking), page, _pages(len(ranking)), relaxed, False, mode)


def _keyword_results(
    backend: SearchBackend, query: SearchQuery, filters: SearchFilters, page: int, unavailable: bool
) -> SearchResults:
    """A page ranked by keyword alone (`unavailable`: search by meaning was asked for but cannot answer)."""
    found = backend.search(query, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    cards = cards_for_ids([hit.paper_id for hit in found.hits], extra=_highlights(found.hits))
    pages = _pages(found.reachable)
    return SearchResults(query, cards, found.total, page, pages, found.relaxed, found.capped, "keyword", unavailable)


def browse(filters: SearchFilters, page: int = 1) -> SearchResults:
    """A search with filters but no words (e.g. a category's page): the newest papers that pass them."""
    page = min(max(page, 1), MAX_PAGE)
    found = get_backend().newest(filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    cards = cards_for_ids([hit.paper_id for hit in found.hits])
    return SearchResults(SearchQuery(()), cards, found.total, page, _pages(found.reachable), False, False, "newest")
