"""The keyword engine, chosen by measurement: SQLite FTS5 against tantivy on the same papers and queries.

    python bench/engine_comparison.py [--source papers.jsonl.gz] [--repeat 5]

Both engines get the same documents (title, abstract, authors), the same tokenization (letters and digits,
accents folded, English stems), the same field weights (title 5, authors 2, abstract 1) and the same queries
(parsed by the product's parser; every word required, the relaxed any-word form when nothing has them all).
Each answer is exact: the 10 best matches by BM25 among all of them, and how many match. FTS5 runs in an
in-memory database, as the site kept it before; tantivy through the product's own query building
(paperfeed.papers.retrieval.engine). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
os.environ.setdefault("PAPERFEED_DATA_DIR", tempfile.mkdtemp(prefix="engine-comparison-site-"))
import django  # noqa: E402

django.setup()
from fts5_reference import fts5_tiers  # noqa: E402
from load_and_search import DEFAULT_SOURCE, QUERIES  # noqa: E402

from paperfeed.core.search_query import parse_query  # noqa: E402
from paperfeed.papers.retrieval import engine  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with gzip.open(args.source) as lines:
        rows = [orjson.loads(line) for line in lines]
    fts = sqlite3.connect(":memory:")
    tokenizer = "porter unicode61 remove_diacritics 2"
    fts.execute(f"CREATE VIRTUAL TABLE s USING fts5(title, abstract, authors, tokenize='{tokenizer}')")
    fts.execute("INSERT INTO s(s, rank) VALUES ('rank', 'bm25(5.0, 1.0, 2.0)')")
    started = time.perf_counter()
    fts.executemany(
        "INSERT INTO s(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
        [(n, r["title"], r["abstract"], ", ".join(r["authors"])) for n, r in enumerate(rows, 1)],
    )
    fts_build = time.perf_counter() - started
    directory = tempfile.mkdtemp(prefix="engine-comparison-")
    index = tantivy.Index(engine.SCHEMA, path=directory)
    index.register_tokenizer(engine.ANALYZER, engine._STEMMED)
    started = time.perf_counter()
    writer = index.writer(engine.WRITER_HEAP * 2, 2)
    engine.add_documents(
        writer,
        (
            engine.Document(n, r["title"], r["abstract"], r["authors"], r["categories"], None, r["id"])
            for n, r in enumerate(rows, 1)
        ),
    )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    tantivy_build = time.perf_counter() - started
    searcher = index.searcher()

    def fts_answer(text: str) -> tuple[list[int], int]:
        query = parse_query(text)
        for match_all in (True, False):
            ids, total = [], 0
            for expression in fts5_tiers(query, match_all):
                total += fts.execute("SELECT count(*) FROM s WHERE s MATCH ?", (expression,)).fetchone()[0]
                ids += [
                    r[0]
                    for r in fts.execute(
                        "SELECT rowid FROM s WHERE s MATCH ? ORDER BY rank LIMIT ?", (expression, 10 - len(ids))
                    )
                ]
            if total or len(query.positive) < 2:
                return ids, total
        return [], 0

    def tantivy_answer(text: str) -> tuple[list[int], int]:
        query = parse_query(text)
        for match_all in (True, False):
            ids, total = [], 0
            for tier in engine.tiers(query, match_all):
                found = engine.ranked(searcher, tier, 10 - len(ids))
                ids += found.ids
                total += found.total
            if total or len(query.positive) < 2:
                return ids, total
        return [], 0

    times: dict[str, list[float]] = {"FTS5": [], "tantivy": []}
    per_query: list[tuple[str, int, float, float]] = []
    same_counts = 0
    for text in QUERIES:
        answers = {}
        for name, answer in (("FTS5", fts_answer), ("tantivy", tantivy_answer)):
            answer(text)
            for _ in range(args.repeat):
                start = time.perf_counter()
                answers[name] = answer(text)
                times[name].append((time.perf_counter() - start) * 1000)
        same_counts += answers["FTS5"][1] == answers["tantivy"][1]
        fastest = {name: min(times[name][-args.repeat :]) for name in times}
        per_query.append((text, answers["tantivy"][1], fastest["FTS5"], fastest["tantivy"]))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(
        f"{len(rows):,} papers, {len(QUERIES)} queries x {args.repeat}; {machine}, "
        f"load average {os.getloadavg()[0]:.1f}, {when}"
    )
    print("| engine | index build | p50 | p95 | max |\n|---|---:|---:|---:|---:|")
    for name, build in (("FTS5", fts_build), ("tantivy", tantivy_build)):
        values = times[name]
        print(
            f"| {name} | {build:.1f} s | {statistics.median(values):.2f} ms | {percentile(values, 95):.2f} ms "
            f"| {max(values):.2f} ms |"
        )
    print(f"Match counts equal for {same_counts} of {len(QUERIES)} queries (the tokenizers' stemmers differ a little).")
    print("\n| query | matches | FTS5 min | tantivy min |\n|---|---:|---:|---:|")
    for text, total, fts_ms, tantivy_ms in per_query:
        print(f"| `{text}` | {total:,} | {fts_ms:.2f} ms | {tantivy_ms:.2f} ms |")


if __name__ == "__main__":
    main()
