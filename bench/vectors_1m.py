"""Benchmark: the vector index at 1 million papers — build time, memory, k-NN latency and recall.

    .venv/bin/python bench/vectors_1m.py [--count 1000000] [--queries 200] [--source random|corpus]

The vectors are SYNTHETIC, stored as float16 in a usearch HNSW index configured exactly like paperfeed's
(services/vectors.py: cosine, connectivity 16, expansion_add 128, expansion_search 64):

- `random`: uniform random unit vectors in 384 dimensions, the worst case for HNSW (no clusters to navigate);
- `corpus`: the real MiniLM embeddings of the database in PAPERFEED_DATA_DIR (e.g. the 74,728-paper corpus after
  `paperfeed index`), each reused with fresh Gaussian noise (σ = 0.03 per dimension, then renormalised; a copy
  keeps a cosine of about 0.86 with its original) until there are `--count` of them, so the topics cluster as
  real papers do.

Recall@10 is measured against an exact search over all `--count` vectors, for 100 queries drawn the same way.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("PAPERFEED_DATA_DIR", tempfile.mkdtemp(prefix="paperfeed-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
import django  # noqa: E402

django.setup()
from paperfeed.papers.retrieval.embeddings import DIMENSIONS, from_blob  # noqa: E402
from paperfeed.papers.retrieval.vectors import new_index as _new_index  # noqa: E402

NOISE = 0.03
CHUNK = 100_000


def normalised(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


class Generator:
    def __init__(self, source: str, rng: np.random.Generator) -> None:
        self.rng = rng
        self.real = None
        if source == "corpus":
            from paperfeed.papers.models import PaperEmbedding

            blobs = PaperEmbedding.objects.values_list("vector", flat=True)
            self.real = np.stack([from_blob(bytes(b)) for b in blobs.iterator(chunk_size=10_000)]).astype(np.float32)
            if not len(self.real):
                raise SystemExit("--source corpus needs embeddings: run `paperfeed index` on a loaded database")

    def vectors(self, n: int) -> np.ndarray:
        noise = self.rng.standard_normal((n, DIMENSIONS), dtype=np.float32)
        if self.real is None:
            return normalised(noise)
        picked = self.real[self.rng.integers(0, len(self.real), n)]
        return normalised(picked + NOISE * noise)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)]


def exact_top10(stored: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """The ids of the 10 nearest stored vectors to each probe, by brute force in chunks."""
    best_scores = np.full((len(probes), 10), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(probes), 10), dtype=np.int64)
    for offset in range(0, len(stored), CHUNK):
        scores = probes @ stored[offset : offset + CHUNK].astype(np.float32).T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
        merged_ids = np.concatenate([best_ids, top + offset], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :10]
        best_scores = np.take_along_axis(merged_scores, order, axis=1)
        best_ids = np.take_along_axis(merged_ids, order, axis=1)
    return best_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--source", choices=["random", "corpus"], default="corpus")
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    generator = Generator(args.source, rng)
    stored = np.concatenate([generator.vectors(min(CHUNK, args.count - o)) for o in range(0, args.count, CHUNK)])
    stored = stored.astype(np.float16)

    index = _new_index()
    start = time.perf_counter()
    for offset in range(0, args.count, CHUNK):
        chunk = stored[offset : offset + CHUNK]
        index.add(np.arange(offset, offset + len(chunk), dtype=np.uint64), chunk)
    build = time.perf_counter() - start
    memory = index.memory_usage

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.usearch"
        index.save(str(path))
        size = path.stat().st_size
        del index
        from usearch.index import Index

        start = time.perf_counter()
        viewed = Index.restore(str(path), view=True)
        open_s = time.perf_counter() - start
        queries = generator.vectors(args.queries)
        viewed.search(queries[0], 10)
        latencies = []
        for q in queries:
            start = time.perf_counter()
            viewed.search(q, 10)
            latencies.append((time.perf_counter() - start) * 1000)
        probes = generator.vectors(100)
        found = [set(viewed.search(q, 10).keys.tolist()) for q in probes]
        del viewed
    exact = exact_top10(stored, probes)
    recall = statistics.mean(len(f & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print(
        f"## Vector index at {args.count:,} synthetic vectors ({args.source}), "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC"
    )
    print()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| build (add {args.count:,} vectors) | {build:.1f} s ({args.count / build:,.0f} vectors/s) |")
    print(f"| index file | {size / 2**20:,.0f} MB |")
    print(f"| index memory (usearch) | {memory / 2**20:,.0f} MB |")
    print(
        f"| process peak RSS (index, plus the {stored.nbytes / 2**20:,.0f} MB of vectors kept for recall) | "
        f"{rss_after / 1024:,.0f} MB |"
    )
    print(f"| open memory-mapped (as web workers do) | {open_s * 1000:.0f} ms |")
    print(
        f"| k-NN (k=10) p50 / p95 over {args.queries} queries | {percentile(latencies, 50):.2f} / "
        f"{percentile(latencies, 95):.2f} ms |"
    )
    print(f"| recall@10 against exact search over all {args.count:,} | {recall:.3f} |")


if __name__ == "__main__":
    main()
