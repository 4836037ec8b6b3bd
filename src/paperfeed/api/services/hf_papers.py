"""Which papers the Hugging Face-compatible API answers with, and in which order.

huggingface.co's query parameters (date, week, month, submitter, sort, p, limit, q) are read here into paperfeed's
daily list, trending and search; hf_shapes turns the result into huggingface.co's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from paperfeed.community.models import AuthorClaim, Profile
from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.periods import Period, PeriodError, parse_period
from paperfeed.core.sources.registry import PaperAddress
from paperfeed.core.trending import rank_by_score
from paperfeed.papers.models import DailyEntry, Paper
from paperfeed.papers.retrieval import PAGE_SIZE as SEARCH_PAGE_SIZE
from paperfeed.papers.retrieval import SearchRequest
from paperfeed.papers.services import catalog
from paperfeed.papers.services.cards import PaperCard, cards_for_ids, with_upvotes
from paperfeed.papers.services.search import search_papers
from paperfeed.papers.services.trending import trending

# huggingface.co's own numbers: 50 papers unless asked otherwise, at most 100 a request. A limit outside 1–100
# is refused with a 400 rather than quietly changed, so a client never mistakes a short page for the last one.
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
DEFAULT_SEARCH_LIMIT = 50
MAX_SEARCH_LIMIT = 100
SORTS = ("publishedAt", "trending")
# Pages this deep are empty, said without asking the database (which also keeps offsets within SQLite's integers).
MAX_OFFSET = 1_000_000
MAX_SUBMITTER_CHARS = 150
MAX_QUERY_CHARS = 1000


class ParamError(ValueError):
    """A query parameter that cannot be used; `param` names it, the message says what to write instead."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class PaperNotFound(LookupError):
    """No paper anyone may see has this id; the message says which case it is."""


@dataclass(frozen=True)
class DailyQuery:
    period: Period | None = None  # None: the most recent papers, however far back the pages go
    submitter: str | None = None  # a username: only the papers they submitted
    sort: str = "publishedAt"
    page: int = 0  # counted from 0, as on huggingface.co
    limit: int = DEFAULT_LIMIT

    @property
    def offset(self) -> int:
        return self.page * self.limit


@dataclass(frozen=True)
class ListedPaper:
    """A paper as the API shows it: its card, the (latest) day it was on the daily list if it ever was, the members
    staff confirmed as its authors, and the display names of those members and of its submitter."""

    card: PaperCard
    day: date | None
    confirmed: dict[str, str] = field(default_factory=dict)  # author name -> username
    fullnames: dict[str, str] = field(default_factory=dict)  # username -> display name, for those who gave one

    def fullname(self, username: str) -> str:
        return self.fullnames.get(username) or username


def _given(params: Mapping[str, str], name: str) -> str | None:
    value = (params.get(name) or "").strip()
    return value or None


def _whole_number(params: Mapping[str, str], name: str, default: int, low: int, high: int | None, hint: str) -> int:
    raw = _given(params, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(name, f"{name}={raw[:20]!r} is not a whole number: {hint}") from None
    if value < low or (high is not None and value > high):
        raise ParamError(name, f"{name}={value} is out of range: {hint}")
    return value


def read_daily_query(params: Mapping[str, str]) -> DailyQuery:
    """The /api/daily_papers parameters as a DailyQuery; ParamError naming the first one that is wrong."""
    try:
        period = parse_period(_given(params, "date"), _given(params, "week"), _given(params, "month"))
    except PeriodError as error:
        raise ParamError(error.param, str(error)) from None
    sort = _given(params, "sort") or "publishedAt"
    if sort not in SORTS:
        raise ParamError("sort", f"sort={sort[:20]!r} is not a sort order: use publishedAt or trending")
    page = _whole_number(params, "p", 0, 0, None, "p is the page number, counted from 0")
    limit = _whole_number(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, f"limit is from 1 to {MAX_LIMIT}")
    submitter = _given(params, "submitter")
    if submitter is not None:
        if "\x00" in submitter:  # no username holds one (and PostgreSQL refuses text that does)
            raise ParamError("submitter", "submitter holds a NUL character: give a username, like submitter=ada")
        submitter = submitter.removeprefix("@")[:MAX_SUBMITTER_CHARS]
    return DailyQuery(period, submitter, sort, page, limit)


def read_search_query(params: Mapping[str, str]) -> tuple[str, int]:
    """The /api/papers/search parameters: the text of `q` (may be empty) and `limit`."""
    text = (params.get("q") or "")[:MAX_QUERY_CHARS]
    limit = _whole_number(
        params, "limit", DEFAULT_SEARCH_LIMIT, 1, MAX_SEARCH_LIMIT, f"limit is from 1 to {MAX_SEARCH_LIMIT}"
    )
    return text, limit


# --- the daily list ---


def _scope(query: DailyQuery) -> QuerySet[DailyEntry]:
    """The daily-list entries the query asks about: those of its period, of its submitter."""
    entries = DailyEntry.objects.all()
    if query.period is not None:
        entries = entries.filter(day__range=(query.period.start, query.period.end))
    if query.submitter is not None:
        entries = entries.filter(
            source=DailyEntry.Source.SUBMISSION, submitted_by__isnull=False, submitter_name=query.submitter
        )
    return entries


def _newest(
    entries: QuerySet[DailyEntry], offset: int, limit: int, leave_out: frozenset[int] = frozenset()
) -> list[int]:
    """Ids of visible papers with an entry among `entries`, the latest-listed first (most upvoted first within a
    day), from `offset` on.

    Only the most recent days are ranked: enough of them to fill the page (a whole archive sorted on every request
    would take seconds on a large site). Papers last listed before the window rank after all of those in it, so
    the page is the same as if everything were sorted.
    """
    last = entries.aggregate(day=Max("day"))["day"]
    if last is None:
        return []
    first = entries.order_by("day").values_list("day", flat=True).first()
    wanted, span = offset + limit, 1
    while True:
        since = max(last - timedelta(days=span - 1), first)
        window = entries.filter(day__gte=since)
        papers = Paper.objects.visible().filter(id__in=window.values("paper_id")).exclude(id__in=leave_out)
        if since == first or papers.count() >= wanted:
            break
        span *= 4
    listed = Subquery(window.filter(paper_id=OuterRef("pk")).order_by("-day").values("day")[:1])
    ordered = with_upvotes(papers).annotate(listed=listed).order_by("-listed", "-upvotes", "-published", "-arxiv_id")
    return list(ordered.values_list("id", flat=True)[offset : offset + limit])


def _trending(entries: QuerySet[DailyEntry], query: DailyQuery, now: datetime) -> list[int]:
    """Ids by trending score (the one /trending shows), then the papers nobody upvoted lately, newest first."""
    # trending() with no cards still scores every paper upvoted in its window: that is the part needed here.
    scores = trending(now, limit=0).scores
    in_scope = set(
        Paper.objects.visible()
        .filter(id__in=list(scores), daily_entries__in=entries)
        .values_list("id", flat=True)
        .distinct()
    )
    scored = [pid for pid in rank_by_score(scores) if pid in in_scope]
    ids = scored[query.offset : query.offset + query.limit]
    if len(ids) < query.limit:
        rest_offset = max(query.offset - len(scored), 0)
        ids += _newest(entries, rest_offset, query.limit - len(ids), leave_out=frozenset(scored))
    return ids


def _listed(cards: list[PaperCard], entries: QuerySet[DailyEntry]) -> list[ListedPaper]:
    """The cards with their listing day (the latest among `entries`), confirmed authors and people's names: three
    queries for the whole page."""
    ids = [card.paper.id for card in cards]
    rows = entries.filter(paper_id__in=ids).values("paper_id").annotate(day=Max("day")).order_by()
    days = {row["paper_id"]: row["day"] for row in rows}
    confirmed: dict[int, dict[str, str]] = {}
    claims = (
        AuthorClaim.objects.filter(status=AuthorClaim.Status.APPROVED, paper_id__in=ids)
        .order_by("decided_at", "id")
        .values_list("paper_id", "author__name", "user__username")
    )
    for paper_id, name, username in claims:
        confirmed.setdefault(paper_id, {}).setdefault(name, username)
    people = {card.submitted_by for card in cards if card.submitted_by}
    people.update(username for names in confirmed.values() for username in names.values())
    fullnames = dict(
        Profile.objects.filter(user__username__in=people)
        .exclude(display_name="")
        .values_list("user__username", "display_name")
    )
    return [ListedPaper(card, days.get(card.paper.id), confirmed.get(card.paper.id, {}), fullnames) for card in cards]


def daily_papers(query: DailyQuery, now: datetime) -> list[ListedPaper]:
    """One page of the daily list as huggingface.co's /api/daily_papers pages it (hidden papers never appear)."""
    if query.offset >= MAX_OFFSET:
        return []
    entries = _scope(query)
    ids = _trending(entries, query, now) if query.sort == "trending" else _newest(entries, query.offset, query.limit)
    start = query.period.start if query.period is not None else None
    return _listed(cards_for_ids(ids, first_day_from=start), entries)


# --- search and single papers ---


def search(text: str, limit: int) -> list[ListedPaper]:
    """Up to `limit` papers matching `text` by words and meaning (hybrid search, as on /search); without any text,
    the most recent papers of the daily list."""
    if not text.strip():
        return daily_papers(DailyQuery(limit=limit), timezone.now())
    if not SearchRequest(text, "hybrid").is_search:
        return []  # only words to leave out: nothing to look for
    cards: list[PaperCard] = []
    page = 1
    while len(cards) < limit:
        results = search_papers(SearchRequest(text, "hybrid", page=page))
        cards += results.cards
        if not results.has_next or len(results.cards) < SEARCH_PAGE_SIZE:
            break
        page += 1
    return _listed(cards[:limit], DailyEntry.objects.all())


def paper_detail(text: str) -> ListedPaper:
    """The paper named by an arXiv id (with or without version); PaperNotFound when no one may see it here."""
    parsed = parse_arxiv_id(text)
    if parsed is None:
        raise PaperNotFound(f"{text[:100]!r} is not an arXiv id: write it like 2501.00001 or hep-th/9901001")
    pk = Paper.objects.visible().filter(arxiv_id=parsed.id).values_list("id", flat=True).first()
    if pk is None:
        if catalog.is_withheld(PaperAddress("arxiv", parsed.id)):
            raise PaperNotFound(f"arXiv:{parsed.id} has been hidden by a moderator of this site")
        raise PaperNotFound(f"arXiv:{parsed.id} is not on this site")
    return _listed(cards_for_ids([pk]), DailyEntry.objects.all())[0]
