"""BEIR SciFact nDCG@10 / Recall@100 with the FTS5 ranking paperfeed's keyword search used before tantivy.

    .venv/bin/python bench/scifact_baseline.py [--dir DIR] [--split test] [--weights 5,1,2] [--rank-cap N]
    .venv/bin/python bench/scifact_baseline.py --tune      # pick title,abstract weights on train, show test too

Kept as the FTS5 reference for the engine comparison (bench/engine_comparison.py; the site's own keyword search is
scored by `paperfeed eval beir`). Indexes the corpus into an in-memory FTS5 table built like the site's former one
(title, abstract, authors with authors empty; tokenizer porter unicode61 remove_diacritics 2; persistent rank
bm25(title, abstract, authors)), then runs every judged query of the split through parse_query +
fts5_reference.fts5_tiers(match_all=False) (a claim is a sentence: matching any of its words and ranking by BM25
is the fair mode), keeps the first 100 results with the tiers listed one after the other, as the site did, and
scores them with paperfeed.core.evaluation. No Django, no paperfeed database. SciFact (CC BY-NC) is read where it
lies and never copied.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from fts5_reference import fts5_tiers

from paperfeed.core.evaluation import BeirError, BeirSet, Scores, evaluate, read_beir
from paperfeed.core.search_query import parse_query

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
TOP = 100
# Title weights tried by --tune, abstract weight 1 (authors are empty in SciFact, so their weight is moot).
TUNE_GRID = [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (5.0, 1.0), (10.0, 1.0)]


def build_index(data: BeirSet) -> sqlite3.Connection:
    """An in-memory FTS5 table shaped like the site's former papers_search; rowid i is data.documents[i - 1]."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE papers_search USING fts5("
        "title, abstract, authors, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    db.executemany(
        "INSERT INTO papers_search(rowid, title, abstract, authors) VALUES (?, ?, ?, '')",
        [(i, d.title, d.text) for i, d in enumerate(data.documents, start=1)],
    )
    db.commit()
    return db


def set_weights(db: sqlite3.Connection, weights: tuple[float, float, float]) -> None:
    """Make bm25 with these column weights the table's persistent rank, as the site's migration did."""
    rank = "bm25({:.6g}, {:.6g}, {:.6g})".format(*weights)
    db.execute("INSERT INTO papers_search(papers_search, rank) VALUES ('rank', ?)", (rank,))


def search(db: sqlite3.Connection, ids: list[str], text: str, rank_cap: int | None) -> list[str]:
    """The first TOP document ids for a query, tier after tier, each tier ordered by rank as the site's FTS5 search
    did."""
    found: list[str] = []
    for expression in fts5_tiers(parse_query(text), match_all=False):
        recent = ""
        if rank_cap is not None:
            # The site's FTS5 search ranked only the rank_cap most recently added matches (its former RANK_CAP;
            # tantivy ranks every match).
            row = db.execute(
                f"SELECT rowid FROM papers_search WHERE papers_search MATCH ? ORDER BY rowid DESC "
                f"LIMIT 1 OFFSET {rank_cap - 1}",
                (expression,),
            ).fetchone()
            if row:
                recent = f" AND rowid >= {int(row[0])}"
        rows = db.execute(
            f"SELECT rowid FROM papers_search WHERE papers_search MATCH ?{recent} ORDER BY rank LIMIT ?",
            (expression, TOP - len(found)),
        ).fetchall()
        found += [ids[rowid - 1] for (rowid,) in rows]
        if len(found) >= TOP:
            break
    return found


def score(db: sqlite3.Connection, data: BeirSet, rank_cap: int | None = None) -> Scores:
    """nDCG@10 and Recall@100 of the table's current ranking over the judged queries of data."""
    ids = [d.id for d in data.documents]
    run = {qid: search(db, ids, text, rank_cap) for qid, text in data.queries.items()}
    return evaluate(run, data.judgments)


def parse_weights(text: str) -> tuple[float, float, float]:
    parts = [float(p) for p in text.split(",")]
    if len(parts) == 2:
        parts.append(2.0)
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("weights are title,abstract[,authors], e.g. 5,1,2")
    return parts[0], parts[1], parts[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="a BEIR directory (default: %(default)s)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--weights", type=parse_weights, default=(5.0, 1.0, 2.0), help="title,abstract,authors")
    parser.add_argument("--rank-cap", type=int, default=None, help="rank only the N newest matches (old FTS5 site)")
    parser.add_argument("--tune", action="store_true", help="try title,abstract weights; choose on train only")
    args = parser.parse_args()
    if args.rank_cap is not None and args.rank_cap < 1:
        parser.error("--rank-cap must be at least 1")
    try:
        run(args)
    except BeirError as e:
        parser.error(str(e))


def run(args: argparse.Namespace) -> None:
    """Score one split, or with --tune every weight pair of TUNE_GRID on train and test."""
    print(f"SQLite {sqlite3.sqlite_version}, {args.dir}")
    if not args.tune:
        data = read_beir(args.dir, args.split)
        start = time.perf_counter()
        db = build_index(data)
        set_weights(db, args.weights)
        scores = score(db, data, args.rank_cap)
        print(
            f"{args.split}: {scores.queries} queries, {len(data.documents):,} documents, bm25{args.weights}: "
            f"nDCG@10 {scores.ndcg_at_10:.4f}, Recall@100 {scores.recall_at_100:.4f} "
            f"({time.perf_counter() - start:.1f} s)"
        )
        return

    train, test = read_beir(args.dir, "train"), read_beir(args.dir, "test")
    db = build_index(train)  # the corpus is the same for both splits
    rows = []
    for title, abstract in TUNE_GRID:
        set_weights(db, (title, abstract, args.weights[2]))
        rows.append(((title, abstract), score(db, train, args.rank_cap), score(db, test, args.rank_cap)))
    chosen = max(rows, key=lambda r: r[1].ndcg_at_10)[0]
    print(f"train {len(train.queries)} queries, test {len(test.queries)} queries; chosen on train nDCG@10\n")
    print("| title,abstract | train nDCG@10 | train R@100 | test nDCG@10 | test R@100 |\n|---|---:|---:|---:|---:|")
    for (title, abstract), tr, te in rows:
        mark = " (chosen)" if (title, abstract) == chosen else ""
        print(
            f"| {title:g},{abstract:g}{mark} | {tr.ndcg_at_10:.4f} | {tr.recall_at_100:.4f} "
            f"| {te.ndcg_at_10:.4f} | {te.recall_at_100:.4f} |"
        )


if __name__ == "__main__":
    main()
