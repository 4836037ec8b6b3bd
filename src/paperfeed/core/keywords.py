"""Keywords a paper must or must not hold (digest settings, For you's filters): a whole word or phrase, any case,
in its lower-cased title and abstract."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def normalize_keyword(word: str) -> str:
    """A keyword as matched: lower case, inner whitespace collapsed, control characters gone."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(word)).split()).lower()


@lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def has_keyword(text: str, keywords: Iterable[str]) -> bool:
    """Whether lower-cased `text` holds one of the keywords as a whole word or phrase."""
    return any(_keyword_pattern(k).search(text) for k in keywords if k)
