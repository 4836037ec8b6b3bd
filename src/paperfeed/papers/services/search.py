"""Search results as paper cards: the retrieval component's answer, with the cards' data and marked words."""

from __future__ import annotations

from dataclasses import dataclass, replace

from paperfeed.core.search_query import SearchQuery
from paperfeed.papers.retrieval import Found, SearchRequest, find
from paperfeed.papers.services.cards import PaperCard, cards_for_ids


@dataclass(frozen=True)
class SearchResults:
    found: Found
    cards: list[PaperCard]  # with title_html and snippet_html set where the words matched

    @property
    def query(self) -> SearchQuery:
        return self.found.request.query

    @property
    def total(self) -> int:
        return self.found.total

    @property
    def page(self) -> int:
        return self.found.request.page

    @property
    def pages(self) -> int:
        return self.found.pages

    @property
    def relaxed(self) -> bool:
        return self.found.relaxed

    @property
    def mode(self) -> str:
        return self.found.mode

    @property
    def meaning_unavailable(self) -> bool:
        return self.found.meaning_unavailable

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search_papers(request: SearchRequest) -> SearchResults:
    """One page of results for `request` as cards, the searched words marked on them."""
    cards: dict[int, PaperCard] = {}

    def texts(ids):
        cards.update((card.paper.id, card) for card in cards_for_ids(list(ids)))
        return [(pid, cards[pid].paper.title, cards[pid].paper.abstract) for pid in ids if pid in cards]

    found = find(request, texts)
    if not cards and found.ids:
        texts(found.ids)
    shown = []
    for hit in found.hits:
        card = cards.get(hit.paper_id)
        if card is None:
            continue  # deleted between the search and reading its card
        if hit.title_html or hit.snippet_html:
            card = replace(card, title_html=hit.title_html, snippet_html=hit.snippet_html)
        shown.append(card)
    return SearchResults(found, shown)
