"""More like this collection: the page under each collection that its viewer may see.

It lives here, not in community, because community may not import recommend (the layers in pyproject.toml)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from paperfeed.community.services import collections
from paperfeed.recommend.services.like_collection import more_like


@require_safe
def more_like_collection(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    """Recent papers ranked by a model over the collection's papers; 404 where the collection page is one."""
    collection = collections.collection_page(username, slug, request.user)
    if collection is None:
        raise Http404("There is no such collection, or it is private.")
    result = more_like(collection)
    return render(request, "recommend/like_collection.html", {"collection": collection, "result": result})


urlpatterns = [
    path("users/<name:username>/collections/<slug:slug>/more", more_like_collection, name="collection-more"),
]
