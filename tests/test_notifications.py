"""Notifications on the site: who is told of what (replies, mentions, comments on one's papers, claim decisions),
once each and never of one's own doing; the bell and its htmx count; the plain /notifications page; reading them;
and that nobody sees another member's notifications."""

import re
from datetime import timedelta
from html import unescape

import pytest
from conftest import member, signed_in
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from paperfeed.community.models import AuthorClaim, Comment, Profile
from paperfeed.community.services import people
from paperfeed.notifications.models import Kind, Notification
from paperfeed.notifications.services import inbox
from paperfeed.notifications.services.visibility import may_see
from paperfeed.papers.models import Author, DailyEntry, Paper

pytestmark = pytest.mark.django_db

PAPER = "2606.00002"


def paper(arxiv_id: str = PAPER) -> Paper:
    return Paper.objects.get(arxiv_id=arxiv_id)


def post(client: Client, body: str, parent: Comment | None = None, address: str = PAPER):
    data = {"body": body} | ({"parent": str(parent.pk)} if parent is not None else {})
    response = client.post(f"/papers/{address}/comments", data)
    assert response.status_code == 303, response.content.decode()[:500]
    return Comment.objects.latest("id")


def told(user=None) -> list[tuple[str, str]]:
    """(recipient, kind) of every notification, oldest first (of one member, when given)."""
    rows = Notification.objects.order_by("id")
    if user is not None:
        rows = rows.filter(recipient=user)
    return [(n.recipient.username, n.kind) for n in rows]


def submitted(user, address: str = PAPER) -> None:
    DailyEntry.objects.create(
        paper=paper(address), day=timezone.localdate(), source=DailyEntry.Source.SUBMISSION, submitted_by=user
    )


def confirmed_author(user, name: str = "Barbara Liskov", address: str = PAPER) -> AuthorClaim:
    """An approved claim, set in the database (no decision, so no notification of one)."""
    claim = AuthorClaim.objects.create(user=user, paper=paper(address), author=Author.objects.get(name=name))
    AuthorClaim.objects.filter(pk=claim.pk).update(status=AuthorClaim.Status.APPROVED)
    return claim


# --- who is told of what ---


def test_a_reply_tells_the_author_of_the_comment_replied_to(corpus):
    ada, bob = member("ada"), member("bob")
    first = post(signed_in(ada), "What about sparse attention?")
    reply = post(signed_in(bob), "It scales.", parent=first)
    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.kind, notification.actor) == (ada, Kind.REPLY, bob)
    assert (notification.paper, notification.comment, notification.read_at) == (paper(), reply, None)


def test_a_mention_tells_the_member_named_whatever_the_case_and_unknown_names_are_plain(corpus):
    member("ada"), member("Grace.H")
    comment = post(signed_in(member("bob")), "@ADA and @grace.h. should see this; @nobody and mail@ada.org not.")
    assert sorted(told()) == [("Grace.H", Kind.MENTION), ("ada", Kind.MENTION)]
    assert comment.body_html.count('class="mention"') == 2
    assert '<a href="/users/ada" class="mention" rel="nofollow noopener ugc">@ADA</a>' in comment.body_html
    assert '<a href="/users/Grace.H" class="mention" rel="nofollow noopener ugc">@grace.h</a>.' in comment.body_html
    assert "@nobody and mail@ada.org not." in comment.body_html


def test_mentions_in_code_and_link_text_tell_nobody(corpus):
    member("ada")
    post(signed_in(member("bob")), "`@ada` and [@ada](https://example.org)\n\n```\n@ada\n```")
    assert told() == []


def test_a_new_comment_tells_the_submitter_and_the_confirmed_authors_of_the_paper(corpus):
    sub, author, pending = member("sub"), member("barbara"), member("pretender")
    submitted(sub)
    confirmed_author(author)
    AuthorClaim.objects.create(user=pending, paper=paper(), author=Author.objects.get(name="Donald Knuth"))
    post(signed_in(member("bob")), "Nice paper.")
    assert sorted(told()) == [("barbara", Kind.PAPER_COMMENT), ("sub", Kind.PAPER_COMMENT)]


def test_one_notification_per_member_and_comment_of_the_most_specific_kind(corpus):
    ada, bob = member("ada"), member("bob")
    submitted(ada)
    confirmed_author(ada)
    first = post(signed_in(ada), "My own paper, my own comment.")
    assert told() == [], "nobody is told of what they did themselves"
    post(signed_in(bob), "@ada: a reply that also mentions you, on your paper. @ada again.", parent=first)
    assert told() == [("ada", Kind.MENTION)]
    post(signed_in(bob), "A plain reply.", parent=first)
    assert told() == [("ada", Kind.MENTION), ("ada", Kind.REPLY)]
    post(signed_in(bob), "A comment of its own.")
    assert told() == [("ada", Kind.MENTION), ("ada", Kind.REPLY), ("ada", Kind.PAPER_COMMENT)]


def test_self_actions_are_silent(corpus):
    ada = member("ada")
    submitted(ada)
    first = post(signed_in(ada), "Hello @ada, it is me.")
    post(signed_in(ada), "Replying to myself.", parent=first)
    people.decide_claims(
        AuthorClaim.objects.filter(pk=confirmed_author(member("bob"), "Donald Knuth").pk), approve=False
    )
    assert told(ada) == []


def test_an_edit_that_mentions_someone_new_tells_only_them_once(corpus):
    member("ada"), member("carol")
    bob_client = signed_in(member("bob"))
    comment = post(bob_client, "Hi @ada.")
    assert bob_client.post(f"/comments/{comment.pk}/edit", {"body": "Hi @ada and @carol."}).status_code == 303
    assert bob_client.post(f"/comments/{comment.pk}/edit", {"body": "Hi @ada, @carol, @bob."}).status_code == 303
    assert told() == [("ada", Kind.MENTION), ("carol", Kind.MENTION)]
    comment.refresh_from_db()
    assert '<a href="/users/carol" class="mention"' in comment.body_html


def test_claim_decisions_tell_the_claimant_once_each(corpus, staff):
    ada = member("ada")
    claim = AuthorClaim.objects.create(user=ada, paper=paper(), author=Author.objects.get(name="Barbara Liskov"))
    assert told() == []
    response = staff.post(
        "/admin/community/authorclaim/", {"action": "approve", "_selected_action": [claim.pk]}, follow=True
    )
    assert response.status_code == 200
    people.decide_claims(AuthorClaim.objects.filter(pk=claim.pk), approve=True)  # no change: no news
    assert told() == [("ada", Kind.CLAIM_APPROVED)]
    people.decide_claims(AuthorClaim.objects.filter(pk=claim.pk), approve=False)
    assert told() == [("ada", Kind.CLAIM_APPROVED), ("ada", Kind.CLAIM_REFUSED)]
    assert Notification.objects.filter(claim=claim, actor=None).count() == 2


def test_nobody_is_told_of_a_comment_they_may_not_see(corpus):
    ada, bob = member("ada"), member("bob")
    submitted(ada, "2606.00003")
    Paper.objects.filter(arxiv_id="2606.00003").update(hidden=True)
    Comment.objects.create(paper=paper("2606.00003"), author=bob, body="On a hidden paper @ada", body_html="x")
    assert told() == []
    visible = Comment.objects.create(paper=paper(), author=bob, body="Shown", body_html="<p>Shown</p>")
    assert may_see(ada, visible)
    visible.hidden = True
    assert not may_see(ada, visible)
    ada.is_active = False
    visible.hidden = False
    assert not may_see(ada, visible)


def test_a_banned_or_unconfirmed_member_is_still_told(corpus):
    member("ada", verified=False, banned=True)
    post(signed_in(member("bob")), "@ada, are you there?")
    assert told() == [("ada", Kind.MENTION)]


# --- the bell ---


def bell_count(html: str) -> str:
    match = re.search(r'<span id="bell-count"[^>]*>(.*?)</span>\s*</a>', html, re.S)
    assert match, "no bell on the page"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", match.group(1)))).strip()


def test_anonymous_visitors_get_no_bell_and_no_query_for_it(client, corpus, no_page_cache):
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert 'class="bell"' not in html and "bell-count" not in html and "mentions.js" not in html
    assert not [q for q in queries if "notifications_" in q["sql"]]
    assert client.get("/notifications/count").status_code == 204


def test_members_see_the_unread_count_for_one_cheap_query(corpus):
    ada, bob = member("ada"), member("bob")
    client = signed_in(ada)
    html = client.get("/").content.decode()
    assert bell_count(html) == "no unread notifications"
    assert 'hx-get="/notifications/count" hx-trigger="every 60s" hx-swap="outerHTML"' in html
    first = post(signed_in(ada), "Hello")
    post(signed_in(bob), "Hi", parent=first)
    post(signed_in(bob), "Hi again @ada")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    bell_queries = [q["sql"] for q in queries if "notifications_" in q["sql"]]
    assert len(bell_queries) == 1 and "COUNT(" in bell_queries[0].upper()
    assert bell_count(html) == "2 unread notifications"
    fragment = client.get("/notifications/count", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "no-cache" in fragment["Cache-Control"]
    text = fragment.content.decode()
    assert text.startswith('<span id="bell-count"') and 'hx-trigger="every 60s"' in text
    assert '<span class="bell-unread">2</span>' in text and "<html" not in text


# --- the page ---


def test_signed_out_visitors_are_sent_to_sign_in(client, corpus):
    for address in ("/notifications", "/notifications/settings"):
        response = client.get(address)
        assert response.status_code == 302 and response.url.startswith("/accounts/signin?next=")
    assert client.post("/notifications/read-all").status_code == 302
    assert client.post("/notifications/1/open").status_code == 302


def test_the_page_lists_notifications_newest_first_with_who_did_what_on_which_paper(corpus):
    ada, bob = member("ada"), member("bob")
    first = post(signed_in(ada), "What about sparse attention?")
    post(signed_in(bob), "It **scales** <script>x</script>.", parent=first)
    post(signed_in(member("carol")), "cc @ada")
    html = signed_in(ada).get("/notifications").content.decode()
    listed = html[html.index('<ol class="notifications">') :]
    items = [unescape(m).strip() for m in re.findall(r'class="link-button">(.*?)</button>', listed)]
    assert items == [
        "@carol mentioned you in a comment on “Graph Transformers at Scale”",
        "@bob replied to your comment on “Graph Transformers at Scale”",
    ]
    assert "It **scales** &lt;script&gt;x&lt;/script&gt;." in html and "<script>x" not in html
    assert html.count('<span class="badge">new</span>') == 2
    assert "2 unread" in html and "Mark all read" in html


def test_the_page_is_paginated(corpus, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    ada, bob = member("ada"), member("bob")
    for n in range(5):
        post(signed_in(bob), f"Comment {n} for @ada")
    client = signed_in(ada)
    first, last = client.get("/notifications").content.decode(), client.get("/notifications?page=3").content.decode()
    assert "Page 1 of 3" in first and first.count("notification-excerpt") == 2 and "Comment 4 for @ada" in first
    assert "Comment 0 for @ada" in last and last.count("notification-excerpt") == 1
    assert client.get("/notifications?page=x").status_code == 400


def test_opening_one_marks_it_read_and_leads_to_the_comment(corpus):
    ada = member("ada")
    comment = post(signed_in(member("bob")), "@ada look")
    notification = Notification.objects.get()
    client = signed_in(ada)
    response = client.post(f"/notifications/{notification.pk}/open")
    assert response.status_code == 303 and response.url == f"/papers/{PAPER}#comment-{comment.pk}"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert bell_count(client.get("/").content.decode()) == "no unread notifications"
    assert client.get(f"/notifications/{notification.pk}/open").url == "/notifications"


def test_a_claim_notification_leads_to_the_claim_box(corpus):
    ada = member("ada")
    claim = AuthorClaim.objects.create(user=ada, paper=paper(), author=Author.objects.get(name="Barbara Liskov"))
    people.decide_claims(AuthorClaim.objects.filter(pk=claim.pk), approve=True)
    client = signed_in(ada)
    assert "A moderator confirmed you as Barbara Liskov on “Graph Transformers at Scale”" in unescape(
        client.get("/notifications").content.decode()
    )
    response = client.post(f"/notifications/{Notification.objects.get().pk}/open")
    assert response.url == f"/papers/{PAPER}#claim"


def test_mark_all_read(corpus):
    ada = member("ada")
    for n in range(3):
        post(signed_in(member(f"writer{n}")), f"@ada number {n}")
    client = signed_in(ada)
    response = client.post("/notifications/read-all")
    assert response.status_code == 303 and response.url == "/notifications"
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    html = client.get("/notifications").content.decode()
    assert "all read" in html and "Mark all read" not in html


def test_nothing_of_another_members_notifications_shows(corpus):
    member("ada")
    eve = member("eve")
    post(signed_in(member("bob")), "A secret-ish remark for @ada")
    notification = Notification.objects.get()
    eve_client = signed_in(eve)
    assert eve_client.post(f"/notifications/{notification.pk}/open").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None
    html = eve_client.get("/notifications").content.decode()
    assert "secret-ish" not in html and "@bob" not in html
    assert bell_count(eve_client.get("/").content.decode()) == "no unread notifications"
    assert '<span class="bell-unread">' not in eve_client.get("/notifications/count").content.decode()
    eve_client.post("/notifications/read-all")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_comment_hidden_later_shows_no_text(corpus):
    ada = member("ada")
    comment = post(signed_in(member("bob")), "Rude words for @ada")
    Comment.objects.filter(pk=comment.pk).update(hidden=True)
    client = signed_in(ada)
    html = client.get("/notifications").content.decode()
    assert "Rude words" not in html and "This comment was deleted or is no longer shown." in html
    assert client.post(f"/notifications/{Notification.objects.get().pk}/open").url == f"/papers/{PAPER}#comments"


def test_the_posts_need_the_csrf_token(corpus):
    ada = member("ada")
    post(signed_in(member("bob")), "@ada hi")
    notification = Notification.objects.get()
    client = signed_in(ada, enforce_csrf_checks=True)
    assert client.post("/notifications/read-all").status_code == 403
    assert client.post(f"/notifications/{notification.pk}/open").status_code == 403
    assert client.post("/notifications/settings", {"reply": "never"}).status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None
    page = client.get("/notifications").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(f"/notifications/{notification.pk}/open", {"csrfmiddlewaretoken": token})
    assert response.status_code == 303


# --- email choices on the settings pages ---


def test_email_choices_are_shown_and_saved_from_the_account_settings(corpus):
    ada = member("ada")
    client = signed_in(ada)
    html = client.get("/accounts/settings").content.decode()
    assert '<h2 id="notifications">Notification emails</h2>' in html
    assert re.search(r'name="reply" value="now"[^>]*checked', html)
    assert re.search(r'name="paper-comment" value="daily"[^>]*checked', html)
    choices = {"reply": "daily", "mention": "now", "paper-comment": "never", "claim": "never"}
    response = client.post("/notifications/settings", choices | {"next": "/accounts/settings#notifications"})
    assert response.status_code == 302 and response.url == "/accounts/settings#notifications"
    html = client.get("/notifications/settings").content.decode()
    for name, value in choices.items():
        assert re.search(rf'name="{name}" value="{value}"[^>]*checked', html), name
    assert client.post("/notifications/settings", choices | {"reply": "hourly"}).status_code == 400


def test_the_username_mentions_is_reserved_for_the_autocomplete(corpus):
    from paperfeed.community.services.accounts import username_problem

    assert username_problem("Mentions") == "That username is reserved. Choose another one."


def test_a_profile_without_a_profile_row_is_told_too(corpus):
    ada = member("ada")
    Profile.objects.filter(user=ada).delete()
    post(signed_in(member("bob")), "@ada")
    assert told() == [("ada", Kind.MENTION)]


def test_notifications_are_kept_newest_first_by_creation(corpus):
    ada = member("ada")
    post(signed_in(member("bob")), "@ada one")
    Notification.objects.update(created=timezone.now() - timedelta(days=2))
    post(signed_in(member("carol")), "@ada two")
    page = inbox.page_of(ada, 1)
    assert [item.notification.actor.username for item in page.object_list] == ["carol", "bob"]
