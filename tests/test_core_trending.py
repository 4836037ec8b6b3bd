from datetime import UTC, datetime, timedelta

import pytest

from paperfeed.core.trending import rank_by_score, trending_scores, vote_weight

NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)
DAY = timedelta(hours=24)


def test_a_vote_halves_every_half_life():
    assert vote_weight(NOW, NOW, DAY) == 1.0
    assert vote_weight(NOW - DAY, NOW, DAY) == pytest.approx(0.5)
    assert vote_weight(NOW - 3 * DAY, NOW, DAY) == pytest.approx(0.125)


def test_votes_from_the_future_count_as_fresh():
    assert vote_weight(NOW + DAY, NOW, DAY) == 1.0


def test_scores_sum_the_decayed_votes():
    votes = [(1, NOW), (1, NOW - DAY), (2, NOW - 2 * DAY)]
    assert trending_scores(votes, NOW, DAY) == pytest.approx({1: 1.5, 2: 0.25})


def test_fresh_votes_beat_more_but_older_votes():
    fresh = [(1, NOW - timedelta(hours=1))] * 3
    old = [(2, NOW - 4 * DAY)] * 10
    ranked = rank_by_score(trending_scores(fresh + old, NOW, DAY))
    assert ranked == [1, 2]


def test_ties_go_to_the_newer_paper():
    assert rank_by_score({5: 1.0, 9: 1.0, 7: 2.0}) == [7, 9, 5]
