"""Organization and author pages, and claiming one's name on a paper (POST /papers/<address>/claim)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_safe

from paperfeed.community.services import people
from paperfeed.core.sources.registry import parse_address
from paperfeed.web import is_htmx, page_number, sign_in_first


def _see_other(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url, status=303)


@require_safe
def organization(request: HttpRequest, slug: str) -> HttpResponse:
    found = people.organization_by_slug(slug)
    if found is None:
        raise Http404(f"There is no organization “{slug}” on this site")
    page = people.organization_papers(found, page_number(request))
    return render(request, "community/organization.html", {"organization": found, "page": page})


@require_safe
def author(request: HttpRequest, author_id: int, slug: str | None = None) -> HttpResponse:
    found = people.author_by_id(author_id)
    if found is None:
        raise Http404(f"There is no author number {author_id} on this site")
    canonical = people.author_slug(found.name)
    if (slug or "") != canonical:  # one address per author: /authors/12/ada-lovelace
        target = reverse("author-slug", args=[found.id, canonical]) if canonical else reverse("author", args=[found.id])
        query = request.GET.urlencode()
        return HttpResponseRedirect(target + (f"?{query}" if query else ""), status=301)
    page = people.author_papers(found, page_number(request))
    context = {"author": found, "page": page, "confirmed_users": people.confirmed_users(found)}
    return render(request, "community/author.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def claim_authorship(request: HttpRequest, address: str) -> HttpResponse:
    parsed = parse_address(address)
    if parsed is None:
        raise Http404(
            f"{address[:64]} is not a paper id this site can read (an arXiv id such as 2503.11731, or source:id)"
        )
    back = f"{reverse('paper', args=[str(parsed)])}#claim"
    if request.method != "POST":
        return _see_other(back)  # the form lives on the paper page
    if not request.user.is_authenticated:
        return sign_in_first(request, back)
    paper = people.claimable_paper(parsed)
    if paper is None:
        raise Http404(f"{parsed.label} is not on this site, so no one can claim it")
    try:
        people.claim_authorship(request.user, paper, request.POST.get("author", ""))
    except people.ClaimRefused as refused:
        if is_htmx(request):
            # 200, with the reason inside the box: htmx swaps in only successful answers.
            box = people.paper_people(paper, request.user, message=refused.message).claim_box
            return render(request, "community/_claim.html", {"paper": paper, "box": box})
        context = {
            "heading": "Your claim was not recorded",
            "message": refused.message,
            "back": reverse("paper", args=[paper.address]) + "#claim",
            "back_label": f"Back to “{paper.title}”",
        }
        return render(request, "community/refused.html", context, status=refused.status)
    if is_htmx(request):
        box = people.paper_people(paper, request.user).claim_box
        return render(request, "community/_claim.html", {"paper": paper, "box": box})
    return _see_other(back)


urlpatterns = [
    path("organizations/<slug:slug>", organization, name="organization"),
    path("authors/<int:author_id>", author, name="author"),
    path("authors/<int:author_id>/<uslug:slug>", author, name="author-slug"),
    path("papers/<path:address>/claim", claim_authorship, name="claim-authorship"),
]
