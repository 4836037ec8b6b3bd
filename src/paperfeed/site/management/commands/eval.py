"""paperfeed eval beir DIR: the site's search quality (nDCG@10, Recall@100) on a BEIR dataset such as SciFact,
loaded into a scratch site and asked through the search page's own function.

paperfeed eval known-items FILE.tsv: found-in-top-10 and mean reciprocal rank per mode over the site's papers.

paperfeed eval recs: the "For you" ranking's quality (MAP@10, nDCG@10) for simulated readers of a dated corpus.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from paperfeed.core import rec_eval
from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.core.evaluation import BeirError, KnownItemError, read_beir, read_known_items
from paperfeed.papers.retrieval import MODES
from paperfeed.papers.services import evaluation
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
        beir.add_argument("--in-scratch-site", action="store_true", help=argparse.SUPPRESS)
        beir.add_argument("--embedding-cache", type=Path, help=argparse.SUPPRESS)
        known = kinds.add_parser("known-items", help="a file of ARXIV_ID<TAB>QUERY lines, over the site's papers")
        known.add_argument("file", type=Path)
        known.add_argument("--mode", choices=[*MODES, "all"], default="all", help="which ranking (default all)")
        known.add_argument("--misses", action="store_true", help="also list the queries that missed the top 10")
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
        if kind == "known-items":
            return self.handle_known_items(**options)
        if not options["in_scratch_site"]:
            return self.beir_in_scratch_site(**options)
        return self.handle_beir(**options)

    def beir_in_scratch_site(self, *, directory: Path, split: str, mode: str, **options):
        """Run this command again in a new, empty site of its own (a temporary data directory), then remove it."""
        try:
            read_beir(directory, split)  # a bad directory is reported before anything is set up
        except BeirError as error:
            raise CommandError(str(error), returncode=2) from None
        scratch = Path(tempfile.mkdtemp(prefix="paperfeed-eval-"))
        env = {**os.environ, "PAPERFEED_DATA_DIR": str(scratch)}
        cache = Path(settings.DATA_DIR) / "eval-cache"  # the documents' embeddings, kept for the next run
        env.pop("DJANGO_SETTINGS_MODULE", None)
        # The scratch site is a SQLite file in its own directory whatever this site runs on: it must start empty,
        # and searches answer the same on SQLite and PostgreSQL (tests/test_postgres.py).
        env.pop("PAPERFEED_DATABASE_URL", None)
        try:
            subprocess.run([sys.executable, "-m", "paperfeed", "migrate", "-v0"], env=env, check=True)
            command = ["eval", "beir", str(directory), "--split", split, "--mode", mode, "--in-scratch-site"]
            command += ["--embedding-cache", str(cache)]
            done = subprocess.run([sys.executable, "-m", "paperfeed", *command], env=env)
        except subprocess.CalledProcessError as error:
            raise CommandError(f"could not set up the scratch site in {scratch} ({error})", returncode=2) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if done.returncode:
            raise CommandError("the evaluation in the scratch site failed (see above)", returncode=done.returncode)

    def handle_beir(self, *, directory: Path, split: str, mode: str, embedding_cache: Path | None, **options):
        try:
            data = read_beir(directory, split)
        except BeirError as error:
            raise CommandError(str(error), returncode=2) from None
        modes = MODES if mode == "all" else (mode,)
        started = time.perf_counter()
        embedder = None
        if {"semantic", "hybrid"} & set(modes):
            try:
                embedder = default_embedder()
            except ModelError as error:
                raise CommandError(str(error), returncode=2) from None
        bar = tqdm(desc="Loading and embedding documents", unit=" docs", file=sys.stderr, disable=None)

        def progress(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        try:
            documents = evaluation.load_beir(data, embedder, embedding_cache, progress)
        except evaluation.ScratchSiteError as error:
            raise CommandError(str(error), returncode=2) from None
        bar.close()
        queries = tqdm(
            desc="Searching", total=len(data.queries) * len(modes), unit=" queries", file=sys.stderr, disable=None
        )
        scores = evaluation.evaluate_beir(data, documents, modes, on_query=queries.update)
        queries.close()
        self.stdout.write(
            f"{directory} ({split}): {len(data.queries):,} queries, {len(data.documents):,} documents, "
            f"{time.perf_counter() - started:.0f} s"
        )
        self.stdout.write("| mode | nDCG@10 | Recall@100 |\n|---|---:|---:|")
        for name, result in scores.items():
            self.stdout.write(f"| {name} | {result.ndcg_at_10:.4f} | {result.recall_at_100:.4f} |")

    def handle_known_items(self, *, file: Path, mode: str, misses: bool, **options):
        try:
            items = read_known_items(file)
        except KnownItemError as error:
            raise CommandError(str(error), returncode=2) from None
        modes = MODES if mode == "all" else (mode,)
        bar = tqdm(desc="Searching", total=len(items) * len(modes), unit=" queries", file=sys.stderr, disable=None)
        try:
            results = evaluation.evaluate_known_items(items, modes, on_query=bar.update)
        except evaluation.UnknownPapers as error:
            first = error.args[0]
            lines = [f"{file}:{item.line}: arXiv:{item.arxiv_id} is not on this site" for item in first[:5]]
            more = f"\n… and {len(first) - 5} more" if len(first) > 5 else ""
            raise CommandError("\n".join(lines) + more, returncode=2) from None
        finally:
            bar.close()
        papers = evaluation.Paper.objects.visible().count()
        self.stdout.write(f"{file}: {len(items):,} known items over this site's {papers:,} papers")
        self.stdout.write("| mode | found in top 10 | MRR@100 |\n|---|---:|---:|")
        for name, (scores, _) in results.items():
            share = f"{scores.found_in_top_10}/{scores.queries} ({scores.found_share:.0%})"
            self.stdout.write(f"| {name} | {share} | {scores.mrr:.3f} |")
        if misses:
            for name, (_, ranks) in results.items():
                for item, rank in zip(items, ranks, strict=True):
                    if rank is None or rank > 10:
                        where = f"rank {rank}" if rank else "not in the first 100"
                        self.stdout.write(f"{name}: line {item.line} {item.arxiv_id} {where}: {item.query}")

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
