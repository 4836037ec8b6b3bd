"""The read-only operations of /api/v1: papers, similar papers, the daily list, trending, search, organizations
and authors. Anyone may call them; a token, when sent, raises the rate limit."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router

from paperfeed.api import schemas as out
from paperfeed.api.v1.common import MAX_ID, PAGE, READ, blank, card_page, check_page, paper_or_404, responses
from paperfeed.community.services import people
from paperfeed.core.periods import parse_day, parse_period
from paperfeed.core.search_query import MAX_QUERY_CHARS
from paperfeed.papers.retrieval import PAGE_SIZE as SEARCH_PAGE_SIZE
from paperfeed.papers.retrieval import Filters, SearchRequest, similar_papers
from paperfeed.papers.services import listing as listings
from paperfeed.papers.services.cards import cards_for_ids
from paperfeed.papers.services.search import search_papers
from paperfeed.papers.services.trending import TRENDING_SIZE
from paperfeed.papers.services.trending import trending as trending_papers

SIMILAR_DEFAULT, SIMILAR_MAX = 6, 20

# --- papers ---

papers = Router(tags=["Papers"])


@papers.get(
    "/papers/{path:arxiv_id}/similar",
    response=responses(out.SimilarOut, 401, 404),
    url_name="similar",
    summary="Papers similar to a paper",
    **READ,
)
def similar(request: HttpRequest, arxiv_id: str, limit: int = Query(SIMILAR_DEFAULT, ge=1, le=SIMILAR_MAX)) -> dict:
    """The papers nearest in meaning to this one (by their embeddings), nearest first."""
    paper = paper_or_404(arxiv_id)
    ids = similar_papers(paper.id, k=limit)
    results = [out.paper_summary(request, card) for card in cards_for_ids(ids or [])]
    return {"id": paper.address, "arxiv_id": paper.arxiv_id, "available": ids is not None, "results": results}


@papers.get(
    "/papers/{path:arxiv_id}",
    response=responses(out.PaperDetail, 401, 404),
    url_name="paper",
    summary="A paper",
    **READ,
)
def paper(request: HttpRequest, arxiv_id: str) -> dict:
    """A paper by its address: its arXiv id (a version suffix such as v2 is accepted and ignored), or source:id."""
    found = paper_or_404(arxiv_id)
    return out.paper_detail(request, found, cards_for_ids([found.id])[0])


# --- lists: daily, trending, search ---

lists = Router(tags=["Lists"])


@lists.get(
    "/daily", response=responses(out.DailyPage, 400, 401, 404), url_name="daily", summary="The daily list", **READ
)
def daily(
    request: HttpRequest,
    date: str | None = Query(None, description="A day: YYYY-MM-DD.", examples=["2026-06-30"]),
    week: str | None = Query(None, description="An ISO week: YYYY-Www.", examples=["2026-W27"]),
    month: str | None = Query(None, description="A month: YYYY-MM.", examples=["2026-06"]),
    sort: Literal["votes", "newest", "stars"] = Query(
        "votes", description="Most upvoted first, newest first, or most GitHub stars first."
    ),
    code: bool = Query(False, description="Only papers with a code link."),
    page: int = PAGE,
) -> dict:
    """The papers of a day, week or month (at most one of date, week, month; none: the latest day with papers)."""
    period = parse_period(blank(date), blank(week), blank(month))
    period = period or listings.default_period(timezone.localdate())
    if period is None:
        empty = Paginator([], listings.PAGE_SIZE).page(1)
        check_page(page, 1)
        return out.paged(request, empty, []) | {
            "period": None,
            "previous_period": None,
            "next_period": None,
            "sort": sort,
        }
    result = listings.listing(period, sort, page, with_code=code)
    return card_page(request, result.page, page) | {
        "period": out.period_out(request, result.period),
        "previous_period": out.period_out(request, result.previous),
        "next_period": out.period_out(request, result.next),
        "sort": sort,
    }


@lists.get(
    "/trending", response=responses(out.TrendingPage, 401, 404), url_name="trending", summary="Trending papers", **READ
)
def trending(request: HttpRequest, page: int = PAGE) -> dict:
    """The papers upvoted most lately, recent votes counting most (the site's /trending)."""
    result = trending_papers(timezone.now())
    found = Paginator(result.cards, TRENDING_SIZE)
    check_page(page, found.num_pages)
    return card_page(request, found.page(page), page) | {"by_votes": result.has_votes}


def _filters(date_from: str | None, date_to: str | None, category: str | None, code: bool = False) -> Filters:
    start = parse_day(date_from, "from") if blank(date_from) else None
    end = parse_day(date_to, "to") if blank(date_to) else None
    if start and end and start > end:
        error = BadRequest(f"from={start} is after to={end}: swap them.")
        error.details = {"parameter": "from"}
        raise error
    return Filters(category=blank(category), date_from=start, date_to=end, with_code=code)


@lists.get(
    "/search", response=responses(out.SearchPage, 400, 401, 404), url_name="search", summary="Search papers", **READ
)
def search(
    request: HttpRequest,
    q: str = Query(
        "",
        max_length=MAX_QUERY_CHARS,
        description="Words, “phrases”, -excluded, prefix*. Without q, the newest papers that pass the filters.",
    ),
    mode: Literal["hybrid", "keyword", "semantic"] = Query(
        "hybrid", description="By keyword, by meaning, or both fused."
    ),
    category: str | None = Query(None, max_length=32, description="Only papers in this arXiv category."),
    date_from: str | None = Query(None, alias="from", description="Published on or after: YYYY-MM-DD."),
    date_to: str | None = Query(None, alias="to", description="Published on or before: YYYY-MM-DD."),
    code: bool = Query(False, description="Only papers with a code link."),
    page: int = PAGE,
) -> dict:
    """Papers matching `q`, best first, with the matched words marked (the site's /search); without `q`, the
    newest papers in a category or between dates."""
    filters = _filters(date_from, date_to, category, code)
    envelope = {"q": q, "mode": mode, "relaxed": False, "capped": False, "meaning_unavailable": False}
    wanted = SearchRequest(q, mode, filters, page)
    if not q.strip() and not filters:
        error = BadRequest("Give q, the words to look for, or a category, from, to or code to list the newest papers.")
        error.details = {"parameter": "q"}
        raise error
    if not wanted.is_browse and not wanted.is_search:
        check_page(page, 1)  # nothing to look for: only excluded words, or only punctuation
        paging = {"page": 1, "per_page": SEARCH_PAGE_SIZE, "total": 0, "pages": 1, "next": None, "previous": None}
        return envelope | paging | {"results": []}
    found = search_papers(wanted)
    check_page(page, found.pages)
    return envelope | {
        "mode": found.mode,
        "relaxed": found.relaxed,
        "capped": False,  # kept for clients of earlier versions: every match is ranked
        "meaning_unavailable": found.meaning_unavailable,
        "page": found.page,
        "per_page": SEARCH_PAGE_SIZE,
        "total": found.total,
        "pages": found.pages,
        "next": out.page_link(request, found.page + 1) if found.has_next else None,
        "previous": out.page_link(request, found.page - 1) if found.has_previous else None,
        "results": [out.search_hit(request, card) for card in found.cards],
    }


# --- organizations and authors ---

people_router = Router(tags=["Organizations and authors"])


def _organization(slug: str):
    # No slug holds a NUL character (and PostgreSQL refuses text that does): not found, like any unknown slug.
    found = None if "\x00" in slug else people.organization_by_slug(slug)
    if found is None:
        raise Http404(f"There is no organization “{slug[:100]}” on this site.")
    return found


def _author(author_id: int):
    found = people.author_by_id(author_id)
    if found is None:
        raise Http404(f"There is no author number {author_id} on this site.")
    return found


@people_router.get(
    "/organizations/{slug}",
    response=responses(out.OrganizationOut, 401, 404),
    url_name="organization",
    summary="An organization",
    **READ,
)
def organization(request: HttpRequest, slug: str) -> dict:
    """A lab or company papers are attributed to."""
    return out.organization_out(request, _organization(slug))


@people_router.get(
    "/organizations/{slug}/papers",
    response=responses(out.PaperPage, 401, 404),
    url_name="organization-papers",
    summary="An organization's papers",
    **READ,
)
def organization_papers(request: HttpRequest, slug: str, page: int = PAGE) -> dict:
    """The organization's papers, newest first."""
    return card_page(request, people.organization_papers(_organization(slug), page), page)


AUTHOR_ID = Path(..., ge=1, le=MAX_ID, description="The author's number, as in /authors/<id> on the site.")


@people_router.get(
    "/authors/{author_id}", response=responses(out.AuthorOut, 401, 404), url_name="author", summary="An author", **READ
)
def author(request: HttpRequest, author_id: int = AUTHOR_ID) -> dict:
    """An author (a name as papers list it), with the members confirmed as them."""
    found = _author(author_id)
    return out.author_out(request, found, people.confirmed_users(found))


@people_router.get(
    "/authors/{author_id}/papers",
    response=responses(out.PaperPage, 401, 404),
    url_name="author-papers",
    summary="An author's papers",
    **READ,
)
def author_papers(request: HttpRequest, author_id: int = AUTHOR_ID, page: int = PAGE) -> dict:
    """The author's papers, newest first."""
    return card_page(request, people.author_papers(_author(author_id), page), page)
