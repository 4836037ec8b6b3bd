"""`ingest arxiv-oai`: harvest arXiv's OAI-PMH ListRecords, page by page, resumable.

After each page, its papers and the resumption token are committed together, so an interrupted harvest resumes
at the next page and nothing is written twice or half. A finished harvest remembers its `until` day, and the
next run starts from there. Tokens of arXiv's 2025 service expire daily: a rejected token (badResumptionToken)
restarts the window from its first page, which is safe because loading is an upsert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from paperfeed.core.sources.arxiv_oai import OaiRecord, parse_list_records
from paperfeed.papers.models import HarvestState
from paperfeed.papers.services.ingest import IngestError
from paperfeed.papers.services.ingest.http import SourceClient
from paperfeed.papers.services.loading import LoadSummary, PaperLoader


@dataclass
class Harvest:
    summary: LoadSummary = field(default_factory=LoadSummary)
    window: tuple[date, date] | None = None
    pages: int = 0
    deleted: int = 0
    resumed: bool = False  # went on from a checkpoint left by an interrupted run
    restarted: bool = False  # the server rejected the saved token, so the window started again
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.summary.changed or bool(self.deleted)


def state_name(set_spec: str | None, metadata_prefix: str) -> str:
    return f"arxiv-oai:{set_spec or 'all'}:{metadata_prefix}"


def _listed(item: OaiRecord):
    """New papers go on the daily list of the day arXiv made them public (datestamp); revisions do not."""
    record = item.record
    if record.updated is None and (record.version or 1) == 1 and item.datestamp:
        return replace(record, listed_on=item.datestamp)
    return record


def harvest(
    client: SourceClient,
    *,
    set_spec: str | None = None,
    metadata_prefix: str = "arXiv",
    from_: date | None = None,
    until: date | None = None,
    today: date | None = None,
    on_page: Callable[[Harvest], None] | None = None,
) -> Harvest:
    """Harvest [from_, until]; without them, resume an interrupted run or continue from the last one."""
    today = today or timezone.now().date()
    checkpoint, _ = HarvestState.objects.get_or_create(name=state_name(set_spec, metadata_prefix))
    saved = checkpoint.state
    result = Harvest()
    token = None
    if from_ is None and until is None and saved.get("token"):
        start, end, token = (
            date.fromisoformat(saved["from"]),
            date.fromisoformat(saved["until"]),
            saved["token"],
        )
        result.resumed = True
    else:
        last = saved.get("last_until")
        start = from_ or (date.fromisoformat(last) if last else today - timedelta(days=1))
        end = until or today
    if start > end:
        raise IngestError(f"--from {start} is after --until {end}")
    result.window = (start, end)
    loader = PaperLoader()
    while True:
        if token:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {
                "verb": "ListRecords",
                "metadataPrefix": metadata_prefix,
                "from": start.isoformat(),
                "until": end.isoformat(),
            }
            if set_spec:
                params["set"] = set_spec
        page = parse_list_records(client.get(settings.PAPERFEED_ARXIV_OAI_URL, params=params).content)
        if page.error is not None:
            if page.error.code == "noRecordsMatch":
                break  # nothing (more) in the window: a success with nothing new
            if page.error.code == "badResumptionToken" and token and not result.restarted:
                token, result.restarted = None, True
                continue
            raise IngestError(f"arXiv's OAI-PMH service answered {page.error.code}: {page.error.message}")
        with transaction.atomic():
            loader.write([_listed(item) for item in page.records], result.summary)
            result.deleted += loader.delete(page.deleted)
            token = page.resumption_token
            checkpoint.state = {**saved, "from": start.isoformat(), "until": end.isoformat(), "token": token}
            checkpoint.save()
        result.pages += 1
        result.skipped += page.skipped
        if on_page:
            on_page(result)
        if not token:
            break
    checkpoint.state = {"last_until": end.isoformat(), "last_harvest": timezone.now().isoformat()}
    checkpoint.save()
    return result
