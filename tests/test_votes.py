"""Upvotes through the Django test client: the no-JavaScript form, the htmx fragment, and who may vote."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import member
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from paperfeed.papers.models import Paper, Vote

pytestmark = pytest.mark.django_db

PAPER = "2606.00002"  # on the list of 30 June 2026 in the test corpus
DAY_PAGE = "/?date=2026-06-30"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def ada(client, corpus) -> User:
    user = member("ada")
    client.force_login(user)
    return user


def votes_on(arxiv_id: str) -> int:
    return Vote.objects.filter(paper__arxiv_id=arxiv_id).count()


def vote_form(html: str, arxiv_id: str) -> str:
    """The upvote form of one paper in a page."""
    match = re.search(rf'<form class="vote"[^>]*action="/papers/{re.escape(arxiv_id)}/vote".*?</form>', html, re.S)
    assert match, f"no vote form for {arxiv_id}"
    return match.group(0)


def test_an_upvote_without_javascript_goes_back_to_the_page_it_came_from(client, ada):
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": DAY_PAGE})
    assert response.status_code == 303
    assert response["Location"] == DAY_PAGE
    assert votes_on(PAPER) == 1
    form = vote_form(client.get(DAY_PAGE).content.decode(), PAPER)
    assert 'aria-pressed="true"' in form
    assert 'name="vote" value="0"' in form  # pressing again takes the vote back
    assert re.search(r"▲</span> 1<", form)


def test_voting_twice_counts_once(client, ada):
    for _ in range(3):  # a double click, then a replayed form
        assert client.post(f"/papers/{PAPER}/vote", {"vote": "1"}).status_code == 303
    assert votes_on(PAPER) == 1


def test_a_vote_can_be_taken_back_and_taking_back_nothing_is_harmless(client, ada):
    client.post(f"/papers/{PAPER}/vote", {"vote": "1"})
    assert client.post(f"/papers/{PAPER}/vote", {"vote": "0"}).status_code == 303
    assert votes_on(PAPER) == 0
    assert client.post(f"/papers/{PAPER}/vote", {"vote": "0"}).status_code == 303
    assert votes_on(PAPER) == 0
    form = vote_form(client.get(f"/papers/{PAPER}").content.decode(), PAPER)
    assert 'aria-pressed="false"' in form and 'name="vote" value="1"' in form


def test_without_a_next_field_the_vote_returns_to_the_paper_page(client, ada):
    response = client.post(f"/papers/{PAPER}v2/vote", {"vote": "1"})  # a versioned id votes for the paper
    assert response.status_code == 303 and response["Location"] == f"/papers/{PAPER}"
    assert votes_on(PAPER) == 1


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_a_next_address_off_this_site_is_ignored(client, ada, unsafe):
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": unsafe})
    assert response["Location"] == f"/papers/{PAPER}"


def test_htmx_gets_the_button_back_with_the_new_count(client, ada):
    Vote.objects.create(user=member("grace"), paper=Paper.objects.get(arxiv_id=PAPER))
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": DAY_PAGE}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment, not a page
    assert html.strip().startswith('<form class="vote"') and html.strip().endswith("</form>")
    assert f'hx-post="/papers/{PAPER}/vote"' in html and 'hx-swap="outerHTML"' in html
    assert 'aria-pressed="true"' in html
    assert re.search(r"▲</span> 2<span class=\"visually-hidden\"> upvotes", html)
    assert f'name="next" value="{DAY_PAGE}"' in html  # still goes back to the list
    assert 'name="csrfmiddlewaretoken"' in html  # the swapped-in form can post again

    html = client.post(f"/papers/{PAPER}/vote", {"vote": "0", "next": DAY_PAGE}, headers=HTMX).content.decode()
    assert 'aria-pressed="false"' in html and re.search(r"▲</span> 1<span class=\"visually-hidden\"> upvote<", html)


def test_signing_in_to_vote_comes_back_to_the_page(client, corpus):
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": DAY_PAGE})
    assert response.status_code == 302
    where = urlsplit(response["Location"])
    assert where.path == reverse("signin")
    assert parse_qs(where.query)["next"] == [DAY_PAGE]
    assert votes_on(PAPER) == 0

    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1"})
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [f"/papers/{PAPER}"]


def test_signing_in_to_vote_from_htmx_is_a_full_page_redirect(client, corpus):
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": DAY_PAGE}, headers=HTMX)
    assert response.status_code == 200
    where = urlsplit(response["HX-Redirect"])
    assert where.path == reverse("signin") and parse_qs(where.query)["next"] == [DAY_PAGE]
    assert votes_on(PAPER) == 0


def test_a_banned_user_is_refused_with_the_reason(client, corpus):
    client.force_login(member("mallory", banned=True))
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": DAY_PAGE})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This account has been banned from posting and voting." in html
    assert f'href="{DAY_PAGE}"' in html
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1"}, headers=HTMX)
    assert response.status_code == 403
    html = response.content.decode()
    assert '<form class="vote"' in html and 'role="alert"' in html and "banned" in html
    assert 'aria-pressed="false"' in html
    assert votes_on(PAPER) == 0


@pytest.mark.parametrize("path", ["/papers/2699.99999/vote", "/papers/not-an-id/vote", "/papers/hep-th/0000000/vote"])
def test_voting_for_a_paper_that_is_not_here_is_a_404(client, ada, path):
    response = client.post(path, {"vote": "1"})
    assert response.status_code == 404
    assert "to upvote here" in response.content.decode()
    assert Vote.objects.count() == 0


def test_a_hidden_paper_cannot_be_voted_for(client, ada):
    Paper.objects.filter(arxiv_id=PAPER).update(hidden=True)
    assert client.post(f"/papers/{PAPER}/vote", {"vote": "1"}).status_code == 404
    assert votes_on(PAPER) == 0


def test_an_old_style_id_can_be_voted_for(client, ada):
    response = client.post("/papers/hep-th/9901001/vote", {"vote": "1"})
    assert response.status_code == 303 and response["Location"] == "/papers/hep-th/9901001"
    assert votes_on("hep-th/9901001") == 1


@pytest.mark.parametrize("value", ["", "2", "up", "-1"])
def test_a_vote_that_is_neither_1_nor_0_is_a_400(client, ada, value):
    response = client.post(f"/papers/{PAPER}/vote", {"vote": value})
    assert response.status_code == 400
    assert "send 1 to upvote or 0 to take your upvote back" in response.content.decode()
    assert votes_on(PAPER) == 0


def test_votes_are_posted_not_fetched(client, ada):
    assert client.get(f"/papers/{PAPER}/vote?vote=1").status_code == 405
    assert votes_on(PAPER) == 0


def test_a_vote_without_the_csrf_token_is_refused_and_with_the_page_token_it_counts(corpus):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member("ada"))
    assert client.post(f"/papers/{PAPER}/vote", {"vote": "1"}).status_code == 403
    assert votes_on(PAPER) == 0
    page = client.get(DAY_PAGE).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', vote_form(page, PAPER)).group(1)
    response = client.post(f"/papers/{PAPER}/vote", {"vote": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert votes_on(PAPER) == 1


def test_signed_out_visitors_see_the_count_on_a_link_to_sign_in(client, corpus):
    # A link, not a form: their pages hold no CSRF token, so one copy serves them all (paperfeed.pagecache).
    Vote.objects.create(user=member("grace"), paper=Paper.objects.get(arxiv_id=PAPER))
    html = client.get(DAY_PAGE).content.decode()
    card = next(c for c in html.split('<article class="card">') if f'href="/papers/{PAPER}"' in c)
    button = re.search(r'<a class="button vote-button" href="([^"]+)"[^>]*>.*?</a>', card, re.S)
    assert button and re.search(r"▲</span> 1<", button.group(0))
    assert button.group(1) == "/accounts/signin?next=/%3Fdate%3D2026-06-30"  # and back to this list
    assert 'class="vote"' not in html and "aria-pressed" not in html


def test_cards_show_the_users_votes_pressed_at_a_fixed_query_cost(client, ada):
    def page_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            html = client.get("/?week=2026-W27").content.decode()
        return len(captured), html

    papers = list(Paper.objects.order_by("arxiv_id"))
    Vote.objects.create(user=ada, paper=papers[0])
    one, html = page_queries()
    assert html.count('aria-pressed="true"') == 1
    Vote.objects.bulk_create([Vote(user=ada, paper=p) for p in papers[1:]])
    every, html = page_queries()
    shown = html.count('<form class="vote"')
    assert shown >= 5 and html.count('aria-pressed="true"') == shown
    assert every == one


def test_the_voted_ids_are_read_in_one_query_only_when_a_page_shows_buttons(client, ada):
    from django.test import RequestFactory

    from paperfeed.community.context_processors import votes

    Vote.objects.create(user=ada, paper=Paper.objects.get(arxiv_id=PAPER))
    request = RequestFactory().get("/")
    request.user = ada
    with CaptureQueriesContext(connection) as captured:
        voted = votes(request)["voted_ids"]
    assert len(captured) == 0  # nothing read until a template asks
    with CaptureQueriesContext(connection) as captured:
        paper_id = Paper.objects.get(arxiv_id=PAPER).id
        assert paper_id in voted and paper_id + 10_000 not in voted and paper_id in voted
    assert len(captured) == 2  # the paper above, and the votes once


def test_the_paper_page_has_the_button_and_the_count(client, ada):
    client.post(f"/papers/{PAPER}/vote", {"vote": "1"})
    html = client.get(f"/papers/{PAPER}").content.decode()
    form = vote_form(html, PAPER)
    assert 'aria-pressed="true"' in form and re.search(r"▲</span> 1<", form)
    assert f'name="next" value="/papers/{PAPER}"' in form
