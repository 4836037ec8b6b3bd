"""Search by meaning: the query's embedding against the vector index, with the same filters as keyword search."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future

import numpy as np
from django.db import connection

from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.papers.models import Paper, visible_sql
from paperfeed.papers.services import vectors
from paperfeed.papers.services.search import SearchFilters, side_work

log = logging.getLogger(__name__)
MAX_CANDIDATES = 5000


def embed_in_background(text: str) -> Future[np.ndarray] | None:
    """Start embedding `text` on a worker thread, so that keyword matching can run meanwhile (onnxruntime and
    SQLite both release the GIL). None when there is no model or no vector index to search."""
    try:
        embedder = default_embedder()
    except ModelError:
        log.exception("the embedding model cannot be loaded; searching by keyword only")
        return None
    if not vectors.available(embedder.name):
        return None
    return side_work.submit(embedder.embed_query, text)


def semantic_ranking(vector: np.ndarray, filters: SearchFilters, depth: int) -> list[int] | None:
    """Up to `depth` paper ids nearest in meaning to `vector` and passing the filters; None without an index."""
    model = default_embedder().name
    wanted = depth
    while True:
        found = vectors.nearest(model, vector, wanted)
        if found is None:
            return None
        ids = [pid for pid, _ in found]
        kept = _passing(ids, filters)
        # Filters can discard most neighbours: look further until enough pass or nothing more is there.
        if len(kept) >= depth or len(found) < wanted or wanted >= MAX_CANDIDATES:
            return kept[:depth]
        wanted *= 4


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
