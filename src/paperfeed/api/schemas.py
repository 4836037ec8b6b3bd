"""The JSON shapes of the native API (/api/v1), and how paper cards, collections and people become them.

Every list is the same envelope (Paged): `page`, `per_page`, `total`, `pages`, absolute `next` / `previous` URLs
(null at either end) and `results`. Every error is `{"error": {"status", "message", "details"}}` (ErrorOut).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.paginator import Page
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Schema

from paperfeed.community.models import Collection
from paperfeed.core.periods import Period
from paperfeed.papers.models import Author, Organization, Paper
from paperfeed.papers.services.cards import PaperCard

# --- errors ---


class ErrorBody(Schema):
    status: int = Field(description="The HTTP status, repeated.")
    message: str = Field(description="What went wrong and what to do, in words for a person.")
    details: Any = Field(None, description="More, where there is more: e.g. the parameter that was wrong.")


class ErrorOut(Schema):
    error: ErrorBody


# --- building blocks ---


class OrganizationRef(Schema):
    slug: str
    name: str
    homepage: str | None = Field(description="The organization's own site, if known.")
    url: str = Field(description="This organization in the API.")
    page_url: str = Field(description="Its page on this site.")


class AuthorRef(Schema):
    id: int
    name: str
    url: str = Field(description="This author in the API.")
    page_url: str = Field(description="Their page on this site.")


class PaperLinks(Schema):
    page: str = Field(description="The paper's page on this site.")
    api: str = Field(description="The paper in this API.")
    arxiv: str | None = Field(description="The abstract page on arXiv (papers on arXiv).")
    source: str = Field(description="The paper on its source's own site (arXiv's abstract page for arXiv papers).")
    pdf: str | None
    code: str | None = None
    project: str | None = None


class PaperSummary(Schema):
    """A paper as lists show it: what a card on the site shows."""

    id: str = Field(
        description="The paper's address: its arXiv id, or source:id for a paper of another source.",
        examples=["2606.00001", "biorxiv:10.1101/2024.01.01.575001"],
    )
    source: str = Field(description="Where it comes from.", examples=["arxiv", "biorxiv"])
    arxiv_id: str | None = Field(description="Its arXiv id, when it is on arXiv.", examples=["2606.00001"])
    title: str
    abstract: str
    authors: list[str] = Field(description="Author names, in the paper's order.")
    categories: list[str] = Field(description="arXiv categories, the primary one first.")
    primary_category: str
    published: date | None = Field(description="First announced on arXiv.")
    updated: date | None = Field(description="Last revised, when later than published.")
    listed_on: date | None = Field(description="The day it is on the daily list (in the period asked for).")
    upvotes: int
    comment_count: int
    submitted_by: str | None = Field(description="Username of the member who submitted it to the daily list.")
    organization: OrganizationRef | None
    links: PaperLinks


class SearchHit(PaperSummary):
    title_html: str = Field(description="The title, HTML-escaped, with <mark> around the words that matched.")
    snippet_html: str = Field(description="A passage of the abstract, HTML-escaped, matches marked.")


class PaperDetail(PaperSummary):
    """Everything about one paper."""

    version: int | None = Field(description="The latest arXiv version this site knows.")
    comment: str = Field(description="The authors' comment on arXiv (pages, venue…).")
    doi: str
    journal_ref: str
    hf_upvotes: int = Field(description="Upvotes imported from Hugging Face (local upvotes are `upvotes`).")
    author_list: list[AuthorRef] = Field(description="The authors with their ids and pages, in order.")
    days: list[date] = Field(description="Every day the paper was on the daily list.")
    similar_url: str = Field(description="Papers similar to this one, in the API.")


# --- lists ---


class Paged(Schema):
    page: int = Field(description="This page's number, from 1.")
    per_page: int = Field(description="Results a full page holds (fixed per list).")
    total: int = Field(description="Results in all pages.")
    pages: int
    next: str | None = Field(description="The URL of the next page; null on the last.")
    previous: str | None = Field(description="The URL of the previous page; null on the first.")


class PaperPage(Paged):
    results: list[PaperSummary]


class PeriodOut(Schema):
    kind: Literal["day", "week", "month"]
    value: str = Field(description="As the query parameter takes it: 2026-06-30, 2026-W27 or 2026-06.")
    start: date
    end: date = Field(description="The last day, inclusive.")
    label: str
    url: str = Field(description="This period's list in the API.")


class DailyPage(PaperPage):
    period: PeriodOut | None = Field(description="The period shown; null when the site has no papers yet.")
    previous_period: PeriodOut | None = Field(description="The nearest earlier period of the same kind with papers.")
    next_period: PeriodOut | None = Field(description="The nearest later period of the same kind with papers.")
    sort: Literal["votes", "newest", "stars"]


class TrendingPage(PaperPage):
    by_votes: bool = Field(description="False when nobody voted lately: the results are then the newest papers.")


class SearchPage(Paged):
    q: str
    mode: Literal["hybrid", "keyword", "semantic", "newest"] = Field(
        description="The mode that answered; `newest` when there was no q, only filters."
    )
    relaxed: bool = Field(description="No paper had every word, so these match some of them.")
    capped: bool = Field(description="So many papers matched that only the most recent ones were ranked.")
    meaning_unavailable: bool = Field(
        description="Search by meaning was asked for, but this site has no vector index yet: answered by keyword."
    )
    results: list[SearchHit]


class SimilarOut(Schema):
    id: str = Field(
        description="The paper's address: its arXiv id, or source:id for a paper of another source.",
        examples=["2606.00001", "biorxiv:10.1101/2024.01.01.575001"],
    )
    arxiv_id: str | None
    available: bool = Field(description="False when the paper has no embedding yet or there is no vector index.")
    results: list[PaperSummary]


# --- people ---


class OrganizationOut(OrganizationRef):
    papers_url: str = Field(description="Its papers, newest first, in the API.")


class AuthorOut(AuthorRef):
    confirmed_users: list[str] = Field(description="Usernames moderators confirmed as this author.")
    papers_url: str = Field(description="Their papers, newest first, in the API.")


# --- collections ---


class CollectionOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    public: bool
    owner: str = Field(description="The owner's username.")
    created_at: datetime
    paper_count: int
    url: str = Field(description="This collection in the API.")
    papers_url: str = Field(description="Its papers, most recently added first, in the API.")
    page_url: str = Field(description="Its page on this site (for others only when public).")


class CollectionList(Paged):
    results: list[CollectionOut]


class CollectionIn(Schema):
    name: str = Field(description="Up to 100 characters.", examples=["Reading group"])
    description: str = Field("", description="Up to 2,000 characters.")
    public: bool = Field(False, description="Public collections have a page anyone can see.")


class CollectionPaperIn(Schema):
    arxiv_id: str = Field(
        description="The paper's address: an arXiv id, or source:id.",
        examples=["2606.00001", "biorxiv:10.1101/2024.01.01.575001"],
    )


class CollectionPaperOut(Schema):
    collection: int
    id: str = Field(
        description="The paper's address: its arXiv id, or source:id for a paper of another source.",
        examples=["2606.00001", "biorxiv:10.1101/2024.01.01.575001"],
    )
    arxiv_id: str | None
    in_collection: bool


# --- writes ---


class VoteOut(Schema):
    id: str = Field(
        description="The paper's address: its arXiv id, or source:id for a paper of another source.",
        examples=["2606.00001", "biorxiv:10.1101/2024.01.01.575001"],
    )
    arxiv_id: str | None
    upvotes: int = Field(description="The paper's upvotes after this vote.")
    voted: bool = Field(description="Whether you now upvote it.")


class SubmissionIn(Schema):
    paper: str = Field(description="An arXiv id or link.", examples=["2503.11731", "https://arxiv.org/abs/2503.11731"])


class SubmissionOut(Schema):
    id: str = Field(
        description="The paper's address: its arXiv id, or source:id for a paper of another source.",
        examples=["2606.00001", "biorxiv:10.1101/2024.01.01.575001"],
    )
    arxiv_id: str | None
    day: date = Field(description="The daily list it is now on (today's).")
    fetched: bool = Field(description="True when the paper was new to this site and was fetched from arXiv.")
    paper: PaperSummary


class TokenOut(Schema):
    name: str
    prefix: str
    created_at: datetime


class MeOut(Schema):
    username: str
    display_name: str
    token: TokenOut = Field(description="The token this request was made with.")


# --- from the services' objects to these shapes ---


def absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def api_url(request: HttpRequest, name: str, **kwargs: Any) -> str:
    """The absolute URL of an API operation by its url_name."""
    return absolute(request, reverse(f"api-v1:{name}", kwargs=kwargs))


def organization_ref(request: HttpRequest, org: Organization) -> dict:
    return {
        "slug": org.slug,
        "name": org.name,
        "homepage": org.url or None,
        "url": api_url(request, "organization", slug=org.slug),
        "page_url": absolute(request, reverse("organization", args=[org.slug])),
    }


def organization_out(request: HttpRequest, org: Organization) -> dict:
    return organization_ref(request, org) | {"papers_url": api_url(request, "organization-papers", slug=org.slug)}


def author_ref(request: HttpRequest, author_id: int, name: str) -> dict:
    return {
        "id": author_id,
        "name": name,
        "url": api_url(request, "author", author_id=author_id),
        "page_url": absolute(request, reverse("author", args=[author_id])),
    }


def author_out(request: HttpRequest, author: Author, confirmed_users: list[str]) -> dict:
    return author_ref(request, author.id, author.name) | {
        "confirmed_users": confirmed_users,
        "papers_url": api_url(request, "author-papers", author_id=author.id),
    }


def _links(request: HttpRequest, paper: Paper) -> dict:
    return {
        "page": absolute(request, reverse("paper", args=[paper.address])),
        "api": api_url(request, "paper", arxiv_id=paper.address),
        "arxiv": f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None,
        "source": paper.abs_url,
        "pdf": paper.pdf_url or None,
        "code": paper.code_url or None,
        "project": paper.project_url or None,
    }


def paper_summary(request: HttpRequest, card: PaperCard) -> dict:
    paper = card.paper
    return {
        "id": paper.address,
        "source": paper.source,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(card.authors),
        "categories": list(paper.categories or []),
        "primary_category": paper.primary_category,
        "published": paper.published,
        "updated": paper.updated,
        "listed_on": card.day,
        "upvotes": card.upvotes,
        "comment_count": card.comment_count,
        "submitted_by": card.submitted_by or None,
        "organization": organization_ref(request, paper.organization) if paper.organization else None,
        "links": _links(request, paper),
    }


def search_hit(request: HttpRequest, card: PaperCard) -> dict:
    return paper_summary(request, card) | {"title_html": card.title_html, "snippet_html": card.snippet_html}


def paper_detail(request: HttpRequest, paper: Paper, card: PaperCard) -> dict:
    """`paper` as catalog.paper_by_address returns it (authorships and daily entries prefetched)."""
    return paper_summary(request, card) | {
        "version": paper.version,
        "comment": paper.comment,
        "doi": paper.doi,
        "journal_ref": paper.journal_ref,
        "hf_upvotes": paper.hf_upvotes,
        "author_list": [author_ref(request, a.author_id, a.author.name) for a in paper.authorships.all()],
        "days": sorted({entry.day for entry in paper.daily_entries.all()}),
        "similar_url": api_url(request, "similar", arxiv_id=paper.address),
    }


def period_out(request: HttpRequest, period: Period | None) -> dict | None:
    if period is None:
        return None
    return {
        "kind": period.kind,
        "value": period.value,
        "start": period.start,
        "end": period.end,
        "label": period.label,
        "url": api_url(request, "daily") + "?" + period.query,
    }


def collection_out(request: HttpRequest, collection: Collection, paper_count: int) -> dict:
    owner = collection.owner.username
    return {
        "id": collection.id,
        "name": collection.name,
        "slug": collection.slug,
        "description": collection.description,
        "public": collection.public,
        "owner": owner,
        "created_at": collection.created_at,
        "paper_count": paper_count,
        "url": api_url(request, "collection", collection_id=collection.id),
        "papers_url": api_url(request, "collection-papers", collection_id=collection.id),
        "page_url": absolute(request, reverse("collection", args=[owner, collection.slug])),
    }


def page_link(request: HttpRequest, number: int) -> str:
    """The absolute URL of this request with `page` set to `number`."""
    query = request.GET.copy()
    query["page"] = str(number)
    return absolute(request, f"{request.path}?{query.urlencode()}")


def paged(request: HttpRequest, page: Page, results: list) -> dict:
    """The envelope of one page of a list (a Django Page whose object_list was made into `results`)."""
    return {
        "page": page.number,
        "per_page": page.paginator.per_page,
        "total": page.paginator.count,
        "pages": page.paginator.num_pages,
        "next": page_link(request, page.next_page_number()) if page.has_next() else None,
        "previous": page_link(request, page.previous_page_number()) if page.has_previous() else None,
        "results": results,
    }
