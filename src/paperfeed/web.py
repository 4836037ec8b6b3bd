"""Small request helpers the views of every app share."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str = "/") -> str:
    """Where to go after a form: the request's `next` (POST, then GET) if it stays on this site, else `fallback`.

    Protects against open redirects: other hosts, scheme tricks (`//evil`, `/\\evil`, `http:evil`) and
    `javascript:` all fall back.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def page_number(request: HttpRequest) -> int:
    """The `page` query parameter (1 when absent); a 400 when it is not a number."""
    raw = request.GET.get("page", "1")
    try:
        return max(int(raw), 1)
    except ValueError:
        raise BadRequest(f"page={raw[:20]!r} is not a page number") from None


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it then wants a fragment of the page, not the whole page)."""
    return request.headers.get("HX-Request") == "true"


def sign_in_first(request: HttpRequest, back: str) -> HttpResponse:
    """Send a visitor who is not signed in to the sign-in page, then `back`. An htmx request gets HX-Redirect, which
    htmx follows with a full page load (a 302 it would follow itself and swap the sign-in page into the fragment)."""
    signin = redirect_to_login(back)
    if is_htmx(request):
        return HttpResponse(status=200, headers={"HX-Redirect": signin.url})
    return signin


class NameConverter:
    """A path segment naming something (a username, a collection's slug): like `str`, minus control characters.

    No name holds one, and PostgreSQL refuses text with a NUL in it: such an address is simply not found (404)."""

    regex = r"[^/\x00-\x1f\x7f]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class PaperAddressConverter(NameConverter):
    """What follows /papers/ on a paper's page: its address as written — an arXiv id new style or old
    (`hep-th/9901001`, hence one slash before a digit), with its version if any, or `source:id` where the id may
    hold one such slash (`biorxiv:10.1101/2024.01.01.575001`). Not the addresses of the paper's other routes
    (/vote, /comments, /claim, .bib, .md), so that which view answers never depends on the order routes are
    tried; the view itself says when the address names no paper source knows."""

    regex = r"(?!.*\.(?:md|bib)$)[^/\x00-\x1f\x7f]+(?:/[0-9][^/\x00-\x1f\x7f]*)?"


class UnicodeSlugConverter(NameConverter):
    """A slug as `slugify(allow_unicode=True)` makes it (letters of any script, digits, - and _): never a dot, so
    `/authors/12/ada-lovelace` and `/authors/12/feed.rss` are different routes."""

    regex = r"[-\w]+"
