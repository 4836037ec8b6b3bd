"""`ingest arxiv-new`: the day's announcements of some arXiv categories, from the Atom feed."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from django.conf import settings

from paperfeed.core.sources.arxiv_feed import parse_announcements
from paperfeed.papers.services.ingest import IngestError
from paperfeed.papers.services.ingest.http import SourceClient
from paperfeed.papers.services.loading import LoadSummary, PaperLoader

CATEGORY = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z\-]+)?")
LISTED = {"new", "cross"}  # replacements update a paper; they do not put it on the day's list again


@dataclass
class AnnouncementResult:
    summary: LoadSummary
    kinds: Counter  # announce type → count
    skipped: list[tuple[str, str]]


def ingest_announcements(client: SourceClient, categories: list[str]) -> AnnouncementResult:
    bad = [c for c in categories if not CATEGORY.fullmatch(c)]
    if bad or not categories:
        raise IngestError(f"not arXiv categories: {', '.join(bad) or '(none given)'} — write them like cs.LG math.AG")
    url = f"{settings.PAPERFEED_ARXIV_RSS_URL.rstrip('/')}/atom/{'+'.join(categories)}"
    feed = parse_announcements(client.get(url).content)
    records = [a.record if a.announce_type in LISTED else replace(a.record, listed_on=None) for a in feed.announcements]
    summary = LoadSummary()
    PaperLoader().write(records, summary)
    return AnnouncementResult(summary, Counter(a.announce_type for a in feed.announcements), feed.skipped)
