"""The one door for finding papers: a SearchRequest in, ranked paper ids with their marks and counts out.

Keyword (BM25 over every match), semantic (nearest embeddings) or hybrid: reciprocal-rank fusion of the best
FUSION_DEPTH of each, followed by the rest of the keyword matches in keyword order, so that every match can be
paged through and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from paperfeed.core.fusion import reciprocal_rank_fusion
from paperfeed.core.search_query import meaning_text
from paperfeed.papers.retrieval import keyword, meaning
from paperfeed.papers.retrieval.request import SearchRequest

FUSION_DEPTH = 100  # how many of each ranking's best take part in the hybrid fusion
# Reciprocal-rank fusion: score = KEYWORD_WEIGHT / (RRF_K + keyword rank) + 1 / (RRF_K + semantic rank).
# Chosen on BEIR SciFact's train split and the tuning half of the known-item queries (docs/search-quality.md).
RRF_K = 3.0
KEYWORD_WEIGHT = 1.5
# A saved search (digests) matches a paper by meaning when their cosine similarity is at least this
# (all-MiniLM-L6-v2: related abstracts score 0.4–0.7, unrelated ones under 0.25), its best MEANING_MATCHES at most.
MEANING_MIN_SIMILARITY = 0.40
MEANING_MATCHES = 30


@dataclass(frozen=True)
class Hit:
    paper_id: int
    title_html: str = ""  # escaped, with <mark> around matched words; "" when nothing to mark
    snippet_html: str = ""


@dataclass(frozen=True)
class Found:
    request: SearchRequest
    hits: list[Hit]
    total: int  # how many papers answer the request (every one of them can be paged through)
    relaxed: bool = False  # no paper had every word, so these match some of them
    mode: str = "keyword"  # the mode that answered ("newest" for filters without words)
    meaning_unavailable: bool = False  # semantic or hybrid was asked for, but there is no vector index yet
    ids: list[int] = field(default_factory=list)

    @property
    def pages(self) -> int:
        size = self.request.page_size
        return max((self.total + size - 1) // size, 1)


Marks = Callable[[Sequence[int]], Sequence[tuple[int, str, str]]]


def find(request: SearchRequest, texts: Marks | None = None) -> Found:
    """One page of the answer to `request`. texts(ids) -> (id, title, abstract) lets the words be marked on the
    papers shown (the caller reads them for its cards anyway); without it, hits carry no marks."""
    query = request.query
    if request.is_browse:
        page = keyword.newest(request.filters, request.offset, request.page_size, request.among)
        return Found(request, [Hit(pid) for pid in page.ids], page.total, mode="newest", ids=page.ids)
    if not request.is_search:
        return Found(request, [], 0, mode=request.mode)
    future = None
    if request.mode in ("semantic", "hybrid") and request.meaning_text:
        depth = max(FUSION_DEPTH, request.offset + request.page_size) if request.mode == "semantic" else FUSION_DEPTH
        future = meaning.in_background(meaning_text(request.meaning_text, query), depth)
    if future is None:
        return _keyword(request, texts, unavailable=request.mode != "keyword")
    if request.mode == "semantic" or not query:
        ranked = meaning.ranking(future.result(), request.filters, request.among)
        if ranked is None:
            return _keyword(request, texts, unavailable=True)
        ids = ranked[request.offset : request.offset + request.page_size]
        return _found(request, ids, len(ranked), False, "semantic", texts)
    words = keyword.ranking(query, request.filters, FUSION_DEPTH, request.among)
    near = meaning.ranking(future.result(), request.filters, request.among)
    if near is None:
        return _keyword(request, texts, unavailable=True)
    head = reciprocal_rank_fusion([words.ids, near], k=RRF_K, weights=[KEYWORD_WEIGHT, 1.0])
    # The meaning side's papers that also match the words further down are counted once, and listed in the head.
    in_words = set(words.ids)
    near_only = [pid for pid in near if pid not in in_words]
    also_words = set(keyword.passing_query(query, words.relaxed, request.filters, near_only))
    total = words.total + len(near_only) - len(also_words)
    start, end = request.offset, request.offset + request.page_size
    ids = head[start:end]
    if end > len(head) and words.total > len(words.ids):
        # Past the fused head: the remaining keyword matches in keyword order, less those already in the head.
        tail_start = max(start - len(head), 0)
        wanted = tail_start + (end - max(start, len(head))) + len(also_words)
        deeper = keyword.page(query, request.filters, FUSION_DEPTH, wanted, request.among)
        in_head = set(head)
        tail = [pid for pid in deeper.ids if pid not in in_head]
        ids += tail[tail_start : tail_start + (end - max(start, len(head)))]
    return _found(request, ids, total, words.relaxed, "hybrid", texts)


def _keyword(request: SearchRequest, texts: Marks | None, unavailable: bool) -> Found:
    page = keyword.page(request.query, request.filters, request.offset, request.page_size, request.among)
    found = _found(request, page.ids, page.total, page.relaxed, "keyword", texts)
    return replace(found, meaning_unavailable=unavailable)


def _found(request: SearchRequest, ids: list[int], total: int, relaxed: bool, mode: str, texts: Marks | None) -> Found:
    marks = keyword.marks(request.query, relaxed, texts(ids)) if texts is not None and request.query else {}
    hits = [Hit(pid, *((marks[pid].title_html, marks[pid].snippet_html) if pid in marks else ())) for pid in ids]
    return Found(request, hits, total, relaxed, mode, ids=ids)


def matches(request: SearchRequest, cache: dict | None = None) -> frozenset[int]:
    """The papers a saved search finds among `request.among` (a digest's window): those with every word (mode
    keyword or hybrid) and those near enough in meaning (semantic or hybrid: see MEANING_MIN_SIMILARITY).
    Semantic and hybrid answer by keyword when search by meaning cannot answer here, as the site does. `cache`
    (any dict, kept by the caller) saves reading the same papers' embeddings for each of many searches."""
    among = request.among if request.among is not None else frozenset()
    found: set[int] = set()
    mode = request.mode
    if mode in ("semantic", "hybrid") and request.meaning_text and among:
        model = meaning.model_name()
        if model is None:
            mode = "keyword"
        else:
            vector = meaning.embed_query(meaning_text(request.meaning_text, request.query))
            candidates = keyword.passing(sorted(among), request.filters)
            best = meaning.scored_among(model, vector, candidates, cache)[:MEANING_MATCHES]
            found |= {pid for pid, similarity in best if similarity >= MEANING_MIN_SIMILARITY}
    if mode in ("keyword", "hybrid") and request.has_words and among:
        page = keyword.strict(request.query, request.filters, among)
        found |= set(page)
    return frozenset(found)
