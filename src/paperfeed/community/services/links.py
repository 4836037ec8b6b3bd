"""Code and project links that people give, as on Hugging Face: the member who submitted a paper, its confirmed
authors and moderators may add, change or remove them. Each change is kept (LinkChange, in the admin for
moderators), and a link a member chose, or removed, is never overwritten by a later ingest (Paper.code_origin).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http.request import split_domain_port

from paperfeed.community.models import AuthorClaim, LinkChange
from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.github import repo_of
from paperfeed.core.links import LinkError, check_link
from paperfeed.papers.models import DailyEntry, LinkOrigin, Paper, PaperExtras

# What each kind of link is called, and the paper's columns it is kept in.
KINDS = {
    LinkChange.Kind.CODE: ("Code", "code_url", "code_origin"),
    LinkChange.Kind.PROJECT: ("Project page", "project_url", "project_origin"),
}


@dataclass
class LinksRefused(Exception):
    """Why nothing was changed: `message` for the whole request, `problems` by kind of link."""

    message: str = ""
    problems: dict[str, str] = field(default_factory=dict)
    status: int = 400

    def __str__(self) -> str:
        return self.message or "; ".join(self.problems.values())


def editing_problem(user: AbstractBaseUser | AnonymousUser, paper: Paper) -> str | None:
    """Why this user may not change the paper's links, in words for them; None when they may."""
    problem = posting_problem(user, needs_verified_email=False)
    if problem:
        return problem
    if user.is_staff:
        return None
    submitted = DailyEntry.objects.filter(paper=paper, source=DailyEntry.Source.SUBMISSION, submitted_by=user)
    confirmed = AuthorClaim.objects.filter(paper=paper, user=user, status=AuthorClaim.Status.APPROVED)
    if submitted.exists() or confirmed.exists():
        return None
    return "Only the member who submitted this paper, its confirmed authors and moderators can change its links."


def site_hosts(request_host: str = "") -> set[str]:
    """The host names of this site, which a paper's link may not point at."""
    hosts = {host.lstrip(".").lower() for host in settings.ALLOWED_HOSTS if host not in ("*", "")}
    hosts.add((urlsplit(settings.PAPERFEED_SITE_URL).hostname or "").lower())
    if request_host:
        hosts.add(split_domain_port(request_host)[0])
    return {host.strip("[]") for host in hosts if host}


def change_links(
    user: AbstractBaseUser, paper: Paper, wanted: Mapping[str, str], hosts: Collection[str] = ()
) -> list[LinkChange]:
    """Set the links given in `wanted` (kind → URL, empty to remove); all of them or none. Returns the changes
    made (none when the links were already these)."""
    problem = editing_problem(user, paper)
    if problem:
        raise LinksRefused(problem, status=403)
    cleaned: dict[str, str] = {}
    problems: dict[str, str] = {}
    for kind, value in wanted.items():
        if kind not in KINDS:
            continue
        try:
            cleaned[kind] = check_link(value, hosts) if value.strip() else ""
        except LinkError as error:
            problems[kind] = f"{KINDS[kind][0]}: {error}"
    if problems:
        raise LinksRefused(problems=problems)
    with transaction.atomic():
        current = Paper.objects.select_for_update().get(pk=paper.pk)
        changes = []
        for kind, value in cleaned.items():
            _, column, origin = KINDS[kind]
            before = getattr(current, column)
            if value == before:
                continue
            setattr(current, column, value)
            setattr(current, origin, LinkOrigin.MEMBER)
            changes.append(
                LinkChange(
                    paper=current, user=user, username=user.get_username(), kind=kind, before=before, after=value
                )
            )
        if changes:
            columns = [KINDS[change.kind][i] for change in changes for i in (1, 2)]
            current.save(update_fields=columns)
            LinkChange.objects.bulk_create(changes)
            if any(change.kind == LinkChange.Kind.CODE for change in changes):
                # Stars belong to a repository: those of the old one are not shown for the new one; the next
                # refresh asks GitHub about the new one.
                PaperExtras.objects.filter(paper=current).exclude(github_repo=repo_of(current.code_url) or "").update(
                    github_stars=None, github_repo="", github_etag="", github_checked_at=None
                )
    for change in changes:
        _, column, origin = KINDS[change.kind]
        setattr(paper, column, getattr(current, column))
        setattr(paper, origin, getattr(current, origin))
    return changes
