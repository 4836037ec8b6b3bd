"""The native API (/api/v1) and the API-token pages, through the Django test client on the 10-paper corpus."""

import hashlib
from datetime import timedelta

import pytest
from conftest import member, signed_in
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from paperfeed.api import security
from paperfeed.api.models import ApiToken
from paperfeed.api.services import tokens
from paperfeed.community.models import Collection, CollectionItem
from paperfeed.community.services.throttle import Limit
from paperfeed.papers.models import Author, DailyEntry, Organization, Paper, Vote
from paperfeed.papers.services import listing

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
PAPER = "2606.00001"  # MLP-Mixer Revisited, on the list of 30 June 2026
LATEST_DAY = ["2606.00005", "2606.00006", "2606.00008"]  # the three papers of 1 July 2026


def ids(body: dict) -> list[str]:
    return [paper["arxiv_id"] for paper in body["results"]]


def error(response, status: int) -> dict:
    """The JSON error body of a response, which must have this status."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]


def bearer(user: User, name: str = "laptop") -> Client:
    """A client sending a new token of this user."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(user, name).secret}")


@pytest.fixture
def ada(corpus) -> User:
    return member("ada")


@pytest.fixture
def ada_api(ada) -> Client:
    return bearer(ada)


def hide(arxiv_id: str) -> None:
    Paper.objects.filter(arxiv_id=arxiv_id).update(hidden=True)


# --- papers ---


def test_a_paper_has_what_its_page_shows(client, corpus):
    lab = Organization.objects.create(name="Example Lab", slug="example-lab", url="https://lab.example.org")
    Paper.objects.filter(arxiv_id=PAPER).update(organization=lab)
    Vote.objects.create(user=member("bob"), paper=Paper.objects.get(arxiv_id=PAPER))
    response = client.get(f"{V1}/papers/{PAPER}")
    assert response.status_code == 200
    paper = response.json()
    assert paper["title"] == "MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision"
    assert paper["authors"] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    ada = Author.objects.get(name="Ada Lovelace")
    assert paper["author_list"][0] == {
        "id": ada.id,
        "name": "Ada Lovelace",
        "url": f"http://testserver/api/v1/authors/{ada.id}",
        "page_url": f"http://testserver/authors/{ada.id}",
    }
    assert paper["categories"] == ["cs.CV", "cs.LG"] and paper["primary_category"] == "cs.CV"
    assert paper["published"] == "2026-06-30" and paper["days"] == ["2026-06-30"]
    assert paper["upvotes"] == 1 and paper["comment_count"] == 0 and paper["submitted_by"] is None
    assert paper["organization"] == {
        "slug": "example-lab",
        "name": "Example Lab",
        "homepage": "https://lab.example.org",
        "url": "http://testserver/api/v1/organizations/example-lab",
        "page_url": "http://testserver/organizations/example-lab",
    }
    assert paper["links"]["page"] == f"http://testserver/papers/{PAPER}"
    assert paper["links"]["pdf"] == f"https://arxiv.org/pdf/{PAPER}"
    assert paper["links"]["api"] == f"http://testserver/api/v1/papers/{PAPER}"
    assert paper["comment"] == "12 pages, 4 figures"
    assert paper["similar_url"] == f"http://testserver/api/v1/papers/{PAPER}/similar"


def test_paper_ids_may_have_a_version_or_the_old_style(client, corpus):
    assert client.get(f"{V1}/papers/2606.00005v7").json()["arxiv_id"] == "2606.00005"
    assert client.get(f"{V1}/papers/hep-th/9901001").json()["title"] == "String Dualities and Old-Style Identifiers"
    assert client.get(f"{V1}/papers/arXiv:2606.00002").json()["arxiv_id"] == "2606.00002"


def test_unknown_and_malformed_paper_ids_are_404s_that_say_why(client, corpus):
    assert error(client.get(f"{V1}/papers/2699.99999"), 404)["message"] == "arXiv:2699.99999 is not on this site."
    assert "is not a paper id" in error(client.get(f"{V1}/papers/not-a-paper"), 404)["message"]
    assert error(client.get(f"{V1}/papers/2699.99999/similar"), 404)


def test_similar_papers_answer_even_without_a_vector_index(client, corpus):
    body = client.get(f"{V1}/papers/{PAPER}/similar?limit=3").json()
    assert body["arxiv_id"] == PAPER
    assert body["available"] is False and body["results"] == []  # the test database has no embeddings
    assert error(client.get(f"{V1}/papers/{PAPER}/similar?limit=50"), 422)["details"][0]["parameter"] == "limit"


# --- the daily list ---


def test_the_daily_list_defaults_to_the_latest_day(client, corpus):
    body = client.get(f"{V1}/daily").json()
    assert sorted(ids(body)) == LATEST_DAY
    assert body["period"]["kind"] == "day" and body["period"]["value"] == "2026-07-01"
    assert body["period"]["url"] == "http://testserver/api/v1/daily?date=2026-07-01"
    assert body["previous_period"]["value"] == "2026-06-30" and body["next_period"] is None
    assert (body["page"], body["pages"], body["total"], body["next"], body["previous"]) == (1, 1, 3, None, None)
    assert body["sort"] == "votes"


def test_the_daily_list_of_a_day_week_and_month(client, corpus):
    assert sorted(ids(client.get(f"{V1}/daily?date=2026-06-30").json())) == ["2606.00001", "2606.00002"]
    week = client.get(f"{V1}/daily?week=2026-W27").json()  # Monday 29 June to Sunday 5 July
    assert week["period"]["start"] == "2026-06-29" and week["period"]["end"] == "2026-07-05"
    assert week["total"] == 7
    assert client.get(f"{V1}/daily?month=2026-06").json()["total"] == 7


def test_the_daily_list_sorts_by_votes_or_newest(client, corpus):
    Vote.objects.create(user=member("bob"), paper=Paper.objects.get(arxiv_id="2606.00007"))
    by_votes = ids(client.get(f"{V1}/daily?week=2026-W26").json())
    assert by_votes[0] == "2606.00007"
    newest = client.get(f"{V1}/daily?week=2026-W26&sort=newest").json()
    assert newest["sort"] == "newest" and ids(newest)[0] != "2606.00007"


def test_pages_link_to_each_other_and_a_page_past_the_last_is_a_404(client, corpus, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    first = client.get(f"{V1}/daily?month=2026-06&sort=newest").json()
    assert (first["per_page"], first["pages"], first["previous"]) == (3, 3, None)
    assert first["next"] == "http://testserver/api/v1/daily?month=2026-06&sort=newest&page=2"
    second = client.get(first["next"]).json()
    assert second["page"] == 2 and second["previous"].endswith("page=1")
    last = client.get(second["next"]).json()
    assert last["next"] is None
    seen = ids(first) + ids(second) + ids(last)
    assert len(seen) == len(set(seen)) == 7
    past = error(client.get(f"{V1}/daily?month=2026-06&page=4"), 404)
    assert past["message"] == "page=4 is past the last page: there are 3 pages."


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("date=2026-13-01", "date"),
        ("date=30/06/2026", "date"),
        ("week=2026-W60", "week"),
        ("week=27", "week"),
        ("month=2026-13", "month"),
        ("date=2026-06-30&week=2026-W27", "week"),
    ],
)
def test_a_malformed_period_is_a_400_naming_the_parameter(client, corpus, query, parameter):
    body = error(client.get(f"{V1}/daily?{query}"), 400)
    assert body["details"] == {"parameter": parameter}
    assert parameter in body["message"]


@pytest.mark.parametrize(
    "query, parameter", [("page=abc", "page"), ("page=0", "page"), ("page=-1", "page"), ("sort=best", "sort")]
)
def test_a_malformed_page_or_sort_is_a_422_naming_the_parameter(client, corpus, query, parameter):
    body = error(client.get(f"{V1}/daily?{query}"), 422)
    assert body["details"][0]["parameter"] == parameter
    assert body["message"].startswith(f"Query parameter {parameter}:")


# --- trending and search ---


def test_trending_ranks_by_recent_votes_and_falls_back_to_the_newest(client, corpus):
    fallback = client.get(f"{V1}/trending").json()
    assert fallback["by_votes"] is False and fallback["total"] == 10
    paper = Paper.objects.get(arxiv_id="2606.00009")
    for name in ("bob", "carol"):
        Vote.objects.create(user=member(name), paper=paper)
    ranked = client.get(f"{V1}/trending").json()
    assert ranked["by_votes"] is True and ids(ranked) == ["2606.00009"]
    assert ranked["results"][0]["upvotes"] == 2


def test_search_finds_papers_and_marks_the_words(client, corpus):
    body = client.get(f"{V1}/search", {"q": "perceptron", "mode": "keyword"}).json()
    assert set(ids(body)) == {"2606.00001", "2606.00007"}
    assert body["mode"] == "keyword" and body["total"] == 2
    survey = next(hit for hit in body["results"] if hit["arxiv_id"] == "2606.00007")
    assert "<mark>Perceptron</mark>" in survey["title_html"]


def test_search_by_meaning_without_an_index_answers_by_keyword_and_says_so(client, corpus, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # a data directory with no vector index
    body = client.get(f"{V1}/search", {"q": "perceptron"}).json()  # hybrid is the default
    assert body["mode"] == "keyword" and body["meaning_unavailable"] is True
    assert set(ids(body)) == {"2606.00001", "2606.00007"}


def test_search_filters_by_category_and_dates(client, corpus):
    assert ids(client.get(f"{V1}/search", {"q": "perceptron", "category": "cs.CV"}).json()) == ["2606.00001"]
    assert ids(client.get(f"{V1}/search", {"q": "perceptron", "to": "2026-06-29"}).json()) == ["2606.00007"]
    assert ids(client.get(f"{V1}/search", {"q": "perceptron", "from": "2026-06-27"}).json()) == ["2606.00001"]


def test_search_without_words_lists_the_newest_papers_that_pass_the_filters(client, corpus):
    body = client.get(f"{V1}/search", {"category": "cs.LG", "from": "2026-06-29"}).json()
    assert body["mode"] == "newest"
    assert set(ids(body)) == {"2606.00001", "2606.00002", "2606.00003", "2606.00005", "2606.00008"}
    published = [hit["published"] for hit in body["results"]]
    assert published == sorted(published, reverse=True)
    assert all(hit["title_html"] == "" for hit in body["results"])


def test_search_with_nothing_to_look_for_is_empty_not_an_error(client, corpus):
    body = client.get(f"{V1}/search", {"q": "-perceptron", "mode": "keyword"}).json()
    assert body["results"] == [] and body["total"] == 0


@pytest.mark.parametrize(
    "params, status, parameter",
    [
        ({"q": "mlp", "from": "yesterday"}, 400, "from"),
        ({"q": "mlp", "to": "2026-02-30"}, 400, "to"),
        ({"q": "mlp", "from": "2026-07-01", "to": "2026-06-01"}, 400, "from"),
        ({}, 400, "q"),
        ({"q": "  "}, 400, "q"),
        ({"q": "mlp", "mode": "magic"}, 422, "mode"),
        ({"q": "mlp", "page": "100001"}, 422, "page"),
        ({"q": "x" * 1001}, 422, "q"),
    ],
)
def test_bad_search_parameters_are_named(client, corpus, params, status, parameter):
    body = error(client.get(f"{V1}/search", params), status)
    named = body["details"]["parameter"] if status == 400 else body["details"][0]["parameter"]
    assert named == parameter


def test_a_search_page_past_the_last_is_a_404(client, corpus):
    assert "past the last page" in error(client.get(f"{V1}/search", {"q": "perceptron", "page": 2}), 404)["message"]


# --- organizations and authors ---


def test_an_organization_and_its_papers(client, corpus):
    lab = Organization.objects.create(name="Example Lab", slug="example-lab")
    Paper.objects.filter(arxiv_id__in=["2606.00001", "2606.00007"]).update(organization=lab)
    org = client.get(f"{V1}/organizations/example-lab").json()
    assert org["name"] == "Example Lab" and org["homepage"] is None
    assert org["papers_url"] == "http://testserver/api/v1/organizations/example-lab/papers"
    papers = client.get(org["papers_url"]).json()
    assert ids(papers) == ["2606.00001", "2606.00007"]  # newest first
    assert papers["results"][0]["organization"]["slug"] == "example-lab"
    assert "no organization “nowhere”" in error(client.get(f"{V1}/organizations/nowhere"), 404)["message"]
    assert error(client.get(f"{V1}/organizations/nowhere/papers"), 404)


def test_an_author_and_their_papers(client, corpus):
    hinton = Author.objects.get(name="Geoffrey Hinton")
    author = client.get(f"{V1}/authors/{hinton.id}").json()
    assert author["name"] == "Geoffrey Hinton" and author["confirmed_users"] == []
    assert ids(client.get(author["papers_url"]).json()) == ["2606.00007"]
    assert error(client.get(f"{V1}/authors/999999"), 404)["message"] == "There is no author number 999999 on this site."
    assert error(client.get(f"{V1}/authors/abc"), 422)["details"][0]["parameter"] == "author_id"
    assert error(client.get(f"{V1}/authors/{2**70}"), 422)["details"][0]["parameter"] == "author_id"


# --- hidden papers appear nowhere ---


def test_a_hidden_paper_appears_in_no_answer(client, corpus):
    lab = Organization.objects.create(name="Example Lab", slug="example-lab")
    Paper.objects.filter(arxiv_id=PAPER).update(organization=lab)
    owner = member("owner")
    shelf = Collection.objects.create(owner=owner, name="Shelf", slug="shelf", public=True)
    CollectionItem.objects.create(collection=shelf, paper=Paper.objects.get(arxiv_id=PAPER))
    Vote.objects.create(user=owner, paper=Paper.objects.get(arxiv_id=PAPER))
    hide(PAPER)
    assert "hidden by a moderator" in error(client.get(f"{V1}/papers/{PAPER}"), 404)["message"]
    lovelace = Author.objects.get(name="Ada Lovelace")
    lists = [
        f"{V1}/daily?date=2026-06-30",
        f"{V1}/daily?month=2026-06",
        f"{V1}/trending",
        f"{V1}/search?q=perceptron",
        f"{V1}/organizations/example-lab/papers",
        f"{V1}/authors/{lovelace.id}/papers",
        f"{V1}/collections/{shelf.id}/papers",
        f"{V1}/papers/2606.00007/similar",
    ]
    for url in lists:
        response = client.get(url)
        assert response.status_code == 200, url
        assert PAPER not in ids(response.json()), url
    assert client.get(f"{V1}/collections/{shelf.id}").json()["paper_count"] == 0


# --- tokens: who may write ---


def test_writes_need_a_token(client, ada):
    response = client.post(f"{V1}/papers/{PAPER}/vote")
    assert "API token" in error(response, 401)["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="paperfeed API"'


def test_a_signed_in_browser_session_is_not_a_token(ada):
    assert error(signed_in(ada).post(f"{V1}/papers/{PAPER}/vote"), 401)
    assert not Vote.objects.exists()


@pytest.mark.parametrize("header", ["Bearer pf_wrong", "Bearer", "Bearer ", "Token pf_x", "Basic YWRhOnNlY3JldA=="])
def test_a_wrong_token_is_a_401(ada, header):
    response = Client(HTTP_AUTHORIZATION=header).post(f"{V1}/papers/{PAPER}/vote")
    assert error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_a_wrong_bearer_token_on_a_read_is_a_401_but_other_schemes_are_ignored(corpus):
    response = Client(HTTP_AUTHORIZATION="Bearer pf_wrong").get(f"{V1}/daily")
    assert "not valid" in error(response, 401)["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="paperfeed API", error="invalid_token"'
    # A site behind a proxy's password sends Basic credentials along: reads still answer.
    assert Client(HTTP_AUTHORIZATION="Basic YWRhOnNlY3JldA==").get(f"{V1}/daily").status_code == 200


def test_a_revoked_token_stops_working(ada):
    made = tokens.create_token(ada, "old laptop")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {made.secret}")
    assert api.get(f"{V1}/me").status_code == 200
    tokens.revoke_token(ada, made.token.id)
    assert error(api.get(f"{V1}/me"), 401)["message"].startswith("This API token is not valid")


def test_me_names_the_account_and_token_and_notes_its_use(ada):
    made = tokens.create_token(ada, "lab bot")
    body = Client(HTTP_AUTHORIZATION=f"Bearer {made.secret}").get(f"{V1}/me").json()
    assert body["username"] == "ada"
    assert body["token"]["name"] == "lab bot" and body["token"]["prefix"] == made.secret[:10]
    assert ApiToken.objects.get(id=made.token.id).last_used_at is not None


# --- votes ---


def test_voting_through_the_api(ada, ada_api):
    first = ada_api.post(f"{V1}/papers/{PAPER}/vote")
    assert first.status_code == 200 and first.json() == {"id": PAPER, "arxiv_id": PAPER, "upvotes": 1, "voted": True}
    assert ada_api.post(f"{V1}/papers/{PAPER}v2/vote").json()["upvotes"] == 1  # twice is once
    assert Vote.objects.filter(user=ada).count() == 1
    taken_back = ada_api.delete(f"{V1}/papers/{PAPER}/vote").json()
    assert taken_back == {"id": PAPER, "arxiv_id": PAPER, "upvotes": 0, "voted": False}


def test_voting_on_an_unknown_or_hidden_paper_is_a_404(ada_api):
    assert error(ada_api.post(f"{V1}/papers/2699.99999/vote"), 404)
    hide(PAPER)
    assert error(ada_api.post(f"{V1}/papers/{PAPER}/vote"), 404)
    assert not Vote.objects.exists()


def test_a_banned_member_can_read_but_not_vote(corpus):
    api = bearer(member("mallory", banned=True))
    assert api.get(f"{V1}/papers/{PAPER}").status_code == 200
    assert error(api.post(f"{V1}/papers/{PAPER}/vote"), 403)["message"] == (
        "This account has been banned from posting and voting."
    )
    assert not Vote.objects.exists()


# --- submissions ---


def test_submitting_a_paper_already_here_puts_it_on_todays_list(ada, ada_api):
    response = ada_api.post(f"{V1}/submissions", {"paper": f"https://arxiv.org/abs/{PAPER}v1"}, "application/json")
    assert response.status_code == 201
    body = response.json()
    today = timezone.localdate().isoformat()
    assert body["arxiv_id"] == PAPER and body["day"] == today and body["fetched"] is False
    assert body["paper"]["submitted_by"] == "ada" and body["paper"]["listed_on"] == today
    assert DailyEntry.objects.filter(source="submission", submitted_by=ada, paper__arxiv_id=PAPER).count() == 1
    again = error(ada_api.post(f"{V1}/submissions", {"paper": PAPER}, "application/json"), 409)
    assert again["message"] == f"arXiv:{PAPER} is already on today's list, submitted by you."
    assert again["details"] == {"arxiv_id": PAPER, "day": today}


def test_submissions_that_are_refused_say_why(corpus):
    api = bearer(member("newcomer", verified=False))
    refused = error(api.post(f"{V1}/submissions", {"paper": PAPER}, "application/json"), 403)
    assert refused["message"].startswith("Confirm your email address first")
    verified = bearer(member("ada"))
    not_an_id = error(verified.post(f"{V1}/submissions", {"paper": "hello"}, "application/json"), 400)
    assert "is not an arXiv id" in not_an_id["message"]
    missing = error(verified.post(f"{V1}/submissions", {}, "application/json"), 422)
    assert missing["details"][0]["parameter"] == "paper" and missing["message"] == "Field paper is required."
    not_json = error(verified.post(f"{V1}/submissions", "paper=1", "application/json"), 400)
    assert "not JSON" in not_json["message"]
    assert not DailyEntry.objects.filter(source="submission").exists()


# --- collections ---


def test_making_and_filling_a_collection(ada, ada_api):
    made = ada_api.post(f"{V1}/collections", {"name": "Reading group", "public": True}, "application/json")
    assert made.status_code == 201
    shelf = made.json()
    assert (shelf["name"], shelf["slug"], shelf["owner"]) == ("Reading group", "reading-group", "ada")
    assert shelf["public"] is True and shelf["paper_count"] == 0
    assert shelf["page_url"] == "http://testserver/users/ada/collections/reading-group"
    add = f"{V1}/collections/{shelf['id']}/papers"
    for arxiv_id in (PAPER, "hep-th/9901001", PAPER):
        response = ada_api.post(add, {"arxiv_id": arxiv_id}, "application/json")
        assert response.status_code == 200 and response.json()["in_collection"] is True
    assert ids(Client().get(add).json()) == ["hep-th/9901001", PAPER]  # public: anyone reads it, newest first
    removed = ada_api.delete(f"{V1}/collections/{shelf['id']}/papers/hep-th/9901001")
    assert removed.json() == {
        "collection": shelf["id"],
        "id": "hep-th/9901001",
        "arxiv_id": "hep-th/9901001",
        "in_collection": False,
    }
    mine = ada_api.get(f"{V1}/collections").json()
    assert [c["name"] for c in mine["results"]] == ["Reading group"] and mine["results"][0]["paper_count"] == 1
    assert ada_api.delete(f"{V1}/collections/{shelf['id']}").status_code == 204
    assert not Collection.objects.exists()


def test_a_private_collection_is_its_owners_alone(ada, ada_api):
    shelf = ada_api.post(f"{V1}/collections", {"name": "Secret"}, "application/json").json()
    assert shelf["public"] is False
    assert ada_api.get(f"{V1}/collections/{shelf['id']}").status_code == 200
    assert error(Client().get(f"{V1}/collections/{shelf['id']}"), 404)["message"].endswith("or it is private.")
    bob = bearer(member("bob"))
    assert error(bob.get(f"{V1}/collections/{shelf['id']}/papers"), 404)
    assert error(bob.post(f"{V1}/collections/{shelf['id']}/papers", {"arxiv_id": PAPER}, "application/json"), 404)


def test_only_the_owner_changes_a_public_collection(ada, ada_api):
    shelf = ada_api.post(f"{V1}/collections", {"name": "Open", "public": True}, "application/json").json()
    bob = bearer(member("bob"))
    refused = error(bob.post(f"{V1}/collections/{shelf['id']}/papers", {"arxiv_id": PAPER}, "application/json"), 403)
    assert refused["message"] == "Only the owner of a collection can change it."
    assert error(bob.delete(f"{V1}/collections/{shelf['id']}"), 403)
    assert Collection.objects.filter(id=shelf["id"]).exists()


def test_collection_refusals_say_why(ada, ada_api):
    assert error(ada_api.post(f"{V1}/collections", {"name": "  "}, "application/json"), 400)["message"] == (
        "Give the collection a name."
    )
    shelf = ada_api.post(f"{V1}/collections", {"name": "Shelf"}, "application/json").json()
    add = f"{V1}/collections/{shelf['id']}/papers"
    assert error(ada_api.post(add, {"arxiv_id": "2699.99999"}, "application/json"), 404)["message"] == (
        "arXiv:2699.99999 is not on this site."
    )
    assert error(ada_api.post(add, {"arxiv_id": "nonsense"}, "application/json"), 400)["details"] == {
        "parameter": "arxiv_id"
    }
    assert error(ada_api.get(f"{V1}/collections/999999"), 404)
    assert error(Client().get(f"{V1}/collections"), 401)
    banned = bearer(member("mallory", banned=True))
    assert error(banned.post(f"{V1}/collections", {"name": "Mine"}, "application/json"), 403)


# --- rate limits ---


def test_anonymous_reads_are_limited_per_address_with_retry_after(client, corpus, monkeypatch):
    monkeypatch.setattr(security, "ANONYMOUS_READS", Limit("api-anonymous", 2, timedelta(minutes=1)))
    assert client.get(f"{V1}/daily").status_code == 200
    assert client.get(f"{V1}/trending").status_code == 200
    assert client.get(f"{V1}/daily").status_code == 200  # answered from the page cache: it costs nothing, counts not
    response = client.get(f"{V1}/daily?page=1")
    body = error(response, 429)
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60 and body["details"] == {"retry_after": wait}
    assert body["message"].startswith("Too many requests: at most 2 a minute from one address without a token.")
    other_address = Client(REMOTE_ADDR="192.0.2.7")
    assert other_address.get(f"{V1}/daily").status_code == 200


def test_a_token_has_its_own_limit_and_a_lower_one_for_changes(ada, ada_api, monkeypatch):
    monkeypatch.setattr(security, "ANONYMOUS_READS", Limit("api-anonymous", 1, timedelta(minutes=1)))
    monkeypatch.setattr(security, "TOKEN_WRITES", Limit("api-token-writes", 2, timedelta(minutes=1)))
    for _ in range(3):  # more than an anonymous address may
        assert ada_api.get(f"{V1}/papers/{PAPER}").status_code == 200
    assert ada_api.post(f"{V1}/papers/{PAPER}/vote").status_code == 200
    assert ada_api.delete(f"{V1}/papers/{PAPER}/vote").status_code == 200
    response = ada_api.post(f"{V1}/papers/{PAPER}/vote")
    assert error(response, 429)["message"].startswith("Too many changes: at most 2 votes, submissions")
    assert int(response["Retry-After"]) >= 1
    assert not Vote.objects.exists()  # the refused vote was not cast
    assert ada_api.get(f"{V1}/papers/{PAPER}").status_code == 200  # reading goes on
    monkeypatch.setattr(security, "TOKEN_REQUESTS", Limit("api-token", 1, timedelta(minutes=1)))
    assert error(ada_api.get(f"{V1}/me"), 429)["message"].startswith("Too many requests: at most 1 a minute with one")


# --- the rest of /api ---


def test_unknown_endpoints_and_methods_answer_in_json(client, corpus):
    assert "/api/docs" in error(client.get(f"{V1}/papers-of-the-day"), 404)["message"]
    assert error(client.post(f"{V1}/nothing/here"), 404)
    response = client.put(f"{V1}/daily")
    assert error(response, 405)["message"] == "PUT is not allowed here: use GET."
    assert response["Allow"] == "GET"


def test_the_docs_and_schema_are_served_from_this_site(client):
    docs = client.get("/api/docs")
    html = docs.content.decode()
    assert docs.status_code == 200
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in html  # not from a CDN, so the CSP allows it
    assert "<script>" not in html  # no inline script either
    assert client.get("/static/ninja/swagger-ui-init.js").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "paperfeed API"
    assert "/api/v1/papers/{arxiv_id}" in schema["paths"] and "/api/v1/search" in schema["paths"]
    assert not any(path.startswith(("/api/papers", "/api/daily_papers")) for path in schema["paths"])
    assert schema["paths"]["/api/v1/daily"]["get"]["security"] == [{"BearerToken": []}, {}]  # a token is optional
    assert schema["paths"]["/api/v1/submissions"]["post"]["security"] == [{"BearerToken": []}]


# --- the tokens section of the settings page ---


def test_the_settings_page_lists_tokens_without_their_secrets(ada):
    made = tokens.create_token(ada, "reading-group bot")
    html = signed_in(ada).get("/accounts/settings").content.decode()
    assert 'id="api-tokens"' in html and "reading-group bot" in html
    assert f"{made.secret[:10]}…" in html and made.secret not in html
    assert 'action="/accounts/tokens"' in html


def test_a_new_token_is_shown_once_and_only_its_digest_is_kept(ada):
    browser = signed_in(ada)
    response = browser.post("/accounts/tokens", {"name": " lab   laptop ", "next": "/accounts/settings#api-tokens"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    token = ApiToken.objects.get(user=ada)
    secret = html.split('id="api-token-secret" class="api-token-secret" value="')[1].split('"')[0]
    assert secret.startswith("pf_") and len(secret) == 46
    assert token.name == "lab laptop" and token.prefix == secret[:10]
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.digest}
    assert "only time it is shown" in html and 'href="/accounts/settings#api-tokens"' in html
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(f"{V1}/me").json()["username"] == "ada"
    assert secret not in browser.get("/accounts/settings").content.decode()


def test_a_token_needs_a_name_and_there_is_a_most(ada, monkeypatch):
    browser = signed_in(ada)
    response = browser.post("/accounts/tokens", {"name": "   "})
    assert response.status_code == 400
    assert "Give the token a name" in response.content.decode()
    monkeypatch.setattr(tokens, "MAX_TOKENS", 1)
    tokens.create_token(ada, "one")
    refused = browser.post("/accounts/tokens", {"name": "two"})
    assert refused.status_code == 400 and "Revoke one you no longer use" in refused.content.decode()
    assert ApiToken.objects.count() == 1


def test_revoking_a_token_from_the_settings_page(ada):
    made = tokens.create_token(ada, "old laptop")
    browser = signed_in(ada)
    response = browser.post(f"/accounts/tokens/{made.token.id}/revoke", {"next": "/accounts/settings#api-tokens"})
    assert response.status_code == 303 and response["Location"] == "/accounts/settings#api-tokens"
    assert "“old laptop”" in browser.get("/accounts/settings").content.decode()  # the message says which
    assert not ApiToken.objects.exists()
    assert browser.post(f"/accounts/tokens/{made.token.id}/revoke").status_code == 404


def test_nobody_revokes_or_sees_another_members_tokens(ada):
    made = tokens.create_token(ada, "ada's laptop")
    bob = signed_in(member("bob"))
    assert bob.post(f"/accounts/tokens/{made.token.id}/revoke").status_code == 404
    assert "ada's laptop" not in bob.get("/accounts/tokens").content.decode()
    assert ApiToken.objects.count() == 1


def test_token_forms_need_a_signed_in_member_and_a_csrf_token(ada):
    assert Client().get("/accounts/tokens")["Location"].startswith("/accounts/signin")
    assert Client().post("/accounts/tokens", {"name": "x"})["Location"].startswith("/accounts/signin")
    guarded = signed_in(ada, enforce_csrf_checks=True)
    assert guarded.post("/accounts/tokens", {"name": "x"}).status_code == 403
    made = tokens.create_token(ada, "kept")
    assert guarded.post(f"/accounts/tokens/{made.token.id}/revoke").status_code == 403
    assert ApiToken.objects.count() == 1


def test_staff_see_tokens_in_the_admin_and_revoke_a_leaked_one(staff, ada):
    made = tokens.create_token(ada, "leaked laptop")
    listing_page = staff.get("/admin/api/apitoken/").content.decode()
    assert "leaked laptop" in listing_page and made.secret not in listing_page
    assert staff.get("/admin/api/apitoken/add/").status_code == 403  # tokens are made by their owners only
    response = staff.post(f"/admin/api/apitoken/{made.token.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert error(Client(HTTP_AUTHORIZATION=f"Bearer {made.secret}").get(f"{V1}/me"), 401)


def test_the_api_root_says_where_the_docs_are(client):
    for url in ("/api/", f"{V1}/"):
        body = client.get(url).json()
        assert body["docs"] == "http://testserver/api/docs"
        assert body["openapi"] == "http://testserver/api/openapi.json"
    assert "leave out the final slash" in error(client.get(f"{V1}/daily/"), 404)["message"]
