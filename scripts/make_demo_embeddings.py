"""Rebuild the demo corpus's precomputed embeddings, so that `make serve` has search by meaning at once.

    .venv/bin/python scripts/make_demo_embeddings.py src/paperfeed/demo/papers-demo.jsonl.gz \
        src/paperfeed/demo/papers-demo-embeddings.npz

Embeds "title. abstract" of every paper with paperfeed's embedder and writes an .npz with `ids` (arXiv ids,
in file order), `vectors` (float16, one row per id) and `model` (the embedder's name).
"""

import argparse
import time
from pathlib import Path

import numpy as np

from paperfeed.core.embedder import MiniLMEmbedder, paper_text
from paperfeed.core.records import LineReader, parse_jsonl_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    with LineReader(args.source) as reader:
        records = [parse_jsonl_line(line) for _, line in reader]
    embedder = MiniLMEmbedder()
    start = time.perf_counter()
    matrix = embedder.embed([paper_text(r.title, r.abstract) for r in records])
    seconds = time.perf_counter() - start
    np.savez(
        args.target,
        ids=np.array([r.arxiv_id for r in records]),
        vectors=matrix.astype(np.float16),
        model=np.array(embedder.name),
    )
    print(f"{args.target}: {len(records):,} embeddings in {seconds:.0f} s ({len(records) / seconds:.1f} papers/s)")


if __name__ == "__main__":
    main()
