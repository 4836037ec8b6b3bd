"""What a search asks for: the one request type every caller of the retrieval component uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from paperfeed.core.periods import PeriodError, parse_day
from paperfeed.core.search_query import SearchQuery, parse_query

MODES = ("hybrid", "keyword", "semantic")
PAGE_SIZE = 20
MAX_QUERY_TEXT = 2000  # characters of what was typed that search by meaning embeds
MAX_CATEGORY = 100  # a category is at most this long (Paper.primary_category): a bioRxiv subject may be long


@dataclass(frozen=True)
class Filters:
    """Which papers may answer, whatever the words: the one definition of the category and date rules.

    category: the paper has this category (arXiv's, or a bioRxiv or medRxiv subject) among its categories (primary
    or cross-listed);
    date_from / date_to: its publication day (first announced) lies in this inclusive range. A paper without a
    publication day passes no date filter;
    with_code: the paper has a code link ("with code").
    """

    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    with_code: bool = False

    def __bool__(self) -> bool:
        return bool(self.category or self.date_from or self.date_to or self.with_code)

    @classmethod
    def from_params(
        cls, category: str | None, date_from: str | None, date_to: str | None, code: str | None = None
    ) -> Filters:
        """The filters as a page, a feed or an API takes them (category, from, to, code); FilterError says what is
        wrong."""
        try:
            start = parse_day(date_from, "from") if date_from else None
            end = parse_day(date_to, "to") if date_to else None
        except PeriodError as error:
            raise FilterError(str(error)) from None
        if start and end and start > end:
            raise FilterError(f"from={start} is after to={end}: swap them")
        return cls(
            category=(category or "")[:MAX_CATEGORY] or None, date_from=start, date_to=end, with_code=with_code(code)
        )


def with_code(value: str | None) -> bool:
    """The `code` parameter: 1 (or yes, true, on) for papers with code only; 0 or nothing for all papers."""
    wanted = (value or "").strip().lower()
    if wanted in ("1", "yes", "true", "on"):
        return True
    if wanted in ("", "0", "no", "false", "off"):
        return False
    raise FilterError(f"code={value[:20]!r} is not a choice: use code=1 for papers with code only")


class FilterError(ValueError):
    """A filter parameter that cannot be read; str() says which and why."""


@dataclass(frozen=True)
class SearchRequest:
    """A search: the text as typed, how to match it, the filters, and which page (from 1) of PAGE_SIZE results.

    `among` restricts the answer to these paper ids (a digest's window of list days); None means every paper.
    """

    text: str = ""
    mode: str = "hybrid"
    filters: Filters = field(default_factory=Filters)
    page: int = 1
    page_size: int = 0  # 0: PAGE_SIZE
    among: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"{self.mode!r} is not a search mode: use {', '.join(MODES)}")
        object.__setattr__(self, "page", max(int(self.page), 1))
        object.__setattr__(self, "page_size", int(self.page_size) or PAGE_SIZE)

    @property
    def query(self) -> SearchQuery:
        """The words to match, parsed once (never raises; hostile input is only text)."""
        parsed = self.__dict__.get("_query")
        if parsed is None:
            parsed = parse_query(self.text)
            object.__setattr__(self, "_query", parsed)
        return parsed

    @property
    def has_words(self) -> bool:
        """Whether there is anything to search for: some word that is not excluded."""
        return bool(self.query)

    @property
    def is_browse(self) -> bool:
        """No text but filters: the newest papers that pass them (a category's page)."""
        return not self.text.strip() and (bool(self.filters) or self.among is not None)

    @property
    def is_search(self) -> bool:
        """Whether there is anything to look for: a word to match, or (by meaning) text that is not only
        excluded words."""
        return self.has_words or (self.mode != "keyword" and bool(self.meaning_text) and not self.query.negative)

    @property
    def meaning_text(self) -> str:
        return self.text.strip()[:MAX_QUERY_TEXT]

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size
