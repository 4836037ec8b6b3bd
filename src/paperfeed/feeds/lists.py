"""Which papers each feed holds: the site's own lists, through the services that build them for the pages.

Every list here comes from `Paper.objects.visible()` (directly or through the services), so a paper a moderator
hid never reaches a feed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from paperfeed.community.models import Collection, CollectionItem, Group, Membership
from paperfeed.community.services import collections, groups, people
from paperfeed.core.periods import Period
from paperfeed.papers.models import Author, Organization, Paper
from paperfeed.papers.retrieval import Filters, SearchRequest
from paperfeed.papers.services import catalog
from paperfeed.papers.services import listing as listings
from paperfeed.papers.services.cards import PaperCard, cards_for_ids
from paperfeed.papers.services.search import search_papers
from paperfeed.papers.services.trending import trending

FEED_SIZE = 50  # papers in a feed: a day's list, the trending list; searches and people pages give one page
CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")


@dataclass(frozen=True)
class FeedItem:
    card: PaperCard
    when: date | datetime | None  # the item's date: the day it was listed (or published), or added to a collection


@dataclass(frozen=True)
class ActivityItem(FeedItem):
    """Something a group's member did to a paper: upvoted it, or added it to one of the group's collections."""

    who: str = ""
    what: str = ""  # "upvoted", "added to <collection>"
    key: str = ""  # unique in the group's activity


def _dated(cards: list[PaperCard]) -> list[FeedItem]:
    return [FeedItem(card, card.day) for card in cards]


def daily_items(period: Period | None, sort: str, with_code: bool = False) -> list[FeedItem]:
    """The period's daily list in the page's order (`with_code`: its papers with code); without a period, the
    latest day with papers."""
    period = period or listings.default_period(timezone.localdate())
    if period is None:
        return []
    return _dated(list(listings.listing(period, sort, with_code=with_code).page.object_list)[:FEED_SIZE])


def trending_items() -> list[FeedItem]:
    return _dated(trending(timezone.now(), limit=FEED_SIZE).cards)


def search_items(text: str, filters: Filters, mode: str) -> list[FeedItem]:
    """The first page of the search, best matches first, as the search page shows it."""
    return _dated(search_papers(SearchRequest(text, mode, filters)).cards)


def category_items(category: str) -> list[FeedItem] | None:
    """The newest papers listed in the arXiv category (as primary or cross-list); None when no paper here has it."""
    if not CATEGORY.fullmatch(category):
        return None
    # The category list is JSON: matched as its text, quoted, so cs.L never matches cs.LG (works on any database).
    listed_in = Paper.objects.visible().annotate(category_text=Cast("categories", TextField()))
    newest = listed_in.filter(category_text__contains=f'"{category}"').order_by("-published", "-external_id")
    ids = list(newest.values_list("id", flat=True)[:FEED_SIZE])
    if not ids and category not in catalog.primary_categories():
        return None
    return _dated(cards_for_ids(ids))


def organization_items(organization: Organization) -> list[FeedItem]:
    return _dated(list(people.organization_papers(organization).object_list))


def author_items(author: Author) -> list[FeedItem]:
    return _dated(list(people.author_papers(author).object_list))


def public_collection(username: str, slug: str) -> Collection | None:
    """The collection if it is public: a feed is for anyone, so a private one has none, even for its owner."""
    return collections.collection_page(username, slug, AnonymousUser())


def collection_items(collection: Collection) -> list[FeedItem]:
    """The collection's papers, most recently added first, dated by when they were added."""
    ids = collections.paper_ids(collection)[:FEED_SIZE]
    added = dict(
        CollectionItem.objects.filter(collection=collection, paper_id__in=ids).values_list("paper", "added_at")
    )
    return [FeedItem(card, added.get(card.paper.id)) for card in cards_for_ids(ids)]


def viewable_collection(username: str, slug: str, viewer: AbstractBaseUser | AnonymousUser) -> Collection | None:
    """The collection for a download: public ones for anyone, private ones for their owner only."""
    return collections.collection_page(username, slug, viewer)


def group_member_by_feed_token(slug: str, token: str) -> Membership | None:
    """The member whose secret feed address this is (feed readers have no session); None for a wrong token, a
    revoked one (the member left) or another group's."""
    return groups.member_by_feed_token(slug, token)


def group_activity_items(group: Group) -> list[ActivityItem]:
    """The group's members' latest votes and additions to its collections, newest first, as the group page shows."""
    entries = list(groups.activity(group, 1, FEED_SIZE).object_list)
    cards = {card.paper.id: card for card in cards_for_ids([entry.paper.id for entry in entries])}
    return [
        ActivityItem(
            cards[entry.paper.id],
            entry.at,
            who=entry.username,
            what="upvoted" if entry.kind == "vote" else f"added to {entry.collection_name}",
            key=f"group-{group.pk}-{entry.key}",
        )
        for entry in entries
        if entry.paper.id in cards
    ]
