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
