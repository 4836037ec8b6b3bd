"""The trending score: each upvote counts 1 when cast and half as much every `half_life` after.

    score(paper) = sum over its upvotes v of 0.5 ** (age(v) / half_life)

A paper that gathers votes now rises; one whose votes are old sinks, whatever its total. See docs/ranking.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def vote_weight(voted_at: datetime, now: datetime, half_life: timedelta) -> float:
    """One vote's weight: 1.0 when fresh, halving every half_life; votes from the future count 1.0."""
    age = max((now - voted_at).total_seconds(), 0.0)
    return 0.5 ** (age / half_life.total_seconds())


def trending_scores(votes: Iterable[tuple[int, datetime]], now: datetime, half_life: timedelta) -> dict[int, float]:
    """Score per paper id from (paper_id, voted_at) pairs."""
    scores: dict[int, float] = {}
    for paper_id, voted_at in votes:
        scores[paper_id] = scores.get(paper_id, 0.0) + vote_weight(voted_at, now, half_life)
    return scores


def rank_by_score(scores: dict[int, float]) -> list[int]:
    """Paper ids by descending score; equal scores go to the larger (more recently added) id."""
    return sorted(scores, key=lambda pid: (-scores[pid], -pid))
