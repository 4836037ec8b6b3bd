"""The For you page and its "Not interested" button."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from paperfeed.core.sources.registry import parse_address
from paperfeed.recommend.services import ranking
from paperfeed.recommend.services.dismissals import DismissalRefused, dismissable_paper, set_dismissed
from paperfeed.recommend.services.library import library_size
from paperfeed.web import is_htmx, page_number, safe_next, sign_in_first

_CATEGORY = re.compile(r"[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?")
FORM_FIELDS = ("categories", "include", "exclude")
MAX_FIELD_CHARS = 2000


def _form_filters(request: HttpRequest) -> tuple[ranking.HardFilters | None, dict[str, str], list[str]]:
    """The filters the page's form asks for (None: not submitted, use the digest settings' ones), its raw values,
    and what is wrong with them."""
    raw = {name: request.GET.get(name, "")[:MAX_FIELD_CHARS] for name in FORM_FIELDS}
    if request.GET.get("filters") != "form":
        return None, raw, []
    problems = []
    categories = [c for c in re.split(r"[\s,]+", raw["categories"]) if c]
    for category in categories:
        if not _CATEGORY.fullmatch(category) or len(category) > 32:
            problems.append(f"“{category[:40]}” is not an arXiv category; write them like cs.CL or stat.ML.")
    include, exclude = ranking.split_terms(raw["include"]), ranking.split_terms(raw["exclude"])
    for name, values in (("categories", categories), ("words to include", include), ("words to leave out", exclude)):
        if len(values) > ranking.MAX_FILTER_TERMS:
            problems.append(f"Give at most {ranking.MAX_FILTER_TERMS} {name}, not {len(values)}.")
    return ranking.HardFilters.build(categories, include, exclude, source="form"), raw, problems


@login_required
@require_safe
def for_you(request: HttpRequest) -> HttpResponse:
    """Recent papers ranked for the signed-in user, with the reason for each."""
    filters, raw, problems = _form_filters(request)
    page = page_number(request)
    context = {"form": raw, "problems": problems, "library": library_size(request.user)}
    if problems:
        return render(request, "recommend/for_you.html", context, status=400)
    result = ranking.for_you(request.user, page=page, filters=filters)
    if filters is None:  # show the digest settings' filters in the form, so they can be changed here
        context["form"] = {
            "categories": ", ".join(result.filters.categories),
            "include": ", ".join(result.filters.include),
            "exclude": ", ".join(result.filters.exclude),
        }
    context.update(result=result, here=request.get_full_path())
    return render(request, "recommend/for_you.html", context)


@require_POST
def not_interested(request: HttpRequest, address: str) -> HttpResponse:
    """Dismiss a paper from For you (undo=1 takes that back); htmx gets the card's replacement, a form a 303."""
    parsed = parse_address(address)
    paper = dismissable_paper(parsed) if parsed else None
    if paper is None:
        raise Http404(f"There is no paper {address[:64]} here")
    back = safe_next(request, reverse("for-you"))
    if not request.user.is_authenticated:
        return sign_in_first(request, back)
    undo = request.POST.get("undo") == "1"
    try:
        set_dismissed(request.user, paper, dismissed=not undo)
    except DismissalRefused as refused:
        return render(request, "community/refused.html", {"message": str(refused), "back": back}, status=403)
    if is_htmx(request):
        return render(request, "recommend/_dismissed.html", {"paper": paper, "undone": undo, "back": back})
    if undo:
        messages.success(request, f"“{paper.title}” may be recommended to you again.")
    else:
        messages.success(request, f"You will not see “{paper.title}” in For you again.")
    return HttpResponseRedirect(back, status=303)


urlpatterns = [
    path("for-you", for_you, name="for-you"),
    path("for-you/not-interested/<path:address>", not_interested, name="not-interested"),
]
