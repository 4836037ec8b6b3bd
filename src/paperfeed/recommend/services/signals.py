"""What a user has told the site about their taste: the positives and negatives a recommendation model learns from.

Positives: papers they upvoted, papers in their collections (and those they added to a group's), papers their
imported library matched, and the library items that matched no paper (through the embedding of their own title
and abstract). Negatives: papers they marked "not interested". Each signal becomes one embedding; the most recent
MAX_POSITIVES positives count.

The fingerprint summarises which signals a user has (counts and power sums of the ids per kind), so that a model
fitted on other signals is seen to be stale; it is computed for one user or for every user in a few queries.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import Case, Count, F, Q, QuerySet, Sum, When

from paperfeed.community.models import Collection, CollectionItem
from paperfeed.core.addresses import paper_address
from paperfeed.core.embedder import MODEL_NAME
from paperfeed.papers.models import Paper, PaperEmbedding, Vote
from paperfeed.papers.retrieval.embeddings import stored as stored_vector
from paperfeed.recommend.models import Dismissal, LibraryItem

MAX_POSITIVES = 2000
MAX_NEGATIVES = 2000
CHUNK = 900  # ids per IN (...) list
DIMENSIONS = 384


@dataclass
class Positive:
    """One liked thing, as a recommendation's reason names it (the title is looked up for reasons shown only)."""

    source: str  # "upvote", "collection" or "library"
    paper_id: int | None = None  # a paper on the site (linked), else an unmatched library item (named)
    library_item_id: int | None = None
    collection: str = ""  # the collection's name, for source "collection"
    title: str = ""
    address: str = ""  # the paper's, for a link to it


@dataclass(frozen=True)
class UserSignals:
    """A user's signals with their embeddings (rows of `positive_vectors` are in the order of `positives`)."""

    positives: list[Positive]
    positive_vectors: np.ndarray  # (p, d) float32
    negative_paper_ids: list[int]
    negative_vectors: np.ndarray  # (n, d) float32
    waiting: int  # library items not matched and not yet embedded: they will count once the indexer has run
    seen_paper_ids: frozenset[int] = frozenset()  # every paper upvoted, collected, imported or dismissed

    def titled(self, indices: Iterable[int]) -> list[Positive]:
        """These positives with their titles (and papers' addresses) filled in, in two queries at most."""
        chosen = [self.positives[i] for i in indices]
        papers = {p.paper_id for p in chosen if p.paper_id is not None and not p.title}
        items = {p.library_item_id for p in chosen if p.paper_id is None and not p.title}
        rows = Paper.objects.filter(id__in=papers).values_list("id", "title", "source", "external_id")
        paper_rows = {pid: (title, paper_address(source, eid)) for pid, title, source, eid in rows} if papers else {}
        item_rows = dict(LibraryItem.objects.filter(id__in=items).values_list("id", "title")) if items else {}
        for positive in chosen:
            if positive.paper_id in paper_rows:
                positive.title, positive.address = paper_rows[positive.paper_id]
            elif positive.library_item_id in item_rows:
                positive.title = item_rows[positive.library_item_id]
        return chosen


def _matrix(rows: list[np.ndarray]) -> np.ndarray:
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)


def _vector(blob) -> np.ndarray | None:
    if blob is None:
        return None
    vector = stored_vector(blob)
    return vector if vector.shape[0] == DIMENSIONS else None


def _signal_sql(users: int) -> str:
    """Every signal of `users` users with the embedding it counts through, in one query (plain SQL: four ORM
    queries and their compilation cost more than the work when a digest run does this for thousands of users)."""
    tables = {
        "vote": Vote._meta.db_table,
        "item": CollectionItem._meta.db_table,
        "coll": Collection._meta.db_table,
        "lib": LibraryItem._meta.db_table,
        "dis": Dismissal._meta.db_table,
        "emb": PaperEmbedding._meta.db_table,
        "ids": ", ".join(["%s"] * users),
    }
    # The library's branch comes first: its columns have types, which PostgreSQL carries over to the other
    # branches' NULLs (a NULL first would be taken as text, and a bigint or bytea after it refused).
    return """
        SELECT s.user_id, 'library', s.paper_id, s.imported_at, s.id, NULL, e.vector, s.embedding, s.embedding_model
          FROM {lib} s LEFT JOIN {emb} e ON e.paper_id = s.paper_id AND e.model = %s WHERE s.user_id IN ({ids})
        UNION ALL
        SELECT s.user_id, 'upvote', s.paper_id, s.created_at, NULL, NULL, e.vector, NULL, NULL
          FROM {vote} s LEFT JOIN {emb} e ON e.paper_id = s.paper_id AND e.model = %s WHERE s.user_id IN ({ids})
        UNION ALL
        SELECT CASE WHEN c.group_id IS NULL THEN c.owner_id ELSE s.added_by_id END, 'collection', s.paper_id,
               s.added_at, NULL, c.name, e.vector, NULL, NULL
          FROM {item} s JOIN {coll} c ON c.id = s.collection_id
          LEFT JOIN {emb} e ON e.paper_id = s.paper_id AND e.model = %s
         WHERE (c.group_id IS NULL AND c.owner_id IN ({ids})) OR (c.group_id IS NOT NULL AND s.added_by_id IN ({ids}))
        UNION ALL
        SELECT s.user_id, 'dismissal', s.paper_id, s.at, NULL, NULL, e.vector, NULL, NULL
          FROM {dis} s LEFT JOIN {emb} e ON e.paper_id = s.paper_id AND e.model = %s WHERE s.user_id IN ({ids})
    """.format(**tables)


def gather(user, model: str = MODEL_NAME) -> UserSignals:
    """The user's signals, newest first, with their embeddings; signals without an embedding yet are left out.

    A paper liked in several ways counts once (an upvote first, then a collection, then the library)."""
    return gather_many([user.pk], model)[user.pk]


def gather_many(user_ids: Iterable[int], model: str = MODEL_NAME) -> dict[int, UserSignals]:
    """gather() for many users, a query per CHUNK // 4 users: what a digest run needs for thousands of them."""
    user_ids = list(dict.fromkeys(user_ids))
    rows_of: dict[int, list[tuple]] = {uid: [] for uid in user_ids}
    step = CHUNK // 4  # each id appears in four IN lists
    with connection.cursor() as cursor:
        for start in range(0, len(user_ids), step):
            chunk = user_ids[start : start + step]
            # library, upvotes, collections (their own, and what they added to a group's: ids twice), dismissals
            params = [model, *chunk, model, *chunk, model, *chunk, *chunk, model, *chunk]
            cursor.execute(_signal_sql(len(chunk)), params)
            for uid, *row in cursor.fetchall():
                rows_of[uid].append(tuple(row))
    return {uid: _signals(rows, model) for uid, rows in rows_of.items()}


def _signals(rows: list[tuple], model: str) -> UserSignals:
    liked: list[tuple] = []  # (when, rank of kind, Positive, vector)
    dismissed: list[tuple] = []
    seen: set[int] = set()
    waiting = 0
    rank = {"upvote": 0, "collection": 1, "library": 2}
    for kind, paper_id, at, item_id, collection, paper_vector, own_vector, own_model in rows:
        if paper_id is not None:
            seen.add(paper_id)
        if kind == "dismissal":
            dismissed.append((str(at), paper_id, _vector(paper_vector)))
            continue
        vector = _vector(paper_vector)
        if kind == "library" and paper_id is None:
            vector = _vector(own_vector) if own_model == model else None
            if vector is None:
                waiting += 1
                continue
        if vector is None:
            continue  # a paper not embedded yet: it counts once the indexer has run
        positive = Positive(kind, paper_id, item_id, collection or "")
        liked.append((str(at), rank[kind], positive, vector))

    liked.sort(key=lambda row: row[1])
    once: dict[object, tuple] = {}
    for row in liked:
        key = row[2].paper_id if row[2].paper_id is not None else ("item", row[2].library_item_id)
        once.setdefault(key, row)
    ordered = sorted(once.values(), key=lambda row: row[0], reverse=True)[:MAX_POSITIVES]
    dismissed = [row for row in sorted(dismissed, key=lambda row: row[0], reverse=True) if row[2] is not None]
    dismissed = dismissed[:MAX_NEGATIVES]
    return UserSignals(
        positives=[row[2] for row in ordered],
        positive_vectors=_matrix([row[3] for row in ordered]),
        negative_paper_ids=[row[1] for row in dismissed],
        negative_vectors=_matrix([row[2] for row in dismissed]),
        waiting=waiting,
        seen_paper_ids=frozenset(seen),
    )


# --- fingerprints ---


def saved_items(user_ids: list[int] | None) -> QuerySet[CollectionItem]:
    """The collection items that are these users' signals (everyone's when None), each with its `saver`: the papers
    in a member's own collections, and those they added to a reading group's (another editor's additions to a
    shared collection are that editor's signal, not its creator's)."""
    own = Q(collection__group__isnull=True)
    added = Q(collection__group__isnull=False, added_by__isnull=False)
    if user_ids is not None:
        own &= Q(collection__owner_id__in=user_ids)
        added &= Q(added_by_id__in=user_ids)
    saver = Case(When(collection__group__isnull=True, then=F("collection__owner_id")), default=F("added_by_id"))
    return CollectionItem.objects.filter(own | added).annotate(saver=saver)


def _digest(parts: dict[str, tuple]) -> str:
    text = "|".join(f"{kind}:{','.join(str(v or 0) for v in values)}" for kind, values in sorted(parts.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _sums(rows: Iterable[tuple]) -> dict[int, tuple]:
    return {user_id: tuple(values) for user_id, *values in rows}


def fingerprints(user_ids: Iterable[int] | None = None) -> dict[int, str]:
    """user id -> fingerprint of their signals, for these users (every user with a signal when None).

    The count and the sums of ids and squared ids of each kind's rows identify the set of signals (an upvote
    taken back and another given changes the sums); liked papers also count how many have an embedding, and
    library items how many are embedded themselves, so that a signal that starts to count refits the model."""
    return fingerprint_table(user_ids)[0]


def fingerprint_table(user_ids: Iterable[int] | None = None) -> tuple[dict[int, str], set[int]]:
    """fingerprints(user_ids), and which of those users have a positive signal (a model needs one)."""
    only = None if user_ids is None else list(user_ids)

    def scoped(queryset, field: str = "user_id"):
        return queryset if only is None else queryset.filter(**{f"{field}__in": only})

    power = {"n": Count("id"), "s": Sum("paper_id"), "q": Sum(F("paper_id") * F("paper_id"))}
    embedded = Count("paper__embedding")
    kinds: dict[str, dict[int, tuple]] = {
        "v": _sums(
            scoped(Vote.objects)
            .values("user_id")
            .annotate(**power, x=embedded)
            .values_list("user_id", "n", "s", "q", "x")
        ),
        "c": _sums(
            saved_items(only).values("saver").annotate(**power, x=embedded).values_list("saver", "n", "s", "q", "x")
        ),
        "d": _sums(scoped(Dismissal.objects).values("user_id").annotate(**power).values_list("user_id", "n", "s", "q")),
        "l": _sums(
            scoped(LibraryItem.objects)
            .values("user_id")
            .annotate(
                n=Count("id"),
                s=Sum("id"),
                q=Sum(F("id") * F("id")),
                m=Sum("paper_id"),
                e=Count("id", filter=Q(embedding__isnull=False)),
                x=embedded,
            )
            .values_list("user_id", "n", "s", "q", "m", "e", "x")
        ),
    }
    users: set[int] = set(only) if only is not None else set().union(*(k.keys() for k in kinds.values()))
    per_user: dict[int, dict[str, tuple]] = defaultdict(dict)
    for kind, rows in kinds.items():
        for user_id, values in rows.items():
            per_user[user_id][kind] = values
    with_positives = {uid for uid, kinds_of in per_user.items() if kinds_of.keys() & {"v", "c", "l"}}
    return {uid: _digest(per_user.get(uid, {})) for uid in users}, with_positives


def has_signals(user) -> bool:
    """Whether the user gave any signal at all (an upvote, a collection paper, a library item, a dismissal)."""
    return (
        Vote.objects.filter(user=user).exists()
        or saved_items([user.pk]).exists()
        or LibraryItem.objects.filter(user=user).exists()
        or Dismissal.objects.filter(user=user).exists()
    )


EMPTY_FINGERPRINT = _digest({})
