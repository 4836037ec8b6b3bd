"""Keyword search: the one door to the search engine, behind a small backend interface.

SQLite FTS5 now; a PostgreSQL tsvector backend can implement the same three methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from django.db import connection

from paperfeed.core.search_query import SearchQuery
from paperfeed.papers.services.cards import PaperCard, cards_for_ids


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
    def index(self, documents: Sequence[SearchDocument]) -> None: ...

    def remove(self, paper_ids: Sequence[int]) -> None: ...

    def search(self, query: SearchQuery, filters: SearchFilters, offset: int, limit: int) -> SearchPage: ...


def get_backend() -> SearchBackend:
    if connection.vendor == "sqlite":
        from paperfeed.papers.services.search.sqlite_fts import SqliteFtsBackend

        return SqliteFtsBackend()
    raise RuntimeError(f"keyword search has no backend for the {connection.vendor} database yet")


PAGE_SIZE = 20
MAX_PAGE = 50  # deep pages of a keyword search help nobody and cost the engine the most


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    cards: list[PaperCard]  # with title_html and snippet_html set
    total: int
    page: int
    pages: int
    relaxed: bool
    capped: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search_papers(query: SearchQuery, filters: SearchFilters, page: int = 1) -> SearchResults:
    """One page of keyword-search results as paper cards."""
    page = min(max(page, 1), MAX_PAGE)
    found = get_backend().search(query, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    cards = cards_for_ids(
        [hit.paper_id for hit in found.hits],
        extra={hit.paper_id: {"title_html": hit.title_html, "snippet_html": hit.snippet_html} for hit in found.hits},
    )
    pages = min(max((found.reachable + PAGE_SIZE - 1) // PAGE_SIZE, 1), MAX_PAGE)
    return SearchResults(query, cards, found.total, page, pages, found.relaxed, found.capped)
