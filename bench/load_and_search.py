"""Benchmark: loading the full 74,728-paper corpus, and keyword-search latency on it.

    make bench                      # or: python bench/load_and_search.py [--source FILE] [--repeat N]

Prints a Markdown report (copied into docs/benchmarks.md). Each figure is measured in this one run in a temporary
data directory, each load on a fresh SQLite database without a keyword index, so ratios between phases are
comparable. Phases: parsing alone; the load with the loader's keyword-index step (`keep_in_step`) replaced by a
no-op (tables only; the triggers still log every change); the keyword index (tantivy) alone, rebuilt from those
tables; the full load as `paperfeed load-jsonl` does it (the index applies each committed batch); then keyword
search through `search_papers(SearchRequest(q, "keyword"))` and the /search page.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
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
    """Empty every paper table and the search change log, and remove the keyword index, as on a new site."""
    from django.db import connection

    from paperfeed.papers.retrieval import keyword

    with connection.cursor() as cursor:
        for table in [
            "papers_vote",
            "papers_dailyentry",
            "papers_authorship",
            "papers_author",
            "papers_paper",
        ]:
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute("DELETE FROM papers_searchchange")  # last: the deletes above log changes to it
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
    path = keyword.index_path()
    for directory in (path, path.with_name(path.name + ".building"), path.with_name(path.name + ".old")):
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def without_keyword_index() -> Iterator[None]:
    """The loader with its keyword-index step (`keep_in_step`, which applies each committed batch to the index)
    made a no-op: what loading the tables alone costs. The database triggers still log every change in
    papers_searchchange, as they do in every load."""
    from paperfeed.papers.services import loading

    original = loading.keep_in_step
    loading.keep_in_step = lambda wait=False: None
    try:
        yield
    finally:
        loading.keep_in_step = original


def time_parse(source: Path) -> tuple[float, int]:
    from paperfeed.core.records import LineReader, parse_jsonl_line

    start = time.perf_counter()
    n = 0
    with LineReader(source) as reader:
        for _, line in reader:
            parse_jsonl_line(line)
            n += 1
    return time.perf_counter() - start, n


def time_load(source: Path, with_keyword_index: bool = True) -> tuple[float, int]:
    """A load into a fresh database, as `paperfeed load-jsonl` does it (or without the keyword index)."""
    from paperfeed.papers.services import loading

    fresh_database()
    with without_keyword_index() if not with_keyword_index else nullcontext():
        start = time.perf_counter()
        summary = loading.load_jsonl(source)
        elapsed = time.perf_counter() - start
    return elapsed, summary.new


def time_index_only() -> tuple[float, int]:
    """Only the keyword index: every paper already in the tables into a new tantivy index, as
    `paperfeed index --rebuild` does (reading the papers back from the database included)."""
    from paperfeed.papers.retrieval import keyword

    start = time.perf_counter()
    report = keyword.rebuild()
    return time.perf_counter() - start, report.papers


def check_keyword_index() -> None:
    """After the full load the index must hold exactly the visible papers, with nothing left to apply."""
    from paperfeed.papers.retrieval import keyword

    problem = keyword.problem() or keyword.verify()
    if problem:
        sys.exit(f"the keyword index is not in step after the load: {problem}")


def time_searches(repeat: int) -> dict[str, list[float]]:
    from django.test import Client

    from paperfeed.papers.retrieval import SearchRequest
    from paperfeed.papers.services.search import search_papers

    service: list[float] = []
    pages: list[float] = []
    per_query: dict[str, float] = {}
    client = Client()
    for query in QUERIES:  # warm the page cache once
        search_papers(SearchRequest(query, "keyword"))
    for query in QUERIES:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            search_papers(SearchRequest(query, "keyword"))
            times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            response = client.get("/search", {"q": query, "mode": "keyword"}, HTTP_HOST="127.0.0.1")
            pages.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (query, response.status_code)
        service += times
        per_query[query] = statistics.median(times)
    return {"service": service, "page": pages, "per_query": per_query}


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.is_dir() else 0.0


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
        from paperfeed.papers.retrieval import keyword

        parse_s, n = time_parse(args.source)
        tables_s, _ = time_load(args.source, with_keyword_index=False)
        index_s, indexed = time_index_only()
        full_s, loaded = time_load(args.source, with_keyword_index=True)
        check_keyword_index()
        searches = time_searches(args.repeat)
        size_mb = (Path(tmp) / "paperfeed.sqlite3").stat().st_size / 2**20
        index_mb = dir_mb(keyword.index_path())

    service, page = searches["service"], searches["page"]
    print(f"## Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {__import__('sqlite3').sqlite_version}, tantivy {_version('tantivy')}; source {args.source.name} "
        f"({n:,} papers); database {size_mb:,.0f} MB, keyword index {index_mb:,.0f} MB."
    )
    print()
    print("| phase | seconds | papers/s |")
    print("|---|---:|---:|")
    print(f"| read + parse + validate only (no database) | {parse_s:.2f} | {n / parse_s:,.0f} |")
    print(f"| load into tables, no keyword index (the loader's `keep_in_step` a no-op) | {tables_s:.2f} "
          f"| {n / tables_s:,.0f} |")  # fmt: skip
    print(f"| keyword index (tantivy) only, rebuilt from the tables (`paperfeed index --rebuild`) | {index_s:.2f} "
          f"| {indexed / index_s:,.0f} |")  # fmt: skip
    print(f"| **full load** (`paperfeed load-jsonl`: tables + keyword index in step after each batch) "
          f"| {full_s:.2f} | {loaded / full_s:,.0f} |")  # fmt: skip
    print()
    print(f"Keyword search over {loaded:,} papers, {len(QUERIES)} queries × {args.repeat} runs, first page of 20:")
    print()
    print("| measure | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in (
        ("search service (`search_papers`: keyword query, count, marks, cards)", service),
        ("whole /search?mode=keyword page (test client)", page),
    ):
        print(f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} | {max(values):.1f} |")
    print()
    print(
        "Median service time per query (ms): " + ", ".join(f"`{q}` {t:.1f}" for q, t in searches["per_query"].items())
    )


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    main()
