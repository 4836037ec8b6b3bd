import json
import math
from pathlib import Path

import pytest

from paperfeed.core.evaluation import (
    BeirDocument,
    BeirError,
    Scores,
    evaluate,
    ndcg_at_k,
    read_beir,
    recall_at_k,
)

# --- nDCG@k: linear gains rel / log2(rank + 1), ideal ranking from every relevant judgment ---


def test_ndcg_is_one_for_the_ideal_ranking():
    assert ndcg_at_k(["a", "b", "x"], {"a": 2, "b": 1}) == pytest.approx(1.0)


def test_ndcg_one_relevant_document_at_rank_two():
    # DCG = 1 / log2(3), IDCG = 1.
    assert ndcg_at_k(["x", "a"], {"a": 1}) == pytest.approx(0.6309298, abs=1e-7)


def test_ndcg_uses_graded_gains_linearly():
    # DCG = 0 + 1/log2(3) + 2/log2(4) = 1.6309298; IDCG = 2/log2(2) + 1/log2(3) = 2.6309298.
    expected = (1 / math.log2(3) + 2 / 2) / (2 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "b", "c"], {"b": 1, "c": 2}) == pytest.approx(expected)
    assert expected == pytest.approx(0.6199, abs=1e-4)


def test_ndcg_ignores_documents_below_the_cutoff():
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at_k(ranked, {"a": 1}) == 0.0
    assert ndcg_at_k(ranked, {"a": 1}, k=11) == pytest.approx(1 / math.log2(12))


def test_ndcg_ideal_is_cut_at_k_too():
    # Three relevant documents but only two slots: finding two of them is perfect.
    assert ndcg_at_k(["a", "b"], {"a": 1, "b": 1, "c": 1}, k=2) == pytest.approx(1.0)
    # DCG = 1, IDCG = 1 + 1/log2(3) + 1/log2(4).
    assert ndcg_at_k(["a"], {"a": 1, "b": 1, "c": 1}) == pytest.approx(1 / (1 + 1 / math.log2(3) + 0.5))


def test_zero_judgments_are_not_relevant():
    assert ndcg_at_k(["a", "b"], {"a": 0, "b": 1}) == pytest.approx(1 / math.log2(3))
    assert recall_at_k(["b"], {"a": 0, "b": 1}) == 1.0


def test_nothing_relevant_scores_zero():
    assert ndcg_at_k(["a"], {}) == 0.0
    assert ndcg_at_k(["a"], {"a": 0}) == 0.0
    assert recall_at_k(["a"], {"a": 0}) == 0.0
    assert ndcg_at_k([], {"a": 1}) == 0.0


def test_a_repeated_document_counts_once_at_its_best_rank():
    assert ndcg_at_k(["x", "x", "a"], {"a": 1}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["a", "a"], {"a": 1}) == pytest.approx(1.0)


def test_recall_counts_relevant_documents_in_the_first_k():
    relevant = {"a": 1, "b": 2, "c": 1, "d": 0}
    assert recall_at_k(["a", "x", "b", "d"], relevant, k=2) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "x", "b", "d"], relevant) == pytest.approx(2 / 3)
    assert recall_at_k([], relevant) == 0.0


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k])
def test_cutoff_must_be_positive(metric):
    with pytest.raises(ValueError):
        metric(["a"], {"a": 1}, 0)


# --- evaluate ---


def test_evaluate_averages_over_every_judged_query():
    judgments = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}, "q3": {"d": 1}}
    run = {"q1": ["a"], "q2": ["x", "b"], "unjudged": ["a"]}  # q3 is missing: it scores 0
    scores = evaluate(run, judgments)
    ndcg_q2 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert scores == Scores(pytest.approx((1 + ndcg_q2 + 0) / 3), pytest.approx((1 + 0.5 + 0) / 3), 3)


def test_evaluate_leaves_out_the_query_itself():
    # BEIR's ignore_identical_ids: a corpus may hold the query's own text under the same id.
    scores = evaluate({"q1": ["q1", "a"]}, {"q1": {"a": 1}})
    assert scores.ndcg_at_10 == pytest.approx(1.0)


def test_evaluate_with_no_judgments():
    assert evaluate({"q": ["a"]}, {}) == Scores(0.0, 0.0, 0)


# --- read_beir ---


def write_beir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    corpus = [
        {"_id": "d1", "title": "Vitamin D and bones", "text": "Vitamin D helps.", "metadata": {}},
        {"_id": "d2", "text": "No title here."},
        {"_id": 3, "title": "Numeric id", "text": "Read as a string."},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n\n", encoding="utf-8")
    queries = [
        {"_id": "1", "text": "Vitamin D strengthens bones.", "metadata": {}},
        {"_id": "2", "text": "A claim judged only in train."},
        {"_id": "3", "text": "A claim with no judgments at all."},
        {"_id": "4", "text": "A claim judged not relevant."},
    ]
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n", encoding="utf-8")
    (root / "qrels").mkdir(exist_ok=True)
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n1\td1\t1\n1\t3\t2\n1\td2\t0\n4\td2\t0\n", encoding="utf-8"
    )
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n2\td2\t1\n", encoding="utf-8")
    return root


def test_read_beir(tmp_path):
    data = read_beir(write_beir(tmp_path / "tiny"))
    assert data.documents == [
        BeirDocument("d1", "Vitamin D and bones", "Vitamin D helps."),
        BeirDocument("d2", "", "No title here."),
        BeirDocument("3", "Numeric id", "Read as a string."),
    ]
    # Only judged queries; a query whose judgments are all 0 stays, with nothing relevant (BEIR scores it 0).
    assert data.queries == {"1": "Vitamin D strengthens bones.", "4": "A claim judged not relevant."}
    assert data.judgments == {"1": {"d1": 1, "3": 2}, "4": {}}


def test_read_beir_other_split(tmp_path):
    data = read_beir(write_beir(tmp_path / "tiny"), split="train")
    assert data.queries == {"2": "A claim judged only in train."}
    assert data.judgments == {"2": {"d2": 1}}
    assert len(data.documents) == 3


def test_qrels_without_a_header_line(tmp_path):
    root = write_beir(tmp_path / "tiny")
    (root / "qrels" / "test.tsv").write_text("1\td1\t1\n", encoding="utf-8")
    assert read_beir(root).judgments == {"1": {"d1": 1}}


def test_missing_corpus(tmp_path):
    root = write_beir(tmp_path / "tiny")
    (root / "corpus.jsonl").unlink()
    with pytest.raises(BeirError, match=r"corpus\.jsonl is missing"):
        read_beir(root)


def test_missing_split_file(tmp_path):
    root = write_beir(tmp_path / "tiny")
    with pytest.raises(BeirError, match=r"dev\.tsv is missing"):
        read_beir(root, split="dev")


def test_missing_queries(tmp_path):
    root = write_beir(tmp_path / "tiny")
    (root / "queries.jsonl").unlink()
    with pytest.raises(BeirError, match=r"queries\.jsonl is missing"):
        read_beir(root)


def test_a_bad_json_line_names_file_and_line(tmp_path):
    root = write_beir(tmp_path / "tiny")
    lines = (root / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = '{"_id": "d2", "text": '
    (root / "corpus.jsonl").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BeirError, match=r"corpus\.jsonl, line 2"):
        read_beir(root)


def test_a_line_without_an_id(tmp_path):
    root = write_beir(tmp_path / "tiny")
    with (root / "queries.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"text": "no id"}\n')
    with pytest.raises(BeirError, match=r"queries\.jsonl, line 5"):
        read_beir(root)


def test_a_bad_qrels_line_names_file_and_line(tmp_path):
    root = write_beir(tmp_path / "tiny")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n1 d2 1\n", encoding="utf-8")
    with pytest.raises(BeirError, match=r"test\.tsv, line 3"):
        read_beir(root)
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\tyes\n", encoding="utf-8")
    with pytest.raises(BeirError, match=r"test\.tsv, line 2"):
        read_beir(root)


def test_a_judged_query_missing_from_queries(tmp_path):
    root = write_beir(tmp_path / "tiny")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n99\td1\t1\n", encoding="utf-8")
    with pytest.raises(BeirError, match="'99'"):
        read_beir(root)


def test_a_document_twice(tmp_path):
    root = write_beir(tmp_path / "tiny")
    with (root / "corpus.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"_id": "d1", "title": "again", "text": ""}\n')
    with pytest.raises(BeirError, match=r"corpus\.jsonl, line 5: document 'd1'"):
        read_beir(root)


def test_beir_error_is_a_value_error():
    assert issubclass(BeirError, ValueError)
