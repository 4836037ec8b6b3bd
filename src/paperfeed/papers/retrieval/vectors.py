"""The vector index: a usearch HNSW index of every stored paper embedding, kept in the data directory.

The database is the source of truth; the index is derived. Beside the index file lives a small JSON note of
the database state it was built from (how many vectors, the largest and the sum of their paper ids). When the
database and the note disagree, the index is out of step and is rebuilt — checked when the site starts and every
time `paperfeed index` runs — so it is never silently wrong. Web processes open the file memory-mapped and
reopen it when the indexer replaces it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection
from usearch.index import Index

from paperfeed.papers.models import PaperEmbedding
from paperfeed.papers.retrieval.embeddings import DIMENSIONS, stack

BUILD_CHUNK = 20_000


@dataclass(frozen=True)
class IndexState:
    model: str
    count: int
    max_paper_id: int
    id_sum: int


def index_path(model: str) -> Path:
    return Path(settings.DATA_DIR) / f"vectors-{model}.usearch"


def _note_path(model: str) -> Path:
    return index_path(model).with_suffix(".json")


def database_state(model: str) -> IndexState:
    """What the index should hold: the stored embeddings of `model`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), coalesce(max(paper_id), 0), coalesce(sum(paper_id), 0) "
            f"FROM {PaperEmbedding._meta.db_table} WHERE model = %s",
            [model],
        )
        count, max_id, id_sum = cursor.fetchone()
    return IndexState(model, count, max_id, int(id_sum))


def index_state(model: str) -> IndexState | None:
    """What the index on disk was built from, or None when there is no usable index."""
    try:
        note = json.loads(_note_path(model).read_text())
        if not index_path(model).is_file():
            return None
        return IndexState(note["model"], note["count"], note["max_paper_id"], note["id_sum"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def problem(model: str) -> str | None:
    """Why the index cannot be trusted (missing, unreadable, out of step), or None when it matches the database."""
    on_disk = index_state(model)
    if on_disk is None:
        return f"there is no vector index at {index_path(model)}"
    in_db = database_state(model)
    if on_disk != in_db:
        return f"the vector index holds {on_disk.count:,} papers but the database has {in_db.count:,} embeddings"
    return None


def new_index() -> Index:
    return Index(ndim=DIMENSIONS, metric="cos", dtype="f16", connectivity=16, expansion_add=128, expansion_search=64)


def _write(index: Index, model: str, state: IndexState) -> None:
    """Save the index and its note so that a reader never sees one without the other changing last."""
    path = index_path(model)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    index.save(str(tmp))
    os.replace(tmp, path)
    note = _note_path(model)
    tmp_note = note.with_name(note.name + f".tmp{os.getpid()}")
    tmp_note.write_text(json.dumps(state.__dict__))
    os.replace(tmp_note, note)


def rebuild(model: str, on_progress: Callable[[int, int], None] | None = None) -> IndexState:
    """Build the index afresh from every stored embedding of `model`."""
    state = database_state(model)
    index = new_index()
    done = 0
    last = 0
    while True:
        rows = list(
            PaperEmbedding.objects.filter(model=model, paper_id__gt=last)
            .order_by("paper_id")
            .values_list("paper_id", "vector")[:BUILD_CHUNK]
        )
        if not rows:
            break
        keys = np.array([pid for pid, _ in rows], dtype=np.uint64)
        vectors = stack([v for _, v in rows], as_float32=False)
        index.add(keys, vectors)
        done += len(rows)
        last = rows[-1][0]
        if on_progress:
            on_progress(done, state.count)
    built = IndexState(model, done, state.max_paper_id, state.id_sum) if done == state.count else database_state(model)
    _write(index, model, built)
    return built


def add(model: str, keys: Sequence[int], vectors: np.ndarray) -> IndexState:
    """Add new vectors to the index on disk (rebuilding instead if it is missing or out of step)."""
    before = index_state(model)
    expected = database_state(model)
    grown = IndexState(
        model,
        (before.count if before else 0) + len(keys),
        max([before.max_paper_id if before else 0, *keys]),
        (before.id_sum if before else 0) + sum(keys),
    )
    if before is None or grown != expected:
        return rebuild(model)
    index = Index.restore(str(index_path(model)))
    index.add(np.asarray(keys, dtype=np.uint64), np.asarray(vectors, dtype=np.float16))
    _write(index, model, expected)
    return expected


class _Opened:
    """The index this process has open, reopened when the file on disk is replaced."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: Index | None = None
        self.stamp: tuple | None = None

    def get(self, model: str) -> Index | None:
        path = index_path(model)
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (model, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self.lock:
            if stamp != self.stamp:
                try:
                    self.index = Index.restore(str(path), view=True)
                except Exception:  # noqa: BLE001 - a damaged file means "no index", which search handles
                    self.index = None
                self.stamp = stamp
            return self.index


_opened = _Opened()


def available(model: str) -> bool:
    """Whether an index for this model can be searched."""
    return _opened.get(model) is not None


def nearest(model: str, vector: np.ndarray, k: int) -> list[tuple[int, float]] | None:
    """The k papers nearest to `vector` as (paper id, cosine similarity), or None when there is no index."""
    index = _opened.get(model)
    if index is None or len(index) == 0:
        return None if index is None else []
    matches = index.search(np.asarray(vector, dtype=np.float32), min(k, len(index)))
    return [(int(key), 1.0 - float(distance)) for key, distance in zip(matches.keys, matches.distances, strict=True)]
