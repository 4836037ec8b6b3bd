"""WSGI entry point, for `paperfeed serve` or any WSGI server (gunicorn paperfeed.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
django_application = get_wsgi_application()

from paperfeed.pagecache.wsgi import CachedPages  # noqa: E402 - once Django is set up

# Cached pages for visitors who are not signed in are answered here, before Django's request handling.
application = CachedPages(django_application)
