"""What a person types into the search box, turned into a safe full-text query.

The box takes plain words, "quoted phrases", -excluded words and prefix* words. Everything else is text:
no character a person types can reach the search engine as syntax. `to_fts5` builds SQLite FTS5 query strings
in which every word is a double-quoted string, so operators such as AND, NEAR, column filters (`title:`),
`^` and brackets are only ever written by this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 1000
MAX_TERMS = 24
MAX_TOKEN_CHARS = 64

# Well-known field acronyms, so that "MLP" also finds "multilayer perceptron" and the other way round.
ACRONYMS: dict[str, tuple[str, ...]] = {
    "mlp": ("multilayer perceptron", "multi layer perceptron"),
    "cnn": ("convolutional neural network",),
    "rnn": ("recurrent neural network",),
    "gnn": ("graph neural network",),
    "gan": ("generative adversarial network",),
    "llm": ("large language model",),
    "vlm": ("vision language model",),
    "vit": ("vision transformer",),
    "nerf": ("neural radiance field",),
    "lstm": ("long short term memory",),
    "rag": ("retrieval augmented generation",),
    "rlhf": ("reinforcement learning from human feedback",),
}
# Words nearly every abstract has: they cost the most to rank and say nothing about the topic. They are
# dropped from a query that has other words, and kept inside "quoted phrases".
STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the their these this to was "
    "were we which with".split()
)
_EXPANSIONS = {phrase: acronym for acronym, phrases in ACRONYMS.items() for phrase in phrases}

# A word is a run of letters and digits, as the unicode61 tokenizer sees it; everything else separates words.
_WORD = re.compile(r"[^\W_]+")
# A quoted phrase, a word that may carry a leading - or a trailing *, or any other character (ignored).
_PIECE = re.compile(r'(?P<neg>-?)"(?P<phrase>[^"]*)"|(?P<neg2>(?<![^\s(])-)?(?P<word>[^\W_]+)(?P<star>\*)?')


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or several for a phrase
    negated: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negated)

    @property
    def negative(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.negated)

    def __bool__(self) -> bool:
        return bool(self.positive)

    def words(self) -> list[str]:
        """The searched words, for highlighting and messages."""
        return [w for t in self.positive for w in t.words]


def parse_query(text: str) -> SearchQuery:
    """Read a search box's text; never raises. An unbalanced quote is read as plain text."""
    text = text[:MAX_QUERY_CHARS]
    if text.count('"') % 2:
        text = text.replace('"', " ")
    terms: list[Term] = []
    seen: set[Term] = set()
    for match in _PIECE.finditer(text):
        if match["phrase"] is not None:
            words = tuple(w[:MAX_TOKEN_CHARS].lower() for w in _WORD.findall(match["phrase"]))
            term = Term(words, negated=bool(match["neg"])) if words else None
        else:
            word = match["word"][:MAX_TOKEN_CHARS].lower()
            term = Term((word,), negated=bool(match["neg2"]), prefix=bool(match["star"]) and len(word) >= 2)
        if term and term not in seen:
            seen.add(term)
            terms.append(term)
        if len(terms) >= MAX_TERMS:
            break
    content = [t for t in terms if not _is_stop_word(t)]
    if any(not t.negated for t in content):
        terms = content
    return SearchQuery(tuple(terms))


def _is_stop_word(term: Term) -> bool:
    return len(term.words) == 1 and not term.prefix and not term.negated and term.words[0] in STOP_WORDS


def _quote(words: tuple[str, ...]) -> str:
    # Words hold letters and digits only, so they cannot contain a double quote; doubling it anyway keeps the
    # FTS5 string literal closed whatever a future change lets through.
    return '"' + " ".join(words).replace('"', '""') + '"'


def expansions_of(term: Term) -> tuple[str, ...]:
    """The other forms a term also matches: an acronym's spelled-out forms, or a spelled-out form's acronym."""
    if term.prefix:
        return ()
    joined = " ".join(term.words)
    if joined in ACRONYMS:
        return ACRONYMS[joined]
    if joined in _EXPANSIONS:
        return (_EXPANSIONS[joined],)
    return ()


def _fts_term(term: Term, expand: bool) -> str:
    quoted = _quote(term.words)
    if term.prefix:
        return quoted + " *"
    if not expand:
        return quoted
    alternatives = [quoted]
    joined = " ".join(term.words)
    if joined in ACRONYMS:
        alternatives += [_quote(tuple(p.split())) for p in ACRONYMS[joined]]
    elif joined in _EXPANSIONS:
        alternatives.append(_quote((_EXPANSIONS[joined],)))
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


def meaning_text(text: str, query: SearchQuery) -> str:
    """The text to embed for search by meaning: what was typed, with its acronyms spelled out.

    A bare acronym embeds poorly ("MLP" lands near random short texts); "MLP (multilayer perceptron)" lands
    among the papers about it.
    """
    spelled = [ACRONYMS[t.words[0]][0] for t in query.positive if len(t.words) == 1 and t.words[0] in ACRONYMS]
    return f"{text} ({'; '.join(spelled)})" if spelled else text
