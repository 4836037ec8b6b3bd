"""`ingest hf-daily`: Hugging Face's daily papers list, as its own source of daily entries.

Hugging Face's upvotes, organization, project page, GitHub repository and submitter are kept on the paper and
its `hf` daily entry, apart from this site's own votes and submissions; its AI summary and keywords, the
repository's stars and the thumbnail's address in the paper's extras. A link a member chose (or removed) stays.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from paperfeed.core.github import repo_of
from paperfeed.core.periods import Period
from paperfeed.core.sources.hf_daily import HfDailyPaper, HfOrganization, parse_daily_papers
from paperfeed.papers.models import DailyEntry, LinkOrigin, Organization, Paper, PaperExtras, SummaryOrigin
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
                "id", "hf_upvotes", "project_url", "code_url", "organization_id", "project_origin", "code_origin"
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
        **current,
        "hf_upvotes": paper.upvotes,
        "organization_id": organization.pk if organization else current["organization_id"],
    }
    for column, origin, url in (
        ("project_url", "project_origin", paper.project_page),
        ("code_url", "code_origin", paper.github_repo),
    ):
        if url and current[origin] != LinkOrigin.MEMBER:
            wanted[column], wanted[origin] = url, LinkOrigin.HUGGINGFACE
    changed = wanted != current
    if changed:
        Paper.objects.filter(pk=pk).update(**wanted)
    changed = _apply_hf_extras(pk, paper, wanted["code_url"]) or changed
    if paper.submitted_by:
        DailyEntry.objects.filter(paper_id=pk, day=paper.day, source=DailyEntry.Source.HUGGINGFACE).exclude(
            submitter_name=paper.submitted_by
        ).update(submitter_name=paper.submitted_by[:200])
    return changed


def _apply_hf_extras(pk: int, paper: HfDailyPaper, code_url: str) -> bool:
    """Hugging Face's summary, stars and thumbnail address into the paper's extras; True if anything changed.

    Its summary replaces one this site's summarizer wrote. Its star count is taken until GitHub itself has
    answered for that repository (the stars refresh is newer)."""
    extras = PaperExtras.objects.filter(paper_id=pk).first()
    wanted: dict[str, object] = {}
    if paper.summary:
        wanted |= {
            "summary": paper.summary,
            "summary_keywords": list(paper.keywords),
            "summary_origin": SummaryOrigin.HUGGINGFACE,
            "summary_model": paper.summary_model or "",
        }
    # Its stars are those of its own githubRepo: they count only while that is the paper's code link.
    repository = repo_of(code_url) if code_url else None
    if paper.github_repo is None or repo_of(paper.github_repo) != repository:
        repository = None
    github_answered = extras is not None and extras.github_checked_at and extras.github_repo == repository
    if paper.github_stars is not None and repository and not github_answered:
        wanted |= {"github_stars": paper.github_stars, "github_repo": repository}
        if extras is not None and extras.github_repo != repository:  # GitHub's last answer was of another one
            wanted |= {"github_etag": "", "github_checked_at": None}
    if paper.thumbnail:
        wanted["hf_thumbnail_url"] = paper.thumbnail
    if extras is None:
        if wanted:
            PaperExtras.objects.create(paper_id=pk, **wanted)
        return bool(wanted)
    changes = {name: value for name, value in wanted.items() if getattr(extras, name) != value}
    if changes:
        PaperExtras.objects.filter(pk=pk).update(**changes)
    return bool(changes)
