"""Benchmark: "For you" speed — one user's model over the whole corpus, and a digest run's 10,000 users.

    PAPERFEED_DATA_DIR=/tmp/pfbench .venv/bin/python bench/recs_speed.py [--users 10000] [--window-days 7]

    # the product's own path, through the database (writes users, votes and models: use a copy)
    mkdir -p /tmp/recs-speed && cp /tmp/pfbench/paperfeed.sqlite3 /tmp/recs-speed/
    PAPERFEED_DATA_DIR=/tmp/recs-speed .venv/bin/python bench/recs_speed.py --product

Reads the stored embeddings of the database in PAPERFEED_DATA_DIR (read only: nothing is written) into one float32
matrix — 74,728 × 384 for the full corpus — and the papers' tf-idf rows by the site's term index (fitted in memory
when the data directory has none: about a minute), and times the product's own code, paperfeed.core.recommend,
with models that have both parts (embeddings and words):

1. **one user, every paper**: `score` (a dense and a sparse matrix-vector product over all papers, each part
   standardised), then the top 10 with the user's own papers left out (`top_indices`) and the reason for each
   (`reasons`) — p50 and p95 over `--repeat` users.
2. **fitting a model**: `fit_user_model` for synthetic users with 5–50 positives against a 2,000-paper background
   sample, both parts (p50, p95). Models are refitted in the background when a user's signals change.
3. **a digest run, the maths**: `--users` users' stored models (as the database keeps them: weight bytes and the
   1,000 largest term weights) times the candidate window (the papers listed in the last `--window-days` days)
   with `score_many`, in chunks of 2,000 users; then for each user: leave out their own papers and 20 papers a
   digest already sent them, take the top 10 and find each one's reason. Wall time of the whole run.

Synthetic users like papers of one arXiv category (5–50 of them, drawn at random). For part 3, the 10,000 users
share 100 fitted models (scoring costs the same whatever the weights' values).

With `--product` (on a copy of the database: it migrates it and writes), it also times the product's services,
database included: the site's term index fitted by `terms.rebuild()`; `--users` users with 5–50 upvotes each,
the first `--refits` of their models fitted by `training.refit_users` (the background job; its time per user is
reported) and copied to the others; then
`ranking.for_you` for one user (the first call builds the process's candidate pool: reported apart); and the For
you sections of a digest run for every user, as `paperfeed digest send` computes them: one `DigestRecommender`,
its `prefetch` per 500 users (the run's batch), `recommend` per user (stored model, exclusions, the papers of the
last `--window-days` days, top 10 with reasons).

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
from paperfeed.papers.retrieval.embeddings import from_blob  # noqa: E402


def load_corpus() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, ...]]]:
    """(paper ids, float32 unit rows, first listing day ordinals, categories) of every paper with an embedding."""
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
    return np.array(ids), matrix, days, [tuple(categories.get(i) or ()) for i in ids]


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


def term_rows(ids: np.ndarray):  # -> (version, csr rows in the order of ids, seconds to fit or 0)
    """The papers' tf-idf rows by the site's term index, or by one fitted here when the data directory has none."""
    from paperfeed.core import terms as core_terms
    from paperfeed.recommend.services import terms

    texts: dict[int, str] = {}
    for paper_id, title, abstract in Paper.objects.values_list("id", "title", "abstract").iterator(20_000):
        texts[paper_id] = terms.paper_text(title, abstract)
    ordered = [texts[i] for i in ids]
    index = terms.current_index()
    t0 = time.perf_counter()
    if index is None:
        index, rows = core_terms.fit_term_index_with_rows(ordered)
    else:
        rows = index.transform(ordered)
    return index.version, rows, time.perf_counter() - t0


def fit_both(matrix, rows, version, positives, background) -> recommend.UserModel:
    return recommend.fit_user_model(
        matrix[positives],
        None,
        matrix[background],
        positive_terms=rows[positives],
        background_terms=rows[background],
        index_version=version,
    )


def product_path(args, rng, ids: np.ndarray, days: np.ndarray, by_category: dict[str, np.ndarray]) -> list[tuple]:
    """Time for_you and digest_recommendations through the database, for `args.users` new users."""
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.core.management import call_command

    from paperfeed.papers.models import Vote
    from paperfeed.recommend.services import ranking, terms, training
    from paperfeed.recommend.services.ranking import DigestRecommender, HardFilters

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    index = terms.rebuild()
    rows = [
        (
            f"product: fit the site's term index ({index.papers:,} papers, {index.features:,} words and pairs)",
            f"{time.perf_counter() - t0:.0f} s, {terms.index_path().stat().st_size / 1e6:.1f} MB file",
            "background, when the corpus grows 20%",
        )
    ]
    User.objects.filter(username__startswith="bench-recs-").delete()
    training.forget_background()
    users = User.objects.bulk_create([User(username=f"bench-recs-{i}") for i in range(args.users)], batch_size=2000)
    liked = synthetic_positives(rng, by_category, len(users))
    Vote.objects.bulk_create(
        [Vote(user=user, paper_id=int(ids[i])) for user, papers in zip(users, liked, strict=True) for i in papers],
        batch_size=5000,
    )
    fitted_users = users[: args.refits]
    t0 = time.perf_counter()
    refitted, _ = training.refit_users([user.pk for user in fitted_users])
    fitting = time.perf_counter() - t0
    # The other users get copies of those models (a digest run's cost does not depend on the weights' values).
    from paperfeed.recommend.models import UserModelState

    states = list(UserModelState.objects.filter(user__in=fitted_users))
    UserModelState.objects.bulk_create(
        [
            UserModelState(
                user=user,
                **{
                    f.attname: getattr(states[n % len(states)], f.attname)
                    for f in UserModelState._meta.concrete_fields
                    if f.attname != "user_id"
                },
            )
            for n, user in enumerate(users[len(fitted_users) :])
        ],
        batch_size=2000,
    )
    rows.append(
        (
            f"product: refit_users for {len(fitted_users):,} users, both parts (background job)",
            f"{fitting:.0f} s, {fitting / max(refitted, 1) * 1000:.0f} ms a user",
            "background",
        )
    )
    # A stale model of up to training.LAZY_FIT_POSITIVES (100) positives is refitted on the For you page itself.
    for size in (50, 200, 1000):
        heavy = User.objects.create(username=f"bench-recs-heavy-{size}")
        Vote.objects.bulk_create([Vote(user=heavy, paper_id=int(i)) for i in rng.choice(ids, size, replace=False)])
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            training.refit(heavy)
            times.append(time.perf_counter() - t0)
        rows.append(
            (
                f"product: refit one user with {size:,} upvotes (as the page does when stale)",
                f"median of 3: {sorted(times)[1] * 1000:.0f} ms",
                "on the page up to LAZY_FIT_POSITIVES",
            )
        )
    ranking.forget_pool()
    t0 = time.perf_counter()
    ranking.for_you(users[0])
    first = time.perf_counter() - t0
    times = []
    for user in users[1 : 1 + min(args.repeat, 50)]:
        t0 = time.perf_counter()
        ranking.for_you(user)
        times.append(time.perf_counter() - t0)
    p50, p95 = percentiles(times)
    rows.append(
        (
            "product: for_you page for one user (pool cached), database included",
            f"p50 {p50:.0f} ms · p95 {p95:.0f} ms (first call, building the pool: {first:.1f} s)",
            "—",
        )
    )
    since = date.fromordinal(int(days.max())) - timedelta(days=args.window_days - 1)
    ranking.candidate_pool()  # the process's pool, built above by for_you
    t0 = time.perf_counter()
    recommender = DigestRecommender()
    sent = 0
    for start in range(0, len(users), 500):  # the digest run's batch
        batch = users[start : start + 500]
        recommender.prefetch(user.pk for user in batch)
        for user in batch:
            sent += len(recommender.recommend(user.pk, (), since, 10, HardFilters()))
    total = time.perf_counter() - t0
    rows.append(
        (
            f"product: a digest run's For you for {len(users):,} users (prefetch per 500, {sent:,} picks)",
            f"{total:.1f} s",
            "≤ 60 s",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users in the digest run (default 10,000)")
    parser.add_argument("--window-days", type=int, default=7, help="the digest's candidate window (default 7)")
    parser.add_argument("--repeat", type=int, default=200, help="users timed one by one (default 200)")
    parser.add_argument("--fits", type=int, default=100, help="models fitted to time fitting (default 100)")
    parser.add_argument(
        "--refits", type=int, default=300, help="--product: users refitted through the database (default 300)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--product", action="store_true", help="also time the product's services (writes: use a database copy)"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    load_average = os.getloadavg()

    started = time.perf_counter()
    ids, matrix, days, categories = load_corpus()
    if not len(matrix):
        sys.exit(f"no stored embeddings in {settings.DATA_DIR}: run `paperfeed index` first")
    loaded = time.perf_counter() - started
    by_category: dict[str, list[int]] = {}
    for index, cats in enumerate(categories):
        for category in cats:
            by_category.setdefault(category, []).append(index)
    by_category_arrays = {name: np.array(members) for name, members in by_category.items()}
    background = rng.choice(len(matrix), size=recommend.DEFAULT_BACKGROUND, replace=False)
    version, words, fitted_in = term_rows(ids)
    rows: list[tuple[str, str, str]] = []
    if fitted_in:
        rows.append(
            (
                f"term index fitted on {len(ids):,} papers ({words.shape[1]:,} features, {words.nnz:,} non-zeros)",
                f"{fitted_in:.0f} s (the data directory had none)",
                "background",
            )
        )

    # 2. fitting (first: part 1 scores with these models)
    fitted, fit_times = [], []
    for positives in synthetic_positives(rng, by_category_arrays, args.fits):
        t0 = time.perf_counter()
        fitted.append((fit_both(matrix, words, version, positives, background), positives))
        fit_times.append(time.perf_counter() - t0)

    # 1. one user over every paper
    recommend.score(fitted[0][0], matrix, words, version)  # warm up BLAS
    score_times, full_times = [], []
    for turn in range(args.repeat):
        model, positives = fitted[turn % len(fitted)]
        t0 = time.perf_counter()
        scores = recommend.score(model, matrix, words, version)
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
        (
            f"score {len(matrix):,} papers for one user (embeddings and words)",
            f"p50 {p50:.1f} ms · p95 {p95:.1f} ms",
            "≤ 50 ms",
        )
    )
    p50, p95 = percentiles(full_times)
    rows.append(
        ("… plus top 10 without the user's papers, with reasons", f"p50 {p50:.1f} ms · p95 {p95:.1f} ms", "≤ 50 ms")
    )
    p50, p95 = percentiles(fit_times)
    rows.append(
        (
            f"fit one model, both parts (5–50 positives, {len(background):,} background)",
            f"p50 {p50:.0f} ms · p95 {p95:.0f} ms",
            "background",
        )
    )

    # 3. a digest run
    last = int(days.max())
    window = np.flatnonzero(days > last - args.window_days)
    candidates = np.ascontiguousarray(matrix[window])
    candidate_words = words[window]
    position = np.full(len(matrix), -1)
    position[window] = np.arange(len(window))
    people = [fitted[u % len(fitted)] for u in range(args.users)]
    stored = [
        (recommend.model_to_bytes(m), m.bias, m.terms.to_bytes(), m.terms.bias, m.terms.index_version)
        for m, _ in people
    ]
    sent = [rng.choice(len(window), size=min(20, len(window)), replace=False) for _ in people]
    t0 = time.perf_counter()
    models = [
        recommend.UserModel(
            recommend.weights_from_bytes(w), bias, matrix[people[u][1]], recommend.TermWeights.from_bytes(t, tb, tv)
        )
        for u, (w, bias, t, tb, tv) in enumerate(stored)
    ]
    t_weights = time.perf_counter() - t0
    picked = 0
    chunk = 2_000
    for start in range(0, len(people), chunk):
        block = models[start : start + chunk]
        scores = recommend.score_many(block, candidates, candidate_words, version)
        for row, model in enumerate(block):
            u = start + row
            exclude = np.zeros(len(window), dtype=bool)
            own = position[people[u][1]]
            exclude[own[own >= 0]] = True
            exclude[sent[u]] = True
            top = recommend.top_indices(scores[row], 10, exclude)
            recommend.reasons(model, candidates[top])
            picked += len(top)
    total = time.perf_counter() - t0
    rows.append(
        (
            f"digest run, the maths: {len(people):,} users × {len(window):,} candidates ({args.window_days} d), "
            "top 10, reasons",
            f"{total:.1f} s (models from bytes {t_weights:.2f} s)",
            "≤ 60 s",
        )
    )

    if args.product:
        rows += product_path(args, rng, ids, days, by_category_arrays)

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
