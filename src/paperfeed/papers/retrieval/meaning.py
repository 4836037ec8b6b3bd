"""Search by meaning: the query's embedding against the vector index, with the same filters as keyword search."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.papers.models import PaperEmbedding
from paperfeed.papers.retrieval import keyword, vectors
from paperfeed.papers.retrieval.embeddings import from_blob, ranked, stack
from paperfeed.papers.retrieval.request import Filters

log = logging.getLogger(__name__)
MAX_CANDIDATES = 20_000  # neighbours looked at before a narrow filter is answered from the candidates it admits
IDS_CHUNK = 900
# Work a search does beside the request's thread: embedding the query while the keyword side runs.
side_work = ThreadPoolExecutor(max_workers=2, thread_name_prefix="paperfeed-search")


@dataclass(frozen=True)
class Meaning:
    """A query's embedding by `model` and its `depth` nearest papers in the index, before any filter (None: the
    index went away)."""

    model: str
    vector: np.ndarray
    depth: int
    nearest: list[tuple[int, float]] | None
    looked_up: bool = True  # False: `nearest` is still to be asked (Pending.result does)


def model_name() -> str | None:
    """The embedding model's name when search by meaning can answer here (a model and a vector index)."""
    try:
        embedder = default_embedder()
    except ModelError:
        log.exception("the embedding model cannot be loaded; searching by keyword only")
        return None
    return embedder.name if vectors.available(embedder.name) else None


def embed_query(text: str) -> np.ndarray:
    return np.asarray(default_embedder().embed_query(text), dtype=np.float32)


def in_background(text: str, depth: int) -> Pending | None:
    """Start embedding `text` and finding its `depth` nearest papers on a worker thread, so that keyword matching
    runs meanwhile. None when there is no model or no vector index.

    onnxruntime releases the GIL while it works; usearch keeps it for its k-NN (under a millisecond). On PostgreSQL
    the nearest papers are asked of the database on the caller's thread, when it takes the result: connections are
    per thread, and the caller's sees what its own transaction wrote.
    """
    model = model_name()
    if model is None:
        return None
    here = vectors.searches_without_database()
    return Pending(side_work.submit(_meaning, default_embedder().embed_query, model, text, depth, here))


def _meaning(embed: Callable[[str], np.ndarray], model: str, text: str, depth: int, look_up: bool) -> Meaning:
    vector = embed(text)
    return Meaning(model, vector, depth, vectors.nearest(model, vector, depth) if look_up else None, look_up)


@dataclass(frozen=True)
class Pending:
    """A query's meaning being worked out beside the keyword side."""

    future: Future[Meaning]

    def result(self) -> Meaning:
        meaning = self.future.result()
        if meaning.looked_up:
            return meaning
        found = vectors.nearest(meaning.model, meaning.vector, meaning.depth)
        return Meaning(meaning.model, meaning.vector, meaning.depth, found)


def ranking(meaning: Meaning, filters: Filters, among: frozenset[int] | None = None) -> list[int] | None:
    """Up to `meaning.depth` paper ids nearest in meaning to the query that pass the filters (and are `among`
    these, when given), nearest first; None without an index."""
    if among is not None:
        return nearest_among(meaning.model, meaning.vector, keyword.passing(sorted(among), filters), meaning.depth)
    depth, wanted, found = meaning.depth, meaning.depth, meaning.nearest
    while True:
        if found is None:
            return None
        kept = keyword.passing([pid for pid, _ in found], filters)
        # Filters can discard most neighbours: look further until enough pass or nothing more is there.
        if len(kept) >= depth or len(found) < wanted:
            return kept[:depth]
        if wanted >= MAX_CANDIDATES:
            # A narrow filter: rank exactly the papers it admits rather than hope they come up among neighbours.
            admitted = keyword.admitted(filters)
            return nearest_among(meaning.model, meaning.vector, admitted, depth)
        wanted *= 4
        found = vectors.nearest(meaning.model, meaning.vector, wanted)


def scored_among(
    model: str, vector: np.ndarray, paper_ids: Sequence[int], cache: dict | None = None
) -> list[tuple[int, float]]:
    """Exact similarity of these papers' stored embeddings to `vector`, best first (embeddings.ranked). `cache`
    keeps the papers' matrix for the next call with the same papers (a digest run's saved searches over one window)."""
    key = (model, tuple(paper_ids))
    if cache is not None and key in cache:
        ids, matrix = cache[key]
    else:
        ids, matrix = _stored_matrix(model, key[1])
        if cache is not None:
            cache[key] = (ids, matrix)
    return ranked(ids, matrix, vector)


def _stored_matrix(model: str, paper_ids: tuple[int, ...]) -> tuple[list[int], np.ndarray]:
    ids, blobs = [], []
    for start in range(0, len(paper_ids), IDS_CHUNK):
        chunk = list(paper_ids[start : start + IDS_CHUNK])
        rows = PaperEmbedding.objects.filter(model=model, paper_id__in=chunk).values_list("paper_id", "vector")
        for pid, blob in rows:
            ids.append(pid)
            blobs.append(blob)
    return ids, stack(blobs)


def nearest_among(model: str, vector: np.ndarray, paper_ids: Sequence[int], depth: int) -> list[int]:
    return [pid for pid, _ in scored_among(model, vector, paper_ids)[:depth]]


def similar_papers(paper_id: int, k: int = 6) -> list[int] | None:
    """The k papers nearest in meaning to this one (itself and hidden papers excluded); None when it has no
    embedding or there is no index."""
    stored = PaperEmbedding.objects.filter(paper_id=paper_id).values_list("model", "vector").first()
    if stored is None:
        return None
    model, blob = stored
    # A few neighbours more than shown, so that a hidden one or two leave the list full.
    found = vectors.nearest(model, from_blob(blob), 2 * k + 1)
    if found is None:
        return None
    return keyword.passing([pid for pid, _ in found if pid != paper_id], Filters())[:k]
