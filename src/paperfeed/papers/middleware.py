"""Rules for every request: no NUL characters in the address; a Content-Security-Policy, and no body on HEAD."""

from django.core.exceptions import BadRequest
from django.http import JsonResponse

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


NUL_MESSAGE = "The address holds a NUL character (%00), which no page or search can use."


class NullCharacterMiddleware:
    """A NUL character in the path or the query string is never meaningful, and PostgreSQL refuses text holding
    one (a query with it would fail as a 500): it is refused at once with a 400, JSON for the APIs. Forms refuse
    it already (Django's fields reject NUL characters)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            raise BadRequest(NUL_MESSAGE)
        return self.get_response(request)
