"""What a person types into the search box, turned into a safe full-text query.

The box takes plain words, "quoted phrases", -excluded words and prefix* words. Everything else is text: the
parsed terms hold letters and digits only, and the keyword engine (paperfeed.papers.retrieval.engine) builds its
queries from them as objects, never as a query string, so no character a person types can reach it as syntax.
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


def meaning_text(text: str, query: SearchQuery) -> str:
    """The text to embed for search by meaning: what was typed, with its acronyms spelled out.

    A bare acronym embeds poorly ("MLP" lands near random short texts); "MLP (multilayer perceptron)" lands
    among the papers about it.
    """
    spelled = [ACRONYMS[t.words[0]][0] for t in query.positive if len(t.words) == 1 and t.words[0] in ACRONYMS]
    return f"{text} ({'; '.join(spelled)})" if spelled else text
