"""BibTeX for arXiv papers, in the shape arXiv's own export has: `@misc` with eprint, archivePrefix and primaryClass.

Pure Python: titles and names arrive as stored (LaTeX and all) and leave as field values BibTeX can read — braces
balanced, `& % # _` escaped outside math, `$…$` math kept as written. This is the way into LaTeX, so it keeps
commands; the way out, LaTeX to plain Unicode, is paperfeed.core.latex.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ESCAPED_IN_TEXT = "&%#_"
_MATH_CLOSERS = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_STOP_WORDS = frozenset(
    "a an and are as at by for from in into is of on or the to toward towards via with without".split()
)
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_TAG = re.compile(r"<[^>]*>")
_MATH = re.compile(r"\$\$.*?\$\$|\$.*?\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_COMMAND = re.compile(r"\\[A-Za-z]+")
_OLD_STYLE_YEAR = re.compile(r"/(\d{2})\d{5}$")
_NEW_STYLE_YEAR = re.compile(r"^(\d{2})\d{2}\.\d{4,5}$")


@dataclass(frozen=True)
class BibPaper:
    """What a BibTeX entry of an arXiv paper says."""

    arxiv_id: str  # without version; "" for a paper that is not on arXiv
    title: str
    authors: Sequence[str]  # in order
    year: int | None
    primary_category: str
    url: str
    doi: str = ""


@dataclass(frozen=True)
class _Piece:
    text: str
    brace: str = ""  # "{" or "}" when this piece is a brace, escaped or not
    escaped: bool = False  # the brace was written \{ or \}
    math: bool = False


def _pieces(value: str) -> list[_Piece]:
    """The value cut into braces (which BibTeX counts, escaped or not) and the text between them, with `& % # _`
    and `^` escaped outside math and a `$` that opens no math escaped."""
    pieces: list[_Piece] = []
    i, n = 0, len(value)
    math_end: str | None = None  # the closer of the math segment we are in
    while i < n:
        char = value[i]
        if math_end is None:
            opener = next(
                (o for o, c in _MATH_CLOSERS.items() if value.startswith(o, i) and _closes(value, i + len(o), c)), None
            )
            if opener:
                pieces.append(_Piece(opener, math=True))
                math_end = _MATH_CLOSERS[opener]
                i += len(opener)
                continue
        elif value.startswith(math_end, i):
            pieces.append(_Piece(math_end, math=True))
            i += len(math_end)
            math_end = None
            continue
        math = math_end is not None
        if char == "\\":
            following = value[i + 1 : i + 2]
            if following in ("{", "}"):
                pieces.append(_Piece("\\" + following, brace=following, escaped=True, math=math))
                i += 2
            elif following.isalpha() and following.isascii():
                command = _COMMAND.match(value, i)
                pieces.append(_Piece(command.group(), math=math))
                i = command.end()
            elif following:
                pieces.append(_Piece("\\" + following, math=math))  # \& \% \\ \' \" \, …: already LaTeX
                i += 2
            else:
                pieces.append(_Piece("\\textbackslash{}", math=math))
                i += 1
            continue
        if char in "{}":
            pieces.append(_Piece(char, brace=char, math=math))
        elif not math and char in _ESCAPED_IN_TEXT:
            pieces.append(_Piece("\\" + char))
        elif not math and char == "$":
            pieces.append(_Piece("\\$"))  # a dollar sign that opens no math
        elif not math and char == "^":
            pieces.append(_Piece("\\^{}"))
        else:
            pieces.append(_Piece(char, math=math))
        i += 1
    return pieces


def _closes(value: str, start: int, closer: str) -> bool:
    """Whether math opened just before `start` is closed by `closer` after something (an escaped \\$ does not close)."""
    position = start
    while (found := value.find(closer, position)) >= 0:
        if closer.startswith("$") and found > start and value[found - 1] == "\\":
            position = found + 1
            continue
        return found > start
    return False


def _balanced(pieces: list[_Piece]) -> str:
    """Join the pieces, dropping or spelling out the braces no other brace matches (BibTeX counts every brace)."""
    open_at: list[int] = []
    unmatched: set[int] = set()
    for index, piece in enumerate(pieces):
        if piece.brace == "{":
            open_at.append(index)
        elif piece.brace == "}":
            if open_at:
                open_at.pop()
            else:
                unmatched.add(index)
    unmatched.update(open_at)
    out = []
    for index, piece in enumerate(pieces):
        if index not in unmatched:
            out.append(piece.text)
        elif piece.escaped and piece.math:
            out.append("\\lbrace " if piece.brace == "{" else "\\rbrace ")
        elif piece.escaped:
            out.append("\\textbraceleft{}" if piece.brace == "{" else "\\textbraceright{}")
        # an unescaped stray brace only grouped, so it goes
    return "".join(out)


def latex_text(value: str) -> str:
    """`value` (text that may hold LaTeX) as the inside of a braced BibTeX field: braces balanced, `& % # _ ^` and
    lone `$` escaped outside math, math and commands kept; line breaks become spaces."""
    out = _balanced(_pieces(" ".join(value.split())))
    out = re.sub(r"(?<!\\)  +", " ", out).lstrip(" ")  # spaces left where stray braces went
    while out.endswith(" ") and not out.endswith("\\ "):  # a control space "\ " keeps its space
        out = out[:-1]
    return out


def _ascii_words(value: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", folded.lower())


def _last_name(name: str) -> str:
    words = [w for w in _ascii_words(_TAG.sub(" ", name)) if w.isalpha()]
    while len(words) > 1 and words[-1] in _NAME_SUFFIXES:
        words.pop()
    return words[-1] if words else ""


def citation_key(paper: BibPaper) -> str:
    """The usual key: first author's last name, year, first significant word of the title — `lovelace2026mlp`."""
    last = _last_name(paper.authors[0]) if paper.authors else ""
    title = _COMMAND.sub(" ", _MATH.sub(" ", _TAG.sub(" ", paper.title)))
    word = next((w for w in _ascii_words(title) if w not in _STOP_WORDS), "")
    return f"{last or 'arxiv'}{paper.year or ''}{word}"


def unique_keys(papers: Iterable[BibPaper]) -> list[str]:
    """citation_key for each paper, the second and later of equal keys told apart by b, c, … (lovelace2026mlpb)."""
    taken: set[str] = set()
    keys = []
    for paper in papers:
        base = key = citation_key(paper)
        suffix = 1
        while key in taken:
            suffix += 1
            key = base + _letters(suffix - 1)
        taken.add(key)
        keys.append(key)
    return keys


def _letters(number: int) -> str:
    """1 → b, 25 → z, 26 → ba: base 26 written in letters."""
    out = ""
    while number > 0:
        number, rest = divmod(number, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[rest] + out
    return out or "a"


def _author(name: str) -> str:
    text = latex_text(name)
    # A name with "and" in it (a collaboration) would be read as two names: braces keep it one.
    return f"{{{text}}}" if re.search(r"\band\b", text, re.I) else text


def _verbatim(value: str) -> str:
    """A URL or DOI as a field value: no braces or spaces, which BibTeX would read as structure."""
    return re.sub(r"[{}\s]", "", value)


def year_from_arxiv_id(arxiv_id: str) -> int | None:
    """The year an arXiv id was assigned in: 2606.00001 → 2026, hep-th/9901001 → 1999."""
    match = _NEW_STYLE_YEAR.match(arxiv_id) or _OLD_STYLE_YEAR.search(arxiv_id)
    if not match:
        return None
    two = int(match.group(1))
    return 1900 + two if two >= 91 else 2000 + two


def entry(paper: BibPaper, key: str | None = None) -> str:
    """One `@misc` entry, fields in the order arXiv's export writes them."""
    fields = [
        ("title", latex_text(paper.title)),
        ("author", " and ".join(_author(a) for a in paper.authors if a.strip())),
        ("year", str(paper.year) if paper.year else ""),
        ("eprint", _verbatim(paper.arxiv_id)),
        ("archivePrefix", "arXiv" if paper.arxiv_id else ""),
        ("primaryClass", latex_text(paper.primary_category) if paper.arxiv_id else ""),
        ("doi", _verbatim(paper.doi)),
        ("url", _verbatim(paper.url)),
    ]
    lines = [f"@misc{{{key or citation_key(paper)},"]
    lines += [f"  {name} = {{{value}}}," for name, value in fields if value or name == "title"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def bibliography(papers: Sequence[BibPaper], comment: str = "") -> str:
    """A .bib file of these papers with unique keys, after a `%` comment (no `@` in it: BibTeX would read one)."""
    head = [f"% {line}" for line in comment.replace("@", "").splitlines() if line.strip()]
    entries = [entry(paper, key) for paper, key in zip(papers, unique_keys(papers), strict=True)]
    return "\n".join(["\n".join(head) + "\n" if head else "", *entries]).lstrip("\n")
