"""A paper's code and project links, changed by its submitter, confirmed authors or a moderator:
POST /papers/<address>/links with `code` and `project` (empty removes one); the form is on the paper page."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from paperfeed.community.services import links
from paperfeed.core.sources.registry import parse_address
from paperfeed.papers.models import Paper


@require_POST
def change_links(request: HttpRequest, address: str) -> HttpResponse:
    parsed = parse_address(address)
    paper = Paper.objects.visible().named(parsed).first() if parsed else None
    if paper is None:
        raise Http404(f"There is no paper {address[:64]} here to change the links of")
    back = reverse("paper", args=[paper.address]) + "#links"
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    wanted = {kind: request.POST[kind] for kind in links.KINDS if kind in request.POST}
    try:
        links.change_links(request.user, paper, wanted, links.site_hosts(request.get_host()))
    except links.LinksRefused as refused:
        context = {
            "heading": "The links were not changed",
            "message": str(refused),
            "back": back,
            "back_label": f"Back to “{paper.title}”",
        }
        return render(request, "community/refused.html", context, status=refused.status)
    return HttpResponseRedirect(back, status=303)


urlpatterns = [
    path("papers/<path:address>/links", change_links, name="paper-links"),
]
