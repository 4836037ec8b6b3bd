"""bench/synthetic_corpus.py: the synthetic corpus is valid, loadable, deterministic and made of its source."""

import gzip
import importlib.util
import re
import sys
from datetime import date
from pathlib import Path

import numpy as np
import orjson
import pytest

from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.records import parse_jsonl_line

ROOT = Path(__file__).parent.parent
_spec = importlib.util.spec_from_file_location("synthetic_corpus", ROOT / "bench" / "synthetic_corpus.py")
synthetic_corpus = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = synthetic_corpus  # dataclasses look their module up while the file executes
_spec.loader.exec_module(synthetic_corpus)

PAPERS = 300
DIMENSIONS = 384


def paper(arxiv_id, title, abstract, authors, categories, first_listed="2025-03-18", last_seen=None, comment=None):
    return {
        "id": arxiv_id,
        "title": title,
        "abstract": abstract,
        "authors": authors,
        "categories": categories,
        "primary_category": categories[0],
        "msc_acm_classes": [],  # an extra field, as in the shared file: not copied
        "first_listed": first_listed,
        "last_seen": last_seen or first_listed,
        "times_listed": 1,
        "comment": comment,
    }


SOURCE = [
    paper(
        "2503.11731",
        "Industrial-Grade Sensor Simulation via Gaussian Splatting: A Modular Framework",
        "Sensor simulation is pivotal for scalable validation of autonomous driving systems. We refactor three "
        "crucial components through Gaussian Splatting. We implement this framework on a proprietary dataset. "
        "Ablation studies show lower latency and better consistency.",
        ["Xianming Zeng", "Sicong Du", "Qifeng Chen"],
        ["cs.CV", "cs.RO"],
        last_seen="2025-04-02",
        comment="Work in progress",
    ),
    paper(
        "2503.11742",
        "Depth Anything in the Dark: Low-Light Monocular Depth Estimation",
        "Monocular depth estimation fails at night. We propose a self-supervised adaptation scheme. It needs no "
        "labelled night images! Experiments on three benchmarks confirm the gains. Code is released.",
        ["Qifeng Chen", "Lucia Mancini"],
        ["cs.CV"],
        comment="10 pages, 6 figures",
    ),
    paper(
        "2503.12001",
        "Open-Vocabulary Segmentation with Frozen Diffusion Features",
        "Diffusion models learn rich semantics. We probe their frozen features for segmentation. A light decoder "
        "suffices for open-vocabulary masks. Our method sets a new state of the art on ADE20K?",
        ["Ana Silva", "Sicong Du", "Tomás Müller", "Li Wei", "Priya Raman"],
        ["cs.CV", "cs.LG"],
        first_listed="2025-03-19",
    ),
    paper(
        "2503.12100",
        "Long-Context Alignment via Efficient Preference Optimization",
        "Long-context models can locate salient information. Yet their generation is far from satisfactory. We "
        "introduce a reference-free preference optimization strategy. It trains on a single machine in 16 hours. "
        "The model matches GPT-4 on real-world long-context tasks.",
        ["Zecheng Tang", "Juntao Li", "Min Zhang"],
        ["cs.CL", "cs.AI"],
        first_listed="2025-03-19",
    ),
    paper(
        "2503.12222",
        "Scalable Question Synthesis from Scratch Unleashes Reasoning in LLMs",
        "High-quality data is key to reasoning. We synthesise questions with small open models. The resulting "
        "dataset holds one million problem-solution pairs. Fine-tuning on it beats strong baselines on MATH.",
        ["Yuyang Ding", "Xinyu Shi", "Juntao Li", "Min Zhang"],
        ["cs.CL"],
        first_listed="2025-03-20",
        comment="Preprint",
    ),
    paper(
        "2503.12345",
        "Can Knowledge Editing Really Correct Hallucinations?",
        "Knowledge editing promises cheap fixes. We build a benchmark of verified hallucinations. Most editing "
        "methods fail to generalise. We discuss why.",
        ["Canyu Chen", "Kai Shu"],
        ["cs.CL", "cs.AI"],
        first_listed="2025-03-20",
    ),
    paper(
        "1812.00001",  # an old id inside the synthetic months: its number must not be reused
        "Tropical Curves and Their Moduli",
        "We study moduli of tropical curves. The main theorem computes their Euler characteristic.",
        ["Ilia Itenberg"],
        ["math.AG"],
        first_listed="2025-03-21",
    ),
    paper(
        "2503.13000v2",
        "Single Sentence Abstracts Survive",
        "A one-sentence abstract stays whole",
        ["Solo Author"],
        ["cs.CL"],
        first_listed="2025-03-21",
    ),
]
SOURCE_IDS = [parse_arxiv_id(p["id"]).id for p in SOURCE]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The source file, its embeddings, and a corpus of PAPERS papers made from them (seed 7)."""
    root = tmp_path_factory.mktemp("synthetic")
    source = root / "source.jsonl"
    source.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in SOURCE))
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(SOURCE), DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    embeddings = root / "embeddings.npz"
    np.savez(embeddings, ids=np.array(SOURCE_IDS[::-1]), vectors=vectors[::-1])  # any order: matched by id
    out = root / "out"
    assert synthetic_corpus.main(_args(out, source, embeddings, seed=7)) == 0
    return {"source": source, "embeddings": embeddings, "vectors": vectors, "out": out}


def _args(out, source, embeddings=None, seed=7, papers=PAPERS):
    args = ["--papers", str(papers), "--out", str(out), "--seed", str(seed), "--source", str(source)]
    return args + (["--embeddings", str(embeddings)] if embeddings else [])


def _lines(out: Path) -> list[bytes]:
    return gzip.decompress((out / "papers.jsonl.gz").read_bytes()).splitlines()


def test_every_line_parses_with_unique_valid_ids(files):
    lines = _lines(files["out"])
    assert len(lines) == PAPERS
    records = [parse_jsonl_line(line) for line in lines]
    ids = [r.arxiv_id for r in records]
    assert len(set(ids)) == PAPERS
    assert all(parse_arxiv_id(i) is not None and parse_arxiv_id(i).id == i for i in ids)
    for line, record in zip(lines[len(SOURCE) :], records[len(SOURCE) :], strict=True):
        assert list(orjson.loads(line)) == list(synthetic_corpus.FIELDS)
        assert re.fullmatch(r"\d{4}\.\d{5}", record.arxiv_id)
        listed = record.listed_on
        assert date(2008, 1, 1) <= listed <= date(2024, 12, 31) and listed.weekday() < 5
        assert record.arxiv_id[:4] == listed.strftime("%y%m")  # the id's month is the listing month
        assert record.title and record.abstract and record.authors


def test_the_first_lines_are_the_real_records_unchanged(files):
    source_lines = files["source"].read_bytes().splitlines()
    lines = _lines(files["out"])
    for source_line, line in zip(source_lines, lines, strict=False):
        assert parse_jsonl_line(line) == parse_jsonl_line(source_line)
        original = orjson.loads(source_line)
        assert orjson.loads(line) == {field: original[field] for field in synthetic_corpus.FIELDS}


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(files, tmp_path):
    again, other = tmp_path / "again", tmp_path / "other"
    assert synthetic_corpus.main(_args(again, files["source"], files["embeddings"], seed=7)) == 0
    assert synthetic_corpus.main(_args(other, files["source"], files["embeddings"], seed=8)) == 0
    for name in ("papers.jsonl.gz", "embeddings.npy"):
        assert (again / name).read_bytes() == (files["out"] / name).read_bytes()
        assert (other / name).read_bytes() != (files["out"] / name).read_bytes()
    assert not list(again.glob("*.part"))


def test_the_text_does_not_depend_on_the_embeddings(files, tmp_path):
    assert synthetic_corpus.main(_args(tmp_path, files["source"], seed=7)) == 0
    assert _lines(tmp_path) == _lines(files["out"])
    assert not (tmp_path / "embeddings.npy").exists()


def test_embeddings_align_with_the_lines_and_stay_near_their_parent(files):
    matrix = np.load(files["out"] / "embeddings.npy")
    assert matrix.shape == (PAPERS, DIMENSIONS) and matrix.dtype == np.float16
    real = len(SOURCE)
    assert np.array_equal(matrix[:real], files["vectors"].astype(np.float16))  # real rows: their own vectors
    corpus = synthetic_corpus.SyntheticCorpus(files["source"], PAPERS, seed=7, embeddings=files["embeddings"])
    parents = np.concatenate([chunk.parents for chunk in corpus.chunks()])
    child = matrix[real:].astype(np.float32)
    assert np.allclose(np.linalg.norm(child, axis=1), 1, atol=2e-3)
    cosines = np.einsum("ij,ij->i", child, files["vectors"][parents[real:]])
    assert cosines.min() > 0.8 and cosines.max() < 0.98
    assert abs(cosines.mean() - synthetic_corpus.PARENT_COSINE) < 0.02
    # Nearer their parent than any other source paper.
    assert (np.argmax(child @ files["vectors"].T, axis=1) == parents[real:]).all()


def test_synthetic_papers_are_made_of_their_parent_and_its_category(files):
    corpus = synthetic_corpus.SyntheticCorpus(files["source"], PAPERS, seed=7)
    chunks = list(corpus.chunks())
    lines = [line for chunk in chunks for line in chunk.lines()]
    assert lines == _lines(files["out"])
    parents = np.concatenate([chunk.parents for chunk in chunks])
    by_category: dict[str, list[dict]] = {}
    for p in SOURCE:
        by_category.setdefault(p["primary_category"], []).append(p)
    for line, parent_index in zip(lines[len(SOURCE) :], parents[len(SOURCE) :].tolist(), strict=True):
        child, parent = orjson.loads(line), SOURCE[parent_index]
        family = by_category[parent["primary_category"]]
        assert child["categories"] == parent["categories"]
        assert child["primary_category"] == parent["primary_category"]
        assert len(child["title"].split()) == len(parent["title"].split())
        parent_sentences = synthetic_corpus.split_sentences(parent["abstract"])
        category_sentences = {s for p in family for s in synthetic_corpus.split_sentences(p["abstract"])}
        sentences = synthetic_corpus.split_sentences(child["abstract"])
        assert len(sentences) == len(parent_sentences)
        assert set(sentences) <= category_sentences
        assert sum(s in parent_sentences for s in sentences) >= (len(parent_sentences) + 1) // 2
        pool = {a for p in family for a in p["authors"]}
        assert set(child["authors"]) <= pool
        assert len(child["authors"]) == len(set(child["authors"])) == min(len(parent["authors"]), len(pool))
        gap = date.fromisoformat(parent["last_seen"]) - date.fromisoformat(parent["first_listed"])
        assert date.fromisoformat(child["last_seen"]) - date.fromisoformat(child["first_listed"]) == gap


def test_fewer_papers_than_the_source_keeps_its_first(files, tmp_path):
    assert synthetic_corpus.main(_args(tmp_path, files["source"], files["embeddings"], papers=3)) == 0
    assert [parse_jsonl_line(line).arxiv_id for line in _lines(tmp_path)] == SOURCE_IDS[:3]
    assert np.load(tmp_path / "embeddings.npy").shape == (3, DIMENSIONS)


def test_a_source_paper_without_a_vector_is_a_clear_error(files, tmp_path, capsys):
    partial = tmp_path / "partial.npz"
    np.savez(partial, ids=np.array(SOURCE_IDS[1:]), vectors=files["vectors"][1:])
    assert synthetic_corpus.main(_args(tmp_path / "out", files["source"], partial)) == 2
    error = capsys.readouterr().err
    assert "no vector for 1 of the 8 source papers" in error and SOURCE_IDS[0] in error
    assert not (tmp_path / "out" / "papers.jsonl.gz").exists()


def test_noise_sigma_gives_the_wanted_cosine():
    assert synthetic_corpus.noise_sigma(384) == pytest.approx(0.02472, abs=1e-4)
    rng = np.random.default_rng(1)
    v = rng.standard_normal(384)
    v /= np.linalg.norm(v)
    noisy = v + rng.standard_normal((2000, 384)) * synthetic_corpus.noise_sigma(384, cosine=0.8)
    cosines = noisy @ v / np.linalg.norm(noisy, axis=1)
    assert cosines.mean() == pytest.approx(0.8, abs=0.01)


def test_synthetic_ids_skip_the_numbers_real_papers_hold():
    rng = np.random.default_rng(3)
    taken = ["1812.00001", "1812.00003", "2503.11731"]
    days, months, numbers, yymm = synthetic_corpus.synthetic_dates_and_ids(20_000, rng, taken)
    december = numbers[months == yymm.index("1812")]
    assert len(december) > 3 and not {1, 3} & set(december.tolist())
    assert sorted(december.tolist())[:3] == [2, 4, 5]
    ids = {f"{yymm[m]}.{n:05d}" for m, n in zip(months.tolist(), numbers.tolist(), strict=True)}
    assert len(ids) == 20_000
    # Numbered in order of listing day within each month.
    order = np.lexsort((numbers, months))
    assert (np.diff(days[order])[np.diff(months[order]) == 0] >= 0).all()
