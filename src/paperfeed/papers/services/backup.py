"""Backups of the site's database, made while the site runs.

SQLite: SQLite's online backup API copies the database in one consistent snapshot while the site goes on serving
and writing (WAL), into a temporary file that is checked (PRAGMA integrity_check) and then renamed into place.
PostgreSQL: pg_dump's custom format, the connection (password included) passed in PG* variables, never on a
command line. Beside each backup goes the site's secret key, which `paperfeed restore` puts back: without it a
restored site signs every member out and voids every link already emailed.
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
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from paperfeed import config
from paperfeed.papers.services.databases import (
    DatabaseProblem,
    libpq_environment,
    remove_sqlite_files,
    without_password,
)

BACKUP_NAME = re.compile(r"^paperfeed-(\d{8}T\d{6}Z)(?:-(\d+))?\.(sqlite3|dump)$")
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
CLIENT_TOOLS = "PostgreSQL's client tools (Debian and Ubuntu: apt install postgresql-client)"


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def is_sqlite(db: dict) -> bool:
    return db["ENGINE"] == "django.db.backends.sqlite3"


def site_database() -> dict:
    return connections[DEFAULT_DB_ALIAS].settings_dict


def site_url() -> str:
    """The configured PostgreSQL URL without its password, for commands shown to the operator."""
    return without_password(config.env("PAPERFEED_DATABASE_URL") or "")


def fsync(path: Path) -> None:
    """Make a file (or a folder's list of names, after a rename) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sqlite_uri(path: Path) -> str:
    """The file, opened read-only: neither a backup nor a file to restore is ever changed by reading it."""
    return f"{path.resolve().as_uri()}?mode=ro"


def sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy of an SQLite database (its WAL included) with the online backup API, as one plain file."""
    with (
        closing(sqlite3.connect(sqlite_uri(source), uri=True, timeout=20)) as reader,
        closing(sqlite3.connect(destination)) as writer,
    ):
        # One step: a single read transaction, so the copy is one state of the database. In WAL mode it does not
        # stop the site's writers.
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=DELETE")  # self-contained: no -wal file to carry along
    fsync(destination)


def pg_listing(archive: Path, then: str) -> str:
    """What a pg_dump archive holds (`pg_restore --list`; empty without pg_restore). `then`: what an archive that
    cannot be read means, in words, for the message."""
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        return ""
    done = subprocess.run([pg_restore, "--list", str(archive)], capture_output=True, text=True)
    if done.returncode != 0:
        raise DatabaseProblem(f"{archive} is not a pg_dump archive in custom format ({done.stderr.strip()}). {then}")
    return done.stdout


# --- backup ---


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    key: str  # what became of the secret key, in words
    pruned: list[Path]


def default_folder() -> Path:
    return Path(settings.DATA_DIR) / "backups"


def _destination(path: str | None, suffix: str, keep: int | None) -> tuple[Path, bool]:
    """Where the backup goes, and whether that is a folder of dated backups (which --keep may prune)."""
    if path is None:
        folder = default_folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        chosen = Path(path).expanduser()
        if not chosen.is_dir():
            if keep is not None:
                raise DatabaseProblem(
                    "--keep prunes the dated backups of a folder: give a folder as PATH, or none for "
                    f"{default_folder()}"
                )
            if chosen.exists():
                raise DatabaseProblem(f"{chosen} already exists: give a new file name, or a folder")
            if not chosen.parent.is_dir():
                raise DatabaseProblem(f"there is no folder {chosen.parent} to write {chosen.name} in")
            return chosen, False
        folder = chosen
    now = stamp()
    name, n = f"paperfeed-{now}{suffix}", 1
    while (folder / name).exists():  # two backups within a second
        n += 1
        name = f"paperfeed-{now}-{n}{suffix}"
    return folder / name, True


def backup(path: str | None = None, keep: int | None = None) -> BackupReport:
    """Back up the site's database to `path` (a file or a folder; default DATA_DIR/backups), with the secret key
    beside it; keep only the newest `keep` dated backups of that folder."""
    if keep is not None and keep < 1:
        raise DatabaseProblem("--keep must be at least 1 (the backup just made)")
    db = site_database()
    suffix = ".sqlite3" if is_sqlite(db) else ".dump"
    destination, dated = _destination(path, suffix, keep)
    staged = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    try:
        if is_sqlite(db):
            _backup_sqlite(Path(db["NAME"]), staged)
        else:
            _backup_postgresql(db, staged, destination)
        os.chmod(staged, 0o600)  # password hashes and email addresses
        os.replace(staged, destination)
    finally:
        remove_sqlite_files(staged)
    fsync(destination.parent)
    key = _keep_key_beside(destination)
    pruned = prune(destination.parent, keep, suffix) if dated and keep else []
    return BackupReport(destination, destination.stat().st_size, key, pruned)


def _backup_sqlite(database: Path, staged: Path) -> None:
    if not database.is_file():
        raise DatabaseProblem(f"there is no database at {database} yet: nothing to back up")
    try:
        sqlite_copy(database, staged)
        with closing(sqlite3.connect(staged)) as copy:
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check(5)")]
    except sqlite3.DatabaseError as error:
        raise DatabaseProblem(f"the backup of {database} failed: {error}") from None
    if problems != ["ok"]:
        raise DatabaseProblem(
            f"the copy of {database} fails SQLite's integrity check ({'; '.join(problems)}): the site's database "
            "itself may be damaged. Nothing was written."
        )


def _backup_postgresql(db: dict, staged: Path, destination: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    command = f"pg_dump --format=custom --file={shlex.quote(str(destination))} {shlex.quote(site_url())}"
    if pg_dump is None:
        raise DatabaseProblem(
            f"pg_dump is not installed here; it comes with {CLIENT_TOOLS}. Back up with:\n  {command}\n"
            "(the password in PGPASSWORD or ~/.pgpass)"
        )
    done = subprocess.run(
        [pg_dump, "--format=custom", f"--file={staged}", "--no-password"],
        env={**os.environ, **libpq_environment(db)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        advice = ""
        if "version mismatch" in done.stderr:
            advice = " Use a pg_dump at least as new as the server: put that version's bin folder first on PATH."
        raise DatabaseProblem(f"pg_dump failed: {done.stderr.strip()}.{advice} Nothing was written.")
    pg_listing(staged, "pg_dump wrote something pg_restore cannot read: no backup was kept.")


def _keep_key_beside(destination: Path) -> str:
    if config.env("PAPERFEED_SECRET_KEY"):
        return (
            "The site's secret key comes from PAPERFEED_SECRET_KEY and is not in the backup: keep it with the "
            "site's configuration."
        )
    key = Path(settings.DATA_DIR) / "secret_key"
    if not key.is_file():
        return f"There is no secret key file at {key} to keep beside the backup."
    beside = destination.with_suffix(".secret_key")
    staged = beside.with_name(f".{beside.name}.partial-{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.read_text())
    os.replace(staged, beside)
    return (
        f"The site's secret key is beside it ({beside.name}); `paperfeed restore` puts it back. Keep the two "
        "together and private: without the key a restored site signs every member out and voids emailed links."
    )


def prune(folder: Path, keep: int, suffix: str) -> list[Path]:
    """Remove all but the newest `keep` dated backups (paperfeed-<time>) in the folder, with their key files."""
    dated = []
    for path in folder.iterdir():
        found = BACKUP_NAME.match(path.name)
        if found and path.suffix == suffix and path.is_file():
            dated.append(((found.group(1), int(found.group(2) or 1)), path))
    dated.sort()
    removed = [path for _, path in dated[:-keep]]
    for path in removed:
        path.unlink()
        path.with_suffix(".secret_key").unlink(missing_ok=True)
    return removed
