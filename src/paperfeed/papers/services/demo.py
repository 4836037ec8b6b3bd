"""The bundled demo corpus, loaded once into an empty database so a new site has something to show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.db import transaction

import paperfeed
from paperfeed.papers.models import Paper, PaperEmbedding
from paperfeed.papers.retrieval import vectors
from paperfeed.papers.retrieval.embeddings import to_blob
from paperfeed.papers.services.loading import LoadSummary, load_jsonl

DEMO_FILE = Path(paperfeed.__file__).parent / "demo" / "papers-demo.jsonl.gz"
DEMO_EMBEDDINGS = DEMO_FILE.with_name("papers-demo-embeddings.npz")


def needs_demo() -> bool:
    """True on a first run: the database has no papers at all."""
    return not Paper.objects.exists()


def load_demo(on_progress: Callable[[int, int, int], None] | None = None) -> LoadSummary:
    return load_jsonl(DEMO_FILE, on_progress=on_progress)


def load_demo_embeddings() -> int:
    """Store the demo papers' precomputed embeddings (those not embedded yet) and build the vector index.

    Without the file (a trimmed install), nothing is stored and the background indexer embeds the papers.
    """
    if not DEMO_EMBEDDINGS.is_file():
        return 0
    data = np.load(DEMO_EMBEDDINGS)
    model = str(data["model"])
    pks = dict(Paper.objects.filter(arxiv_id__in=list(data["ids"])).values_list("arxiv_id", "id"))
    have = set(PaperEmbedding.objects.filter(model=model).values_list("paper_id", flat=True))
    rows = [
        PaperEmbedding(paper_id=pks[arxiv_id], model=model, vector=to_blob(vector))
        for arxiv_id, vector in zip(data["ids"], data["vectors"], strict=True)
        if arxiv_id in pks and pks[arxiv_id] not in have
    ]
    with transaction.atomic():
        PaperEmbedding.objects.bulk_create(rows, batch_size=1000)
    vectors.rebuild(model)
    return len(rows)
