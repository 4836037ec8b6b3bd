"""The live Zotero sync against a replay server answering in the Zotero Web API's documented format
(tests/fixtures/zotero): the settings page, the key check, first and incremental syncs, every bad answer Zotero can
give (each keeps what was imported), the sealed key, the background task and `paperfeed zotero sync`."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import member, signed_in
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone
from replay import FIXTURES, ReplayServer, Reply

from paperfeed.background import zotero as background
from paperfeed.papers.models import Paper
from paperfeed.recommend.models import LibraryItem, ZoteroLink
from paperfeed.recommend.services import sealed_keys, zotero
from paperfeed.recommend.services.library import clear_library

KEY = "P9NiFoyLeZu2bZNvvuQPDWsd"
NEW_KEY = "N3wKeyAfterRevocation123"
GROUP_KEY = "Gr0upKeyOnly55555xyzABCD"
ITEMS = "/users/12345/items"
DELETED = "/users/12345/deleted"
KEYS = "/keys/current"


def reply(name: str, version: int | None = None, total: int | None = None, status: int = 200, **headers) -> Reply:
    """A fixture of tests/fixtures/zotero with the headers Zotero sends."""
    if version is not None:
        headers["Last-Modified-Version"] = str(version)
    if total is not None:
        headers["Total-Results"] = str(total)
    return Reply.fixture(f"zotero/constructed_zotero_{name}.json", status=status, headers=headers)


def page1(version: int = 40) -> Reply:
    return reply("items_page1", version, 7)


def page2(version: int = 40) -> Reply:
    return reply("items_page2", version, 7)


@pytest.fixture(scope="module")
def replay_server():
    """One server for the module (stopping one takes half a second); each test starts it with no routes."""
    server = ReplayServer().start()
    yield server
    server.stop()


@pytest.fixture
def api(replay_server, settings):
    replay_server.routes.clear()
    replay_server.requests.clear()
    settings.PAPERFEED_ZOTERO_API_URL = replay_server.url
    settings.PAPERFEED_HTTP_TIMEOUT_SECONDS = 5
    settings.PAPERFEED_ZOTERO_SYNC_MINUTES = 30
    return replay_server


@pytest.fixture
def site(corpus, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the keyword index that title matching asks, of this test's own
    return corpus


@pytest.fixture
def ada(site):
    return member("ada")


def link_through_the_page(user, library_type: str = "user", library_id: str = "12345", key: str = KEY):
    response = signed_in(user).post(
        "/for-you/library/zotero", {"library_type": library_type, "library_id": library_id, "key": key}
    )
    assert response.status_code == 303, response.content.decode()
    return ZoteroLink.objects.get(user=user, library_type=library_type, library_id=library_id)


def run(now=None) -> zotero.SyncReport:
    return zotero.sync_due(pause=0, now=now)


def keys_of(user) -> dict[str, LibraryItem]:
    return {item.source_key: item for item in LibraryItem.objects.filter(user=user, source_format="zotero")}


def paper(arxiv_id: str) -> int:
    return Paper.objects.get(arxiv_id=arxiv_id).pk


def make_due(link: ZoteroLink) -> None:
    ZoteroLink.objects.filter(pk=link.pk).update(due_at=timezone.now())


@pytest.fixture
def synced(api, ada):
    """Ada's user library after a first full sync (version 40: PRE00001, JOUR0001, BOOK0001)."""
    api.route(KEYS, reply("keys_current"))
    api.route(ITEMS, page1(), page2())
    link = link_through_the_page(ada)
    [(_, result)] = run().results
    assert result.outcome == "synced"
    api.requests.clear()
    make_due(link)
    return ZoteroLink.objects.get(pk=link.pk)


def page_of(user) -> str:
    response = signed_in(user).get("/for-you/library/zotero")
    assert response.status_code == 200
    return response.content.decode()


# --- the first sync, and what follows ---


@pytest.mark.django_db
def test_a_first_full_sync_reads_every_page(api, ada):
    api.route(KEYS, reply("keys_current"))
    api.route(ITEMS, page1(), page2())
    link = link_through_the_page(ada)
    assert api.requests == []  # the page asked nothing of Zotero: the worker does
    assert link.status == "checking" and link.key_ending == "DWsd"
    assert "Checking the key with Zotero" in page_of(ada)

    [(_, result)] = run().results
    assert (result.outcome, result.added, result.updated, result.removed) == ("synced", 3, 0, 0)
    check, first, second = api.requests
    assert check.path == KEYS
    for request in api.requests:
        assert request.headers["Zotero-API-Key"] == KEY and request.headers["Zotero-API-Version"] == "3"
    assert [(r.path, r.query["start"], r.query["since"]) for r in (first, second)] == [
        (ITEMS, ["0"], ["0"]),
        (ITEMS, ["3"], ["0"]),  # paged by start, up to Total-Results
    ]
    assert first.query["format"] == ["json"] and first.query["limit"] == ["100"]
    assert first.query["includeTrashed"] == ["1"]
    assert "If-Modified-Since-Version" not in first.headers

    items = keys_of(ada)
    assert sorted(items) == ["BOOK0001", "JOUR0001", "PRE00001"]  # no attachment, note, trashed or empty item
    assert items["PRE00001"].paper_id == paper("2606.00001")
    assert items["JOUR0001"].paper_id == paper("2606.00002")
    book = items["BOOK0001"]
    assert book.paper_id is None and book.doi == "10.5555/tidepools.1951" and book.year == 1951
    assert book.authors == "Coastal Survey Collective; Rachel Carson"
    link.refresh_from_db()
    assert (link.status, link.version, link.problem) == ("active", 40, "")
    assert link.due_at > timezone.now() + timedelta(minutes=29)
    html = page_of(ada)
    assert "3 items in your library from it" in html and "library version 40" in html
    assert "…DWsd" in html and KEY not in html


@pytest.mark.django_db
def test_an_incremental_sync_adds_changes_and_removes_only_its_own_items(api, synced, ada):
    hand_made = LibraryItem.objects.create(
        user=ada, title="MLP-Mixer Revisited", arxiv_id="2606.00001", source_format="bibtex", source_key="mixer"
    )
    LibraryItem.objects.filter(source_key="BOOK0001").update(embedding=b"\x00\x01", embedding_model="minilm")
    api.route(ITEMS, reply("items_since40", 47, 3))
    api.route(DELETED, reply("deleted_since40", 47))
    [(_, result)] = run().results
    assert (result.outcome, result.added, result.updated, result.removed) == ("synced", 1, 1, 2)
    items_request, deleted_request = api.requests
    assert items_request.query["since"] == ["40"] and items_request.headers["If-Modified-Since-Version"] == "40"
    assert (deleted_request.path, deleted_request.query["since"]) == (DELETED, ["40"])

    items = keys_of(ada)
    assert sorted(items) == ["BOOK0001", "CONF0001"]  # PRE00001 deleted, JOUR0001 moved to the trash
    assert items["CONF0001"].paper_id == paper("2606.00005")
    book = items["BOOK0001"]
    assert book.title == "A Field Guide to Tide Pools, Second Edition" and book.year == 1955
    assert book.embedding is None and book.embedding_model == ""  # its text changed: embedded again
    assert LibraryItem.objects.filter(pk=hand_made.pk).exists()  # the same paper, imported by hand: kept
    assert ZoteroLink.objects.get(pk=synced.pk).version == 47


@pytest.mark.django_db
def test_304_means_nothing_new(api, synced, ada):
    api.route(ITEMS, Reply(b"", 304, headers={"Last-Modified-Version": "40"}))
    before = {key: item.pk for key, item in keys_of(ada).items()}
    [(_, result)] = run().results
    assert result.outcome == "unchanged"
    assert [r.path for r in api.requests] == [ITEMS]  # no need to ask for deletions
    assert {key: item.pk for key, item in keys_of(ada).items()} == before
    link = ZoteroLink.objects.get(pk=synced.pk)
    assert link.version == 40 and link.due_at > timezone.now() + timedelta(minutes=29)


@pytest.mark.django_db
def test_a_library_that_changes_during_the_pass_is_read_again(api, ada):
    api.route(KEYS, reply("keys_current"))
    api.route(ITEMS, page1(40), page2(41), page1(41), page2(41))
    link = link_through_the_page(ada)
    [(_, result)] = run().results
    assert result.outcome == "synced" and result.added == 3
    assert [r.query["start"][0] for r in api.requests_to(ITEMS)] == ["0", "3", "0", "3"]
    assert ZoteroLink.objects.get(pk=link.pk).version == 41


@pytest.mark.django_db
def test_a_library_that_keeps_changing_keeps_the_old_state(api, synced, ada):
    api.route(ITEMS, *[reply("items_since40", version, 3) for version in range(41, 60)])
    api.route(DELETED, reply("deleted_since40", 99))
    [(_, result)] = run().results
    assert result.outcome == "failed" and "changed during 3 passes" in result.message
    assert sorted(keys_of(ada)) == ["BOOK0001", "JOUR0001", "PRE00001"]
    assert ZoteroLink.objects.get(pk=synced.pk).version == 40


# --- a key refused, a library missing ---


@pytest.mark.django_db
def test_a_refused_key_pauses_the_sync_and_loses_nothing(api, synced, ada):
    api.route(ITEMS, Reply(b"Forbidden", 403, content_type="text/plain"))
    [(_, result)] = run().results
    assert result.outcome == "paused"
    link = ZoteroLink.objects.get(pk=synced.pk)
    assert link.status == "key-refused" and link.version == 40
    assert sorted(keys_of(ada)) == ["BOOK0001", "JOUR0001", "PRE00001"]
    html = page_of(ada)
    assert "Zotero refused the API key ending in …DWsd" in html and "paste a new key to resume" in html
    assert "Paste a new key to resume" in html  # the form's label
    api.requests.clear()
    assert run().results == [] and api.requests == []  # paused: no more requests with that key

    # A new key resumes from where the sync was: nothing is read twice, nothing was lost.
    response = signed_in(ada).post(f"/for-you/library/zotero/{link.pk}/key", {"key": NEW_KEY})
    assert response.status_code == 303
    link.refresh_from_db()
    assert (link.status, link.key_ending, link.problem) == ("checking", NEW_KEY[-4:], "")
    api.route(KEYS, reply("keys_current"))
    api.route(ITEMS, reply("items_since40", 47, 3))
    api.route(DELETED, reply("deleted_since40", 47))
    [(_, result)] = run().results
    assert result.outcome == "synced"
    assert {r.headers["Zotero-API-Key"] for r in api.requests} == {NEW_KEY}
    assert api.requests_to(ITEMS)[0].query["since"] == ["40"]
    assert sorted(keys_of(ada)) == ["BOOK0001", "CONF0001"]
    assert ZoteroLink.objects.get(pk=link.pk).status == "active"


@pytest.mark.django_db
def test_a_key_refused_at_its_check(api, ada):
    api.route(KEYS, Reply(b"Invalid key", 403, content_type="text/plain"))
    link = link_through_the_page(ada)
    [(_, result)] = run().results
    assert result.outcome == "paused" and [r.path for r in api.requests] == [KEYS]
    assert ZoteroLink.objects.get(pk=link.pk).status == "key-refused"
    assert "Zotero refused the API key ending in …DWsd" in page_of(ada)


@pytest.mark.django_db
def test_a_key_without_access_to_the_library_says_so(api, ada):
    no_library = json.loads((FIXTURES / "zotero" / "constructed_zotero_keys_current.json").read_bytes())
    no_library["access"]["user"]["library"] = False
    api.route(KEYS, Reply(json.dumps(no_library).encode(), content_type="application/json"))
    link_through_the_page(ada)
    link_through_the_page(ada, "user", "55555")  # a key of user 12345 for user 55555's library
    run()
    html = page_of(ada)
    assert "may not read your library" in html and "tick “Allow library access”" in html
    assert "belongs to Zotero user 12345, not to user 55555" in html
    assert api.requests_to(ITEMS) == []


@pytest.mark.django_db
def test_a_missing_library_pauses_with_its_own_message(api, synced, ada):
    api.route(ITEMS, Reply(b"Not found", 404, content_type="text/plain"))
    [(_, result)] = run().results
    assert result.outcome == "paused"
    assert ZoteroLink.objects.get(pk=synced.pk).status == "no-library"
    assert "Zotero has no user library 12345 (HTTP 404)" in page_of(ada)
    assert len(keys_of(ada)) == 3


# --- Zotero asks to wait, or is in trouble ---


@pytest.mark.django_db
def test_retry_after_stops_the_pass_until_then(api, synced, ada):
    bob_link = ZoteroLink.objects.create(
        user=member("bob"),
        library_type="group",
        library_id="98765",
        sealed_key=sealed_keys.seal(GROUP_KEY),
        key_ending="ABCD",
        status="active",
        due_at=timezone.now() - timedelta(minutes=1),  # due after ada's
    )
    ZoteroLink.objects.filter(pk=synced.pk).update(due_at=timezone.now() - timedelta(minutes=2))
    api.route(ITEMS, Reply(b"Too many requests", 429, headers={"Retry-After": "120"}, content_type="text/plain"))
    now = timezone.now()
    report = run(now)
    assert [result.outcome for _, result in report.results] == ["waiting", "waiting"]
    assert len(api.requests) == 1  # bob's library is not asked either: Zotero said to wait
    for link in ZoteroLink.objects.filter(pk__in=[synced.pk, bob_link.pk]):
        assert link.resting_until == now + timedelta(seconds=120) and link.status == "active"
    assert not zotero.has_due(now + timedelta(seconds=119)) and zotero.has_due(now + timedelta(seconds=121))
    assert ZoteroLink.objects.get(pk=synced.pk).version == 40 and len(keys_of(ada)) == 3


@pytest.mark.django_db
def test_backoff_on_an_answer_stops_the_pass(api, synced, ada):
    api.route(ITEMS, reply("items_since40", 47, 3, Backoff="30"))
    now = timezone.now()
    [(_, result)] = run(now).results
    assert result.outcome == "waiting" and result.wait == 30
    link = ZoteroLink.objects.get(pk=synced.pk)
    assert link.version == 40 and link.resting_until == now + timedelta(seconds=30)
    assert sorted(keys_of(ada)) == ["BOOK0001", "JOUR0001", "PRE00001"]  # the answer was not applied


@pytest.mark.django_db
def test_garbage_errors_and_timeouts_keep_the_state_and_are_logged_once(api, synced, ada, caplog, settings):
    caplog.set_level(logging.WARNING, logger="paperfeed.zotero")
    api.route(ITEMS, Reply(b"<html>Bad gateway</html>", 200, headers={"Last-Modified-Version": "41"}))
    for _ in range(2):
        [(_, result)] = run().results
        assert result.outcome == "failed" and "is not JSON" in result.message
        make_due(synced)
    assert len(caplog.records) == 1  # the same problem again is not logged again
    api.route(ITEMS, Reply(b"oops", 502, content_type="text/plain"))
    [(_, result)] = run().results
    assert result.message == "Zotero answered HTTP 502; the next pass tries again"
    make_due(synced)
    settings.PAPERFEED_HTTP_TIMEOUT_SECONDS = 0.2
    api.route(ITEMS, replace(page1(41), delay=1.0))
    [(_, result)] = run().results
    assert result.outcome == "failed" and "Zotero did not answer (no answer within 0.2 s)" in result.message
    assert len(caplog.records) == 3
    link = ZoteroLink.objects.get(pk=synced.pk)
    assert (link.status, link.version) == ("active", 40) and "did not answer" in link.problem
    assert link.due_at > timezone.now() + timedelta(minutes=29)  # tried again at the next pass
    assert sorted(keys_of(ada)) == ["BOOK0001", "JOUR0001", "PRE00001"]
    assert "The last sync did not get through" in page_of(ada)


# --- a group library ---


@pytest.mark.django_db
def test_a_group_library(api, site):
    bob = member("bob")
    api.route(KEYS, reply("keys_group_only"))
    api.route("/groups/98765/items", reply("group_items", 12, 1))
    link = link_through_the_page(bob, "group", "98765", GROUP_KEY)
    [(_, result)] = run().results
    assert result.outcome == "synced" and result.added == 1
    assert api.requests_to("/groups/98765/items")[0].headers["Zotero-API-Key"] == GROUP_KEY
    [item] = keys_of(bob).values()
    assert item.source_key == "GRP00001" and item.paper_id == paper("2606.00003")
    assert ZoteroLink.objects.get(pk=link.pk).version == 12
    # The same key may not read another group, nor its owner's own library.
    link_through_the_page(bob, "group", "11111", GROUP_KEY)
    link_through_the_page(bob, "user", "55555", GROUP_KEY)
    run()
    html = page_of(bob)
    assert "may not read group 11111" in html and "may not read your library" in html


# --- the key, sealed ---


@pytest.mark.django_db
def test_the_key_is_stored_encrypted_shown_by_its_end_and_never_exported_or_logged(api, ada, caplog, settings):
    caplog.set_level(logging.DEBUG)
    api.route(KEYS, reply("keys_current"))
    api.route(ITEMS, Reply(b"Forbidden", 403, content_type="text/plain"))
    link = link_through_the_page(ada)
    run()
    table = ZoteroLink._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        rows = cursor.fetchall()
    assert len(rows) == 1 and KEY not in repr(rows)
    assert sealed_keys.unseal(link.sealed_key) == KEY
    assert KEY not in page_of(ada) and "…DWsd" in page_of(ada)
    export = signed_in(ada).get("/accounts/export.json").content.decode()
    assert KEY not in export
    assert json.loads(export)["zotero_links"] == [
        {
            "library_type": "user",
            "library_id": "12345",
            "key_ending": "DWsd",
            "status": "key-refused",
            "version": 0,
            "synced_at": None,
        }
    ]
    assert caplog.records and KEY not in caplog.text  # the refusal was logged, without the key

    # Rotating the secret the Django way keeps the key readable; dropping the old secret pauses the link.
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a new secret " * 4, [old]
    assert sealed_keys.unseal(link.sealed_key) == KEY
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(sealed_keys.KeyUnreadable):
        sealed_keys.unseal(link.sealed_key)
    ZoteroLink.objects.filter(pk=link.pk).update(status="active", due_at=timezone.now())
    [(_, result)] = run().results
    assert result.outcome == "paused" and "can no longer be read" in result.message


@pytest.mark.django_db
def test_removing_the_link_deletes_the_key_and_keeps_the_items_unless_asked(synced, ada):
    client = signed_in(ada)
    response = client.post(f"/for-you/library/zotero/{synced.pk}/remove")
    assert response.status_code == 303
    assert not ZoteroLink.objects.exists()
    assert LibraryItem.objects.filter(user=ada, source_format="zotero", zotero_link=None).count() == 3
    assert "its items stay" in client.get("/for-you/library/zotero").content.decode()

    other = ZoteroLink.objects.create(
        user=ada, library_type="group", library_id="98765", sealed_key=sealed_keys.seal(KEY), key_ending="DWsd"
    )
    LibraryItem.objects.create(user=ada, title="t", source_format="zotero", source_key="GRP00001", zotero_link=other)
    response = client.post(f"/for-you/library/zotero/{other.pk}/remove", {"items": "remove"})
    assert response.status_code == 303
    assert not ZoteroLink.objects.exists() and LibraryItem.objects.filter(user=ada).count() == 3


@pytest.mark.django_db
def test_removing_the_imported_library_keeps_what_zotero_keeps_in_step(synced, ada):
    LibraryItem.objects.create(user=ada, title="From a file", source_format="bibtex", source_key="k")
    assert clear_library(ada) == 1
    assert sorted(keys_of(ada)) == ["BOOK0001", "JOUR0001", "PRE00001"]
    html = signed_in(ada).get("/for-you/library").content.decode()
    assert "3 items of your library come from Zotero" in html and "Remove all" not in html


# --- who may do what ---


@pytest.mark.django_db
def test_another_member_can_neither_see_nor_change_my_link(synced, ada):
    bob = signed_in(member("bob"))
    html = bob.get("/for-you/library/zotero").content.decode()
    assert "Zotero user library 12345" not in html and "DWsd" not in html
    for action, data in (("key", {"key": NEW_KEY}), ("sync", {}), ("remove", {"items": "remove"})):
        assert bob.post(f"/for-you/library/zotero/{synced.pk}/{action}", data).status_code == 404
    link = ZoteroLink.objects.get(pk=synced.pk)
    assert sealed_keys.unseal(link.sealed_key) == KEY and len(keys_of(ada)) == 3
    anonymous = Client()
    assert anonymous.get("/for-you/library/zotero").url.startswith("/accounts/signin")
    assert anonymous.post(f"/for-you/library/zotero/{synced.pk}/remove").url.startswith("/accounts/signin")
    assert ZoteroLink.objects.filter(pk=synced.pk).exists()


@pytest.mark.django_db
def test_forms_without_a_csrf_token_are_refused(synced, ada):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    posts = {
        "/for-you/library/zotero": {"library_type": "group", "library_id": "98765", "key": NEW_KEY},
        f"/for-you/library/zotero/{synced.pk}/key": {"key": NEW_KEY},
        f"/for-you/library/zotero/{synced.pk}/sync": {},
        f"/for-you/library/zotero/{synced.pk}/remove": {"items": "remove"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    [link] = ZoteroLink.objects.all()
    assert link.key_ending == "DWsd" and len(keys_of(ada)) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"library_type": "user", "library_id": "ada_l", "key": KEY}, "A Zotero library id is a number"),
        ({"library_type": "user", "library_id": "12345", "key": "my key"}, "Paste the API key as Zotero shows it"),
        ({"library_type": "shelf", "library_id": "12345", "key": KEY}, "Choose a user library or a group library"),
        ({"library_type": "user", "library_id": "12345", "key": NEW_KEY}, "user library 12345 is linked already"),
    ],
    ids=["id", "key", "type", "twice"],
)
def test_what_cannot_make_a_link_is_said(synced, ada, data, message):
    response = signed_in(ada).post("/for-you/library/zotero", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert ZoteroLink.objects.count() == 1


@pytest.mark.django_db
def test_a_member_links_ten_libraries_at_most(ada):
    client = signed_in(ada)
    for group in range(1, 12):
        response = client.post("/for-you/library/zotero", {"library_type": "group", "library_id": group, "key": KEY})
    assert response.status_code == 400 and "You have linked 10 Zotero libraries" in response.content.decode()
    assert ZoteroLink.objects.filter(user=ada).count() == 10


# --- the background task and the command ---


@pytest.mark.django_db
def test_a_due_link_is_synced_by_one_task_in_the_queue(api, synced, ada, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert background.request() is True and background.request() is False  # one waits, however many ask
    assert DBTaskResult.objects.filter(task_path=background.sync_zotero.module_path).count() == 1
    api.route(ITEMS, Reply(b"", 304, headers={"Last-Modified-Version": "40"}))
    line = background.sync_zotero.call()
    assert line == "Zotero: 1 of 1 libraries in step (0 items added, 0 updated, 0 removed)"
    DBTaskResult.objects.all().delete()
    assert background.request() is False  # not due for PAPERFEED_ZOTERO_SYNC_MINUTES
    signed_in(ada).post(f"/for-you/library/zotero/{synced.pk}/sync")  # "Sync now"
    assert background.request() is True


@pytest.mark.django_db
def test_the_command(api, synced, ada, capsys):
    api.route(ITEMS, reply("items_since40", 47, 3))
    api.route(DELETED, reply("deleted_since40", 47))
    call_command("zotero", "sync", "--user", "ada", "--pause", "0")
    out = capsys.readouterr().out
    assert "ada's Zotero user library 12345: synced (1 added, 1 updated, 2 removed)" in out
    api.route(ITEMS, Reply(b"Forbidden", 403, content_type="text/plain"))
    with pytest.raises(SystemExit) as stop:
        call_command("zotero", "sync", "--pause", "0")
    assert stop.value.code == 1 and "paused" in capsys.readouterr().out
    with pytest.raises(CommandError) as error:
        call_command("zotero", "sync", "--user", "nobody")
    assert error.value.returncode == 2
