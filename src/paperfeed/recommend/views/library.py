"""Importing a reference library (BibTeX, RIS, CSL JSON) from the browser, and removing it."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from paperfeed.community.services import throttle
from paperfeed.core.library import FORMATS, MAX_BYTES, MAX_ENTRIES
from paperfeed.recommend.services.library import LibraryError, clear_library, import_library, library_size

IMPORTS_PER_USER = throttle.Limit("library-import", 20, timedelta(hours=1))


def _page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    context = {
        "library": library_size(request.user),
        "max_mb": MAX_BYTES // 1024 // 1024,
        "max_entries": MAX_ENTRIES,
        "formats": FORMATS.values(),
    } | context
    return render(request, "recommend/library.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def library(request: HttpRequest) -> HttpResponse:
    """GET: what the library holds and the upload form. POST: import a file and show the report."""
    if request.method != "POST":
        return _page(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, 400, error="Choose a file to import: your library exported as BibTeX, RIS or CSL JSON.")
    if upload.size > MAX_BYTES:
        error = (
            f"{upload.name} is {upload.size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. "
            "Export without attachments or notes, or import your library in parts. Nothing was imported."
        )
        return _page(request, 413, error=error)
    key = str(request.user.pk)
    if not IMPORTS_PER_USER.allowed(key):
        wait = throttle.minutes(IMPORTS_PER_USER.wait(key))
        return _page(request, 429, error=f"You imported many files in the last hour. Try again in {wait} minutes.")
    IMPORTS_PER_USER.hit(key)
    try:
        report = import_library(request.user, upload.read(), upload.name)
    except LibraryError as error:
        return _page(request, 400, error=f"{upload.name}: {error}. Nothing was imported.")
    return _page(request, report=report, library=library_size(request.user))


@require_POST
def library_clear(request: HttpRequest) -> HttpResponse:
    """Remove every imported library item (upvotes and collections stay)."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("library"))
    removed = clear_library(request.user)
    messages.success(request, f"Removed {removed:,} imported librar{'y item' if removed == 1 else 'y items'}.")
    return HttpResponseRedirect(reverse("library"), status=303)


urlpatterns = [
    path("for-you/library", library, name="library"),
    path("for-you/library/clear", library_clear, name="library-clear"),
]
