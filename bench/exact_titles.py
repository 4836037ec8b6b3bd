"""Writes a known-item file of exact titles drawn from the site's papers, for `paperfeed eval known-items`.

    PAPERFEED_DATA_DIR=… python bench/exact_titles.py --count 200 --seed 0 > /tmp/titles.tsv
    PAPERFEED_DATA_DIR=… paperfeed eval known-items /tmp/titles.tsv --misses

An exact title must find its paper at rank 1. Papers whose title another visible paper shares (reprints,
errata, "Introduction") are not drawn: no search can tell them apart.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
import django  # noqa: E402

django.setup()
from paperfeed.papers.models import Paper  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = list(Paper.objects.visible().order_by("id").values_list("arxiv_id", "title"))
    shared = Counter(" ".join(title.lower().split()) for _, title in rows)
    unique = [(aid, title) for aid, title in rows if shared[" ".join(title.lower().split())] == 1]
    for arxiv_id, title in random.Random(args.seed).sample(unique, min(args.count, len(unique))):
        sys.stdout.write(f"{arxiv_id}\t{' '.join(title.split())}\n")


if __name__ == "__main__":
    main()
