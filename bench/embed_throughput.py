"""How fast does paperfeed embed papers and queries? Model load, texts/s over a fixed set, single-query latency.

    python bench/embed_throughput.py [--texts FILE] [--queries FILE] [--threads N] [--batch-size N]

Loads MiniLMEmbedder (timing the sha256 check of the model file apart), warms up, embeds the 2,000 SciFact
"title. abstract" texts, then embeds 200 SciFact claims one at a time, and 200 search-box queries of two to four
words, and prints a Markdown table. The machine is shared: the last line says how busy the rest of it was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime

from paperfeed.core.embedder import MiniLMEmbedder, default_model_path, verify_model_file

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
KEYWORD_QUERIES = [
    "protein folding",
    "gut microbiome obesity",
    "CRISPR off-target effects",
    "vitamin D fractures",
    "tumour immune evasion",
    "statin side effects",
    "sleep and memory",
    "antibiotic resistance genes",
    "insulin resistance",
    "graph neural networks",
]


def machine_ticks() -> tuple[int, int] | None:
    """(busy ticks of the whole machine, ticks of this process), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    own = os.times()
    return sum(fields) - fields[3] - fields[4], round((own.user + own.system) * os.sysconf("SC_CLK_TCK"))


def latencies_ms(embedder: MiniLMEmbedder, queries: list[str]) -> tuple[float, float]:
    """p50 and p95 of embed_query over queries, in milliseconds."""
    times = []
    for query in queries:
        start = time.perf_counter()
        embedder.embed_query(query)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=Path, default=SCIFACT / "embed_bench_texts_2000.json")
    parser.add_argument("--queries", type=Path, default=SCIFACT / "queries.jsonl")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: cores)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    texts = json.loads(args.texts.read_text())
    claims = [json.loads(line)["text"] for line in args.queries.read_text().splitlines() if line.strip()][:200]
    keywords = (KEYWORD_QUERIES * 20)[:200]

    start = time.perf_counter()
    verify_model_file(default_model_path())
    hash_s = time.perf_counter() - start
    embedder = MiniLMEmbedder(threads=args.threads, batch_size=args.batch_size)  # the hash is cached by now
    load_s = time.perf_counter() - start

    embedder.embed(texts[:64])
    for query in claims[:20]:
        embedder.embed_query(query)

    before = machine_ticks()
    start = time.perf_counter()
    embedder.embed(texts)
    wall = time.perf_counter() - start
    after = machine_ticks()
    claim_p50, claim_p95 = latencies_ms(embedder, claims)
    word_p50, word_p95 = latencies_ms(embedder, keywords)

    print(
        f"{len(texts):,} texts from {args.texts.name}; onnxruntime {onnxruntime.__version__}, "
        f"{embedder.threads} threads, batches of {embedder.batch_size}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
    )
    print("| measure | value |\n|---|---:|")
    print(f"| model load, including the sha256 check | {load_s * 1000:.0f} ms |")
    print(f"| of which the sha256 check of model.onnx | {hash_s * 1000:.0f} ms |")
    print(f"| embed {len(texts):,} texts (batch) | {len(texts) / wall:.1f} texts/s ({wall:.1f} s) |")
    print(f"| one query, {len(claims)} SciFact claims: p50 / p95 | {claim_p50:.2f} / {claim_p95:.2f} ms |")
    print(f"| one query, {len(keywords)} queries of 2-4 words: p50 / p95 | {word_p50:.2f} / {word_p95:.2f} ms |")
    if before and after:
        elapsed_ticks = wall * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
        others = max((after[0] - before[0]) - (after[1] - before[1]), 0) / elapsed_ticks
        print(f"\nOther processes used {others:.0%} of the machine's CPU during the batch run.")


if __name__ == "__main__":
    main()
