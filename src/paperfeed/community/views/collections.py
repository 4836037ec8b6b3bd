"""Collection pages: your collections, one collection's papers, and the forms that change them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from paperfeed.community.models import Collection
from paperfeed.community.services import collections, interests
from paperfeed.community.services.collections import CollectionRefused
from paperfeed.core.sources.registry import parse_address
from paperfeed.papers.services.cards import cards_for_ids
from paperfeed.web import safe_next, sign_in_first


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST, the browser fetches the page with GET
    return response


def _collection_url(collection: Collection) -> str:
    return reverse("collection", args=[collection.owner.username, collection.slug])


def _refused(request: HttpRequest, refusal: CollectionRefused) -> HttpResponse:
    if refusal.status == 404:
        raise Http404(refusal.message)
    context = {"message": refusal.message}
    if request.user.is_authenticated:
        context.update(back=reverse("collections"), back_label="Your collections")
    return render(request, "community/refused.html", context, status=refusal.status)


def _owned(request: HttpRequest, collection_id: int, papers_only: bool = False) -> Collection:
    """The collection the request changes: 404 when the user cannot see it, CollectionRefused when they may not
    change it (`papers_only`: add or take out papers, which every editor of a group's collection may)."""
    collection = collections.visible_collection(collection_id, request.user)
    if collection is None:
        raise Http404("There is no such collection, or it is private.")
    if papers_only:
        collections.check_papers_curator(request.user, collection)
    else:
        collections.check_owner(request.user, collection)
    return collection


def _allowed(check, user, collection: Collection) -> bool:
    try:
        check(user, collection)
    except CollectionRefused:
        return False
    return True


def _form(request: HttpRequest) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "public": request.POST.get("public") == "on",
    }


def _add_target(written: str) -> str | None:
    """The address of the paper a form names (field `paper`, or `arxiv_id` as forms before sources had it)."""
    parsed = parse_address(written.strip()) if written.strip() else None
    return str(parsed) if parsed else None


def _named_paper(request: HttpRequest) -> str:
    return request.POST.get("paper") or request.POST.get("arxiv_id", "")


@login_required
@require_safe
def my_collections(request: HttpRequest) -> HttpResponse:
    add = _add_target(request.GET.get("add", ""))
    return render(request, "community/collections.html", _my_context(request, add=add))


def _my_context(request: HttpRequest, **extra) -> dict:
    return {
        "collections": collections.collections_of(request.user),
        "group_collections": collections.collections_of_my_groups(request.user),
        "problem": collections.curating_problem(request.user),
    } | extra


@require_POST
def collection_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("collections"))
    form, add = _form(request), _add_target(_named_paper(request))
    try:
        collection = collections.create_collection(request.user, **form, first_paper=add)
    except CollectionRefused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        context = _my_context(request, form=form, error=refusal.message, add=add)
        return render(request, "community/collections.html", context, status=refusal.status)
    if add:
        return _see_other(reverse("paper", args=[add]) + "#save")
    return _see_other(_collection_url(collection))


@require_safe
def collection_detail(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    collection = collections.collection_page(username, slug, request.user)
    if collection is None:
        raise Http404("There is no such collection, or it is private.")
    cards = cards_for_ids(collections.paper_ids(collection))
    is_owner = request.user.is_authenticated and request.user.pk == collection.owner_id
    context = {"collection": collection, "cards": cards, "is_owner": is_owner}
    context["may_change"] = _allowed(collections.check_owner, request.user, collection)  # rename, delete
    context["may_curate"] = _allowed(collections.check_papers_curator, request.user, collection)  # its papers
    if request.user.is_authenticated:
        chosen = interests.digest_collections(getattr(request.user, "interests", None), request.user)
        context["in_digest"] = collection in chosen
    return render(request, "community/collection.html", context)


@require_POST
def collection_digest(request: HttpRequest, collection_id: int) -> HttpResponse:
    """Put a collection the member can see in their digest's "Like your collections" section, or take it out."""
    collection = collections.visible_collection(collection_id, request.user)
    if collection is None:
        raise Http404("There is no such collection, or it is private.")
    if not request.user.is_authenticated:
        return sign_in_first(request, _collection_url(collection))
    try:
        interests.choose_for_digest(request.user, collection, request.POST.get("in_digest") == "on")
    except interests.PreferenceError as error:
        return _refused(request, CollectionRefused(str(error)))
    return _see_other(_collection_url(collection))


@require_http_methods(["GET", "HEAD", "POST"])
def collection_edit(request: HttpRequest, collection_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        collection = _owned(request, collection_id)
    except CollectionRefused as refusal:
        return _refused(request, refusal)
    if request.method != "POST":
        form = {"name": collection.name, "description": collection.description, "public": collection.public}
        return render(request, "community/collection_edit.html", {"collection": collection, "form": form})
    form = _form(request)
    try:
        collections.update_collection(request.user, collection, **form)
    except CollectionRefused as refusal:
        collection.refresh_from_db()  # the page shows the name as saved, not the refused one
        context = {"collection": collection, "form": form, "error": refusal.message}
        return render(request, "community/collection_edit.html", context, status=refusal.status)
    return _see_other(_collection_url(collection))


@require_POST
def collection_delete(request: HttpRequest, collection_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("collections"))
    try:
        collections.delete_collection(request.user, _owned(request, collection_id))
    except CollectionRefused as refusal:
        return _refused(request, refusal)
    return _see_other(reverse("collections"))


@require_POST
def collection_papers(request: HttpRequest, collection_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(safe_next(request, reverse("collections")))
    action = request.POST.get("action", "")
    if action not in ("add", "remove"):
        raise BadRequest("Say whether to add the paper to the collection or remove it (action=add or action=remove).")
    raw_id = _named_paper(request)
    address = _add_target(raw_id)
    if address is None:
        raise Http404(
            f"{raw_id[:40]!r} is not a paper id this site can read (an arXiv id such as 2503.11731, or source:id)."
            if raw_id.strip()
            else "Name the paper: the field paper is empty."
        )
    try:
        collection = _owned(request, collection_id, papers_only=True)
        collections.set_paper(request.user, collection, address, add=action == "add")
    except CollectionRefused as refusal:
        return _refused(request, refusal)
    return _see_other(safe_next(request, _collection_url(collection)))


urlpatterns = [
    path("collections", my_collections, name="collections"),
    path("collections/new", collection_create, name="collection-create"),
    path("collections/<int:collection_id>/edit", collection_edit, name="collection-edit"),
    path("collections/<int:collection_id>/delete", collection_delete, name="collection-delete"),
    path("collections/<int:collection_id>/papers", collection_papers, name="collection-papers"),
    path("collections/<int:collection_id>/digest", collection_digest, name="collection-digest"),
    path("users/<name:username>/collections/<slug:slug>", collection_detail, name="collection"),
]
