"""SQLite FTS5 query strings for parsed search terms: the reference engine of bench/fts5_floor.py and
bench/engine_comparison.py (the product's keyword engine is tantivy: paperfeed.papers.retrieval.engine)."""

from __future__ import annotations

from paperfeed.core.search_query import SearchQuery, Term, expansions_of


def _quote(words: tuple[str, ...]) -> str:
    # Words hold letters and digits only, so they cannot contain a double quote; doubling it anyway keeps the
    # FTS5 string literal closed whatever a future change lets through.
    return '"' + " ".join(words).replace('"', '""') + '"'


def _fts_term(term: Term, expand: bool) -> str:
    quoted = _quote(term.words)
    if term.prefix:
        return quoted + " *"
    if not expand:
        return quoted
    alternatives = [quoted]
    alternatives += [_quote(tuple(form.split())) for form in expansions_of(term)]
    return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"


def to_fts5(query: SearchQuery, match_all: bool = True, expand: bool = False) -> str | None:
    """An FTS5 MATCH expression for the query, None if it has no words to look for.

    match_all: every term must match (else any one); expand: acronyms also match their spelled-out forms.
    """
    if not query:
        return None
    joiner = " AND " if match_all else " OR "
    expression = "(" + joiner.join(_fts_term(t, expand) for t in query.positive) + ")"
    if query.negative:
        expression += " NOT (" + " OR ".join(_fts_term(t, True) for t in query.negative) + ")"
    return expression


def fts5_tiers(query: SearchQuery, match_all: bool = True) -> list[str]:
    """The MATCH expressions to rank one after the other: the words as typed, then (when an acronym was
    expanded) the papers found only through the spelled-out forms. Empty when there is nothing to look for."""
    exact = to_fts5(query, match_all)
    if exact is None:
        return []
    expanded = to_fts5(query, match_all, expand=True)
    return [exact] if expanded == exact else [exact, f"({expanded}) NOT ({exact})"]
