"""Benchmark: the vector index at 1 million papers — build time, memory, k-NN latency.

    .venv/bin/python bench/vectors_1m.py [--count 1000000] [--queries 200]

The vectors are SYNTHETIC: random unit vectors in 384 dimensions (the MiniLM size), stored as float16 in a usearch
HNSW index configured exactly like paperfeed's (services/vectors.py: cosine, connectivity 16, expansion_add 128,
expansion_search 64). Real embeddings cluster by topic, which usually makes HNSW search faster and more accurate
than on uniform random vectors, so these figures are a conservative stand-in. Recall@10 is measured against an
exact search over a 20,000-vector sample of the same distribution.
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
from paperfeed.papers.services.vectors import DIMENSIONS, _new_index  # noqa: E402


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    matrix = rng.standard_normal((n, DIMENSIONS), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    index = _new_index()
    start = time.perf_counter()
    for offset in range(0, args.count, 100_000):
        n = min(100_000, args.count - offset)
        index.add(np.arange(offset, offset + n, dtype=np.uint64), unit_vectors(rng, n).astype(np.float16))
    build = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.usearch"
        index.save(str(path))
        size = path.stat().st_size
        start = time.perf_counter()
        from usearch.index import Index

        viewed = Index.restore(str(path), view=True)
        open_s = time.perf_counter() - start
        queries = unit_vectors(rng, args.queries)
        viewed.search(queries[0], 10)
        latencies = []
        for q in queries:
            start = time.perf_counter()
            viewed.search(q, 10)
            latencies.append((time.perf_counter() - start) * 1000)
        del viewed
    memory = index.memory_usage

    # Recall@10 of the same HNSW settings against exact search, on a 20,000-vector sample.
    sample = unit_vectors(rng, 20_000)
    small = _new_index()
    small.add(np.arange(len(sample), dtype=np.uint64), sample.astype(np.float16))
    probes = unit_vectors(rng, 100)
    exact = np.argsort(-(probes @ sample.T), axis=1)[:, :10]
    found = [set(small.search(q, 10).keys.tolist()) for q in probes]
    recall = statistics.mean(len(f & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True))

    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"## Vector index at {args.count:,} synthetic vectors, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| build (add {args.count:,} vectors) | {build:.1f} s ({args.count / build:,.0f} vectors/s) |")
    print(f"| index file | {size / 2**20:,.0f} MB |")
    print(f"| index memory (usearch) | {memory / 2**20:,.0f} MB |")
    print(f"| process peak RSS growth | {(rss_after - rss_before) / 1024:,.0f} MB |")
    print(f"| open memory-mapped (as web workers do) | {open_s * 1000:.0f} ms |")
    print(
        f"| k-NN (k=10) p50 / p95 over {args.queries} queries | {percentile(latencies, 50):.2f} / "
        f"{percentile(latencies, 95):.2f} ms |"
    )
    print(f"| recall@10 vs exact (20,000-vector sample) | {recall:.3f} |")


if __name__ == "__main__":
    main()
