"""The pages: thin views that read the request, call the apps' services and render a template. They live in the
site shell because a page draws on several apps (a paper's page shows its discussion, people and collections)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from paperfeed.community.services import collections as saved_collections
from paperfeed.community.services import comments as comment_threads
from paperfeed.community.services import links as paper_links
from paperfeed.community.services import people
from paperfeed.community.services import reading as own_reading
from paperfeed.core.markdown import MAX_CHARS as MAX_COMMENT_CHARS
from paperfeed.core.periods import PeriodError, containing, parse_period
from paperfeed.core.sources.registry import parse_address, source_named
from paperfeed.papers.retrieval import MODES, FilterError, Filters, SearchRequest, similar_papers, with_code
from paperfeed.papers.services import catalog
from paperfeed.papers.services import listing as listings
from paperfeed.papers.services.cards import cards_for_ids
from paperfeed.papers.services.search import search_papers
from paperfeed.papers.services.trending import trending as trending_papers
from paperfeed.site import export
from paperfeed.web import page_number


def _param(request: HttpRequest, name: str) -> str | None:
    value = request.GET.get(name, "").strip()
    return value or None


@require_safe
def daily(request: HttpRequest) -> HttpResponse:
    try:
        period = parse_period(_param(request, "date"), _param(request, "week"), _param(request, "month"))
    except PeriodError as error:
        raise BadRequest(str(error)) from None
    sort = request.GET.get("sort", "votes")
    if sort not in listings.SORTS:
        raise BadRequest(f"sort={sort[:20]!r} is not a sort order: use votes, newest or stars")
    try:
        code = with_code(request.GET.get("code"))
    except FilterError as error:
        raise BadRequest(str(error)) from None
    # "Hide papers I have read": a signed-in member's switch; anyone else has read nothing here.
    unread = request.GET.get("unread") == "1" and request.user.is_authenticated
    today = timezone.localdate()
    period = period or listings.default_period(today)
    if period is None:
        return render(request, "papers/empty.html")
    leave_out = own_reading.read_ids(request.user) if unread else None
    result = listings.listing(period, sort, page_number(request), with_code=code, leave_out=leave_out)
    views = {kind: containing(kind, period.start) for kind in ("day", "week", "month")}
    context = {"listing": result, "sort": sort, "views": views, "with_code": code, "unread": unread}
    return render(request, "papers/daily.html", context)


@require_safe
def paper_detail(request: HttpRequest, address: str) -> HttpResponse:
    parsed = parse_address(address)
    if parsed is None:
        raise Http404(
            f"{address[:64]} is not a paper id this site can read (an arXiv id such as 2503.11731, or source:id)"
        )
    paper = catalog.paper_by_address(parsed)
    if paper is None:
        source = source_named(parsed.source)
        context = {
            "named": parsed.label if parsed.source != "arxiv" else f"arXiv:{parsed.with_version}",
            "source_label": source.label,
            "source_url": parsed.page_url,
            "source_url_shown": parsed.page_url.split("://", 1)[-1],
            "external_id": parsed.external_id,
        }
        template = "papers/paper_hidden.html" if catalog.is_withheld(parsed) else "papers/paper_missing.html"
        return render(request, template, context, status=404)
    version = parsed.version or paper.version
    source = paper.source_info
    holding, holding_count = saved_collections.public_collections_holding(paper)
    return render(
        request,
        "papers/paper.html",
        {
            "paper": paper,
            "requested_version": parsed.version,
            "abs_url": source.page_url(paper.external_id, version),
            "pdf_url": source.pdf_url(paper.external_id, version) if source.pdf_url else "",
            "days": sorted({entry.day for entry in paper.daily_entries.all()}),
            "similar": cards_for_ids(similar_papers(paper.id) or []),
            "people": people.paper_people(paper, request.user),
            "discussion": comment_threads.discussion(paper, request.user),
            # The private discussions of the viewer's groups: theirs alone, never anyone else's.
            "group_discussions": comment_threads.group_discussions(paper, request.user),
            "comment_max_chars": MAX_COMMENT_CHARS,
            "save_panel": saved_collections.save_panel(request.user, paper),
            "collections_holding": holding,
            "collections_holding_count": holding_count,
            "may_edit_links": request.user.is_authenticated
            and paper_links.editing_problem(request.user, paper) is None,
            # The member's own read mark, queue entry and note: for them alone, never for anyone else.
            "reading": own_reading.state(request.user, paper) if request.user.is_authenticated else None,
            "note_max_chars": MAX_COMMENT_CHARS,
        },
    )


@require_safe
def trending(request: HttpRequest) -> HttpResponse:
    return render(request, "papers/trending.html", {"trending": trending_papers(timezone.now())})


def _filters(request: HttpRequest) -> Filters:
    try:
        return Filters.from_params(
            _param(request, "category"), _param(request, "from"), _param(request, "to"), _param(request, "code")
        )
    except FilterError as error:
        raise BadRequest(str(error)) from None


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    filters = _filters(request)
    mode = request.GET.get("mode") or "hybrid"
    if mode not in MODES:
        raise BadRequest(f"mode={mode[:20]!r} is not a search mode: use {', '.join(MODES)}")
    wanted = SearchRequest(text, mode, filters, page_number(request))
    if not text.strip() and not wanted.is_browse and not request.headers.get("HX-Request"):
        return redirect("daily")  # nothing to look for: the daily list is the best answer
    context = {
        "q": text[:1000],
        "filters": filters,
        "query": wanted.query,
        "mode": mode,
        "modes": MODES,
        "categories": catalog.primary_categories(),
    }
    if wanted.is_browse or wanted.is_search:  # a category's link on a card lists its newest papers
        context["results"] = search_papers(wanted)
    return render(request, "papers/search.html", context)


@never_cache
@login_required
@require_safe
def export_user_data(request: HttpRequest) -> HttpResponse:
    """A member's own data, from every app, as one JSON file (site.export)."""
    data = export.user_data(request.user, request.build_absolute_uri("/").rstrip("/"))
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body + "\n", content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, export.filename(request.user))
    return response
