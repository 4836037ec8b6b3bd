"""Reciprocal-rank fusion: one ranking out of several (keyword and semantic), using ranks only, never scores.

Cormack, Clarke and Büttcher (2009): score(d) = Σ_i weight_i / (k + rank_i(d)), ranks starting at 1. Ranks
need no calibration between engines whose scores mean different things, which is why it suits BM25 + embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[T]],
    k: float = 60.0,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[T]:
    """Fuse rankings by weighted reciprocal rank; ties go to the best single rank, then to first appearance.

    An item repeated within one ranking counts once, at its best rank. limit: keep only the first so many.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    elif len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    if not (k >= 0 and math.isfinite(k)):
        raise ValueError(f"k must be a finite number >= 0, not {k}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, not {limit}")
    terms: dict[T, list[float]] = {}
    best: dict[T, int] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            terms.setdefault(item, []).append(weight / (k + rank))
            best[item] = min(best.get(item, rank), rank)
    # fsum is exact whatever the order of the terms, so items with equal ranks tie exactly (plain float sums
    # could differ in the last bit and break a true tie by accident). Dicts keep first-appearance order, and
    # sorted() is stable, so that is the last tie-break.
    scores = {item: math.fsum(parts) for item, parts in terms.items()}
    fused = sorted(scores, key=lambda item: (-scores[item], best[item]))
    return fused if limit is None else fused[:limit]
