"""paperfeed eval beir DIR: the site's search quality (nDCG@10, Recall@100) on a BEIR dataset such as SciFact.

paperfeed eval recs: the "For you" ranking's quality (MAP@10, nDCG@10) for simulated readers of a dated corpus.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from paperfeed.core import rec_eval
from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.core.evaluation import BeirError, read_beir
from paperfeed.papers.services.evaluation import MODES, DenseIndex, KeywordIndex, evaluate_modes
from paperfeed.recommend.services import evaluation as recs_evaluation


class Command(BaseCommand):
    help = (
        "Measure search quality on a benchmark (`eval beir DIR`: nDCG@10 and Recall@100 per mode) or the quality "
        "of recommendations (`eval recs`: MAP@10 and nDCG@10 per method, for simulated readers)."
    )

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        beir = kinds.add_parser("beir", help="a BEIR directory (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)")
        beir.add_argument("directory", type=Path)
        beir.add_argument("--split", default="test", help="qrels split to score (default test; tune on train)")
        beir.add_argument("--mode", choices=[*MODES, "all"], default="all", help="which ranking (default all)")
        recs = kinds.add_parser("recs", help="recommendations for simulated readers (docs/recommendation-quality.md)")
        recs.add_argument(
            "--data", type=Path, help="a papers.jsonl(.gz) file to evaluate on (default: the site's own papers)"
        )
        recs.add_argument("--readers", type=int, default=400, help="how many simulated readers (default 400)")
        recs.add_argument("--seed", type=int, default=0, help="the seed that draws the readers (default 0)")
        recs.add_argument(
            "--methods",
            nargs="+",
            choices=rec_eval.METHODS,
            default=list(rec_eval.DEFAULT_METHODS),
            metavar="METHOD",
            help=f"which rankings to compare: {', '.join(rec_eval.METHODS)} (default: all but arxiv-sanity+authors)",
        )

    def handle(self, *args, kind: str, **options):
        if kind == "recs":
            return self.handle_recs(**options)
        return self.handle_beir(**options)

    def handle_beir(self, *, directory: Path, split: str, mode: str, **options):
        try:
            data = read_beir(directory, split)
        except BeirError as error:
            raise CommandError(str(error), returncode=2) from None
        modes = MODES if mode == "all" else (mode,)
        started = time.perf_counter()
        keyword = KeywordIndex(data) if {"keyword", "hybrid"} & set(modes) else None
        dense = None
        if {"semantic", "hybrid"} & set(modes):
            try:
                embedder = default_embedder()
            except ModelError as error:
                raise CommandError(str(error), returncode=2) from None
            bar = tqdm(desc="Embedding documents", unit=" docs", file=sys.stderr, disable=None)

            def progress(done: int, total: int) -> None:
                bar.total, bar.n = total, done
                bar.refresh()

            dense = DenseIndex(data, embedder, cache=Path(settings.DATA_DIR) / "eval-cache", on_progress=progress)
            bar.close()
        scores = evaluate_modes(data, modes, keyword, dense)
        self.stdout.write(
            f"{directory} ({split}): {len(data.queries):,} queries, {len(data.documents):,} documents, "
            f"{time.perf_counter() - started:.0f} s"
        )
        self.stdout.write("| mode | nDCG@10 | Recall@100 |\n|---|---:|---:|")
        for name, result in scores.items():
            self.stdout.write(f"| {name} | {result.ndcg_at_10:.4f} | {result.recall_at_100:.4f} |")

    def handle_recs(self, *, data: Path | None, readers: int, seed: int, methods: list[str], **options):
        if readers < 1:
            raise CommandError(f"--readers must be at least 1, not {readers}", returncode=2)
        methods = list(dict.fromkeys(methods))
        embed_bar = tqdm(
            desc="Embedding papers with no stored embedding", unit=" papers", file=sys.stderr, disable=None
        )

        def embedding(done: int, total: int) -> None:
            embed_bar.total, embed_bar.n = total, done
            embed_bar.refresh()

        bars: dict[str, tqdm] = {}

        def ranking(method: str, done: int, total: int) -> None:
            bar = bars.get(method)
            if bar is None:
                bar = bars[method] = tqdm(desc=method, total=total, unit=" readers", file=sys.stderr, disable=None)
            bar.n = done
            bar.refresh()
            if done == total:
                bar.close()

        try:
            loaded = recs_evaluation.load_corpus(data, on_embed_progress=embedding)
            embed_bar.close()
            report = recs_evaluation.run_evaluation(
                loaded, readers=readers, seed=seed, methods=methods, on_progress=ranking
            )
        except (recs_evaluation.EvaluationError, ModelError) as error:
            raise CommandError(str(error), returncode=2) from None
        finally:
            embed_bar.close()
        self.stdout.write("\n".join(recs_evaluation.report_lines(report)))
