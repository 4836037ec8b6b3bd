"""The evaluations of search, run through the product's own path: `retrieval.find`, as the search page calls it.

`eval beir` loads a BEIR dataset into a scratch site (its own data directory and database): the documents become
papers through the loader, their embeddings are stored and indexed as the indexer does, and each query is one
`find(SearchRequest(text, mode))`. `eval known-items` asks the site's own papers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from paperfeed.core.embedder import Embedder, paper_text
from paperfeed.core.evaluation import BeirSet, KnownItem, KnownItemScores, Scores, evaluate, known_item_scores
from paperfeed.core.records import PaperRecord
from paperfeed.papers.models import Paper
from paperfeed.papers.retrieval import MODES, SearchRequest, find, sync_keyword_index, vectors
from paperfeed.papers.services.embedding import store
from paperfeed.papers.services.loading import LoadSummary, PaperLoader

TOP = 100  # Recall@100 and the reciprocal rank look at a hundred results per query
LOAD_BATCH = 2000


class ScratchSiteError(RuntimeError):
    """The evaluation was pointed at a site that already has papers."""


def beir_arxiv_id(index: int) -> str:
    """A made-up arXiv-shaped id for the index-th document of a BEIR corpus (the loader keys papers by them)."""
    return f"0001.{index:05d}"


def load_beir(data: BeirSet, embedder: Embedder | None, cache: Path | None, on_progress=None) -> dict[int, str]:
    """Put the dataset's documents into this (empty) site as papers; paper id -> BEIR document id."""
    if Paper.objects.exists():
        raise ScratchSiteError("the site already has papers: a BEIR evaluation needs an empty scratch site")
    if len(data.documents) > 99_999:
        raise ScratchSiteError(f"{len(data.documents):,} documents: at most 99,999 fit the scratch site's ids")
    loader = PaperLoader()
    for start in range(0, len(data.documents), LOAD_BATCH):
        records = [
            PaperRecord(beir_arxiv_id(i), None, d.title or d.text[:80], d.text, (), ("beir",), "beir", *([None] * 4))
            for i, d in enumerate(data.documents[start : start + LOAD_BATCH], start=start)
        ]
        loader.write(records, LoadSummary())
    sync_keyword_index()
    by_arxiv = dict(Paper.objects.values_list("arxiv_id", "id"))
    documents = {by_arxiv[beir_arxiv_id(i)]: d.id for i, d in enumerate(data.documents)}
    if embedder is not None:
        ids = [by_arxiv[beir_arxiv_id(i)] for i in range(len(data.documents))]
        texts = [paper_text(d.title, d.text) for d in data.documents]
        matrix = _embeddings(embedder, texts, cache, on_progress)
        for start in range(0, len(ids), LOAD_BATCH):
            store(embedder.name, ids[start : start + LOAD_BATCH], matrix[start : start + LOAD_BATCH])
        vectors.rebuild(embedder.name)
    return documents


def _embeddings(embedder: Embedder, texts: list[str], cache: Path | None, on_progress) -> np.ndarray:
    """The texts' embeddings, from the cache when these very texts were embedded by this model before."""
    import hashlib

    file = None
    if cache is not None:
        digest = hashlib.sha256("\x1e".join([embedder.name, *texts]).encode()).hexdigest()[:24]
        file = cache / f"beir-{embedder.name}-{digest}.npy"
        try:
            return np.load(file)
        except (OSError, ValueError):
            pass
    parts = []
    for start in range(0, len(texts), 256):
        parts.append(embedder.embed(texts[start : start + 256]))
        if on_progress:
            on_progress(min(start + 256, len(texts)), len(texts))
    matrix = np.vstack(parts) if parts else np.zeros((0, embedder.dimensions), np.float32)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        np.save(file, matrix.astype(np.float32))
    return matrix


def ranked(text: str, mode: str, depth: int = TOP) -> list[int]:
    """The paper ids the site answers `text` with in `mode`, best first: the search page's own function."""
    return find(SearchRequest(text, mode, page_size=depth)).ids


def evaluate_beir(
    data: BeirSet, documents: dict[int, str], modes: Sequence[str], on_query: Callable[[], None] | None = None
) -> dict[str, Scores]:
    """nDCG@10 and Recall@100 of each mode over the judged queries, each asked through `find`."""
    results = {}
    for mode in modes:
        run = {}
        for query_id, text in data.queries.items():
            run[query_id] = [documents[pid] for pid in ranked(text, mode) if pid in documents]
            if on_query:
                on_query()
        results[mode] = evaluate(run, data.judgments)
    return results


class UnknownPapers(ValueError):
    """Known items whose paper is not on this site."""


def evaluate_known_items(
    items: Sequence[KnownItem], modes: Sequence[str] = MODES, on_query: Callable[[], None] | None = None
) -> dict[str, tuple[KnownItemScores, list[int | None]]]:
    """Found-in-top-10 and mean reciprocal rank of each mode over the known items, on the site's own papers."""
    wanted = {item.arxiv_id for item in items}
    ids = dict(Paper.objects.visible().filter(arxiv_id__in=wanted).values_list("arxiv_id", "id"))
    missing = [item for item in items if item.arxiv_id not in ids]
    if missing:
        raise UnknownPapers(missing)
    results = {}
    for mode in modes:
        ranks: list[int | None] = []
        for item in items:
            answer = ranked(item.query, mode)
            target = ids[item.arxiv_id]
            ranks.append(answer.index(target) + 1 if target in answer else None)
            if on_query:
                on_query()
        results[mode] = (known_item_scores(ranks), ranks)
    return results
