"""Response rules for every page: a Content-Security-Policy, and no body on HEAD requests."""

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
