"""paperfeed copy-site: a site on SQLite moved to PostgreSQL (and back) row for row, checked table by table, and
working there; a target with data refused; a copy that differs or stops midway leaves nothing behind.

The PostgreSQL databases are made on the suite's server in its PostgreSQL pass, and on a server started here in
the SQLite pass, so that both passes of `make test` copy from SQLite to PostgreSQL."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime

import psycopg
import pytest
from conftest import SMALL, site_rows
from sites import filled_site, paperfeed, python, sqlite_env, with_database

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL sites of its own: once, in the PostgreSQL pass

AFTER = r"""
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
import django
django.setup()
from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from paperfeed.papers.models import Author, Paper, Vote
from paperfeed.papers.retrieval import SearchRequest, find, keyword

answers = {"vendor": connection.vendor, "keyword_problem": keyword.problem()}
shown = Paper.objects.filter(hidden=False).order_by("id").first()
answers["found"] = shown.id in find(SearchRequest(shown.title, "keyword")).ids
entry = LogEntry.objects.get()
answers["log_entry"] = [entry.content_type.model_class().__name__, entry.get_edited_object().id == int(entry.object_id)]
answers["signs_in"] = authenticate(username="ada", password="a long enough password") is not None
answers["permissions"] = sorted(User.objects.get(username="Zoë").get_all_permissions())
answers["session"] = Session.objects.get().get_decoded()
last = {model.__name__: model.objects.order_by("-pk").first().pk for model in (Author, User, Vote)}
newcomer = User.objects.create_user("newcomer")
answers["new_ids"] = {
    "Author": Author.objects.create(name="Fresh Author").pk - last["Author"],
    "User": newcomer.pk - last["User"],
    "Vote": Vote.objects.create(user=newcomer, paper=shown).pk - last["Vote"],
}
Paper.objects.filter(id=shown.id).update(title="Hyperbolic okapis")
answers["renamed_found"] = find(SearchRequest("okapis", "keyword")).ids == [shown.id]
print(json.dumps(answers))
"""


def comparable(rows) -> list[tuple]:
    """Rows read from SQLite or PostgreSQL in one form: booleans as 0/1, bytes as bytes, JSON text parsed."""

    def value(v):
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, memoryview):
            return bytes(v)
        if isinstance(v, str) and v[:1] in "[{":
            try:
                return json.loads(v)
            except ValueError:
                return v
        return v

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)


def sqlite_tables(path) -> dict[str, list[tuple]]:
    """Every table of an SQLite file as stored (bar Django's own migration log)."""
    with closing(sqlite3.connect(path)) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name != 'django_migrations'"
            )
        ]
        return {name: comparable(db.execute(f'SELECT * FROM "{name}"').fetchall()) for name in names}


def public_tables(url: str) -> int:
    with psycopg.connect(url) as db:
        return db.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()[0]


def test_a_sqlite_site_copied_to_postgresql_is_the_same_site_row_for_row_and_works_there(
    tmp_path, new_postgres_database
):
    source = sqlite_env(tmp_path / "site")
    filled_site(source)
    target = new_postgres_database()

    done = paperfeed(source, "copy-site", "--to", target)
    assert done.returncode == 0, done.stderr[-3000:]
    for table in (
        "papers_paper",
        "papers_paperembedding",
        "papers_searchchange",
        "auth_user",
        "auth_permission",
        "django_content_type",
        "django_session",
        "django_admin_log",
        "community_interests_authors",
        "community_comment",
        "recommend_usermodelstate",
        "papers_harveststate",
        "api_apitoken",
    ):
        assert re.search(rf"^  {table} +[\d,]+ rows? +same ", done.stdout, re.M), table
    assert "Verdict: the copy is complete" in done.stdout
    assert "PAPERFEED_DATABASE_URL=" in done.stdout and "paperfeed index" in done.stdout  # what to do next

    # Read from each database directly, not through the command's own check.
    on_postgres = with_database(source, target)
    for sql in (
        "SELECT id, arxiv_id, title, categories, hidden, organization_id FROM papers_paper",
        "SELECT id, app_label, model FROM django_content_type",
        "SELECT id, content_type_id, codename FROM auth_permission",
        "SELECT id, username, password, is_staff FROM auth_user",
        "SELECT paper_id, model, vector FROM papers_paperembedding",
        "SELECT id, paper_id, stamp FROM papers_searchchange",
        "SELECT user_id, weights, bias, term_bias FROM recommend_usermodelstate",
        "SELECT session_key, session_data FROM django_session",
    ):
        assert comparable(site_rows(source, sql)) == comparable(site_rows(on_postgres, sql)), sql
    assert site_rows(on_postgres, "SELECT updated_at FROM papers_harveststate") == [
        (datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),)  # an auto_now field keeps its stored time
    ]

    # And back: PostgreSQL to a new SQLite file holds exactly what the first site held.
    back = tmp_path / "back.sqlite3"
    done = paperfeed(on_postgres, "copy-site", "--to", f"sqlite:///{back}")
    assert done.returncode == 0, done.stderr[-3000:]
    original = sqlite_tables(tmp_path / "site" / "paperfeed.sqlite3")
    assert original["papers_paper"] and original["papers_paperembedding"] and original["django_session"]
    assert sqlite_tables(back) == original

    # The copy is a working site: searches (the keyword index in this data directory is in step with it),
    # accounts, permissions through the copied content types, sessions, and new rows after the copied ones.
    ada = site_rows(source, "SELECT id FROM auth_user WHERE username = 'ada'")[0][0]
    works = python(on_postgres, AFTER)
    assert works == {
        "vendor": "postgresql",
        "keyword_problem": None,
        "found": True,
        "log_entry": ["Paper", True],
        "signs_in": True,
        "permissions": ["community.delete_comment", "papers.change_paper"],
        "session": {"member": ada},
        "new_ids": {"Author": 1, "User": 1, "Vote": 1},
        "renamed_found": True,
    }
    # The check sees what changed since the copy.
    check = paperfeed(source, "copy-site", "--check", "--to", target)
    assert check.returncode == 1
    assert re.search(r"^  papers_author +[\d,]+ rows here, [\d,]+ there +DIFFERENT", check.stdout, re.M)
    assert re.search(r"^  papers_organization +1 row +same ", check.stdout, re.M)


def test_a_target_with_data_is_refused_and_the_check_names_the_rows_that_differ(tmp_path, new_postgres_database):
    source = sqlite_env(tmp_path / "site")
    filled_site(source)
    target = new_postgres_database()
    assert paperfeed(source, "copy-site", "--to", target).returncode == 0

    again = paperfeed(source, "copy-site", "--to", target)
    assert again.returncode == 2
    assert "already holds paperfeed data (" in again.stderr and "papers_paper: 10 rows" in again.stderr
    assert "createdb" in again.stderr and "Traceback" not in again.stderr

    # In the copy: one title changed, one bit of one embedding flipped, one comment gone (with the notification of it).
    first = site_rows(source, "SELECT min(id) FROM papers_paper")[0][0]
    with psycopg.connect(target) as db:
        db.execute("UPDATE papers_paper SET title = title || '.' WHERE id = %s", [first])
        db.execute(
            "UPDATE papers_paperembedding SET vector = set_byte(vector, 7, get_byte(vector, 7) # 1) "
            "WHERE paper_id = %s",
            [first],
        )
        replies = "SELECT id FROM community_comment WHERE parent_id IS NOT NULL"
        db.execute(f"DELETE FROM notifications_notification WHERE comment_id IN ({replies})")
        db.execute("DELETE FROM community_comment WHERE parent_id IS NOT NULL")
    check = paperfeed(source, "copy-site", "--check", "--to", target)
    assert check.returncode == 1, check.stderr
    assert re.search(
        rf"^  papers_paper +10 rows here, 10 there +DIFFERENT .*first difference at id={first}\)", check.stdout, re.M
    )
    assert re.search(
        rf"^  papers_paperembedding +10 rows here, 10 there +DIFFERENT .*at paper_id={first}\)", check.stdout, re.M
    )
    assert re.search(r"^  community_comment +2 rows here, 1 there +DIFFERENT", check.stdout, re.M)
    assert re.search(r"^  papers_authorship +22 rows +same ", check.stdout, re.M)
    verdict = check.stderr.strip().splitlines()[-1]
    assert re.search(r"Verdict: 7 of \d+ tables differ: ", verdict)
    # ... and three more: the changes were logged by the copy's triggers for the keyword index and the page cache
    # (site-wide for the paper and its embedding, by paper for the comment).
    differ = (
        "papers_paper",
        "papers_paperembedding",
        "community_comment",
        "notifications_notification",
        "papers_searchchange",
        "pagecache_pagechange",
        "pagecache_paperchange",
    )
    assert all(table in verdict for table in differ)

    # An SQLite file that is there is never overwritten.
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"precious")
    refused = paperfeed(source, "copy-site", "--to", f"sqlite:///{existing}")
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert existing.read_bytes() == b"precious"

    # URLs that cannot be used.
    wrong = paperfeed(source, "copy-site", "--to", "mysql://db/papers")
    assert wrong.returncode == 2 and "--to='mysql://db/papers': paperfeed runs on PostgreSQL or SQLite" in wrong.stderr
    away = paperfeed(source, "copy-site", "--to", "postgresql://paperfeed:sesame@127.0.0.1:9/papers")
    assert away.returncode == 2 and "cannot connect to the PostgreSQL database 'papers' on 127.0.0.1:9" in away.stderr
    assert "sesame" not in away.stderr + away.stdout and "Traceback" not in away.stderr

    # A value PostgreSQL refuses stops the copy midway, and the target is left as it was: empty.
    with closing(sqlite3.connect(tmp_path / "site" / "paperfeed.sqlite3")) as db, db:
        db.execute("UPDATE community_comment SET body = ? WHERE parent_id IS NULL", ["NUL \x00 inside"])
    empty = new_postgres_database()
    stopped = paperfeed(source, "copy-site", "--to", empty)
    assert stopped.returncode == 2
    assert "the copy stopped at table community_comment:" in stopped.stderr
    assert "Nothing was written to the PostgreSQL database" in stopped.stderr and "Traceback" not in stopped.stderr
    assert public_tables(empty) == 0  # not even the migrations' tables


def _nothing_in(url: str, tmp_path) -> bool:
    if url.startswith("sqlite"):
        return not any(tmp_path.glob("*copy.sqlite3*"))
    return public_tables(url) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_a_copy_that_differs_or_is_interrupted_leaves_nothing_in_the_target(kind, tmp_path, new_postgres_database):
    from django.db import connections

    from paperfeed.papers.models import Paper
    from paperfeed.papers.services import sitecopy
    from paperfeed.papers.services.loading import load_jsonl

    load_jsonl(SMALL)
    first = Paper.objects.order_by("id").first().id
    url = new_postgres_database() if kind == "postgresql" else f"sqlite:///{tmp_path / 'copy.sqlite3'}"

    tampered = []

    def tamper(table: str, rows: int) -> None:
        """Between the copy and the check, a row of the copy changes."""
        if table == "papers_paper" and not tampered:
            with connections[sitecopy.TARGET].cursor() as cursor:
                cursor.execute("UPDATE papers_paper SET title = 'Tampered' WHERE id = %s", [first])
            tampered.append(table)

    report = sitecopy.copy_site(url, on_progress=tamper)
    assert tampered and not report.kept and not report.equal
    differ = [check for check in report.checks if not check.equal]
    assert [(c.table, c.rows_here, c.rows_there, c.first_difference) for c in differ] == [
        ("papers_paper", 10, 10, f"id={first}")
    ]
    assert _nothing_in(url, tmp_path)

    def interrupt(table: str, rows: int) -> None:
        if table == "papers_authorship":
            raise KeyboardInterrupt  # Ctrl-C halfway through

    with pytest.raises(KeyboardInterrupt):
        sitecopy.copy_site(url, on_progress=interrupt)
    assert _nothing_in(url, tmp_path)

    report = sitecopy.copy_site(url)
    assert report.kept and report.equal and report.rows > 0


@pytest.mark.django_db(transaction=True)
def test_a_database_cache_gets_its_table_in_the_copy_but_not_its_rows(tmp_path, settings):
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from paperfeed.papers.services.sitecopy import copy_site

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_page_cache"}
    }
    call_command("createcachetable", verbosity=0)
    try:
        cache.set("front-page", "cached")
        copy = tmp_path / "copy.sqlite3"
        report = copy_site(f"sqlite:///{copy}")
        # (paperfeed_cache: the site's own default cache table, which migrate made for the test database; on
        # PostgreSQL papers_papervector, the vector store, derived from the embeddings: `paperfeed index` refills it)
        assert report.kept and report.equal and "test_page_cache" in report.not_copied
        assert set(report.not_copied) <= {"paperfeed_cache", "test_page_cache", "papers_papervector"}
        with closing(sqlite3.connect(copy)) as db:
            assert db.execute("SELECT count(*) FROM test_page_cache").fetchone() == (0,)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE test_page_cache")
