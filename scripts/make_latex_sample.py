"""Rebuild tests/data/latex_sample.jsonl: real titles, names and abstract sentences that hold LaTeX.

From the shared arXiv daily file, the titles, author names and abstract sentences with a backslash (a sentence,
not the whole abstract, keeps the file small; a cut never splits braces or math). Every title and name, and every
sentence with an accent or one of TeX's special letters outside math, is kept: they are rare, and accents are what
the converter must get right; then a seeded random sample of the sentences with formatting commands, and --others
of the rest (math, other commands).
"""

import argparse
import gzip
import json
import random
import re
from pathlib import Path

# Accent commands, special letters and formatting commands: what tests/test_latex.py holds to pylatexenc's reading.
_ACCENTED = re.compile(r"\\(?:['`^\"~=.]|[uvHckrdb](?![A-Za-z])|(?:ss|ae|AE|aa|AA|oe|OE|[oOlLij])(?![A-Za-z]))")
_FORMATTED = re.compile(
    r"\\(?:text(?:it|bf|sc|tt|rm|sf|sl|up|md|normal)|emph|underline|mbox|em|bf|it|sc|tt|rm|sf|sl)(?![A-Za-z])"
)
_MATH = re.compile(r"\$\$.*?\$\$|(?<!\\)\$.*?(?<!\\)\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\$(])")


def sentences(abstract: str) -> list[str]:
    """The abstract cut after its sentences, pieces joined again where a cut would split braces or math."""
    out: list[str] = []
    piece = ""
    for part in _SENTENCE_END.split(abstract):
        piece = f"{piece} {part}" if piece else part
        dollars = len(re.findall(r"(?<!\\)\$", piece))
        if piece.count("{") == piece.count("}") and dollars % 2 == 0:
            out.append(piece)
            piece = ""
    if piece:
        out.append(piece)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="papers.jsonl.gz from shared/data/arxiv-daily")
    parser.add_argument("target", type=Path, help="where to write the sample (.jsonl)")
    parser.add_argument("--size", type=int, default=2500)
    parser.add_argument("--others", type=int, default=500)
    args = parser.parse_args()

    strings: dict[tuple[str, str], str] = {}  # (field, text) → paper id, first paper kept
    with gzip.open(args.source, "rt", encoding="utf-8") as f:
        for line in f:
            if "\\\\" not in line:  # a backslash, as JSON escapes it
                continue
            paper = json.loads(line)
            found = [("title", paper["title"]), *(("author", name) for name in paper["authors"])]
            found += [("abstract", sentence) for sentence in sentences(paper["abstract"])]
            for field, text in found:
                if "\\" in text:
                    strings.setdefault((field, text), paper["id"])
    outside_math = {key: _MATH.sub(" ", key[1]) for key in strings}
    accented = sorted(key for key in strings if key[0] != "abstract" or _ACCENTED.search(outside_math[key]))
    formatted = sorted(key for key in set(strings) - set(accented) if _FORMATTED.search(outside_math[key]))
    others = sorted(set(strings) - set(accented) - set(formatted))
    pick = random.Random(15).sample
    chosen_others = pick(others, min(len(others), args.others))
    chosen_formatted = pick(formatted, max(0, min(len(formatted), args.size - len(accented) - len(chosen_others))))
    chosen = sorted(accented + chosen_formatted + chosen_others, key=lambda key: (strings[key], key))
    with args.target.open("w", encoding="utf-8") as out:
        for field, text in chosen:
            out.write(json.dumps({"id": strings[field, text], "field": field, "text": text}, ensure_ascii=False) + "\n")
    print(
        f"{args.target}: {len(chosen)} strings: {len(accented)} titles, names or sentences with accents (all), "
        f"{len(chosen_formatted)} of {len(formatted)} with formatting commands, {len(chosen_others)} of "
        f"{len(others)} with other LaTeX"
    )


if __name__ == "__main__":
    main()
