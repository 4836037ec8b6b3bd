"""Hybrid search's levers on BEIR SciFact, through the product's own path (`retrieval.find` in a scratch site):
pseudo-relevance feedback on the meaning side and the fusion depth.

    PAPERFEED_DATA_DIR=/tmp/scifact-site python bench/tune_feedback.py [--dir ../shared/data/scifact] [--cache DIR]

Loads SciFact's documents into the (empty) site of PAPERFEED_DATA_DIR once (as bench/tune_fusion.py does), then
prints hybrid nDCG@10 on the train and test splits for each setting of the grid: (feedback papers, feedback
weight, fusion depth). Feedback moves the query's embedding toward the embeddings of the keyword side's best
papers before the search by meaning (`meaning.moved_toward`). Choose on train; test is for the record.
"""

from __future__ import annotations

import argparse
import importlib
import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402

from paperfeed.core.embedder import default_embedder  # noqa: E402
from paperfeed.core.evaluation import read_beir  # noqa: E402
from paperfeed.papers.models import Paper  # noqa: E402
from paperfeed.papers.services import evaluation  # noqa: E402

fusion = importlib.import_module("paperfeed.papers.retrieval.find")
GRID = [
    (0, 0.0, 100),
    (0, 0.0, 50),
    (0, 0.0, 200),
    (1, 0.5, 100),
    (1, 1.0, 100),
    (3, 0.5, 100),
    (3, 1.0, 100),
    (3, 2.0, 100),
    (5, 1.0, 100),
    (5, 2.0, 100),
    (10, 1.0, 100),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/scifact")
    parser.add_argument("--cache", type=Path, help="embedding cache (as `paperfeed eval beir` keeps it)")
    parser.add_argument("--splits", nargs="+", default=["train", "test"], choices=["train", "test"])
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    splits = [read_beir(args.dir, name) for name in args.splits]
    if not Paper.objects.exists():
        documents = evaluation.load_beir(splits[0], default_embedder(), args.cache)
    else:
        by_number = {evaluation.beir_arxiv_id(i): d.id for i, d in enumerate(splits[0].documents)}
        documents = {pid: by_number[aid] for pid, aid in Paper.objects.values_list("id", "arxiv_id")}
    print(f"| feedback papers | feedback weight | fusion depth | {' | '.join(args.splits)} |")
    print("|---:|---:|---:|" + "---:|" * len(args.splits))
    for papers, weight, depth in GRID:
        fusion.FEEDBACK_PAPERS, fusion.FEEDBACK_WEIGHT, fusion.FUSION_DEPTH = papers, weight, depth
        scores = [evaluation.evaluate_beir(split, documents, ["hybrid"])["hybrid"].ndcg_at_10 for split in splits]
        print(f"| {papers} | {weight} | {depth} | {' | '.join(f'{s:.4f}' for s in scores)} |", flush=True)


if __name__ == "__main__":
    main()
