"""The vector store: every stored paper embedding, searchable by nearest neighbours. One store per database engine.

The database's embeddings (PaperEmbedding) are the source of truth; the store is derived from them, checked
against them (how many vectors, the largest and the sum of their paper ids) when the site starts and every time
`paperfeed index` runs, and rebuilt when it is missing or out of step, so it is never silently wrong.

- SQLite (one machine): a usearch HNSW index in the data directory, with a small JSON note beside it of the
  database state it was built from. Web processes open the file memory-mapped and reopen it when the indexer
  replaces it.
- PostgreSQL: pgvector. A table `papers_papervector` (paper id, model, `vector(384)`) with an HNSW index (cosine),
  in the database itself: every web node asks the same index, so no two nodes can answer differently, and there
  is nothing to build per node (separately built HNSW indexes differ: docs/benchmarks.md has the measurements
  behind this choice). Its rows are written in the transaction that stores the embeddings (`record`); database
  triggers remove a paper's vector when its embedding is deleted or changed, so the store only ever lacks rows,
  which the counts reveal. Without the pgvector extension, `prepare` says how to install it and search by
  meaning is off (keyword search does not need it).

Either store answers `nearest` the same way: the engine proposes a few more candidates than asked for, and the
exact similarity of their stored vectors (embeddings.ranked) orders them, so that both engines, when they search
exhaustively, give the exact ranking, to the last place.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from usearch.index import Index

from paperfeed.papers.models import PaperEmbedding
from paperfeed.papers.retrieval.embeddings import DIMENSIONS, ranked, stack

BUILD_CHUNK = 20_000
# How many candidates an HNSW search keeps while it walks the graph (usearch's expansion_search, pgvector's
# hnsw.ef_search), at least the number of neighbours asked for. Raise it for recall, at the cost of speed.
SEARCH_BREADTH = 64
# True: compare the query with every stored vector instead of walking the HNSW graph, which can miss a paper even
# when searched broadly (a node no path reaches). The exact answer, for the contract tests between the two stores.
EXHAUSTIVE = False
HNSW_M = 16  # links per node (usearch's connectivity)
HNSW_EF_CONSTRUCTION = 128  # candidates kept while building (usearch's expansion_add)


@dataclass(frozen=True)
class IndexState:
    model: str
    count: int
    max_paper_id: int
    id_sum: int


def database_state(model: str) -> IndexState:
    """What the store should hold: the stored embeddings of `model`."""
    return _state(PaperEmbedding._meta.db_table, model)


def _state(table: str, model: str) -> IndexState:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), coalesce(max(paper_id), 0), coalesce(sum(paper_id), 0) FROM {table} WHERE model = %s",
            [model],
        )
        count, max_id, id_sum = cursor.fetchone()
    return IndexState(model, count, max_id, int(id_sum))


def _with_slack(k: int) -> int:
    """Candidates to ask an engine for so that the exact similarity decides the last places of the k."""
    return k + max(8, k // 8)


def _out_of_step(held: IndexState, expected: IndexState) -> str:
    return f"the vector index holds {held.count:,} papers but the database has {expected.count:,} embeddings"


# --- SQLite: usearch, a file in the data directory ---


def index_path(model: str) -> Path:
    return Path(settings.DATA_DIR) / f"vectors-{model}.usearch"


def _note_path(model: str) -> Path:
    return index_path(model).with_suffix(".json")


def new_index() -> Index:
    return Index(
        ndim=DIMENSIONS,
        metric="cos",
        dtype="f16",
        connectivity=HNSW_M,
        expansion_add=HNSW_EF_CONSTRUCTION,
        expansion_search=SEARCH_BREADTH,
    )


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


class _Usearch:
    opened = _Opened()

    def prepare(self) -> str | None:
        return None

    def unavailable_reason(self) -> str | None:
        return None

    def index_state(self, model: str) -> IndexState | None:
        try:
            note = json.loads(_note_path(model).read_text())
            if not index_path(model).is_file():
                return None
            return IndexState(note["model"], note["count"], note["max_paper_id"], note["id_sum"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def problem(self, model: str) -> str | None:
        on_disk = self.index_state(model)
        if on_disk is None:
            return f"there is no vector index at {index_path(model)}"
        in_db = database_state(model)
        return _out_of_step(on_disk, in_db) if on_disk != in_db else None

    def _write(self, index: Index, model: str, state: IndexState) -> None:
        """Save the index and its note so that a reader never sees one without the other changing last."""
        path = index_path(model)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        index.save(str(tmp))
        os.replace(tmp, path)
        note = _note_path(model)
        tmp_note = note.with_name(note.name + f".tmp{os.getpid()}")
        tmp_note.write_text(json.dumps(state.__dict__))
        os.replace(tmp_note, note)

    def rebuild(self, model: str, on_progress: Callable[[int, int], None] | None) -> IndexState:
        state = database_state(model)
        index = new_index()
        done = 0
        for keys, vectors in _stored_chunks(model):
            index.add(np.array(keys, dtype=np.uint64), vectors)
            done += len(keys)
            if on_progress:
                on_progress(done, state.count)
        built = IndexState(model, done, state.max_paper_id, state.id_sum) if done == state.count else None
        built = built or database_state(model)
        self._write(index, model, built)
        return built

    def record(self, model: str, keys: Sequence[int], vectors: np.ndarray) -> None:
        """Nothing in the transaction: the file is updated by `add` once the embeddings are committed."""

    def add(self, model: str, keys: Sequence[int], vectors: np.ndarray) -> IndexState:
        before = self.index_state(model)
        expected = database_state(model)
        grown = IndexState(
            model,
            (before.count if before else 0) + len(keys),
            max([before.max_paper_id if before else 0, *keys]),
            (before.id_sum if before else 0) + sum(keys),
        )
        if before is None or grown != expected:
            return self.rebuild(model, None)
        index = Index.restore(str(index_path(model)))
        index.add(np.asarray(keys, dtype=np.uint64), np.asarray(vectors, dtype=np.float16))
        self._write(index, model, expected)
        return expected

    def available(self, model: str) -> bool:
        return self.opened.get(model) is not None

    def nearest(self, model: str, vector: np.ndarray, k: int) -> list[tuple[int, float]] | None:
        index = self.opened.get(model)
        if index is None or len(index) == 0:
            return None if index is None else []
        index.expansion_search = SEARCH_BREADTH
        wanted = min(_with_slack(k), len(index))
        matches = index.search(np.asarray(vector, dtype=np.float32), wanted, exact=EXHAUSTIVE)
        return ranked(matches.keys.tolist(), index.get(matches.keys), vector)[:k]


# --- PostgreSQL: pgvector, a table in the database ---

TABLE = "papers_papervector"
HNSW_INDEX = "papers_papervector_hnsw"
MAX_EF_SEARCH = 1000  # pgvector's limit; an HNSW scan returns at most ef_search rows
PGVECTOR_INSTALL = "https://github.com/pgvector/pgvector#installation"
# The store only ever lacks rows: whatever removes or changes an embedding removes its vector in the same statement.
FORGET = f"DELETE FROM {TABLE} v USING {{rows}} WHERE v.paper_id = {{column}}"
TRIGGERS = {
    # name: (event, transition tables, what the statement's function does)
    "papers_vectors_forget_deleted": (
        "DELETE",
        "REFERENCING OLD TABLE AS old_rows",
        FORGET.format(rows="old_rows o", column="o.paper_id"),
    ),
    "papers_vectors_forget_changed": (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        FORGET.format(
            rows="old_rows o LEFT JOIN new_rows n ON n.paper_id = o.paper_id",
            column="o.paper_id AND (n.model, n.vector) IS DISTINCT FROM (o.model, o.vector)",
        ),
    ),
    "papers_vectors_forget_all": ("TRUNCATE", "", f"TRUNCATE {TABLE}"),
}


@dataclass(frozen=True)
class PgvectorFacts:
    installed: str | None  # the extension's version in this database
    on_server: str | None  # the version the server could install
    may_enable: bool
    role: str
    database: str
    major: int


def pgvector_advice(facts: PgvectorFacts) -> str | None:
    """What an operator must do for search by meaning on this PostgreSQL, or None when paperfeed can do the rest
    itself (enabling the extension when its role may, creating and filling the vector table)."""
    db = facts.database
    as_superuser = (
        f"as a PostgreSQL superuser, run `CREATE EXTENSION vector;` in database {db!r} (for example `sudo -u "
        f"postgres psql -d {db} -c 'CREATE EXTENSION vector;'`), then run `paperfeed index`"
    )
    off = "Search by meaning is off (keyword search works without it): "
    if facts.installed is not None:
        if tuple(int(part) for part in facts.installed.split(".")[:2]) < (0, 5):
            return (
                f"{off}pgvector {facts.installed} in database {db!r} has no HNSW index (0.5.0 and later have one). "
                f"Install a newer pgvector on the database server ({PGVECTOR_INSTALL}); then, as a PostgreSQL "
                f"superuser, run `ALTER EXTENSION vector UPDATE;` in database {db!r}, then run `paperfeed index`."
            )
        return None
    if facts.on_server is None:
        return (
            f"{off}the PostgreSQL server has no pgvector extension. Install it on the database server (Debian or "
            f"Ubuntu: `apt-get install postgresql-{facts.major}-pgvector`; elsewhere: {PGVECTOR_INSTALL}); then, "
            f"{as_superuser}."
        )
    if facts.may_enable:
        return None  # `paperfeed migrate`, `index` and `serve` enable it themselves
    return (
        f"{off}pgvector is installed on the PostgreSQL server but not enabled in database {db!r}, and the role "
        f"{facts.role!r} that paperfeed connects as may not enable it. To turn it on, {as_superuser}."
    )


def _literal(vector: np.ndarray) -> str:
    """pgvector's text form of a vector; each float32 written in the fewest digits that read back to itself."""
    return "[" + ",".join(str(x) for x in np.asarray(vector, dtype=np.float32)) + "]"


def _copy_rows(model: str, keys: Sequence[int], vectors: np.ndarray) -> bytes:
    """The rows (paper_id, model, vector) in COPY's binary format, header and trailer included."""
    name = model.encode()
    layout = np.dtype(
        [
            ("fields", ">i2"),
            ("id_size", ">i4"),
            ("id", ">i8"),
            ("model_size", ">i4"),
            ("model", f"S{len(name)}"),
            ("vector_size", ">i4"),
            ("dimensions", ">i2"),
            ("unused", ">i2"),
            ("vector", ">f4", (DIMENSIONS,)),
        ]
    )
    rows = np.zeros(len(keys), dtype=layout)
    rows["fields"], rows["id_size"], rows["id"] = 3, 8, keys
    rows["model_size"], rows["model"] = len(name), name
    rows["vector_size"], rows["dimensions"], rows["vector"] = 4 + 4 * DIMENSIONS, DIMENSIONS, vectors
    return b"PGCOPY\n\xff\r\n\x00" + bytes(8) + rows.tobytes() + b"\xff\xff"


class _Pgvector:
    def _ready(self, cursor) -> bool:
        """The extension is enabled and the table has its vector column."""
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'vector' "
            "AND atttypid = to_regtype('vector') AND NOT attisdropped)",
            [TABLE],
        )
        return cursor.fetchone()[0]

    def _facts(self, cursor) -> PgvectorFacts:
        cursor.execute(
            "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
            "(SELECT default_version FROM pg_available_extensions WHERE name = 'vector'), "
            "coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) OR coalesce(("
            "SELECT bool_or(trusted) FROM pg_available_extension_versions WHERE name = 'vector'), false) "
            "AND has_database_privilege(current_database(), 'CREATE'), "
            "current_user, current_database(), current_setting('server_version_num')::int / 10000"
        )
        return PgvectorFacts(*cursor.fetchone())

    def unavailable_reason(self) -> str | None:
        with connection.cursor() as cursor:
            if self._ready(cursor):
                return None
            return pgvector_advice(self._facts(cursor))

    def prepare(self) -> str | None:
        with connection.cursor() as cursor:
            if self._ready(cursor):
                return None
            facts = self._facts(cursor)
            if facts.installed is None and facts.on_server is not None:
                try:
                    with transaction.atomic():
                        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
                except DatabaseError:
                    return pgvector_advice(replace(facts, may_enable=False))
                facts = self._facts(cursor)
            advice = pgvector_advice(facts)
            if advice:
                return advice
            with transaction.atomic():
                self._create(cursor)
        return None

    def _create(self, cursor) -> None:
        """The table, its HNSW index and the triggers that keep it from holding a vector the database lacks."""
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
        if not self._ready(cursor):
            # A table left without its vector column (the extension was dropped with CASCADE) is made afresh.
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (paper_id bigint PRIMARY KEY, model varchar(100) NOT NULL, "
            f"vector vector({DIMENSIONS}) NOT NULL)"
        )
        self._create_index(cursor)
        embeddings = PaperEmbedding._meta.db_table
        for name, (event, transitions, body) in TRIGGERS.items():
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {body}; RETURN NULL; END $$"
            )
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {embeddings} {transitions} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )

    def _create_index(self, cursor) -> None:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON {TABLE} USING hnsw (vector vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )

    def remove(self) -> None:
        """Drop the table and its triggers (migration 0007 undone); the extension stays."""
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {PaperEmbedding._meta.db_table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    def index_state(self, model: str) -> IndexState | None:
        with connection.cursor() as cursor:
            if not self._ready(cursor):
                return None
        return _state(TABLE, model)

    def problem(self, model: str) -> str | None:
        with connection.cursor() as cursor:
            if not self._ready(cursor):
                return self.unavailable_reason() or f"there is no vector store ({TABLE}) in the database"
            cursor.execute("SELECT to_regclass(%s) IS NULL", [HNSW_INDEX])
            if cursor.fetchone()[0]:
                return f"the vector store ({TABLE}) has no HNSW index"
        held, expected = _state(TABLE, model), database_state(model)
        return _out_of_step(held, expected) if held != expected else None

    def rebuild(self, model: str, on_progress: Callable[[int, int], None] | None) -> IndexState:
        """Fill the table afresh and build its HNSW index over the whole of it (many times faster than inserting
        into the index row by row). Searches by meaning wait until it is done; nothing is lost if it stops."""
        if self.prepare() is not None:
            return IndexState(model, 0, 0, 0)
        total = database_state(model).count
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"DROP INDEX IF EXISTS {HNSW_INDEX}")
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE model <> %s)", [model])
            if cursor.fetchone()[0]:
                cursor.execute(f"DELETE FROM {TABLE} WHERE model = %s", [model])
            else:
                cursor.execute(f"TRUNCATE {TABLE}")
            done = 0
            for keys, vectors in _stored_chunks(model):
                self._copy(cursor, model, keys, vectors)
                done += len(keys)
                if on_progress:
                    on_progress(done, max(total, done))
            # The graph is built in memory when it fits (pgvector says so in a notice when it does not).
            needed = min(64 * 2**20 + done * 3 * 2**10, 2**30)
            cursor.execute("SELECT pg_size_bytes(current_setting('maintenance_work_mem'))")
            if cursor.fetchone()[0] < needed:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [f"{needed // 2**10}kB"])
            self._create_index(cursor)
            cursor.execute(f"ANALYZE {TABLE}")
            return _state(TABLE, model)

    def _copy(self, cursor, model: str, keys: Sequence[int], vectors: np.ndarray) -> None:
        with cursor.copy(f"COPY {TABLE} (paper_id, model, vector) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_copy_rows(model, keys, vectors))

    def record(self, model: str, keys: Sequence[int], vectors: np.ndarray) -> None:
        with connection.cursor() as cursor:
            if not keys or not self._ready(cursor):
                return
            with transaction.atomic():
                cursor.execute(f"DELETE FROM {TABLE} WHERE paper_id = ANY(%s)", [list(keys)])
                self._copy(cursor, model, keys, np.asarray(vectors, dtype=np.float16))

    def add(self, model: str, keys: Sequence[int], vectors: np.ndarray) -> IndexState:
        """The vectors went in with their embeddings (`record`): only check, and rebuild when out of step."""
        return self.rebuild(model, None) if self.problem(model) else _state(TABLE, model)

    def available(self, model: str) -> bool:
        with connection.cursor() as cursor:
            if not self._ready(cursor):
                return False
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE model = %s)", [model])
            return cursor.fetchone()[0]

    def nearest(self, model: str, vector: np.ndarray, k: int) -> list[tuple[int, float]] | None:
        wanted = _with_slack(k)
        literal = _literal(vector)
        with connection.cursor() as cursor:
            if not self._ready(cursor):
                return None
            exhaustive = EXHAUSTIVE or wanted > MAX_EF_SEARCH
            rows = self._candidates(cursor, model, literal, wanted, exhaustive)
            if len(rows) < wanted and not exhaustive:
                # The graph walk came back short (a small table, or one with many rows deleted since the last
                # vacuum): when the table holds more, look at every row.
                cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE model = %s", [model])
                if cursor.fetchone()[0] > len(rows):
                    rows = self._candidates(cursor, model, literal, wanted, exhaustive=True)
        return ranked([pid for pid, _ in rows], stack([blob for _, blob in rows]), vector)[:k]

    def _candidates(self, cursor, model: str, literal: str, wanted: int, exhaustive: bool) -> list[tuple]:
        """The `wanted` papers nearest by the HNSW index (or by every row, exhaustive), with their stored vectors."""
        with transaction.atomic():  # SET LOCAL lasts to the end of the transaction: one of its own
            if exhaustive:
                cursor.execute("SELECT set_config('enable_indexscan', 'off', true)")
            else:
                cursor.execute(
                    "SELECT set_config('hnsw.ef_search', %s, true)",
                    [str(min(max(SEARCH_BREADTH, wanted), MAX_EF_SEARCH))],
                )
            cursor.execute(
                f"SELECT e.paper_id, e.vector FROM (SELECT paper_id FROM {TABLE} WHERE model = %s "
                f"ORDER BY vector <=> %s::vector LIMIT %s) near "
                f"JOIN {PaperEmbedding._meta.db_table} e ON e.paper_id = near.paper_id",
                [model, literal, wanted],
            )
            return cursor.fetchall()


def _stored_chunks(model: str):
    """The stored embeddings of `model` in chunks of (paper ids, float16 matrix), by paper id."""
    last = 0
    while True:
        rows = list(
            PaperEmbedding.objects.filter(model=model, paper_id__gt=last)
            .order_by("paper_id")
            .values_list("paper_id", "vector")[:BUILD_CHUNK]
        )
        if not rows:
            return
        yield [pid for pid, _ in rows], stack([v for _, v in rows], as_float32=False)
        last = rows[-1][0]


_usearch = _Usearch()
_pgvector = _Pgvector()


def _store() -> _Usearch | _Pgvector:
    return _pgvector if connection.vendor == "postgresql" else _usearch


# --- what the rest of paperfeed calls ---


def prepare() -> str | None:
    """Make the store usable where paperfeed can (PostgreSQL: enable pgvector, create its table); when it cannot,
    a message for the operator saying what to do (search by meaning is off meanwhile), else None."""
    return _store().prepare()


def unavailable_reason() -> str | None:
    """What an operator must do before search by meaning can work here, without changing anything (`paperfeed
    check`); None when nothing, or when `paperfeed index` can do it."""
    return _store().unavailable_reason()


def index_state(model: str) -> IndexState | None:
    """What the store holds now (the usearch file: what it was built from), or None when there is no store."""
    return _store().index_state(model)


def problem(model: str) -> str | None:
    """Why the store cannot be trusted (missing, unreadable, out of step), or None when it matches the database."""
    return _store().problem(model)


def rebuild(model: str, on_progress: Callable[[int, int], None] | None = None) -> IndexState:
    """Build the store afresh from every stored embedding of `model` (nothing, where pgvector is missing)."""
    return _store().rebuild(model, on_progress)


def record(model: str, keys: Sequence[int], vectors: np.ndarray) -> None:
    """Called in the transaction that stores these embeddings: on PostgreSQL their vectors are written in it too,
    so the two commit together; the usearch file is updated by `add` after the commit."""
    _store().record(model, keys, vectors)


def add(model: str, keys: Sequence[int], vectors: np.ndarray) -> IndexState:
    """Bring the store up to these newly stored embeddings (rebuilding instead when it is missing or out of step)."""
    return _store().add(model, keys, vectors)


def available(model: str) -> bool:
    """Whether the store for this model can be searched."""
    return _store().available(model)


def nearest(model: str, vector: np.ndarray, k: int) -> list[tuple[int, float]] | None:
    """The k papers nearest to `vector` as (paper id, similarity), best first, or None when there is no store.

    On PostgreSQL this queries the database, so it runs on the thread whose connection should see the data."""
    return _store().nearest(model, vector, k)


def searches_without_database() -> bool:
    """Whether `nearest` can run on any thread (usearch); on PostgreSQL it must run on the request's own."""
    return _store() is _usearch


def remove_store() -> None:
    """Drop PostgreSQL's vector table and its triggers (the extension stays); nothing on SQLite."""
    if connection.vendor == "postgresql":
        _pgvector.remove()
