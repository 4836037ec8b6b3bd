"""The page cache inside Django: first in MIDDLEWARE. Answers hits (when the WSGI hit path did not already), renders
and keeps misses, and marks what the cache may not share as private."""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from paperfeed.pagecache import pages


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found: pages.Found | None = request.META.pop(pages.FOUND, None)
        ask = found.ask if found is not None else pages.question(request.META)
        if ask is None:
            return _private(request, self.get_response(request))
        if found is None:
            found = pages.find(ask)
            if found is None:
                return _private(request, self.get_response(request))
            if found.entry is not None:
                return _response(pages.answer(found.entry, request.META, ask, "hit"))
        with pages.building(found) as made:
            if made is not None:
                how = "hit" if made.fresh(found.state, time.time()) else "stale"
                return _response(pages.answer(made, request.META, ask, how))
            if ask.head:
                request.method = "GET"  # render the whole page once, for HEAD and GET alike
            response = self.get_response(request)
            request.method = request.META["REQUEST_METHOD"]
            used_token = bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))
            route = _route(request)
            kept = pages.keep(found, response, used_token, route, request.GET) if route in pages.SHARED_ROUTES else None
        if kept is None:
            if ask.head and not response.streaming:
                response.content = b""  # Content-Length stays that of GET, as HTTP asks
            return _private(request, response)
        return _response(pages.answer(kept, request.META, ask, "miss"), response)


def _route(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else None


def _private(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """On a route the cache shares, an answer it does not share (signed in, a cookie set, an error) is marked so
    that no proxy or CDN shares it either."""
    if pages.is_shared_route(_route(request)):
        if "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ("Cookie",))
    return response


def _response(answer: tuple[int, list[tuple[str, str]], bytes], rendered: HttpResponse | None = None) -> HttpResponse:
    """The answer as a response: the one just rendered, rewritten (its closing is what tells Django the request is
    over), or a new one."""
    status, headers, body = answer
    response = rendered if rendered is not None else HttpResponse()
    response.status_code = status
    for name in list(response.headers):
        del response.headers[name]
    for name, value in headers:
        response.headers[name] = value
    response.content = body
    return response
