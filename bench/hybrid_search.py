"""Benchmark: hybrid search and similar papers over the full corpus, with real embeddings.

    export PAPERFEED_DATA_DIR=/tmp/pf-full
    .venv/bin/paperfeed load-jsonl ../shared/data/arxiv-daily/papers.jsonl.gz
    .venv/bin/paperfeed index                      # embeds all 74,728 papers (about half an hour here)
    .venv/bin/python bench/hybrid_search.py [--repeat 5] [--stages]

Server time of the search service, `search_papers(SearchRequest(q, mode))` (query parsing, the tantivy keyword
ranking, query embedding, HNSW k-NN, RRF fusion, marks, cards) for the same 22 varied queries as
bench/load_and_search.py, in each mode; the similar-papers lookup of a paper page (`retrieval.similar_papers`);
and single-query embedding latency. `--stages` adds where a hybrid search's time goes, timed by wrapping the
functions `retrieval.find` calls.

The machine's load average is printed with the figures: on two cores, other work running beside the search slows
the query embedding (two onnxruntime threads) the most.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import platform
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
import django  # noqa: E402

django.setup()
from load_and_search import QUERIES, percentile  # noqa: E402

from paperfeed.core.embedder import default_embedder  # noqa: E402
from paperfeed.papers.models import Paper, PaperEmbedding  # noqa: E402
from paperfeed.papers.retrieval import SearchRequest, keyword, meaning, similar_papers, sync_keyword_index  # noqa: E402
from paperfeed.papers.services import search  # noqa: E402
from paperfeed.papers.services.search import search_papers  # noqa: E402

# The module (the package's `find` attribute is the function of that name).
find_module = importlib.import_module("paperfeed.papers.retrieval.find")
WAITING = "waiting for the query embedding and its k-NN"


def timed(fn, repeat: int, *args, **kwargs) -> list[float]:
    """Milliseconds of `repeat` calls of fn(*args, **kwargs)."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        out.append((time.perf_counter() - start) * 1000)
    return out


class Stages:
    """Milliseconds spent in each stage of a hybrid search, timed by wrapping the service functions it calls."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)

    def timed(self, owner: object, name: str, stage: str) -> None:
        """Replace owner.name by a wrapper that records each call's time under `stage`."""
        function = getattr(owner, name)
        self.times.setdefault(stage, [])  # stages are listed in the order they are installed

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.times[stage].append((time.perf_counter() - start) * 1000)

        setattr(owner, name, wrapper)

    def install(self) -> None:
        self.timed(meaning, "in_background", "handing the query to the worker thread")
        self.times.setdefault(WAITING, [])
        started = meaning.in_background

        def in_background(*args, **kwargs):
            future = started(*args, **kwargs)
            if future is not None:  # the time find then waits for it
                self.timed(future, "result", WAITING)
            return future

        meaning.in_background = in_background
        self.timed(keyword, "ranking", "keyword ranking (beside the embedding)")
        self.timed(meaning, "ranking", "filtering the neighbours")
        self.timed(find_module, "reciprocal_rank_fusion", "fusion")
        self.timed(keyword, "passing_query", "counting the neighbours that also match the words")
        self.timed(search, "cards_for_ids", "20 cards")
        self.timed(keyword, "marks", "marking the words")
        # Called at the start of each of the keyword stages above (its time is inside theirs).
        self.timed(keyword, "problem_is_likely", "(within the above) change-log check before each index use")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stages", action="store_true", help="also time the stages of a hybrid search")
    args = parser.parse_args()
    load_before = os.getloadavg()
    papers, embedded = Paper.objects.count(), PaperEmbedding.objects.count()
    embedder = default_embedder()
    sync_keyword_index()  # nothing to do after `paperfeed load-jsonl`; catching up is not what is timed here
    for query in QUERIES:  # warm caches, the model and the memory-mapped indexes
        found = search_papers(SearchRequest(query, "hybrid"))
        if found.meaning_unavailable:
            sys.exit("search by meaning is unavailable here (no model or no vector index): run `paperfeed index`")

    rows = []
    for mode in ("keyword", "semantic", "hybrid"):
        times = []
        for query in QUERIES:
            times += timed(search_papers, args.repeat, SearchRequest(query, mode))
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
    stages = None
    if args.stages:
        stages = Stages()
        stages.install()
        total = []
        for query in QUERIES:
            total += timed(search.search_papers, args.repeat, SearchRequest(query, "hybrid"))
        stages.times["hybrid search, all stages"] = total
    load_after = os.getloadavg()

    print(f"## Hybrid search, run of {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{papers:,} papers, {embedded:,} embeddings; {len(QUERIES)} queries × {args.repeat} runs, page 1 of 20. "
        f"Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after."
    )
    print()
    print("| measure | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in rows:
        print(f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} | {max(values):.1f} |")
    if stages:
        print()
        print("Stages of a hybrid search, timed in a separate pass (the timing itself adds a little):")
        print()
        print("| stage | p50 ms | mean ms |")
        print("|---|---:|---:|")
        for name, values in stages.times.items():
            if not values:
                continue
            print(f"| {name} | {percentile(values, 50):.2f} | {sum(values) / len(values):.2f} |")


if __name__ == "__main__":
    main()
