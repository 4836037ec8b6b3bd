"""`paperfeed eval recs`: its metrics against hand-computed values, its protocol on small synthetic corpora, and the
command's output, exit status and messages."""

import json
import math
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pytest
from conftest import site_env
from django.core.management import call_command
from django.core.management.base import CommandError

from paperfeed.core import rec_eval
from paperfeed.core.embedder import MODEL_NAME
from paperfeed.core.rec_eval import (
    EvalCorpus,
    EvalPaper,
    Protocol,
    ProtocolError,
    average_precision_at_k,
    binary_ndcg_at_k,
)

# --- metrics, by hand ---


def test_average_precision_by_hand():
    # hits at ranks 1, 3 and 5: (1/1 + 2/3 + 3/5) / 3
    assert average_precision_at_k(["a", "x", "b", "y", "c"], {"a", "b", "c"}) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    # one of two relevant papers found, at rank 2: (1/2) / 2
    assert average_precision_at_k(["x", "a"], {"a", "z"}) == pytest.approx(0.25)
    assert average_precision_at_k(["x", "y"], {"a"}) == 0.0


def test_average_precision_counts_only_the_first_k():
    ranked = [f"n{i}" for i in range(10)] + ["a"]
    assert average_precision_at_k(ranked, {"a"}) == 0.0
    assert average_precision_at_k(ranked, {"a"}, k=11) == pytest.approx(1 / 11)


def test_a_perfect_first_page_scores_one_even_with_more_relevant_papers_than_k():
    relevant = {f"r{i}" for i in range(25)}
    assert average_precision_at_k(sorted(relevant), relevant) == pytest.approx(1.0)


def test_a_repeated_paper_counts_once():
    # the repeat of "a" at rank 2 is not a second hit; "b" at rank 3 is the second: (1 + 2/3) / 2
    assert average_precision_at_k(["a", "a", "b"], {"a", "b"}) == pytest.approx((1 + 2 / 3) / 2)


def test_average_precision_edge_cases():
    assert average_precision_at_k(["a"], set()) == 0.0
    with pytest.raises(ValueError, match="at least 1"):
        average_precision_at_k(["a"], {"a"}, k=0)


def test_ndcg_by_hand():
    # relevant at ranks 2 and 4: (1/log2(3) + 1/log2(5)) / (1 + 1/log2(3))
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert binary_ndcg_at_k(["x", "a", "y", "b"], {"a", "b"}) == pytest.approx(expected)
    assert expected == pytest.approx(0.6509, abs=1e-4)
    assert binary_ndcg_at_k(["a", "b"], {"a", "b"}) == pytest.approx(1.0)
    assert binary_ndcg_at_k(["x"], set()) == 0.0


def test_bootstrap_interval():
    constant = rec_eval.bootstrap(np.full(50, 0.4), seed=3)
    assert (constant.mean, constant.low, constant.high) == pytest.approx((0.4, 0.4, 0.4))
    values = np.random.default_rng(0).random(200)
    estimate = rec_eval.bootstrap(values, seed=3)
    assert estimate.low < estimate.mean < estimate.high
    assert estimate.high - estimate.low < 0.2  # about 4 standard errors of a mean of 200 uniforms (0.08)
    assert rec_eval.bootstrap(values, seed=3) == estimate
    assert math.isnan(rec_eval.bootstrap(np.array([])).mean)


def test_paired_difference():
    difference = rec_eval.paired_difference(np.array([1.0, 0.5, 0.0]), np.array([0.5, 0.5, 0.0]), seed=1)
    assert difference.mean == pytest.approx(1 / 6)
    assert 0 <= difference.low <= difference.mean <= difference.high <= 0.5
    with pytest.raises(ValueError, match="same readers"):
        rec_eval.paired_difference(np.zeros(2), np.zeros(3))


# --- the protocol on a tiny synthetic corpus ---

START = date(2026, 1, 1)
TOPICS = {  # category: (the one author of all its papers, its words)
    "q-bio.NC": ("Ada Lovelace", "spiking neurons in the cortex consolidate memory"),
    "cs.RO": ("Alan Turing", "robot arms learn grasping and manipulation"),
    "cs.CR": ("Grace Hopper", "malware detection against intrusion attacks"),
}
SMALL = Protocol(min_library=3, max_library=5, history_days=10, window_days=7, background=40, max_category_share=0.4)


def three_topic_corpus(days: int = 20) -> EvalCorpus:
    """Three papers a day, one per topic, ids increasing with the day and then in TOPICS order; every paper is
    also in cs.AI, too broad a category to be a topic. Vectors: the topic's axis plus a little noise."""
    rng = np.random.default_rng(7)
    papers, vectors = [], []
    for d in range(days):
        for t, (category, (author, words)) in enumerate(TOPICS.items()):
            n = 3 * d + t + 1
            papers.append(
                EvalPaper(
                    f"2601.{n:05d}",
                    f"{words.split()[0].title()} study number {n}",
                    f"We show that {words}, with a shared evaluation on day {d}.",
                    (author, f"Student {n}"),
                    ("cs.AI", category),
                    START + timedelta(days=d),
                )
            )
            vector = rng.normal(0, 0.1, 8)
            vector[t] += 1
            vectors.append(vector)
    shuffled = np.random.default_rng(1).permutation(len(papers))  # the corpus orders papers itself
    return EvalCorpus([papers[i] for i in shuffled], np.array(vectors)[shuffled])


def test_the_corpus_is_in_listing_order_with_unit_vectors():
    corpus = three_topic_corpus()
    assert corpus.ids == sorted(corpus.ids)
    assert list(corpus.days) == sorted(corpus.days)
    assert np.allclose(np.linalg.norm(corpus.vectors, axis=1), 1.0)
    assert corpus.vectors[0].argmax() == 0  # 2601.00001 is a q-bio.NC paper: its vector moved with it


def test_topics_leave_out_categories_that_are_whole_fields():
    found = rec_eval.topics(three_topic_corpus(), SMALL)
    assert [name for name, _ in found["category"]] == sorted(TOPICS)  # not cs.AI, on every paper
    assert [name for name, _ in found["author"]] == sorted(author for author, _ in TOPICS.values())  # students: 1 paper


def test_readers_are_drawn_by_the_seed():
    corpus = three_topic_corpus()

    def signature(readers):
        return [(r.kind, r.topic, r.cutoff, r.library.tolist(), r.background.tolist()) for r in readers]

    first = rec_eval.make_readers(corpus, 8, seed=5, protocol=SMALL)
    assert signature(first) == signature(rec_eval.make_readers(corpus, 8, seed=5, protocol=SMALL))
    assert signature(first) != signature(rec_eval.make_readers(corpus, 8, seed=6, protocol=SMALL))
    assert [r.kind for r in first] == ["category", "author"] * 4
    assert len({(r.kind, r.topic, r.cutoff) for r in first}) == 8


def test_a_reader_reads_the_past_and_is_shown_the_window():
    corpus = three_topic_corpus()
    for reader in rec_eval.make_readers(corpus, 12, seed=2, protocol=SMALL):
        cutoff = reader.cutoff.toordinal()
        on_topic = {
            i
            for i, p in enumerate(corpus.papers)
            if (reader.topic in p.categories if reader.kind == "category" else reader.topic in p.authors)
        }
        earlier = sorted(i for i in on_topic if corpus.days[i] < cutoff)
        assert 3 <= len(reader.library) <= 5
        assert reader.library.tolist() == earlier[-len(reader.library) :]  # the topic's latest papers
        window = [i for i in range(len(corpus)) if cutoff <= corpus.days[i] < cutoff + 7]
        assert reader.candidates.tolist() == window  # every paper of the week, 21 here
        assert len(window) == 21
        assert reader.relevant.tolist() == sorted(on_topic & set(window))
        assert len(reader.relevant) == 7
        assert all(corpus.days[i] < cutoff for i in reader.background)
        assert not set(reader.background) & set(reader.library)
        assert cutoff >= START.toordinal() + 10


class Oracle:
    """A method that knows the answer."""

    name = "oracle"

    def scores(self, corpus, reader):
        return np.isin(reader.candidates, reader.relevant).astype(float)


def test_a_method_that_knows_the_answer_scores_one():
    corpus = three_topic_corpus()
    readers = rec_eval.make_readers(corpus, 10, seed=1, protocol=SMALL)
    (result,) = rec_eval.evaluate(corpus, readers, [Oracle()])
    assert result.average_precision == pytest.approx([1.0] * 10)
    assert result.ndcg == pytest.approx([1.0] * 10)
    ap, ndcg = result.estimates()
    assert (ap.mean, ap.low, ap.high, ndcg.mean) == pytest.approx((1.0, 1.0, 1.0, 1.0))


# Newest-first shows the week's last day first, and within a day the highest id (cs.CR, then cs.RO, then q-bio.NC).
# The first page is the week's 7th, 6th and 5th days (three papers each) and the 4th day's cs.CR paper, so a
# topic's papers sit at ranks 3, 6, 9 (q-bio.NC), 2, 5, 8 (cs.RO) or 1, 4, 7 and 10 (cs.CR), of 7 relevant.
IDEAL_DCG = sum(1 / math.log2(r + 1) for r in range(1, 8))
NEWEST_FIRST_BY_HAND = {
    "q-bio.NC": ((1 / 3 + 2 / 6 + 3 / 9) / 7, sum(1 / math.log2(r + 1) for r in (3, 6, 9)) / IDEAL_DCG),
    "cs.RO": ((1 / 2 + 2 / 5 + 3 / 8) / 7, sum(1 / math.log2(r + 1) for r in (2, 5, 8)) / IDEAL_DCG),
    "cs.CR": ((1 + 2 / 4 + 3 / 7 + 4 / 10) / 7, sum(1 / math.log2(r + 1) for r in (1, 4, 7, 10)) / IDEAL_DCG),
}


def test_newest_first_scores_what_was_computed_by_hand():
    corpus = three_topic_corpus()
    protocol = Protocol(**{**SMALL.__dict__, "kinds": ("category",)})
    readers = rec_eval.make_readers(corpus, 9, seed=4, protocol=protocol)
    assert {r.topic for r in readers} == set(TOPICS)
    (result,) = rec_eval.evaluate(corpus, readers, [rec_eval.NewestFirst()])
    for reader, ap, ndcg in zip(readers, result.average_precision, result.ndcg, strict=True):
        assert (ap, ndcg) == pytest.approx(NEWEST_FIRST_BY_HAND[reader.topic])
    assert NEWEST_FIRST_BY_HAND["q-bio.NC"][0] == pytest.approx(1 / 7)


def test_the_content_methods_find_the_topic_and_newest_first_does_not():
    corpus = three_topic_corpus()
    readers = rec_eval.make_readers(corpus, 6, seed=3, protocol=SMALL)
    factories = rec_eval.method_factories()
    results = {r.name: r for r in rec_eval.evaluate(corpus, readers, [f() for f in factories.values()])}
    assert set(results) == set(rec_eval.METHODS)
    assert results["newest-first"].estimates()[0].mean < 0.35
    for name in ("arxiv-sanity", "arxiv-sanity+authors", "paperfeed", "paperfeed-embeddings"):
        ap, ndcg = results[name].estimates()
        assert ap.mean > 0.9 and ndcg.mean > 0.9, name


def test_ties_are_broken_newest_first():
    corpus = three_topic_corpus()
    reader = rec_eval.make_readers(corpus, 1, seed=0, protocol=SMALL)[0]
    ties = np.zeros(len(reader.candidates))
    assert rec_eval.ranked_ids(corpus, reader, ties, k=3) == [corpus.ids[i] for i in reader.candidates[::-1][:3]]
    with pytest.raises(ValueError, match="scores for 21 candidates"):
        rec_eval.ranked_ids(corpus, reader, np.zeros(3))


def test_a_corpus_too_small_for_the_readers_asked_for_says_so():
    corpus = three_topic_corpus()
    with pytest.raises(ProtocolError, match="only 24 of the 500 readers"):  # 6 topics x 4 cut-off days
        rec_eval.make_readers(corpus, 500, seed=0, protocol=SMALL)
    with pytest.raises(ProtocolError, match="too small for this protocol"):
        rec_eval.make_readers(corpus, 5, seed=0)  # 20 days: no room for 60 days of history
    with pytest.raises(ValueError, match="at least 1"):
        rec_eval.make_readers(corpus, 0, seed=0, protocol=SMALL)


# --- the command ---

LABS = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"]
WORDS = ["neurons cortex memory", "robot grasping arms", "malware intrusion attacks", "compilers type systems"]


def lab_records(days: int, per_day: int, categories: int):
    """Papers of `per_day` labs a day over `days` days; paper n is in category cat{n % categories}, one of its lab's
    sub-topics. Vectors (384-d, like the site's) point along the lab's axis and the sub-topic's."""
    rng = np.random.default_rng(11)
    records, vectors = [], []
    for n in range(days * per_day):
        lab, topic = n % per_day, n % categories
        records.append(
            {
                "id": f"2601.{n + 1:05d}",
                "title": f"On {WORDS[lab].split()[0]} and sub-topic {topic}",
                "abstract": f"We study {WORDS[lab]} in setting {topic}.",
                "authors": [LABS[lab], f"Student {n}"],
                "categories": ["cs.AI", f"q-bio.T{topic}"],
                "primary_category": "cs.AI",
                "first_listed": (START + timedelta(days=n // per_day)).isoformat(),
            }
        )
        vector = rng.normal(0, 0.05, 384)
        vector[lab] += 1
        vector[10 + topic] += 0.7
        vectors.append(vector)
    return records, np.array(vectors, dtype=np.float32)


@pytest.fixture
def lab_corpus(db, tmp_path):
    """80 days of 4 papers (320) in the test database, 20 sub-topic categories of 16 papers each (5%, small enough
    to be topics); every paper has a stored embedding but the last two."""
    from paperfeed.papers.models import Paper, PaperEmbedding
    from paperfeed.papers.retrieval.embeddings import to_blob
    from paperfeed.papers.services.loading import load_jsonl

    records, vectors = lab_records(days=80, per_day=4, categories=20)
    path = tmp_path / "labs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    load_jsonl(path)
    ids = dict(Paper.objects.values_list("arxiv_id", "id"))
    PaperEmbedding.objects.bulk_create(
        PaperEmbedding(paper_id=ids[r["id"]], model=MODEL_NAME, vector=to_blob(v))
        for r, v in zip(records[:-2], vectors[:-2], strict=True)
    )
    return path


def table(out: str) -> dict[str, list[str]]:
    """The first Markdown table's rows by method."""
    rows = {}
    for line in out.split("\n\n")[1].splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_report_on_the_sites_papers(lab_corpus, capsys):
    call_command("eval", "recs", "--readers", "6", "--seed", "1")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "the site's database: 320 papers listed 2026-01-01 to 2026-03-21, 2 embedded for this run"
    assert lines[1].startswith("6 readers (3 category, 3 author), seed 1; 28 candidates (median; 28–28) and ")
    assert lines[3] == "| method | MAP@10 | 95% CI | nDCG@10 | 95% CI | seconds |"
    rows = table(out)
    assert list(rows) == ["newest-first", "arxiv-sanity", "paperfeed", "paperfeed-embeddings"]
    for cells in rows.values():
        map10, ci, ndcg, ndcg_ci, seconds = cells
        low, high = (float(x) for x in ci.split(" to "))
        assert 0 <= low <= float(map10) <= high <= 1 and 0 <= float(ndcg) <= 1 and int(seconds) >= 0
    assert float(rows["paperfeed"][0]) > float(rows["newest-first"][0])
    differences = out.split("\n\n")[2].splitlines()
    assert differences[0] == "| method − arxiv-sanity (same readers) | MAP@10 | 95% CI | nDCG@10 | 95% CI |"
    assert [line.split(" | ")[0] for line in differences[2:]] == ["| paperfeed", "| paperfeed-embeddings"]
    assert "| method | category (3): MAP@10 | category: nDCG@10 | author (3): MAP@10 | author: nDCG@10 |" in out


def test_the_same_seed_gives_the_same_figures(lab_corpus, capsys):
    def figures():
        call_command("eval", "recs", "--readers", "4", "--seed", "9", "--methods", "newest-first", "paperfeed")
        out = capsys.readouterr().out
        assert "arxiv-sanity (same readers)" not in out  # no baseline run: no differences
        return {name: cells[:4] for name, cells in table(out).items()}

    first = figures()
    assert list(first) == ["newest-first", "paperfeed"]
    assert figures() == first


def test_a_file_takes_the_stored_embeddings_of_its_papers(lab_corpus, capsys):
    call_command("eval", "recs", "--data", str(lab_corpus), "--readers", "2", "--methods", "arxiv-sanity+authors")
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{lab_corpus}: 320 papers listed 2026-01-01 to 2026-03-21, 2 embedded for this run"
    assert list(table(out)) == ["arxiv-sanity+authors"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--readers", "0"], "--readers must be at least 1, not 0"),
        (["--readers", "5000"], "only .* of the 5000 readers asked for could be drawn from this corpus"),
        (["--data", "nowhere.jsonl"], "nowhere.jsonl: no such file"),
    ],
)
def test_bad_arguments_are_refused_with_exit_status_2(lab_corpus, arguments, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("eval", "recs", *arguments)
    assert error.value.returncode == 2


def test_a_bad_line_is_named(db, tmp_path):
    path = tmp_path / "papers.jsonl"
    path.write_text(json.dumps(lab_records(days=1, per_day=1, categories=1)[0][0]) + "\n{oops\n")
    with pytest.raises(CommandError, match=r"papers.jsonl:2: not valid JSON") as error:
        call_command("eval", "recs", "--data", str(path))
    assert error.value.returncode == 2


def test_an_empty_site_says_what_to_do(db):
    with pytest.raises(CommandError, match="no papers with a listing day .*`paperfeed load-jsonl FILE` first") as error:
        call_command("eval", "recs")
    assert error.value.returncode == 2


def cli(data_dir, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paperfeed", *arguments],
        env=site_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--methods", "random"], "argument --methods: invalid choice: 'random'"),
        (["--readers", "many"], "argument --readers: invalid int value: 'many'"),
        (["--readers", "-3"], "--readers must be at least 1, not -3"),
    ],
)
def test_the_command_line_exits_2_on_bad_arguments(tmp_path, arguments, message):
    run = cli(tmp_path, "eval", "recs", *arguments)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""


def test_the_command_line_exits_0_with_the_report(tmp_path):
    records, _ = lab_records(days=70, per_day=2, categories=4)
    path = tmp_path / "labs.jsonl.gz"
    import gzip

    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    data = tmp_path / "data"
    assert cli(data, "migrate", "-v0").returncode == 0
    run = cli(data, "eval", "recs", "--data", str(path), "--readers", "3", "--methods", "newest-first", "paperfeed")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"{path}: 140 papers listed 2026-01-01 to 2026-03-11, 140 embedded for this run"
    assert lines[1].startswith("3 readers (3 author), seed 0; 14 candidates")  # its categories are 25%: no topics
    assert lines[3:5] == ["| method | MAP@10 | 95% CI | nDCG@10 | 95% CI | seconds |", "|---|---:|---:|---:|---:|---:|"]
    assert [line.split(" | ")[0] for line in lines[5:]] == ["| newest-first", "| paperfeed"]
