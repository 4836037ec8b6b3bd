"""Benchmark: hybrid search and similar papers over the full corpus, with real embeddings.

    export PAPERFEED_DATA_DIR=/tmp/pf-full
    .venv/bin/paperfeed load-jsonl ../shared/data/arxiv-daily/papers.jsonl.gz
    .venv/bin/paperfeed index                      # embeds all 74,728 papers (about half an hour here)
    .venv/bin/python bench/hybrid_search.py [--repeat 5]

Server time of the search service (query parsing, FTS5, query embedding, HNSW k-NN, RRF fusion, cards) for the
same 22 varied queries as bench/load_and_search.py, in each mode; the similar-papers lookup of a paper page;
and single-query embedding latency.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
import django  # noqa: E402

django.setup()
from load_and_search import QUERIES, percentile  # noqa: E402

from paperfeed.core.embedder import default_embedder  # noqa: E402
from paperfeed.core.search_query import parse_query  # noqa: E402
from paperfeed.papers.models import Paper, PaperEmbedding  # noqa: E402
from paperfeed.papers.services.search import SearchFilters, search_papers  # noqa: E402
from paperfeed.papers.services.search.semantic import similar_papers  # noqa: E402


def timed(fn, repeat: int, *args, **kwargs) -> list[float]:
    """Milliseconds of `repeat` calls of fn(*args, **kwargs)."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    papers, embedded = Paper.objects.count(), PaperEmbedding.objects.count()
    embedder = default_embedder()
    for query in QUERIES:  # warm caches, the model and the memory-mapped index
        search_papers(parse_query(query), SearchFilters(), mode="hybrid", text=query)

    rows = []
    for mode in ("keyword", "semantic", "hybrid"):
        times = []
        for query in QUERIES:
            times += timed(search_papers, args.repeat, parse_query(query), SearchFilters(), mode=mode, text=query)
        rows.append((f"{mode} search", times))
    embed = []
    for query in QUERIES:
        embed += timed(embedder.embed_query, args.repeat, query)
    rows.append(("embedding one query", embed))
    ids = random.Random(7).sample(list(Paper.objects.values_list("id", flat=True)), 200)
    similar = []
    for pid in ids:
        similar += timed(similar_papers, 1, pid)
    rows.append(("similar papers (k-NN of a paper, itself excluded)", similar))

    print(f"## Hybrid search, run of {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{papers:,} papers, {embedded:,} embeddings; {len(QUERIES)} queries × {args.repeat} runs, page 1 of 20."
    )
    print()
    print("| measure | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in rows:
        print(f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} | {max(values):.1f} |")


if __name__ == "__main__":
    main()
