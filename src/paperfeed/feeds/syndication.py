"""RSS 2.0 and Atom feeds of the site's lists, through Django's syndication framework.

Each feed class reads its request into a `Channel` (what the feed is and which papers it holds) and the base class
turns that into items. One class serves both formats: `DailyFeed()` is RSS, `DailyFeed(atom=True)` Atom.
An item's guid is the paper page's absolute address: the same paper keeps it in every fetch of a feed, on every day.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.contrib.syndication.views import Feed
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.http import urlencode

from paperfeed.community.services import people
from paperfeed.core.periods import PeriodError, parse_period
from paperfeed.core.records import clean_text
from paperfeed.feeds import lists
from paperfeed.feeds.lists import FeedItem
from paperfeed.papers.retrieval import MODES, FilterError, Filters, SearchRequest, with_code
from paperfeed.papers.services import listing as listings

SITE = "paperfeed"
ITEM_AUTHORS = 20  # names an item lists before "and N more"
MODE_WORDS = {"hybrid": "by words and meaning", "keyword": "by words", "semantic": "by meaning"}


@dataclass(frozen=True)
class Channel:
    title: str
    description: str
    link: str  # the page that shows the same list (path and query)
    items: list[FeedItem]
    feed_path: str  # this feed's own address (path and query), for the self link and the Atom id


def _param(request: HttpRequest, name: str) -> str | None:
    value = request.GET.get(name, "").strip()
    return value or None


def _query(**params: str | None) -> str:
    given = {name: value for name, value in params.items() if value}
    return "?" + urlencode(given) if given else ""


def _when(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)  # a listed day starts at midnight UTC


class PaperFeed(Feed, ABC):
    """A list of papers as RSS 2.0 (or Atom with atom=True); subclasses say which list in `channel`."""

    language = "en"

    def __init__(self, atom: bool = False) -> None:
        self.atom = atom
        self.feed_type = Atom1Feed if atom else Rss201rev2Feed

    @abstractmethod
    def channel(self, request: HttpRequest, **kwargs) -> Channel:
        """What this feed lists for this request: each feed class below answers it."""

    def get_object(self, request: HttpRequest, *args, **kwargs) -> Channel:
        return self.channel(request, **kwargs)

    def _text(self, value: str) -> str:
        # RSS readers treat titles as HTML (Django's item titles are escaped for that reason); Atom's are text.
        return value if self.atom else escape(value)

    def title(self, channel: Channel) -> str:
        return self._text(f"{channel.title} · {SITE}")

    def link(self, channel: Channel) -> str:
        return channel.link

    def description(self, channel: Channel) -> str:
        return escape(channel.description)

    def subtitle(self, channel: Channel) -> str | None:
        return channel.description if self.atom else None

    def feed_url(self, channel: Channel) -> str:
        return channel.feed_path

    def items(self, channel: Channel) -> list[FeedItem]:
        return channel.items

    def item_title(self, item: FeedItem) -> str:
        return self._text(item.card.paper.title)

    def item_description(self, item: FeedItem) -> str:
        # The abstract is plain text (LaTeX and all); the feed's description is HTML, so it is escaped once here.
        return escape(item.card.paper.abstract)

    def item_link(self, item: FeedItem) -> str:
        return reverse("paper", args=[item.card.paper.address])

    item_guid_is_permalink = True

    def item_author_name(self, item: FeedItem) -> str | None:
        names = item.card.authors
        if not names:
            return None
        more = len(names) - ITEM_AUTHORS
        return ", ".join(names[:ITEM_AUTHORS]) + (f" and {more} more" if more > 0 else "")

    def item_pubdate(self, item: FeedItem) -> datetime | None:
        return _when(item.when)

    def item_updateddate(self, item: FeedItem) -> datetime | None:
        return _when(item.when)  # Atom requires an updated date on every entry

    def item_categories(self, item: FeedItem) -> list[str]:
        return list(item.card.paper.categories or [])


class DailyFeed(PaperFeed):
    """The daily list: the latest day with papers, or the day, week or month asked for (?date=, ?week=, ?month=)."""

    def channel(self, request: HttpRequest, **kwargs) -> Channel:
        try:
            asked = parse_period(_param(request, "date"), _param(request, "week"), _param(request, "month"))
        except PeriodError as error:
            raise BadRequest(str(error)) from None
        sort = request.GET.get("sort") or "votes"
        if sort not in listings.SORTS:
            raise BadRequest(f"sort={sort[:20]!r} is not a sort order: use votes, newest or stars")
        try:
            code = with_code(request.GET.get("code"))
        except FilterError as error:
            raise BadRequest(str(error)) from None
        items = lists.daily_items(asked, sort, code)  # without a date: the latest day, whichever day that is now
        order = {"votes": "most upvoted first", "newest": "newest first", "stars": "most starred first"}[sort]
        order = f"with code, {order}" if code else order
        sort_param = sort if sort != "votes" else None
        if asked is None:
            title, description = "Daily Papers", f"The papers of the latest day’s list, {order}."
        else:
            title, description = f"Daily Papers, {asked.label}", f"The papers listed in {asked.label}, {order}."
            if asked.kind == "day":
                description = f"The papers listed on {asked.label}, {order}."
        link = reverse("daily") + _query(
            **{asked.param_name: asked.value} if asked else {}, sort=sort_param, code="1" if code else None
        )
        return Channel(title, description, link, items, request.get_full_path())


class TrendingFeed(PaperFeed):
    def channel(self, request: HttpRequest, **kwargs) -> Channel:
        description = "Papers ranked by recent upvotes; without upvotes, the newest papers."
        return Channel("Trending", description, reverse("trending"), lists.trending_items(), request.get_full_path())


class SearchFeed(PaperFeed):
    """Any search, with the search page's parameters: q, mode, category, from and to."""

    def channel(self, request: HttpRequest, **kwargs) -> Channel:
        text = clean_text(request.GET.get("q", ""))  # control characters cannot be written in XML
        mode = request.GET.get("mode") or "hybrid"
        if mode not in MODES:
            raise BadRequest(f"mode={mode[:20]!r} is not a search mode: use {', '.join(MODES)}")
        filters = _search_filters(request)
        if not text.strip():
            raise BadRequest(
                "Say what to search for: q is empty (e.g. /search/feed?q=diffusion). "
                "For a category's newest papers, use its feed: /feeds/category/cs.LG.rss"
            )
        if not SearchRequest(text, mode, filters).is_search:
            raise BadRequest(f"q={text[:40]!r} has no words to search for: type letters or numbers")
        where = [f"in {filters.category}"] if filters.category else []
        if filters.date_from:
            where.append(f"published from {filters.date_from}")
        if filters.date_to:
            where.append(f"published until {filters.date_to}")
        if filters.with_code:
            where.append("with code")
        described = f"“{text.strip()[:200]}”"
        description = f"Papers matching {described} {MODE_WORDS[mode]}{''.join(' ' + w for w in where)}, best first."
        link = reverse("search") + _query(
            q=text,
            mode=mode if mode != "hybrid" else None,
            category=filters.category,
            **{"from": _param(request, "from"), "to": _param(request, "to")},
            code="1" if filters.with_code else None,
        )
        items = lists.search_items(text, filters, mode)
        return Channel(f"{text.strip()[:60]} — search", description, link, items, request.get_full_path())


def _search_filters(request: HttpRequest) -> Filters:
    try:  # as the search page takes them
        return Filters.from_params(
            _param(request, "category"), _param(request, "from"), _param(request, "to"), _param(request, "code")
        )
    except FilterError as error:
        raise BadRequest(str(error)) from None


class CategoryFeed(PaperFeed):
    def channel(self, request: HttpRequest, category: str = "", **kwargs) -> Channel:
        items = lists.category_items(category) if len(category) <= 32 else None
        if items is None:
            raise Http404(f"No paper on this site is in the arXiv category “{category[:40]}”")
        description = f"The newest papers in {category}, whether listed there first or cross-listed."
        link = reverse("search") + _query(category=category)
        return Channel(category, description, link, items, request.get_full_path())


class OrganizationFeed(PaperFeed):
    def channel(self, request: HttpRequest, slug: str = "", **kwargs) -> Channel:
        found = people.organization_by_slug(slug)
        if found is None:
            raise Http404(f"There is no organization “{slug}” on this site")
        link = reverse("organization", args=[found.slug])
        description = f"The newest papers from {found.name}."
        return Channel(found.name, description, link, lists.organization_items(found), request.get_full_path())


class AuthorFeed(PaperFeed):
    def channel(self, request: HttpRequest, author_id: int = 0, **kwargs) -> Channel:
        found = people.author_by_id(author_id)
        if found is None:
            raise Http404(f"There is no author number {author_id} on this site")
        slug = people.author_slug(found.name)
        link = reverse("author-slug", args=[found.id, slug]) if slug else reverse("author", args=[found.id])
        description = f"The newest papers by {found.name}."
        return Channel(found.name, description, link, lists.author_items(found), request.get_full_path())


class CollectionFeed(PaperFeed):
    """A public collection, most recently added papers first; a private one is not found, whoever asks."""

    def channel(self, request: HttpRequest, username: str = "", slug: str = "", **kwargs) -> Channel:
        found = lists.public_collection(username, slug)
        if found is None:
            raise Http404("There is no such collection, or it is private.")
        owner = found.owner.username
        description = found.description or f"The papers @{owner} collected, most recently added first."
        link = reverse("collection", args=[owner, found.slug])
        title = f"{found.name} — a collection by @{owner}"
        return Channel(title, description, link, lists.collection_items(found), request.get_full_path())


class GroupActivityFeed(PaperFeed):
    """A reading group's activity, for its members only: the address holds the member's secret feed token (feed
    readers have no session). A wrong token, a revoked one or another group's is a 404, as for a missing group."""

    item_guid_is_permalink = False

    def __call__(self, request: HttpRequest, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-cache"  # one member's address: no shared cache keeps it
        return response

    def channel(self, request: HttpRequest, slug: str = "", token: str = "", **kwargs) -> Channel:
        found = lists.group_member_by_feed_token(slug, token)
        if found is None:
            raise Http404("There is no such group, or this feed address is not (or no longer) valid.")
        group = found.group
        description = f"What the members of {group.name} upvoted and added to its collections, newest first."
        link = reverse("group", args=[group.slug])
        title = f"{group.name} — the members' activity"
        return Channel(title, description, link, lists.group_activity_items(group), request.path)

    def item_title(self, item) -> str:
        return self._text(f"@{item.who} {item.what}: {item.card.paper.title}")

    def item_guid(self, item) -> str:
        # An activity, not a paper: the same paper upvoted by two members is two entries.
        return f"urn:paperfeed:{item.key}"
