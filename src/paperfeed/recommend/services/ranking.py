"""The For you list: recent papers ranked by the user's model, each with the reason it is there.

Candidates are the visible papers listed on the daily lists of the CANDIDATE_DAYS days up to the most recent
list day (the newest day with papers, not the calendar: a site that stopped ingesting still recommends), that
have an embedding. Left out: papers the user upvoted, dismissed ("not interested"), saved to a collection or
imported, and papers their digest already sent them (register_already_sent). Hard filters — categories, and
words a paper must or must not contain — are applied before ranking: they come from the page's filter form, else
from the user's interests (community.Interests: their include / exclude words; their categories are interests,
not filters). With no positive signal yet, papers in the categories, by the authors and from the organizations
the user follows come first (then trending, then new): the cold start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from paperfeed.community.models import Interests
from paperfeed.core import recommend
from paperfeed.core.embedder import MODEL_NAME
from paperfeed.core.keywords import has_keyword, normalize_keyword
from paperfeed.core.trending import trending_scores
from paperfeed.papers.models import Authorship, DailyEntry, Paper, PaperEmbedding, Vote
from paperfeed.papers.retrieval.embeddings import stack
from paperfeed.papers.services.cards import PaperCard, cards_for_ids
from paperfeed.recommend.models import UserModelState
from paperfeed.recommend.services import terms as term_service
from paperfeed.recommend.services import training
from paperfeed.recommend.services.signals import Positive, gather, gather_many

CANDIDATE_DAYS = 30
PAGE_SIZE = 20
MAX_PAGES = 20
POOL_TTL = 60.0  # seconds a process keeps its candidate pool before checking the database again
CHUNK = 900
MAX_FILTER_TERMS = 20
MAX_TERM_CHARS = 100
# An email recommends only papers close to something the user liked (cosine similarity of the embeddings to the
# nearest positive, all-MiniLM-L6-v2: related abstracts 0.4–0.7, unrelated under 0.25, as for saved searches): a
# day's list may hold nothing they would like, and then the section is better left out than padded.
DIGEST_MIN_SIMILARITY = 0.40


# --- filters ---


def _terms(values: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        term = normalize_keyword(value)[:MAX_TERM_CHARS]
        if term and term not in seen:
            seen.append(term)
    return tuple(seen[:MAX_FILTER_TERMS])


def split_terms(text: str) -> list[str]:
    """'diffusion, protein folding' -> ['diffusion', 'protein folding']: commas separate, as in digest settings."""
    return [part for part in (text or "").replace("\n", ",").split(",") if part.strip()]


@dataclass(frozen=True)
class HardFilters:
    """What a recommendation must satisfy whatever its score."""

    categories: tuple[str, ...] = ()  # at least one of these arXiv categories (any, when empty)
    include: tuple[str, ...] = ()  # at least one of these words or phrases in title or abstract
    exclude: tuple[str, ...] = ()  # none of these
    source: str = ""  # "interests" when taken from the user's interests, "digest" in a digest, "form" from the page

    @classmethod
    def build(cls, categories: Iterable[str], include: Iterable[str], exclude: Iterable[str], source: str = ""):
        cats = tuple(dict.fromkeys(c.strip()[:32] for c in categories if c and c.strip()))[:MAX_FILTER_TERMS]
        return cls(cats, _terms(include), _terms(exclude), source)

    def __bool__(self) -> bool:
        return bool(self.categories or self.include or self.exclude)

    def passes(self, categories: Sequence[str], text: str) -> bool:
        """Whether a paper with these categories and lower-cased text passes."""
        if self.categories and not any(c in self.categories for c in categories):
            return False
        if self.include and not has_keyword(text, self.include):
            return False
        return not (self.exclude and has_keyword(text, self.exclude))


def interest_filters(user) -> HardFilters:
    """The hard filters of the user's interests: their include / exclude words, which filter their digest too.

    Their categories are not filters: in a digest they are interests (a paper in any of them, or by a followed
    author, comes), so here they steer the cold start instead (user_follows); the page's form filters by category.
    """
    interests = Interests.objects.filter(user=user).first()
    if interests is None:
        return HardFilters()
    return HardFilters.build(
        [],
        [str(k) for k in interests.include_keywords or ()],
        [str(k) for k in interests.exclude_keywords or ()],
        source="interests",
    )


# --- candidates ---


@dataclass
class CandidatePool:
    """The candidate papers with their embeddings (float32 rows) and what filters and reasons need."""

    start: date | None
    end: date | None
    ids: np.ndarray  # (n,) paper ids
    matrix: np.ndarray  # (n, d) float32 unit rows
    categories: list[tuple[str, ...]]
    texts: list[str]  # lower-cased title and abstract
    listed: np.ndarray  # (n,) ordinal of the latest day each was listed in the window
    position: dict[int, int] = field(default_factory=dict)
    terms: object = None  # (n, features) tf-idf rows by the term index `terms_version`, None without an index
    terms_version: str = ""

    def newer_than(self, since: date | None) -> int:
        """How many candidates (a prefix: they are newest first) were listed on or after `since`."""
        if since is None:
            return len(self)
        return int(np.count_nonzero(self.listed >= since.toordinal()))

    def __len__(self) -> int:
        return int(self.ids.shape[0])


_pool_lock = threading.Lock()
_pools: dict[tuple[str, int], tuple[float, tuple, CandidatePool]] = {}


def latest_list_day() -> date | None:
    return DailyEntry.objects.aggregate(last=Max("day"))["last"]


def candidate_pool(model: str = MODEL_NAME, days: int | None = None) -> CandidatePool:
    """The papers of the last `days` (CANDIDATE_DAYS) list days with an embedding, built once per process and kept
    while the lists and the embeddings stay the same (checked at most every POOL_TTL seconds)."""
    days = days or CANDIDATE_DAYS
    key = (model, days)
    with _pool_lock:
        cached = _pools.get(key)
        if cached is not None and time.monotonic() - cached[0] < POOL_TTL and cached[2].end is not None:
            return cached[2]
    end = latest_list_day()
    start = end - timedelta(days=days - 1) if end else None
    stamp = (
        end,
        DailyEntry.objects.filter(day__gte=start).count() if start else 0,
        PaperEmbedding.objects.filter(model=model).aggregate(last=Max("paper_id"))["last"],
        Paper.objects.filter(hidden=True).count(),
        term_service.current_version(),
    )
    with _pool_lock:
        cached = _pools.get(key)
        if cached is not None and cached[1] == stamp:
            _pools[key] = (time.monotonic(), stamp, cached[2])
            return cached[2]
    pool = _build_pool(model, start, end)
    with _pool_lock:
        _pools[key] = (time.monotonic(), stamp, pool)
    return pool


def forget_pool() -> None:
    """Drop the cached candidate pool (tests, and after moderation that must show at once)."""
    with _pool_lock:
        _pools.clear()


def _build_pool(model: str, start: date | None, end: date | None) -> CandidatePool:
    empty = CandidatePool(start, end, np.zeros(0, np.int64), np.zeros((0, 384), np.float32), [], [], np.zeros(0))
    if start is None:
        return empty
    listed: dict[int, date] = {}
    for pid, day in DailyEntry.objects.filter(day__range=(start, end)).values_list("paper_id", "day"):
        if pid not in listed or day > listed[pid]:
            listed[pid] = day
    wanted = sorted(listed)
    vectors: dict[int, bytes] = {}
    meta: dict[int, tuple] = {}
    for chunk_start in range(0, len(wanted), CHUNK):
        chunk = wanted[chunk_start : chunk_start + CHUNK]
        stored = PaperEmbedding.objects.filter(model=model, paper_id__in=chunk, paper__hidden=False)
        vectors.update((pid, bytes(blob)) for pid, blob in stored.values_list("paper_id", "vector"))
        rows = Paper.objects.visible().filter(id__in=chunk).values_list("id", "categories", "title", "abstract")
        meta.update((pid, (tuple(cats or ()), f"{title}\n{abstract}".lower())) for pid, cats, title, abstract in rows)
    # Newest listed first, so that equal scores (a cold start with no votes) favour new papers.
    ids = sorted((pid for pid in vectors if pid in meta), key=lambda pid: (listed[pid], pid), reverse=True)
    if not ids:
        return empty
    matrix = stack([vectors[pid] for pid in ids], as_float32=False)
    texts = [meta[pid][1] for pid in ids]
    index = term_service.current_index()
    return CandidatePool(
        start,
        end,
        np.array(ids, dtype=np.int64),
        np.ascontiguousarray(matrix, dtype=np.float32),
        [meta[pid][0] for pid in ids],
        texts,
        np.array([listed[pid].toordinal() for pid in ids]),
        {pid: i for i, pid in enumerate(ids)},
        index.transform(texts) if index is not None else None,
        index.version if index is not None else "",
    )


# --- what to leave out ---


# Papers a member already had from elsewhere, which For you leaves out: functions (user, now) -> paper ids,
# registered by the apps that send papers (the email digest: digests/apps.py), so that this app imports none of them.
_ALREADY_SENT: list[Callable[[object, datetime], set[int]]] = []


def register_already_sent(papers_sent: Callable[[object, datetime], set[int]]) -> None:
    """Leave out of For you the papers `papers_sent(user, now)` says the user was sent lately."""
    if papers_sent not in _ALREADY_SENT:
        _ALREADY_SENT.append(papers_sent)


def sent_paper_ids(user, now: datetime | None = None) -> set[int]:
    """Papers the user was sent lately (by their email digest, …)."""
    now = now or timezone.now()
    return set().union(*(papers_sent(user, now) for papers_sent in _ALREADY_SENT))


def _excluded(pool: CandidatePool, paper_ids: Iterable[int], since: date | None = None) -> np.ndarray:
    mask = np.zeros(len(pool), dtype=bool)
    for pid in paper_ids:
        index = pool.position.get(pid)
        if index is not None:
            mask[index] = True
    if since is not None:
        mask |= pool.listed < since.toordinal()
    return mask


# --- reasons and results ---


@dataclass(frozen=True)
class Reason:
    """Why a paper is recommended: '<lead> <title (linked when it is a paper here)><tail>', or plain text."""

    lead: str
    title: str = ""
    address: str = ""  # the paper the title names, linked when set
    tail: str = ""

    @property
    def text(self) -> str:
        """The reason as one line of plain text (emails)."""
        title = f"“{self.title}”" if self.title else ""
        return " ".join(part for part in (self.lead, title) if part) + self.tail


def reason_for(positive: Positive) -> Reason:
    title = " ".join(positive.title.split()) or "an untitled item"
    if positive.source == "upvote":
        return Reason("Because you upvoted", title, positive.address)
    if positive.source == "collection":
        tail = f" to {positive.collection}" if positive.collection else " to a collection"
        return Reason("Because you saved", title, positive.address, tail)
    return Reason("Because your library has", title, positive.address)


@dataclass(frozen=True)
class Recommendation:
    card: PaperCard
    reason: Reason
    score: float


@dataclass
class ForYou:
    """A page of the For you list and how it was made."""

    items: list[Recommendation]
    page: int
    has_next: bool
    mode: str  # "model" (the user's model), "follows" (cold start from follows), "starter" (no signal, no follow)
    filters: HardFilters
    start: date | None
    end: date | None
    positives: int = 0
    waiting: int = 0  # library items still to be embedded
    fresh: bool = True  # the model was fitted on the user's current signals
    follows: list[str] = field(default_factory=list)  # what the cold start went by, for the explanation
    candidates: int = 0  # papers in the window, before exclusions and filters


def _walk(
    pool: CandidatePool, order: np.ndarray, excluded: np.ndarray, filters: HardFilters, skip: int, take: int
) -> list[int]:
    """Candidate indices in `order` that are not excluded and pass the filters: the `take` after the first `skip`."""
    found: list[int] = []
    passed = 0
    for index in order:
        if excluded[index]:
            continue
        if filters and not filters.passes(pool.categories[index], pool.texts[index]):
            continue
        passed += 1
        if passed > skip:
            found.append(int(index))
            if len(found) >= take:
                break
    return found


def _filtered_out(pool: CandidatePool, filters: HardFilters, excluded: np.ndarray) -> np.ndarray:
    """Excluded, or not passing the hard filters: applied to every candidate before ranking."""
    if not filters:
        return excluded
    mask = excluded.copy()
    for index in range(len(pool)):
        if not mask[index] and not filters.passes(pool.categories[index], pool.texts[index]):
            mask[index] = True
    return mask


def rank_with_model(
    current: training.CurrentModel,
    pool: CandidatePool,
    excluded: np.ndarray,
    filters: HardFilters,
    offset: int,
    limit: int,
    explain: Callable[[Positive], Reason] | None = None,
) -> tuple[list[tuple[int, Reason, float, float]], bool]:
    """(paper id, reason, score, similarity to the reason) of the candidates at [offset, offset + limit) by the
    model, and whether more follow; `explain` words the reason from the nearest positive (reason_for)."""
    if len(pool) == 0:
        return [], False
    out = _filtered_out(pool, filters, excluded)
    scores = recommend.score(current.model, pool.matrix, pool.terms, pool.terms_version)
    chosen = recommend.top_indices(scores, offset + limit + 1, exclude=out)[offset:]
    has_next = len(chosen) > limit
    return _explained(current, pool, scores, chosen[:limit], explain or reason_for), has_next


def _explained(
    current: training.CurrentModel,
    pool: CandidatePool,
    scores: np.ndarray,
    chosen: np.ndarray,
    explain: Callable[[Positive], Reason] | None = None,
) -> list[tuple[int, Reason, float, float]]:
    """(paper id, reason, score, similarity to the reason) of the chosen candidates (indices into the pool)."""
    if len(chosen) == 0:
        return []
    nearest = recommend.reasons(current.model, pool.matrix[chosen], current.signals.positives)
    similarity = np.einsum("ij,ij->i", pool.matrix[chosen], current.model.positives[nearest])
    liked = current.signals.titled(nearest)
    return [
        (int(pool.ids[i]), (explain or reason_for)(positive), float(scores[i]), float(sim))
        for i, positive, sim in zip(chosen, liked, similarity, strict=True)
    ]


@dataclass(frozen=True)
class Follows:
    categories: tuple[str, ...] = ()
    authors: dict[int, str] = field(default_factory=dict)
    organizations: dict[int, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.categories or self.authors or self.organizations)

    def describe(self) -> list[str]:
        return [*self.categories, *self.authors.values(), *self.organizations.values()]


def user_follows(user) -> Follows:
    """The categories, authors and organizations the user follows (their interests)."""
    interests = Interests.objects.filter(user=user).first()
    if interests is None:
        return Follows()
    return Follows(
        tuple(str(c) for c in interests.categories or ()),
        dict(interests.authors.values_list("id", "name")),
        dict(interests.organizations.values_list("id", "name")),
    )


def rank_cold_start(
    pool: CandidatePool,
    follows: Follows,
    excluded: np.ndarray,
    filters: HardFilters,
    offset: int,
    limit: int,
    now: datetime,
) -> tuple[list[tuple[int, Reason, float]], bool]:
    """The cold start: followed categories, authors and organizations first, then trending, then new papers."""
    if len(pool) == 0:
        return [], False
    matched_by: dict[int, str] = {}
    for index, categories in enumerate(pool.categories):
        for category in follows.categories:
            if category in categories:
                matched_by[index] = f"In {category}, which you follow"
                break
    if follows.authors:
        rows = Authorship.objects.filter(author_id__in=list(follows.authors), paper_id__in=list(pool.position))
        for pid, aid in rows.values_list("paper_id", "author_id"):
            matched_by.setdefault(pool.position[pid], f"By {follows.authors[aid]}, whom you follow")
    if follows.organizations:
        rows = Paper.objects.filter(organization_id__in=list(follows.organizations), id__in=list(pool.position))
        for pid, oid in rows.values_list("id", "organization_id"):
            matched_by.setdefault(pool.position[pid], f"From {follows.organizations[oid]}, which you follow")
    matches = np.zeros(len(pool))
    matches[list(matched_by)] = 1
    half_life = timedelta(hours=settings.PAPERFEED_TRENDING_HALF_LIFE_HOURS)
    votes = Vote.objects.filter(paper_id__in=list(pool.position), created_at__gte=now - timedelta(days=CANDIDATE_DAYS))
    heat_by_id = trending_scores(votes.values_list("paper_id", "created_at"), now, half_life)
    heat = np.zeros(len(pool))
    for pid, value in heat_by_id.items():
        heat[pool.position[pid]] = value
    age = (pool.end.toordinal() - pool.listed).astype(np.float64)
    scores = recommend.cold_start_scores(age, matches, heat)
    out = _filtered_out(pool, filters, excluded)
    chosen = recommend.top_indices(scores, offset + limit + 1, exclude=out)[offset:]
    has_next = len(chosen) > limit
    found = []
    for index in chosen[:limit]:
        pid = int(pool.ids[index])
        if index in matched_by:
            reason = Reason(matched_by[index])
        elif heat[index] > 0:
            reason = Reason("Trending: upvoted lately by readers here")
        else:
            reason = Reason(f"New: listed {date.fromordinal(int(pool.listed[index])):%-d %b %Y}")
        found.append((pid, reason, float(scores[index])))
    return found, has_next


def for_you(
    user,
    limit: int = PAGE_SIZE,
    page: int = 1,
    filters: HardFilters | None = None,
    now: datetime | None = None,
) -> ForYou:
    """A page of the user's recommendations with a reason each; `filters` None means the digest settings' ones."""
    now = now or timezone.now()
    page = min(max(page, 1), MAX_PAGES)
    filters = interest_filters(user) if filters is None else filters
    pool = candidate_pool()
    user_signals = gather(user)
    excluded = _excluded(pool, user_signals.seen_paper_ids | sent_paper_ids(user, now))
    offset = (page - 1) * limit
    current = training.current_model(user, user_signals=user_signals)
    if current is not None:
        ranked, has_next = rank_with_model(current, pool, excluded, filters, offset, limit)
        found = [(pid, reason, score) for pid, reason, score, _ in ranked]
        result = ForYou(
            [],
            page,
            has_next,
            "model",
            filters,
            pool.start,
            pool.end,
            positives=len(current.signals.positives),
            waiting=current.signals.waiting,
            fresh=current.fresh,
        )
    else:
        follows = user_follows(user)
        found, has_next = rank_cold_start(pool, follows, excluded, filters, offset, limit, now)
        mode = "follows" if follows else "starter"
        result = ForYou(
            [],
            page,
            has_next,
            mode,
            filters,
            pool.start,
            pool.end,
            waiting=user_signals.waiting,
            follows=follows.describe(),
        )
    result.candidates = len(pool)
    cards = {card.paper.id: card for card in cards_for_ids([pid for pid, _, _ in found])}
    result.items = [Recommendation(cards[pid], reason, score) for pid, reason, score in found if pid in cards]
    return result


class DigestRecommender:
    """The For you sections of a digest run: many users' stored models and signals loaded in bulk (`prefetch`),
    then each user's papers ranked among those listed since their digest's window began.

    A digest run never fits a model (the background does): users without a stored model get no section. Scores
    are computed over the window's candidates only (a prefix of the pool, newest first), so a daily digest ranks
    a day's papers, not a month's."""

    def __init__(self, model: str = MODEL_NAME) -> None:
        self.model = model
        self._current: dict[int, training.CurrentModel | None] = {}
        self._pool: CandidatePool | None = None
        self._terms: dict[int, object] = {}

    @property
    def pool(self) -> CandidatePool:
        if self._pool is None:
            self._pool = candidate_pool(self.model)
        return self._pool

    def prefetch(self, user_ids: Iterable[int]) -> None:
        """Load these users' stored models and signals: two queries a few hundred users, whatever their number."""
        wanted = [uid for uid in dict.fromkeys(user_ids) if uid is not None and uid not in self._current]
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            states = {
                state.user_id: state
                for state in UserModelState.objects.filter(user_id__in=chunk, embedding_model=self.model)
            }
            gathered = gather_many(list(states), self.model) if states else {}
            for uid in chunk:
                state, user_signals = states.get(uid), gathered.get(uid)
                if state is None or user_signals is None or len(user_signals.positives) == 0:
                    self._current[uid] = None
                    continue
                stored = training.stored_user_model(state, user_signals.positive_vectors)
                self._current[uid] = training.CurrentModel(stored, user_signals, fresh=False)

    def recommend(
        self, user_id: int, exclude_ids: Iterable[int], since: date | None, limit: int, filters: HardFilters
    ) -> list[tuple[int, Reason]]:
        """(paper id, reason) of the `limit` best papers listed on or after `since` (see digest_recommendations)."""
        if limit <= 0:
            return []
        if user_id not in self._current:
            self.prefetch([user_id])
        current = self._current[user_id]
        if current is None:
            return []
        return self.rank_window(current, exclude_ids, since, limit, filters)

    def rank_window(
        self,
        current: training.CurrentModel,
        exclude_ids: Iterable[int],
        since: date | None,
        limit: int,
        filters: HardFilters,
        explain: Callable[[Positive], Reason] | None = None,
    ) -> list[tuple[int, Reason]]:
        """(paper id, reason) of the `limit` papers listed on or after `since` that `current` ranks best, left out
        `exclude_ids` and the papers the model was fitted on, under `filters`, and close enough to one of its
        positives (DIGEST_MIN_SIMILARITY); `explain` words the reason (reason_for)."""
        if limit <= 0:
            return []
        pool = self.pool
        window = pool.newer_than(since)
        if window == 0:
            return []
        terms = None
        if pool.terms is not None:
            if window not in self._terms:  # digests of a run share a few windows: slice each once
                self._terms[window] = pool.terms[:window]
            terms = self._terms[window]
        scores = recommend.score(current.model, pool.matrix[:window], terms, pool.terms_version)
        left_out = set(exclude_ids) | current.signals.seen_paper_ids
        order = np.lexsort((np.arange(window), -scores))  # best first, newest first among equals
        chosen: list[int] = []
        for index in order:
            pid = int(pool.ids[index])
            if pid in left_out or (filters and not filters.passes(pool.categories[index], pool.texts[index])):
                continue
            chosen.append(int(index))
            if len(chosen) >= limit:
                break
        found = _explained(current, pool, scores, np.array(chosen, dtype=np.int64), explain)
        return [(pid, reason) for pid, reason, _, similarity in found if similarity >= DIGEST_MIN_SIMILARITY]


def digest_recommendations(
    user,
    exclude_ids: Iterable[int],
    since: date | None,
    limit: int,
    filters: HardFilters | None = None,
) -> list[tuple[int, Reason]]:
    """(paper id, reason) of the `limit` best papers for a digest's For you section, listed on or after `since`,
    with the hard filters of the user's digest settings (or `filters`), and only those close enough to what they
    liked (DIGEST_MIN_SIMILARITY). `exclude_ids` holds what the digest already sent or holds; what the user
    upvoted, collected, imported or dismissed is left out too. Empty unless the user has a trained model: a digest
    run never fits one (the background does), it uses the stored weights. For one user; a digest run uses one
    DigestRecommender for all of its users."""
    filters = interest_filters(user) if filters is None else filters
    return DigestRecommender().recommend(user.pk, exclude_ids, since, limit, filters)
