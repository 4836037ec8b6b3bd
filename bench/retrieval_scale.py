"""Benchmark: the retrieval component's real code paths at one corpus size (load, index, search, memory).

    .venv/bin/python bench/retrieval_scale.py --corpus DIR [--data-dir D] [--repeat N] \\
        [--modes keyword hybrid similar]

DIR holds `papers.jsonl.gz` and optionally `embeddings.npy` (float16 rows aligned with the lines), as written by
bench/synthetic_corpus.py; a directory with a symlink to shared/data/arxiv-daily/papers.jsonl.gz measures the
real corpus. Everything runs on a fresh data directory (default: a new /work/pfdata/bench-<n>; a given --data-dir
must be empty or absent), which is left in place for inspection: delete it afterwards.

Measured, in this order, and printed as a Markdown report (progress goes to stderr):

1. bulk load: `load_jsonl(DIR/papers.jsonl.gz, batch_size=5000)`, which hands each committed batch to one keyword
   index writer and commits the index at the end, then a final `sync_keyword_index()` (nothing left to do), then
   `keyword.rebuild()` from the database;
   sizes of the SQLite file and of the keyword index;
2. with embeddings.npy: its rows inserted as PaperEmbedding rows (raw executemany, 20k rows a transaction), then
   `vectors.rebuild(model)`;
3. latency, server time in this process, of `search_papers(SearchRequest(q, mode))` (what the search page calls)
   for the 22 queries of bench/load_and_search.py in keyword mode (and hybrid with embeddings), one warm-up then
   --repeat runs each; page 5 of "learning"; "learning" in cs.CV; with embeddings, `similar_papers` of 50 random
   papers;
4. peak RSS of this process after the load, and of a fresh web-worker-like process (started before the load, so
   that it does not inherit this process's peak through fork/exec) that runs every query in every search mode 3
   times through `search_papers`.

`--modes` picks among keyword, hybrid and similar (default: all); hybrid and similar need embeddings.npy. Each
figure is labelled with what it measures; the load average is sampled at every phase, since other work on the
machine slows everything here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_DATA_ROOT = ROOT.parent / "pfdata"
sys.path.insert(0, str(BENCH))
from load_and_search import QUERIES, percentile  # noqa: E402

BATCH_SIZE = 5000  # papers per loader batch
INSERT_CHUNK = 20_000  # embedding rows per transaction
LOOKUP_CHUNK = 500  # arXiv ids per IN (...) list
SIMILAR_SAMPLE = 50
WORKER_RUNS = 3
SEARCH_MODES = ("keyword", "hybrid")
ALL_MODES = ("keyword", "hybrid", "similar")

# The web-worker-like child: waits for "go" on stdin (it is started before the load, while this process is
# small), then sets up Django on the same data directory, runs every query in every mode WORKER_RUNS times through
# search_papers and prints, as JSON, its peak RSS (ru_maxrss and /proc's VmHWM, both in KiB) and whether it
# found the keyword index out of step before searching (then its figures include bringing it in step).
WORKER = r"""
import json, os, resource, sys, time
if not sys.stdin.readline().strip():
    sys.exit(0)
sys.path.insert(0, sys.argv[1])
import django
django.setup()
from load_and_search import QUERIES
from paperfeed.papers.retrieval import SearchRequest, keyword_problem
from paperfeed.papers.services.search import search_papers
modes = sys.argv[2].split(",")
problem = keyword_problem()
start = time.perf_counter()
for _ in range(int(sys.argv[3])):
    for mode in modes:
        for query in QUERIES:
            search_papers(SearchRequest(query, mode))
elapsed = time.perf_counter() - start
try:
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    hwm = 0
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"maxrss": maxrss, "hwm": hwm, "seconds": elapsed, "problem": problem}))
"""


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class Progress:
    """Reports to stderr each time another tenth of the work is done."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.next = 1
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        tenths = int(10 * done / total)
        if tenths >= self.next:
            self.next = tenths + 1
            log(f"{self.label}: {min(tenths, 10) * 10}% ({time.perf_counter() - self.start:.0f} s)")


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    cpu: float  # CPU seconds of this process (every thread) during the phase
    items: int


def timed(name: str, items: int, fn: Callable, *args, **kwargs) -> tuple[Phase, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return Phase(name, time.perf_counter() - wall, time.process_time() - cpu, items), result


def loadavg() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def dir_mib(path: Path) -> float:
    if not path.exists():
        return 0.0
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def fresh_data_dir(given: Path | None) -> Path:
    if given is not None:
        if given.exists() and (not given.is_dir() or any(given.iterdir())):
            sys.exit(f"{given}: not an empty directory; the benchmark needs a fresh data directory")
        given.mkdir(parents=True, exist_ok=True)
        return given.resolve()
    DEFAULT_DATA_ROOT.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        path = DEFAULT_DATA_ROOT / f"bench-{n}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    sys.exit(f"{DEFAULT_DATA_ROOT}: no free bench-<n> name")


def setup(data_dir: Path) -> None:
    os.environ["PAPERFEED_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_worker(data_dir: Path, modes: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "paperfeed.settings"}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(BENCH), ",".join(modes), str(WORKER_RUNS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )


def run_worker(worker: subprocess.Popen) -> dict:
    """What the web-worker-like child measured: maxrss and hwm (KiB), seconds, problem."""
    out, _ = worker.communicate("go\n", timeout=3600)
    if worker.returncode != 0:
        sys.exit(f"the web-worker process failed (exit status {worker.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def code_state() -> tuple[str, dict[Path, int]]:
    """The git commit and uncommitted source files, and the mtime of every source file (to notice edits)."""
    src = ROOT / "src" / "paperfeed"
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=True
        ).stdout.split("\n")
        changed = sorted(line[3:] for line in dirty if line.strip())
        described = f"commit {head}" + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        described = "not a git checkout"
    return described, {path: path.stat().st_mtime_ns for path in src.rglob("*.py")}


def edited_since(mtimes: dict[Path, int]) -> list[str]:
    src = ROOT / "src" / "paperfeed"
    now = {path: path.stat().st_mtime_ns for path in src.rglob("*.py")}
    return sorted(
        str(path.relative_to(ROOT)) for path in now.keys() | mtimes.keys() if now.get(path) != mtimes.get(path)
    )


# --- loading ---


@dataclass
class Loaded:
    phases: list[Phase]
    papers: int
    lines: int
    batches: list[tuple[float, float]]  # per committed batch: (seconds, of which handing it to the keyword index)
    loader_peak: float  # MiB, after load_jsonl + the final sync
    rebuild_peak: float  # MiB, after keyword.rebuild too
    index_after_load: float
    index_after_rebuild: float
    sync_action: str


def load(papers_file: Path) -> Loaded:
    from paperfeed.papers.models import Paper
    from paperfeed.papers.retrieval import keyword, sync_keyword_index
    from paperfeed.papers.services.loading import load_jsonl

    progress = Progress("load_jsonl")
    # Timing wrappers only: how long each batch took, and how much of it the loader's thread spent handing the
    # batch to the keyword index (`_Follower.step`: reading the changes back and adding documents; the engine then
    # indexes them on its own thread) and committing the index at the end (`_Follower.finish`).
    syncs: list[float] = []
    finish: list[float] = []
    ends: list[float] = []
    original_step, original_finish = keyword._Follower.step, keyword._Follower.finish

    def timing(method, into: list[float]):
        def timed_method(self):
            start = time.perf_counter()
            try:
                return method(self)
            finally:
                into.append(time.perf_counter() - start)

        return timed_method

    def on_progress(position: int, size: int, _papers: int) -> None:
        ends.append(time.perf_counter())
        progress(position, size)

    log(f"loading {papers_file} (load average {loadavg()})")
    keyword._Follower.step, keyword._Follower.finish = timing(original_step, syncs), timing(original_finish, finish)
    begun = time.perf_counter()
    try:
        load_phase, summary = timed("load", 0, load_jsonl, papers_file, batch_size=BATCH_SIZE, on_progress=on_progress)
    finally:
        keyword._Follower.step, keyword._Follower.finish = original_step, original_finish
    ends = ends[:-1] if len(ends) > len(syncs) else ends  # the final call reports the end of the file
    seconds = [end - start for start, end in zip([begun, *ends], ends, strict=False)]
    batches = list(zip(seconds, syncs, strict=False))
    papers = Paper.objects.count()
    lines = summary.papers + summary.duplicates + len(summary.skipped)
    sync_phase, report = timed("sync", papers, sync_keyword_index)
    loader_peak = peak_rss_mib()
    index_after_load = dir_mib(keyword.index_path())
    log(f"loaded {papers:,} papers in {load_phase.seconds:.1f} s; rebuilding the keyword index from the database")
    rebuild_phase, _ = timed("rebuild", papers, keyword.rebuild, on_progress=Progress("keyword.rebuild"))
    return Loaded(
        [
            Phase(
                "`load_jsonl(papers.jsonl.gz, batch_size=5000)`: tables + keyword index kept in step per batch",
                load_phase.seconds,
                load_phase.cpu,
                papers,
            ),
            Phase(
                f"… of which the loader's thread handing each of the {len(syncs)} batches to the keyword index "
                "(reading it back, adding documents, commits every 100k papers / 30 s)",
                sum(syncs),
                float("nan"),
                0,
            ),
            Phase("… and the keyword index's final commit, at the end of the load", sum(finish), float("nan"), 0),
            Phase(
                f"final `sync_keyword_index()` (action: {report.action})", sync_phase.seconds, sync_phase.cpu, papers
            ),
            Phase(
                "**whole load**: `load_jsonl` + the final sync",
                load_phase.seconds + sync_phase.seconds,
                load_phase.cpu + sync_phase.cpu,
                papers,
            ),
            Phase(
                "`keyword.rebuild()`: the keyword index rebuilt from the database",
                rebuild_phase.seconds,
                rebuild_phase.cpu,
                papers,
            ),
        ],
        papers,
        lines,
        batches,
        loader_peak,
        peak_rss_mib(),
        index_after_load,
        dir_mib(keyword.index_path()),
        report.action,
    )


def insert_embeddings(papers_file: Path, npy: Path, model: str) -> tuple[int, int]:
    """Store row i of `npy` as the embedding of line i's paper; (rows inserted, rows without a paper)."""
    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from paperfeed.core.records import LineReader, parse_jsonl_line
    from paperfeed.papers.models import Paper, PaperEmbedding
    from paperfeed.papers.retrieval.embeddings import DIMENSIONS

    matrix = np.load(npy, mmap_mode="r")
    if matrix.ndim != 2 or matrix.shape[1] != DIMENSIONS or matrix.dtype != np.float16:
        sys.exit(f"{npy}: expected float16 rows of {DIMENSIONS} values, found {matrix.dtype} {matrix.shape}")
    created = timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    table, papers = PaperEmbedding._meta.db_table, Paper._meta.db_table
    sql = f"INSERT INTO {table} (paper_id, model, vector, created_at) VALUES (%s, %s, %s, %s)"
    progress = Progress("embeddings insert")
    inserted = orphans = row = 0

    def flush(ids: list[str], first_row: int) -> tuple[int, int]:
        pks: dict[str, int] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            for start in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[start : start + LOOKUP_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT arxiv_id, id FROM {papers} WHERE arxiv_id IN ({marks})", chunk)
                pks.update(cursor.fetchall())
            rows = {}  # paper id -> row; a later line of the same id wins, as in the loader
            for offset, arxiv_id in enumerate(ids):
                pk = pks.get(arxiv_id)
                if pk is not None:
                    rows[pk] = (pk, model, matrix[first_row + offset].tobytes(), created)
            cursor.executemany(sql, list(rows.values()))
        return len(rows), len(ids) - len(rows)

    with LineReader(papers_file) as reader:
        ids: list[str] = []
        first = 0
        for _, line in reader:
            if row >= matrix.shape[0]:
                sys.exit(f"{npy}: {matrix.shape[0]:,} rows, but {papers_file} has more lines")
            ids.append(parse_jsonl_line(line).arxiv_id)
            row += 1
            if len(ids) >= INSERT_CHUNK:
                done, missing = flush(ids, first)
                inserted, orphans, first, ids = inserted + done, orphans + missing, row, []
                progress(row, matrix.shape[0])
        if ids:
            done, missing = flush(ids, first)
            inserted, orphans = inserted + done, orphans + missing
        progress(row, matrix.shape[0])
    if row != matrix.shape[0]:
        sys.exit(f"{npy}: {matrix.shape[0]:,} rows for {row:,} lines of {papers_file}")
    return inserted, orphans


# --- searching ---


@dataclass
class Timings:
    label: str
    times: list[float]  # ms
    total: int = 0  # matches of the last run
    answered: str = ""  # the mode that answered


def time_search(label: str, request, repeat: int) -> Timings:
    from paperfeed.papers.services.search import search_papers

    search_papers(request)  # warm-up
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = search_papers(request)
        times.append((time.perf_counter() - start) * 1000)
    return Timings(label, times, result.total, result.mode)


def time_modes(modes: list[str], repeat: int) -> dict[str, dict]:
    from paperfeed.papers.retrieval import Filters, SearchRequest

    out: dict[str, dict] = {}
    for mode in modes:
        log(f"searching, mode {mode} (load average {loadavg()})")
        queries = [time_search(q, SearchRequest(q, mode), repeat) for q in QUERIES]
        deep = time_search("learning, page 5", SearchRequest("learning", mode, page=5), repeat)
        filtered = time_search(
            "learning, category cs.CV", SearchRequest("learning", mode, Filters(category="cs.CV")), repeat
        )
        out[mode] = {"queries": queries, "deep": deep, "filtered": filtered}
    return out


def time_similar(seed: int = 0) -> tuple[list[float], int]:
    from paperfeed.papers.models import PaperEmbedding
    from paperfeed.papers.retrieval import similar_papers

    ids = sorted(PaperEmbedding.objects.values_list("paper_id", flat=True))
    sample = random.Random(seed).sample(ids, min(SIMILAR_SAMPLE + 1, len(ids)))
    similar_papers(sample.pop())  # warm-up: opens the vector index
    times, full = [], 0
    for pid in sample:
        start = time.perf_counter()
        found = similar_papers(pid)
        times.append((time.perf_counter() - start) * 1000)
        full += bool(found) and len(found) == 6
    return times, full


# --- the report ---


def stats(times: list[float]) -> str:
    return f"{percentile(times, 50):.1f} | {percentile(times, 95):.1f} | {max(times):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="directory with papers.jsonl.gz [embeddings.npy]")
    parser.add_argument("--data-dir", type=Path, help=f"fresh data directory (default: {DEFAULT_DATA_ROOT}/bench-N)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each search after a warm-up (default 5)")
    parser.add_argument("--modes", nargs="+", choices=ALL_MODES, default=list(ALL_MODES), help="what to time")
    args = parser.parse_args()
    papers_file, npy = args.corpus / "papers.jsonl.gz", args.corpus / "embeddings.npy"
    if not args.corpus.is_dir():
        sys.exit(f"{args.corpus}: no such directory (make a corpus with bench/synthetic_corpus.py)")
    if not papers_file.is_file():
        sys.exit(f"{args.corpus}: no papers.jsonl.gz in it (make one with bench/synthetic_corpus.py)")
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    has_vectors = npy.is_file()
    skipped = [m for m in args.modes if m != "keyword" and not has_vectors]
    modes = [m for m in SEARCH_MODES if m in args.modes and (m == "keyword" or has_vectors)]
    time_similar_papers = "similar" in args.modes and has_vectors

    started = datetime.now(UTC)
    code, mtimes = code_state()
    loads = {"start": loadavg()}
    data_dir = fresh_data_dir(args.data_dir)
    log(f"data directory {data_dir}")
    worker = start_worker(data_dir, modes) if modes else None
    try:
        setup(data_dir)
        from django.db import connection

        from paperfeed.papers.retrieval import vectors

        loaded = load(papers_file)
        loads["after load"] = loadavg()
        phases = list(loaded.phases)
        embedded = orphans = 0
        model = ""
        if has_vectors:
            from paperfeed.core.embedder import default_embedder

            model = default_embedder().name
            log(f"inserting embeddings from {npy} (model {model})")
            phase, (embedded, orphans) = timed("embeddings", 0, insert_embeddings, papers_file, npy, model)
            phases.append(
                Phase(
                    f"embeddings.npy into PaperEmbedding rows (read ids, look up papers, executemany in "
                    f"{INSERT_CHUNK // 1000}k-row transactions)",
                    phase.seconds,
                    phase.cpu,
                    embedded,
                )
            )
            log("rebuilding the vector index")
            phase, _ = timed("vectors", embedded, vectors.rebuild, model, on_progress=Progress("vectors.rebuild"))
            phases.append(Phase(f"`vectors.rebuild({model!r})` (usearch HNSW)", phase.seconds, phase.cpu, embedded))
            loads["after embeddings"] = loadavg()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database = data_dir / "paperfeed.sqlite3"
        db_mib, wal_mib = dir_mib(database), dir_mib(data_dir / "paperfeed.sqlite3-wal")
        keyword_mib = dir_mib(data_dir / "keyword-index")
        vector_mib = dir_mib(vectors.index_path(model)) if model else 0.0

        loads["before searches"] = loadavg()
        searches = time_modes(modes, args.repeat)
        similar = time_similar() if time_similar_papers else None
        loads["after searches"] = loadavg()
        in_process_peak = peak_rss_mib()
        worker_rss = None
        if worker is not None:
            log(f"web-worker process: {len(QUERIES)} queries x {', '.join(modes)} x {WORKER_RUNS}")
            worker_rss = run_worker(worker)
        loads["end"] = loadavg()
        edited = edited_since(mtimes)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()

    # --- the report ---
    n = loaded.papers
    print(f"## Retrieval at {n:,} papers: run of {started:%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}. Load average (1/5/15 min): "
        + "; ".join(f"{name} {value}" for name, value in loads.items())
        + "."
    )
    print()
    print(f"Code: {code}.")
    if edited:
        print()
        print(
            f"**Warning: source files changed during the run** ({', '.join(edited)}): phases after the change may "
            "have run other code (the web worker imports it afresh)."
        )
    print()
    print(
        f"Corpus: `{args.corpus}` — papers.jsonl.gz {papers_file.stat().st_size / 2**20:,.0f} MB, {loaded.lines:,} "
        f"lines, {n:,} papers stored; embeddings: "
        + (f"{embedded:,} rows stored ({orphans:,} without a paper)" if has_vectors else "none (keyword only)")
        + f". Fresh data directory `{data_dir}`."
    )
    if skipped:
        print()
        print(f"Not measured (no embeddings.npy): {', '.join(skipped)}.")
    print()
    print("### Loading and indexing")
    print()
    print("| phase | wall s | CPU s (this process, all threads) | papers/s (wall) |")
    print("|---|---:|---:|---:|")
    for phase in phases:
        rate = f"{phase.items / phase.seconds:,.0f}" if phase.seconds > 0.05 and phase.items else "—"
        cpu = "—" if phase.cpu != phase.cpu else f"{phase.cpu:.1f}"
        print(f"| {phase.name} | {phase.seconds:.2f} | {cpu} | {rate} |")
    if len(loaded.batches) >= 6:
        k = min(10, len(loaded.batches) // 3)
        full = loaded.batches if loaded.lines % BATCH_SIZE == 0 else loaded.batches[:-1]  # the last may be short
        first, last = full[:k], full[-k:]

        def mean(values) -> float:
            return sum(values) / len(values)

        print()
        print(
            f"Per loader batch of {BATCH_SIZE:,} papers, mean of {k} (whole batch / of which handing it to the keyword "
            f"index): first {k} batches {mean([b for b, _ in first]):.2f} s / {mean([s for _, s in first]):.2f} s; "
            f"last {k} full batches "
            f"{mean([b for b, _ in last]):.2f} s / {mean([s for _, s in last]):.2f} s."
        )
    print()
    print("| on disk | MB |")
    print("|---|---:|")
    print(f"| SQLite database `paperfeed.sqlite3` (after a WAL checkpoint; WAL {wal_mib:.0f} MB) | {db_mib:,.0f} |")
    print(f"| keyword index `keyword-index/` after the load | {loaded.index_after_load:,.0f} |")
    print(f"| keyword index `keyword-index/` after `keyword.rebuild()` | {keyword_mib:,.0f} |")
    if model:
        print(f"| vector index `{vectors.index_path(model).name}` | {vector_mib:,.0f} |")
    for mode in modes:
        found = searches[mode]
        queries: list[Timings] = found["queries"]
        every = [t for q in queries for t in q.times]
        others = sorted({q.answered for q in queries if q.answered != mode})
        print()
        print(f"### Search latency, mode {mode}")
        print()
        print(
            f"Server time in this process of `search_papers(SearchRequest(q, {mode!r}))`, the function the search "
            f"page calls (retrieval, cards from the database, marked words): first page of 20 unless said, one "
            f"warm-up then {args.repeat} timed runs of each request."
        )
        if others:
            print(f"Some {mode} requests were answered in another mode: {', '.join(others)}.")
        print()
        print("| requests | timings | p50 ms | p95 ms | max ms | matches |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| the {len(queries)} queries of bench/load_and_search.py | {len(every)} | {stats(every)} | — |")
        for extra in (found["deep"], found["filtered"]):
            label = {
                "learning, page 5": '"learning", page 5 (results 81–100: deep paging)',
                "learning, category cs.CV": '"learning" with `Filters(category="cs.CV")`',
            }[extra.label]
            print(f"| {label} | {len(extra.times)} | {stats(extra.times)} | {extra.total:,} |")
        print()
        print(f"<details><summary>Per query, mode {mode}: fastest of {args.repeat} runs</summary>")
        print()
        print("| query | min ms | median ms | matches | answered as |")
        print("|---|---:|---:|---:|---|")
        for q in queries:
            print(f"| `{q.label}` | {min(q.times):.1f} | {percentile(q.times, 50):.1f} | {q.total:,} | {q.answered} |")
        print()
        print("</details>")
    if similar is not None:
        times, full = similar
        print()
        print("### Similar papers")
        print()
        print("| measure | calls | p50 ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
        print(
            f"| `similar_papers(pid)` of {len(times)} random papers (seed 0; {full} gave 6 papers), after one "
            f"warm-up | {len(times)} | {stats(times)} |"
        )
    print()
    print("### Peak memory (RSS)")
    print()
    print("| process | MB |")
    print("|---|---:|")
    print(f"| the loader: this process after `load_jsonl` + final sync (`ru_maxrss`) | {loaded.loader_peak:,.0f} |")
    print(f"| this process after `keyword.rebuild()` too (`ru_maxrss`) | {loaded.rebuild_peak:,.0f} |")
    label = "embeddings, " if has_vectors else ""
    print(f"| this process at the end ({label}all searches; `ru_maxrss`) | {in_process_peak:,.0f} |")
    if worker_rss is not None:
        print(
            f"| **one web worker's peak RSS**: a fresh process, `django.setup()`, then the {len(QUERIES)} queries × "
            f"{'/'.join(modes)} × {WORKER_RUNS} through `search_papers` ({worker_rss['seconds']:.1f} s); "
            f"`ru_maxrss` (VmHWM {worker_rss['hwm'] / 1024:,.0f} MB) | {worker_rss['maxrss'] / 1024:,.0f} |"
        )
        if worker_rss["problem"]:
            print()
            print(
                f"**The web worker found the keyword index out of step before searching** ({worker_rss['problem']}): "
                "its time and peak include bringing it in step."
            )


if __name__ == "__main__":
    main()
