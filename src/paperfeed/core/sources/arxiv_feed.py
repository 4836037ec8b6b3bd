"""arXiv announcement feeds (rss.arxiv.org, 2024+ format): RSS 2.0 (/rss/cs.LG+cs.AI) and Atom (/atom/cs.LG).

Each item is one announcement of the day: a new paper, a cross-listing or a replacement (`arxiv:announce_type`
new, cross, replace, replace-cross). Weekend and holiday feeds have no items: a valid empty result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lxml import etree

from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.records import PaperRecord, RecordError, make_record
from paperfeed.core.sources import SourceError
from paperfeed.core.sources.arxiv_xml import (
    arxiv_categories,
    child_text,
    find,
    find_all,
    iso_date,
    local_name,
    read_xml,
    require_category,
    rfc822_date,
    split_authors,
    text,
)


@dataclass(frozen=True)
class Announcement:
    record: PaperRecord  # listed_on = the announcement day
    announce_type: str  # "new" | "cross" | "replace" | "replace-cross" (as given)


@dataclass(frozen=True)
class AnnouncementFeed:
    announcements: list[Announcement]
    day: date | None  # the feed's announcement day (pubDate / lastBuildDate / updated), None if absent
    skipped: list[tuple[str, str]]


# The description or summary reads "arXiv:2409.12345v1 Announce Type: new \nAbstract: …".
_HEAD = re.compile(r"\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>\S+)\s*", re.IGNORECASE)
_OAI_PREFIX = re.compile(r"^oai:arxiv\.org:", re.IGNORECASE)


@dataclass
class _Item:
    """The fields an RSS item and an Atom entry have in common, under one set of names."""

    guid: str
    link: str
    title: str
    summary: str
    categories: list[str]
    primary: str
    announce_type: str
    creators: str
    doi: str
    journal_ref: str
    comment: str
    day: date | None


def parse_announcements(body: bytes) -> AnnouncementFeed:
    """The announcements in one RSS or Atom feed and its day; SourceError if the feed cannot be read."""
    root = read_xml(body, source="arXiv feed", expected="an arXiv RSS or Atom feed", roots=("rss", "feed"))
    if local_name(root) == "rss":
        channel = find(root, "channel")
        if channel is None:
            raise SourceError("the arXiv RSS feed has no <channel> element")
        day = rfc822_date(child_text(channel, "pubDate")) or rfc822_date(child_text(channel, "lastBuildDate"))
        items = [_rss_item(element, day) for element in find_all(channel, "item")]
    else:
        day = iso_date(child_text(root, "updated"))
        items = [_atom_item(element, day) for element in find_all(root, "entry")]
    announcements: list[Announcement] = []
    skipped: list[tuple[str, str]] = []
    for item in items:
        try:
            announcements.append(_announcement(item))
        except ValueError as problem:  # RecordError, or a number in this item out of range
            skipped.append((item.guid or item.link or item.title or "(no id)", str(problem)))
    return AnnouncementFeed(announcements, day, skipped)


def _common(element: etree._Element) -> dict:
    return {
        "title": child_text(element, "title"),
        "primary": _term_or_text(find(element, "primary_category")),
        "announce_type": child_text(element, "announce_type"),
        "creators": ", ".join(text(e) for e in find_all(element, "creator")),
        "doi": child_text(element, "DOI") or child_text(element, "doi"),
        "journal_ref": child_text(element, "journal_reference") or child_text(element, "journal_ref"),
        "comment": child_text(element, "comment"),
    }


def _rss_item(element: etree._Element, feed_day: date | None) -> _Item:
    return _Item(
        guid=child_text(element, "guid"),
        link=child_text(element, "link"),
        summary=child_text(element, "description"),
        categories=[text(e) for e in find_all(element, "category")],
        day=rfc822_date(child_text(element, "pubDate")) or feed_day,
        **_common(element),
    )


def _atom_item(element: etree._Element, feed_day: date | None) -> _Item:
    links = find_all(element, "link")
    alternate = next((e for e in links if e.get("rel", "alternate") == "alternate"), None)
    return _Item(
        guid=child_text(element, "id"),
        link=(alternate.get("href", "") if alternate is not None else "").strip(),
        summary=child_text(element, "summary"),
        categories=[e.get("term", "") for e in find_all(element, "category")],
        day=iso_date(child_text(element, "published")) or feed_day,
        **_common(element),
    )


def _term_or_text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return (element.get("term") or text(element)).strip()


def _announcement(item: _Item) -> Announcement:
    head = _HEAD.match(item.summary)
    candidates = [_OAI_PREFIX.sub("", item.guid), head.group("id") if head else "", item.link]
    arxiv_id = next((c for c in candidates if c and parse_arxiv_id(c)), item.guid or item.link)
    announce_type = item.announce_type or (head.group("type") if head else "")
    if not announce_type:
        raise RecordError(f"{arxiv_id}: no announce type")
    if "Abstract:" in item.summary:
        abstract = item.summary.split("Abstract:", 1)[1]
    else:
        abstract = item.summary[head.end() :] if head else item.summary
    record = make_record(
        arxiv_id=arxiv_id,
        title=item.title,
        abstract=abstract,
        authors=split_authors(item.creators),
        categories=arxiv_categories(item.categories),
        primary_category=item.primary if arxiv_categories([item.primary]) else None,
        listed_on=item.day,
        comment=item.comment,
        doi=item.doi,
        journal_ref=item.journal_ref,
    )
    return Announcement(require_category(record), announce_type)
