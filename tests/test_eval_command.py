"""`paperfeed eval beir DIR` on a tiny BEIR directory written by the test (SciFact itself is never shipped)."""

import json

import pytest
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


def test_all_three_modes_are_scored(beir, settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path / "data"
    call_command("eval", "beir", str(beir))
    out = capsys.readouterr().out
    assert "3 queries, 4 documents" in out
    rows = dict(line.split(" | ")[0:2] for line in out.splitlines() if line.startswith("| ") and "mode" not in line)
    assert set(rows) == {"| keyword", "| semantic", "| hybrid"}
    assert float(rows["| semantic"]) == pytest.approx(1.0)  # each claim's own document is nearest in meaning
    assert float(rows["| hybrid"]) == pytest.approx(1.0)


def test_one_mode(beir, settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path / "data"
    call_command("eval", "beir", str(beir), "--mode", "keyword")
    out = capsys.readouterr().out
    assert "| keyword |" in out and "semantic" not in out


def test_not_a_beir_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("eval", "beir", str(tmp_path))
    assert "qrels/test.tsv is missing" in str(error.value)
    assert error.value.returncode == 2


def test_a_missing_split_is_named(beir):
    with pytest.raises(CommandError, match="train"):
        call_command("eval", "beir", str(beir), "--split", "train")
