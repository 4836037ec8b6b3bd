"""Databases beside the site's own, named by URL (copy-site's target, a backup to restore): connecting to one,
its migration state, whether it already holds paperfeed data, and how to show or pass its address safely."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.utils import load_backend

from paperfeed import config

# Filled by `migrate` itself (post_migrate signal): a database holding only these rows holds no site yet.
FILLED_BY_MIGRATE = frozenset({"django_content_type", "auth_permission"})


class DatabaseProblem(Exception):
    """Something about a database the operator named that stops the command; the message says what to do."""


def shown(url: str) -> str:
    """The URL for messages and logs: the password replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def without_password(url: str) -> str:
    """The URL for a command line an operator may run: no password (libpq reads PGPASSWORD or ~/.pgpass)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}"))


def settings_for(url: str, option: str) -> dict:
    """Django database settings for a URL given on the command line (PostgreSQL or an SQLite file)."""
    try:
        found = config.database(url, Path(settings.DATA_DIR), variable=option)
    except SystemExit as stop:
        raise DatabaseProblem(str(stop)) from None
    if found["ENGINE"] == "django.db.backends.sqlite3" and str(found["NAME"]) in ("", ":memory:"):
        raise DatabaseProblem(f"{option}={url!r} names no file: use sqlite:////path/to/paperfeed.sqlite3")
    return found


def describe(db: dict) -> str:
    """A database's settings in words, for messages (no password)."""
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"SQLite {db['NAME']}"
    host = db.get("HOST") or (db.get("OPTIONS") or {}).get("host") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"PostgreSQL database {db['NAME']!r} on {host}{port}"


def same_database(one: dict, other: dict) -> bool:
    def key(db: dict) -> tuple:
        if db["ENGINE"] == "django.db.backends.sqlite3":
            return ("sqlite", os.path.realpath(db["NAME"]))
        options = db.get("OPTIONS") or {}
        return ("pg", db.get("HOST") or options.get("host") or "", str(db.get("PORT") or ""), db["NAME"])

    return key(one) == key(other)


@contextmanager
def connected(alias: str, db: dict) -> Iterator[BaseDatabaseWrapper]:
    """A connection to another database under `alias` for the duration, closed and forgotten afterwards.

    It is this thread's only, and not added to the configured databases (which other threads and the site's
    own bookkeeping go by)."""
    full = connections.configure_settings({DEFAULT_DB_ALIAS: dict(db)})[DEFAULT_DB_ALIAS]
    connection = load_backend(full["ENGINE"]).DatabaseWrapper(full, alias)
    connections[alias] = connection
    try:
        try:
            connection.ensure_connection()
        except DatabaseError as error:
            raise DatabaseProblem(f"cannot connect to the {describe(db)}: {error}".strip()) from None
        yield connection
    finally:
        connection.close()
        del connections[alias]


def libpq_environment(db: dict) -> dict[str, str]:
    """PG* variables for pg_dump and pg_restore: the connection, password included, never on their command line
    (where `ps` would show it)."""
    names = {
        "host": "PGHOST",
        "hostaddr": "PGHOSTADDR",
        "port": "PGPORT",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "dbname": "PGDATABASE",
        "passfile": "PGPASSFILE",
        "sslmode": "PGSSLMODE",
        "sslcert": "PGSSLCERT",
        "sslkey": "PGSSLKEY",
        "sslrootcert": "PGSSLROOTCERT",
        "sslcrl": "PGSSLCRL",
        "service": "PGSERVICE",
        "connect_timeout": "PGCONNECT_TIMEOUT",
        "options": "PGOPTIONS",
        "application_name": "PGAPPNAME",
        "target_session_attrs": "PGTARGETSESSIONATTRS",
        "channel_binding": "PGCHANNELBINDING",
        "gssencmode": "PGGSSENCMODE",
    }
    values = {key: value for key, value in (db.get("OPTIONS") or {}).items() if key in names}
    for key, setting in (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD")):
        if db.get(setting):
            values[key] = db[setting]
    values["dbname"] = db["NAME"]
    return {names[key]: str(value) for key, value in values.items() if value not in (None, "")}


# --- what a database holds ---


def code_migrations() -> set[tuple[str, str]]:
    """Every migration this paperfeed knows, as (app, name)."""
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def unknown_migrations(applied: Iterable[tuple[str, str]]) -> list[str]:
    """Those applied migrations of paperfeed's apps that this code does not know: a newer paperfeed made them."""
    installed = {config.label for config in apps.get_app_configs()}
    known = code_migrations()
    return sorted(f"{app}.{name}" for app, name in applied if app in installed and (app, name) not in known)


@dataclass(frozen=True)
class MigrationState:
    unknown: list[str]  # applied there, unknown here: made by a newer paperfeed
    pending: list[str]  # known here, not applied there: an older database


def migration_state(connection: BaseDatabaseWrapper) -> MigrationState:
    executor = MigrationExecutor(connection)
    loader = executor.loader
    unknown = unknown_migrations(loader.applied_migrations)
    plan = executor.migration_plan(loader.graph.leaf_nodes())
    return MigrationState(unknown, [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards])


def stored_models() -> list[type[models.Model]]:
    """Every model with a table of its own: paperfeed's and Django's (accounts, sessions, admin log…), and the
    many-to-many tables between them."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]


def site_tables() -> list[str]:
    return sorted({model._meta.db_table for model in stored_models()})


def data_held(connection: BaseDatabaseWrapper) -> list[tuple[str, int]]:
    """The site tables in this database that hold rows (besides those `migrate` fills), with their row counts."""
    present = set(connection.introspection.table_names())
    held = []
    with connection.cursor() as cursor:
        for table in site_tables():
            if table in present and table not in FILLED_BY_MIGRATE:
                cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
                count = cursor.fetchone()[0]
                if count:
                    held.append((table, count))
    return held


def rows_in_words(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def held_in_words(held: list[tuple[str, int]]) -> str:
    """The papers and members first, then the fullest tables."""
    held = sorted(held, key=lambda item: (item[0] not in ("papers_paper", "auth_user"), -item[1], item[0]))
    shown_tables = ", ".join(f"{table}: {rows_in_words(count)}" for table, count in held[:5])
    return shown_tables + (f" and {len(held) - 5} more tables" if len(held) > 5 else "")


def remove_sqlite_files(path: Path) -> None:
    """An SQLite file and the journal files beside it, if there."""
    for leftover in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        with suppress(FileNotFoundError):
            leftover.unlink()
