"""Keeping each user's recommendation model in step with their signals.

A model is fitted on the user's signals (see signals.py) by paperfeed.core.recommend and stored with the
fingerprint of those signals. When the fingerprint of the user's signals changes — an upvote, a collection
paper, an imported library, a "not interested" — the model is stale, and is refitted:

- in the background, by `paperfeed index --watch` (which `paperfeed serve` runs) after each look for new papers,
  or by `paperfeed recommend refit` from cron; that pass also embeds imported library items that matched no
  paper (embedding never runs in a web request);
- on the For you page itself when the user has at most LAZY_FIT_POSITIVES positives: such a fit takes about a
  tenth of a second (measured, docs/benchmarks.md), so the page reflects a vote at once. Bigger models keep
  serving their previous weights until the background refits them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from paperfeed.core import recommend
from paperfeed.core import terms as core_terms
from paperfeed.core.embedder import MODEL_NAME, Embedder, paper_text
from paperfeed.papers.models import Paper, PaperEmbedding
from paperfeed.papers.retrieval.embeddings import stored as stored_vector
from paperfeed.papers.retrieval.embeddings import to_blob
from paperfeed.recommend.models import LibraryItem, UserModelState
from paperfeed.recommend.services import signals as signal_service
from paperfeed.recommend.services import terms as term_service
from paperfeed.recommend.services.library import papers_by_doi

# Measured through the database (bench/recs_speed.py --product, both parts, 2,000 background papers): a refit takes
# ~120 ms with 50 positives, ~470 ms with 200, ~550 ms with 1,000 — mostly the words part. Up to this many
# positives a stale model is refitted on the page itself, so a vote shows at once; bigger models serve their stored
# weights until the background refits them.
LAZY_FIT_POSITIVES = 100
BACKGROUND_SIZE = recommend.DEFAULT_BACKGROUND
BACKGROUND_TTL = 3600.0  # seconds a process keeps its background sample before drawing it again
# The indexer (`paperfeed index --watch`) also embeds new papers: one round refits models for at most this long, and
# the next round goes on (a new term index makes every model stale: 10,000 take ~30 minutes at ~170 ms each).
PASS_BUDGET_SECONDS = 60.0
EMBED_BATCH = 64
CHUNK = 900
DIMENSIONS = signal_service.DIMENSIONS


@dataclass(frozen=True)
class CurrentModel:
    """The model to rank with now, the signals it explains itself with, and whether it was fitted on them."""

    model: recommend.UserModel
    signals: signal_service.UserSignals
    fresh: bool


# --- the background sample (implicit negatives), the same for every user ---


@dataclass(frozen=True)
class Background:
    """The background sample: paper ids, their embeddings, and their tf-idf rows by term index version."""

    at: float
    ids: list[int]
    matrix: np.ndarray  # (b, d) float32
    rows: dict = field(default_factory=dict)  # term index version -> (b, features) tf-idf rows


_background_lock = threading.Lock()
_background: dict[str, Background] = {}


def background_sample(model: str = MODEL_NAME, size: int = BACKGROUND_SIZE) -> Background:
    """A fixed-seed random sample of up to `size` embedded papers, kept per process for BACKGROUND_TTL seconds.

    Drawn by random ids between the smallest and largest embedded paper id (no ORDER BY random() over the
    whole table), so it costs the same on 10,000 papers as on 3 million."""
    stored = PaperEmbedding.objects.filter(model=model)
    with _background_lock:
        cached = _background.get(model)
        if cached is not None and time.monotonic() - cached.at < BACKGROUND_TTL:
            return cached
    bounds = stored.aggregate(low=Min("paper_id"), high=Max("paper_id"))
    rows: list[tuple[int, bytes]] = []
    if bounds["low"] is not None:
        span = bounds["high"] - bounds["low"] + 1
        if span <= size * 2:
            rows = [(pid, bytes(b)) for pid, b in stored.order_by("paper_id").values_list("paper_id", "vector")]
        else:
            rng = np.random.default_rng(0)
            draws = np.unique(rng.integers(bounds["low"], bounds["high"] + 1, size=size * 2)).tolist()
            for start in range(0, len(draws), CHUNK):
                chunk = stored.filter(paper_id__in=draws[start : start + CHUNK]).order_by("paper_id")
                rows += [(pid, bytes(b)) for pid, b in chunk.values_list("paper_id", "vector")]
    kept = [(pid, stored_vector(b)) for pid, b in rows[:size]]
    kept = [(pid, v) for pid, v in kept if v.shape[0] == signal_service.DIMENSIONS]
    matrix = np.vstack([v for _, v in kept]).astype(np.float32) if kept else np.zeros((0, DIMENSIONS), "f4")
    sample = Background(time.monotonic(), [pid for pid, _ in kept], matrix)
    if cached is not None and cached.ids == sample.ids:  # drawn again, the same papers: keep their tf-idf rows
        sample = Background(sample.at, sample.ids, sample.matrix, cached.rows)
    with _background_lock:
        _background[model] = sample
    return sample


def background_vectors(model: str = MODEL_NAME, size: int = BACKGROUND_SIZE) -> np.ndarray:
    """The background sample's embeddings (background_sample)."""
    return background_sample(model, size).matrix


def background_rows(sample: Background, index: core_terms.TermIndex):  # -> scipy.sparse.csr_matrix
    """The background sample's tf-idf rows by this term index, computed once per sample and index."""
    with _background_lock:
        found = sample.rows.get(index.version)
    if found is None:
        found = term_service.paper_rows(index, sample.ids)
        with _background_lock:
            sample.rows[index.version] = found
    return found


def forget_background() -> None:
    """Drop the cached background sample (tests, and after a bulk load)."""
    with _background_lock:
        _background.clear()


# --- fitting ---


def fit(user_signals: signal_service.UserSignals, model: str = MODEL_NAME) -> recommend.UserModel | None:
    """A model fitted on these signals, or None when there is no positive to learn from.

    With the site's term index it has a words part too, fitted on the same papers' tf-idf rows."""
    if len(user_signals.positives) == 0:
        return None
    sample = background_sample(model)
    index = term_service.current_index()
    if index is None:
        return recommend.fit_user_model(user_signals.positive_vectors, user_signals.negative_vectors, sample.matrix)
    return recommend.fit_user_model(
        user_signals.positive_vectors,
        user_signals.negative_vectors,
        sample.matrix,
        positive_terms=term_service.positive_rows(index, user_signals.positives),
        negative_terms=term_service.paper_rows(index, user_signals.negative_paper_ids),
        background_terms=background_rows(sample, index),
        index_version=index.version,
    )


def refit(user, model: str = MODEL_NAME) -> UserModelState | None:
    """Fit the user's model on their signals now and store it; None (and no stored model) without positives."""
    fingerprint = signal_service.fingerprints([user.pk])[user.pk]
    user_signals = signal_service.gather(user, model)
    fitted = fit(user_signals, model)
    return _store(user, fitted, user_signals, fingerprint, model)


def _store(user, fitted, user_signals, fingerprint: str, model: str) -> UserModelState | None:
    if fitted is None:
        UserModelState.objects.filter(user=user).delete()
        return None
    terms = fitted.terms
    state, _ = UserModelState.objects.update_or_create(
        user=user,
        defaults={
            "weights": recommend.model_to_bytes(fitted),
            "bias": fitted.bias,
            "term_weights": terms.to_bytes() if terms is not None else b"",
            "term_bias": terms.bias if terms is not None else 0.0,
            "term_index": terms.index_version if terms is not None else "",
            "embedding_model": model,
            "positives": len(user_signals.positives),
            "negatives": len(user_signals.negative_paper_ids),
            "fingerprint": fingerprint,
            "trained_at": timezone.now(),
        },
    )
    return state


def stored_user_model(state: UserModelState, positives: np.ndarray) -> recommend.UserModel:
    """The model stored in `state`, explaining itself with these positive vectors."""
    terms = None
    if state.term_index:
        terms = recommend.TermWeights.from_bytes(bytes(state.term_weights), state.term_bias, state.term_index)
    weights = recommend.weights_from_bytes(bytes(state.weights))
    return recommend.UserModel(weights, state.bias, recommend.normalise(positives), terms)


def in_step(state: UserModelState, fingerprint: str, model: str, terms_version: str) -> bool:
    """Whether the stored model was fitted on these signals, with this embedding model and term index."""
    return state.fingerprint == fingerprint and state.embedding_model == model and state.term_index == terms_version


def current_model(
    user,
    model: str = MODEL_NAME,
    *,
    fit_if_stale: bool = True,
    user_signals: signal_service.UserSignals | None = None,
) -> CurrentModel | None:
    """The model to rank the user's papers with, or None when they have no positive signal yet.

    A stored model fitted on the user's current signals is used as is. A stale one is refitted here when the user
    has at most LAZY_FIT_POSITIVES positives (and fit_if_stale); otherwise the stored weights serve until the
    background refits them, and a user with no stored model yet gets the centroid of their positives.
    `user_signals`: the user's signals when the caller has gathered them already."""
    user_signals = user_signals or signal_service.gather(user, model)
    if len(user_signals.positives) == 0:
        return None
    fingerprint = signal_service.fingerprints([user.pk])[user.pk]
    state = UserModelState.objects.filter(user=user).first()
    usable = state is not None and state.embedding_model == model
    if usable and in_step(state, fingerprint, model, term_service.current_version()):
        return CurrentModel(stored_user_model(state, user_signals.positive_vectors), user_signals, fresh=True)
    if fit_if_stale and len(user_signals.positives) <= LAZY_FIT_POSITIVES:
        fitted = fit(user_signals, model)
        _store(user, fitted, user_signals, fingerprint, model)
        return CurrentModel(fitted, user_signals, fresh=True)
    if usable:
        return CurrentModel(stored_user_model(state, user_signals.positive_vectors), user_signals, fresh=False)
    return CurrentModel(recommend.centroid_model(user_signals.positive_vectors), user_signals, fresh=False)


def stored_model(
    user, model: str = MODEL_NAME, user_signals: signal_service.UserSignals | None = None
) -> CurrentModel | None:
    """The user's stored model as it is (stale or not), with their signals for reasons; None when there is none.

    What digests use: they add a For you section only for users with a trained model, and never fit one."""
    state = UserModelState.objects.filter(user=user, embedding_model=model).first()
    if state is None:
        return None
    user_signals = user_signals or signal_service.gather(user, model)
    if len(user_signals.positives) == 0:
        return None
    return CurrentModel(stored_user_model(state, user_signals.positive_vectors), user_signals, fresh=False)


# --- the background pass ---


def stale_user_ids(model: str = MODEL_NAME) -> list[int]:
    """Users whose stored model was fitted on other signals than theirs now (or another embedding model or term
    index), who have a positive signal and no model yet, or who have a model and no positive signal left (it goes).

    Those whose own signals changed come first: a new term index can make every model stale at once, and a member
    who just voted should not wait behind all of them."""
    current, with_positives = signal_service.fingerprint_table()
    stored = dict(UserModelState.objects.values_list("user_id", "fingerprint"))
    other_model = set(
        UserModelState.objects.exclude(embedding_model=model, term_index=term_service.current_version()).values_list(
            "user_id", flat=True
        )
    )
    changed = {uid for uid in with_positives if stored.get(uid) != current[uid]}
    gone = {uid for uid in stored if uid not in with_positives}
    refreshed = {uid for uid in with_positives if uid in other_model} - changed
    return sorted(changed | gone) + sorted(refreshed)


@dataclass
class RefitRun:
    refitted: int = 0
    removed: int = 0
    embedded_items: int = 0
    matched_items: int = 0
    terms_rebuilt: bool = False
    left: int = 0  # stale models left for the next round (the pass's time budget ran out)


def refit_users(
    user_ids: list[int],
    model: str = MODEL_NAME,
    on_progress: Callable[[int, int], None] | None = None,
    budget_seconds: float | None = None,
):
    """Refit these users' models in this order, one transaction each; returns (refitted, removed).

    With `budget_seconds`, no new refit starts once that much time has passed (at least one is done): the rest stay
    stale for the next round."""
    users = get_user_model().objects.in_bulk(user_ids)
    refitted = removed = 0
    started = time.monotonic()
    for done, uid in enumerate(user_ids, 1):
        if budget_seconds is not None and done > 1 and time.monotonic() - started >= budget_seconds:
            break
        user = users.get(uid)
        if user is None:
            continue
        with transaction.atomic():
            had_model = UserModelState.objects.filter(user=user).exists()
            if refit(user, model) is not None:
                refitted += 1
            elif had_model:
                removed += 1
        if on_progress:
            on_progress(done, len(user_ids))
    return refitted, removed


def embed_library_items(embedder: Embedder, limit: int | None = None) -> int:
    """Embed the title and abstract of library items that matched no paper; returns how many were embedded."""
    todo = (
        LibraryItem.objects.filter(paper__isnull=True)
        .exclude(title="")
        .filter(Q(embedding__isnull=True) | ~Q(embedding_model=embedder.name))
    )
    done = 0
    last = 0
    while limit is None or done < limit:
        batch = list(todo.filter(id__gt=last).order_by("id").values_list("id", "title", "abstract")[:EMBED_BATCH])
        if not batch:
            break
        matrix = embedder.embed([paper_text(title, abstract) for _, title, abstract in batch])
        with transaction.atomic():
            for (item_id, _, _), row in zip(batch, matrix, strict=True):
                LibraryItem.objects.filter(id=item_id).update(embedding=to_blob(row), embedding_model=embedder.name)
        done += len(batch)
        last = batch[-1][0]
    return done


def rematch_library_items() -> int:
    """Match items that matched nothing at import to papers that have arrived since, by arXiv id or DOI."""
    matched = 0
    pending = LibraryItem.objects.filter(paper__isnull=True).exclude(arxiv_id="", doi="")
    last = 0
    while True:
        batch = list(pending.filter(id__gt=last).order_by("id").values_list("id", "arxiv_id", "doi")[:CHUNK])
        if not batch:
            break
        last = batch[-1][0]
        by_arxiv = dict(
            Paper.objects.visible().filter(arxiv_id__in=[a for _, a, _ in batch if a]).values_list("arxiv_id", "id")
        )
        by_doi = papers_by_doi([d for _, _, d in batch if d])
        for item_id, arxiv_id, doi in batch:
            pid = by_arxiv.get(arxiv_id) or by_doi.get(doi)
            if pid is not None:
                LibraryItem.objects.filter(id=item_id, paper__isnull=True).update(paper_id=pid)
                matched += 1
    return matched


def background_pass(embedder: Embedder | None = None, model: str = MODEL_NAME) -> RefitRun:
    """What the background does each round: match and embed new library items, bring the term index in step with
    the papers, then refit stale models."""
    run = RefitRun()
    if term_service.why_rebuild():
        run.terms_rebuilt = term_service.rebuild() is not None
    run.matched_items = rematch_library_items()
    if embedder is not None:
        run.embedded_items = embed_library_items(embedder)
    stale = stale_user_ids(model)
    reached = [0]
    run.refitted, run.removed = refit_users(
        stale, model, on_progress=lambda done, _: reached.append(done), budget_seconds=PASS_BUDGET_SECONDS
    )
    run.left = len(stale) - reached[-1] if reached[-1] else 0
    return run
