"""Collections: named lists of papers, private to their owner or public, curated from the paper pages."""

import conftest
import pytest
from conftest import card_titles, signed_in
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client

from paperfeed.community.models import Collection, CollectionItem, Profile
from paperfeed.community.services.collections import collections_for_profile, create_collection
from paperfeed.papers.models import Paper

pytestmark = pytest.mark.django_db


def member(username: str, verified: bool = False, banned: bool = False) -> User:
    # Collections need no confirmed email address: members here are unverified unless a test says otherwise.
    return conftest.member(username, verified=verified, banned=banned)


def make(owner: User, name: str = "Reading group", public: bool = False, papers=(), description: str = ""):
    collection = create_collection(owner, name, description, public)
    for arxiv_id in papers:
        CollectionItem.objects.create(collection=collection, paper=Paper.objects.get(arxiv_id=arxiv_id))
    return collection


# --- your collections ---


def test_your_collections_need_you_signed_in(client, corpus):
    response = client.get("/collections")
    assert response.status_code == 302
    assert response.url == "/accounts/signin?next=/collections"


def test_creating_a_collection_goes_to_its_page(corpus):
    ada = member("ada")
    client = signed_in(ada)
    html = client.get("/collections").content.decode()
    assert "You have no collections yet." in html and 'action="/collections/new"' in html
    response = client.post(
        "/collections/new", {"name": "  Graph   learning ", "description": "For the seminar", "public": "on"}
    )
    assert response.status_code == 303
    assert response.url == "/users/ada/collections/graph-learning"
    collection = Collection.objects.get()
    assert (collection.name, collection.description, collection.public) == ("Graph learning", "For the seminar", True)
    page = client.get(response.url).content.decode()
    assert "<h1>Graph learning" in page and "For the seminar" in page and "No papers here yet." in page
    listing = client.get("/collections").content.decode()
    assert 'href="/users/ada/collections/graph-learning">Graph learning</a>' in listing and "0 papers" in listing


def test_collections_are_private_unless_made_public(corpus):
    client = signed_in(member("ada"))
    client.post("/collections/new", {"name": "Secret"})
    assert Collection.objects.get().public is False


def test_slugs_are_unique_per_owner(corpus):
    ada, bob = member("ada"), member("bob")
    slugs = [make(ada, name).slug for name in ["Reading list", "Reading list", "reading-list!", "Reading list"]]
    assert slugs == ["reading-list", "reading-list-2", "reading-list-3", "reading-list-4"]
    assert make(bob, "Reading list").slug == "reading-list"  # another owner has their own namespace
    assert make(ada, "文献 📚").slug == "collection"  # a name with no Latin letters still gets an address
    assert make(ada, "x" * 100).slug == "x" * 90


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": ""}, "Give the collection a name."),
        ({"name": "   "}, "Give the collection a name."),
        ({"name": "n" * 101}, "A collection name can be at most 100 characters; this one has 101."),
        (
            {"name": "ok", "description": "d" * 2001},
            "A description can be at most 2,000 characters; this one has 2,001",
        ),
    ],
)
def test_a_bad_name_or_description_is_refused_with_a_message(corpus, form, message):
    response = signed_in(member("ada")).post("/collections/new", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'value="{form["name"]}"' in html  # what was typed is kept
    assert not Collection.objects.exists()


def test_banned_members_cannot_create_or_change_collections(corpus):
    troll = member("troll")
    mine = make(troll, "Mine", papers=["2606.00001"])
    Profile.objects.filter(user=troll).update(banned=True)
    client = signed_in(troll)
    assert "banned" in client.get("/collections").content.decode()
    assert client.post("/collections/new", {"name": "More"}).status_code == 403
    assert client.post(f"/collections/{mine.pk}/edit", {"name": "Renamed"}).status_code == 403
    response = client.post(f"/collections/{mine.pk}/papers", {"arxiv_id": "2606.00002", "action": "add"})
    assert response.status_code == 403 and "banned" in response.content.decode()
    assert client.post(f"/collections/{mine.pk}/delete").status_code == 403
    assert list(Collection.objects.values_list("name", flat=True)) == ["Mine"]
    assert CollectionItem.objects.count() == 1
    assert "Save to collection" not in client.get("/papers/2606.00002").content.decode()


# --- one collection's page ---


def test_a_public_collection_is_open_to_everyone_and_lists_its_papers_as_cards(client, corpus):
    make(member("ada"), "Mixers", public=True, papers=["2606.00001", "2606.00007"])
    response = client.get("/users/ada/collections/mixers")
    assert response.status_code == 200
    html = response.content.decode()
    # Most recently added first.
    assert card_titles(html) == [
        "A Survey of Multilayer Perceptron Training",
        "MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision",
    ]
    assert "2 papers" in html and 'href="/users/ada">@ada</a>' in html
    assert "Remove from this collection" not in html and "Edit or delete" not in html


def test_a_private_collection_is_a_404_to_everyone_but_its_owner(client, corpus):
    ada = member("ada")
    secret = make(ada, "Secret", papers=["2606.00001"])
    assert client.get("/users/ada/collections/secret").status_code == 404
    bob = signed_in(member("bob"))
    assert bob.get("/users/ada/collections/secret").status_code == 404
    assert bob.get(f"/collections/{secret.pk}/edit").status_code == 404
    assert bob.post(f"/collections/{secret.pk}/delete").status_code == 404
    assert bob.post(f"/collections/{secret.pk}/papers", {"arxiv_id": "2606.00002", "action": "add"}).status_code == 404
    owner = signed_in(ada).get("/users/ada/collections/secret")
    assert owner.status_code == 200 and "Private" in owner.content.decode()
    assert Collection.objects.filter(pk=secret.pk, items__paper__arxiv_id="2606.00002").count() == 0


def test_others_cannot_change_a_public_collection(corpus):
    shared = make(member("ada"), "Shared", public=True, papers=["2606.00001"])
    bob = signed_in(member("bob"))
    for response in [
        bob.get(f"/collections/{shared.pk}/edit"),
        bob.post(f"/collections/{shared.pk}/edit", {"name": "Bob's now"}),
        bob.post(f"/collections/{shared.pk}/papers", {"arxiv_id": "2606.00001", "action": "remove"}),
        bob.post(f"/collections/{shared.pk}/delete"),
    ]:
        assert response.status_code == 403
        assert "Only the owner of a collection can change it." in response.content.decode()
    assert Collection.objects.get().name == "Shared" and CollectionItem.objects.count() == 1


def test_unknown_collections_and_owners_are_404(client, corpus):
    make(member("ada"), "Real", public=True)
    assert client.get("/users/ada/collections/imaginary").status_code == 404
    assert client.get("/users/nobody/collections/real").status_code == 404
    assert signed_in(member("bob")).get("/collections/987654/edit").status_code == 404


def test_hidden_papers_are_left_out_of_the_page_and_the_count(client, corpus):
    make(member("ada"), "Mixed", public=True, papers=["2606.00001", "2606.00002"])
    Paper.objects.filter(arxiv_id="2606.00002").update(hidden=True)
    html = client.get("/users/ada/collections/mixed").content.decode()
    assert card_titles(html) == ["MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision"]
    assert "1 paper" in html and "Graph Transformers" not in html


# --- curating from the paper page ---


def test_the_paper_page_offers_your_collections(corpus):
    ada = member("ada")
    holds, other = make(ada, "Holds it", papers=["2606.00002"]), make(ada, "Other")
    make(member("bob"), "Bob's list")
    html = signed_in(ada).get("/papers/2606.00002").content.decode()
    panel = html[html.index('class="save-to-collection"') :]
    panel = panel[: panel.index("</details>")]
    assert "saved in 1" in panel
    assert f'action="/collections/{holds.pk}/papers"' in panel and 'value="remove"' in panel
    assert '✓ In <a href="/users/ada/collections/holds-it">Holds it</a>' in panel
    assert f'action="/collections/{other.pk}/papers"' in panel and "Add to Other" in panel
    assert "Bob&#x27;s list" not in panel and "Bob's list" not in panel
    assert 'href="/collections?add=2606.00002#new-collection"' in panel


def test_signed_out_visitors_see_no_save_control(client, corpus):
    assert "Save to collection" not in client.get("/papers/2606.00002").content.decode()


def test_adding_and_removing_a_paper_is_idempotent(corpus):
    ada = member("ada")
    reading = make(ada, "Reading")
    client = signed_in(ada)
    url = f"/collections/{reading.pk}/papers"
    for _ in range(2):
        response = client.post(url, {"arxiv_id": "2606.00002", "action": "add", "next": "/papers/2606.00002#save"})
        assert response.status_code == 303 and response.url == "/papers/2606.00002#save"
        assert list(reading.papers.values_list("arxiv_id", flat=True)) == ["2606.00002"]
    for _ in range(2):
        response = client.post(url, {"arxiv_id": "2606.00002v2", "action": "remove"})
        assert response.status_code == 303 and response.url == "/users/ada/collections/reading"
        assert not reading.papers.exists()


def test_a_next_address_off_the_site_is_ignored(corpus):
    ada = member("ada")
    reading = make(ada, "Reading")
    response = signed_in(ada).post(
        f"/collections/{reading.pk}/papers",
        {"arxiv_id": "2606.00002", "action": "add", "next": "https://evil.example/"},
    )
    assert response.url == "/users/ada/collections/reading"


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"arxiv_id": "2606.99999", "action": "add"}, 404),
        ({"arxiv_id": "not-an-id", "action": "add"}, 404),
        ({"arxiv_id": "", "action": "add"}, 404),
        ({"arxiv_id": "2606.00006", "action": "add"}, 404),  # hidden below
        ({"arxiv_id": "2606.00002", "action": "toggle"}, 400),
        ({"arxiv_id": "2606.00002"}, 400),
    ],
)
def test_missing_or_hidden_papers_and_unknown_actions_are_refused(corpus, form, status):
    Paper.objects.filter(arxiv_id="2606.00006").update(hidden=True)
    ada = member("ada")
    reading = make(ada, "Reading")
    response = signed_in(ada).post(f"/collections/{reading.pk}/papers", form)
    assert response.status_code == status
    if status == 400:
        assert "action=add or action=remove" in response.content.decode()
    assert not CollectionItem.objects.exists()


def test_a_new_collection_made_from_a_paper_page_holds_that_paper(corpus):
    client = signed_in(member("ada"))
    html = client.get("/collections?add=2606.00002").content.decode()
    assert '<input type="hidden" name="paper" value="2606.00002">' in html
    response = client.post("/collections/new", {"name": "Transformers", "arxiv_id": "2606.00002"})
    assert response.status_code == 303 and response.url == "/papers/2606.00002#save"
    assert list(Collection.objects.get().papers.values_list("arxiv_id", flat=True)) == ["2606.00002"]
    # A paper that is not here makes nothing at all.
    assert client.post("/collections/new", {"name": "Ghosts", "arxiv_id": "2606.99999"}).status_code == 404
    assert Collection.objects.count() == 1


def test_the_owner_removes_papers_from_the_collection_page(corpus):
    ada = member("ada")
    reading = make(ada, "Reading", papers=["2606.00001"])
    client = signed_in(ada)
    html = client.get("/users/ada/collections/reading").content.decode()
    assert f'action="/collections/{reading.pk}/papers"' in html and "Remove from this collection" in html
    client.post(f"/collections/{reading.pk}/papers", {"arxiv_id": "2606.00001", "action": "remove"})
    assert "No papers here yet." in client.get("/users/ada/collections/reading").content.decode()


# --- edit and delete ---


def test_the_owner_edits_name_description_and_visibility_and_the_address_stays(corpus):
    ada = member("ada")
    reading = make(ada, "Reading", description="old")
    client = signed_in(ada)
    form = client.get(f"/collections/{reading.pk}/edit").content.decode()
    assert 'value="Reading"' in form and ">old</textarea>" in form
    response = client.post(
        f"/collections/{reading.pk}/edit", {"name": "Reading, term 2", "description": "new", "public": "on"}
    )
    assert response.status_code == 303 and response.url == "/users/ada/collections/reading"
    reading.refresh_from_db()
    assert (reading.name, reading.description, reading.public) == ("Reading, term 2", "new", True)
    assert "Reading, term 2" in Client().get("/users/ada/collections/reading").content.decode()


def test_an_edit_with_no_name_is_refused_and_nothing_changes(corpus):
    ada = member("ada")
    reading = make(ada, "Reading", public=True)
    response = signed_in(ada).post(f"/collections/{reading.pk}/edit", {"name": " ", "description": "x"})
    assert response.status_code == 400
    assert "Give the collection a name." in response.content.decode()
    reading.refresh_from_db()
    assert (reading.name, reading.public) == ("Reading", True)


def test_the_owner_deletes_a_collection_and_the_papers_stay(corpus):
    ada = member("ada")
    reading = make(ada, "Reading", papers=["2606.00001"])
    response = signed_in(ada).post(f"/collections/{reading.pk}/delete")
    assert response.status_code == 303 and response.url == "/collections"
    assert not Collection.objects.exists() and Paper.objects.filter(arxiv_id="2606.00001").exists()


def test_signed_out_visitors_are_sent_to_sign_in_by_every_form(client, corpus):
    reading = make(member("ada"), "Reading", public=True)
    for url, data in [
        ("/collections/new", {"name": "x"}),
        (f"/collections/{reading.pk}/edit", {"name": "x"}),
        (f"/collections/{reading.pk}/delete", {}),
        (f"/collections/{reading.pk}/papers", {"arxiv_id": "2606.00001", "action": "add"}),
    ]:
        response = client.post(url, data)
        assert response.status_code == 302 and response.url.startswith("/accounts/signin?next="), url
    assert Collection.objects.get().name == "Reading" and not CollectionItem.objects.exists()


# --- for the profile page ---


def test_collections_for_profile_shows_private_ones_only_to_their_owner(corpus):
    ada, bob = member("ada"), member("bob")
    make(ada, "Open", public=True, papers=["2606.00001", "2606.00002"])
    make(ada, "Closed")
    make(bob, "Bob's")
    Paper.objects.filter(arxiv_id="2606.00002").update(hidden=True)
    assert [c.name for c in collections_for_profile(ada, AnonymousUser())] == ["Open"]
    assert [c.name for c in collections_for_profile(ada, bob)] == ["Open"]
    mine = collections_for_profile(ada, ada)
    assert sorted(c.name for c in mine) == ["Closed", "Open"]
    assert {c.name: c.paper_count for c in mine} == {"Open": 1, "Closed": 0}


# --- security ---


def test_every_collection_form_needs_its_csrf_token(corpus):
    ada = member("ada")
    reading = make(ada, "Reading")
    client = signed_in(ada, enforce_csrf_checks=True)
    for url, data in [
        ("/collections/new", {"name": "forged"}),
        (f"/collections/{reading.pk}/edit", {"name": "forged"}),
        (f"/collections/{reading.pk}/papers", {"arxiv_id": "2606.00001", "action": "add"}),
        (f"/collections/{reading.pk}/delete", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert list(Collection.objects.values_list("name", flat=True)) == ["Reading"]
    assert not CollectionItem.objects.exists()


def test_hostile_names_and_descriptions_stay_inert(corpus):
    ada = member("ada")
    name = "<script>alert('n')</script>"
    description = '<img src=x onerror=alert(1)>\n<a href="javascript:alert(2)">x</a>'
    reading = make(ada, name, public=True, description=description, papers=["2606.00002"])
    client = signed_in(ada)
    pages = [
        client.get(f"/users/ada/collections/{reading.slug}"),
        client.get("/collections"),
        client.get(f"/collections/{reading.pk}/edit"),
        client.get("/papers/2606.00002"),
        Client().get(f"/users/ada/collections/{reading.slug}"),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in html and "<img src=x" not in html and 'href="javascript' not in html
        assert "&lt;script&gt;alert(&#x27;n&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;<br>" in pages[0].content.decode()
