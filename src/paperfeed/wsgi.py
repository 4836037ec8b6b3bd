"""WSGI entry point, for `paperfeed serve` or any WSGI server (gunicorn paperfeed.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
application = get_wsgi_application()
