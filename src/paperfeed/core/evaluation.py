"""Search quality on a BEIR benchmark: reading a BEIR directory and the IR metrics BEIR reports.

The metrics follow pytrec_eval (trec_eval) as BEIR calls it, so figures compare with published ones:
nDCG@k with linear gains rel / log2(rank + 1) and the ideal ranking built from every judged document, Recall@k
over the documents judged relevant (score > 0), and a document whose id equals the query id left out of the run.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from paperfeed.core.arxiv_ids import parse_arxiv_id


@dataclass(frozen=True)
class BeirDocument:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirSet:
    documents: list[BeirDocument]
    queries: dict[str, str]  # query id -> text, only the queries that have judgments in the split
    judgments: dict[str, dict[str, int]]  # query id -> {doc id: relevance > 0}


class BeirError(ValueError):
    """A directory that is not a BEIR dataset: the message names the missing file or the bad line."""


@dataclass(frozen=True)
class Scores:
    ndcg_at_10: float
    recall_at_100: float
    queries: int


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """The JSON objects of a JSON-lines file with their line numbers; blank lines are skipped."""
    if not path.is_file():
        raise BeirError(f"{path} is missing")
    rows = []
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                raise BeirError(f"{path}, line {number}: not JSON ({e})") from None
            if not isinstance(row, dict) or row.get("_id") is None:
                raise BeirError(f"{path}, line {number}: expected an object with an _id")
            rows.append((number, row))
    return rows


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {doc id: score} for every judgment line, zeros included (BEIR keeps them)."""
    if not path.is_file():
        raise BeirError(f"{path} is missing")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if not row or not "".join(row).strip():
                continue
            try:
                query_id, doc_id, score = row
                value = int(score)
            except ValueError:
                if number == 1 and len(row) == 3:
                    continue  # the header line (query-id, corpus-id, score), which BEIR skips whatever it says
                raise BeirError(f"{path}, line {number}: expected query-id<TAB>corpus-id<TAB>score") from None
            qrels.setdefault(query_id, {})[doc_id] = value
    return qrels


def read_beir(directory: Path, split: str = "test") -> BeirSet:
    """Read a BEIR directory (corpus.jsonl, queries.jsonl, qrels/<split>.tsv); raises BeirError if it is not one."""
    directory = Path(directory)
    qrels = _read_qrels(directory / "qrels" / f"{split}.tsv")
    corpus_path = directory / "corpus.jsonl"
    documents: list[BeirDocument] = []
    seen: set[str] = set()
    for number, row in _read_jsonl(corpus_path):
        doc_id = str(row["_id"])
        if doc_id in seen:
            raise BeirError(f"{corpus_path}, line {number}: document {doc_id!r} appears twice")
        seen.add(doc_id)
        documents.append(BeirDocument(doc_id, _text(row.get("title")), _text(row.get("text"))))
    queries_path = directory / "queries.jsonl"
    all_queries = {str(row["_id"]): _text(row.get("text")) for _, row in _read_jsonl(queries_path)}
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        raise BeirError(f"{queries_path} has no query {missing[0]!r}, which qrels/{split}.tsv judges")
    # A query whose judgments are all 0 stays (with no relevant document): BEIR and trec_eval count it as 0.
    judgments = {q: {d: s for d, s in judged.items() if s > 0} for q, judged in qrels.items()}
    return BeirSet(documents, {q: all_queries[q] for q in qrels}, judgments)


def _check_cutoff(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")


def _unique(ranked: Sequence[str], k: int) -> list[str]:
    """The first k distinct ids: a run is a set of scored documents, so a repeat keeps its best rank."""
    seen: set[str] = set()
    top = []
    for doc in ranked:
        if doc not in seen:
            seen.add(doc)
            top.append(doc)
            if len(top) == k:
                break
    return top


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (trec_eval's ndcg_cut, as BEIR reports it); 0 when nothing is relevant."""
    _check_cutoff(k)
    top = _unique(ranked, k)
    dcg = sum(max(relevant.get(doc, 0), 0) / math.log2(rank + 1) for rank, doc in enumerate(top, start=1))
    ideal_gains = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal_gains, start=1))
    return dcg / ideal if ideal > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 100) -> float:
    """The share of the relevant documents (score > 0) found in the first k; 0 when nothing is relevant."""
    _check_cutoff(k)
    wanted = {doc for doc, score in relevant.items() if score > 0}
    if not wanted:
        return 0.0
    return sum(1 for doc in _unique(ranked, k) if doc in wanted) / len(wanted)


def evaluate(run: Mapping[str, Sequence[str]], judgments: Mapping[str, Mapping[str, int]]) -> Scores:
    """Mean nDCG@10 and Recall@100 over every judged query; a query missing from the run scores 0."""
    ndcg, recall = [], []
    for query_id, relevant in judgments.items():
        # BEIR's ignore_identical_ids: some corpora hold the query itself, which must not count as a hit.
        ranked = [doc for doc in run.get(query_id, ()) if doc != query_id]
        ndcg.append(ndcg_at_k(ranked, relevant, 10))
        recall.append(recall_at_k(ranked, relevant, 100))
    count = len(ndcg)
    if not count:
        return Scores(0.0, 0.0, 0)
    return Scores(math.fsum(ndcg) / count, math.fsum(recall) / count, count)


# --- known-item search: one paper a person wants, and what they type to find it ---


@dataclass(frozen=True)
class KnownItem:
    arxiv_id: str
    query: str
    line: int


class KnownItemError(ValueError):
    """A malformed line of a known-item file; str() is `FILE:LINE: what is wrong`."""


def read_known_items(path: Path) -> list[KnownItem]:
    """A known-item file: `ARXIV_ID<TAB>QUERY` per line; blank lines and lines starting with # are skipped."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise KnownItemError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise KnownItemError(f"{path}:{line}: not UTF-8 text") from None
    items: list[KnownItem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise KnownItemError(
                f"{path}:{number}: expected an arXiv id and a query separated by one tab, found {len(parts) - 1} tabs"
            )
        paper, query = parts[0].strip(), " ".join(parts[1].split())
        parsed = parse_arxiv_id(paper)
        if parsed is None:
            raise KnownItemError(f"{path}:{number}: {paper[:40]!r} is not an arXiv id (e.g. 2606.01234)")
        if not query:
            raise KnownItemError(f"{path}:{number}: the query is empty")
        key = (parsed.id, query)
        if key in seen:
            raise KnownItemError(f"{path}:{number}: the same paper and query as line {seen[key]}")
        seen[key] = number
        items.append(KnownItem(parsed.id, query, number))
    if not items:
        raise KnownItemError(f"{path}: no known items in it (lines of ARXIV_ID<TAB>QUERY)")
    return items


@dataclass(frozen=True)
class KnownItemScores:
    found_in_top_10: int
    reciprocal_rank_sum: float  # 1 / rank of the paper within the first 100 results (0 when not there)
    queries: int

    @property
    def found_share(self) -> float:
        return self.found_in_top_10 / self.queries if self.queries else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_rank_sum / self.queries if self.queries else 0.0


def known_item_scores(ranks: Sequence[int | None]) -> KnownItemScores:
    """Scores from each query's rank of its paper (1-based; None: not in the results)."""
    return KnownItemScores(
        sum(1 for r in ranks if r is not None and r <= 10),
        math.fsum(1.0 / r for r in ranks if r is not None),
        len(ranks),
    )
