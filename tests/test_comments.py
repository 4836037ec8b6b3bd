"""Comments under papers: posting, replies one level deep, edit and delete by their author, moderation, counts."""

import re
from html import unescape

import pytest
from conftest import member, signed_in
from django.contrib.auth.models import User
from django.test import Client

from paperfeed.community.models import Comment, Profile
from paperfeed.papers.models import Paper

pytestmark = pytest.mark.django_db

PAPER = "2606.00002"
PAGE = f"/papers/{PAPER}"
POST = f"/papers/{PAPER}/comments"


def post(client: Client, body: str, parent=None, paper: str = PAPER):
    data = {"body": body} | ({"parent": str(parent)} if parent is not None else {})
    return client.post(f"/papers/{paper}/comments", data)


def comment(author: User, body: str = "A comment.", paper: str = PAPER, **fields) -> Comment:
    from paperfeed.core.markdown import render_markdown

    return Comment.objects.create(
        paper=Paper.objects.get(arxiv_id=paper), author=author, body=body, body_html=render_markdown(body), **fields
    )


def discussion_html(client: Client) -> str:
    html = client.get(PAGE).content.decode()
    section = html[html.index('<section id="comments"') :]
    return section[: section.index("</section>")]


# --- posting ---


def test_signed_out_visitors_read_and_are_asked_to_sign_in(client, corpus):
    comment(member("ada"), "Lovely result.")
    html = discussion_html(client)
    assert "Lovely result." in html
    assert 'href="/accounts/signin?next=/papers/2606.00002%23comments">Sign in</a> to join the discussion' in html
    assert "<textarea" not in html


def test_signing_in_to_comment_comes_back_to_the_discussion(client, corpus):
    response = post(client, "Hello")
    assert response.status_code == 302
    assert response.url == "/accounts/signin?next=/papers/2606.00002%23comments"
    assert not Comment.objects.exists()


def test_a_verified_member_posts_and_lands_on_the_comment(corpus):
    client = signed_in(member("ada"))
    assert 'name="body"' in discussion_html(client)
    response = post(client, "Nice **result**: $O(n \\log n)$ beats $a_1 * b_2$.")
    saved = Comment.objects.get()
    assert response.status_code == 303
    assert response.url == f"/papers/{PAPER}#comment-{saved.pk}"
    html = discussion_html(client)
    assert f'id="comment-{saved.pk}"' in html
    assert '<a class="comment-author" href="/users/ada">@ada</a>' in html
    assert "<strong>result</strong>" in html
    assert r'<span class="math inline">\(O(n \log n)\)</span>' in html
    assert r'<span class="math inline">\(a_1 * b_2\)</span>' in html
    assert "1 comment" in html


def test_comments_are_in_the_discussion_section_of_the_paper_page(corpus):
    html = signed_in(member("ada")).get(PAGE).content.decode()
    assert '<section id="comments"' in html
    assert f'<form class="comment-form new-comment" method="post" action="/papers/{PAPER}/comments">' in html
    assert "csrfmiddlewaretoken" in html


def test_versioned_and_old_style_ids_take_comments(corpus):
    client = signed_in(member("ada"))
    response = post(client, "On the second version", paper="2606.00002v3")
    assert response.status_code == 303 and response.url.startswith(f"/papers/{PAPER}#comment-")
    response = post(client, "Old identifiers too", paper="hep-th/9901001")
    assert response.status_code == 303 and response.url.startswith("/papers/hep-th/9901001#comment-")
    assert "Old identifiers too" in client.get("/papers/hep-th/9901001").content.decode()


def test_an_unverified_member_is_told_to_confirm_their_email(corpus):
    client = signed_in(member("newbie", verified=False))
    html = discussion_html(client)
    assert "Confirm your email address first" in html
    assert 'name="body"' not in html
    response = post(client, "My first words")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Confirm your email address first" in page
    assert "My first words</textarea>" in page  # nothing typed is lost
    assert not Comment.objects.exists()


def test_a_banned_member_cannot_comment(corpus):
    client = signed_in(member("troll", banned=True))
    assert "banned" in discussion_html(client)
    response = post(client, "spam")
    assert response.status_code == 403
    assert "banned from posting" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n\t  "])
def test_an_empty_comment_is_refused_with_a_message(corpus, body):
    response = post(signed_in(member("ada")), body)
    assert response.status_code == 400
    assert "Write something first: the comment was empty." in response.content.decode()
    assert not Comment.objects.exists()


def test_a_too_long_comment_is_refused_and_the_text_kept(corpus):
    body = "word " * 2_001
    response = post(signed_in(member("ada")), body)
    html = response.content.decode()
    assert response.status_code == 400
    assert "A comment can be at most 10,000 characters long; this one has 10,004." in html
    assert "Shorten it and try again." in html
    assert body + "</textarea>" in html
    assert not Comment.objects.exists()


def test_commenting_on_a_paper_that_is_not_here_or_hidden_is_a_404(corpus):
    client = signed_in(member("ada"))
    assert post(client, "hi", paper="2606.99999").status_code == 404
    assert post(client, "hi", paper="not-an-id").status_code == 404
    Paper.objects.filter(arxiv_id=PAPER).update(hidden=True)
    assert post(client, "hi").status_code == 404
    assert not Comment.objects.exists()


def test_the_comment_address_on_its_own_leads_to_the_discussion(client, corpus):
    response = client.get(POST)
    assert response.status_code == 303
    assert response.url == f"/papers/{PAPER}#comments"


def test_hostile_comment_text_stays_inert_on_the_page(corpus):
    client = signed_in(member("ada"))
    body = (
        "<script>alert('c')</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
        "<svg onload=alert(1)> $<script>alert(2)</script>$ <iframe src=//evil.example></iframe> "
        '<p style="position:fixed">x</p> <a href="data:text/html,x">d</a>'
    )
    assert post(client, body).status_code == 303
    html = discussion_html(client)
    assert "<script" not in html.lower()
    assert "<img" not in html and "<svg" not in html and "<iframe" not in html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html)
    assert not re.search(r"<[^>]*\shref=\"(javascript|data):", html)
    assert not re.search(r"<[^>]*\sstyle=", html)
    assert "&lt;script&gt;alert(&#x27;c&#x27;)&lt;/script&gt;" in html or "&lt;script&gt;alert('c')" in html
    assert r"\(&lt;script&gt;alert(2)&lt;/script&gt;\)" in html


# --- replies ---


def test_replies_are_one_level_deep_and_shown_under_their_comment(corpus):
    ada, bob = member("ada"), member("bob")
    top = comment(ada, "Top-level thought.")
    client = signed_in(bob)
    assert post(client, "A reply.", parent=top.pk).status_code == 303
    reply = Comment.objects.get(body="A reply.")
    assert reply.parent_id == top.pk
    # Answering a reply joins the thread of the top-level comment.
    assert post(client, "A reply to the reply.", parent=reply.pk).status_code == 303
    assert Comment.objects.get(body="A reply to the reply.").parent_id == top.pk
    html = discussion_html(client)
    thread = html[html.index(f'id="comment-{top.pk}"') :]
    replies = thread[thread.index('<div class="replies">') :]
    assert replies.index("A reply.") < replies.index("A reply to the reply.")
    assert f'<input type="hidden" name="parent" value="{top.pk}">' in html
    assert "3 comments" in html


@pytest.mark.parametrize("parent", ["other-paper", "hidden", "missing", "not-a-number"])
def test_a_reply_to_a_comment_that_is_not_in_this_discussion_is_refused(corpus, parent):
    ada = member("ada")
    parents = {
        "other-paper": lambda: comment(ada, "Elsewhere", paper="2606.00001").pk,
        "hidden": lambda: comment(ada, "Hidden", hidden=True).pk,
        "missing": lambda: 987654,
        "not-a-number": lambda: "abc",
    }
    response = post(signed_in(member("bob")), "My reply", parent=parents[parent]())
    assert response.status_code == 400
    html = response.content.decode()
    assert "The comment you replied to is no longer part of this discussion." in html
    assert "My reply</textarea>" in html
    assert 'name="parent"' not in html  # posting again makes it a comment of its own
    assert not Comment.objects.filter(body="My reply").exists()


def test_a_reply_to_a_reply_whose_thread_was_hidden_is_refused(corpus):
    ada = member("ada")
    top = comment(ada, "Top")
    reply = comment(ada, "Reply", parent=top)
    Comment.objects.filter(pk=top.pk).update(hidden=True)
    assert post(signed_in(member("bob")), "More", parent=reply.pk).status_code == 400


def test_threads_are_oldest_first(corpus):
    ada = member("ada")
    first, second = comment(ada, "First words."), comment(ada, "Second words.")
    Comment.objects.filter(pk=first.pk).update(created_at=second.created_at.replace(year=2020))
    html = discussion_html(Client())
    assert html.index("First words.") < html.index("Second words.")


# --- edit and delete ---


def test_the_author_edits_a_comment_and_it_says_edited(corpus):
    ada = member("ada")
    mine = comment(ada, "Frist!")
    client = signed_in(ada)
    assert f'href="/comments/{mine.pk}/edit"' in discussion_html(client)
    form = client.get(f"/comments/{mine.pk}/edit")
    assert form.status_code == 200
    assert "Frist!</textarea>" in form.content.decode()
    response = client.post(f"/comments/{mine.pk}/edit", {"body": "First, with *feeling*."})
    assert response.status_code == 303
    assert response.url == f"/papers/{PAPER}#comment-{mine.pk}"
    mine.refresh_from_db()
    assert mine.body == "First, with *feeling*." and mine.edited_at is not None
    html = discussion_html(client)
    assert "<em>feeling</em>" in html and ">edited</span>" in html and "Frist" not in html


def test_saving_the_same_text_does_not_mark_it_edited(corpus):
    ada = member("ada")
    mine = comment(ada, "Unchanged")
    signed_in(ada).post(f"/comments/{mine.pk}/edit", {"body": "Unchanged"})
    mine.refresh_from_db()
    assert mine.edited_at is None


def test_an_edit_to_nothing_is_refused_and_the_comment_kept(corpus):
    ada = member("ada")
    mine = comment(ada, "Keep me")
    response = signed_in(ada).post(f"/comments/{mine.pk}/edit", {"body": "  "})
    assert response.status_code == 400
    assert "Write something first" in response.content.decode()
    mine.refresh_from_db()
    assert mine.body == "Keep me"


def test_no_one_else_may_edit_or_delete_a_comment(corpus):
    ada = member("ada")
    theirs = comment(ada, "Ada's words")
    client = signed_in(member("bob"))
    assert f"/comments/{theirs.pk}/edit" not in discussion_html(client)
    for response in [
        client.get(f"/comments/{theirs.pk}/edit"),
        client.post(f"/comments/{theirs.pk}/edit", {"body": "Bob's words"}),
        client.post(f"/comments/{theirs.pk}/delete"),
    ]:
        assert response.status_code == 403
        assert "You can only" in response.content.decode() and "your own comments" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.body == "Ada's words"


def test_signed_out_visitors_are_sent_to_sign_in_to_edit_or_delete(client, corpus):
    mine = comment(member("ada"))
    response = client.get(f"/comments/{mine.pk}/edit")
    assert response.status_code == 302 and response.url.startswith("/accounts/signin?next=")
    assert client.post(f"/comments/{mine.pk}/delete").status_code == 302
    assert Comment.objects.filter(pk=mine.pk).exists()


def test_a_banned_author_may_delete_but_not_edit(corpus):
    troll = member("troll")
    mine = comment(troll, "Regrettable")
    Profile.objects.filter(user=troll).update(banned=True)
    client = signed_in(troll)
    assert client.post(f"/comments/{mine.pk}/edit", {"body": "Worse"}).status_code == 403
    assert client.post(f"/comments/{mine.pk}/delete").status_code == 303
    assert not Comment.objects.exists()


def test_staff_may_edit_and_delete_any_comment(corpus):
    theirs = comment(member("ada"), "Needs a fix")
    client = signed_in(member("mod", staff=True))
    assert client.post(f"/comments/{theirs.pk}/edit", {"body": "Fixed"}).status_code == 303
    assert client.post(f"/comments/{theirs.pk}/delete").status_code == 303
    assert not Comment.objects.exists()


def test_deleting_a_comment_without_replies_removes_it(corpus):
    ada = member("ada")
    mine = comment(ada, "Oops")
    response = signed_in(ada).post(f"/comments/{mine.pk}/delete")
    assert response.status_code == 303 and response.url == f"/papers/{PAPER}#comments"
    assert not Comment.objects.exists()
    assert "This comment was deleted." not in discussion_html(Client())


def test_deleting_a_comment_with_replies_leaves_a_placeholder(corpus):
    ada, bob = member("ada"), member("bob")
    top = comment(ada, "Controversial claim")
    reply = comment(bob, "I disagree", parent=top)
    assert signed_in(ada).post(f"/comments/{top.pk}/delete").status_code == 303
    top.refresh_from_db()
    assert top.body == "" and top.body_html == ""
    html = discussion_html(Client())
    assert "This comment was deleted." in html and "Controversial claim" not in html
    assert "I disagree" in html and "1 comment" in html
    # A placeholder can be deleted no further, and goes with its last reply.
    assert signed_in(ada).post(f"/comments/{top.pk}/delete").status_code == 404
    response = signed_in(bob).post(f"/comments/{reply.pk}/delete")
    assert response.url == f"/papers/{PAPER}#comment-{top.pk}"
    assert not Comment.objects.exists()


def test_a_deleted_or_unknown_comment_cannot_be_edited(corpus):
    ada = member("ada")
    top = comment(ada, "Gone")
    comment(ada, "Stays", parent=top)
    Comment.objects.filter(pk=top.pk).update(body="", body_html="")
    client = signed_in(ada)
    assert client.get(f"/comments/{top.pk}/edit").status_code == 404
    assert client.get("/comments/987654/edit").status_code == 404
    assert client.post("/comments/987654/delete").status_code == 404


# --- moderation and counts ---


def test_hidden_comments_are_shown_nowhere_and_counted_nowhere(client, corpus):
    ada = member("ada")
    comment(ada, "Visible one")
    comment(ada, "Spam link farm", hidden=True)
    html = discussion_html(client)
    assert "Visible one" in html and "Spam link farm" not in html
    assert "1 comment" in html and "2 comments" not in html
    assert 'href="/papers/2606.00002#comments" title="1 comment"' in client.get("/?date=2026-06-30").content.decode()
    hidden = Comment.objects.get(hidden=True)
    assert signed_in(ada).get(f"/comments/{hidden.pk}/edit").status_code == 404


def test_replies_under_a_hidden_comment_stay_under_a_placeholder(client, corpus):
    ada, bob = member("ada"), member("bob")
    top = comment(ada, "Abusive words", hidden=True)
    comment(bob, "Please keep it civil", parent=top)
    html = discussion_html(signed_in(bob))
    assert "Abusive words" not in html
    assert "This comment was removed by a moderator." in html
    assert "Please keep it civil" in html and "1 comment" in html
    assert f'name="parent" value="{top.pk}"' not in html  # no new replies to a removed thread


def test_cards_count_comments_and_link_to_the_discussion(client, corpus):
    ada = member("ada")
    top = comment(ada, "One")
    comment(ada, "Two", parent=top)
    comment(ada, "Hidden", hidden=True)
    deleted = comment(ada, "Deleted but answered")
    comment(ada, "Answer", parent=deleted)
    Comment.objects.filter(pk=deleted.pk).update(body="", body_html="")
    html = client.get("/?date=2026-06-30").content.decode()
    card = html[html.index("Graph Transformers at Scale") :]
    card = card[: card.index("</article>")]
    link = re.search(r'<a class="comment-count" href="([^"]+)"[^>]*>(.*?)</a>', card, re.S)
    assert link.group(1) == "/papers/2606.00002#comments"
    assert unescape(re.sub(r"<.*?>", "", link.group(2))).split() == ["3", "comments"]
    other = html[html.index("MLP-Mixer Revisited") :]
    assert 'title="0 comments"' in other[: other.index("</article>")]


def test_a_long_discussion_costs_no_more_queries_than_a_short_one(corpus):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = [member(f"m{i}") for i in range(4)]
    viewer = signed_in(people[0])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get(PAGE).status_code == 200
        return len(captured)

    top = comment(people[1], "start")
    comment(people[2], "reply", parent=top)
    few = queries()
    for i in range(20):
        thread = comment(people[i % 4], f"thread {i}")
        comment(people[(i + 1) % 4], f"reply {i}", parent=thread)
    assert queries() == few


# --- CSRF ---


def test_every_comment_form_needs_its_csrf_token(corpus):
    ada = member("ada")
    mine = comment(ada, "Mine")
    client = signed_in(ada, enforce_csrf_checks=True)
    assert client.post(POST, {"body": "forged"}).status_code == 403
    assert client.post(f"/comments/{mine.pk}/edit", {"body": "forged"}).status_code == 403
    assert client.post(f"/comments/{mine.pk}/delete").status_code == 403
    assert list(Comment.objects.values_list("body", flat=True)) == ["Mine"]


# --- flooding ---


def test_posting_too_many_comments_too_fast_asks_to_wait(corpus):
    client = signed_in(member("ada"))
    for i in range(10):
        assert post(client, f"Comment {i}").status_code == 303
    response = post(client, "One too many")
    assert response.status_code == 429
    html = response.content.decode()
    assert "You have posted 10 comments in the last 10 minutes. Wait 10 minutes and post this one again." in html
    assert "One too many</textarea>" in html
    assert Comment.objects.count() == 10
    # Staff are not held back, and one member's pace does not slow another's.
    assert post(signed_in(member("mod", staff=True)), "Moderator note").status_code == 303
    assert post(signed_in(member("bob")), "Bob's turn").status_code == 303
