"""Which papers a subscriber's digest holds for a period, composed for thousands of subscribers in one run.

A digest has two sections: the top N trending papers at the time of the run, and the papers on the daily lists
of its period (see schedule.list_window) that match the subscriber's interests — categories, saved searches,
followed authors and organizations. Hard include / exclude keywords then filter both sections (a whole word or
phrase, any case, in the title or abstract), papers sent in an earlier digest are left out, and the maximum count
cuts the longer section first. Only papers anyone may see (`Paper.objects.visible()`) are ever included.

Everything that does not depend on the subscriber is computed once per run by `DigestComposer`: the trending
list, each period's papers grouped by category, author and organization, and the matches of each distinct saved
search. Per subscriber, composing is set arithmetic over those.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.db.models import Max
from django.utils import timezone

from paperfeed.digests.models import Delivery, Subscription
from paperfeed.digests.services.schedule import (
    DAILY,
    WEEKLY,
    DigestPeriod,
    ListWindow,
    current_period,
    list_window,
    period_key,
)
from paperfeed.papers.models import Author, Authorship, DailyEntry, Organization, Paper
from paperfeed.papers.retrieval import MODES, SearchRequest, matches
from paperfeed.papers.services.cards import PaperCard, cards_for_ids, with_upvotes
from paperfeed.papers.services.trending import TRENDING_SIZE, trending

# Papers sent in digests of periods older than this may come again (by then they are neither trending nor on a
# recent list).
SENT_MEMORY = timedelta(days=45)
SEARCH_MODES = MODES
CHUNK = 900  # ids per IN (...) list
HISTORY_CHUNK = 200  # subscriptions per look-up of the send log (times about 100 period keys)
_PERIOD_COLUMNS = ("id", "title", "abstract", "categories", "organization_id", "published", "arxiv_id")
_PERIOD_COLUMNS += ("hf_upvotes", "upvotes")
MAX_LABEL_CHARS = 60
FOR_YOU_SIZE = 5  # papers in the For you section at most


@dataclass(frozen=True)
class DigestItem:
    card: PaperCard
    reasons: tuple[str, ...]  # why this paper is in the digest, shown under it: "trending #2", "cs.CL", …


@dataclass(frozen=True)
class Digest:
    subscription: Subscription
    period: DigestPeriod
    window: ListWindow
    listed_through: date | None  # the newest list day this digest looked at (recorded for the next one)
    trending: list[DigestItem] = field(default_factory=list)
    matches: list[DigestItem] = field(default_factory=list)
    for_you: list[DigestItem] = field(default_factory=list)  # recommended by the user's model (paperfeed.recommend)

    @property
    def items(self) -> list[DigestItem]:
        return self.trending + self.matches + self.for_you

    @property
    def paper_ids(self) -> list[int]:
        return [item.card.paper.id for item in self.items]

    @property
    def is_empty(self) -> bool:
        return not self.trending and not self.matches and not self.for_you


@dataclass(frozen=True)
class History:
    """What earlier digests of one subscriber did: the papers they sent, and the list day they got to."""

    sent: frozenset[int] = frozenset()
    listed_through: date | None = None


@dataclass(frozen=True)
class Follows:
    authors: frozenset[int] = frozenset()
    organizations: frozenset[int] = frozenset()


def _recent_period_keys(local_dates: Iterable[date]) -> list[str]:
    """The keys of every daily and weekly period of the SENT_MEMORY days up to these dates."""
    keys: set[str] = set()
    for local_date in set(local_dates):
        for back in range(SENT_MEMORY.days + 1):
            day = local_date - timedelta(days=back)
            keys.add(period_key(DAILY, day))
            keys.add(period_key(WEEKLY, day))
    return sorted(keys)


def histories(periods: dict[int, DigestPeriod]) -> dict[int, History]:
    """What earlier digests of each subscription (id -> its current period) did, from their finished deliveries
    of the last SENT_MEMORY days; the current period itself is left out. Looked up by subscription and period,
    which the send log's unique index answers without reading anyone else's rows."""
    sent: dict[int, set[int]] = defaultdict(set)
    through: dict[int, date] = {}
    ids = list(periods)
    for start in range(0, len(ids), HISTORY_CHUNK):
        chunk = ids[start : start + HISTORY_CHUNK]
        rows = Delivery.objects.filter(
            subscription_id__in=chunk,
            period__in=_recent_period_keys(periods[sid].local_date for sid in chunk),
        ).values_list("subscription_id", "period", "status", "papers", "listed_through")
        # The status is checked here, not in SQL: given one, SQLite would scan its index instead of this one.
        for sid, key, status, papers, listed in rows:
            if key == periods[sid].key or status not in (Delivery.Status.SENT, Delivery.Status.EMPTY):
                continue
            sent[sid].update(pid for pid in papers or () if isinstance(pid, int))
            if listed is not None and (sid not in through or listed > through[sid]):
                through[sid] = listed
    return {sid: History(frozenset(sent.get(sid, ())), through.get(sid)) for sid in ids}


def follows(subscription_ids: Sequence[int]) -> dict[int, Follows]:
    """The authors and organizations each subscription follows, in two queries."""
    authors: dict[int, set[int]] = defaultdict(set)
    organizations: dict[int, set[int]] = defaultdict(set)
    author_links = Subscription.authors.through.objects
    organization_links = Subscription.organizations.through.objects
    for start in range(0, len(subscription_ids), CHUNK):
        chunk = subscription_ids[start : start + CHUNK]
        for sid, aid in author_links.filter(subscription_id__in=chunk).values_list("subscription_id", "author_id"):
            authors[sid].add(aid)
        for sid, oid in organization_links.filter(subscription_id__in=chunk).values_list(
            "subscription_id", "organization_id"
        ):
            organizations[sid].add(oid)
    return {
        sid: Follows(frozenset(authors.get(sid, ())), frozenset(organizations.get(sid, ()))) for sid in subscription_ids
    }


# --- keywords ---


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


# --- the papers of one period, shared by every subscriber whose digest covers the same list days ---


class PeriodPapers:
    """The visible papers listed on the days of one window, indexed for matching interests."""

    def __init__(self, window: ListWindow) -> None:
        self.window = window
        self.rank: dict[int, tuple] = {}  # id -> sort key (most upvoted, then newest, first)
        self.text: dict[int, str] = {}  # id -> lower-cased title and abstract
        self.categories: dict[str, set[int]] = defaultdict(set)
        self.organizations: dict[int, set[int]] = defaultdict(set)
        self._authors: dict[int, set[int]] | None = None
        self._searches: dict[tuple[str, str], frozenset[int]] = {}
        self._embeddings: dict = {}  # the window's embeddings, read once for every saved search
        if window.start is None:
            return
        rows = (
            with_upvotes(Paper.objects.visible().filter(id__in=self._listed())).order_by().values_list(*_PERIOD_COLUMNS)
        )
        for pid, title, abstract, categories, organization, published, arxiv_id, hf_upvotes, upvotes in rows:
            self.rank[pid] = (-upvotes, -hf_upvotes, -(published or date.min).toordinal(), arxiv_id)
            self.text[pid] = f"{title}\n{abstract}".lower()
            for category in categories or ():
                self.categories[category].add(pid)
            if organization is not None:
                self.organizations[organization].add(pid)

    def _listed(self):
        return DailyEntry.objects.filter(day__range=(self.window.start, self.window.end)).values("paper_id")

    def by_authors(self, author_ids: frozenset[int]) -> set[int]:
        if self._authors is None:
            self._authors = defaultdict(set)
            for pid, aid in Authorship.objects.filter(paper_id__in=self._listed()).values_list("paper_id", "author_id"):
                if pid in self.rank:
                    self._authors[aid].add(pid)
        return set().union(*(self._authors.get(a, ()) for a in author_ids))

    def authors_of(self, paper_id: int, author_ids: frozenset[int]) -> list[int]:
        self.by_authors(frozenset())
        return [a for a in author_ids if paper_id in self._authors.get(a, ())]

    def search(self, q: str, mode: str) -> frozenset[int]:
        """The papers of this window a saved search finds (computed once per distinct search), as the site's
        search finds them (paperfeed.papers.retrieval.matches)."""
        key = (q, mode)
        if key not in self._searches:
            among = frozenset(self.rank)
            found = matches(SearchRequest(q, mode, among=among), self._embeddings) if among else frozenset()
            self._searches[key] = found
        return self._searches[key]


# --- composing ---


def saved_searches(subscription: Subscription) -> list[tuple[str, str]]:
    """The subscription's saved searches as (query, mode), tolerant of hand-edited JSON."""
    found = []
    for entry in subscription.saved_searches or ():
        if isinstance(entry, str):
            q, mode = entry, "keyword"
        elif isinstance(entry, dict):
            q, mode = str(entry.get("q") or ""), str(entry.get("mode") or "keyword")
        else:
            continue
        q = " ".join(q.split())
        if q:
            found.append((q, mode if mode in SEARCH_MODES else "keyword"))
    return found


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _cut(first: list, second: list, limit: int) -> tuple[list, list]:
    """Both lists cut to `limit` items together, taking from the end of the longer one first."""
    limit = max(limit, 0)
    a, b = len(first), len(second)
    while a + b > limit:
        if a > b:
            a -= 1
        else:
            b -= 1
    return first[:a], second[:b]


class DigestComposer:
    """Composes the digests of one run at `now`; what subscribers share is computed once and kept."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._trending: list[int] | None = None
        self._periods: dict[tuple, PeriodPapers] = {}
        self._latest_day: dict[date, date | None] = {}
        self._cards: dict[int, PaperCard] = {}
        self._author_names: dict[int, str] = {}
        self._organization_names: dict[int, str] = {}
        self._keyword_hits: dict[str, dict[int, bool]] = {}
        self._recommender = None

    @property
    def recommender(self):
        """The run's For you ranker (paperfeed.recommend), made when the first digest needs it."""
        if self._recommender is None:
            from paperfeed.recommend.services.ranking import DigestRecommender

            self._recommender = DigestRecommender()
        return self._recommender

    def prefetch(self, subscriptions: Iterable[Subscription]) -> None:
        """Load the models and signals of these subscribers' accounts at once, before their digests are composed."""
        self.recommender.prefetch(s.user_id for s in subscriptions if s.user_id is not None)

    def trending_ids(self) -> list[int]:
        """The trending papers at `now`, best first; empty when nobody voted lately (no newest-papers stand-in)."""
        if self._trending is None:
            ranked = trending(self.now, limit=TRENDING_SIZE)
            self._trending = [card.paper.id for card in ranked.cards] if ranked.has_votes else []
            for card in ranked.cards if ranked.has_votes else ():
                self._cards[card.paper.id] = card
        return self._trending

    def latest_list_day(self, on_or_before: date) -> date | None:
        if on_or_before not in self._latest_day:
            days = DailyEntry.objects.filter(day__lte=on_or_before).aggregate(last=Max("day"))
            self._latest_day[on_or_before] = days["last"]
        return self._latest_day[on_or_before]

    def period_papers(self, window: ListWindow) -> PeriodPapers:
        key = (window.start, window.end)
        if key not in self._periods:
            self._periods[key] = PeriodPapers(window)
        return self._periods[key]

    def cards(self, paper_ids: Sequence[int]) -> dict[int, PaperCard]:
        missing = [pid for pid in paper_ids if pid not in self._cards]
        for start in range(0, len(missing), CHUNK):
            for card in cards_for_ids(missing[start : start + CHUNK]):
                self._cards[card.paper.id] = card
        return {pid: self._cards[pid] for pid in paper_ids if pid in self._cards}

    def _names(self, author_ids: Iterable[int], organization_ids: Iterable[int]) -> None:
        authors = [a for a in author_ids if a not in self._author_names]
        if authors:
            self._author_names.update(Author.objects.filter(id__in=authors).values_list("id", "name"))
        organizations = [o for o in organization_ids if o not in self._organization_names]
        if organizations:
            self._organization_names.update(Organization.objects.filter(id__in=organizations).values_list("id", "name"))

    def compose(self, subscription: Subscription, period: DigestPeriod, history: History, followed: Follows) -> Digest:
        """The digest of `subscription` for `period`, given what earlier digests sent and whom it follows."""
        latest = self.latest_list_day(period.local_date)
        window = list_window(period, history.listed_through, latest)
        listed_through = max((d for d in (latest, history.listed_through) if d is not None), default=None)
        include = [k for k in map(normalize_keyword, subscription.include_keywords or ()) if k]
        exclude = [k for k in map(normalize_keyword, subscription.exclude_keywords or ()) if k]
        limit = subscription.max_papers

        # The trending section: the top N at `now` that earlier digests did not send.
        ranked = self.trending_ids()[: subscription.top_trending]
        trending_ids = [pid for pid in ranked if pid not in history.sent]
        if include or exclude:
            trending_ids = [pid for pid in trending_ids if self._wanted(pid, include, exclude, None)]

        # The lists section: the window's papers matching an interest, best first, as many as could be shown.
        papers = self.period_papers(window)
        categories = [str(c) for c in subscription.categories or ()]
        searches = [(q, papers.search(q, mode)) for q, mode in saved_searches(subscription)]
        matched: set[int] = set()
        for category in categories:
            matched |= papers.categories.get(category, set())
        for _, found in searches:
            matched |= found
        if followed.authors:
            matched |= papers.by_authors(followed.authors)
        for oid in followed.organizations:
            matched |= papers.organizations.get(oid, set())
        matched -= history.sent
        matched.difference_update(trending_ids)
        if include or exclude:
            match_ids = []
            for pid in sorted(matched, key=papers.rank.__getitem__):
                if len(match_ids) >= limit:
                    break
                if self._wanted(pid, include, exclude, papers):
                    match_ids.append(pid)
        else:
            match_ids = heapq.nsmallest(limit, matched, key=papers.rank.__getitem__)
        # The For you section (subscribers whose account has a trained model) takes its place within the limit.
        for_you = self._for_you(subscription, window, history, trending_ids + match_ids, limit, include, exclude)
        trending_ids, match_ids = _cut(trending_ids, match_ids, limit - len(for_you))

        # Why each paper is there, shown under it: worked out for the papers kept only.
        self._names(followed.authors, followed.organizations)
        rank_of = {pid: rank for rank, pid in enumerate(ranked, 1)}

        def reasons(pid: int) -> tuple[str, ...]:
            found = [f"trending #{rank_of[pid]}"] if pid in rank_of else []
            found += [f"in {c}" for c in categories if pid in papers.categories.get(c, ())]
            found += [f"matches “{_label(q)}”" for q, hits in searches if pid in hits]
            if followed.authors and pid in papers.rank:
                names = sorted(self._author_names.get(a, "") for a in papers.authors_of(pid, followed.authors))
                if names:
                    found.append("by " + ", ".join(n for n in names if n))
            found += [
                "from " + self._organization_names.get(oid, "an organization you follow")
                for oid in followed.organizations
                if pid in papers.organizations.get(oid, ())
            ]
            return tuple(found)

        cards = self.cards(trending_ids + match_ids + [pid for pid, _ in for_you])
        return Digest(
            subscription,
            period,
            window,
            listed_through,
            trending=[DigestItem(cards[pid], reasons(pid)) for pid in trending_ids if pid in cards],
            matches=[DigestItem(cards[pid], reasons(pid)) for pid in match_ids if pid in cards],
            for_you=[DigestItem(cards[pid], (reason,)) for pid, reason in for_you if pid in cards],
        )

    def _for_you(
        self,
        subscription: Subscription,
        window: ListWindow,
        history: History,
        taken: list[int],
        limit: int,
        include: list[str],
        exclude: list[str],
    ) -> list[tuple[int, str]]:
        """(paper id, reason) of the papers the subscriber's model recommends among the window's, with the same
        keyword filters; none when the subscription has no account or the account no trained model."""
        if subscription.user_id is None or limit <= 0 or window.start is None:
            return []
        from paperfeed.recommend.services.ranking import HardFilters

        filters = HardFilters.build([], include, exclude, source="digest")
        found = self.recommender.recommend(
            subscription.user_id, set(taken) | history.sent, window.start, min(FOR_YOU_SIZE, limit), filters
        )
        return [(pid, reason.text) for pid, reason in found]

    def _wanted(self, pid: int, include: list[str], exclude: list[str], papers: PeriodPapers | None) -> bool:
        """Whether the paper passes the hard keyword filters; each (keyword, paper) is looked at once per run."""

        def has(keyword: str) -> bool:
            seen = self._keyword_hits.setdefault(keyword, {})
            if pid not in seen:
                text = papers.text.get(pid) if papers is not None else None
                if text is None:
                    text = self._texts([pid]).get(pid, "")
                seen[pid] = has_keyword(text, [keyword])
            return seen[pid]

        return (not include or any(map(has, include))) and not any(map(has, exclude))

    def _texts(self, paper_ids: list[int]) -> dict[int, str]:
        """Lower-cased title and abstract of these papers, for keyword filters (from the cards kept for the run)."""
        return {pid: f"{c.paper.title}\n{c.paper.abstract}".lower() for pid, c in self.cards(paper_ids).items()}

    def close(self) -> None:
        self._periods.clear()


def compose_for(subscription: Subscription, now: datetime | None = None) -> Digest:
    """The digest `subscription` would get for its period at `now` (for previews: sends and records nothing)."""
    now = now or timezone.now()
    period = current_period(
        subscription.frequency, subscription.weekday, subscription.time_zone, subscription.hour, now
    )
    history = histories({subscription.pk: period})[subscription.pk]
    followed = follows([subscription.pk])[subscription.pk]
    composer = DigestComposer(now)
    try:
        return composer.compose(subscription, period, history, followed)
    finally:
        composer.close()
