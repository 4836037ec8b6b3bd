"""Copying a whole site from its database into another one (SQLite to PostgreSQL, or back), and checking that two
databases hold the same rows.

Every table of every model (paperfeed's and Django's own: accounts, sessions, the admin log, content types and
permissions) is copied with its primary keys, in batches streamed through bounded memory, into a target that
`migrate` has just made; on PostgreSQL all of it is one transaction, and an SQLite target is written under a
temporary name, so a copy that fails or is interrupted leaves the target as it was. Then each table is checked on
both sides: its row count, and a SHA-256 over its rows in primary-key order, each value first put in one canonical
form (datetimes in UTC, JSON parsed and re-serialised with sorted keys, floats exactly, bytes as bytes), so that the
same rows give the same checksum on SQLite and on PostgreSQL. A copy whose checksums differ is not kept.

The papers' triggers write the keyword index's change log (papers_searchchange) as papers are copied; the log is
copied last, over what they wrote, so the target's log is the source's and a keyword index that was in step with
the source is in step with the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path
from uuid import UUID

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from paperfeed.papers.services.databases import (
    DatabaseProblem,
    connected,
    data_held,
    describe,
    held_in_words,
    migration_state,
    remove_sqlite_files,
    same_database,
    settings_for,
    stored_models,
)

TARGET = "paperfeed_copy_target"
READ_BATCH = 2000  # rows read, converted and written per step: bounded memory whatever the table's size
# Written by triggers while other tables are copied: copied last.
LOGGED_BY_TRIGGERS = ("papers_searchchange", "pagecache_pagechange", "pagecache_paperchange")
NOT_SITE_DATA = ("django_migrations",)  # written by `migrate` on the target


@dataclass(frozen=True)
class TableCheck:
    """One table compared in two databases: rows and checksums here (the site) and there (the other database)."""

    table: str
    rows_here: int
    rows_there: int
    checksum_here: str
    checksum_there: str
    first_difference: str | None = None  # the first row, in primary-key order, that is not the same on both sides

    @property
    def equal(self) -> bool:
        return self.rows_here == self.rows_there and self.checksum_here == self.checksum_there


@dataclass(frozen=True)
class CopyReport:
    target: str  # the target database in words
    checks: list[TableCheck]
    not_copied: list[str]  # tables in the site's database that belong to no model
    kept: bool  # the copy is in the target (False: it differed and was thrown away)

    @property
    def equal(self) -> bool:
        return all(check.equal for check in self.checks)

    @property
    def rows(self) -> int:
        return sum(check.rows_here for check in self.checks)


# --- which tables, in which order ---


def site_models() -> list[type[models.Model]]:
    """Every model with a table of its own, each after the models its foreign keys point to; the change log last."""
    by_table = {model._meta.db_table: model for model in stored_models()}
    needs = {
        table: {
            field.related_model._meta.db_table
            for field in model._meta.local_concrete_fields
            if field.is_relation and field.related_model._meta.db_table in by_table
        }
        - {table}
        for table, model in by_table.items()
    }
    ordered: list[str] = []
    waiting = sorted(set(by_table) - set(LOGGED_BY_TRIGGERS))
    while waiting:
        # A cycle of foreign keys (none today) is still copied: the constraints are checked at commit.
        ready = [table for table in waiting if needs[table] <= set(ordered)] or waiting[:1]
        ordered += ready
        waiting = [table for table in waiting if table not in ready]
    ordered += [table for table in LOGGED_BY_TRIGGERS if table in by_table]
    return [by_table[table] for table in ordered]


def _fields(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.local_concrete_fields)


def _tables_not_copied(connection: BaseDatabaseWrapper, copied: list[type[models.Model]]) -> list[str]:
    known = {model._meta.db_table for model in copied} | set(NOT_SITE_DATA)
    return sorted(t for t in connection.introspection.table_names() if t not in known and not t.startswith("sqlite_"))


# --- reading rows as Python values, the same way on both databases ---


class JsonText(str):
    """A JSON column's text as stored (SQL NULL stays None, JSON null stays 'null')."""


def _reader(model: type[models.Model], field: models.Field, connection: BaseDatabaseWrapper) -> Callable | None:
    if isinstance(field, models.JSONField):
        return lambda value: None if value is None else JsonText(value if isinstance(value, str) else json.dumps(value))
    column = field.get_col(model._meta.db_table)
    steps = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
    if not steps:
        return None

    def convert(value):
        for step in steps:
            value = step(value, column, connection)
        return value

    return convert


def _key_order(model: type[models.Model], connection: BaseDatabaseWrapper) -> str:
    """ORDER BY the primary key, text keys by their bytes (PostgreSQL's default collation orders text otherwise)."""
    pk = model._meta.pk
    quoted = connection.ops.quote_name(pk.column)
    text = isinstance(pk.target_field if pk.is_relation else pk, models.CharField | models.TextField)
    return f'{quoted} COLLATE "C"' if text and connection.vendor == "postgresql" else quoted


def rows(model: type[models.Model], connection: BaseDatabaseWrapper, batch: int = READ_BATCH) -> Iterator[list[list]]:
    """The table's rows in primary-key order, in batches, each row a list of its columns' values (as Python
    values: datetimes, booleans, bytes; JSON as JsonText). A server-side cursor on PostgreSQL: bounded memory."""
    fields = _fields(model)
    quote = connection.ops.quote_name
    readers = [_reader(model, field, connection) for field in fields]
    sql = (
        f"SELECT {', '.join(quote(field.column) for field in fields)} FROM {quote(model._meta.db_table)} "
        f"ORDER BY {_key_order(model, connection)}"
    )
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql)
        while found := cursor.fetchmany(batch):
            yield [
                [value if read is None else read(value) for read, value in zip(readers, row, strict=True)]
                for row in found
            ]
    finally:
        cursor.close()


# --- writing ---


def _writer(field: models.Field, connection: BaseDatabaseWrapper) -> Callable:
    if isinstance(field, models.JSONField):
        adapt = connection.ops.adapt_json_value
        return lambda value: None if value is None else adapt(json.loads(value), field.encoder)
    return lambda value: field.get_db_prep_save(value, connection=connection)


def _insert(model: type[models.Model], connection: BaseDatabaseWrapper, cursor, batch: list[list]) -> None:
    fields = _fields(model)
    writers = [_writer(field, connection) for field in fields]
    quote = connection.ops.quote_name
    # Several rows per statement, within each database's limit on parameters.
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(len(batch), limit // len(fields)))
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(batch), per_statement):
        chunk = batch[start : start + per_statement]
        params = [write(value) for row in chunk for write, value in zip(writers, row, strict=True)]
        cursor.execute(head + ", ".join([one] * len(chunk)), params)


def _copy_tables(
    copied: list[type[models.Model]],
    source: BaseDatabaseWrapper,
    target: BaseDatabaseWrapper,
    on_progress: Callable[[str, int], None] | None,
) -> None:
    with target.cursor() as cursor:
        # What `migrate` wrote (content types, permissions) and the triggers wrote (change logs) makes way for the
        # site's own rows, with their ids: emptied first, the tables that point at others before those they point at.
        for model in reversed(copied):
            table = model._meta.db_table
            try:
                cursor.execute(f"DELETE FROM {target.ops.quote_name(table)}")
            except Exception as error:  # noqa: BLE001 - any failure stops the copy; the message names the table
                raise CopyStopped(table, error) from error
        for model in copied:
            table = model._meta.db_table
            try:
                # Again: triggers may have written to it (the change logs) while the tables before it were copied.
                cursor.execute(f"DELETE FROM {target.ops.quote_name(table)}")
                for batch in rows(model, source):
                    _insert(model, target, cursor, batch)
                    if on_progress:
                        on_progress(table, len(batch))
            except Exception as error:  # noqa: BLE001 - any failure stops the copy; the message names the table
                raise CopyStopped(table, error) from error
        for statement in target.ops.sequence_reset_sql(no_style(), copied):
            cursor.execute(statement)  # PostgreSQL: new rows get ids after the copied ones


# --- checking ---


_COMMON = {  # by exact type: most values, found without a chain of isinstance checks
    type(None): lambda value: b"N",
    bool: lambda value: b"B1" if value else b"B0",
    int: lambda value: b"I%d" % value,
    float: lambda value: b"F" + value.hex().encode(),
    str: lambda value: b"S" + value.encode("utf-8", "surrogatepass"),
    bytes: lambda value: b"X" + value,
}


def canonical(value) -> bytes:
    """One value in a form that is the same whichever database it was read from."""
    common = _COMMON.get(type(value))
    if common is not None:
        return common(value)
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"B1" if value else b"B0"
    if isinstance(value, int):
        return b"I" + str(value).encode()
    if isinstance(value, float):
        return b"F" + value.hex().encode()
    if isinstance(value, JsonText):
        normal = json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return b"J" + normal.encode()
    if isinstance(value, str):
        return b"S" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes | bytearray | memoryview):
        return b"X" + bytes(value)
    if isinstance(value, datetime):
        return b"T" + (value.astimezone(UTC) if value.tzinfo else value).isoformat().encode()
    if isinstance(value, date | time):
        return b"D" + value.isoformat().encode()
    if isinstance(value, Decimal):
        return b"M" + format(value.normalize(), "f").encode()
    if isinstance(value, UUID):
        return b"U" + value.hex.encode()
    if isinstance(value, timedelta):
        return b"L" + str(value // timedelta(microseconds=1)).encode()
    return b"R" + repr(value).encode()


def _canonical_rows(model: type[models.Model], connection: BaseDatabaseWrapper) -> Iterator[tuple[str, bytes]]:
    key = [field.primary_key for field in _fields(model)].index(True)
    name = model._meta.pk.column
    for batch in rows(model, connection):
        for row in batch:
            encoded = [canonical(value) for value in row]
            yield f"{name}={row[key]!r}", b"".join([b"%d:%s" % (len(part), part) for part in encoded])


def check_table(model: type[models.Model], here: BaseDatabaseWrapper, there: BaseDatabaseWrapper) -> TableCheck:
    """Count and checksum one table on both sides, reading both in step to name the first row that differs."""
    sums = [hashlib.sha256(), hashlib.sha256()]
    counts = [0, 0]
    first = None
    for ours, theirs in zip_longest(_canonical_rows(model, here), _canonical_rows(model, there)):
        for side, row in enumerate((ours, theirs)):
            if row is not None:
                sums[side].update(struct.pack(">Q", len(row[1])) + row[1])
                counts[side] += 1
        if first is None and ours != theirs:
            first = (ours or theirs)[0]
    return TableCheck(model._meta.db_table, counts[0], counts[1], sums[0].hexdigest(), sums[1].hexdigest(), first)


def _check_tables(
    copied: list[type[models.Model]],
    here: BaseDatabaseWrapper,
    there: BaseDatabaseWrapper,
    on_table: Callable[[TableCheck], None] | None,
) -> list[TableCheck]:
    checks = []
    for model in copied:
        checks.append(check_table(model, here, there))
        if on_table:
            on_table(checks[-1])
    return checks


@contextmanager
def snapshot(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """One consistent view of a database while it is read, without holding up the site's writers."""
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    # SQLite: a deferred read transaction. (Django's atomic() would BEGIN IMMEDIATE, taking the write lock.)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


# --- the two operations ---


def _source_ready(source: BaseDatabaseWrapper) -> None:
    state = migration_state(source)
    if state.unknown:
        raise DatabaseProblem(
            f"this site's database was migrated by a newer paperfeed ({', '.join(state.unknown[:5])}): "
            "run this command with that version"
        )
    if state.pending:
        raise DatabaseProblem(
            f"this site's database lacks {len(state.pending)} migrations of this paperfeed "
            f"({', '.join(state.pending[:5])}): run `paperfeed migrate` first, then copy"
        )


def source_rows(copied: list[type[models.Model]], source: BaseDatabaseWrapper) -> int:
    with source.cursor() as cursor:
        total = 0
        for model in copied:
            cursor.execute(f"SELECT count(*) FROM {source.ops.quote_name(model._meta.db_table)}")
            total += cursor.fetchone()[0]
    return total


def copy_site(
    url: str,
    on_table: Callable[[TableCheck], None] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> CopyReport:
    """Copy every table of the site's database into the empty database at `url`, then check each table.

    on_start(rows to copy), on_progress(table, rows just copied), on_table(check) report as it goes. Raises
    DatabaseProblem (nothing written) when the target cannot be used or the copy fails midway.
    """
    source = connections[DEFAULT_DB_ALIAS]
    target_db = settings_for(url, "--to")
    if same_database(source.settings_dict, target_db):
        raise DatabaseProblem(f"--to names this site's own database ({describe(target_db)}): give another database")
    _source_ready(source)
    copied = site_models()
    not_copied = _tables_not_copied(source, copied)
    if on_start:
        on_start(source_rows(copied, source))
    copy = _copy_to_sqlite if target_db["ENGINE"] == "django.db.backends.sqlite3" else _copy_to_postgresql
    checks, kept = copy(target_db, copied, source, on_table, on_progress)
    return CopyReport(describe(target_db), checks, not_copied, kept)


class _Differs(Exception):
    def __init__(self, checks: list[TableCheck]) -> None:
        self.checks = checks


class CopyStopped(Exception):
    """Copying a table failed (a value the target refuses, a full disk, a lost connection)."""

    def __init__(self, table: str, error: Exception) -> None:
        super().__init__(f"the copy stopped at table {table}: {str(error).strip() or type(error).__name__}")


def _failed(target_db: dict, error: Exception) -> DatabaseProblem:
    said = str(error).strip().rstrip(".") or type(error).__name__
    if not isinstance(error, CopyStopped):
        said = f"the copy failed: {said}"
    return DatabaseProblem(f"{said}. Nothing was written to the {describe(target_db)}: it is as it was.")


def _build_schema() -> None:
    """The target's tables, as `migrate` makes them (with content types and permissions), and the table of a
    database cache if the settings name one (a cache's rows are not copied: it fills again)."""
    call_command("migrate", database=TARGET, interactive=False, verbosity=0)
    call_command("createcachetable", database=TARGET, verbosity=0)


def _refuse_data(target: BaseDatabaseWrapper, target_db: dict) -> None:
    newer = migration_state(target).unknown
    if newer:
        raise DatabaseProblem(
            f"the {describe(target_db)} was migrated by a newer paperfeed ({', '.join(newer[:5])}): copy into a "
            "new, empty database"
        )
    held = data_held(target)
    if held:
        raise DatabaseProblem(
            f"the {describe(target_db)} already holds paperfeed data ({held_in_words(held)}). copy-site copies "
            "into an empty database only, so that nothing there is overwritten or mixed with this site: create a "
            "new database (`createdb NAME`, or CREATE DATABASE in psql) and give its URL to --to"
        )


def _copy_to_postgresql(target_db, copied, source, on_table, on_progress) -> tuple[list[TableCheck], bool]:
    with connected(TARGET, target_db) as target:
        _refuse_data(target, target_db)
        try:
            # One transaction: PostgreSQL's DDL is transactional, so even the migrations vanish on failure.
            with transaction.atomic(using=TARGET):
                _build_schema()
                with snapshot(source):
                    _copy_tables(copied, source, target, on_progress)
                    checks = _check_tables(copied, source, target, on_table)
                if not all(check.equal for check in checks):
                    raise _Differs(checks)
        except _Differs as differs:
            return differs.checks, False
        except (DatabaseError, CopyStopped) as error:
            raise _failed(target_db, error) from None
        with suppress(DatabaseError), target.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh planner statistics for tables that were empty a moment ago
    return checks, True


def _copy_to_sqlite(target_db, copied, source, on_table, on_progress) -> tuple[list[TableCheck], bool]:
    final = Path(target_db["NAME"])
    if final.exists() and final.stat().st_size:
        raise DatabaseProblem(
            f"{final} already exists: copy-site writes a new SQLite file and overwrites none. Move it away or "
            "give another path"
        )
    if not final.parent.is_dir():
        raise DatabaseProblem(f"there is no folder {final.parent} to write {final.name} in")
    staged = final.with_name(f".{final.name}.copying-{os.getpid()}")
    remove_sqlite_files(staged)
    try:
        with connected(TARGET, {**target_db, "NAME": str(staged)}) as target:
            try:
                _build_schema()
                with snapshot(source):
                    with transaction.atomic(using=TARGET):
                        _copy_tables(copied, source, target, on_progress)
                    checks = _check_tables(copied, source, target, on_table)
                with target.cursor() as cursor:
                    cursor.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to move into place
            except (DatabaseError, CopyStopped) as error:
                raise _failed(target_db, error) from None
        if not all(check.equal for check in checks):
            return checks, False
        os.replace(staged, final)
        return checks, True
    finally:
        remove_sqlite_files(staged)


def compare_with(url: str, on_table: Callable[[TableCheck], None] | None = None) -> list[TableCheck]:
    """Check every table of the site against the database at `url` (a copy made earlier), changing neither."""
    source = connections[DEFAULT_DB_ALIAS]
    target_db = settings_for(url, "--to")
    if target_db["ENGINE"] == "django.db.backends.sqlite3" and not Path(target_db["NAME"]).is_file():
        raise DatabaseProblem(f"there is no SQLite file at {target_db['NAME']}")
    copied = site_models()
    with connected(TARGET, target_db) as target:
        state = migration_state(target)
        if state.pending or state.unknown:
            raise DatabaseProblem(
                f"the {describe(target_db)} is not migrated as this paperfeed expects "
                f"({', '.join((state.pending or state.unknown)[:5])}…): its tables cannot be compared"
            )
        try:
            with snapshot(source), snapshot(target):
                return _check_tables(copied, source, target, on_table)
        except DatabaseError as error:
            raise DatabaseProblem(f"could not read both databases: {error}") from None
