"""/trending: papers ranked by time-decayed upvotes (the formula lives in paperfeed.core.trending)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from paperfeed.core.trending import rank_by_score, trending_scores
from paperfeed.papers.models import Paper, Vote, visible_condition
from paperfeed.papers.services.cards import PaperCard, cards_for_ids

TRENDING_SIZE = 50


@dataclass(frozen=True)
class Trending:
    cards: list[PaperCard]
    scores: dict[int, float]
    has_votes: bool  # False: nobody voted in the window, and cards are the newest papers instead


def trending(now: datetime, limit: int = TRENDING_SIZE) -> Trending:
    half_life = timedelta(hours=settings.PAPERFEED_TRENDING_HALF_LIFE_HOURS)
    since = now - timedelta(days=settings.PAPERFEED_TRENDING_WINDOW_DAYS)
    votes = Vote.objects.filter(visible_condition("paper"), created_at__gte=since, created_at__lte=now)
    scores = trending_scores(votes.values_list("paper_id", "created_at"), now, half_life)
    if not scores:
        newest = Paper.objects.visible().order_by("-published", "-external_id").values_list("id", flat=True)[:limit]
        return Trending(cards_for_ids(list(newest)), {}, has_votes=False)
    ranked = rank_by_score(scores)[:limit]
    return Trending(cards_for_ids(ranked), scores, has_votes=True)
