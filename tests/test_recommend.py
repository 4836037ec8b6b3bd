"""For you: the per-user model (pure maths), the page, "not interested", exclusions, filters, cold start, digests.

The 10-paper test corpus plus MORE_PAPERS below (diffusion, protein and language papers), embedded with the real
MiniLM model; vectors are cached across tests so each text is embedded once per session.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape

import numpy as np
import pytest
from conftest import digest_subscription, member, signed_in
from django.core.management import call_command
from django.test import Client

from paperfeed.core import recommend
from paperfeed.core.embedder import MODEL_NAME, default_embedder
from paperfeed.papers.models import Paper, PaperEmbedding, Vote

RECENT = "2026-06-30"


def paper_row(arxiv_id: str, title: str, abstract: str, categories: list[str], day: str = RECENT) -> dict:
    return {
        "id": arxiv_id,
        "title": title,
        "abstract": abstract,
        "authors": ["Rosalind Franklin", "Claude Shannon"],
        "categories": categories,
        "primary_category": categories[0],
        "msc_acm_classes": [],
        "first_listed": day,
        "last_seen": day,
        "times_listed": 1,
        "comment": "",
        "abs_url": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}",
    }


MORE_PAPERS = [
    paper_row(
        "2606.10001",
        "Denoising Diffusion Models for High-Resolution Image Synthesis",
        "We train denoising diffusion probabilistic models that generate high-resolution images by reversing a "
        "gradual noising process, reaching state-of-the-art FID on ImageNet.",
        ["cs.CV", "cs.LG"],
        "2026-06-27",
    ),
    paper_row(
        "2606.10002",
        "Latent Diffusion for Text-to-Image Generation",
        "Running the diffusion process in the latent space of an autoencoder makes text-to-image generation with "
        "diffusion models fast and memory efficient.",
        ["cs.CV"],
        "2026-06-27",
    ),
    paper_row(
        "2606.10003",
        "Fast Sampling of Diffusion Models with Consistency Distillation",
        "Diffusion models need hundreds of denoising steps. We distil a diffusion model into a consistency model "
        "that generates images in one or two steps.",
        ["cs.LG", "cs.CV"],
        "2026-07-01",
    ),
    paper_row(
        "2606.10004",
        "Video Generation with Spatiotemporal Diffusion Transformers",
        "A diffusion transformer denoises space-time patches and generates minute-long videos from text prompts.",
        ["cs.CV"],
    ),
    paper_row(
        "2606.10005",
        "Predicting Protein Structure from Sequence with Transformers",
        "We predict three-dimensional protein structures from amino-acid sequences with an attention model "
        "trained on the Protein Data Bank.",
        ["q-bio.BM", "cs.LG"],
    ),
    paper_row(
        "2606.10006",
        "Binding Affinity Prediction for Drug Discovery with Graph Networks",
        "Graph neural networks over protein-ligand complexes predict binding affinity for virtual screening.",
        ["q-bio.BM"],
    ),
    paper_row(
        "2606.10007",
        "Instruction Tuning Small Language Models for Question Answering",
        "Instruction tuning on synthetic question-answer pairs makes a small language model a strong reader.",
        ["cs.CL"],
    ),
    paper_row(
        "2606.10008",
        "Machine Translation for Low-Resource Languages",
        "Back-translation and multilingual pretraining improve translation for languages with little parallel text.",
        ["cs.CL"],
    ),
]
DIFFUSION = {"2606.10001", "2606.10002", "2606.10003", "2606.10004", "2606.00005"}


class CachedEmbedder:
    """The real embedder with a per-session cache: each text is embedded once however many tests load it."""

    name = MODEL_NAME
    dimensions = 384
    _cache: dict[str, np.ndarray] = {}

    def embed(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, row in zip(missing, default_embedder().embed(missing), strict=True):
                self._cache[text] = row
        return np.vstack([self._cache[t] for t in texts]).astype(np.float32)

    def embed_query(self, text):
        return self.embed([text])[0]


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    """Each test keeps its vector index in its own data directory, and starts with no cached pool or sample."""
    from paperfeed.recommend.services import ranking, training

    settings.DATA_DIR = tmp_path
    ranking.forget_pool()
    training.forget_background()
    yield
    ranking.forget_pool()
    training.forget_background()


@pytest.fixture
def papers(corpus, tmp_path):
    """The test corpus and MORE_PAPERS, every one embedded."""
    from paperfeed.papers.services.embedding import embed_pending
    from paperfeed.papers.services.loading import load_jsonl

    extra = tmp_path / "more.jsonl"
    extra.write_text("".join(json.dumps(row) + "\n" for row in MORE_PAPERS))
    load_jsonl(extra)
    embed_pending(CachedEmbedder())
    assert PaperEmbedding.objects.count() == 18
    return {p.arxiv_id: p for p in Paper.objects.all()}


def upvote(user, *arxiv_ids: str) -> None:
    for arxiv_id in arxiv_ids:
        Vote.objects.get_or_create(user=user, paper=Paper.objects.get(arxiv_id=arxiv_id))


def recommended_ids(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return re.findall(
        r'<div class="recommendation" id="rec-\d+">\s*<article class="card">.*?arXiv:([\w./-]+)<',
        response.content.decode(),
        re.S,
    )


def reasons(response) -> list[str]:
    found = re.findall(r'<p class="reason">(.*?)</p>', response.content.decode(), re.S)
    return [unescape(re.sub(r"<.*?>", "", r)) for r in found]


# --- the maths, without a database ---


def clusters(seed: int = 0):
    """Two well-separated topics in 384-d, 50 unit vectors each."""
    rng = np.random.default_rng(seed)
    centres = recommend.normalise(rng.normal(size=(2, 384)))
    a = recommend.normalise(centres[0] + 0.08 * rng.normal(size=(50, 384)))
    b = recommend.normalise(centres[1] + 0.08 * rng.normal(size=(50, 384)))
    return a, b


def test_the_model_ranks_the_liked_topic_first_and_explains_with_the_nearest_positive():
    a, b = clusters()
    background = np.vstack([a[40:], b[40:]])
    model = recommend.fit_user_model(a[:5], None, background)
    scores = recommend.score(model, np.vstack([a[10:30], b[10:30]]))
    assert scores.shape == (40,) and scores.dtype == np.float32
    assert scores[:20].min() > scores[20:].max()
    # Each candidate's reason is the positive it is most similar to.
    candidates = a[10:13]
    expected = [int(np.argmax(recommend.normalise(c) @ model.positives.T)) for c in candidates]
    assert recommend.reasons(model, candidates, ["p1", "p2", "p3", "p4", "p5"]) == expected
    with pytest.raises(ValueError, match="labels"):
        recommend.reasons(model, candidates, ["only one"])


def test_dismissed_papers_pull_their_topic_down():
    a, b = clusters(1)
    liked = np.vstack([a[:3], b[:3]])  # likes both topics equally
    background = np.vstack([a[40:], b[40:]])
    neutral = recommend.fit_user_model(liked, None, background)
    no_more_b = recommend.fit_user_model(liked, b[3:13], background)
    candidates = np.vstack([a[20:30], b[20:30]])
    before = set(recommend.top_indices(recommend.score(neutral, candidates), 10))
    after = set(recommend.top_indices(recommend.score(no_more_b, candidates), 10))
    assert 2 <= len(before & set(range(10))) <= 8  # both topics near the top
    assert after == set(range(10))  # topic a only


def test_without_anything_to_contrast_the_model_is_the_centroid_and_without_positives_there_is_none():
    a, _ = clusters()
    model = recommend.fit_user_model(a[:3], None, np.zeros((0, 384)))
    assert model.bias == 0.0
    assert np.allclose(np.linalg.norm(model.weights), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="cold_start_scores"):
        recommend.fit_user_model(np.zeros((0, 384)), None, a)


def test_a_positive_in_the_background_sample_does_not_count_against_itself():
    a, b = clusters(2)
    model = recommend.fit_user_model(a[:1], None, np.vstack([a[:1], b[:20]]))
    assert recommend.score(model, a[:1])[0] > recommend.score(model, b[:20]).max()


def test_scoring_many_users_and_picking_the_top_leaving_some_out():
    a, b = clusters(3)
    models = [recommend.fit_user_model(a[:4], None, b[:30]), recommend.fit_user_model(b[:4], None, a[:30])]
    candidates = np.vstack([a[30:40], b[30:40]])
    many = recommend.score_many(models, candidates)
    assert many.shape == (2, 20)
    assert np.allclose(many[0], recommend.score(models[0], candidates), atol=1e-5)
    exclude = np.zeros(20, dtype=bool)
    exclude[:5] = True
    top = recommend.top_indices(many[0], 3, exclude=exclude)
    assert len(top) == 3 and all(5 <= i < 10 for i in top)
    assert list(top) == sorted(top, key=lambda i: -many[0][i])
    assert len(recommend.top_indices(many[0], 50, exclude=np.ones(20, dtype=bool))) == 0


def test_weights_survive_storage():
    a, b = clusters(4)
    model = recommend.fit_user_model(a[:4], None, b[:30])
    assert np.array_equal(recommend.weights_from_bytes(recommend.model_to_bytes(model)), model.weights)


# --- the words part (core/terms.py and the model's TermWeights) ---

TOPIC_WORDS = ["zebrafish", "larvae", "fin", "regeneration"]
OTHER_WORDS = ["galaxy", "quasar", "redshift", "telescope", "compiler", "kernel", "auction", "bidding"]


def word_corpus(seed: int = 0):
    """Texts where only the words tell the liked topic apart, with embeddings that carry no signal at all."""
    rng = np.random.default_rng(seed)

    def text(topic: bool) -> str:
        words = list(rng.choice(OTHER_WORDS, size=6))
        if topic:
            words += list(rng.choice(TOPIC_WORDS, size=3))
        return " ".join(rng.permutation(words))

    liked = [text(True) for _ in range(8)]
    background = [text(False) for _ in range(200)]
    candidates = [text(i % 4 == 0) for i in range(40)]
    vectors = recommend.normalise(rng.normal(size=(248, 384)))
    return liked, background, candidates, vectors[:8], vectors[8:208], vectors[208:]


def test_a_term_index_survives_its_file_and_a_damaged_file_is_named(tmp_path):
    from paperfeed.core import terms

    texts = ["Diffusion models generate images", "Protein folding with transformers", "Zebrafish fin regeneration"]
    index = terms.fit_term_index(texts * 4)
    assert index.papers == 12 and index.features > 0
    path = tmp_path / "terms.npz"
    index.save(path)
    loaded = terms.load_term_index(path)
    assert loaded.version == index.version
    assert (loaded.transform(texts) != index.transform(texts)).nnz == 0
    assert loaded.transform([]).shape == (0, index.features)
    path.write_bytes(b"not a zip file")
    with pytest.raises(terms.TermIndexError, match=r"terms\.npz: not a readable term index"):
        terms.load_term_index(path)
    with pytest.raises(ValueError, match="no words to index"):
        terms.fit_term_index(["the and of", "a an the"])


def test_the_words_part_finds_what_the_embeddings_cannot():
    from paperfeed.core import terms

    liked, background, candidates, liked_v, background_v, candidate_v = word_corpus()
    index, rows = terms.fit_term_index_with_rows(liked + background + candidates)
    relevant = {i for i, text in enumerate(candidates) if any(w in text.split() for w in TOPIC_WORDS)}
    alone = recommend.fit_user_model(liked_v, None, background_v)
    both = recommend.fit_user_model(
        liked_v, None, background_v, positive_terms=rows[:8], background_terms=rows[8:208], index_version=index.version
    )
    assert alone.terms is None and both.terms is not None
    assert 0 < len(both.terms.indices) <= recommend.TERMS_KEPT
    top_both = recommend.top_indices(recommend.score(both, candidate_v, rows[208:], index.version), len(relevant))
    top_alone = recommend.top_indices(recommend.score(alone, candidate_v), len(relevant))
    # The embeddings are noise here, so they blur the sum a little; the words alone rank every relevant one first.
    found_both, found_alone = len(set(top_both) & relevant), len(set(top_alone) & relevant)
    assert found_both >= len(relevant) - 2 and found_both > found_alone + 3, (found_both, found_alone)
    words = rows[208:] @ both.terms.dense(index.features)
    assert set(recommend.top_indices(words, len(relevant))) == relevant
    # Rows of another index (another version) are not mixed in: the embedding part ranks alone.
    other = recommend.score(both, candidate_v, rows[208:], "another-version")
    assert np.allclose(other, candidate_v @ both.weights + both.bias, atol=1e-5)


def test_the_words_part_keeps_its_largest_weights_and_survives_storage(monkeypatch):
    from paperfeed.core import terms

    liked, background, candidates, liked_v, background_v, _ = word_corpus(1)
    _, rows = terms.fit_term_index_with_rows(liked + background + candidates)
    monkeypatch.setattr(recommend, "TERMS_KEPT", 5)
    model = recommend.fit_user_model(liked_v, None, background_v, positive_terms=rows[:8], background_terms=rows[8:208])
    assert len(model.terms.indices) == 5
    assert list(model.terms.indices) == sorted(model.terms.indices)
    blob = model.terms.to_bytes()
    assert len(blob) == 5 * 6
    again = recommend.TermWeights.from_bytes(blob, model.terms.bias, "v")
    assert np.array_equal(again.indices, model.terms.indices)
    assert np.allclose(again.values, model.terms.values, rtol=1e-3)  # stored as float16
    with pytest.raises(ValueError, match="cannot be term weights"):
        recommend.TermWeights.from_bytes(b"123", 0.0, "v")
    with pytest.raises(ValueError, match="3 positive tf-idf rows for 8 positive embeddings"):
        recommend.fit_user_model(liked_v, None, background_v, positive_terms=rows[:3], background_terms=rows[8:208])


def test_scoring_many_users_with_words_is_scoring_each():
    from paperfeed.core import terms

    liked, background, candidates, liked_v, background_v, candidate_v = word_corpus(2)
    index, rows = terms.fit_term_index_with_rows(liked + background + candidates)
    with_words = recommend.fit_user_model(
        liked_v, None, background_v, positive_terms=rows[:8], background_terms=rows[8:208], index_version=index.version
    )
    without = recommend.fit_user_model(background_v[:5], None, background_v[5:])
    many = recommend.score_many([with_words, without], candidate_v, rows[208:], index.version)
    assert np.allclose(many[0], recommend.score(with_words, candidate_v, rows[208:], index.version), atol=1e-5)
    assert np.allclose(many[1], recommend.score(without, candidate_v), atol=1e-5)


def test_cold_start_puts_followed_papers_first_then_trending_and_new():
    age = np.array([0.0, 20.0, 1.0, 0.0])
    followed = np.array([0, 1, 0, 0])
    trending = np.array([0.0, 0.0, 9.0, 0.0])
    order = np.argsort(-recommend.cold_start_scores(age, followed, trending))
    assert list(order) == [1, 2, 0, 3] or list(order) == [1, 2, 3, 0]
    assert (
        recommend.cold_start_scores(age, followed, trending)[0]
        == recommend.cold_start_scores(age, followed, trending)[3]
    )


def test_scoring_75000_candidates_is_one_fast_product():
    import time

    rng = np.random.default_rng(5)
    candidates = recommend.normalise(rng.normal(size=(75_000, 384)))
    model = recommend.fit_user_model(candidates[:20], None, candidates[1000:3000])
    recommend.score(model, candidates)
    start = time.perf_counter()
    recommend.score(model, candidates)
    assert time.perf_counter() - start < 0.5  # ~20 ms here; generous for a busy shared machine (bench/ measures)


# --- the page ---


def test_signed_out_visitors_are_sent_to_sign_in(db):
    response = Client().get("/for-you")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/signin?next=/for-you")


def test_the_nav_links_to_for_you_only_when_signed_in(corpus):
    assert 'href="/for-you"' not in Client().get("/").content.decode()
    assert 'href="/for-you"' in signed_in(member()).get("/").content.decode()


def test_a_user_with_no_signals_gets_a_starter_page_not_an_error(papers):
    response = signed_in(member()).get("/for-you")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing to go by yet" in page and "import your library" in page
    assert len(recommended_ids(response)) == 18  # every recent paper, trending then newest
    assert all(r.startswith(("New: listed", "Trending")) for r in reasons(response))


def test_trending_papers_lead_the_starter_page(papers):
    other = member("bob")
    upvote(other, "2606.00009")
    response = signed_in(member()).get("/for-you")
    assert recommended_ids(response)[0] == "2606.00009"
    assert reasons(response)[0].startswith("Trending")


def test_cold_start_from_followed_categories_and_authors(papers):
    from paperfeed.papers.models import Author

    user = member()
    subscription = digest_subscription(email="ada@example.org", user=user, categories=["q-bio.BM"])
    subscription.interests.authors.set([Author.objects.get(name="Ada Lovelace")])  # an author of 2606.00001
    response = signed_in(user).get("/for-you")
    page = response.content.decode()
    assert "what you follow" in page and "q-bio.BM" in page
    ids = recommended_ids(response)
    followed = {"2606.10005", "2606.10006", "2606.00010", "2606.00001"}
    assert set(ids[:4]) == followed
    assert "By Ada Lovelace, whom you follow" in reasons(response)
    assert "In q-bio.BM, which you follow" in reasons(response)


def test_interests_steer_the_cold_start_without_any_email_digest(papers):
    """Interests are the member's own (community.Interests): For you reads them whether or not they take a digest."""
    from paperfeed.community.models import Interests
    from paperfeed.digests.models import Subscription

    user = member()
    Interests.objects.create(user=user, categories=["q-bio.BM"], exclude_keywords=["folding"])
    response = signed_in(user).get("/for-you")
    assert not Subscription.objects.exists()
    assert "In q-bio.BM, which you follow" in reasons(response)
    assert "from your interests, set in your digest settings" in response.content.decode()  # the word filter too
    titles = Paper.objects.filter(arxiv_id__in=recommended_ids(response)).values_list("title", "abstract")
    assert titles and not any("folding" in f"{t} {a}".lower() for t, a in titles)


def test_a_user_who_upvoted_diffusion_papers_gets_diffusion_papers_first_because_of_them(papers):
    user = member()
    upvote(user, "2606.10001", "2606.10002")
    response = signed_in(user).get("/for-you")
    ids = recommended_ids(response)
    assert "2606.10001" not in ids and "2606.10002" not in ids  # already upvoted
    assert set(ids[:3]) <= DIFFUSION, ids
    first_reason = reasons(response)[0]
    assert first_reason in {
        "Because you upvoted Denoising Diffusion Models for High-Resolution Image Synthesis",
        "Because you upvoted Latent Diffusion for Text-to-Image Generation",
    }
    # The reason links to the paper it names.
    page = response.content.decode()
    assert re.search(r'<p class="reason">Because you upvoted <a href="/papers/2606\.1000[12]">', page)
    assert "ranked by what you liked: 2 papers you upvoted" in page


def test_collection_papers_count_and_are_named_in_reasons(papers):
    from paperfeed.community.models import Collection, CollectionItem

    user = member()
    shelf = Collection.objects.create(owner=user, name="Proteins", slug="proteins")
    CollectionItem.objects.create(collection=shelf, paper=papers["2606.10005"])
    response = signed_in(user).get("/for-you")
    ids = recommended_ids(response)
    assert "2606.10005" not in ids
    assert ids[0] in {"2606.10006", "2606.00010"}
    assert (
        reasons(response)[0]
        == "Because you saved Predicting Protein Structure from Sequence with Transformers to Proteins"
    )


def test_voted_dismissed_sent_and_hidden_papers_are_left_out(papers):
    from paperfeed.digests.models import Delivery
    from paperfeed.recommend.models import Dismissal

    user = member()
    upvote(user, "2606.10001", "2606.10002")
    Dismissal.objects.create(user=user, paper=papers["2606.00009"])
    subscription = digest_subscription(email="ada@example.org", user=user, status="active")
    Delivery.objects.create(
        subscription=subscription, period="daily:2026-07-01", status="sent", papers=[papers["2606.10003"].id]
    )
    Paper.objects.filter(arxiv_id="2606.10004").update(hidden=True)
    ids = recommended_ids(signed_in(user).get("/for-you"))
    assert not {"2606.10001", "2606.10002", "2606.00009", "2606.10003", "2606.10004"} & set(ids)
    assert ids[0] == "2606.00005"  # the one diffusion paper left
    assert len(ids) == 18 - 5


def test_hard_filters_from_the_form_apply_before_ranking(papers):
    user = member()
    upvote(user, "2606.10001", "2606.10002")
    client = signed_in(user)
    no_diffusion = recommended_ids(client.get("/for-you", {"filters": "form", "exclude": "diffusion"}))
    assert no_diffusion and not set(no_diffusion) & DIFFUSION
    only_cl = recommended_ids(client.get("/for-you", {"filters": "form", "categories": "cs.CL"}))
    assert set(only_cl) == {"2606.00008", "2606.00009", "2606.10007", "2606.10008"}
    words = recommended_ids(client.get("/for-you", {"filters": "form", "include": "protein, robot"}))
    assert set(words) == {"2606.10005", "2606.10006", "2606.00010", "2606.00005"}
    assert words[0] == "2606.00005"  # the diffusion one among them ranks first
    nothing = client.get("/for-you", {"filters": "form", "include": "no paper has this word"})
    assert nothing.status_code == 200 and "passes these filters" in nothing.content.decode()


def test_hard_filters_come_from_the_digest_settings_unless_the_form_says_otherwise(papers):

    user = member()
    upvote(user, "2606.10001")
    digest_subscription(email="ada@example.org", user=user, exclude_keywords=["diffusion"])
    client = signed_in(user)
    response = client.get("/for-you")
    assert not set(recommended_ids(response)) & DIFFUSION
    assert "from your interests, set in your digest settings" in response.content.decode()
    assert 'value="diffusion"' in response.content.decode()  # shown in the form, to change here
    assert set(recommended_ids(client.get("/for-you", {"filters": "form", "exclude": ""}))) & DIFFUSION


@pytest.mark.parametrize(
    "params, message",
    [
        ({"filters": "form", "categories": "cs.CL; drop table"}, "is not an arXiv category"),
        ({"filters": "form", "include": ",".join(f"w{i}" for i in range(30))}, "at most 20 words to include"),
        ({"page": "two"}, "is not a page number"),
    ],
)
def test_bad_filter_input_gets_a_message_and_a_400(papers, params, message):
    response = signed_in(member()).get("/for-you", params)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())


def test_an_empty_site_says_there_is_nothing_to_recommend(db):
    response = signed_in(member()).get("/for-you")
    assert response.status_code == 200
    assert "daily lists are empty" in response.content.decode()


def test_pages_go_on_and_stop(papers):
    client = signed_in(member())
    first = client.get("/for-you")
    assert 'rel="next"' not in first.content.decode()  # 18 papers fit on a page of 20
    from paperfeed.recommend.services import ranking

    result = ranking.for_you(member("bob"), limit=5, page=4)
    assert len(result.items) == 3 and not result.has_next


# --- not interested ---


def test_not_interested_removes_the_paper_and_teaches_the_model(papers):
    from paperfeed.recommend.models import Dismissal, UserModelState

    user = member()
    upvote(user, "2606.10001")
    client = signed_in(user)
    first = recommended_ids(client.get("/for-you"))[0]
    assert UserModelState.objects.get(user=user).negatives == 0
    response = client.post(f"/for-you/not-interested/{first}", {"next": "/for-you"})
    assert response.status_code == 303 and response["Location"] == "/for-you"
    assert Dismissal.objects.filter(user=user, paper__arxiv_id=first).exists()
    after = client.get("/for-you")
    assert first not in recommended_ids(after)
    assert "You will not see" in after.content.decode()
    state = UserModelState.objects.get(user=user)
    assert state.negatives == 1  # refitted with the dismissal as a negative


def test_not_interested_with_htmx_swaps_the_card_and_can_be_undone(papers):
    from paperfeed.recommend.models import Dismissal

    user = member()
    client = signed_in(user)
    response = client.post("/for-you/not-interested/2606.10003", {"next": "/for-you"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and 'id="rec-' in page and "Undo" in page and "<html" not in page
    assert Dismissal.objects.filter(user=user).count() == 1
    undone = client.post("/for-you/not-interested/2606.10003", {"undo": "1"}, HTTP_HX_REQUEST="true")
    assert "may be recommended to you again" in undone.content.decode()
    assert not Dismissal.objects.filter(user=user).exists()


def test_not_interested_twice_is_one_dismissal(papers):
    from paperfeed.recommend.models import Dismissal

    client = signed_in(member())
    client.post("/for-you/not-interested/2606.10003")
    client.post("/for-you/not-interested/2606.10003")
    assert Dismissal.objects.count() == 1


def test_not_interested_needs_a_signed_in_user_a_known_paper_and_a_post(papers):
    response = Client().post("/for-you/not-interested/2606.10003")
    assert response.status_code == 302 and "/accounts/signin" in response["Location"]
    client = signed_in(member())
    assert client.post("/for-you/not-interested/2699.99999").status_code == 404
    assert client.post("/for-you/not-interested/not-an-id").status_code == 404
    assert client.get("/for-you/not-interested/2606.10003").status_code == 405


def test_posts_without_a_csrf_token_are_refused(papers):
    client = signed_in(member(), enforce_csrf_checks=True)
    assert client.post("/for-you/not-interested/2606.10003").status_code == 403
    assert client.post("/for-you/library/clear").status_code == 403
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("lib.bib", b"@misc{a, title={A title long enough}}")
    assert client.post("/for-you/library", {"file": upload}).status_code == 403


def test_the_page_has_a_not_interested_form_with_a_token_per_card(papers):
    response = signed_in(member()).get("/for-you")
    page = response.content.decode()
    assert page.count('class="not-interested"') == 18
    assert page.count('action="/for-you/not-interested/') == 18
    assert 'name="csrfmiddlewaretoken"' in page


# --- the model in the background ---


def test_a_change_of_signals_makes_the_model_stale_until_refitted(papers):
    from paperfeed.recommend.models import UserModelState
    from paperfeed.recommend.services import training

    user = member()
    upvote(user, "2606.10001")
    assert training.stale_user_ids() == [user.pk]  # signals and no model yet
    training.refit_users(training.stale_user_ids())
    assert training.stale_user_ids() == []
    upvote(user, "2606.10005")
    assert training.stale_user_ids() == [user.pk]
    training.refit_users([user.pk])
    assert UserModelState.objects.get(user=user).positives == 2
    # Taking an upvote back and giving another changes the signals too.
    Vote.objects.filter(user=user, paper__arxiv_id="2606.10005").delete()
    upvote(user, "2606.10006")
    assert training.stale_user_ids() == [user.pk]
    # With every positive signal taken back the model goes; dismissals alone make no model.
    from paperfeed.recommend.models import Dismissal

    Dismissal.objects.create(user=user, paper=papers["2606.00009"])
    Vote.objects.filter(user=user).delete()
    assert training.stale_user_ids() == [user.pk]
    assert training.refit_users([user.pk]) == (0, 1)
    assert not UserModelState.objects.exists()
    assert training.stale_user_ids() == []


def test_a_big_model_is_not_fitted_in_the_request_but_serves_its_stored_weights(papers, monkeypatch):
    from paperfeed.recommend.models import UserModelState
    from paperfeed.recommend.services import training

    monkeypatch.setattr(training, "LAZY_FIT_POSITIVES", 1)
    user = member()
    upvote(user, "2606.10001")
    training.refit(user)
    trained_at = UserModelState.objects.get(user=user).trained_at
    upvote(user, "2606.10002")
    response = signed_in(user).get("/for-you")
    assert "will count within a few minutes" in response.content.decode()
    assert UserModelState.objects.get(user=user).trained_at == trained_at
    assert training.stale_user_ids() == [user.pk]


def test_the_recommend_command_refits_and_shows(papers, capsys):
    user = member()
    upvote(user, "2606.10001", "2606.10002")
    call_command("recommend", "refit")
    assert "Refitted 1 model." in capsys.readouterr().out
    call_command("recommend", "refit")
    assert "Refitted 0 models." in capsys.readouterr().out
    call_command("recommend", "show", "ada", "--limit", "3")
    out = capsys.readouterr().out
    assert "ranked by a model of 2 papers ada liked" in out
    assert out.count("Because you upvoted") == 3


# --- the words part on the site: the term index and models fitted with it ---


def test_the_background_fits_a_term_index_and_models_then_have_a_words_part(papers):
    from paperfeed.recommend.models import UserModelState
    from paperfeed.recommend.services import ranking, terms, training

    user = member()
    upvote(user, "2606.10001", "2606.10002")
    assert terms.why_rebuild() == "there is no term index yet"
    training.refit(user)
    assert UserModelState.objects.get(user=user).term_index == ""  # no index yet: the embedding part only
    run = training.background_pass()
    assert run.terms_rebuilt and terms.index_path().exists() and terms.why_rebuild() is None
    assert run.refitted == 1, "a new term index makes the model stale"
    state = UserModelState.objects.get(user=user)
    assert state.term_index == terms.current_version() != ""
    assert 0 < len(bytes(state.term_weights)) <= 6 * recommend.TERMS_KEPT
    assert training.stale_user_ids() == []
    ranking.forget_pool()
    assert ranking.candidate_pool().terms_version == state.term_index
    ids = recommended_ids(signed_in(user).get("/for-you"))
    assert set(ids[:3]) <= DIFFUSION, ids


def test_a_site_that_grows_refits_its_term_index(corpus, tmp_path):
    from paperfeed.papers.services.loading import load_jsonl
    from paperfeed.recommend.services import terms

    first = terms.rebuild()
    assert first.papers == 10 and terms.why_rebuild() is None
    extra = tmp_path / "more.jsonl"
    extra.write_text("".join(json.dumps(row) + "\n" for row in MORE_PAPERS))
    load_jsonl(extra)
    assert terms.why_rebuild() == "it was fitted on 10 papers and the site now has 18"
    assert terms.rebuild().version != first.version


def test_an_unreadable_term_index_never_breaks_for_you_and_is_rebuilt(papers, caplog):
    from paperfeed.recommend.services import ranking, terms, training

    user = member()
    upvote(user, "2606.10001")
    training.background_pass()
    terms.index_path().write_bytes(b"\x00" * 100)
    ranking.forget_pool()
    response = signed_in(user).get("/for-you")
    assert response.status_code == 200 and set(recommended_ids(response)[:2]) <= DIFFUSION
    assert "not a readable term index" in caplog.text
    assert "cannot be read" in terms.why_rebuild()
    run = training.background_pass()
    assert run.terms_rebuilt and terms.current_index() is not None


def test_the_recommend_command_fits_the_term_index_first(papers, capsys):
    user = member()
    upvote(user, "2606.10001", "2606.10002")
    call_command("recommend", "refit")
    out = capsys.readouterr().out
    assert "Fitting the term index (there is no term index yet)…" in out
    assert "The term index holds" in out and "from 18 papers." in out
    assert "Refitted 1 model." in out


def test_a_digest_run_loads_its_users_models_in_bulk_and_ranks_as_one_by_one(papers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from paperfeed.recommend.services import ranking, training
    from paperfeed.recommend.services.ranking import DigestRecommender, HardFilters

    training.background_pass()
    users = [member(f"reader{i}") for i in range(6)]
    liked = [["2606.10001"], ["2606.10005"], ["2606.10007", "2606.10008"], ["2606.10002"], ["2606.10006"], []]
    for user, ids in zip(users, liked, strict=True):
        upvote(user, *ids)
    training.refit_users([u.pk for u in users])
    ranking.candidate_pool()  # built once per process, as in a run
    since = datetime(2026, 6, 27).date()
    one_by_one = {u.pk: ranking.digest_recommendations(u, (), since, 5, HardFilters()) for u in users}
    assert one_by_one[users[-1].pk] == [] and any(one_by_one.values())

    def loading_queries(count: int) -> int:
        recommender = DigestRecommender()
        with CaptureQueriesContext(connection) as captured:
            recommender.prefetch(u.pk for u in users[:count])
        return len(captured)

    assert loading_queries(1) == loading_queries(6) == 2  # the stored models, then every signal
    recommender = DigestRecommender()
    recommender.prefetch(u.pk for u in users)
    bulk = {u.pk: recommender.recommend(u.pk, (), since, 5, HardFilters()) for u in users}
    assert bulk == one_by_one
    # The window: nothing listed since a day after the last list; exclusions and filters apply.
    assert recommender.recommend(users[0].pk, (), datetime(2026, 7, 2).date(), 5, HardFilters()) == []
    first = bulk[users[0].pk][0][0]
    assert first not in [pid for pid, _ in recommender.recommend(users[0].pk, {first}, since, 5, HardFilters())]
    only_video = HardFilters.build([], ["video"], [])
    assert {
        Paper.objects.get(id=pid).arxiv_id for pid, _ in recommender.recommend(users[0].pk, (), since, 5, only_video)
    } <= {"2606.10004"}


def test_the_recommend_command_rejects_unknown_users(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="there is no user 'nobody'"):
        call_command("recommend", "show", "nobody")


# --- digests ---


def test_a_digest_gets_a_for_you_section_with_reasons_for_a_user_with_a_trained_model(papers):
    from paperfeed.digests.services.compose import compose_for
    from paperfeed.digests.services.render import DigestRenderer
    from paperfeed.recommend.services import training

    user = member()
    subscription = digest_subscription(
        email="ada@example.org", user=user, status="active", top_trending=0, categories=["cs.CL"]
    )
    upvote(user, "2606.10001")
    now = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)
    assert compose_for(subscription, now).for_you == []  # no trained model yet: no section
    training.refit(user)
    digest = compose_for(subscription, now)
    assert digest.for_you, "a trained model gives a For you section"
    # The day's list (1 July) holds one paper close to the upvoted one: the section holds it and nothing weaker.
    assert [item.card.paper.arxiv_id for item in digest.for_you] == ["2606.10003"]
    assert all(item.reasons[0].startswith("Because you upvoted “Denoising") for item in digest.for_you)
    assert not {i.card.paper.id for i in digest.for_you} & {i.card.paper.id for i in digest.matches}
    message = DigestRenderer().message(digest)
    assert "FOR YOU" in message.body and "Because you upvoted “Denoising Diffusion" in message.body
    html = message.alternatives[0][0] if isinstance(message.alternatives[0], tuple) else message.alternatives[0].content
    assert "For you" in html and "Because you upvoted" in html


def test_digest_papers_sent_are_not_recommended_again(papers):
    from paperfeed.digests.models import Delivery
    from paperfeed.digests.services.compose import compose_for
    from paperfeed.recommend.services import training

    user = member()
    subscription = digest_subscription(email="ada@example.org", user=user, status="active", top_trending=0)
    upvote(user, "2606.10001")
    training.refit(user)
    now = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)
    first = compose_for(subscription, now)
    Delivery.objects.create(subscription=subscription, period="daily:2026-07-01", status="sent", papers=first.paper_ids)
    ids = recommended_ids(signed_in(user).get("/for-you"))
    assert not {item.card.paper.arxiv_id for item in first.for_you} & set(ids)


def test_a_background_sample_drawn_again_keeps_its_tf_idf_rows(papers, monkeypatch):
    from paperfeed.recommend.services import terms, training

    index = terms.rebuild()
    first = training.background_sample()
    rows = training.background_rows(first, index)
    monkeypatch.setattr(training, "BACKGROUND_TTL", 0.0)  # every call draws the sample again
    again = training.background_sample()
    assert again is not first and again.ids == first.ids
    assert training.background_rows(again, index) is rows  # not computed again


def test_a_background_round_refits_for_a_limited_time_members_who_voted_first(papers, monkeypatch):
    from paperfeed.recommend.models import UserModelState
    from paperfeed.recommend.services import terms, training

    early, late, voter = member("early"), member("late"), member("voter")
    upvote(early, "2606.10001")
    upvote(late, "2606.10005")
    training.refit_users([early.pk, late.pk])  # fitted before there was a term index
    terms.rebuild()  # now both models are stale: another term index
    upvote(voter, "2606.10007")  # and this member's signals changed
    assert training.stale_user_ids() == [voter.pk, early.pk, late.pk]
    monkeypatch.setattr(training, "PASS_BUDGET_SECONDS", 0.0)  # one refit a round
    run = training.background_pass()
    assert (run.refitted, run.left) == (1, 2)
    assert UserModelState.objects.get(user=voter).term_index == terms.current_version()
    assert training.stale_user_ids() == [early.pk, late.pk]
    training.background_pass()
    run = training.background_pass()
    assert (run.refitted, run.left) == (1, 0) and training.stale_user_ids() == []
