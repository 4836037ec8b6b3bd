"""Computing paper embeddings in batches, outside web requests, and keeping the vector index in step.

Papers without an embedding of the current model are pending; `paperfeed index` (and its --watch loop, which
`paperfeed serve` runs in the background) embeds them, stores the vectors, then adds them to the index (on
PostgreSQL, in the same transaction as the embeddings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from paperfeed.core.embedder import Embedder, default_embedder, paper_text
from paperfeed.papers.models import Paper, PaperEmbedding
from paperfeed.papers.retrieval import vectors
from paperfeed.papers.retrieval.embeddings import to_blob

BATCH = 256


@dataclass
class IndexRun:
    embedded: int = 0
    rebuilt: str | None = None  # why the vector index was rebuilt, when it was
    unavailable: str | None = None  # why there is no vector store here, and what the operator should do


def pending(model: str):
    return Paper.objects.exclude(embedding__model=model)


def store(model: str, paper_ids: list[int], matrix: np.ndarray) -> None:
    """Save embeddings (replacing older ones of these papers), and on PostgreSQL their vectors, in one transaction."""
    with transaction.atomic():
        PaperEmbedding.objects.filter(paper_id__in=paper_ids).delete()
        PaperEmbedding.objects.bulk_create(
            [
                PaperEmbedding(paper_id=pid, model=model, vector=to_blob(row))
                for pid, row in zip(paper_ids, matrix, strict=True)
            ]
        )
        vectors.record(model, paper_ids, matrix)


def embed_pending(
    embedder: Embedder | None = None,
    *,
    rebuild: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> IndexRun:
    """Embed every pending paper (every paper, with rebuild), then bring the vector index in step."""
    embedder = embedder or default_embedder()
    run = IndexRun(unavailable=vectors.prepare())  # before storing, so that the vectors go in with the embeddings
    todo = Paper.objects.all() if rebuild else pending(embedder.name)
    total = todo.count()
    last = 0
    new_keys: list[int] = []
    new_vectors: list[np.ndarray] = []
    while True:
        batch = list(todo.filter(id__gt=last).order_by("id").values_list("id", "title", "abstract")[:BATCH])
        if not batch:
            break
        ids = [pid for pid, _, _ in batch]
        matrix = embedder.embed([paper_text(title, abstract) for _, title, abstract in batch])
        store(embedder.name, ids, matrix)
        new_keys += ids
        new_vectors.append(matrix)
        run.embedded += len(ids)
        last = ids[-1]
        if on_progress:
            on_progress(run.embedded, total)
    if run.unavailable:
        return run  # the embeddings wait in the database for the vector store
    if rebuild:
        run.rebuilt = "asked for with --rebuild"
        vectors.rebuild(embedder.name)
    elif new_keys:
        vectors.add(embedder.name, new_keys, np.vstack(new_vectors))  # rebuilds instead if out of step
    elif reason := vectors.problem(embedder.name):
        run.rebuilt = reason
        vectors.rebuild(embedder.name)
    return run
