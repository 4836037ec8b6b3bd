"""More like this collection: recent papers ranked by a model fitted on one collection's papers.

The same model as For you (training.fit, core/recommend.py): the collection's papers are the positives, the
background sample the implicit negatives, and there are no explicit negatives (a collection holds no "not
interested"). Candidates are For you's pool: visible papers listed in the last CANDIDATE_DAYS list days, with an
embedding; papers in the collection are left out. Each paper says which paper of the collection it is nearest to.

Fitted in the request, never stored, so nothing goes stale when the collection changes: For you refits models of
up to training.LAZY_FIT_POSITIVES positives on its page the same way (~120 ms with 50 positives against the full
2,000-paper background, bench/recs_speed.py); on the test corpus the whole request's work is ~20 ms. So that a
large collection costs no more, the model is fitted on its MAX_PAPERS most recently added papers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from paperfeed.community.models import Collection
from paperfeed.community.services import collections
from paperfeed.core.embedder import MODEL_NAME
from paperfeed.papers.models import PaperEmbedding
from paperfeed.papers.retrieval.embeddings import stored as stored_vector
from paperfeed.papers.services.cards import cards_for_ids
from paperfeed.recommend.services import ranking, training
from paperfeed.recommend.services.signals import DIMENSIONS, Positive, UserSignals

LIMIT = 20
MAX_PAPERS = training.LAZY_FIT_POSITIVES
CHUNK = 900


@dataclass
class LikeCollection:
    """The papers most like a collection's, and how they were found."""

    items: list[ranking.Recommendation]
    positives: int  # papers of the collection the model was fitted on (those with an embedding)
    papers: int  # visible papers in the collection
    candidates: int  # papers in the window
    start: date | None
    end: date | None


def like_reason(positive: Positive) -> ranking.Reason:
    """'Like <the nearest paper of the collection>'."""
    return ranking.Reason("Like", " ".join(positive.title.split()) or "an untitled paper", positive.address)


def collection_signals(collection: Collection, model: str = MODEL_NAME) -> UserSignals:
    """The collection's visible papers with an embedding as the positives of a model: the MAX_PAPERS most recently
    added (with an embedding or not), most recent first."""
    paper_ids = collections.paper_ids(collection)[:MAX_PAPERS]
    vectors: dict[int, np.ndarray] = {}
    for start in range(0, len(paper_ids), CHUNK):
        stored = PaperEmbedding.objects.filter(model=model, paper_id__in=paper_ids[start : start + CHUNK])
        for pid, blob in stored.values_list("paper_id", "vector"):
            vector = stored_vector(blob)
            if vector.shape[0] == DIMENSIONS:
                vectors[pid] = vector
    kept = [pid for pid in paper_ids if pid in vectors]
    none = np.zeros((0, DIMENSIONS), dtype=np.float32)
    return UserSignals(
        positives=[Positive("collection", pid, collection=collection.name) for pid in kept],
        positive_vectors=np.vstack([vectors[pid] for pid in kept]).astype(np.float32) if kept else none,
        negative_paper_ids=[],
        negative_vectors=none,
        waiting=0,
        seen_paper_ids=frozenset(paper_ids),
    )


def collection_model(collection: Collection, model: str = MODEL_NAME) -> training.CurrentModel | None:
    """For you's model fitted on the collection's papers, or None when none of them has an embedding yet."""
    signals = collection_signals(collection, model)
    fitted = training.fit(signals, model)
    return training.CurrentModel(fitted, signals, fresh=True) if fitted is not None else None


def in_collection(collection: Collection) -> set[int]:
    """Every paper in the collection, hidden ones too (they are not candidates anyway)."""
    return set(collection.items.values_list("paper_id", flat=True))


def more_like(collection: Collection, limit: int = LIMIT, model: str = MODEL_NAME) -> LikeCollection:
    """The `limit` recent papers most like the collection's, best first, each with the nearest collection paper."""
    pool = ranking.candidate_pool(model)
    papers = len(collections.paper_ids(collection))
    current = collection_model(collection, model)
    result = LikeCollection([], 0, papers, len(pool), pool.start, pool.end)
    if current is None:
        return result
    result.positives = len(current.signals.positives)
    excluded = np.zeros(len(pool), dtype=bool)
    excluded[[pool.position[pid] for pid in in_collection(collection) if pid in pool.position]] = True
    ranked, _ = ranking.rank_with_model(current, pool, excluded, ranking.HardFilters(), 0, limit, like_reason)
    cards = {card.paper.id: card for card in cards_for_ids([pid for pid, _, _, _ in ranked])}
    result.items = [ranking.Recommendation(cards[pid], reason, s) for pid, reason, s, _ in ranked if pid in cards]
    return result


def digest_picks(
    recommender: ranking.DigestRecommender,
    collection: Collection,
    current: training.CurrentModel | None,
    exclude_ids: set[int],
    since: date | None,
    limit: int,
    filters: ranking.HardFilters,
) -> list[tuple[int, ranking.Reason]]:
    """(paper id, reason) of the `limit` papers listed on or after `since` most like the collection's (its model
    `current`, see collection_model), for a digest's "Like your collections" section: as For you's section ranks
    a member's papers (DigestRecommender.rank_window), each reason naming the nearest paper and the collection."""
    if current is None:
        return []

    def explain(positive: Positive) -> ranking.Reason:
        return replace(like_reason(positive), tail=f", in {collection.name}")

    return recommender.rank_window(current, exclude_ids, since, limit, filters, explain)
