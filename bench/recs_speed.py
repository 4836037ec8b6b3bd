"""Benchmark: "For you" speed — one user's model over the whole corpus, and a digest run's 10,000 users.

    PAPERFEED_DATA_DIR=/tmp/pfbench .venv/bin/python bench/recs_speed.py [--users 10000] [--window-days 7]

Reads the stored embeddings of the database in PAPERFEED_DATA_DIR (read only: nothing is written) into one float32
matrix — 74,728 × 384 for the full corpus — and times the product's own code, paperfeed.core.recommend:

1. **one user, every paper**: `score` (one matrix-vector product over all papers), then the top 10 with the user's
   own papers left out (`top_indices`) and the reason for each (`reasons`) — p50 and p95 over `--repeat` users.
2. **fitting a model**: `fit_user_model` for synthetic users with 5–50 positives against the stored background
   sample (p50, p95). Models are refitted in the background when a user's signals change, not in a digest run.
3. **a digest run**: `--users` users' stored models (weight bytes, as the database keeps them) stacked into one
   weights matrix, times the candidate window (the papers listed in the last `--window-days` days) with
   `score_many`, in chunks of 2,000 users; then for each user: leave out their own papers and 20 papers a digest
   already sent them, take the top 10 and find each one's reason. Wall time of the whole run.

Synthetic users like papers of one arXiv category (5–50 of them, drawn at random). The digest run's 10,000 models
are centroid models (`centroid_model`): scoring, ranking and reasons cost the same whatever the weights' values,
and fitting 10,000 logistic regressions (part 2 gives the cost of one) is the background refit's job.
The machine is shared: the last line says how busy it was.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date

import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.db.models import Min  # noqa: E402

from paperfeed.core import recommend  # noqa: E402
from paperfeed.core.embedder import MODEL_NAME  # noqa: E402
from paperfeed.papers.models import DailyEntry, Paper, PaperEmbedding  # noqa: E402
from paperfeed.papers.services.vectors import from_blob  # noqa: E402


def load_corpus() -> tuple[np.ndarray, np.ndarray, list[tuple[str, ...]]]:
    """(float32 unit rows, first listing day ordinals, categories) of every paper with a stored embedding."""
    first = dict(DailyEntry.objects.values("paper_id").annotate(day=Min("day")).values_list("paper_id", "day"))
    categories = dict(Paper.objects.values_list("id", "categories"))
    ids, rows = [], []
    for paper_id, blob in (
        PaperEmbedding.objects.filter(model=MODEL_NAME).values_list("paper_id", "vector").iterator(20_000)
    ):
        if paper_id in first:
            ids.append(paper_id)
            rows.append(from_blob(bytes(blob)))
    matrix = np.ascontiguousarray(np.vstack(rows), dtype=np.float32)
    days = np.array([first[i].toordinal() for i in ids])
    return matrix, days, [tuple(categories.get(i) or ()) for i in ids]


def synthetic_positives(rng, by_category: dict[str, np.ndarray], users: int) -> list[np.ndarray]:
    """Each user: 5–50 papers of one category drawn at random (categories with at least 50 papers)."""
    names = sorted(name for name, members in by_category.items() if len(members) >= 50)
    out = []
    for _ in range(users):
        members = by_category[names[rng.integers(len(names))]]
        out.append(rng.choice(members, size=int(rng.integers(5, 51)), replace=False))
    return out


def percentiles(seconds: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    return float(p50), float(p95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users in the digest run (default 10,000)")
    parser.add_argument("--window-days", type=int, default=7, help="the digest's candidate window (default 7)")
    parser.add_argument("--repeat", type=int, default=200, help="users timed one by one (default 200)")
    parser.add_argument("--fits", type=int, default=100, help="models fitted to time fitting (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    load_average = os.getloadavg()

    started = time.perf_counter()
    matrix, days, categories = load_corpus()
    if not len(matrix):
        sys.exit(f"no stored embeddings in {settings.DATA_DIR}: run `paperfeed index` first")
    loaded = time.perf_counter() - started
    by_category: dict[str, list[int]] = {}
    for index, cats in enumerate(categories):
        for category in cats:
            by_category.setdefault(category, []).append(index)
    by_category_arrays = {name: np.array(members) for name, members in by_category.items()}
    background = matrix[rng.choice(len(matrix), size=recommend.DEFAULT_BACKGROUND, replace=False)]
    rows: list[tuple[str, str, str]] = []

    # 1. one user over every paper
    users = synthetic_positives(rng, by_category_arrays, args.repeat)
    models = [recommend.centroid_model(matrix[positives]) for positives in users]
    recommend.score(models[0], matrix)  # warm up BLAS
    score_times, full_times = [], []
    for model, positives in zip(models, users, strict=True):
        t0 = time.perf_counter()
        scores = recommend.score(model, matrix)
        t1 = time.perf_counter()
        exclude = np.zeros(len(matrix), dtype=bool)
        exclude[positives] = True
        top = recommend.top_indices(scores, 10, exclude)
        recommend.reasons(model, matrix[top])
        t2 = time.perf_counter()
        score_times.append(t1 - t0)
        full_times.append(t2 - t0)
    p50, p95 = percentiles(score_times)
    rows.append(
        (f"score {len(matrix):,} papers for one user (one matvec)", f"p50 {p50:.1f} ms · p95 {p95:.1f} ms", "≤ 50 ms")
    )
    p50, p95 = percentiles(full_times)
    rows.append(
        ("… plus top 10 without the user's papers, with reasons", f"p50 {p50:.1f} ms · p95 {p95:.1f} ms", "≤ 50 ms")
    )

    # 2. fitting
    fit_times = []
    for positives in synthetic_positives(rng, by_category_arrays, args.fits):
        t0 = time.perf_counter()
        recommend.fit_user_model(matrix[positives], None, background)
        fit_times.append(time.perf_counter() - t0)
    p50, p95 = percentiles(fit_times)
    rows.append(
        (
            f"fit one model (5–50 positives, {len(background):,} background)",
            f"p50 {p50:.0f} ms · p95 {p95:.0f} ms",
            "background",
        )
    )

    # 3. a digest run
    last = int(days.max())
    window = np.flatnonzero(days > last - args.window_days)
    candidates = np.ascontiguousarray(matrix[window])
    position = np.full(len(matrix), -1)
    position[window] = np.arange(len(window))
    people = synthetic_positives(rng, by_category_arrays, args.users)
    stored = [recommend.model_to_bytes(recommend.centroid_model(matrix[p])) for p in people]
    sent = [rng.choice(len(window), size=min(20, len(window)), replace=False) for _ in people]
    t0 = time.perf_counter()
    weights = np.vstack([recommend.weights_from_bytes(blob) for blob in stored])
    t_weights = time.perf_counter() - t0
    picked = 0
    chunk = 2_000
    for start in range(0, len(people), chunk):
        block = [
            recommend.UserModel(weights[u], 0.0, matrix[people[u]])
            for u in range(start, min(start + chunk, len(people)))
        ]
        scores = recommend.score_many(block, candidates)
        for row, model in enumerate(block):
            u = start + row
            exclude = np.zeros(len(window), dtype=bool)
            own = position[people[u]]
            exclude[own[own >= 0]] = True
            exclude[sent[u]] = True
            top = recommend.top_indices(scores[row], 10, exclude)
            recommend.reasons(model, candidates[top])
            picked += len(top)
    total = time.perf_counter() - t0
    rows.append(
        (
            f"digest run: {len(people):,} users × {len(window):,} candidates ({args.window_days} d), top 10, reasons",
            f"{total:.1f} s (models from bytes {t_weights:.2f} s)",
            "≤ 60 s",
        )
    )

    print(
        f"Recommendation speed — {date.today()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"{len(matrix):,} papers × {matrix.shape[1]} float32 from {settings.DATA_DIR} (loaded in {loaded:.1f} s); "
        f"{picked:,} recommendations made in the digest run\n"
    )
    print("| measure | result | target |\n|---|---|---|")
    for measure, result, target in rows:
        print(f"| {measure} | {result} | {target} |")
    print(f"\nload average before / after: {load_average[0]:.2f} / {os.getloadavg()[0]:.2f} (shared machine)")


if __name__ == "__main__":
    main()
