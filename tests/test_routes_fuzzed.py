"""Every route of the site, not only the API, asked with hostile input in its path and its parameters: control
characters, invalid UTF-8, overlong and out-of-range numbers and dates, traversal and markup. Never a 5xx.

(The native API has its own schema-driven fuzzing with schemathesis in test_api_schema; this covers the pages, the
feeds, the Hugging Face-compatible API and everything else the URL configuration routes.)"""

import logging
import re

import pytest
from django.urls import URLResolver, get_resolver

pytestmark = pytest.mark.django_db

HOSTILE = [
    "%00abc",  # NUL: PostgreSQL refuses text holding one
    "%01abc",
    "%ff%fe",  # not UTF-8
    "%C0%AF",  # an overlong encoding of "/"
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "2026-13-45",
    "0000-00-00",
    "..%2F..%2Fetc%2Fpasswd",
    "%E2%80%AE",  # right-to-left override
    "a" * 3000,
    "%22%3E%3Cscript%3E",
    "2606.00001v99",
]
PARAMETERS = [
    "q",
    "page",
    "date",
    "from",
    "to",
    "category",
    "mode",
    "sort",
    "limit",
    "p",
    "week",
    "month",
    "submitter",
    "next",
    "format",
    "k",
    "skip",
]


def routes() -> list[str]:
    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    # The admin is Django's own (and asks for a staff sign-in first); regex routes are static files.
    return sorted({r for r in walk(get_resolver()) if not r.startswith(("admin", "^"))})


def test_the_route_list_is_the_whole_site(db):
    found = set(routes())
    assert {"", "search", "trending", "papers/<paper:address>", "api/daily_papers", "api/papers/search"} <= found
    assert any(r.startswith("feeds/") for r in found) and any(r.startswith("api/v1/") for r in found)
    assert any(r.startswith("digest/") for r in found) and any(r.startswith("accounts/") for r in found)


def test_a_route_that_fails_on_hostile_input_is_caught(client, corpus, monkeypatch, caplog):
    """The sweep below can fail: a search view that breaks on a control character is reported."""

    def patterns(resolver):
        for pattern in resolver.url_patterns:
            yield from patterns(pattern) if isinstance(pattern, URLResolver) else [pattern]

    search = next(p for p in patterns(get_resolver()) if p.name == "search" and str(p.pattern) == "search")
    original = search.callback

    def fragile(request, *args, **kwargs):
        if "\x01" in request.GET.get("q", ""):
            raise ValueError("not ready for control characters")
        return original(request, *args, **kwargs)

    monkeypatch.setattr(search, "callback", fragile)
    assert sweep(client, "%01abc", caplog, only=["search"]) == [(500, "/search?q=%01abc")]


def sweep(client, value: str, caplog, only: list[str] | None = None) -> list[tuple[int, str]]:
    """Every route (or `only` these) with `value` in each path parameter and then in each query parameter."""
    client.raise_request_exception = False
    failures = []
    for route in only or routes():
        path = "/" + re.sub(r"<[^>]+>", value, route)
        for query in ["", *(f"{name}={value}" for name in PARAMETERS)]:
            url = path + ("?" + query if query else "")
            with caplog.at_level(logging.CRITICAL):
                status = client.get(url).status_code
            if status >= 500:
                failures.append((status, url[:200]))
    return failures


@pytest.mark.parametrize("value", HOSTILE)
def test_no_route_answers_5xx_to_hostile_paths_or_parameters(client, corpus, value, caplog):
    failures = sweep(client, value, caplog)
    assert not failures, "\n".join(f"{status} {url}" for status, url in failures)
