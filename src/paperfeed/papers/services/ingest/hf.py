"""`ingest hf-daily`: Hugging Face's daily papers list, as its own source of daily entries.

Hugging Face's upvotes, organization, project page, GitHub repository and submitter are kept on the paper and
its `hf` daily entry, apart from this site's own votes and submissions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from paperfeed.core.periods import Period
from paperfeed.core.sources.hf_daily import HfDailyPaper, HfOrganization, parse_daily_papers
from paperfeed.papers.models import DailyEntry, Organization, Paper
from paperfeed.papers.services.ingest.http import SourceClient
from paperfeed.papers.services.loading import LoadSummary, PaperLoader

PAGE_SIZE = 100  # the most Hugging Face's API returns at once
MAX_PAGES = 50


def fetch_daily_papers(client: SourceClient, period: Period) -> tuple[list[HfDailyPaper], list[tuple[str, str]]]:
    """Every paper of the day, week or month on Hugging Face's list, following its pages."""
    url = f"{settings.PAPERFEED_HF_API_URL.rstrip('/')}/api/daily_papers"
    papers: list[HfDailyPaper] = []
    skipped: list[tuple[str, str]] = []
    for page in range(MAX_PAGES):
        params = {period.param_name: period.value, "limit": str(PAGE_SIZE), "p": str(page)}
        listing = parse_daily_papers(client.get(url, params=params).content)
        papers += listing.papers
        skipped += listing.skipped
        if len(listing.papers) + len(listing.skipped) < PAGE_SIZE:
            break
    return papers, skipped


def _organization(org: HfOrganization | None) -> Organization | None:
    if org is None:
        return None
    slug = slugify(org.name)[:100] or None
    if slug is None:
        return None
    found, _ = Organization.objects.get_or_create(
        slug=slug, defaults={"name": org.fullname or org.name, "url": f"https://huggingface.co/{org.name}"}
    )
    return found


def ingest_hf_daily(client: SourceClient, period: Period) -> tuple[LoadSummary, list[tuple[str, str]]]:
    papers, skipped = fetch_daily_papers(client, period)
    summary = LoadSummary()
    with transaction.atomic():
        written = PaperLoader(source=DailyEntry.Source.HUGGINGFACE).write([p.record for p in papers], summary)
        # What the papers hold now, read in one query rather than one per paper.
        details = {
            row.pop("id"): row
            for row in Paper.objects.filter(pk__in=written.pks.values()).values(
                "id", "hf_upvotes", "project_url", "code_url", "organization_id"
            )
        }
        for paper in papers:
            arxiv_id = paper.record.arxiv_id
            pk = written.pks[arxiv_id]
            # A paper whose only news is Hugging Face's (more upvotes, a project page) counts as updated.
            if _apply_hf_details(pk, details[pk], paper) and arxiv_id in written.unchanged:
                written.unchanged.discard(arxiv_id)
                summary.unchanged -= 1
                summary.updated += 1
    return summary, skipped


def _apply_hf_details(pk: int, current: dict, paper: HfDailyPaper) -> bool:
    """Write Hugging Face's details of one paper over its `current` ones; True if anything changed."""
    organization = _organization(paper.organization)
    wanted = {
        "hf_upvotes": paper.upvotes,
        "project_url": paper.project_page or current["project_url"],
        "code_url": paper.github_repo or current["code_url"],
        "organization_id": organization.pk if organization else current["organization_id"],
    }
    changed = wanted != current
    if changed:
        Paper.objects.filter(pk=pk).update(**wanted)
    if paper.submitted_by:
        DailyEntry.objects.filter(paper_id=pk, day=paper.day, source=DailyEntry.Source.HUGGINGFACE).exclude(
            submitter_name=paper.submitted_by
        ).update(submitter_name=paper.submitted_by[:200])
    return changed
