"""People's public pages at /users/<username>."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_safe

from paperfeed.community.services.profiles import profile_page


@require_safe
def profile(request: HttpRequest, username: str) -> HttpResponse:
    page = profile_page(username, request.user)
    if page is None:
        raise Http404(f"There is no user called {username[:60]}")
    if page.user.username != username:  # /users/Ada for ada: one address per person
        return redirect("profile", page.user.username, permanent=True)
    return render(request, "community/accounts/profile.html", {"page": page})


urlpatterns = [
    path("users/<name:username>", profile, name="profile"),
]
