"""The native JSON API: /api/v1/… with django-ninja; its OpenAPI schema at /api/openapi.json, docs at /api/docs.

Thin: each operation reads its parameters, calls the service the pages call, and shapes the answer (schemas.py).
Lists are page-numbered (`page`, a fixed page size per list, `next`/`previous` URLs); errors are one JSON shape;
requests are rate-limited (security.py). See docs/api.md.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, path, reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from paperfeed.api.security import NO_TOKEN, TokenRefused, limit_message
from paperfeed.api.v1 import reads, writes
from paperfeed.api.v1.common import ApiRefusal
from paperfeed.core.periods import PeriodError

logger = logging.getLogger(__name__)

DESCRIPTION = """
The papers, daily lists, trending, search, organizations and authors of this site, and your votes, submissions
and collections. Reads need no token; writes need an **API token** (make one on your account's settings page),
sent as `Authorization: Bearer <token>`.

**Lists** are page-numbered: ask for `?page=N`; each answer has `page`, `per_page` (fixed per list), `total`,
`pages`, and the absolute URLs `next` and `previous` (null at either end). A page past the last is a 404.

**Errors** are always `{"error": {"status": 404, "message": "…", "details": …}}`; `details` names the
parameter that was wrong where there is one.

**Rate limits**, per minute: 120 requests per client address without a token, 600 per token, of which 30 may be
changes (votes, submissions, collections). Over a limit: 429 with a `Retry-After` header in seconds.
"""

api = NinjaAPI(
    title="paperfeed API",
    version="1",
    description=DESCRIPTION.strip(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


# --- errors: one JSON shape everywhere ---


def error_response(
    request: HttpRequest, status: int, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> HttpResponse:
    body = {"error": {"status": status, "message": message, "details": details}}
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else "Not found."
    return error_response(request, 404, message)


@api.exception_handler(PeriodError)
def _bad_period(request: HttpRequest, exc: PeriodError) -> HttpResponse:
    return error_response(request, 400, str(exc), {"parameter": exc.param})


@api.exception_handler(BadRequest)
def _bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
    return error_response(request, 400, str(exc), getattr(exc, "details", None))


@api.exception_handler(ApiRefusal)
def _refused(request: HttpRequest, exc: ApiRefusal) -> HttpResponse:
    return error_response(request, exc.status, exc.message, exc.details)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [_problem(error) for error in exc.errors]
    message = " ".join(problem["message"] for problem in problems[:3])
    return error_response(request, 422, message, problems)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    invalid = isinstance(exc, TokenRefused) and exc.invalid
    challenge = 'Bearer realm="paperfeed API"' + (', error="invalid_token"' if invalid else "")
    message = exc.message if isinstance(exc, TokenRefused) else NO_TOKEN
    return error_response(request, 401, message, headers={"WWW-Authenticate": challenge})


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    # ninja sets the Retry-After header itself, from the same number of seconds.
    wait = math.ceil(exc.wait) if exc.wait is not None else None
    limit = getattr(request, "api_rate_limit", None)
    return error_response(request, 429, limit_message(limit, wait), {"retry_after": wait})


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if message.startswith("Cannot parse request body"):
        message = "The request body is not JSON: send a JSON object with the header Content-Type: application/json."
    return error_response(request, exc.status_code, message)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(request, 500, "Something went wrong on this site's side. Please try again later.")


_PLACES = {"query": "Query parameter", "path": "Path parameter", "body": "Field", "header": "Header", "form": "Field"}


def _problem(error: dict) -> dict:
    """One of ninja's validation errors in words: which parameter, and what is wrong with it."""
    location = [str(part) for part in error.get("loc", ())]
    place = location[0] if location else ""
    names = location[1:]
    if place == "body" and len(names) > 1:
        names = names[1:]  # ninja puts the body's own parameter name first
    name = ".".join(names) or "the request body"
    what = _PLACES.get(place, "Parameter")
    if error.get("type") == "missing":
        message = f"{what} {name} is required."
    else:
        message = f"{what} {name}: {error.get('msg', 'is not valid')}."
    return {"parameter": name, "in": place, "message": message}


# Votes first: /papers/<id>/vote must be matched before /papers/<id>, whose <id> may hold slashes (hep-th/9901001).
for router in (
    writes.votes,
    reads.papers,
    reads.lists,
    reads.people_router,
    writes.submissions,
    writes.collections,
    writes.accounts,
):
    api.add_router("/v1", router)

# --- URLs: ninja's, with a JSON 405 and a JSON 404 for unknown paths under /api/v1/ ---


def _json_not_allowed(view):
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            return error_response(
                request, 405, f"{request.method} is not allowed here: use {allowed}.", headers={"Allow": allowed}
            )
        return response

    wrapped.csrf_exempt = True  # ninja's views are exempt; tokens, not cookies, authenticate the API
    return wrapped


@csrf_exempt
def api_index(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """/api/ and /api/v1/: where the description of the operations is, for a person or program that starts there."""
    return api.create_response(
        request,
        {
            "name": api.title,
            "version": api.version,
            "docs": request.build_absolute_uri(reverse("api-v1:openapi-view")),
            "openapi": request.build_absolute_uri(reverse("api-v1:openapi-json")),
        },
        status=200,
    )


@csrf_exempt
def unknown_endpoint(request: HttpRequest, rest: str) -> HttpResponse:
    hint = " (leave out the final slash)" if rest.endswith("/") else ""
    return error_response(
        request, 404, f"There is no API endpoint /api/v1/{rest[:100]}{hint}: see /api/docs for what there is."
    )


def _urls() -> list:
    patterns, _, _ = api.urls
    wrapped = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            # ninja's root view only raises a 404 (its name is needed to place the schema's paths): answer an index.
            view = api_index if pattern.name == "api-root" else _json_not_allowed(pattern.callback)
            pattern = URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)
        wrapped.append(pattern)
    return [
        path("api/", (wrapped, "ninja", api.urls_namespace)),
        path("api/v1/", api_index),
        path("api/v1/<path:rest>", unknown_endpoint),
    ]


urlpatterns = _urls()
