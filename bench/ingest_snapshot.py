"""Benchmark: ingesting arXiv's metadata snapshot format (issue 3's target: >= 20,000 papers/s).

    .venv/bin/python bench/ingest_snapshot.py [--source papers.jsonl.gz]

Converts the shared 74,728-paper corpus to snapshot format (bench/make_snapshot.py), then times, in one run on a
fresh SQLite database each: parsing alone, the load without the keyword index (the loader's `keep_in_step` made a
no-op: tables only), and the whole `paperfeed ingest snapshot` load (the tantivy keyword index kept in step after
each batch). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from load_and_search import (  # noqa: E402
    DEFAULT_SOURCE,
    check_keyword_index,
    fresh_database,
    setup,
    without_keyword_index,
)
from make_snapshot import convert  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperfeed-bench-") as tmp:
        snapshot = Path(tmp) / "arxiv-metadata-oai-snapshot.json"
        n = convert(args.source, snapshot)
        setup(Path(tmp) / "data")
        from paperfeed.core.records import LineReader
        from paperfeed.core.sources.snapshot import parse_snapshot_line
        from paperfeed.papers.services import loading

        start = time.perf_counter()
        with LineReader(snapshot) as reader:
            for _, line in reader:
                parse_snapshot_line(line)
        parse_s = time.perf_counter() - start

        timings = {}
        for label, index in (("tables", False), ("full", True)):
            fresh_database()  # no papers, no change log, no keyword index
            with nullcontext() if index else without_keyword_index():
                start = time.perf_counter()
                summary = loading.load_file(snapshot, parse_snapshot_line)
                timings[label] = time.perf_counter() - start
            assert summary.new == n, summary
        check_keyword_index()
        size = snapshot.stat().st_size / 2**20

    print(f"## Snapshot ingest, run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {n:,} papers in snapshot format ({size:,.0f} MB, plain JSON lines)."
    )
    print()
    print("| phase | seconds | papers/s |")
    print("|---|---:|---:|")
    print(f"| read + parse + validate only (no database) | {parse_s:.2f} | {n / parse_s:,.0f} |")
    tables = timings["tables"]
    print(f"| load into tables, no keyword index (`keep_in_step` a no-op) | {tables:.2f} | {n / tables:,.0f} |")
    full = timings["full"]
    print(f"| **full** `paperfeed ingest snapshot` (tables + tantivy keyword index) | {full:.2f} | {n / full:,.0f} |")


if __name__ == "__main__":
    main()
