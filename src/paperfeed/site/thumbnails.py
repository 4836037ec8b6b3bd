"""Thumbnails, served by the site from the data directory: its own origin (the Content-Security-Policy allows no
other, and a laptop offline shows them all the same), cached for ever since a name is its content's digest."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from paperfeed.core.thumbnails import parse_file_name
from paperfeed.papers.services.thumbnails import folder

A_YEAR = 365 * 24 * 3600


@require_safe
def thumbnail(request: HttpRequest, name: str) -> FileResponse:
    parsed = parse_file_name(name)  # any other name never reaches the file system
    if parsed is None:
        raise Http404("There is no such thumbnail.")
    try:
        found = (folder() / parsed.name).open("rb")
    except FileNotFoundError:
        raise Http404("There is no such thumbnail.") from None
    response = FileResponse(found, content_type="image/webp")
    response["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
    return response
