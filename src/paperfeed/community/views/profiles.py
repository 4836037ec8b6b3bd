"""People's public pages at /users/<username>, and the usernames the comment form's @mention autocomplete offers."""

from __future__ import annotations

import math

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_safe

from paperfeed.community.services import mentions
from paperfeed.community.services.profiles import profile_page


@require_safe
def profile(request: HttpRequest, username: str) -> HttpResponse:
    page = profile_page(username, request.user)
    if page is None:
        raise Http404(f"There is no user called {username[:60]}")
    if page.user.username != username:  # /users/Ada for ada: one address per person
        return redirect("profile", page.user.username, permanent=True)
    return render(request, "community/accounts/profile.html", {"page": page})


@require_safe
def mention_suggestions(request: HttpRequest) -> JsonResponse:
    """`?q=pre`: members whose username starts with `pre` (at most 8), for members only, a few a second at most."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Sign in to look up members."}, status=403)
    key = str(request.user.pk)
    limit = mentions.LOOKUPS_PER_USER
    if not limit.allowed(key):
        wait = max(1, math.ceil(limit.wait(key).total_seconds()))
        response = JsonResponse({"error": f"Too many look-ups: try again in {wait} seconds."}, status=429)
        response["Retry-After"] = str(wait)
        return response
    limit.hit(key)
    found = mentions.usernames_starting(request.GET.get("q", "")[:30])
    response = JsonResponse({"members": [{"username": s.username, "name": s.name} for s in found]})
    response["Cache-Control"] = "private, max-age=60"
    return response


urlpatterns = [
    # Before the profiles: "mentions" is a reserved username.
    path("users/mentions", mention_suggestions, name="mention-suggestions"),
    path("users/<name:username>", profile, name="profile"),
]
