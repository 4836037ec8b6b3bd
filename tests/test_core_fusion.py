import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.core.fusion import reciprocal_rank_fusion


def test_hand_computed_fusion():
    # a: 1/61 = .01639; b: 1/62 + 1/61 = .03252; c: 1/63 + 1/62 = .03200; d: 1/63 = .01587.
    assert reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]]) == ["b", "c", "a", "d"]


def test_k_changes_the_balance():
    # k=0: a = 1/1 = 1.0 beats b = 1/2 + 1/3 = .833; k=60: b = 1/62 + 1/63 = .0320 beats a = 1/61 = .0164.
    rankings = [["a", "b"], ["c", "x", "b"]]
    assert reciprocal_rank_fusion(rankings, k=0)[:2] == ["a", "c"]
    assert reciprocal_rank_fusion(rankings)[0] == "b"


def test_weights():
    rankings = [["a", "b"], ["b", "a"]]
    # a: 2/61 + 1/62 = .04892, b: 2/62 + 1/61 = .04865.
    assert reciprocal_rank_fusion(rankings, weights=[2, 1]) == ["a", "b"]
    assert reciprocal_rank_fusion(rankings, weights=[1, 2]) == ["b", "a"]
    # A ranking weighted 0 only adds its items at the end.
    assert reciprocal_rank_fusion([["a"], ["z", "a"]], weights=[1, 0]) == ["a", "z"]


def test_weights_must_match_the_rankings():
    with pytest.raises(ValueError, match="2 weights for 3 rankings"):
        reciprocal_rank_fusion([["a"], ["b"], ["c"]], weights=[1, 1])


def test_bad_k_or_limit():
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], k=-1)
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], limit=-1)


def test_ties_go_to_the_best_single_rank():
    # k=0: b = 1/1, c = 1/1, a = 1/2 + 1/2: all 1.0. b and c were first somewhere, a never.
    assert reciprocal_rank_fusion([["b", "a"], ["c", "a"]], k=0) == ["b", "c", "a"]


def test_ties_with_equal_best_ranks_go_to_first_appearance():
    assert reciprocal_rank_fusion([["a"], ["b"]]) == ["a", "b"]
    assert reciprocal_rank_fusion([["b"], ["a"]]) == ["b", "a"]
    # a, c and b each rank 1, 2 and 3 once: equal scores, equal best ranks, so the order they were first seen.
    assert reciprocal_rank_fusion([["a", "c", "b"], ["c", "b", "a"], ["b", "a", "c"]]) == ["a", "c", "b"]


def test_exact_ties_do_not_depend_on_summation_order():
    # x ranks 1, 2, 3 and y ranks 3, 2, 1: equal scores, yet with k=0.2 the plain float sums differ in the last
    # bit (1.6003787878787878 against 1.600378787878788), which would put y first.
    rankings = [["x"], ["p", "x"], ["q", "r", "x"], ["s", "t", "y"], ["u", "y"], ["y"]]
    assert reciprocal_rank_fusion(rankings, k=0.2)[:2] == ["x", "y"]


def test_an_item_repeated_in_one_ranking_counts_once():
    # a: 1/61 (not 1/61 + 1/63); b: 1/62.
    assert reciprocal_rank_fusion([["a", "b", "a"]]) == ["a", "b"]
    assert reciprocal_rank_fusion([["a", "b", "a"], ["b"]]) == ["b", "a"]


def test_limit():
    rankings = [["a", "b", "c"], ["b", "c", "d"]]
    assert reciprocal_rank_fusion(rankings, limit=2) == ["b", "c"]
    assert reciprocal_rank_fusion(rankings, limit=0) == []
    assert reciprocal_rank_fusion(rankings, limit=10) == ["b", "c", "a", "d"]


def test_empty_inputs():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    assert reciprocal_rank_fusion([[], [3, 1]]) == [3, 1]


def test_inputs_are_not_changed():
    rankings = [[1, 2], [2, 3]]
    reciprocal_rank_fusion(rankings, limit=1)
    assert rankings == [[1, 2], [2, 3]]


rankings_strategy = st.lists(st.lists(st.integers(0, 20), max_size=15), max_size=5)


@given(rankings_strategy, st.floats(0, 100))
def test_every_item_appears_once(rankings, k):
    fused = reciprocal_rank_fusion(rankings, k=k)
    assert sorted(fused) == sorted({item for ranking in rankings for item in ranking})


@given(rankings_strategy, st.integers(0, 30))
def test_a_limit_keeps_a_prefix(rankings, limit):
    assert reciprocal_rank_fusion(rankings, limit=limit) == reciprocal_rank_fusion(rankings)[:limit]


@given(st.integers(), rankings_strategy.filter(lambda r: len(r) > 0), st.floats(0, 100))
def test_an_item_first_everywhere_comes_first(top, rankings, k):
    fused = reciprocal_rank_fusion([[top, *ranking] for ranking in rankings], k=k)
    assert fused[0] == top


@given(rankings_strategy)
def test_deterministic(rankings):
    assert reciprocal_rank_fusion(rankings) == reciprocal_rank_fusion([list(r) for r in rankings])
