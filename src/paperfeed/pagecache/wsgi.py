"""The hit path: a WSGI layer around Django that answers cached pages before Django builds a request, runs its
middleware (sessions, CSRF, authentication) or opens a template. Misses go on to Django, whose middleware renders
and keeps them (middleware.py), reusing this lookup."""

from __future__ import annotations

from paperfeed.pagecache import pages

STATUS = {200: "200 OK", 304: "304 Not Modified"}


class CachedPages:
    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response):
        ask = pages.question(environ)
        if ask is not None:
            found = pages.find(ask)
            if found is not None:
                if found.entry is not None:
                    status, headers, body = pages.answer(found.entry, environ, ask, "hit")
                    start_response(STATUS[status], headers)
                    return [body]
                environ[pages.FOUND] = found
        return self.application(environ, start_response)
