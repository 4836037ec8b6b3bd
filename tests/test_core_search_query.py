"""The search box's text never reaches FTS5 as syntax, and never raises."""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.core.search_query import MAX_TERMS, Term, fts5_tiers, parse_query, to_fts5

DOCS = [
    ("MLP Mixer", "a multilayer perceptron for vision", "Ada"),
    ("Title: NEAR AND OR NOT", "column filters and carets ^ and stars *", "Bob"),
    ("Graph transformers", "sparse attention at scale", "Chen"),
]


@pytest.fixture(scope="module")
def fts():
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE s USING fts5(title, abstract, authors, tokenize='porter unicode61 remove_diacritics 2')"
    )
    db.executemany("INSERT INTO s VALUES (?, ?, ?)", DOCS)
    return db


def matches(db, expression):
    return {row[0] for row in db.execute("SELECT title FROM s WHERE s MATCH ?", (expression,))}


def test_plain_words_must_all_match(fts):
    assert matches(fts, to_fts5(parse_query("graph attention"))) == {"Graph transformers"}


def test_phrases_negation_and_prefix():
    query = parse_query('"sparse attention" -survey transform*')
    assert query.terms == (
        Term(("sparse", "attention")),
        Term(("survey",), negated=True),
        Term(("transform",), prefix=True),
    )
    assert to_fts5(query) == '("sparse attention" AND "transform" *) NOT ("survey")'


def test_hyphenated_words_are_not_negations():
    assert not any(t.negated for t in parse_query("state-of-the-art").terms)


def test_operators_are_plain_words(fts):
    # NEAR, AND, OR and NOT are words here, not operators: they must match the document that contains them.
    for text in ["NEAR", "AND(", "title: near", "OR", "NOT"]:
        assert matches(fts, to_fts5(parse_query(text))) == {"Title: NEAR AND OR NOT"}, text


def test_acronyms_are_expanded_in_a_second_tier(fts):
    exact, expanded = fts5_tiers(parse_query("MLP"))
    assert matches(fts, exact) == {"MLP Mixer"}
    assert "multilayer perceptron" in expanded
    assert matches(fts, expanded) == set()  # the only perceptron paper already matched "MLP"


@pytest.mark.parametrize("text", ["", "   ", "((", '"', "-only", "😀🎉", "*", "^", ":::", "-", '""'])
def test_nothing_to_search(text):
    query = parse_query(text)
    assert not query
    assert to_fts5(query) is None
    assert fts5_tiers(query) == []


def test_huge_input_is_bounded():
    query = parse_query("word " * 5000 + "x" * 10_000)
    assert len(query.terms) <= MAX_TERMS
    assert all(len(w) <= 64 for t in query.terms for w in t.words)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_is_a_valid_query(fts, text):
    for match_all in (True, False):
        for expression in fts5_tiers(parse_query(text), match_all=match_all):
            matches(fts, expression)  # raises sqlite3.OperationalError on any syntax error


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            [
                '"',
                "*",
                "-",
                "(",
                ")",
                ":",
                "^",
                "+",
                "NEAR",
                "AND",
                "OR",
                "NOT",
                "a",
                " ",
                "é",
                "\x00",
                "{",
                "}",
            ]
        ),
        max_size=40,
    )
)
def test_fts_syntax_characters_never_reach_fts5(fts, pieces):
    text = "".join(pieces)
    for expression in fts5_tiers(parse_query(text)) + fts5_tiers(parse_query(text), match_all=False):
        matches(fts, expression)
        # Outside the quoted words only the operators this module writes may appear.
        outside = "".join(part for i, part in enumerate(expression.split('"')) if i % 2 == 0)
        assert set(outside) <= set("()* ANDORT"), expression


def test_stop_words_are_dropped_unless_they_are_all_there_is():
    assert parse_query("the diffusion of a model").words() == ["diffusion", "model"]
    assert parse_query('"the art of war"').words() == ["the", "art", "of", "war"]  # phrases keep them
    assert parse_query("the of and").words() == ["the", "of", "and"]
    assert parse_query("to be -or").words() == ["to", "be"]


def test_acronyms_are_spelled_out_for_search_by_meaning():
    from paperfeed.core.search_query import meaning_text

    assert meaning_text("MLP", parse_query("MLP")) == "MLP (multilayer perceptron)"
    assert meaning_text("LLM agents and GNN", parse_query("LLM agents and GNN")) == (
        "LLM agents and GNN (large language model; graph neural network)"
    )
    assert meaning_text("graph transformers", parse_query("graph transformers")) == "graph transformers"
