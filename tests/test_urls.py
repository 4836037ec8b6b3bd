"""No address depends on the order in which the root URLconf includes the apps: an address that a route of one app
answers is answered by no route of another app. (Django tries routes in order and the first match wins; if two
apps' routes overlapped, moving an include would silently hand addresses to another view.) Within one app's
URLconf the order is written down in one file (the native API's catch-all for unknown endpoints comes last)."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

# An address each converter accepts, to build an example address per route.
SAMPLES = {
    "int": "7",
    "str": "sample",
    "slug": "sample-slug",
    "uslug": "ada-lovelace",
    "path": "2606.00001",
    "paper": "2606.00001",
    "name": "sample",
    "feed": "rss",
}


def routes(resolver=None, app: str = "", prefix: str = "", regex: str = "", namespace: str = ""):
    """(app, example address, full regex, view name) of every route outside the admin."""
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = entry.pattern
        part = pattern.regex.pattern.removeprefix("^")
        if isinstance(pattern, RoutePattern):
            example = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], str(pattern._route))
        else:  # a regular expression: each group stands for an arXiv id
            example = re.sub(r"\(\?P<\w+>[^)]*\)", "2606.00001", part.removesuffix("$").removesuffix(r"\Z"))
            example = example.replace("\\", "")
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            owner = app or str(getattr(entry.urlconf_module, "__name__", entry.urlconf_name))
            yield from routes(entry, owner, prefix + example, regex + part.removesuffix(r"\Z"), inner)
        elif isinstance(entry, URLPattern) and not (prefix + example).startswith("admin/"):
            yield app, prefix + example, regex + part, namespace + (entry.name or entry.lookup_str)


def test_each_address_is_answered_by_one_app_whatever_the_order_of_the_includes():
    found = list(routes())
    assert len(found) > 80
    clashes = []
    for app, example, _, name in found:
        others = {
            f"{name_} ({app_})" for app_, _, regex, name_ in found if app_ != app and re.fullmatch(regex, example)
        }
        if others:
            clashes.append(f"/{example} of {name} ({app}) is also answered by {sorted(others)}")
    assert not clashes, "\n".join(clashes)


def test_a_paper_page_address_is_not_one_of_the_papers_other_routes():
    for address, view in [
        ("/papers/2606.00001", "paper"),
        ("/papers/2606.00001v2", "paper"),
        ("/papers/hep-th/9901001", "paper"),
        ("/papers/hep-th/9901001v3", "paper"),
        ("/papers/not-an-id", "paper"),  # the page then says it is not an arXiv id
        ("/papers/2606.00001.md", "hf-paper-markdown"),
        ("/papers/2606.00001.bib", "paper-bibtex"),
        ("/papers/2606.00001/vote", "vote"),
        ("/papers/hep-th/9901001/comments", "comment-create"),
        ("/papers/2606.00001/claim", "claim-authorship"),
        ("/authors/7/ada-lovelace", "author-slug"),
        ("/authors/7/émilie-du-châtelet", "author-slug"),
        ("/authors/7/feed.rss", "feed-author"),
        ("/users/ada/collections/reading", "collection"),
        ("/users/ada/collections/reading.bib", "collection-bibtex"),
    ]:
        assert resolve(address).view_name == view, address
