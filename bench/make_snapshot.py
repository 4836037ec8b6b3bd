"""Convert the project's corpus (papers.jsonl[.gz]) into arXiv's metadata snapshot format, for benchmarks.

    python bench/make_snapshot.py SOURCE TARGET
    python bench/make_snapshot.py ../shared/data/arxiv-daily/papers.jsonl.gz /tmp/snapshot.jsonl.gz

Each corpus line becomes one line shaped like arxiv-metadata-oai-snapshot.json (the Kaggle dataset):
- `authors` is the names joined with ", "; `authors_parsed` splits each name into [last word, the rest, ""];
- `categories` is the categories joined with spaces, primary first;
- `versions` is v1 created on first_listed (RFC 2822, midnight GMT), plus v2 on last_seen when that is later;
- `update_date` is last_seen, `comments` is comment, `submitter` the first author;
- `journal-ref`, `doi`, `report-no` and `license` are null (the corpus does not have them).

The output is deterministic: same input, same bytes (TARGET ending in .gz is gzip with a zero timestamp).
"""

from __future__ import annotations

import gzip
import sys
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path

import orjson

from paperfeed.core.records import LineReader


def _rfc2822(day: str) -> str:
    return format_datetime(datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC), usegmt=True)


def _parsed_name(name: str) -> list[str]:
    *forenames, keyname = name.split() or [""]
    return [keyname, " ".join(forenames), ""]


def to_snapshot(paper: dict) -> dict:
    """One corpus object (a line of papers.jsonl) as a snapshot object."""
    authors = paper.get("authors") or []
    primary = paper.get("primary_category")
    categories = [primary] if primary else []
    categories += [c for c in paper.get("categories") or [] if c != primary]
    first, last = paper["first_listed"], paper.get("last_seen")
    versions = [{"version": "v1", "created": _rfc2822(first)}]
    if last and last > first:
        versions.append({"version": "v2", "created": _rfc2822(last)})
    return {
        "id": paper["id"],
        "submitter": authors[0] if authors else None,
        "authors": ", ".join(authors),
        "title": paper["title"],
        "comments": paper.get("comment"),
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": " ".join(categories),
        "license": None,
        "abstract": paper["abstract"],
        "versions": versions,
        "update_date": last or first,
        "authors_parsed": [_parsed_name(name) for name in authors],
    }


def convert(source: Path, target: Path) -> int:
    """Write the snapshot form of every line of `source` to `target`; the number of lines written."""
    count = 0
    with open(target, "wb") as raw, LineReader(source) as reader:
        out = (
            gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0)
            if target.name.endswith(".gz")
            else raw
        )
        for _, line in reader:
            out.write(orjson.dumps(to_snapshot(orjson.loads(line))) + b"\n")
            count += 1
        if out is not raw:
            out.close()
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    count = convert(Path(argv[0]), Path(argv[1]))
    print(f"{count} lines written to {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
