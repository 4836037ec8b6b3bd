"""paperfeed backup and restore: a backup taken while another process writes, restored into a fresh data directory
where the site then starts; files that are no usable backup refused with the database untouched; the database a
restore replaces kept; an older backup migrated; dated backups pruned for cron.

The first test runs on the suite's database of the pass (SQLite's online backup, or pg_dump and pg_restore in the
PostgreSQL pass); the others are about SQLite files and run on SQLite in both passes."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from conftest import site_env, site_rows, start_site
from sites import filled_site, paperfeed, pgserver_bin, python, sqlite_env, with_database, with_path_first

WRITER = r"""
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
import django
django.setup()
from paperfeed.community.models import RateEvent
written = 0
while True:
    RateEvent.objects.create(scope="backup-test", key=f"write {written}")
    written += 1
    with open(sys.argv[1] + ".tmp", "w") as note:
        note.write(str(written))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
"""
ON_POSTGRES = bool(os.environ.get("PAPERFEED_TEST_POSTGRES"))


def written(note: Path) -> int:
    try:
        return int(note.read_text())
    except (OSError, ValueError):
        return 0


def wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def tables(env: dict[str, str]) -> list[str]:
    if env.get("PAPERFEED_DATABASE_URL"):
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(row[0] for row in site_rows(env, sql))


def sqlite_dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of an SQLite file."""
    with closing(sqlite3.connect(path)) as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


def backed_up_to(done: subprocess.CompletedProcess) -> Path:
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(re.search(r"^Backed up the site's database to (.+) \([\d.,]+ MB\)\.$", done.stdout, re.M).group(1))


def test_a_backup_taken_while_the_site_writes_restores_into_a_fresh_data_directory_where_the_site_starts(tmp_path):
    source = with_path_first(site_env(tmp_path / "site", migrated=True), pgserver_bin())  # pg_dump as new as the server
    filled_site(source)
    note = tmp_path / "written"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(note)], env=source, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: written(note) >= 30, "the writer's first rows")
        done = paperfeed(source, "backup")
        at_backup_end = written(note)
        wait_for(lambda: written(note) >= at_backup_end + 10, "rows written after the backup")
    finally:
        writer.terminate()
        writer.wait(timeout=30)
    backup = backed_up_to(done)
    assert backup.parent == tmp_path / "site" / "backups" and backup.stat().st_mode & 0o077 == 0
    assert "secret key is beside it" in done.stdout
    assert backup.with_suffix(".secret_key").read_text() == (tmp_path / "site" / "secret_key").read_text()
    if ON_POSTGRES:
        assert backup.suffix == ".dump" and backup.read_bytes()[:5] == b"PGDMP"
    else:
        with closing(sqlite3.connect(backup)) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file

    fresh = with_path_first(site_env(tmp_path / "fresh"), pgserver_bin())
    (tmp_path / "fresh").mkdir()
    restored = paperfeed(fresh, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "10 papers, 2 members" in restored.stdout
    assert (tmp_path / "fresh" / "secret_key").read_text() == (tmp_path / "site" / "secret_key").read_text()

    # Every table as the site held it, but for the rows written after the backup's snapshot; of those written
    # while it was taken, a consistent prefix: all up to some row, none after.
    assert tables(fresh) == tables(source)
    for table in tables(source):
        if table not in ("community_rateevent", "django_migrations"):
            assert site_rows(fresh, f"SELECT * FROM {table}") == site_rows(source, f"SELECT * FROM {table}"), table
    kept = site_rows(fresh, "SELECT id, key FROM community_rateevent ORDER BY id")
    assert 30 <= len(kept) - 1 <= at_backup_end  # and the row the site had before the writer started
    assert kept == site_rows(source, f"SELECT id, key FROM community_rateevent WHERE id <= {kept[-1][0]} ORDER BY id")
    assert len(site_rows(source, "SELECT id FROM community_rateevent")) > len(kept)

    # The site starts on the restored database, rebuilds its search index and finds the papers.
    title = site_rows(fresh, "SELECT title FROM papers_paper WHERE NOT hidden ORDER BY id LIMIT 1")[0][0]
    site = start_site(tmp_path / "fresh", "--no-worker", env={"PATH": fresh["PATH"]})
    try:
        query = urllib.request.quote(title)
        with urllib.request.urlopen(f"{site.url}/search?q={query}&mode=keyword", timeout=30) as response:
            assert title in response.read().decode()
        assert "Keyword index: there is no keyword index" in site.output()
        # ... and a restore while it runs is refused.
        refused = paperfeed(fresh, "restore", str(backup))
        assert refused.returncode == 2
        assert "paperfeed is running on this data directory" in refused.stderr and "paperfeed serve" in refused.stderr
    finally:
        site.stop()


@pytest.mark.both_databases
def test_on_postgresql_without_pg_dump_the_message_gives_the_command_and_a_restore_needs_an_empty_database(
    tmp_path, new_postgres_database
):
    env = with_path_first(with_database(site_env(tmp_path / "site"), new_postgres_database()), pgserver_bin())
    (tmp_path / "site").mkdir()
    assert paperfeed(env, "migrate", "-v0").returncode == 0
    no_tools = {**env, "PATH": str(tmp_path)}
    missing = paperfeed(no_tools, "backup")
    assert missing.returncode == 2 and "pg_dump is not installed here" in missing.stderr
    command = r"pg_dump --format=custom --file=\S+/backups/paperfeed-\d{8}T\d{6}Z\.dump '?postgresql://postgres@/copy_"
    assert re.search(command, missing.stderr), missing.stderr
    backup = backed_up_to(paperfeed(env, "backup"))
    refused = paperfeed(env, "restore", str(backup))
    assert refused.returncode == 2 and "already has tables" in refused.stderr and "createdb" in refused.stderr
    not_a_dump = tmp_path / "notes.dump"
    not_a_dump.write_text("shopping list")
    wrong = paperfeed(env, "restore", str(not_a_dump))
    assert wrong.returncode == 2 and "is not a pg_dump archive" in wrong.stderr


def test_a_file_that_is_no_usable_backup_is_refused_and_the_database_is_untouched(tmp_path):
    env = sqlite_env(tmp_path / "site")
    filled_site(env)
    live = tmp_path / "site" / "paperfeed.sqlite3"
    good = backed_up_to(paperfeed(env, "backup"))

    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    other = tmp_path / "recipes.sqlite3"
    with closing(sqlite3.connect(other)) as db, db:
        db.execute("CREATE TABLE recipes (name TEXT)")
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(damaged)) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'papers_paper'").fetchone()[0]
    with open(damaged, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xab" * page_size)
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(newer)) as db, db:
        db.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('papers', '9999_from_the_future', '2031-01-01')"
        )
    dump = tmp_path / "site.dump"
    dump.write_bytes(b"PGDMP\x01\x10\x00" + bytes(100))

    before = sqlite_dump(live)
    for path, says in [
        (text, "is not an SQLite database, so not a paperfeed backup"),
        (other, "is an SQLite database but not paperfeed's"),
        (damaged, "damaged.sqlite3 is damaged ("),
        (
            newer,
            "comes from a newer paperfeed: its database has migrations this one does not know "
            "(papers.9999_from_the_future). Upgrade paperfeed",
        ),
        (dump, "is a PostgreSQL dump (pg_dump): restore it on a site that runs on PostgreSQL"),
    ]:
        refused = paperfeed(env, "restore", str(path))
        assert refused.returncode == 2, (path, refused.stdout)
        assert says in refused.stderr and "Nothing was changed." in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    missing = paperfeed(env, "restore", str(tmp_path / "nowhere.sqlite3"))
    assert missing.returncode == 2 and "there is no file" in missing.stderr
    assert sqlite_dump(live) == before
    assert not list((tmp_path / "site").glob("*before-restore*"))


def test_restore_keeps_the_database_it_replaces_and_migrates_an_older_backup(tmp_path):
    env = sqlite_env(tmp_path / "site")
    filled_site(env)
    data = tmp_path / "site"
    live = data / "paperfeed.sqlite3"
    monday = tmp_path / "monday.sqlite3"
    done = paperfeed(env, "backup", str(monday))
    assert backed_up_to(done) == monday and "(monday.secret_key)" in done.stdout
    # As an older paperfeed made it: before members' interests moved from the digest's subscription to community
    # (the backup migrated back, on a copy of the site of its own).
    older = tmp_path / "older"
    older.mkdir()
    monday.rename(older / "paperfeed.sqlite3")
    for app, name in (("digests", "0002_delivery_papers"), ("community", "0003_unique_username_case")):
        back = paperfeed(sqlite_env(older), "migrate", app, name, "-v0")
        assert back.returncode == 0, back.stderr[-3000:]
    (older / "paperfeed.sqlite3").rename(monday)
    with closing(sqlite3.connect(monday)) as db:
        assert "categories" in {row[1] for row in db.execute("PRAGMA table_info(digests_subscription)")}
    # After the backup the site goes on: a new member.
    with closing(sqlite3.connect(live)) as db, db:
        db.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined) VALUES ('!', 0, 'late', '', '', 'late@example.org', 0, 1, '2026-03-02')"
        )
    before = sqlite_dump(live)
    assert (data / "keyword-index").is_dir()

    restored = paperfeed(env, "restore", str(monday))
    assert restored.returncode == 0, restored.stderr[-3000:]
    # The backup predates the interests' move: restore migrates it, those migrations among what it applies (with
    # whatever later migrations of the apps it had to bring along).
    line = next(x for x in restored.stdout.splitlines() if x.startswith("Migrated the older backup: applied "))
    applied = line.removeprefix("Migrated the older backup: applied ").rstrip(".").split(", ")
    assert applied[:1] == ["community.0004_interests"] and {
        "digests.0003_subscription_interests",
        "digests.0004_move_interests",
        "digests.0005_subscription_interests_only",
    } <= set(applied)
    assert "The secret key beside the backup is already this site's." in restored.stdout
    [kept] = data.glob("paperfeed.sqlite3.before-restore-*")
    assert f"kept as {kept}" in restored.stdout
    assert sqlite_dump(kept) == before  # the replaced database, whole, with the member who came late
    now = sqlite_dump(live)
    assert [row for row in now["auth_user"] if "late" in row] == []
    assert [row for row in before["auth_user"] if "late" in row]
    with closing(sqlite3.connect(live)) as db:  # the subscriber's interests came through both migrations
        assert db.execute(
            "SELECT i.categories FROM digests_subscription s JOIN community_interests i ON i.id = s.interests_id "
            "WHERE s.email = 'ada@example.org'"
        ).fetchone() == ('["cs.CL", "cs.LG"]',)
    # The search indexes were removed; the next start (here: a sync) rebuilds them from the restored database.
    assert not (data / "keyword-index").exists()
    index = python(
        env,
        "import os, json; os.environ['DJANGO_SETTINGS_MODULE'] = 'paperfeed.settings'\n"
        "import django; django.setup()\n"
        "from paperfeed.papers.retrieval import keyword, keyword_problem, sync_keyword_index\n"
        "problem = keyword_problem(); report = sync_keyword_index()\n"
        "print(json.dumps([problem, report.action, keyword.verify()]))",
    )
    assert index[0].startswith("there is no keyword index") and index[1:] == ["rebuilt", None]


def test_cron_backups_keep_the_newest_and_a_path_is_never_overwritten(tmp_path):
    env = sqlite_env(tmp_path / "site")
    (tmp_path / "site").mkdir()
    assert paperfeed(env, "migrate", "-v0").returncode == 0
    made = [backed_up_to(paperfeed(env, "backup", "--keep", "2")) for _ in range(4)]
    folder = tmp_path / "site" / "backups"
    assert sorted(folder.iterdir()) == sorted([*made[2:], *(path.with_suffix(".secret_key") for path in made[2:])])
    assert all(path.stat().st_mode & 0o077 == 0 for path in folder.iterdir())

    existing = tmp_path / "precious.sqlite3"
    existing.write_bytes(b"precious")
    for args, says in [
        ([str(existing)], "already exists: give a new file name, or a folder"),
        ([str(tmp_path / "new.sqlite3"), "--keep", "2"], "--keep prunes the dated backups of a folder"),
        (["--keep", "0"], "--keep must be at least 1"),
        ([str(tmp_path / "no" / "such" / "x.sqlite3")], "there is no folder"),
    ]:
        refused = paperfeed(env, "backup", *args)
        assert refused.returncode == 2 and says in refused.stderr, refused.stderr
    assert existing.read_bytes() == b"precious"
    assert len(list(folder.iterdir())) == 4
