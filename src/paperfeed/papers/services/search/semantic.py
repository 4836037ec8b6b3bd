"""Search by meaning: the query's embedding against the vector index, with the same filters as keyword search."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
from django.db import connection

from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.papers.models import Paper, visible_sql
from paperfeed.papers.services import vectors
from paperfeed.papers.services.search import SearchFilters, side_work

log = logging.getLogger(__name__)
MAX_CANDIDATES = 5000


@dataclass(frozen=True)
class Meaning:
    """A query's embedding by `model` and its `depth` nearest papers in the index, before any filter (None: the
    index went away)."""

    model: str
    vector: np.ndarray
    depth: int
    nearest: list[tuple[int, float]] | None


def meaning_in_background(text: str, depth: int) -> Future[Meaning] | None:
    """Start embedding `text` and finding its `depth` nearest papers on a worker thread, so that keyword matching
    runs meanwhile. None when there is no model or no vector index.

    onnxruntime and SQLite release the GIL while they work; usearch keeps it for its k-NN (under a millisecond),
    which mostly falls while the keyword pass is inside SQLite and does not need it.
    """
    try:
        embedder = default_embedder()
    except ModelError:
        log.exception("the embedding model cannot be loaded; searching by keyword only")
        return None
    if not vectors.available(embedder.name):
        return None
    return side_work.submit(_meaning, embedder.embed_query, embedder.name, text, depth)


def _meaning(embed: Callable[[str], np.ndarray], model: str, text: str, depth: int) -> Meaning:
    vector = embed(text)
    # The index lookup needs no database (whose connections are per thread), so it is done here too.
    return Meaning(model, vector, depth, vectors.nearest(model, vector, depth))


def semantic_ranking(meaning: Meaning, filters: SearchFilters) -> list[int] | None:
    """Up to `meaning.depth` paper ids nearest in meaning to the query and passing the filters; None without an
    index."""
    depth, wanted, found = meaning.depth, meaning.depth, meaning.nearest
    while True:
        if found is None:
            return None
        ids = [pid for pid, _ in found]
        kept = _passing(ids, filters)
        # Filters can discard most neighbours: look further until enough pass or nothing more is there.
        if len(kept) >= depth or len(found) < wanted or wanted >= MAX_CANDIDATES:
            return kept[:depth]
        wanted *= 4
        found = vectors.nearest(meaning.model, meaning.vector, wanted)


def _passing(ids: list[int], filters: SearchFilters) -> list[int]:
    """The ids (in order) of papers that exist, anyone may see, and pass the filters.

    Plain SQL: it runs on every search by meaning, where building it through the ORM cost more than running it.
    """
    if not ids:
        return []
    clauses, params = [f"p.id IN ({', '.join(['%s'] * len(ids))})", visible_sql("p")], list(ids)
    if filters.date_from:
        clauses.append("p.published >= %s")
        params.append(filters.date_from.isoformat())
    if filters.date_to:
        clauses.append("p.published <= %s")
        params.append(filters.date_to.isoformat())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT p.id, p.categories FROM {Paper._meta.db_table} p WHERE {' AND '.join(clauses)}", params)
        categories = dict(cursor.fetchall())
    if filters.category:
        wanted = filters.category
        return [pid for pid in ids if pid in categories and wanted in _category_list(categories[pid])]
    return [pid for pid in ids if pid in categories]


def _category_list(stored: object) -> list[str]:
    """A paper's categories as the database driver returns the JSON column (text on SQLite, a list elsewhere)."""
    return json.loads(stored) if isinstance(stored, str | bytes) else list(stored or [])


def similar_papers(paper_id: int, k: int = 6) -> list[int] | None:
    """The k papers nearest in meaning to this one (itself and hidden papers excluded); None when it has no
    embedding or there is no index."""
    from paperfeed.papers.models import PaperEmbedding

    stored = PaperEmbedding.objects.filter(paper_id=paper_id).values_list("model", "vector").first()
    if stored is None:
        return None
    model, blob = stored
    # A few neighbours more than shown, so that a hidden one or two leave the list full.
    found = vectors.nearest(model, vectors.from_blob(bytes(blob)), 2 * k + 1)
    if found is None:
        return None
    return _passing([pid for pid, _ in found if pid != paper_id], SearchFilters())[:k]
