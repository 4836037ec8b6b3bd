"""A schemathesis run over the native API's OpenAPI schema: no input, valid or not, makes the server fail (5xx).

Every operation in /api/openapi.json becomes one test, fed a bounded, derandomized set of generated requests
(valid and invalid) through the site's WSGI application in this process, with a valid API token, against the test
corpus. arXiv is played by a local server that knows no paper, so submissions never leave the machine.
"""

from datetime import timedelta

import pytest
import schemathesis
from conftest import member
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from replay import ReplayServer, Reply
from schemathesis.checks import not_a_server_error

from paperfeed.api import security
from paperfeed.api.services import tokens
from paperfeed.community.services import submissions
from paperfeed.community.services.throttle import Limit
from paperfeed.papers.models import Organization, Paper

UNKNOWN = "arxiv_api/constructed_api_id_list_unknown_no_entries.xml"
EXAMPLES_PER_OPERATION = 25

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def token(corpus, settings, monkeypatch) -> str:
    """A member's API token, with limits high enough for the run and arXiv replaced by a local server."""
    arxiv = ReplayServer().start()
    arxiv.route("/api/query", Reply.fixture(UNKNOWN))
    settings.PAPERFEED_ARXIV_API_URL = arxiv.url + "/api/query"
    settings.PAPERFEED_ARXIV_DELAY_SECONDS = 0
    monkeypatch.setattr(submissions, "ARXIV_BACKOFF_SECONDS", 0.01)
    for name in ("ANONYMOUS_READS", "TOKEN_REQUESTS", "TOKEN_WRITES"):
        limit = getattr(security, name)
        monkeypatch.setattr(security, name, Limit(limit.scope, 100_000, timedelta(minutes=1)))
    lab = Organization.objects.create(name="Example Lab", slug="example-lab")
    Paper.objects.filter(arxiv_id__in=["2606.00001", "2606.00002"]).update(organization=lab)
    # A server closes its database connection after each request; here the application shares the test's
    # connection and its transaction (rolled back after the test), so it must not, as Django's test client does not.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield tokens.create_token(member("ada"), "schemathesis").secret
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    arxiv.stop()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_fail(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error])
