"""Hybrid fusion tuning on BEIR SciFact, through the product's own path (`retrieval.find` in a scratch site).

    PAPERFEED_DATA_DIR=/tmp/scifact-site python bench/tune_fusion.py [--dir ../shared/data/scifact] [--cache DIR]

Loads SciFact's documents into the (empty) site of PAPERFEED_DATA_DIR once, then prints hybrid nDCG@10 on the
train and test splits for each (RRF k, keyword weight) of the grid. Choose on train; test is for the record.
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
GRID = [(60, 1.0), (20, 1.0), (10, 1.0), (10, 1.5), (10, 2.0), (5, 1.5), (3, 1.5), (3, 2.0), (2, 1.5), (1, 1.5)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/scifact")
    parser.add_argument("--cache", type=Path, help="embedding cache (as `paperfeed eval beir` keeps it)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    train, test = read_beir(args.dir, "train"), read_beir(args.dir, "test")
    if not Paper.objects.exists():
        documents = evaluation.load_beir(train, default_embedder(), args.cache)
    else:
        by_number = {evaluation.beir_arxiv_id(i): d.id for i, d in enumerate(train.documents)}
        documents = {pid: by_number[aid] for pid, aid in Paper.objects.values_list("id", "arxiv_id")}
    print("| k | keyword weight | train | test |\n|---:|---:|---:|---:|")
    for k, weight in GRID:
        fusion.RRF_K, fusion.KEYWORD_WEIGHT = float(k), weight
        scores = [evaluation.evaluate_beir(split, documents, ["hybrid"])["hybrid"] for split in (train, test)]
        print(f"| {k} | {weight} | {scores[0].ndcg_at_10:.4f} | {scores[1].ndcg_at_10:.4f} |", flush=True)


if __name__ == "__main__":
    main()
