"""Benchmark: loading the full 74,728-paper corpus, and keyword-search latency on it.

    make bench                      # or: python bench/load_and_search.py [--source FILE] [--repeat N]

Prints a Markdown report (copied into docs/benchmarks.md). Each figure is measured in this one run on a fresh
SQLite database in a temporary data directory, so ratios between phases are comparable.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "arxiv-daily" / "papers.jsonl.gz"

QUERIES = [
    "MLP",
    "diffusion models",
    "large language model reasoning",
    "gaussian splatting",
    "reinforcement learning from human feedback",
    "graph neural network",
    "protein structure",
    '"vision transformer"',
    "quantum error correction",
    "retrieval augmented generation",
    "federated learning privacy",
    "neural radiance field",
    "speech recognition",
    "autonomous driving",
    "transform*",
    "contrastive learning -survey",
    "medical image segmentation",
    "LLM agents",
    "zero-shot",
    "learning",  # matches most of the corpus: the worst case for ranking
    "Chen",  # an author name
    "the of and",  # stop-word-like words everywhere
]


def setup(data_dir: Path) -> None:
    os.environ["PAPERFEED_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fresh_database() -> None:
    """Empty every paper table, as on a new site."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in [
            "papers_vote",
            "papers_dailyentry",
            "papers_authorship",
            "papers_author",
            "papers_paper",
        ]:
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute("DELETE FROM papers_search")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")


class NoSearchIndex:
    def index(self, documents) -> None:
        pass

    def remove(self, paper_ids) -> None:
        pass


def time_parse(source: Path) -> tuple[float, int]:
    from paperfeed.core.records import LineReader, parse_jsonl_line

    start = time.perf_counter()
    n = 0
    with LineReader(source) as reader:
        for _, line in reader:
            parse_jsonl_line(line)
            n += 1
    return time.perf_counter() - start, n


def time_load(source: Path, with_search_index: bool = True) -> tuple[float, int]:
    from paperfeed.papers.services import loading

    fresh_database()
    original = loading.get_backend
    if not with_search_index:
        loading.get_backend = NoSearchIndex
    try:
        start = time.perf_counter()
        summary = loading.load_jsonl(source)
        elapsed = time.perf_counter() - start
    finally:
        loading.get_backend = original
    return elapsed, summary.new


def time_index_only(source: Path) -> tuple[float, int]:
    """Only the keyword index: every paper's text into an empty FTS5 table, in batches as the loader does."""
    from django.db import connection, transaction

    from paperfeed.core.records import LineReader, parse_jsonl_line
    from paperfeed.papers.services.search import SearchDocument, get_backend

    with LineReader(source) as reader:
        docs = [
            SearchDocument(i, r.title, r.abstract, r.authors)
            for i, (_, line) in enumerate(reader, start=1)
            for r in [parse_jsonl_line(line)]
        ]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM papers_search")
    backend = get_backend()
    start = time.perf_counter()
    for offset in range(0, len(docs), 2000):
        with transaction.atomic():
            backend.index(docs[offset : offset + 2000])
    return time.perf_counter() - start, len(docs)


def time_searches(repeat: int) -> dict[str, list[float]]:
    from django.test import Client

    from paperfeed.core.search_query import parse_query
    from paperfeed.papers.services.search import SearchFilters, search_papers

    service: list[float] = []
    pages: list[float] = []
    per_query: dict[str, float] = {}
    client = Client()
    for query in QUERIES:  # warm the page cache once
        search_papers(parse_query(query), SearchFilters())
    for query in QUERIES:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            search_papers(parse_query(query), SearchFilters())
            times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            response = client.get("/search", {"q": query}, HTTP_HOST="127.0.0.1")
            pages.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (query, response.status_code)
        service += times
        per_query[query] = statistics.median(times)
    return {"service": service, "page": pages, "per_query": per_query}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query (default 5)")
    args = parser.parse_args()
    if not args.source.is_file():
        sys.exit(f"{args.source}: no such file (pass --source)")

    with tempfile.TemporaryDirectory(prefix="paperfeed-bench-") as tmp:
        setup(Path(tmp))
        parse_s, n = time_parse(args.source)
        tables_s, _ = time_load(args.source, with_search_index=False)
        index_s, _ = time_index_only(args.source)
        full_s, loaded = time_load(args.source, with_search_index=True)
        searches = time_searches(args.repeat)
        size_mb = (Path(tmp) / "paperfeed.sqlite3").stat().st_size / 2**20

    service, page = searches["service"], searches["page"]
    print(f"## Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {__import__('sqlite3').sqlite_version}; source {args.source.name} ({n:,} papers); "
        f"database {size_mb:,.0f} MB."
    )
    print()
    print("| phase | seconds | papers/s |")
    print("|---|---:|---:|")
    print(f"| read + parse + validate only (no database) | {parse_s:.2f} | {n / parse_s:,.0f} |")
    print(f"| load into tables, no keyword index | {tables_s:.2f} | {n / tables_s:,.0f} |")
    print(f"| keyword index (FTS5) only | {index_s:.2f} | {n / index_s:,.0f} |")
    print(f"| **full load** (`paperfeed load-jsonl`: tables + index) | {full_s:.2f} | {loaded / full_s:,.0f} |")
    print()
    print(f"Search over {loaded:,} papers, {len(QUERIES)} queries × {args.repeat} runs, first page of 20:")
    print()
    print("| measure | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in (
        ("search service (query + cards)", service),
        ("whole /search page (test client)", page),
    ):
        print(f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} | {max(values):.1f} |")
    print()
    print(
        "Median service time per query (ms): " + ", ".join(f"`{q}` {t:.1f}" for q, t in searches["per_query"].items())
    )


if __name__ == "__main__":
    main()
