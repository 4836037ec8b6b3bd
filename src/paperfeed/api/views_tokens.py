"""The API tokens of the signed-in user: make one (its secret shown once), see them, revoke one.

The list and the form are a section of the settings page (templatetags/api_tokens.py); /accounts/tokens is the
same section on a page of its own, which also answers a form that needs correcting.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from paperfeed.api.services import tokens
from paperfeed.web import safe_next


def _back(request: HttpRequest) -> str:
    return safe_next(request, reverse("account_settings") + "#api-tokens")


def _tokens_page(request: HttpRequest, name: str = "", error: str = "", status: int = 200) -> HttpResponse:
    context = {"tokens": tokens.tokens_of(request.user), "name": name, "error": error, "next": _back(request)}
    return render(request, "api/tokens.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _tokens_page(request)
    name = request.POST.get("name", "")
    try:
        made = tokens.create_token(request.user, name)
    except tokens.TokenRefused as refused:
        return _tokens_page(request, name=name[:200], error=str(refused), status=400)
    # The secret is on this page only: not stored, not cached, not in a redirect's URL.
    context = {"token": made.token, "secret": made.secret, "back": _back(request)}
    return render(request, "api/token_created.html", context)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    revoked = tokens.revoke_token(request.user, token_id)
    if revoked is None:
        raise Http404("You have no such API token: it may have been revoked already.")
    messages.success(request, f"The token “{revoked.name}” ({revoked.prefix}…) is revoked: it no longer works.")
    return HttpResponseRedirect(_back(request), status=303)


urlpatterns = [
    path("accounts/tokens", api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:token_id>/revoke", api_token_revoke, name="api_token_revoke"),
]
