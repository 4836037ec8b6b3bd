"""How many times the title counts in the keyword engine's text field: SciFact train nDCG@10 per choice.

    python bench/tune_title_weight.py [--dir ../shared/data/scifact] [--split train]

Builds an in-memory index per choice with the product's analyzer and query building (every word, else any),
as `paperfeed.papers.retrieval.engine` does with TITLE_REPEATS.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
os.environ.setdefault("PAPERFEED_DATA_DIR", tempfile.mkdtemp(prefix="tune-title-"))
import django  # noqa: E402

django.setup()
from paperfeed.core.evaluation import evaluate, read_beir  # noqa: E402
from paperfeed.core.search_query import parse_query  # noqa: E402
from paperfeed.papers.retrieval import engine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/scifact")
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    data = read_beir(args.dir, args.split)
    for repeats in (1, 2, 3, 5):
        engine.TITLE_REPEATS = repeats
        index = engine.tantivy.Index(engine.SCHEMA)
        index.register_tokenizer(engine.ANALYZER, engine._STEMMED)
        writer = index.writer(100_000_000, 1)
        engine.add_documents(
            writer, (engine.Document(i, d.title, d.text, [], [], None, "") for i, d in enumerate(data.documents))
        )
        writer.commit()
        index.reload()
        searcher = index.searcher()
        run = {}
        for query_id, text in data.queries.items():
            query, ids = parse_query(text), []
            for match_all in (True, False):
                for tier in engine.tiers(query, match_all):
                    ids += engine.ranked(searcher, tier, 100 - len(ids), count=False).ids
                if ids:
                    break
            run[query_id] = [data.documents[i].id for i in ids]
        print(f"title counted {repeats}x: {args.split} nDCG@10 {evaluate(run, data.judgments).ndcg_at_10:.4f}")


if __name__ == "__main__":
    main()
