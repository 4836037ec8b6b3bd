"""`paperfeed eval recs`: how well the "For you" model ranks a week of new papers for simulated readers.

The corpus is the site's own papers (their first arXiv listing day and stored embeddings) or a papers.jsonl(.gz)
file in the loader's format, whose papers take their stored embedding when the site has one for that arXiv id.
Papers with no stored embedding are embedded for the run and not stored: the evaluation never writes to the
database. The protocol, metrics and methods are in paperfeed.core.rec_eval.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db.models import Min

from paperfeed.core import rec_eval
from paperfeed.core.embedder import MODEL_NAME, Embedder, default_embedder, paper_text
from paperfeed.core.records import LineReader, RecordError, parse_jsonl_line
from paperfeed.papers.models import Authorship, DailyEntry, Paper, PaperEmbedding
from paperfeed.papers.retrieval.embeddings import from_blob

EMBED_BATCH = 256


class EvaluationError(ValueError):
    """Input the evaluation cannot use; the message says what is wrong, in the user's terms."""


@dataclass
class LoadedCorpus:
    corpus: rec_eval.EvalCorpus
    source: str  # "the site's database" or the file's path
    embedded: int  # papers embedded for this run (no stored embedding)
    undated: int  # papers left out because they have no listing day


@dataclass
class Report:
    loaded: LoadedCorpus
    readers: list[rec_eval.Reader]
    results: list[rec_eval.MethodResult]
    seed: int
    seconds: float


def _papers_from_file(path: Path) -> tuple[list[rec_eval.EvalPaper], int]:
    """The dated papers of a papers.jsonl(.gz) file (first line of an id wins) and how many had no listing day."""
    if not path.is_file():
        raise EvaluationError(f"{path}: no such file")
    papers: dict[str, rec_eval.EvalPaper] = {}
    undated = 0
    try:
        with LineReader(path) as reader:
            for lineno, line in reader:
                try:
                    record = parse_jsonl_line(line)
                except RecordError as error:
                    raise EvaluationError(f"{path}:{lineno}: {error}") from None
                if record.listed_on is None:
                    undated += 1
                elif record.arxiv_id not in papers:
                    papers[record.arxiv_id] = rec_eval.EvalPaper(
                        record.arxiv_id,
                        record.title,
                        record.abstract,
                        record.authors,
                        record.categories,
                        record.listed_on,
                    )
    except RecordError as error:  # the gzip stream itself is damaged
        raise EvaluationError(f"{path}: {error}") from None
    except OSError as error:
        raise EvaluationError(f"{path}: cannot be read ({error.strerror or error})") from None
    return list(papers.values()), undated


def _papers_from_database() -> tuple[list[rec_eval.EvalPaper], int]:
    """The site's visible papers with their first arXiv listing day; papers never listed by arXiv are counted."""
    first_listed = dict(
        DailyEntry.objects.filter(source=DailyEntry.Source.ARXIV)
        .values("paper_id")
        .annotate(day=Min("day"))
        .values_list("paper_id", "day")
    )
    authors: dict[int, list[str]] = {}
    for paper_id, name in (
        Authorship.objects.order_by("paper_id", "position").values_list("paper_id", "author__name").iterator(20_000)
    ):
        authors.setdefault(paper_id, []).append(name)
    papers, undated = [], 0
    rows = Paper.objects.visible().values_list("id", "arxiv_id", "title", "abstract", "categories")
    for paper_id, arxiv_id, title, abstract, categories in rows.iterator(20_000):
        day = first_listed.get(paper_id)
        if day is None:
            undated += 1
            continue
        papers.append(
            rec_eval.EvalPaper(
                arxiv_id, title, abstract, tuple(authors.get(paper_id, ())), tuple(categories or ()), day
            )
        )
    return papers, undated


def _vectors(
    papers: Sequence[rec_eval.EvalPaper],
    embedder: Callable[[], Embedder],
    on_progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, int]:
    """Each paper's stored embedding, by arXiv id; the papers without one are embedded now. (matrix, embedded)."""
    wanted = {p.arxiv_id: i for i, p in enumerate(papers)}
    matrix = np.zeros((len(papers), 0), dtype=np.float32)
    found = np.zeros(len(papers), dtype=bool)
    stored = PaperEmbedding.objects.filter(model=MODEL_NAME).values_list("paper__arxiv_id", "vector")
    for arxiv_id, blob in stored.iterator(20_000):
        index = wanted.get(arxiv_id)
        if index is None:
            continue
        vector = from_blob(bytes(blob))
        if matrix.shape[1] == 0:
            matrix = np.zeros((len(papers), vector.shape[0]), dtype=np.float32)
        matrix[index] = vector
        found[index] = True
    missing = np.flatnonzero(~found)
    if len(missing):
        model = embedder()
        if matrix.shape[1] == 0:
            matrix = np.zeros((len(papers), model.dimensions), dtype=np.float32)
        for start in range(0, len(missing), EMBED_BATCH):
            chunk = missing[start : start + EMBED_BATCH]
            matrix[chunk] = model.embed([paper_text(papers[i].title, papers[i].abstract) for i in chunk])
            if on_progress:
                on_progress(start + len(chunk), len(missing))
    return matrix, len(missing)


def load_corpus(
    data: Path | None = None,
    *,
    embedder: Callable[[], Embedder] = default_embedder,
    on_embed_progress: Callable[[int, int], None] | None = None,
) -> LoadedCorpus:
    """The evaluation corpus: a papers.jsonl(.gz) file's papers, or the site's own when `data` is None."""
    if data is None:
        papers, undated = _papers_from_database()
        source = "the site's database"
    else:
        papers, undated = _papers_from_file(Path(data))
        source = str(data)
    if not papers:
        raise EvaluationError(
            f"{source} has no papers with a listing day to evaluate on"
            + (" (load some with `paperfeed load-jsonl FILE` first)" if data is None else "")
        )
    matrix, embedded = _vectors(papers, embedder, on_embed_progress)
    return LoadedCorpus(rec_eval.EvalCorpus(papers, matrix), source, embedded, undated)


def run_evaluation(
    loaded: LoadedCorpus,
    *,
    readers: int = 400,
    seed: int = 0,
    methods: Sequence[str] = rec_eval.DEFAULT_METHODS,
    protocol: rec_eval.Protocol = rec_eval.DEFAULT_PROTOCOL,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Report:
    """Draw the readers and score every method on them; raises EvaluationError when the corpus cannot do it."""
    factories = rec_eval.method_factories()
    unknown = [m for m in methods if m not in factories]
    if unknown:
        raise EvaluationError(f"unknown method {unknown[0]!r}; the methods are {', '.join(factories)}")
    started = time.perf_counter()
    try:
        drawn = rec_eval.make_readers(loaded.corpus, readers, seed, protocol)
    except rec_eval.ProtocolError as error:
        raise EvaluationError(str(error)) from None
    results = rec_eval.evaluate(loaded.corpus, drawn, [factories[m]() for m in methods], on_progress)
    return Report(loaded, drawn, results, seed, time.perf_counter() - started)


def _interval(estimate: rec_eval.Estimate) -> str:
    return f"{estimate.low:.3f} to {estimate.high:.3f}"


def report_lines(report: Report) -> list[str]:
    """The report as Markdown: a summary, the figures per method, each method's paired difference from
    arxiv-sanity (when it was run), then the figures per kind of reader."""
    corpus = report.loaded.corpus
    first, last = corpus.papers[0].listed, corpus.papers[-1].listed
    sizes = np.array([len(r.candidates) for r in report.readers])
    positives = np.array([len(r.relevant) for r in report.readers])
    kinds = sorted({r.kind for r in report.readers}, key=rec_eval.KINDS.index)
    counts = ", ".join(f"{sum(r.kind == k for r in report.readers)} {k}" for k in kinds)
    lines = [
        f"{report.loaded.source}: {len(corpus):,} papers listed {first} to {last}"
        + (f", {report.loaded.embedded:,} embedded for this run" if report.loaded.embedded else "")
        + (f", {report.loaded.undated:,} without a listing day left out" if report.loaded.undated else ""),
        f"{len(report.readers)} readers ({counts}), seed {report.seed}; {int(np.median(sizes)):,} candidates "
        f"(median; {sizes.min():,}–{sizes.max():,}) and {np.mean(positives):.1f} relevant (mean) per reader; "
        f"{report.seconds:.0f} s",
        "",
        "| method | MAP@10 | 95% CI | nDCG@10 | 95% CI | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in report.results:
        ap, ndcg = result.estimates(seed=report.seed)
        lines.append(
            f"| {result.name} | {ap.mean:.4f} | {_interval(ap)} | {ndcg.mean:.4f} | {_interval(ndcg)} "
            f"| {result.seconds:.0f} |"
        )
    by_name = {result.name: result for result in report.results}
    baseline = by_name.get("arxiv-sanity")
    compared = [r for r in report.results if r.name not in ("arxiv-sanity", "newest-first")]
    if baseline and compared:
        lines += [
            "",
            "| method − arxiv-sanity (same readers) | MAP@10 | 95% CI | nDCG@10 | 95% CI |",
            "|---|---:|---:|---:|---:|",
        ]
        for result in compared:
            ap = rec_eval.paired_difference(result.average_precision, baseline.average_precision, report.seed)
            ndcg = rec_eval.paired_difference(result.ndcg, baseline.ndcg, report.seed)
            lines.append(f"| {result.name} | {ap.mean:+.4f} | {_interval(ap)} | {ndcg.mean:+.4f} | {_interval(ndcg)} |")
    if len(kinds) > 1:
        per_kind = {k: sum(r.kind == k for r in report.readers) for k in kinds}
        header = " | ".join(f"{k} ({n}): MAP@10 | {k}: nDCG@10" for k, n in per_kind.items())
        lines += ["", f"| method | {header} |", "|---|" + "---:|---:|" * len(kinds)]
        for result in report.results:
            cells = []
            for kind in kinds:
                ap, ndcg = result.estimates(kind, seed=report.seed)
                cells.append(f"{ap.mean:.4f} | {ndcg.mean:.4f}")
            lines.append(f"| {result.name} | {' | '.join(cells)} |")
    return lines
