"""The one LaTeX-to-Unicode converter (paperfeed.core.latex): cases, then pylatexenc as the oracle on real metadata.

pylatexenc is a test dependency only; the converter is standard library. The oracle reads the sample's strings
(tests/data/latex_sample.jsonl: real arXiv titles, author names and abstract sentences that hold a backslash) and
the converter must agree with it on accented letters, TeX's special letters and formatting commands. Where the two
legitimately differ the rule is written below, and each difference is counted.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pylatexenc.latex2text import LatexNodes2Text

from paperfeed.core.latex import latex_to_unicode

SAMPLE = Path(__file__).parent / "data" / "latex_sample.jsonl"


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        # The two bugs of issue 15: the library's table had no \d, the snapshot's kept an unknown command's name.
        (r"\d{a}", "ạ"),
        (r"\textit{Deep} Learning", "Deep Learning"),
        # Accents, in each way they are written.
        (r"\'e \`e \^e \"e \~n \=a \.z", "é è ê ë ñ ā ż"),
        (r"\u{a} \v{s} \H{o} \r{a} \c{c} \k{a} \d{a} \b{a}", "ă š ő å ç ą ạ a̱"),
        (r"\'{e} {\'e} \' e \c c \v S \H o", "é é é ç Š ő"),
        (r"Mart\'{\i}n \"{\i} \'\i \v{\j}", "Martín ï í ǰ"),
        (r"Nguy\~{\^e}n Vi\d{\^e}t", "Nguyễn Việt"),
        # TeX's special letters; TeX swallows the space after a control word (S\o ren is Søren).
        (r"{\o} {\O} {\ss} {\ae} {\AE} {\aa} {\AA} {\oe} {\OE} {\l} {\L} {\i} {\j}", "ø Ø ß æ Æ å Å œ Œ ł Ł ı ȷ"),
        (r"S\o ren Kierkeg{\aa}rd, Stra{\ss}e, {\L}ukasz", "Søren Kierkegård, Straße, Łukasz"),
        # Formatting commands and declarations keep their text.
        (r"\emph{a} \textbf{b} \texttt{c} \textsc{d} \underline{e} \mbox{f}", "a b c d e f"),
        (r"{\em Deep} {\bf nets} {\itshape x}", "Deep nets x"),
        # Escapes, TeX's ligatures, spaces.
        (r"R\&D, 50\% \$5 \#1 snake\_case \{x\}", "R&D, 50% $5 #1 snake_case {x}"),
        (r"pages 3--5 --- ``quoted'' a~b line\\break 10\,GeV", "pages 3–5 — “quoted” a b line break 10 GeV"),
        # Math is kept as written, for a reader or KaTeX.
        (r"$\mathcal{O}(n \log n)$, \(x^2\), \[y\], $$z$$", r"$\mathcal{O}(n \log n)$, \(x^2\), \[y\], $$z$$"),
        (r"\begin{equation}E=mc^2\end{equation}", r"\begin{equation}E=mc^2\end{equation}"),
        (r"costs \$5 and $x$", "costs $5 and $x$"),
        # Unknown commands go and their braced text stays; citation keys, labels and link addresses go.
        (r"\unknown{x}", "x"),
        (r"as in \cite{smith2020} and Fig.~\ref{fig:one}", "as in and Fig."),
        (r"\href{https://example.org}{our code}", "our code"),
        # A bare % is a per cent sign in metadata, not a comment.
        ("50% fewer", "50% fewer"),
        # What does not parse is read as well as it can.
        (r"{unclosed \'", "unclosed"),
        ("\\", ""),
        ("Plain  text\n", "Plain text"),
    ],
)
def test_latex_to_unicode(tex, text):
    assert latex_to_unicode(tex) == text


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("\\{}$~-`'^\"=.uvHcdbkrio %&ab \n")) | st.characters(), max_size=200))
def test_any_text_gives_text_never_an_error(text):
    assert isinstance(latex_to_unicode(text), str)


# --- pylatexenc as the oracle ---

# Outside math, what the converter must read as pylatexenc does.
_ACCENTS = set("'`^\"~=.") | set("uvHckrdb")
_LETTERS = set("o O ss ae AE aa AA oe OE l L i j".split())
_FORMATTING = set(
    "emph textit textbf textsc texttt textrm textsf textsl textup textmd textnormal text underline mbox "
    "em bf it sc tt rm sf sl itshape bfseries scshape ttfamily rmfamily sffamily slshape upshape normalfont".split()
)
_ESCAPES_AND_SPACES = set("&%$#_{} ,;:!\\-/@") | {"\n"}
_HELD = _ACCENTS | _LETTERS | _FORMATTING | _ESCAPES_AND_SPACES


def split_math(text: str) -> list[str]:
    """Text and math in turn (math at odd positions), math as TeX reads it: $…$ and $$…$$ closed by an unescaped
    dollar outside braces ($\\text{a $b$ c}$ is one piece of math), \\(…\\) and \\[…\\]."""
    parts, start, i = [], 0, 0
    while i < len(text):
        closer = {"$": "$", "\\(": "\\)", "\\[": "\\]"}.get(text[i : i + 2] if text[i] == "\\" else text[i])
        if text.startswith("$$", i):
            closer = "$$"
        if closer is None:
            i += 2 if text[i] == "\\" else 1
            continue
        opener_end = i + (1 if closer == "$" else 2)
        depth, j = 0, opener_end
        while j < len(text) and not (depth == 0 and text.startswith(closer, j)):
            if text[j] == "\\" and not closer.startswith("\\"):
                j += 2
                continue
            depth += {"{": 1, "}": -1}.get(text[j], 0) if closer.startswith("$") else 0
            depth = max(depth, 0)
            j += 1
        if j >= len(text):
            i = opener_end
            continue
        parts += [text[start:i], text[i : j + len(closer)]]
        start = i = j + len(closer)
    return [*parts, text[start:]]


_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)
# What the oracle is told before it reads a string, outside math, each a rule where the two legitimately differ:
_TOLD = [
    # A bare % or & in metadata is the sign itself; to pylatexenc % starts a comment and & is a table's column break.
    # (In math too: see oracle().)
    (re.compile(r"(?<!\\)([%&])"), r"\\\1"),
    # pylatexenc's latex2text has no rule for these formatting commands and drops their text; the converter keeps it,
    # as pylatexenc does for \textit and \emph.
    (re.compile(r"\\(?:texttt|textsf|textup|textmd|mbox)(?![A-Za-z])"), r"\\textit"),
    # An accent over several letters (\r{ho}, \b{eta}: Greek letters mistyped): TeX sets one accent over the group,
    # pylatexenc repeats it on every letter, the converter puts it on the first.
    (re.compile(r"(\\(?:['`^\"~=.]|[uvHckrdb](?![A-Za-z]))\s*\{)([^{}\\\s])([^{}\\]+)\}"), r"\1\2}\3"),
    # pylatexenc 2.11 raises an IndexError on \href{address}{text}; it is told the text alone, which is what the
    # converter keeps (an address is not text).
    (re.compile(r"\\href\s*\{[^{}]*\}"), ""),
    # A stray backslash before a letter beyond ASCII (St\ütz, a mangled St\"utz): pylatexenc reads a command name and
    # drops the rest of the word, the converter keeps the letter.
    (re.compile(r"\\(?=[^\x00-\x7f])"), ""),
]


def oracle(text: str) -> str:
    """pylatexenc's reading, math kept verbatim, after the rules above."""
    parts = split_math(text)
    for index in range(len(parts)):
        for pattern, replacement in _TOLD if index % 2 == 0 else _TOLD[:1]:
            parts[index] = pattern.sub(replacement, parts[index])
    # \- is a hyphenation point: pylatexenc writes a soft hyphen (U+00AD), the converter nothing.
    return LatexNodes2Text(math_mode="verbatim").latex_to_text("".join(parts)).replace("\xad", "")


def folded(text: str) -> str:
    # \% inside math is kept as written on both sides; outside math both read it as %.
    return " ".join(unicodedata.normalize("NFC", text).replace("\\%", "%").split())


def accented_letters(text: str) -> Counter:
    """The letters beyond ASCII in a text: what an accent or a special letter turned into."""
    text = unicodedata.normalize("NFC", text)
    # Not modifier letters: pylatexenc writes \textasciicircum as ˆ (U+02C6).
    return Counter(ch for ch in text if ord(ch) > 127 and unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lo"))


# Where the two differ by rule in what they write, beyond what the oracle is told. pylatexenc writes a citation or a
# reference as <cit.> or <ref>, a URL as <address>, a footnote in [brackets], an \item as "* ", \textasciicircum as
# ˆ (U+02C6), and keeps what follows an unclosed \[ as written math. The converter drops citation keys and labels
# (not text), keeps an address as text, sets a footnote off with a space, writes ^, and reads what follows an
# unclosed \[ as text. A string that differs must hold one of these, and its accented letters must still agree.
_DIFFER_BY_RULE = frozenset(
    "cite citep citet citealp ref eqref autoref cref url href footnote item textasciicircum [".split()
)


@dataclass
class Comparison:
    strings: int = 0
    held: int = 0  # strings with only accents, special letters, formatting, escapes and spaces outside math
    held_agree: int = 0
    other: int = 0  # strings with other commands too
    other_agree: int = 0  # … that agree all the same
    differ_by_rule: Counter = field(default_factory=Counter)  # … that differ by a rule above, by its command
    oracle_failed: list[str] = field(default_factory=list)  # strings pylatexenc raises on, even when told the rules
    disagreements: list[str] = field(default_factory=list)


def _where(row: dict, ours: str, theirs: str) -> str:
    """The string and, from just before their first difference, both readings."""
    first = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
    start = max(0, first - 40)
    return (
        f"{row['id']} {row['field']}: {row['text'][:300]!r}\n"
        f"    ours:       …{ours[start : start + 120]!r}\n    pylatexenc: …{theirs[start : start + 120]!r}"
    )


def compare(rows: list[dict]) -> Comparison:
    """A string whose commands outside math are all held (accents, special letters, formatting, escapes, spaces)
    must come out exactly as pylatexenc reads it; a string with other commands too must agree on its accented
    letters, and on the rest unless it holds a command that differs by rule."""
    result = Comparison()
    for row in rows:
        text = row["text"]
        result.strings += 1
        ours = folded(latex_to_unicode(text))
        try:
            theirs = folded(oracle(text))
        except Exception as error:  # noqa: BLE001 - pylatexenc's own errors
            result.oracle_failed.append(f"{row['id']} {row['field']}: {text[:200]!r}: {error!r}")
            continue
        commands = set(_COMMAND.findall(" ".join(split_math(text)[::2])))
        held = commands <= _HELD
        result.held += held
        result.other += not held
        if ours == theirs:
            result.held_agree += held
            result.other_agree += not held
        elif held or accented_letters(ours) != accented_letters(theirs) or not commands & _DIFFER_BY_RULE:
            result.disagreements.append(_where(row, ours, theirs))
        else:
            result.differ_by_rule.update(commands & _DIFFER_BY_RULE)
    return result


def test_the_issue_15_bugs_agree_with_pylatexenc():
    for text in (r"\d{a}", r"\textit{Deep}", r"Nguy\~{\^e}n", r"Mart\'{\i}n", r"S\o ren"):
        assert latex_to_unicode(text) == folded(oracle(text))


def test_real_metadata_reads_as_pylatexenc_reads_it():
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 2000
    result = compare(rows)
    assert result.held >= 2000  # the sample is chosen for accents, special letters and formatting
    assert not result.oracle_failed, "pylatexenc cannot read:\n" + "\n".join(result.oracle_failed[:30])
    assert not result.disagreements, (
        f"{len(result.disagreements)} of {result.strings} strings disagree with pylatexenc:\n"
        + "\n".join(result.disagreements[:30])
    )
