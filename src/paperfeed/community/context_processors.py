"""Template context every page gets from the community app."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from paperfeed.community.services.reading import read_paper_ids
from paperfeed.community.services.votes import voted_paper_ids


def votes(request: HttpRequest) -> dict[str, object]:
    """`voted_ids`: the signed-in user's upvoted paper ids, read in one query the first time a template asks.
    `this_page`: where a vote button comes back to, worked out once however many buttons a page has.

    Pages without vote buttons never run the query, and anonymous visitors never cause one.
    """

    def load() -> frozenset[int]:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return frozenset()
        return voted_paper_ids(user)

    return {"voted_ids": SimpleLazyObject(load), "this_page": SimpleLazyObject(request.get_full_path)}


def reading(request: HttpRequest) -> dict[str, object]:
    """`read_ids`: the signed-in member's read paper ids, for the marker on cards; one query, made only when a
    template asks, never for anonymous visitors."""

    def load() -> frozenset[int]:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return frozenset()
        return read_paper_ids(user)

    return {"read_ids": SimpleLazyObject(load)}
