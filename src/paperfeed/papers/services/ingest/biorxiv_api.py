"""`ingest biorxiv` and `ingest medrxiv`: harvest the bioRxiv API's `details` endpoint, page by page, resumable.

The API lists every version posted in an interval of days, 100 entries a page
(https://api.biorxiv.org/details/{server}/{from}/{until}/{cursor}); `messages[0]` says how many entries the
interval holds, so the next page is at cursor + count until the total is reached. After each page, its preprints
and the next cursor are committed together, so an interrupted harvest resumes at the next page and nothing is
written twice or half. A finished harvest remembers its `until` day, and the next run starts from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from paperfeed.core.sources.biorxiv import Server, read_details
from paperfeed.papers.models import HarvestState
from paperfeed.papers.services.ingest import IngestError
from paperfeed.papers.services.ingest.http import SourceClient
from paperfeed.papers.services.loading import LoadSummary, PaperLoader


@dataclass
class Harvest:
    summary: LoadSummary = field(default_factory=LoadSummary)
    window: tuple[date, date] | None = None
    pages: int = 0
    total: int | None = None  # entries the API said the window holds (versions of both servers' preprints)
    resumed: bool = False  # went on from a checkpoint left by an interrupted run
    skipped: list[tuple[str, str]] = field(default_factory=list)


def state_name(server: Server) -> str:
    return f"biorxiv-api:{server.name}"


def details_url(server: Server, start: date, end: date, cursor: int) -> str:
    base = settings.PAPERFEED_BIORXIV_API_URL.rstrip("/")
    return f"{base}/details/{server.name}/{start.isoformat()}/{end.isoformat()}/{cursor}"


def harvest(
    client: SourceClient,
    server: Server,
    *,
    from_: date | None = None,
    until: date | None = None,
    today: date | None = None,
    on_page: Callable[[Harvest], None] | None = None,
) -> Harvest:
    """Harvest the preprints `server` posted in [from_, until]; without them, resume an interrupted run or continue
    from the last one (the first run takes yesterday and today)."""
    today = today or timezone.now().date()
    checkpoint, _ = HarvestState.objects.get_or_create(name=state_name(server))
    saved = checkpoint.state
    result = Harvest()
    if from_ is None and until is None and saved.get("cursor") is not None:
        start, end, cursor = date.fromisoformat(saved["from"]), date.fromisoformat(saved["until"]), saved["cursor"]
        result.resumed = True
    else:
        last = saved.get("last_until")
        start = from_ or (date.fromisoformat(last) if last else today - timedelta(days=1))
        end = until or today
        cursor = 0
    if start > end:
        raise IngestError(f"--from {start} is after --until {end}")
    result.window = (start, end)
    finished = {"last_until": end.isoformat()}
    loader = PaperLoader(source=server.name)
    while cursor is not None:
        url = details_url(server, start, end, cursor)
        page = read_details(client.get(url).content, server)
        if page.status.lower() not in ("ok", "no posts found"):
            raise IngestError(f"{url}: the bioRxiv API answered {page.status!r} instead of a page of preprints")
        if page.cursor is not None and page.cursor != cursor:
            raise IngestError(f"{url}: the bioRxiv API answered with the page at cursor {page.cursor}")
        following = page.next_cursor(cursor)
        with transaction.atomic():
            loader.write(page.records, result.summary)
            if following is None:
                checkpoint.state = {**finished, "last_harvest": timezone.now().isoformat()}
            else:
                checkpoint.state = {
                    **{k: v for k, v in saved.items() if k.startswith("last_")},
                    "from": start.isoformat(),
                    "until": end.isoformat(),
                    "cursor": following,
                }
            checkpoint.save()
        result.pages += 1
        result.total = page.total if page.total is not None else result.total
        result.skipped += page.skipped
        if on_page:
            on_page(result)
        cursor = following
    return result
