"""Backups of the site's database, and restoring one.

SQLite: SQLite's online backup API copies the database in one consistent snapshot while the site goes on serving
and writing (WAL), into a temporary file that is checked (PRAGMA integrity_check) and then renamed into place.
PostgreSQL: pg_dump's custom format, the connection (password included) passed in PG* variables, never on a
command line. Beside each backup goes the site's secret key, which a restore puts back: without it a restored site
signs every member out and voids every link already emailed.

A restore checks the file first (a paperfeed database, undamaged, not from a newer paperfeed) and changes nothing
when it is not; on SQLite it keeps the current database as paperfeed.sqlite3.before-restore-<time> and swaps the
restored one in with one rename; on PostgreSQL it restores into an empty database in one transaction. Then it
migrates (an older backup) and removes the search indexes, which `paperfeed serve` or `paperfeed index` rebuild
from the restored database.
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
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections

from paperfeed import config
from paperfeed.papers.retrieval import forget_indexes
from paperfeed.papers.services.databases import (
    DatabaseProblem,
    describe,
    libpq_environment,
    migration_state,
    remove_sqlite_files,
    unknown_migrations,
    without_password,
)

BACKUP_NAME = re.compile(r"^paperfeed-(\d{8}T\d{6}Z)(?:-(\d+))?\.(sqlite3|dump)$")
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
CLIENT_TOOLS = "PostgreSQL's client tools (Debian and Ubuntu: apt install postgresql-client)"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _is_sqlite(db: dict) -> bool:
    return db["ENGINE"] == "django.db.backends.sqlite3"


def _site_database() -> dict:
    return connections[DEFAULT_DB_ALIAS].settings_dict


def _site_url() -> str:
    """The configured PostgreSQL URL without its password, for commands shown to the operator."""
    return without_password(config.env("PAPERFEED_DATABASE_URL") or "")


def _fsync(path: Path) -> None:
    """Make a file (or a folder's list of names, after a rename) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sqlite_uri(path: Path, mode: str = "ro") -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


def sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy of an SQLite database (its WAL included) with the online backup API, as one plain file."""
    with (
        closing(sqlite3.connect(_sqlite_uri(source), uri=True, timeout=20)) as reader,
        closing(sqlite3.connect(destination)) as writer,
    ):
        # One step: a single read transaction, so the copy is one state of the database. In WAL mode it does not
        # stop the site's writers.
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=DELETE")  # self-contained: no -wal file to carry along
    _fsync(destination)


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
    stamp = _stamp()
    name, n = f"paperfeed-{stamp}{suffix}", 1
    while (folder / name).exists():  # two backups within a second
        n += 1
        name = f"paperfeed-{stamp}-{n}{suffix}"
    return folder / name, True


def backup(path: str | None = None, keep: int | None = None) -> BackupReport:
    """Back up the site's database to `path` (a file or a folder; default DATA_DIR/backups), with the secret key
    beside it; keep only the newest `keep` dated backups of that folder."""
    if keep is not None and keep < 1:
        raise DatabaseProblem("--keep must be at least 1 (the backup just made)")
    db = _site_database()
    suffix = ".sqlite3" if _is_sqlite(db) else ".dump"
    destination, dated = _destination(path, suffix, keep)
    staged = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    try:
        if _is_sqlite(db):
            _backup_sqlite(Path(db["NAME"]), staged)
        else:
            _backup_postgresql(db, staged, destination)
        os.chmod(staged, 0o600)  # password hashes and email addresses
        os.replace(staged, destination)
    finally:
        remove_sqlite_files(staged)
    _fsync(destination.parent)
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
    command = f"pg_dump --format=custom --file={shlex.quote(str(destination))} {shlex.quote(_site_url())}"
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
    _pg_listing(staged)  # the archive reads back


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


# --- restore ---


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
    db = _site_database()
    if _is_sqlite(db):
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
        with closing(sqlite3.connect(_sqlite_uri(source), uri=True)) as db:
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
            kept = live.with_name(f"{live.name}.before-restore-{_stamp()}")
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


def _pg_listing(archive: Path) -> str:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        return ""
    done = subprocess.run([pg_restore, "--list", str(archive)], capture_output=True, text=True)
    if done.returncode != 0:
        raise DatabaseProblem(
            f"{archive} is not a pg_dump archive in custom format ({done.stderr.strip()}). Nothing was changed."
        )
    return done.stdout


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
            f"--dbname={shlex.quote(_site_url())} {shlex.quote(str(source))}"
        )
        raise DatabaseProblem(
            f"pg_restore is not installed here; it comes with {CLIENT_TOOLS}. Into a new, empty database, "
            f"restore with:\n  {command}\nthen run `paperfeed migrate` and `paperfeed index`."
        )
    listing = _pg_listing(source)
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
            pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password",
            f"--dbname={db['NAME']}", str(source),
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
        previous = key.with_name(f"secret_key.before-restore-{_stamp()}")
        os.link(key, previous)
        kept = f" (the previous one is kept as {previous.name})"
    os.replace(staged, key)
    return f"Put back the site's secret key from {beside.name}{kept}: members stay signed in, emailed links work."


# --- is the site running? ---


def _paperfeed_service(argv: list[str]) -> str | None:
    """The command, if this command line is a long-running paperfeed process (serve, its indexer, a worker)."""
    for i, arg in enumerate(argv):
        if arg == "-m" and argv[i + 1 : i + 2] == ["paperfeed"]:
            rest = argv[i + 2 :]
        elif os.path.basename(arg) == "paperfeed":
            rest = argv[i + 1 :]
        else:
            continue
        if rest and (rest[0] in ("serve", "worker") or (rest[0] == "index" and "--watch" in rest)):
            return " ".join(["paperfeed", *rest])
        return None
    if argv and "[paperfeed]" in argv[0]:  # gunicorn's process title, where setproctitle is installed
        return argv[0]
    return None


def _data_dir_of(pid: Path, environ: dict[str, str]) -> str:
    """The data directory a process uses, as paperfeed.config.data_dir() would work it out in that process."""
    explicit = environ.get("PAPERFEED_DATA_DIR", "").strip()
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isabs(path):
            path = os.path.join(os.readlink(pid / "cwd"), path)
    else:
        xdg = environ.get("XDG_DATA_HOME", "").strip()
        base = os.path.expanduser(xdg) if xdg else os.path.join(environ.get("HOME", "~"), ".local", "share")
        path = os.path.join(base, "paperfeed")
    return os.path.realpath(path)


def servers_using(data_dir: Path) -> list[str]:
    """Long-running paperfeed processes on this data directory, as "pid N: command" (Linux's /proc; none are
    found elsewhere, or for processes of other users)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    wanted = os.path.realpath(data_dir)
    found = []
    for pid in proc.iterdir():
        if not pid.name.isdigit() or int(pid.name) == os.getpid():
            continue
        try:
            argv = [part.decode(errors="replace") for part in (pid / "cmdline").read_bytes().split(b"\0") if part]
            service = _paperfeed_service(argv)
            if service is None:
                continue
            pairs = (item.partition(b"=") for item in (pid / "environ").read_bytes().split(b"\0") if item)
            environ = {key.decode(errors="replace"): value.decode(errors="replace") for key, _, value in pairs}
            if _data_dir_of(pid, environ) == wanted:
                found.append(f"pid {pid.name}: {service}")
        except OSError:
            continue
    return sorted(found)
