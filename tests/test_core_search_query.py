"""The search box's text never reaches the keyword engine as syntax, and never raises."""

import pytest
import tantivy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.core.search_query import MAX_TERMS, Term, parse_query
from paperfeed.papers.retrieval import engine

DOCS = [
    ("MLP Mixer", "a multilayer perceptron for vision", "Ada"),
    ("Title: NEAR AND OR NOT", "column filters and carets ^ and stars *", "Bob"),
    ("Graph transformers", "sparse attention at scale", "Chen"),
]


@pytest.fixture(scope="module")
def fts():
    index = tantivy.Index(engine.SCHEMA)
    index.register_tokenizer(engine.ANALYZER, engine._STEMMED)
    writer = index.writer(15_000_000, 1)
    for n, (title, abstract, author) in enumerate(DOCS):
        engine.add_documents(writer, [engine.Document(n, title, abstract, [author], ["cs.LG"], None, f"2601.0000{n}")])
    writer.commit()
    index.reload()
    return index.searcher()


def matches(searcher, query):
    if query is None:
        return set()
    return {DOCS[pid][0] for pid in engine.ranked(searcher, query, 10).ids}


def tiers(text, match_all=True):
    return engine.tiers(parse_query(text), match_all)


def test_plain_words_must_all_match(fts):
    assert matches(fts, tiers("graph attention")[0]) == {"Graph transformers"}


def test_phrases_negation_and_prefix():
    query = parse_query('"sparse attention" -survey transform*')
    assert query.terms == (
        Term(("sparse", "attention")),
        Term(("survey",), negated=True),
        Term(("transform",), prefix=True),
    )


def test_hyphenated_words_are_not_negations():
    assert not any(t.negated for t in parse_query("state-of-the-art").terms)


def test_operators_are_plain_words(fts):
    # NEAR, AND, OR and NOT are words here, not operators: they must match the document that contains them.
    for text in ["NEAR", "AND(", "title: near", "OR", "NOT"]:
        assert matches(fts, tiers(text)[0]) == {"Title: NEAR AND OR NOT"}, text


def test_acronyms_are_expanded_in_a_second_tier(fts):
    exact, expanded = tiers("MLP")
    assert matches(fts, exact) == {"MLP Mixer"}
    assert matches(fts, expanded) == set()  # the only perceptron paper already matched "MLP"
    assert tiers("multilayer perceptron", match_all=True) and matches(fts, tiers("perceptron")[0]) == {"MLP Mixer"}


@pytest.mark.parametrize("text", ["", "   ", "((", '"', "-only", "😀🎉", "*", "^", ":::", "-", '""'])
def test_nothing_to_search(text):
    query = parse_query(text)
    assert not query
    assert engine.tiers(query, True) == [] and engine.tiers(query, False) == []


def test_huge_input_is_bounded():
    query = parse_query("word " * 5000 + "x" * 10_000)
    assert len(query.terms) <= MAX_TERMS
    assert all(len(w) <= 64 for t in query.terms for w in t.words)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_is_a_valid_query(fts, text):
    for match_all in (True, False):
        for query in tiers(text, match_all):
            matches(fts, query)  # raises ValueError on any query the engine cannot run


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
def test_syntax_characters_are_only_text(fts, pieces):
    text = "".join(pieces)
    for query in tiers(text) + tiers(text, match_all=False):
        matches(fts, query)
    # Only letters and digits reach the engine: every term is made of the words the parser found.
    assert all(word.isalnum() for term in parse_query(text).terms for word in term.words)


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
