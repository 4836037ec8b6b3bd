"""Response rules for every page: a Content-Security-Policy, no body on HEAD requests, and a clear 503 (not a 500)
when the database cannot be reached or written (a restart, a full disk)."""

import logging

from django.db import DatabaseError, IntegrityError, ProgrammingError
from django.http import HttpResponse, JsonResponse
from django.template import loader

log = logging.getLogger("paperfeed.database")
RETRY_AFTER_SECONDS = 30

# KaTeX sets inline styles on the formulas it renders, hence 'unsafe-inline' for styles only.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", POLICY)
        if request.method == "HEAD" and not response.streaming:
            # Content-Length stays that of the GET response, as HTTP asks; the body goes.
            response.content = b""
        return response


def database_trouble(error: BaseException) -> str | None:
    """What a visitor should be told when `error` means the database is out of reach or out of space; None when it
    is a bug (a constraint or an SQL mistake: those stay 500s, logged with their traceback)."""
    if not isinstance(error, DatabaseError) or isinstance(error, IntegrityError | ProgrammingError):
        return None
    text = str(error).lower()
    if "disk is full" in text or "no space left" in text or "could not extend file" in text:
        return "The server's disk is full, so the site cannot save anything."
    if "disk i/o error" in text:
        return "The server's disk refused to read or write the database (is it full?)."
    return "The site's database is not answering just now (it may be restarting)."


class DatabaseTroubleMiddleware:
    """A database that is restarting or a disk that is full answers 503 with Retry-After and a page (or, under
    /api/, JSON) saying so, instead of a 500: the visitor learns to try again, a proxy or client may retry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        reason = database_trouble(exception)
        if reason is None:
            return None
        log.error("%s %s: %s (%s)", request.method, request.path, reason, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": f"{reason} Try again in a minute."}, status=503)
        else:
            response = HttpResponse(loader.get_template("503.html").render({"reason": reason}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
