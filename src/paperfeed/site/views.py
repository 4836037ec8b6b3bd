"""The error pages every route may answer with (400, 404, 500): the handlers the root URLconf names."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Only messages written by paperfeed (BadRequest raised in its views) are shown to the visitor.
    message = str(exception) if isinstance(exception, BadRequest) else ""
    return render(request, "400.html", {"message": message}, status=400)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = exception.args[0] if isinstance(exception, Http404) and exception.args else ""
    return render(request, "404.html", {"message": message if isinstance(message, str) else ""}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No database and no context: whatever failed may fail again while rendering this page.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
