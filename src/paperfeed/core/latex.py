"""LaTeX in metadata as plain Unicode text: the one converter for library files and arXiv author names.

Accents (\\'e, \\c{c}, \\d{a}, \\H o …) become accented letters, TeX's special letters (\\o, \\ss, \\l, dotless
\\i …) their Unicode letters, formatting commands (\\textit{x}, \\emph{x}, {\\bf x}) their text, TeX's ligatures
(-- --- `` '') their punctuation, and grouping braces go. Math ($…$, \\(…\\), \\[…\\], equation environments) is
kept as written, for a reader or KaTeX. Citation keys, labels, link addresses and colours go; a command it does
not know is dropped and what follows it in braces kept as text. A bare % is a per cent sign, as metadata writes
it, not a comment. Standard library only: pylatexenc is the test oracle (tests/test_latex.py), not a dependency.
"""

from __future__ import annotations

import re
import unicodedata

# Accent commands and the Unicode combining marks they stand for; NFC then composes "a" + U+0301 into "á".
_SYMBOL_ACCENTS = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    '"': "\u0308",
}
_WORD_ACCENTS = {
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "r": "\u030a",
    "c": "\u0327",
    "k": "\u0328",
    "d": "\u0323",
    "b": "\u0331",
}
# TeX's special letters. Under an accent a dotless i or j is the plain letter: \'{\i} is í.
_LETTERS = {
    "o": "ø",
    "O": "Ø",
    "ss": "ß",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
    "dj": "đ",
    "DJ": "Đ",
}
_ACCENT_BASES = {**_LETTERS, "i": "i", "j": "j"}
_GREEK = dict(
    zip(
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi "
        "psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split(),
        "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ",
        strict=True,
    )
)
# Commands that stand for text. Greek letters and a few signs are math commands, but metadata writes them in
# running text too ("\alpha-helix"); they read better as letters than dropped.
_SYMBOLS = {
    **_GREEK,
    "varepsilon": "ε",
    "vartheta": "ϑ",
    "varphi": "φ",
    "varrho": "ϱ",
    "varsigma": "ς",
    "varpi": "ϖ",
    "ldots": "…",
    "dots": "…",
    "textellipsis": "…",
    "textbackslash": "\\",
    "textbraceleft": "{",
    "textbraceright": "}",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textunderscore": "_",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "textendash": "–",
    "textemdash": "—",
    "textquoteleft": "‘",
    "textquoteright": "’",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "guillemotleft": "«",
    "guillemotright": "»",
    "textdegree": "°",
    "textperthousand": "‰",
    "textpertenthousand": "‱",
    "copyright": "©",
    "textregistered": "®",
    "texttrademark": "™",
    "pounds": "£",
    "euro": "€",
    "S": "§",
    "P": "¶",
    "dag": "†",
    "ddag": "‡",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "times": "×",
    "pm": "±",
    "infty": "∞",
    "quad": " ",
    "qquad": " ",
    "newline": " ",
    "par": " ",
    "footnote": " ",  # its text follows, set off by a space
}
# Commands whose first braced argument is not text (a citation key, a label, a link's address, a colour): it goes.
_DROPS_ARGUMENT = frozenset(
    "cite citep citet citealp ref eqref autoref cref label href textcolor color colorbox".split()
)
_CONTROL_SYMBOLS = {
    "&": "&",
    "%": "%",
    "$": "$",
    "#": "#",
    "_": "_",
    "{": "{",
    "}": "}",
    "\\": " ",  # a line break
    " ": " ",
    "\n": " ",
    "\t": " ",
    ",": " ",
    ";": " ",
    ":": " ",
    ">": " ",
}
_MATH_ENVIRONMENTS = frozenset(
    f"{name}{star}"
    for name in ("equation", "eqnarray", "align", "alignat", "gather", "multline", "flalign", "displaymath", "math")
    for star in ("", "*")
)
# TeX's ligatures and its tie, longest first.
_LIGATURES = {"---": "—", "--": "–", "``": "“", "''": "”", "~": " "}
_REACH = 2000  # how far a closing $ or brace is looked for past where a plain reading would stop
_ORDINARY = re.compile(r"[^\\{}$~`'-]+")
_WORD = re.compile(r"[A-Za-z]+")
_ENVIRONMENT = re.compile(r"\s*\{([A-Za-z]+\*?)\}")
_LATEX = re.compile(r"[\\{}$~]|--|``|''")


def latex_to_unicode(text: str) -> str:
    """Plain text from text that may hold LaTeX markup, whitespace folded to single spaces; math kept as written."""
    if _LATEX.search(text) is None:
        return " ".join(text.split())
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i = _command(text, i, out)
        elif char in "{}":
            i += 1  # grouping only
        elif char == "$":
            end = _math_end(text, i)
            out.append(text[i:end] if end else "$")
            i = end or i + 1
        elif ligature := next((lig for lig in _LIGATURES if text.startswith(lig, i)), None):
            out.append(_LIGATURES[ligature])
            i += len(ligature)
        else:
            match = _ORDINARY.match(text, i)
            end = match.end() if match else i + 1
            out.append(text[i:end])
            i = end
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def _command(text: str, i: int, out: list[str]) -> int:
    """Convert the command at text[i] (a backslash) into `out`; return where reading goes on."""
    word = _WORD.match(text, i + 1)
    if word is None:  # a control symbol: \' \& \\ \( …
        symbol = text[i + 1 : i + 2]
        if symbol in _SYMBOL_ACCENTS:
            return _accent(text, i + 2, _SYMBOL_ACCENTS[symbol], out)
        if symbol in ("(", "["):
            closer = "\\)" if symbol == "(" else "\\]"
            end = text.find(closer, i + 2)
            if end >= 0:
                out.append(text[i : end + 2])
                return end + 2
            return i + 2
        # \- \/ \@ \! and other unknown ones print nothing; a stray backslash before a letter (St\ütz) keeps it
        out.append(_CONTROL_SYMBOLS.get(symbol, symbol if symbol.isalpha() else ""))
        return i + 2 if symbol else i + 1
    name, after = word.group(), word.end()
    if name in _WORD_ACCENTS:
        return _accent(text, after, _WORD_ACCENTS[name], out)
    after = _skip_spaces(text, after)  # TeX swallows the spaces after a control word: S\o ren is Søren
    if name in _LETTERS:
        out.append(_LETTERS[name])
    elif name in _SYMBOLS:
        out.append(_SYMBOLS[name])
    elif name in ("begin", "end"):
        return _environment(text, i, name, after, out)
    elif name in _DROPS_ARGUMENT:
        after = after + 1 if text.startswith("*", after) else after
        if text.startswith("[", after) and (close := text.find("]", after)) >= 0:
            after = close + 1
        after = _skip_group(text, _skip_spaces(text, after))
    # any other command (\textit, \emph, \bf, an unknown one) is dropped; its braced text stays
    return after


def _accent(text: str, i: int, mark: str, out: list[str], depth: int = 0) -> int:
    """The accented letter after an accent command: \\'e, \\'{e}, \\' e, \\c c, \\'{\\i}, \\~{\\^e}; \\'{} gives
    nothing."""
    i = _skip_spaces(text, i)
    if text.startswith("{", i):
        i = _skip_spaces(text, i + 1)
        if text.startswith("}", i):
            return i + 1
    if i >= len(text) or text[i] in "{}$":
        return i
    if text[i] != "\\":
        out.append(text[i] + mark)
        return i + 1
    word = _WORD.match(text, i + 1)
    name = word.group() if word else text[i + 1 : i + 2]
    if word and name in _ACCENT_BASES:
        out.append(_ACCENT_BASES[name] + mark)
        return word.end()
    inner_mark = _WORD_ACCENTS.get(name) if word else _SYMBOL_ACCENTS.get(name)
    if inner_mark is None or depth > 2:
        return i  # an accent over something other than a letter: the accent goes, the rest is read as usual
    inner: list[str] = []  # an accent over an accented letter, as Vietnamese names have: \~{\^e} is ễ
    end = _accent(text, i + 1 + len(name), inner_mark, inner, depth + 1)
    out.append("".join(inner) + mark if inner else "")
    return end


def _environment(text: str, i: int, name: str, after: int, out: list[str]) -> int:
    """\\begin{equation} … \\end{equation} is math, kept as written; other environments keep only their text."""
    environment = _ENVIRONMENT.match(text, after)
    if environment is None:
        return after
    kind = environment.group(1)
    if name == "begin" and kind in _MATH_ENVIRONMENTS:
        end = text.find(f"\\end{{{kind}}}", environment.end())
        if end >= 0:
            stop = end + len(kind) + 6
            out.append(text[i:stop])
            return stop
    return environment.end()


def _math_end(text: str, start: int) -> int | None:
    """Where math opened by the $ or $$ at `start` ends (after its closer), or None when nothing closes it.

    The closer is the first unescaped one outside braces, as TeX reads $\\text{a $b$ c}$; when braces inside never
    close, the first unescaped closer is taken (looking no further than _REACH past it, so that a file of
    unclosed braces and dollars cannot make reading quadratic)."""
    opener = "$$" if text.startswith("$$", start) else "$"
    first = None
    depth = 0
    i = start + len(opener)
    while i < len(text) and (first is None or i - first < _REACH):
        char = text[i]
        if char == "\\":
            i += 2  # \$ and \{ are characters, not structure
            continue
        if text.startswith(opener, i):
            if depth == 0:
                return i + len(opener)
            first = first or i + len(opener)
        elif char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        i += 1
    return first


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _skip_group(text: str, i: int) -> int:
    """After the braced group starting at text[i] (escaped braces do not count), else i: when there is no group, or
    it does not close within _REACH characters, nothing is dropped."""
    if not text.startswith("{", i):
        return i
    depth = 0
    for end in range(i, min(len(text), i + _REACH)):
        char = text[end]
        if char == "{" and text[end - 1] != "\\":
            depth += 1
        elif char == "}" and text[end - 1] != "\\":
            depth -= 1
            if depth == 0:
                return end + 1
    return i
