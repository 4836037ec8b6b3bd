"""`paperfeed eval beir DIR` on a tiny BEIR directory written by the test (SciFact itself is never shipped), and
`paperfeed eval known-items FILE` on the test corpus: both through the search page's own function."""

import json
import subprocess
import sys

import pytest
from conftest import site_env
from django.core.management import call_command
from django.core.management.base import CommandError

DOCS = [
    ("d1", "Vitamin D and bone density", "Vitamin D supplements increase bone mineral density in older adults."),
    ("d2", "Aspirin and heart attacks", "Daily low-dose aspirin lowers the risk of a first heart attack."),
    ("d3", "Sleep and memory", "Sleep after learning consolidates declarative memory in students."),
    ("d4", "Coffee and longevity", "Moderate coffee drinking is associated with lower all-cause mortality."),
]
QUERIES = [
    ("q1", "Vitamin D strengthens bones in the elderly."),
    ("q2", "Aspirin prevents myocardial infarction."),
    ("q3", "Sleeping helps you remember what you learned."),
]


@pytest.fixture
def beir(tmp_path):
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in DOCS)
    )
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in QUERIES))
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    return tmp_path


def paperfeed(data_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paperfeed", *args], env=site_env(data_dir), capture_output=True, text=True
    )


def test_all_three_modes_are_scored_in_a_scratch_site(beir, tmp_path):
    data = tmp_path / "data"
    assert paperfeed(data, "migrate", "-v0").returncode == 0
    done = paperfeed(data, "eval", "beir", str(beir))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "3 queries, 4 documents" in out
    # The documents went into a scratch site of their own, not into this one; their embeddings are kept.
    assert (
        "0 papers"
        in paperfeed(
            data, "shell", "-c", "from paperfeed.papers.models import Paper; print(Paper.objects.count(), 'papers')"
        ).stdout
    )
    assert list((data / "eval-cache").glob("beir-*.npy"))
    rows = dict(line.split(" | ")[0:2] for line in out.splitlines() if line.startswith("| ") and "mode" not in line)
    assert set(rows) == {"| keyword", "| semantic", "| hybrid"}
    assert float(rows["| semantic"]) == pytest.approx(1.0)  # each claim's own document is nearest in meaning
    assert float(rows["| hybrid"]) == pytest.approx(1.0)


def test_one_mode(beir, tmp_path):
    done = paperfeed(tmp_path / "data", "eval", "beir", str(beir), "--mode", "keyword")
    assert done.returncode == 0, done.stderr
    assert "| keyword |" in done.stdout and "semantic" not in done.stdout


def test_not_a_beir_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("eval", "beir", str(tmp_path))
    assert "qrels/test.tsv is missing" in str(error.value)
    assert error.value.returncode == 2


def test_a_missing_split_is_named(beir):
    with pytest.raises(CommandError, match="train"):
        call_command("eval", "beir", str(beir), "--split", "train")


@pytest.mark.django_db
def test_known_items_are_scored_per_mode_on_the_sites_papers(corpus, tmp_path, capsys):
    items = tmp_path / "items.tsv"
    items.write_text(
        "# a comment, then the papers and what one types to find them\n"
        "2606.00010\tProtein Folding with Geometric Deep Learning\n"
        "2606.00002\tgraph transformers billions of edges\n"
        "\n"
        "2606.00005v2\tzebra unicorn\n"
    )
    call_command("eval", "known-items", str(items), "--mode", "keyword", "--misses")
    out = capsys.readouterr().out
    assert "3 known items over this site's 10 papers" in out
    assert "| keyword | 2/3 (67%) | 0.667 |" in out
    assert "keyword: line 5 2606.00005 not in the first 100: zebra unicorn" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content, message",
    [
        ("2606.00010 no tab here\n", ":1: expected an arXiv id and a query separated by one tab, found 0 tabs"),
        ("# ok\n2606.00010\tfine\nbanana\tquery\n", ":3: 'banana' is not an arXiv id"),
        ("2606.00010\t   \n", ":1: the query is empty"),
        ("2606.00010\ta\tb\n", ":1: expected an arXiv id and a query separated by one tab, found 2 tabs"),
        ("2606.00010\tq\n2606.00010\tq\n", ":2: the same paper and query as line 1"),
        ("# only comments\n", ": no known items in it"),
        ("2699.99999\tsomething\n", ":1: arXiv:2699.99999 is not on this site"),
    ],
)
def test_a_malformed_known_item_line_is_named_and_exits_2(corpus, tmp_path, content, message):
    items = tmp_path / "items.tsv"
    items.write_text(content)
    with pytest.raises(CommandError) as error:
        call_command("eval", "known-items", str(items))
    assert f"{items}{message}" in str(error.value)
    assert error.value.returncode == 2


@pytest.mark.django_db
def test_a_known_item_file_that_is_not_text_is_named(tmp_path):
    items = tmp_path / "items.tsv"
    items.write_bytes(b"2606.00010\tok\n\xff\xfe\n")
    with pytest.raises(CommandError, match=r"items.tsv:2: not UTF-8 text"):
        call_command("eval", "known-items", str(items))
