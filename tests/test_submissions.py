"""Submitting papers at /submit, with the arXiv API played by a real HTTP server on 127.0.0.1 (tests/replay.py)."""

import re
import threading
import time
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import member
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from replay import FIXTURES, ReplayServer, Reply

from paperfeed.community.models import RateEvent
from paperfeed.community.services import submissions
from paperfeed.community.services.submissions import parse_submitted
from paperfeed.papers.models import DailyEntry, Paper

pytestmark = pytest.mark.django_db

API = "arxiv_api/query_cat-cs.CL_max3_2026-09-24.xml"  # 2609.28471, 2609.28449 and 2609.28442
UNKNOWN = "arxiv_api/constructed_api_id_list_unknown_no_entries.xml"
NEW = "2609.28471"
NEW_TITLE = "Contrastive Learning for Authorship Verification"
UNREACHABLE = "Could not reach arXiv just now; nothing was saved. Try again in a few minutes."


@pytest.fixture
def arxiv(settings, monkeypatch):
    server = ReplayServer().start()
    settings.PAPERFEED_ARXIV_API_URL = server.url + "/api/query"
    settings.PAPERFEED_ARXIV_DELAY_SECONDS = 0
    settings.PAPERFEED_HTTP_RETRIES = 1
    settings.PAPERFEED_HTTP_TIMEOUT_SECONDS = 1
    monkeypatch.setattr(submissions, "ARXIV_BACKOFF_SECONDS", 0.01)
    yield server
    server.stop()


@pytest.fixture
def ada(client, corpus) -> User:
    user = member("ada")
    client.force_login(user)
    return user


def submit(client, text: str):
    return client.post("/submit", {"paper": text})


def nothing_saved(paper_count: int) -> bool:
    return Paper.objects.count() == paper_count and not DailyEntry.objects.filter(source="submission").exists()


def today() -> str:
    return timezone.localdate().isoformat()


# --- reading what people type ---


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2609.28471", "2609.28471"),
        ("  2609.28471v3 ", "2609.28471v3"),
        ("arXiv:2609.28471", "2609.28471"),
        ("2501.0001", "2501.0001"),  # four-digit numbers before 2015
        ("hep-th/9901001v2", "hep-th/9901001v2"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("https://arxiv.org/abs/2609.28471", "2609.28471"),
        ("http://www.arxiv.org/abs/2609.28471v2", "2609.28471v2"),
        ("https://arxiv.org/pdf/2609.28471", "2609.28471"),
        ("https://arxiv.org/pdf/2609.28471v1.pdf", "2609.28471v1"),
        ("https://export.arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/html/2609.28471v1", "2609.28471v1"),
        ("https://arxiv.org/html/2609.28471v1/#S3", "2609.28471v1"),
        ("arxiv.org/abs/2609.28471?context=cs", "2609.28471"),
    ],
)
def test_ids_and_arxiv_links_are_understood(text, expected):
    assert str(parse_submitted(text)) == expected


@pytest.mark.parametrize(
    "text",
    ["", "hello", "2609.284", "2609.284711", "https://example.org/abs/2609.28471", "https://arxiv.org/list/cs.LG/new"],
)
def test_other_text_is_not_an_arxiv_id(text):
    assert parse_submitted(text) is None


# --- the page ---


def test_signed_out_visitors_are_sent_to_sign_in_and_back(client, corpus):
    for response in (client.get("/submit"), submit(client, "2606.00001")):
        assert response.status_code == 302
        where = urlsplit(response["Location"])
        assert where.path == reverse("signin") and parse_qs(where.query)["next"] == ["/submit"]
    assert not DailyEntry.objects.filter(source="submission").exists()


def test_the_form_says_what_it_takes_and_how_many_are_left(client, ada):
    html = client.get("/submit").content.decode()
    assert "<h1>Submit a paper</h1>" in html
    assert 'name="paper"' in html and 'name="csrfmiddlewaretoken"' in html
    assert "you have 10 left" in html
    assert 'aria-current="page">Submit</a>' in html  # the nav marks where you are


def test_a_paper_new_to_the_site_is_fetched_from_arxiv_and_listed_today(client, ada, arxiv):
    arxiv.route("/api/query", Reply.fixture(API))
    response = submit(client, f"https://arxiv.org/abs/{NEW}v1")
    assert response.status_code == 303
    assert response["Location"] == f"/?date={today()}"
    assert arxiv.requests_to("/api/query")[0].query["id_list"] == [NEW]

    entry = DailyEntry.objects.get(source="submission")
    assert entry.paper.arxiv_id == NEW and entry.paper.title == NEW_TITLE
    assert entry.day == timezone.localdate() and entry.submitted_by == ada and entry.submitter_name == "ada"
    assert entry.paper.authorships.count() > 0

    html = unescape(client.get(response["Location"]).content.decode())
    assert f"“{NEW_TITLE}” (fetched from arXiv just now) is on today's list, submitted by you." in html
    card = html[html.index(NEW_TITLE) :]
    card = card[: card.index("</article>")]
    assert 'submitted by <a href="/users/ada">@ada</a>' in card

    page = client.get(f"/papers/{NEW}").content.decode()
    assert "<dt>Submitted by</dt>" in page and '<a href="/users/ada">@ada</a>' in page


def test_a_paper_already_here_is_listed_without_asking_arxiv(client, ada, arxiv):
    response = submit(client, "hep-th/9901001v1")
    assert response.status_code == 303
    assert arxiv.requests == []
    entry = DailyEntry.objects.get(source="submission")
    assert entry.paper.arxiv_id == "hep-th/9901001"
    html = unescape(client.get(response["Location"]).content.decode())
    assert "“String Dualities and Old-Style Identifiers” is on today's list, submitted by you." in html


def test_a_paper_on_todays_arxiv_listing_can_still_be_submitted(client, ada, arxiv):
    paper = Paper.objects.get(arxiv_id="2606.00001")
    DailyEntry.objects.create(paper=paper, day=timezone.localdate(), source="arxiv")
    assert submit(client, "2606.00001").status_code == 303
    assert DailyEntry.objects.filter(paper=paper, day=timezone.localdate()).count() == 2


def test_a_second_submission_the_same_day_names_the_first_submitter(client, ada, arxiv):
    assert submit(client, "2606.00001").status_code == 303
    response = submit(client, "2606.00001v1")
    assert response.status_code == 409
    assert "is already on" in response.content.decode() and "submitted by you" in response.content.decode()

    client.force_login(member("grace"))
    response = submit(client, "https://arxiv.org/abs/2606.00001")
    assert response.status_code == 409
    html = re.sub(r"\s+", " ", response.content.decode())
    assert (
        '<a href="/papers/2606.00001">arXiv:2606.00001</a> is already on '
        f'<a href="/?date={today()}">today\'s list</a>, submitted by <a href="/users/ada">@ada</a>.'
    ) in html
    assert DailyEntry.objects.filter(source="submission").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_submitting_the_same_new_paper_at_once_make_one_entry(client, corpus, arxiv):
    """Grace's submission lands while Ada's waits for arXiv: Ada hears that Grace was first; nothing breaks."""
    ada = member("ada")
    client.force_login(ada)
    arxiv.route("/api/query", Reply.fixture(API, delay=0.5))

    def grace_submits_meanwhile():
        deadline = time.monotonic() + 10
        while not arxiv.requests and time.monotonic() < deadline:  # Ada's request is now waiting for arXiv
            time.sleep(0.01)
        try:
            grace = member("grace")
            paper = Paper.objects.create(arxiv_id=NEW, title=NEW_TITLE, primary_category="cs.CL")
            DailyEntry.objects.create(
                paper=paper, day=timezone.localdate(), source="submission", submitted_by=grace, submitter_name="grace"
            )
        finally:
            connection.close()

    other = threading.Thread(target=grace_submits_meanwhile)
    other.start()
    response = submit(client, NEW)
    other.join()
    assert response.status_code == 409
    assert '<a href="/users/grace">@grace</a>' in response.content.decode()
    assert DailyEntry.objects.filter(source="submission").count() == 1
    assert Paper.objects.filter(arxiv_id=NEW).count() == 1


# --- what goes wrong ---


@pytest.mark.parametrize("text", ["hello world", "https://example.org/abs/2609.28471", "2609.284"])
def test_text_that_is_not_an_arxiv_id_is_named_in_the_error(client, ada, arxiv, text):
    response = submit(client, text)
    assert response.status_code == 400
    html = response.content.decode()
    assert f"“{text}” is not an arXiv id or arXiv link." in html
    assert f'value="{text}"' in html  # what was typed stays in the box to be corrected
    assert 'aria-invalid="true"' in html
    assert arxiv.requests == []


def test_an_empty_form_asks_for_an_id(client, ada):
    response = submit(client, "   ")
    assert response.status_code == 400
    assert "Paste an arXiv id or link" in response.content.decode()


def test_an_id_arxiv_does_not_know(client, ada, arxiv):
    arxiv.route("/api/query", Reply.fixture(UNKNOWN))
    papers = Paper.objects.count()
    response = submit(client, "2501.99999")
    assert response.status_code == 400
    assert "arXiv has no paper 2501.99999" in response.content.decode()
    assert nothing_saved(papers)


@pytest.mark.parametrize(
    "reply, tries",
    [
        (Reply(b"<html><body>Service Unavailable</body></html>", 503, content_type="text/html"), 2),
        (Reply.fixture(API, delay=2.5), 2),  # slower than the 1 s timeout
        (Reply(b"<feed><entry>cut off", 200), 1),  # a truncated answer: asking again would not help
        (Reply(b"Rate exceeded.", 200, content_type="text/plain"), 1),
    ],
    ids=["503", "timeout", "truncated-xml", "plain-text"],
)
def test_arxiv_failing_is_a_clear_message_and_nothing_is_saved(client, ada, arxiv, reply, tries):
    arxiv.route("/api/query", reply)
    papers = Paper.objects.count()
    response = submit(client, NEW)
    assert response.status_code == 503
    assert UNREACHABLE in response.content.decode()
    assert nothing_saved(papers)
    assert len(arxiv.requests_to("/api/query")) == tries  # at most one quick retry: someone is waiting


def test_arxiv_answering_after_one_503_is_fine(client, ada, arxiv):
    arxiv.route("/api/query", Reply(b"busy", 503, content_type="text/plain"), Reply.fixture(API))
    assert submit(client, NEW).status_code == 303
    assert Paper.objects.filter(arxiv_id=NEW).exists()


def test_arxiv_unreachable_is_a_clear_message(client, ada, settings):
    from conftest import free_port

    settings.PAPERFEED_ARXIV_API_URL = f"http://127.0.0.1:{free_port()}/api/query"  # nobody listens there
    settings.PAPERFEED_HTTP_RETRIES = 0
    papers = Paper.objects.count()
    response = submit(client, NEW)
    assert response.status_code == 503 and UNREACHABLE in response.content.decode()
    assert nothing_saved(papers)


def test_an_unconfirmed_email_address_cannot_submit(client, corpus, arxiv):
    client.force_login(member("newbie", verified=False))
    html = client.get("/submit").content.decode()
    assert "Confirm your email address first" in html and 'name="paper"' not in html
    response = submit(client, "2606.00001")
    assert response.status_code == 403
    assert "Confirm your email address first" in response.content.decode()
    assert not DailyEntry.objects.filter(source="submission").exists()


def test_a_banned_user_cannot_submit(client, corpus, arxiv):
    client.force_login(member("mallory", banned=True))
    response = submit(client, "2606.00001")
    assert response.status_code == 403
    assert "This account has been banned from posting and voting." in response.content.decode()
    assert not DailyEntry.objects.filter(source="submission").exists()


def test_a_hidden_paper_cannot_be_submitted(client, ada, arxiv):
    Paper.objects.filter(arxiv_id="2606.00001").update(hidden=True)
    response = submit(client, "2606.00001")
    assert response.status_code == 403
    assert "hidden by a moderator" in response.content.decode()
    assert arxiv.requests == [] and not DailyEntry.objects.filter(source="submission").exists()


def test_ten_submissions_a_day_at_most(client, ada, arxiv):
    papers = list(Paper.objects.order_by("arxiv_id"))
    earlier = timezone.now() - timedelta(hours=20)
    for n, paper in enumerate(papers[: submissions.DAILY_LIMIT]):
        DailyEntry.objects.create(
            paper=paper,
            day=timezone.localdate() - timedelta(days=1),
            source="submission",
            submitted_by=ada,
            submitter_name="ada",
            created_at=earlier + timedelta(minutes=n),
        )
    assert "you have 0 left" in client.get("/submit").content.decode()
    response = submit(client, NEW)
    assert response.status_code == 429
    html = response.content.decode()
    assert "You have submitted 10 papers in the last 24 hours" in html
    again = timezone.localtime(earlier + timedelta(hours=24))
    assert f"You can submit again from {again.day} {again:%B %Y}, {again:%H:%M} UTC." in html
    assert arxiv.requests == []
    # Submissions older than a day no longer count.
    DailyEntry.objects.filter(source="submission").update(created_at=timezone.now() - timedelta(hours=25))
    assert submit(client, "2606.00003").status_code == 303


def test_asking_arxiv_about_many_unknown_ids_is_limited_too(client, ada, arxiv):
    arxiv.route("/api/query", Reply.fixture(UNKNOWN))
    RateEvent.objects.bulk_create(
        [RateEvent(scope=submissions.ARXIV_LOOKUPS.scope, key=str(ada.pk)) for _ in range(submissions.LOOKUP_LIMIT)]
    )
    response = submit(client, "2501.99999")
    assert response.status_code == 429
    assert f"You have asked arXiv about {submissions.LOOKUP_LIMIT} papers in the last 24 hours" in (
        response.content.decode()
    )
    assert arxiv.requests == []
    assert submit(client, "2606.00001").status_code == 303  # a paper already here needs no look-up


def test_a_submission_without_the_csrf_token_is_refused(corpus):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member("ada"))
    assert submit(client, "2606.00001").status_code == 403
    assert not DailyEntry.objects.filter(source="submission").exists()
    html = client.get("/submit").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert client.post("/submit", {"paper": "2606.00001", "csrfmiddlewaretoken": token}).status_code == 303


def test_the_arxiv_fixture_holds_the_paper_the_tests_submit():
    assert f"http://arxiv.org/abs/{NEW}v1" in (FIXTURES / API).read_text()
