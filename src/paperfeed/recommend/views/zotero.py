"""The Zotero sync's settings page: link a library with its API key, paste a new key, sync now, remove the link.

Nothing here talks to Zotero: saving a key makes the link due, and the worker checks the key and syncs in the
background (pages never wait for a remote); the page shows the outcome in words. A member only ever reaches their
own links: another member's link is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from paperfeed.recommend.models import ZoteroLink
from paperfeed.recommend.services import zotero


def _page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    context = {
        "links": zotero.links_of(request.user),
        "library_types": ZoteroLink.Library.choices,
        "form": {"library_type": "user", "library_id": ""},
    } | context
    return render(request, "recommend/zotero.html", context, status=status)


@sensitive_post_parameters("key")  # never in an error report
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def zotero_links(request: HttpRequest) -> HttpResponse:
    """GET: the member's links and the form to add one. POST: link a library."""
    if request.method != "POST":
        return _page(request)
    form = {
        "library_type": request.POST.get("library_type", ""),
        "library_id": request.POST.get("library_id", "").strip()[:40],
    }
    try:
        link = zotero.link_library(request.user, form["library_type"], form["library_id"], request.POST.get("key", ""))
    except zotero.LinkError as error:
        return _page(request, 400, error=str(error), form=form)
    messages.success(
        request,
        f"Linked your Zotero {link.get_library_type_display()} {link.library_id}. The key is checked and the library "
        "read in the background, within a few minutes: this page shows how it went.",
    )
    return HttpResponseRedirect(reverse("zotero"), status=303)


def _own(request: HttpRequest, link_id: int) -> ZoteroLink:
    return get_object_or_404(ZoteroLink, pk=link_id, user=request.user)


@sensitive_post_parameters("key")
@login_required
@require_POST
def zotero_key(request: HttpRequest, link_id: int) -> HttpResponse:
    """Paste a new key for a link (a refused one, or to rotate it): checked, then the sync resumes."""
    link = _own(request, link_id)
    try:
        zotero.replace_key(link, request.POST.get("key", ""))
    except zotero.LinkError as error:
        return _page(request, 400, key_error=str(error), key_link=link.pk)
    messages.success(request, "Saved the new key. It is checked and the sync resumes in the background.")
    return HttpResponseRedirect(reverse("zotero"), status=303)


@login_required
@require_POST
def zotero_sync(request: HttpRequest, link_id: int) -> HttpResponse:
    """Ask for a sync of the link in the next few minutes."""
    link = _own(request, link_id)
    if zotero.sync_soon(link):
        messages.success(request, "The library will be synced within a few minutes.")
    else:
        messages.error(request, "This link is paused: paste a new key to resume it.")
    return HttpResponseRedirect(reverse("zotero"), status=303)


@login_required
@require_POST
def zotero_remove(request: HttpRequest, link_id: int) -> HttpResponse:
    """Remove the link and its key; its items stay unless the member asked to remove them too."""
    link = _own(request, link_id)
    removed = zotero.remove_link(link, remove_items=request.POST.get("items") == "remove")
    done = f"Removed the link to Zotero {link.get_library_type_display()} {link.library_id} and its key"
    kept = f", and the {removed:,} item{'s' if removed != 1 else ''} it brought" if removed else "; its items stay"
    messages.success(request, done + kept + ".")
    return HttpResponseRedirect(reverse("zotero"), status=303)


urlpatterns = [
    path("for-you/library/zotero", zotero_links, name="zotero"),
    path("for-you/library/zotero/<int:link_id>/key", zotero_key, name="zotero-key"),
    path("for-you/library/zotero/<int:link_id>/sync", zotero_sync, name="zotero-sync"),
    path("for-you/library/zotero/<int:link_id>/remove", zotero_remove, name="zotero-remove"),
]
