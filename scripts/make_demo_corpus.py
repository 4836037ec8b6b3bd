"""Rebuild the bundled demo corpus: the last N listing days of the shared arXiv daily file."""

import argparse
import gzip
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="papers.jsonl.gz from shared/data/arxiv-daily")
    parser.add_argument("target", type=Path, help="where to write the demo file (.jsonl.gz)")
    parser.add_argument("--days", type=int, default=21)
    args = parser.parse_args()

    with gzip.open(args.source, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    days = sorted({row["first_listed"] for row in rows})[-args.days :]
    keep = set(days)
    # mtime=0 keeps the file byte-identical across rebuilds.
    with gzip.GzipFile(args.target, "wb", compresslevel=9, mtime=0) as out:
        for row in rows:
            if row["first_listed"] in keep:
                out.write((json.dumps(row, ensure_ascii=False) + "\n").encode())
    print(f"{args.target}: {sum(r['first_listed'] in keep for r in rows)} papers, {days[0]} to {days[-1]}")


if __name__ == "__main__":
    main()
