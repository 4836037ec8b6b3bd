"""More like this collection (issue 17, item 4): a model over a collection's papers ranks the recent papers.

On the test corpus plus test_recommend's MORE_PAPERS, embedded with the real MiniLM model (cached per session)."""

from __future__ import annotations

import re

import test_recommend
from conftest import member, signed_in
from django.test import Client
from test_recommend import DIFFUSION, reasons, recommended_ids

from paperfeed.community.models import Collection, CollectionItem
from paperfeed.papers.models import Paper, PaperEmbedding

# test_recommend's fixtures: its embedded papers, and a data directory, pool and background sample per test.
papers = test_recommend.papers
own_data_dir = test_recommend.own_data_dir

PROTEINS = {"2606.10005", "2606.10006", "2606.00010"}


def shelf(owner, name: str, *arxiv_ids: str, public: bool = True) -> Collection:
    slug = re.sub(r"\W+", "-", name.lower())
    collection = Collection.objects.create(owner=owner, name=name, slug=slug, public=public)
    for arxiv_id in arxiv_ids:
        CollectionItem.objects.create(collection=collection, paper=Paper.objects.get(arxiv_id=arxiv_id))
    return collection


def more(client, owner: str, slug: str):
    return client.get(f"/users/{owner}/collections/{slug}/more")


def test_a_public_collection_ranks_papers_like_its_own_first_with_the_nearest_as_reason(papers):
    ada = member()
    shelf(ada, "Diffusion", "2606.10001", "2606.10002")
    response = more(Client(), "ada", "diffusion")  # anyone may see a public collection's recommendations
    ids = recommended_ids(response)
    assert set(ids[:3]) == DIFFUSION - {"2606.10001", "2606.10002"}
    assert not {"2606.10001", "2606.10002"} & set(ids)  # the collection's own papers are left out
    assert len(ids) == len(set(ids)) == 16
    titles = {
        "Like Denoising Diffusion Models for High-Resolution Image Synthesis",
        "Like Latent Diffusion for Text-to-Image Generation",
    }
    assert set(reasons(response)) <= titles
    assert re.search(r'<p class="reason">Like <a href="/papers/2606\.1000[12]">', response.content.decode())
    assert "ranked by a model of the 2 papers in this collection" in response.content.decode()
    # The collection's page links to it.
    page = Client().get("/users/ada/collections/diffusion").content.decode()
    assert 'href="/users/ada/collections/diffusion/more"' in page


def test_another_collection_ranks_another_topic_first(papers):
    shelf(member(), "Proteins", "2606.10005")
    ids = recommended_ids(more(Client(), "ada", "proteins"))
    assert set(ids[:2]) == PROTEINS - {"2606.10005"}


def test_a_private_collection_and_its_recommendations_are_its_owners_alone(papers):
    ada, bob = member(), member("bob")
    shelf(ada, "Secret", "2606.10005", public=False)
    assert more(signed_in(ada), "ada", "secret").status_code == 200
    assert recommended_ids(more(signed_in(ada), "ada", "secret"))[0] in PROTEINS
    for client in (Client(), signed_in(bob)):
        assert more(client, "ada", "secret").status_code == 404
        assert client.get("/users/ada/collections/secret").status_code == 404
    assert more(Client(), "ada", "nothing-here").status_code == 404


def test_hidden_papers_are_never_recommended_nor_counted(papers):
    ada = member()
    Paper.objects.filter(arxiv_id__in=["2606.10003", "2606.10002"]).update(hidden=True)
    shelf(ada, "Diffusion", "2606.10001", "2606.10002")
    response = more(Client(), "ada", "diffusion")
    ids = recommended_ids(response)
    assert "2606.10003" not in ids and "2606.10002" not in ids
    assert set(ids[:2]) == DIFFUSION - {"2606.10001", "2606.10002", "2606.10003"}
    # The hidden paper in the collection is no positive: the model is of one paper, and no reason names it.
    assert "ranked by a model of the 1 paper in this collection" in response.content.decode()
    assert set(reasons(response)) == {"Like Denoising Diffusion Models for High-Resolution Image Synthesis"}


def test_an_empty_collection_and_one_without_embedded_papers_say_so(papers):
    ada = member()
    shelf(ada, "Empty")
    response = more(Client(), "ada", "empty")
    assert response.status_code == 200 and recommended_ids(response) == []
    assert "This collection has no papers yet, so there is nothing to go by." in response.content.decode()
    PaperEmbedding.objects.filter(paper__arxiv_id="2606.10005").delete()
    shelf(ada, "Unread", "2606.10005")
    response = more(Client(), "ada", "unread")
    assert response.status_code == 200 and recommended_ids(response) == []
    assert "None of this collection’s papers has been read by the site yet" in response.content.decode()


def test_the_page_costs_the_same_queries_whatever_the_collections_size(papers):
    """The fit runs in the request: its queries do not grow with the collection (caches dropped before each)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from paperfeed.recommend.services import ranking, training

    ada = member()
    counts = []
    for size in (1, 12):
        ids = list(Paper.objects.order_by("id").values_list("arxiv_id", flat=True)[:size])
        shelf(ada, f"First {size}", *ids)
        ranking.forget_pool()
        training.forget_background()
        with CaptureQueriesContext(connection) as queries:
            response = more(Client(), "ada", f"first-{size}")
        assert len(recommended_ids(response)) == 18 - size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- in digests, for the collections a member chooses ---


def choose(client, collection: Collection, chosen: bool = True):
    return client.post(f"/collections/{collection.pk}/digest", {"in_digest": "on"} if chosen else {})


def chosen_names(user) -> list[str]:
    from paperfeed.community.services.interests import digest_collections

    user.refresh_from_db()
    return [c.name for c in digest_collections(getattr(user, "interests", None), user)]


def test_a_member_puts_a_collection_in_their_digest_from_its_page_and_takes_it_out(papers):
    ada, bob = member(), member("bob")
    diffusion = shelf(bob, "Diffusion", "2606.10001")  # bob's, public: ada may follow it in her digest
    client = signed_in(ada)
    page = client.get("/users/bob/collections/diffusion").content.decode()
    assert "Add papers like these to my digest" in page
    response = choose(client, diffusion)
    assert response.status_code == 303 and response["Location"] == "/users/bob/collections/diffusion"
    assert chosen_names(ada) == ["Diffusion"]
    assert "Take it out of my digest" in client.get("/users/bob/collections/diffusion").content.decode()
    settings_page = client.get("/digest/settings").content.decode()
    assert 'Recent papers like the ones in <a href="/users/bob/collections/diffusion">Diffusion</a>' in settings_page
    assert choose(client, diffusion).status_code == 303  # twice: still once
    assert chosen_names(ada) == ["Diffusion"]
    choose(client, diffusion, chosen=False)
    assert chosen_names(ada) == []
    assert "Add papers like these to my digest" in client.get("/users/bob/collections/diffusion").content.decode()


def test_choosing_a_collection_for_a_digest_is_refused_when_it_should_be(papers):
    ada, bob = member(), member("bob")
    secret = shelf(bob, "Secret", "2606.10005", public=False)
    public = shelf(bob, "Open", "2606.10001")
    assert choose(signed_in(ada), secret).status_code == 404  # another's private collection: as if it did not exist
    assert choose(signed_in(ada), Collection(pk=999_999)).status_code == 404
    response = choose(Client(), public)  # signed out: sign in first, nothing chosen
    assert response.status_code == 302 and response["Location"].startswith("/accounts/signin")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ada)
    assert choose(strict, public).status_code == 403  # a forged form (no CSRF token)
    assert chosen_names(ada) == []
    # At most ten: the eleventh is refused with a message, and nothing changes.
    for n in range(10):
        assert choose(signed_in(ada), shelf(ada, f"Shelf {n}", "2606.10001")).status_code == 303
    refused = choose(signed_in(ada), public)
    assert refused.status_code == 400 and "already brings papers like 10 collections" in refused.content.decode()
    assert "Open" not in chosen_names(ada) and len(chosen_names(ada)) == 10


def test_a_digest_brings_papers_like_the_chosen_collections_with_reasons(papers):
    from datetime import UTC, datetime

    from conftest import digest_subscription

    from paperfeed.digests.services.compose import compose_for
    from paperfeed.digests.services.render import DigestRenderer

    ada, bob = member(), member("bob")
    subscription = digest_subscription(email="ada@example.org", user=ada, status="active", top_trending=0)
    now = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)  # the daily digest of the list of 1 July
    assert compose_for(subscription, now).items_of("like_collections") == []  # nothing chosen: no section
    diffusion = shelf(bob, "Diffusion", "2606.10001", "2606.10002")
    choose(signed_in(ada), diffusion)
    subscription.refresh_from_db()
    digest = compose_for(subscription, now)
    section = digest.items_of("like_collections")
    # 1 July's list holds one paper close to the collection's diffusion papers: the section holds it alone.
    assert [item.card.paper.arxiv_id for item in section] == ["2606.10003"]
    assert section[0].reasons[0].startswith("Like “") and section[0].reasons[0].endswith("”, in Diffusion")
    message = DigestRenderer().message(digest)
    assert "LIKE YOUR COLLECTIONS" in message.body and ", in Diffusion" in message.body
    # Bob makes his collection private: it is no longer ada's to follow, and the section goes.
    Collection.objects.filter(pk=diffusion.pk).update(public=False)
    subscription.refresh_from_db()
    assert compose_for(subscription, now).items_of("like_collections") == []
    assert chosen_names(ada) == []
