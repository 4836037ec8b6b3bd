"""Upvotes: POST /papers/<address>/vote, answered with the button itself (htmx) or a redirect back (no JavaScript)."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from paperfeed.community.services.votes import VoteRefused, set_vote, upvotes, votable_paper
from paperfeed.core.sources.registry import parse_address
from paperfeed.web import is_htmx, safe_next, sign_in_first

VOTE_VALUES = {"1": True, "0": False}


@require_POST
def vote(request: HttpRequest, address: str) -> HttpResponse:
    """Upvote (vote=1) or take back an upvote (vote=0); answers htmx with the button, a plain form with a 303."""
    parsed = parse_address(address)
    paper = votable_paper(parsed) if parsed else None
    if paper is None:
        raise Http404(f"There is no paper {address[:64]} to upvote here")
    back = safe_next(request, reverse("paper", args=[paper.address]))
    if not request.user.is_authenticated:
        return sign_in_first(request, back)
    wanted = request.POST.get("vote", "")
    if wanted not in VOTE_VALUES:
        raise BadRequest(f"vote={wanted[:20]!r} is not a vote: send 1 to upvote or 0 to take your upvote back")
    up = VOTE_VALUES[wanted]
    try:
        count = set_vote(request.user, paper, up)
    except VoteRefused as refused:
        if is_htmx(request):
            context = {"paper": paper, "upvotes": upvotes(paper), "vote_next": back, "problem": str(refused)}
            return render(request, "community/_vote.html", context, status=403)
        return render(request, "community/refused.html", {"message": str(refused), "back": back}, status=403)
    if is_htmx(request):
        # The pressed state is known here: no need for the voted_ids query the context processor would make.
        context = {"paper": paper, "upvotes": count, "vote_next": back, "voted_ids": {paper.id} if up else set()}
        return render(request, "community/_vote.html", context)
    return HttpResponseRedirect(back, status=303)


urlpatterns = [
    path("papers/<path:address>/vote", vote, name="vote"),
]
