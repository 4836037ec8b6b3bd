"""paperfeed eval beir DIR: the site's search quality (nDCG@10, Recall@100) on a BEIR dataset such as SciFact."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.core.evaluation import BeirError, read_beir
from paperfeed.papers.services.evaluation import MODES, DenseIndex, KeywordIndex, evaluate_modes


class Command(BaseCommand):
    help = "Measure search quality on a benchmark. `eval beir DIR` prints nDCG@10 and Recall@100 per mode."

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        beir = kinds.add_parser("beir", help="a BEIR directory (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)")
        beir.add_argument("directory", type=Path)
        beir.add_argument("--split", default="test", help="qrels split to score (default test; tune on train)")
        beir.add_argument("--mode", choices=[*MODES, "all"], default="all", help="which ranking (default all)")

    def handle(self, *args, kind: str, directory: Path, split: str, mode: str, **options):
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
