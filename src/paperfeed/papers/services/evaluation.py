"""`paperfeed eval beir`: the site's keyword, semantic and hybrid ranking, measured on a BEIR dataset.

The dataset is indexed apart from the site's database, into an in-memory FTS5 table and an in-memory usearch
index built exactly like the site's (same tokenizer, BM25 weights, query parsing, embedder, HNSW settings and
fusion), so the figures are those of the site's ranking. The live site's RANK_CAP latency guard (rank only the
2,000 most recently added matches of a very broad query) is not applied: it is a trade of latency for recency on
a growing list of papers, and recency means nothing in a fixed benchmark.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from paperfeed.core.embedder import Embedder
from paperfeed.core.evaluation import BeirSet, Scores, evaluate
from paperfeed.core.fusion import reciprocal_rank_fusion
from paperfeed.core.search_query import fts5_tiers, meaning_text, parse_query
from paperfeed.papers.retrieval import vectors
from paperfeed.papers.services.search import FUSION_DEPTH, KEYWORD_WEIGHT, RRF_K
from paperfeed.papers.services.search.sqlite_fts import BM25_WEIGHTS, TOKENIZER

MODES = ("keyword", "semantic", "hybrid")
TOP = 100  # Recall@100 needs a hundred results per query


class KeywordIndex:
    """The documents in an FTS5 table shaped like the site's papers_search."""

    def __init__(self, data: BeirSet, weights: tuple[float, float, float] = BM25_WEIGHTS) -> None:
        self.ids = [d.id for d in data.documents]
        self.db = sqlite3.connect(":memory:")
        self.db.execute(f"CREATE VIRTUAL TABLE s USING fts5(title, abstract, authors, tokenize = '{TOKENIZER}')")
        self.db.executemany(
            "INSERT INTO s(rowid, title, abstract, authors) VALUES (?, ?, ?, '')",
            [(i, d.title, d.text) for i, d in enumerate(data.documents, start=1)],
        )
        self.set_weights(weights)

    def set_weights(self, weights: tuple[float, float, float]) -> None:
        rank = "bm25({:g}, {:g}, {:g})".format(*weights)
        self.db.execute("INSERT INTO s(s, rank) VALUES ('rank', ?)", (rank,))

    def search(self, text: str, depth: int = TOP) -> list[str]:
        """As the site does: papers with every word, else with any word; tier after tier, each by BM25."""
        query = parse_query(text)
        for match_all in (True, False):
            found: list[str] = []
            for expression in fts5_tiers(query, match_all=match_all):
                rows = self.db.execute(
                    "SELECT rowid FROM s WHERE s MATCH ? ORDER BY rank LIMIT ?", (expression, depth - len(found))
                ).fetchall()
                found += [self.ids[rowid - 1] for (rowid,) in rows]
            if found:
                return found
        return []


class DenseIndex:
    """The documents' embeddings in a usearch index configured like the site's vector index."""

    def __init__(
        self,
        data: BeirSet,
        embedder: Embedder,
        cache: Path | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        from paperfeed.core.embedder import paper_text

        self.embedder = embedder
        self.ids = [d.id for d in data.documents]
        texts = [paper_text(d.title, d.text) for d in data.documents]
        matrix = _cached(cache, embedder.name, texts)
        if matrix is None:
            parts = []
            for start in range(0, len(texts), 256):
                parts.append(embedder.embed(texts[start : start + 256]))
                if on_progress:
                    on_progress(min(start + 256, len(texts)), len(texts))
            matrix = np.vstack(parts) if parts else np.zeros((0, embedder.dimensions), np.float32)
            _store(cache, embedder.name, texts, matrix)
        self.index = vectors._new_index()
        self.index.add(np.arange(len(texts), dtype=np.uint64), matrix.astype(np.float16))

    def search(self, text: str, depth: int = TOP) -> list[str]:
        matches = self.index.search(self.embedder.embed_query(meaning_text(text, parse_query(text))), depth)
        return [self.ids[int(key)] for key in matches.keys]


def _cache_file(cache: Path, model: str, texts: list[str]) -> Path:
    digest = hashlib.sha256("\x1e".join([model, *texts]).encode()).hexdigest()[:24]
    return cache / f"beir-{model}-{digest}.npy"


def _cached(cache: Path | None, model: str, texts: list[str]) -> np.ndarray | None:
    if cache is None:
        return None
    try:
        return np.load(_cache_file(cache, model, texts))
    except (OSError, ValueError):
        return None


def _store(cache: Path | None, model: str, texts: list[str], matrix: np.ndarray) -> None:
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(_cache_file(cache, model, texts), matrix.astype(np.float32))


def evaluate_modes(
    data: BeirSet, modes: tuple[str, ...], keyword: KeywordIndex | None, dense: DenseIndex | None
) -> dict[str, Scores]:
    """nDCG@10 and Recall@100 of each mode over the judged queries of `data`."""
    results: dict[str, Scores] = {}
    words = {qid: keyword.search(text) for qid, text in data.queries.items()} if keyword else {}
    meaning = {qid: dense.search(text) for qid, text in data.queries.items()} if dense else {}
    for mode in modes:
        if mode == "keyword":
            run = words
        elif mode == "semantic":
            run = meaning
        else:
            run = {
                qid: reciprocal_rank_fusion(
                    [words[qid][:FUSION_DEPTH], meaning[qid][:FUSION_DEPTH]], k=RRF_K, weights=[KEYWORD_WEIGHT, 1.0]
                )[:TOP]
                for qid in data.queries
            }
        results[mode] = evaluate(run, data.judgments)
    return results
