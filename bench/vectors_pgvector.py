"""Benchmark: nearest neighbours in pgvector (PostgreSQL) against the site's usearch index, on the same vectors.

    .venv/bin/python bench/vectors_pgvector.py --embeddings full-embeddings.npz [--queries 200]

Input for issue 14's choice between pgvector (one index in the database, shared by every web node) and the
embedded usearch index (one per node, built from the database). FILE.npz holds `vectors` (n × 384 unit vectors,
as bench/synthetic_corpus.py reads them; export them from a site after `paperfeed index`).

Starts a PostgreSQL 16 with pgvector of its own (PyPI's pgserver) in a temporary directory, copies the vectors
into a table `vector(384)`, builds an HNSW index with the site's settings (cosine, m = 16, ef_construction = 128;
ef_search = 64 at query time) and times it; builds the usearch index the site builds (`vectors.new_index()`'s
settings) from the same vectors; then asks both the same queries (real vectors with Gaussian noise, seed 0), one at
a time, k = 10, and reports latency, recall@10 against an exact search (numpy, every vector), and whether two
builds of each answer the same (usearch: a second build with the same threads; pgvector: one index, asked twice).

    .venv/bin/python bench/vectors_pgvector.py --site [--queries 200]

measures the product's own path instead, on what ships with it (the demo corpus: 5,921 papers and their stored
embeddings), on SQLite (usearch) and on PostgreSQL (pgvector, a pgserver of its own), each in a process of its own
as a site: `vectors.rebuild(model)`; `embedding.store` of 256 embeddings again (on PostgreSQL the vectors are
written in that transaction, into the HNSW index); `vectors.nearest(model, q, k)` at k = 10 and 100 (what search
and "similar papers" ask), with recall against the exact ranking of the stored vectors (`embeddings.ranked`).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pgserver
import psycopg
from usearch.index import Index

K = 10


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)]


def usearch_index(vectors: np.ndarray, threads: int) -> tuple[Index, float]:
    index = Index(
        ndim=vectors.shape[1], metric="cos", dtype="f16", connectivity=16, expansion_add=128, expansion_search=64
    )
    start = time.perf_counter()
    index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=threads)
    return index, time.perf_counter() - start


def vector_literal(row: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in row) + "]"


def site_worker(queries: int) -> dict:
    """In a site of its own (the environment names its database): the product's vector store, timed."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from paperfeed.papers.models import PaperEmbedding
    from paperfeed.papers.retrieval import vectors
    from paperfeed.papers.retrieval.embeddings import ranked, stack
    from paperfeed.papers.services import demo
    from paperfeed.papers.services.embedding import store

    call_command("migrate", verbosity=0)
    demo.load_demo()
    demo.load_demo_embeddings()
    model = PaperEmbedding.objects.values_list("model", flat=True).first()
    start = time.perf_counter()
    state = vectors.rebuild(model)
    rebuilt = time.perf_counter() - start
    rows = list(PaperEmbedding.objects.order_by("paper_id").values_list("paper_id", "vector"))
    ids, matrix = [pid for pid, _ in rows], stack([blob for _, blob in rows])
    again = ids[1000:1256]
    start = time.perf_counter()
    store(model, again, matrix[1000:1256])
    stored = time.perf_counter() - start
    vectors.add(model, again, matrix[1000:1256])  # the usearch file follows after the commit
    rng = np.random.default_rng(0)
    picked = matrix[rng.choice(len(ids), queries, replace=False)] + rng.normal(0, 0.03, (queries, matrix.shape[1]))
    picked = (picked / np.linalg.norm(picked, axis=1, keepdims=True)).astype(np.float32)
    result = {"database": connection.vendor, "papers": state.count, "rebuild": rebuilt, "store 256": stored}
    for k in (10, 100):
        times, recall = [], []
        for q in picked:
            exact = {pid for pid, _ in ranked(ids, matrix, q)[:k]}
            start = time.perf_counter()
            found = vectors.nearest(model, q, k)
            times.append((time.perf_counter() - start) * 1000)
            recall.append(len(exact & {pid for pid, _ in found}) / k)
        result[f"k={k}"] = [percentile(times, 50), percentile(times, 95), statistics.mean(recall)]
    return result


def site_path(queries: int) -> None:
    """The product's vector store on both databases, each measured by a `--site-worker` process."""
    results = []
    with tempfile.TemporaryDirectory(prefix="vector-stores-") as directory:
        server = pgserver.get_server(Path(directory) / "postgres", cleanup_mode="stop")
        try:
            server.psql("CREATE DATABASE site;")
            for url in (None, server.get_uri("site")):
                env = {**os.environ, "PAPERFEED_DATA_DIR": str(Path(directory) / ("pg" if url else "sqlite"))}
                env.pop("PAPERFEED_DATABASE_URL", None)
                env.update({"PAPERFEED_DATABASE_URL": url} if url else {})
                done = subprocess.run(
                    [sys.executable, __file__, "--site-worker", "--queries", str(queries)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        finally:
            server.cleanup()
    print(f"## The vector stores as the site uses them, run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, load average "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}. The demo corpus ({results[0]['papers']:,} papers); "
        f"{queries} queries (stored vectors + N(0, 0.03²) noise), one at a time.\n"
    )
    print("| store | `vectors.rebuild` | `store` of 256 embeddings | `nearest` k=10 p50 / p95, recall | k=100 |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        label = "usearch (SQLite)" if r["database"] == "sqlite" else "pgvector (PostgreSQL)"
        cells = [f"{p50:.2f} / {p95:.2f} ms, {recall:.3f}" for p50, p95, recall in (r["k=10"], r["k=100"])]
        print(f"| {label} | {r['rebuild']:.2f} s | {r['store 256'] * 1000:.0f} ms | {cells[0]} | {cells[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embeddings", type=Path)
    parser.add_argument("--site", action="store_true", help="measure the product's own path on the demo corpus")
    parser.add_argument("--site-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    if args.site_worker:
        print(json.dumps(site_worker(args.queries)))
        return
    if args.site:
        site_path(args.queries)
        return
    if args.embeddings is None:
        parser.error("give --embeddings FILE.npz, or --site")
    vectors = np.load(args.embeddings)["vectors"].astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    n = len(vectors)
    rng = np.random.default_rng(0)
    queries = vectors[rng.choice(n, args.queries, replace=False)] + rng.normal(0, 0.03, (args.queries, 384))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    exact = [set(np.argsort(-(vectors @ q))[:K].tolist()) for q in queries]

    print(f"## Nearest neighbours: pgvector against usearch, run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, load average "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}. {n:,} vectors of 384 dimensions from "
        f"`{args.embeddings.name}`; {args.queries} queries (real vectors + N(0, 0.03²) noise), k = {K}.\n"
    )
    rows = []

    for threads in (0, 1):
        index, built = usearch_index(vectors.astype(np.float16), threads)
        again, _ = usearch_index(vectors.astype(np.float16), threads)
        times, recall, same = [], [], 0
        for q, truth in zip(queries, exact, strict=True):
            start = time.perf_counter()
            found = index.search(q, K)
            times.append((time.perf_counter() - start) * 1000)
            keys = [int(k) for k in found.keys]
            recall.append(len(truth & set(keys)) / K)
            same += keys == [int(k) for k in again.search(q, K).keys]
        label = f"usearch, built with {'all cores' if threads == 0 else 'one thread'}"
        rows.append(
            (
                label,
                built,
                percentile(times, 50),
                percentile(times, 95),
                statistics.mean(recall),
                f"{same}/{len(queries)}",
            )
        )

    with tempfile.TemporaryDirectory(prefix="pgvector-bench-") as directory:
        server = pgserver.get_server(directory, cleanup_mode="stop")
        try:
            server.psql("CREATE DATABASE bench;")
            with psycopg.connect(server.get_uri("bench"), autocommit=True) as db:
                db.execute("CREATE EXTENSION vector")
                db.execute("CREATE TABLE v (id bigint PRIMARY KEY, embedding vector(384))")
                buffer = io.StringIO()
                for i, row in enumerate(vectors):
                    buffer.write(f"{i}\t{vector_literal(row)}\n")
                start = time.perf_counter()
                with db.cursor().copy("COPY v (id, embedding) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
                copied = time.perf_counter() - start
                db.execute("SET maintenance_work_mem = '1GB'")
                db.execute("SET max_parallel_maintenance_workers = 1")
                start = time.perf_counter()
                db.execute(
                    "CREATE INDEX ON v USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128)"
                )
                built = time.perf_counter() - start
                db.execute("SET hnsw.ef_search = 64")
                times, recall, same = [], [], 0
                for q, truth in zip(queries, exact, strict=True):
                    literal = vector_literal(q)
                    start = time.perf_counter()
                    keys = [
                        r[0]
                        for r in db.execute(
                            "SELECT id FROM v ORDER BY embedding <=> %s::vector LIMIT %s", (literal, K)
                        ).fetchall()
                    ]
                    times.append((time.perf_counter() - start) * 1000)
                    recall.append(len(truth & set(keys)) / K)
                    second = [
                        r[0]
                        for r in db.execute(
                            "SELECT id FROM v ORDER BY embedding <=> %s::vector LIMIT %s", (literal, K)
                        ).fetchall()
                    ]
                    same += keys == second
                rows.append(
                    (
                        "pgvector 0.6 HNSW (one index, asked twice)",
                        built,
                        percentile(times, 50),
                        percentile(times, 95),
                        statistics.mean(recall),
                        f"{same}/{len(queries)}",
                    )
                )
                size = db.execute("SELECT pg_size_pretty(pg_relation_size('v_embedding_idx'))").fetchone()[0]
        finally:
            server.cleanup()

    print("| index | build s | k-NN p50 ms | k-NN p95 ms | recall@10 | same answer twice |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, built, p50, p95, recall, same in rows:
        print(f"| {label} | {built:.1f} | {p50:.2f} | {p95:.2f} | {recall:.3f} | {same} |")
    print(
        f"\npgvector: COPY of the vectors {copied:.1f} s, index size {size}; its latency includes the SQL round "
        "trip over a Unix socket (psycopg 3), which a web worker pays too."
    )


if __name__ == "__main__":
    sys.exit(main())
