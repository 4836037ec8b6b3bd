"""A member's own reading: private notes, read marks, the reading queue, the unread switch, /reading and the export,
each through the pages, and none of it seen by anyone but its owner."""

import json

import pytest
from conftest import member, signed_in
from django.test import Client

from paperfeed.community.models import Note, QueueEntry, ReadMark
from paperfeed.community.services.moderation import hide_papers
from paperfeed.core.markdown import MAX_CHARS
from paperfeed.papers.models import Paper
from paperfeed.papers.services import listing

pytestmark = pytest.mark.django_db

MLP, GRAPHS = "2606.00001", "2606.00002"  # both listed on 30 June 2026
SECRET = "zebracorn"  # a word no paper holds: wherever it shows, a note showed


def paper(arxiv_id: str) -> Paper:
    return Paper.objects.get(arxiv_id=arxiv_id)


def html_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- notes ---


def test_a_note_is_saved_rendered_edited_and_deleted(corpus):
    ada = signed_in(member("ada"))
    page = html_of(ada, f"/papers/{MLP}")
    assert "Your private note" in page and "only you see this" in page and "Write a note" in page
    response = ada.post(f"/papers/{MLP}/note", {"body": f"**Key idea**: token mixing, {SECRET}. $x^2$"})
    assert response.status_code == 303 and response.url == f"/papers/{MLP}#note"
    note = Note.objects.get()
    assert note.user.username == "ada" and note.paper.arxiv_id == MLP
    page = html_of(ada, f"/papers/{MLP}")
    assert f"<strong>Key idea</strong>: token mixing, {SECRET}." in page and "\\(x^2\\)" in page
    assert "Edit your note" in page and "Delete note" in page

    first_created = note.created_at
    ada.post(f"/papers/{MLP}/note", {"body": "Rewritten <script>alert(1)</script>"})
    note = Note.objects.get()
    assert note.body == "Rewritten <script>alert(1)</script>" and note.created_at == first_created
    assert note.updated_at >= first_created and "<script>" not in note.body_html
    page = html_of(ada, f"/papers/{MLP}")
    assert SECRET not in page and "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page

    response = ada.post(f"/papers/{MLP}/note", {"delete": "1"})
    assert response.status_code == 303 and not Note.objects.exists()
    assert "Write a note" in html_of(ada, f"/papers/{MLP}")
    assert ada.post(f"/papers/{MLP}/note", {"delete": "1"}).status_code == 303  # twice changes nothing


def test_a_note_too_long_is_refused_with_its_text_kept_and_nothing_saved(corpus):
    ada = signed_in(member("ada"))
    ada.post(f"/papers/{MLP}/note", {"body": "The first version"})
    too_long = "x" * (MAX_CHARS + 1)
    response = ada.post(f"/papers/{MLP}/note", {"body": too_long})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"A note can be at most {MAX_CHARS:,} characters long; this one has {MAX_CHARS + 1:,}." in page
    assert too_long in page  # the text comes back to be shortened, not lost
    assert Note.objects.get().body == "The first version"
    # With htmx the panel comes back with the message and the text.
    response = ada.post(f"/papers/{GRAPHS}/note", {"body": too_long}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "at most" in response.content.decode()
    assert Note.objects.count() == 1
    response = ada.post(f"/papers/{GRAPHS}/note", {"body": "  \r\n "})
    assert response.status_code == 400 and "the note was empty" in response.content.decode()


def test_notes_need_a_visible_paper_and_a_member(client, corpus):
    ada = signed_in(member("ada"))
    assert ada.post("/papers/2699.99999/note", {"body": "hm"}).status_code == 404
    hide_papers(Paper.objects.filter(arxiv_id=GRAPHS))
    assert ada.post(f"/papers/{GRAPHS}/note", {"body": "hm"}).status_code == 404
    assert ada.post(f"/papers/{GRAPHS}/read", {"read": "1"}).status_code == 404
    assert ada.post(f"/papers/{GRAPHS}/queue", {"queue": "1"}).status_code == 404
    for url, form in ((f"/papers/{MLP}/note", {"body": "hm"}), (f"/papers/{MLP}/read", {"read": "1"})):
        response = client.post(url, form)
        assert response.status_code == 302 and response.url.startswith("/accounts/signin?next=")
    response = client.post(f"/papers/{MLP}/queue", {"queue": "1"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/accounts/signin?next=")
    assert client.get("/reading").url == "/accounts/signin?next=/reading"
    assert not (Note.objects.exists() or ReadMark.objects.exists() or QueueEntry.objects.exists())
    assert "Your private note" not in html_of(client, f"/papers/{MLP}")
    assert ada.post(f"/papers/{MLP}/read", {"read": "yes"}).status_code == 400


def test_no_form_writes_another_members_note(corpus):
    ada, bob = member("ada"), member("bob")
    signed_in(ada).post(f"/papers/{MLP}/note", {"body": "Ada's own"})
    # The form has no user field: one sent anyway is ignored, and bob only ever writes his own note.
    signed_in(bob).post(f"/papers/{MLP}/note", {"body": "Bob's", "user": str(ada.pk), "user_id": str(ada.pk)})
    assert dict(Note.objects.values_list("user__username", "body")) == {"ada": "Ada's own", "bob": "Bob's"}
    signed_in(bob).post(f"/papers/{MLP}/note", {"delete": "1", "user": str(ada.pk)})
    assert list(Note.objects.values_list("user__username", flat=True)) == ["ada"]
    # A forged cross-site form, without the CSRF token the page gives, is refused.
    forged = signed_in(bob, enforce_csrf_checks=True)
    assert forged.post(f"/papers/{MLP}/note", {"body": "forged"}).status_code == 403
    assert forged.post(f"/papers/{MLP}/read", {"read": "1"}).status_code == 403
    assert Note.objects.get(user=ada).body == "Ada's own" and not ReadMark.objects.exists()


# --- read marks, the queue, the card marker ---


def test_read_marks_show_on_the_page_and_on_cards_without_a_query_per_card(corpus, no_page_cache):
    ada = signed_in(member("ada"))
    response = ada.post(f"/papers/{MLP}/read", {"read": "1"})
    assert response.status_code == 303 and response.url == f"/papers/{MLP}#reading"
    page = html_of(ada, f"/papers/{MLP}")
    assert "Mark as unread" in page and "Mark as read" not in page
    daily = html_of(ada, "/?date=2026-06-30")
    assert daily.count('class="read-mark"') == 1
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_read:
        ada.get("/?week=2026-W27")
    ada.post(f"/papers/{GRAPHS}/read", {"read": "1"})
    with CaptureQueriesContext(connection) as two_read:
        week = html_of(ada, "/?week=2026-W27")
    assert week.count('class="read-mark"') == 2 and len(two_read) == len(one_read)
    # htmx gets the panel back in place.
    response = ada.post(f"/papers/{MLP}/read", {"read": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="reading"' in response.content.decode()
    assert "Mark as read" in response.content.decode() and "<html" not in response.content.decode()
    assert list(ReadMark.objects.values_list("paper__arxiv_id", flat=True)) == [GRAPHS]
    assert 'class="read-mark"' not in html_of(Client(), "/?date=2026-06-30")


def test_the_queue_oldest_first_and_reading_a_paper_takes_it_off(corpus):
    ada = signed_in(member("ada"))
    for arxiv_id in (GRAPHS, MLP, "2606.00003"):
        assert ada.post(f"/papers/{arxiv_id}/queue", {"queue": "1"}).status_code == 303
    ada.post(f"/papers/{MLP}/queue", {"queue": "1"})  # twice: still once, in its first place
    assert "Remove from queue" in html_of(ada, f"/papers/{MLP}")
    page = html_of(ada, "/reading")
    titles = [paper(i).title for i in (GRAPHS, MLP, "2606.00003")]
    positions = [page.index(title) for title in titles]
    assert positions == sorted(positions) and QueueEntry.objects.count() == 3
    response = ada.post("/papers/2606.00003/queue", {"queue": "0", "next": "/reading"})
    assert response.status_code == 303 and response.url == "/reading"
    ada.post(f"/papers/{GRAPHS}/read", {"read": "1", "next": "/reading"})
    assert list(QueueEntry.objects.values_list("paper__arxiv_id", flat=True)) == [MLP]
    page = html_of(ada, "/reading")
    queue, read = page.split('id="queue-h"')[1].split('id="read-h"')
    assert paper(MLP).title in queue and paper(GRAPHS).title not in queue
    assert paper(GRAPHS).title in read.split('id="notes-h"')[0]


# --- the unread switch on the daily list ---


def test_hiding_read_papers_filters_the_query_so_counts_and_pages_are_right(corpus, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    ada = signed_in(member("ada"))
    week = html_of(ada, "/?week=2026-W27")  # 29 June – 5 July: 7 papers
    assert "7 papers, page 1 of 4" in week and "hide papers I have read" in week
    for arxiv_id in (MLP, GRAPHS, "2606.00003"):
        ada.post(f"/papers/{arxiv_id}/read", {"read": "1"})
    unread = html_of(ada, "/?week=2026-W27&unread=1")
    assert "4 papers, page 1 of 2" in unread and "hiding papers you have read" in unread
    second = html_of(ada, "/?week=2026-W27&unread=1&page=2")
    assert "4 papers, page 2 of 2" in second
    shown = unread + second
    assert not any(paper(i).title in shown for i in (MLP, GRAPHS, "2606.00003"))
    assert 'class="read-mark"' not in shown
    # The switch is kept across the period links, the date picker and the pages.
    assert "&amp;unread=1" in unread and 'name="unread" value="1"' in unread and "page=2&amp;unread=1" in unread
    assert "7 papers" in html_of(ada, "/?week=2026-W27")  # off again: all of them
    day = html_of(ada, "/?date=2026-06-30&unread=1")  # both of its papers read
    assert "that you have not read were listed on" in day
    # Another member, and anyone signed out, have read nothing: the switch hides nothing of theirs.
    assert "7 papers" in html_of(signed_in(member("bob")), "/?week=2026-W27&unread=1")
    anonymous = html_of(Client(), "/?week=2026-W27&unread=1")
    assert "7 papers" in anonymous and "hide papers I have read" not in anonymous


# --- /reading and its note search ---


def test_the_reading_page_searches_your_own_notes_only(corpus):
    ada, bob = signed_in(member("ada")), signed_in(member("bob"))
    ada.post(f"/papers/{MLP}/note", {"body": f"Compare with ResNets; {SECRET} idea"})
    ada.post(f"/papers/{GRAPHS}/note", {"body": "Check the appendix"})
    bob.post(f"/papers/{GRAPHS}/note", {"body": f"Bob's {SECRET.upper()} thought"})
    page = html_of(ada, "/reading")
    assert "Compare with ResNets" in page and "Check the appendix" in page and "Bob's" not in page
    found = html_of(ada, f"/reading?q={SECRET.upper()}")  # case does not matter
    assert "Compare with ResNets" in found and "Check the appendix" not in found and "Bob's" not in found
    by_title = html_of(ada, "/reading?q=graph transformers")  # the paper's title counts too
    assert "Check the appendix" in by_title and "Compare with ResNets" not in by_title
    none = html_of(ada, "/reading?q=nothing+like+this")
    assert "None of your notes contains “nothing like this”" in none
    assert "Compare with ResNets" not in html_of(bob, f"/reading?q={SECRET}")


# --- what another member, or a visitor, sees: nothing ---


def test_nobody_else_sees_a_members_reading(client, corpus):
    ada, bob = signed_in(member("ada")), signed_in(member("bob"))
    ada.post(f"/papers/{MLP}/note", {"body": f"My {SECRET} note"})
    ada.post(f"/papers/{MLP}/read", {"read": "1"})
    ada.post(f"/papers/{GRAPHS}/queue", {"queue": "1"})
    for viewer in (bob, client):
        for url in (
            f"/papers/{MLP}",
            f"/papers/{GRAPHS}",
            "/?date=2026-06-30",
            f"/search?q={SECRET}",
            f"/search?q={SECRET}&mode=keyword",
            "/feeds/daily.rss?date=2026-06-30",
            "/feeds/daily.atom?date=2026-06-30",
            f"/api/v1/papers/{MLP}",
            "/api/v1/daily?date=2026-06-30",
            "/users/ada",
        ):
            response = viewer.get(url)
            assert response.status_code in (200, 302), url
            text = response.content.decode()
            assert f"My {SECRET} note" not in text, url  # the search page repeats the words asked, not the note
            assert 'class="card"' not in text if "search" in url else SECRET not in text, url
            assert 'class="read-mark"' not in text and "Mark as unread" not in text, url
            assert "Remove from queue" not in text, url
    bob_page = html_of(bob, f"/papers/{MLP}")
    assert "Write a note" in bob_page and "Mark as read" in bob_page  # his own, empty
    bob_reading = html_of(bob, "/reading")
    assert "Your reading queue is empty" in bob_reading and "You have not marked any paper read yet" in bob_reading
    bob_export = json.loads(bob.get("/accounts/export.json").content)
    assert bob_export["notes"] == bob_export["read"] == bob_export["queue"] == []


def test_the_export_holds_your_notes_read_marks_and_queue(corpus):
    ada, bob = signed_in(member("ada")), signed_in(member("bob"))
    ada.post(f"/papers/{MLP}/note", {"body": "Ada: *mixing*"})
    ada.post(f"/papers/{MLP}/read", {"read": "1"})
    ada.post(f"/papers/{GRAPHS}/queue", {"queue": "1"})
    ada.post("/papers/2606.00003/queue", {"queue": "1"})
    bob.post(f"/papers/{GRAPHS}/note", {"body": "Bob's"})
    bob.post(f"/papers/{GRAPHS}/read", {"read": "1"})
    data = json.loads(ada.get("/accounts/export.json").content)
    assert data["version"] == 5
    ((note,),) = [data["notes"]]
    assert (note["arxiv_id"], note["body"]) == (MLP, "Ada: *mixing*")
    assert note["url"] == f"http://testserver/papers/{MLP}" and note["created_at"] and note["updated_at"]
    assert [(m["arxiv_id"], bool(m["read_at"])) for m in data["read"]] == [(MLP, True)]
    assert [q["arxiv_id"] for q in data["queue"]] == [GRAPHS, "2606.00003"]
    assert "Bob's" not in json.dumps(data)
