"""Following an author or organization in the email digest from its page: a button for members with a digest, a
link with the digest form filled in for everyone else."""

from __future__ import annotations

import re
from html import unescape

import pytest
from conftest import digest_subscription, member, signed_in
from django.test import Client
from django.utils.html import escape

from paperfeed.community.services import interests
from paperfeed.digests.models import Subscription
from paperfeed.papers.models import Author, Organization, Paper


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def author(corpus) -> Author:
    return Author.objects.order_by("id").first()


@pytest.fixture
def lab(corpus) -> Organization:
    lab = Organization.objects.create(name="Analytical Engines Lab", slug="ael", url="https://example.org/ael")
    Paper.objects.filter(id=Paper.objects.order_by("id").first().id).update(organization=lab)
    return lab


def digest_of(user, **fields) -> Subscription:
    return digest_subscription(user.email, user=user, status=Subscription.Status.ACTIVE, **fields)


def follow(client, target, action="follow", **data):
    kind = "author" if isinstance(target, Author) else "organization"
    return client.post("/digest/follow", {"kind": kind, "id": target.pk, "action": action, **data})


def test_visitors_get_a_link_to_the_digest_form_with_the_author_filled_in(client, author):
    page = client.get(f"/authors/{author.pk}", follow=True)
    link = f"/digest/subscribe?author={author.pk}"
    assert f'href="{link}"' in page.content.decode()
    assert f"Get new papers by {author.name} in your email inbox" in text(page)
    form = client.get(link)
    assert form.status_code == 200
    assert re.search(
        rf'<textarea name="authors"[^>]*>\s*{re.escape(escape(author.name))}</textarea>', form.content.decode()
    )


def test_a_member_with_a_digest_follows_and_stops_following_from_the_author_page(author):
    user = member()
    digest = digest_of(user)
    client = signed_in(user)
    page = client.get(f"/authors/{author.pk}", follow=True)
    assert "Follow in my email digest" in text(page)
    response = follow(client, author, next=f"/authors/{author.pk}")
    assert response.status_code == 302 and response["Location"] == f"/authors/{author.pk}"
    assert list(digest.interests.authors.all()) == [author]
    again = client.get(f"/authors/{author.pk}", follow=True)
    assert f"New papers by {author.name} will be in your digest." in text(again)
    assert f"Your email digest brings new papers by {author.name}. Stop" in text(again)
    follow(client, author)  # twice: still once
    assert digest.interests.authors.count() == 1
    stopped = follow(client, author, action="unfollow")
    assert stopped.status_code == 302 and not digest.interests.authors.exists()
    after = client.get(stopped["Location"], follow=True)
    assert f"New papers by {author.name} are no longer in your digest." in text(after)


def test_organizations_are_followed_the_same_way(lab):
    user = member()
    digest = digest_of(user)
    client = signed_in(user)
    assert "Follow in my email digest" in text(client.get("/organizations/ael"))
    follow(client, lab, next="/organizations/ael")
    assert list(digest.interests.organizations.all()) == [lab]
    assert "Your email digest brings new papers from Analytical Engines Lab." in text(client.get("/organizations/ael"))
    assert f'href="/digest/subscribe?organization={lab.pk}"' in Client().get("/organizations/ael").content.decode()


def test_a_member_without_a_digest_is_taken_to_its_settings_with_the_author_filled_in(author):
    user = member()
    client = signed_in(user)
    page = client.get(f"/authors/{author.pk}", follow=True)
    assert f'href="/digest/settings?author={author.pk}"' in page.content.decode()
    response = follow(client, author)
    assert response.status_code == 302 and response["Location"] == f"/digest/settings?author={author.pk}"
    assert not Subscription.objects.exists()  # subscribing is the member's own step
    settings_page = client.get(response["Location"]).content.decode()
    assert re.search(rf'<textarea name="authors"[^>]*>\s*{re.escape(escape(author.name))}</textarea>', settings_page)


def test_the_form_keeps_what_is_followed_and_adds_the_new_one_once(author):
    other = Author.objects.exclude(pk=author.pk).order_by("id").first()
    initial = {"authors": f"{other.name}\n{author.name.upper()}"}
    assert interests.with_follow_added(initial, author) == initial  # already there, whatever the case
    assert interests.with_follow_added({"authors": other.name}, author)["authors"] == f"{other.name}\n{author.name}"
    assert interests.with_follow_added({"authors": ""}, None) == {"authors": ""}


def test_a_digest_following_the_most_authors_says_so_and_adds_none(author, monkeypatch):
    monkeypatch.setattr(interests, "MAX_AUTHORS", 1)
    user = member()
    digest = digest_of(user)
    digest.interests.authors.add(Author.objects.exclude(pk=author.pk).first())
    client = signed_in(user)
    response = follow(client, author)
    after = client.get(response["Location"], follow=True)
    assert "You already follow 1 authors, the most you can" in text(after)
    assert digest.interests.authors.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "author", "id": "999999"},
        {"kind": "author", "id": "abc"},
        {"kind": "author", "id": "1" * 40},
        {"kind": "paper", "id": "1"},
        {"kind": "author"},
        {},
    ],
)
def test_unknown_targets_are_a_404(corpus, data):
    user = member()
    digest_of(user)
    assert signed_in(user).post("/digest/follow", data).status_code == 404


def test_following_needs_a_signed_in_member_a_post_and_a_token(author):
    anonymous = Client().post("/digest/follow", {"kind": "author", "id": author.pk})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/signin")
    user = member()
    digest_of(user)
    assert signed_in(user).get(f"/digest/follow?kind=author&id={author.pk}").status_code == 405
    forged = signed_in(user, enforce_csrf_checks=True).post("/digest/follow", {"kind": "author", "id": author.pk})
    assert forged.status_code == 403
    assert not Subscription.objects.get().interests.authors.exists()


def test_next_stays_on_this_site(author):
    user = member()
    digest_of(user)
    response = follow(signed_in(user), author, next="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == f"/authors/{author.pk}"


def test_a_bad_author_in_the_link_just_leaves_the_form_as_it_is(client, corpus):
    for value in ("abc", "999999", ""):
        form = client.get(f"/digest/subscribe?author={value}")
        assert form.status_code == 200
        assert re.search(r'<textarea name="authors"[^>]*>\s*</textarea>', form.content.decode())
