"""Retrieval: the one component that answers "which papers match this request".

Everything that finds papers — the search page, both APIs, feeds of searches, digest saved searches, library
matching, similar papers and the evaluations — calls `find` (or `matches`, `similar_papers`) with a
`SearchRequest`. Inside: the keyword engine (engine.py, tantivy) and its index kept in step with the database
(keyword.py), the vector store (vectors.py: usearch on SQLite, pgvector on PostgreSQL), the meaning side
(meaning.py), the stored-embedding codec (embeddings.py) and the fusion (find.py). Nothing outside this package
writes engine syntax or reads index files.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from paperfeed.papers.retrieval import keyword
from paperfeed.papers.retrieval.find import FUSION_DEPTH, KEYWORD_WEIGHT, RRF_K, Found, Hit, find, matches
from paperfeed.papers.retrieval.meaning import similar_papers
from paperfeed.papers.retrieval.request import MODES, PAGE_SIZE, FilterError, Filters, SearchRequest, with_code


def keyword_problem() -> str | None:
    """Why the keyword index does not reflect the database now, or None."""
    return keyword.problem()


def sync_keyword_index(on_progress=None) -> keyword.SyncReport:
    """Bring the keyword index in step with the database now (at start-up, and in `paperfeed index`)."""
    return keyword.sync(block=True, on_progress=on_progress)


def rebuild_keyword_index(on_progress=None) -> keyword.SyncReport:
    """Rebuild the keyword index from the database (`paperfeed index --rebuild`)."""
    return keyword.rebuild(on_progress=on_progress)


def close_indexes() -> None:
    """Let go of the keyword index this process opened (before forking web workers: each opens its own)."""
    keyword.close()


def forget_indexes() -> None:
    """Remove the search indexes derived from the database (after a restore): the next `paperfeed serve` or
    `paperfeed index` builds them again from the database now in place, rather than trust ones built from another."""
    keyword.close()
    shutil.rmtree(keyword.index_path(), ignore_errors=True)
    for path in Path(settings.DATA_DIR).glob("vectors-*"):
        path.unlink(missing_ok=True)


def following_bulk_load():
    """A context for a loader writing many batches: yields `keep_up`, to call once each batch has committed.

    One engine writer serves the whole load, indexing each batch on its own threads while the next is written;
    the index commits now and then and at the end, when it is in step with the database."""
    return keyword.following()


def keep_in_step(wait: bool = False) -> None:
    """Once the current transaction commits, apply its changes to papers to the keyword index (searches would
    apply them anyway before answering; this keeps that work off the next visitor's request). wait: also when
    another process is writing the index (a loader that must leave it in step when it finishes)."""
    transaction.on_commit(lambda: keyword.sync(block=wait))


__all__ = [
    "close_indexes",
    "following_bulk_load",
    "forget_indexes",
    "keep_in_step",
    "keyword_problem",
    "rebuild_keyword_index",
    "sync_keyword_index",
    "FUSION_DEPTH",
    "KEYWORD_WEIGHT",
    "MODES",
    "PAGE_SIZE",
    "RRF_K",
    "FilterError",
    "Filters",
    "Found",
    "Hit",
    "SearchRequest",
    "find",
    "matches",
    "similar_papers",
    "with_code",
]
