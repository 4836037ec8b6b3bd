"""Which papers a subscriber's digest holds for a period, composed for thousands of subscribers in one run.

A digest is made of sections (sections/: trending, the subscriber's interests on the lists of its period — see
schedule.list_window —, For you, …), registered in order in sections.SECTIONS. Each section proposes papers with
their reasons, best first; composition runs them in order and, of each one's proposals, leaves out the papers an
earlier section kept, the papers sent in an earlier digest, and those the hard include / exclude keywords reject
(a whole word or phrase, any case, in the title or abstract); it keeps at most the section's own size or the
subscriber's maximum. Then the digest is cut to the maximum (see _cut): sections kept whole (For you) keep their
place, the others share what is left, the longest cut first. A paper shows the reasons of its section and those of
any later section that would have proposed it too. Only papers anyone may see (`Paper.objects.visible()`) are
ever included.

Everything that does not depend on the subscriber is computed once per run by `DigestComposer`: the trending
list, each period's papers grouped by category, author and organization, and the matches of each distinct saved
search. Per subscriber, composing is set arithmetic over those.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from paperfeed.community.models import Interests
from paperfeed.core.keywords import has_keyword, normalize_keyword
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
from paperfeed.digests.services.sections import SECTIONS, Reader, Section
from paperfeed.papers.models import Author, Authorship, DailyEntry, Organization, Paper
from paperfeed.papers.retrieval import SearchRequest, matches
from paperfeed.papers.services.cards import PaperCard, cards_for_ids, with_upvotes
from paperfeed.papers.services.trending import TRENDING_SIZE, trending
from paperfeed.recommend.services.ranking import DigestRecommender

# Papers sent in digests of periods older than this may come again (by then they are neither trending nor on a
# recent list).
SENT_MEMORY = timedelta(days=45)
CHUNK = 900  # ids per IN (...) list
HISTORY_CHUNK = 200  # subscriptions per look-up of the send log (times about 100 period keys)
_PERIOD_COLUMNS = ("id", "title", "abstract", "categories", "organization_id", "published", "external_id")
_PERIOD_COLUMNS += ("hf_upvotes", "upvotes")


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
    sections: list[tuple[Section, list[DigestItem]]] = field(default_factory=list)  # in order, empty ones too

    def items_of(self, key: str) -> list[DigestItem]:
        """The papers of the section registered under `key` (none when it has none or is not registered)."""
        return next((items for section, items in self.sections if section.key == key), [])

    # The three first sections by their former names, for callers written before sections were pluggable.
    @property
    def trending(self) -> list[DigestItem]:
        return self.items_of("trending")

    @property
    def matches(self) -> list[DigestItem]:
        return self.items_of("interests")

    @property
    def for_you(self) -> list[DigestItem]:
        return self.items_of("for_you")

    @property
    def items(self) -> list[DigestItem]:
        return [item for _, items in self.sections for item in items]

    @property
    def paper_ids(self) -> list[int]:
        return [item.card.paper.id for item in self.items]

    @property
    def is_empty(self) -> bool:
        return not any(items for _, items in self.sections)


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


def sent_to_member(user, now: datetime) -> set[int]:
    """The papers the member's digest sent them in the last SENT_MEMORY days (For you leaves them out)."""
    rows = Delivery.objects.filter(
        subscription__user=user, claimed_at__gte=now - SENT_MEMORY, status=Delivery.Status.SENT
    ).values_list("papers", flat=True)
    return {pid for papers in rows for pid in papers or () if isinstance(pid, int)}


def follows(subscription_ids: Sequence[int]) -> dict[int, Follows]:
    """The authors and organizations each subscription's interests follow, in a few queries."""
    interests_of = (
        dict(Subscription.objects.filter(pk__in=subscription_ids).values_list("pk", "interests_id"))
        if len(subscription_ids) <= CHUNK
        else _interests_ids(subscription_ids)
    )
    authors: dict[int, set[int]] = defaultdict(set)
    organizations: dict[int, set[int]] = defaultdict(set)
    author_links = Interests.authors.through.objects
    organization_links = Interests.organizations.through.objects
    ids = sorted(set(interests_of.values()))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for iid, aid in author_links.filter(interests_id__in=chunk).values_list("interests_id", "author_id"):
            authors[iid].add(aid)
        for iid, oid in organization_links.filter(interests_id__in=chunk).values_list(
            "interests_id", "organization_id"
        ):
            organizations[iid].add(oid)
    return {
        sid: Follows(
            frozenset(authors.get(interests_of.get(sid), ())), frozenset(organizations.get(interests_of.get(sid), ()))
        )
        for sid in subscription_ids
    }


def _interests_ids(subscription_ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for start in range(0, len(subscription_ids), CHUNK):
        chunk = subscription_ids[start : start + CHUNK]
        found.update(Subscription.objects.filter(pk__in=chunk).values_list("pk", "interests_id"))
    return found


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
        for pid, title, abstract, categories, organization, published, external_id, hf_upvotes, upvotes in rows:
            self.rank[pid] = (-upvotes, -hf_upvotes, -(published or date.min).toordinal(), external_id)
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


def _cut(lengths: list[int], limit: int) -> list[int]:
    """How many papers each section keeps when together they hold more than `limit`: one is taken from the end
    of the longest section at a time, from the later of equally long ones."""
    kept = list(lengths)
    excess = sum(kept) - max(limit, 0)
    while excess > 0:
        longest = max(kept)
        kept[len(kept) - 1 - kept[::-1].index(longest)] -= 1
        excess -= 1
    return kept


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
        self._shared: dict = {}

    @property
    def recommender(self):
        """The run's For you ranker (paperfeed.recommend), made when the first digest needs it."""
        if self._recommender is None:
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

    def shared(self, key, make: Callable[[], object]):
        """What a section computes once per run and every digest reuses (e.g. per list window), under `key`."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    def names(self, author_ids: Iterable[int], organization_ids: Iterable[int]) -> None:
        """Look up the names of these authors and organizations once per run (see author_name)."""
        authors = [a for a in author_ids if a not in self._author_names]
        if authors:
            self._author_names.update(Author.objects.filter(id__in=authors).values_list("id", "name"))
        organizations = [o for o in organization_ids if o not in self._organization_names]
        if organizations:
            self._organization_names.update(Organization.objects.filter(id__in=organizations).values_list("id", "name"))

    def author_name(self, author_id: int) -> str:
        return self._author_names.get(author_id, "")

    def organization_name(self, organization_id: int, default: str) -> str:
        return self._organization_names.get(organization_id, default)

    def compose(
        self,
        subscription: Subscription,
        period: DigestPeriod,
        history: History,
        followed: Follows,
        sections: Sequence[Section] = SECTIONS,
    ) -> Digest:
        """The digest of `subscription` for `period`, given what earlier digests sent and whom it follows."""
        latest = self.latest_list_day(period.local_date)
        window = list_window(period, history.listed_through, latest)
        listed_through = max((d for d in (latest, history.listed_through) if d is not None), default=None)
        reader = Reader(
            subscription=subscription,
            period=period,
            window=window,
            papers=self.period_papers(window),
            history=history,
            followed=followed,
            include=[k for k in map(normalize_keyword, subscription.interests.include_keywords or ()) if k],
            exclude=[k for k in map(normalize_keyword, subscription.interests.exclude_keywords or ()) if k],
            limit=subscription.max_papers,
        )
        chosen = [self._choose(section, reader) for section in sections]

        # Cut to the maximum: the sections kept whole first, in order; the others share what is left.
        kept = [0] * len(sections)
        room = max(reader.limit, 0)
        for n, section in enumerate(sections):
            if section.kept_whole:
                kept[n] = min(len(chosen[n]), room)
                room -= kept[n]
        shared = [n for n, section in enumerate(sections) if not section.kept_whole]
        for n, count in zip(shared, _cut([len(chosen[n]) for n in shared], room), strict=True):
            kept[n] = count
        chosen = [papers[:count] for papers, count in zip(chosen, kept, strict=True)]

        # Why each paper is there: its section's reasons, then those of later sections that would have it too.
        def reasons(n: int, pid: int, own: tuple[str, ...]) -> tuple[str, ...]:
            return own + tuple(r for later in sections[n + 1 :] for r in later.reasons(self, reader, pid))

        cards = self.cards([c.paper_id for papers in chosen for c in papers])
        return Digest(
            subscription,
            period,
            window,
            listed_through,
            sections=[
                (
                    section,
                    [
                        DigestItem(cards[c.paper_id], reasons(n, c.paper_id, c.reasons))
                        for c in papers
                        if c.paper_id in cards
                    ],
                )
                for n, (section, papers) in enumerate(zip(sections, chosen, strict=True))
            ],
        )

    def _choose(self, section: Section, reader: Reader) -> list:
        """The section's proposals that are new to this subscriber and pass the keyword filters, as many as it
        may keep; they join `reader.taken`."""
        most = reader.limit if section.most is None else min(section.most, reader.limit)
        found = []
        taken = set(reader.taken)
        filtered = bool(reader.include or reader.exclude)
        for chosen in section.choose(self, reader):
            if len(found) >= most:
                break
            pid = chosen.paper_id
            if pid in taken or pid in reader.history.sent:
                continue
            if filtered and not self._wanted(pid, reader.include, reader.exclude, reader.papers):
                continue
            found.append(chosen)
            taken.add(pid)
        reader.taken.extend(c.paper_id for c in found)
        return found

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
