"""Restoring a backup made by `paperfeed backup`.

The file is checked first (a paperfeed database, undamaged, not from a newer paperfeed) and nothing changes when
it is not. On SQLite the current database is kept as paperfeed.sqlite3.before-restore-<time> and the restored one
swapped in with one rename; on PostgreSQL the dump goes into an empty database with pg_restore, in one
transaction. Then the migrations run (an older backup), the secret key beside the backup is put back, and the
search indexes are removed, which `paperfeed serve` or `paperfeed index` rebuild from the restored database.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections

from paperfeed import config
from paperfeed.papers.retrieval import forget_indexes
from paperfeed.papers.services.backup import (
    CLIENT_TOOLS,
    PG_DUMP_HEADER,
    SQLITE_HEADER,
    is_sqlite,
    pg_listing,
    site_database,
    site_url,
    sqlite_copy,
    sqlite_uri,
    stamp,
)
from paperfeed.papers.services.databases import (
    DatabaseProblem,
    describe,
    libpq_environment,
    migration_state,
    remove_sqlite_files,
    unknown_migrations,
)
from paperfeed.papers.services.running import servers_using


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    database: str  # the site's database, in words
    kept: Path | None  # the database as it was before (SQLite)
    papers: int
    members: int
    migrated: list[str]  # migrations applied to the restored database (an older backup)
    key: str  # what became of the secret key, in words


def restore(path: str) -> RestoreReport:
    """Put the backup at `path` in place of the site's database (SQLite), or into its empty database (PostgreSQL)."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise DatabaseProblem(f"there is no file {source}")
    with open(source, "rb") as handle:
        head = handle.read(16)
    running = servers_using(Path(settings.DATA_DIR))
    if running:
        raise DatabaseProblem(
            f"paperfeed is running on this data directory ({settings.DATA_DIR}): {'; '.join(running)}. "
            "Stop it (the site, its indexer and any worker), then restore. Nothing was changed."
        )
    db = site_database()
    if is_sqlite(db):
        if head.startswith(PG_DUMP_HEADER):
            raise DatabaseProblem(
                f"{source} is a PostgreSQL dump (pg_dump): restore it on a site that runs on PostgreSQL "
                "(PAPERFEED_DATABASE_URL). Nothing was changed."
            )
        return _restore_sqlite(source, head, db)
    if head == SQLITE_HEADER:
        raise DatabaseProblem(
            f"{source} is an SQLite backup, and this site runs on PostgreSQL: restore it on an SQLite site "
            "(PAPERFEED_DATABASE_URL unset), then move it here with `paperfeed copy-site --to URL`. Nothing was "
            "changed."
        )
    return _restore_postgresql(source, db)


def check_sqlite_backup(source: Path, head: bytes) -> tuple[int, int]:
    """(papers, members) of a paperfeed SQLite database that this code can run; else DatabaseProblem."""
    unchanged = "Nothing was changed."
    if head != SQLITE_HEADER:
        raise DatabaseProblem(f"{source} is not an SQLite database, so not a paperfeed backup. {unchanged}")
    try:
        with closing(sqlite3.connect(sqlite_uri(source), uri=True)) as db:
            problems = [row[0] for row in db.execute("PRAGMA integrity_check(5)")]
            if problems != ["ok"]:
                raise DatabaseProblem(
                    f"{source} is damaged (SQLite's integrity check: {'; '.join(problems)}). {unchanged} "
                    "Restore an older backup."
                )
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"django_migrations", "papers_paper"} <= tables:
                raise DatabaseProblem(
                    f"{source} is an SQLite database but not paperfeed's (it has no papers_paper or "
                    f"django_migrations table). {unchanged}"
                )
            newer = unknown_migrations(db.execute("SELECT app, name FROM django_migrations").fetchall())
            if newer:
                raise DatabaseProblem(
                    f"{source} comes from a newer paperfeed: its database has migrations this one does not know "
                    f"({', '.join(newer[:5])}). Upgrade paperfeed, then restore. {unchanged}"
                )
            papers = db.execute("SELECT count(*) FROM papers_paper").fetchone()[0]
            members = db.execute("SELECT count(*) FROM auth_user").fetchone()[0] if "auth_user" in tables else 0
    except sqlite3.DatabaseError as error:  # an SQLite file, by its first bytes, that SQLite cannot read
        raise DatabaseProblem(f"{source} is damaged ({error}). {unchanged} Restore an older backup.") from None
    return papers, members


def _release(live: Path) -> None:
    """Fold the live database's WAL into it; refuse when another process has it open (it then cannot be)."""
    try:
        with closing(sqlite3.connect(live, timeout=2)) as db:
            mode = db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            return  # unreadable (damaged: the disaster being recovered from): kept as it is, with its -wal
        mode = "wal"
    except sqlite3.DatabaseError:
        return
    if mode != "delete":
        raise DatabaseProblem(
            f"another process has {live} open: stop every paperfeed process of this site, then restore. "
            "Nothing was changed."
        )


def _restore_sqlite(source: Path, head: bytes, db: dict) -> RestoreReport:
    papers, members = check_sqlite_backup(source, head)
    live = Path(db["NAME"])
    connections[DEFAULT_DB_ALIAS].close()
    staged = live.with_name(f".{live.name}.restoring-{os.getpid()}")
    remove_sqlite_files(staged)
    kept = None
    try:
        sqlite_copy(source, staged)
        if live.exists():
            _release(live)
            kept = live.with_name(f"{live.name}.before-restore-{stamp()}")
            try:
                os.link(live, kept)
            except OSError:
                shutil.copy2(live, kept)
            for journal in ("-wal", "-shm"):  # left by a damaged database: they belong with it
                if live.with_name(live.name + journal).exists():
                    os.replace(live.with_name(live.name + journal), kept.with_name(kept.name + journal))
        os.replace(staged, live)  # the swap: one rename
    finally:
        remove_sqlite_files(staged)
    return _after_restore(source, describe(db), kept, papers, members)


def _archive_migrations(pg_restore: str, archive: Path) -> list[tuple[str, str]]:
    """The django_migrations rows inside a pg_dump archive."""
    done = subprocess.run(
        [pg_restore, "--data-only", "--table=django_migrations", "--file=-", str(archive)],
        capture_output=True,
        text=True,
    )
    applied, columns = [], None
    for line in done.stdout.splitlines():
        if columns is None:
            found = re.match(r"COPY \S*django_migrations \((.*)\) FROM stdin;", line)
            if found:
                columns = [name.strip().strip('"') for name in found.group(1).split(",")]
        elif line == "\\.":
            break
        else:
            row = dict(zip(columns, line.split("\t"), strict=False))
            applied.append((row["app"], row["name"]))
    return applied


def _restore_postgresql(source: Path, db: dict) -> RestoreReport:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        command = (
            "pg_restore --no-owner --no-privileges --exit-on-error --single-transaction "
            f"--dbname={shlex.quote(site_url())} {shlex.quote(str(source))}"
        )
        raise DatabaseProblem(
            f"pg_restore is not installed here; it comes with {CLIENT_TOOLS}. Into a new, empty database, "
            f"restore with:\n  {command}\nthen run `paperfeed migrate` and `paperfeed index`."
        )
    listing = pg_listing(source, "Nothing was changed.")
    if not (re.search(r"TABLE \S+ papers_paper\b", listing) and re.search(r"TABLE \S+ django_migrations\b", listing)):
        raise DatabaseProblem(f"{source} is a pg_dump archive but not of a paperfeed database. Nothing was changed.")
    newer = unknown_migrations(_archive_migrations(pg_restore, source))
    if newer:
        raise DatabaseProblem(
            f"{source} comes from a newer paperfeed: its database has migrations this one does not know "
            f"({', '.join(newer[:5])}). Upgrade paperfeed, then restore. Nothing was changed."
        )
    connection = connections[DEFAULT_DB_ALIAS]
    tables = connection.introspection.table_names()
    if tables:
        raise DatabaseProblem(
            f"the {describe(db)} already has tables ({', '.join(sorted(tables)[:3])}…): a restore goes into a new, "
            "empty database, so that nothing is overwritten. Create one (`createdb NAME`), point "
            "PAPERFEED_DATABASE_URL at it and restore again. Nothing was changed."
        )
    connection.close()
    done = subprocess.run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={db['NAME']}",
            str(source),
        ],
        env={**os.environ, **libpq_environment(db)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise DatabaseProblem(
            f"pg_restore failed: {done.stderr.strip()}. It ran as one transaction: the database is still empty."
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM papers_paper")
        papers = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM auth_user")
        members = cursor.fetchone()[0]
    return _after_restore(source, describe(db), None, papers, members)


def _after_restore(source: Path, database: str, kept: Path | None, papers: int, members: int) -> RestoreReport:
    pending = migration_state(connections[DEFAULT_DB_ALIAS]).pending
    call_command("migrate", interactive=False, verbosity=0)
    forget_indexes()
    return RestoreReport(source, database, kept, papers, members, pending, _restore_key(source))


def _restore_key(source: Path) -> str:
    beside = source.with_suffix(".secret_key")
    if not beside.is_file():
        return (
            f"No secret key file beside the backup ({beside.name}): the site keeps its own key. If that is not the "
            "key the backed-up site used, members sign in again and links already emailed no longer work."
        )
    if config.env("PAPERFEED_SECRET_KEY"):
        return (
            f"PAPERFEED_SECRET_KEY is set, so the key beside the backup ({beside.name}) was not installed: if it "
            "differs, set PAPERFEED_SECRET_KEY to it."
        )
    key = Path(settings.DATA_DIR) / "secret_key"
    wanted = beside.read_text().strip()
    if key.is_file() and key.read_text().strip() == wanted:
        return "The secret key beside the backup is already this site's."
    staged = key.with_name(f".secret_key.restoring-{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(wanted)
    kept = ""
    if key.is_file():
        previous = key.with_name(f"secret_key.before-restore-{stamp()}")
        os.link(key, previous)
        kept = f" (the previous one is kept as {previous.name})"
    os.replace(staged, key)
    return f"Put back the site's secret key from {beside.name}{kept}: members stay signed in, emailed links work."
