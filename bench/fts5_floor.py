"""How fast can SQLite FTS5 index the corpus at all? The floor under any load that builds a keyword index.

    .venv/bin/python bench/fts5_floor.py [--source FILE]

Indexes every paper's title, abstract and authors (the text paperfeed indexes) into FTS5 tables of several
kinds, 2,000 papers per transaction, and prints seconds and papers/s for each. No paperfeed code is involved.
"paperfeed's table" is the FTS5 table the site used before its keyword search moved to tantivy; the script stays
as the FTS5 reference for the engine comparison (bench/engine_comparison.py).
"""

from __future__ import annotations

import argparse
import gzip
import sqlite3
import tempfile
import time
from pathlib import Path

import orjson

DEFAULT_SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "arxiv-daily" / "papers.jsonl.gz"
PORTER = "tokenize='porter unicode61 remove_diacritics 2'"
FILE_PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
VARIANTS = [
    ("paperfeed's table, on disk (WAL)", "file", PORTER, FILE_PRAGMAS),
    ("same, 16 KiB pages", "file", PORTER, "PRAGMA page_size=16384;" + FILE_PRAGMAS),
    ("same, synchronous=OFF", "file", PORTER, FILE_PRAGMAS + "PRAGMA synchronous=OFF;"),
    ("paperfeed's table, in memory (no I/O at all)", "memory", PORTER, ""),
    (
        "in memory, ascii tokenizer, detail=none (least work FTS5 can do)",
        "memory",
        "tokenize='ascii', detail=none",
        "",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    with gzip.open(args.source, "rb") as f:
        records = [orjson.loads(line) for line in f if line.strip()]
    rows = [(i, r["title"], r["abstract"], ", ".join(r["authors"])) for i, r in enumerate(records, start=1)]
    print(f"{len(rows):,} papers, SQLite {sqlite3.sqlite_version}\n")
    print("| FTS5 table | seconds | papers/s |\n|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, where, options, pragmas in VARIANTS:
            path = ":memory:" if where == "memory" else str(Path(tmp) / f"{len(label)}.db")
            db = sqlite3.connect(path, isolation_level=None)
            db.executescript(f"{pragmas} CREATE VIRTUAL TABLE s USING fts5(title, abstract, authors, {options});")
            start = time.perf_counter()
            for offset in range(0, len(rows), 2000):
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO s(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
                    rows[offset : offset + 2000],
                )
                db.execute("COMMIT")
            seconds = time.perf_counter() - start
            db.close()
            print(f"| {label} | {seconds:.2f} | {len(rows) / seconds:,.0f} |")


if __name__ == "__main__":
    main()
