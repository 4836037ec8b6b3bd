"""Interests belong to people (community.Interests): a member's are theirs whether or not they take the email
digest, their digest brings them, and nobody else changes them."""

from __future__ import annotations

import pytest
from conftest import digest_subscription, member, signed_in

from paperfeed.community.models import Interests
from paperfeed.digests.models import Subscription
from paperfeed.digests.services import subscriptions as subs
from paperfeed.digests.services.preferences import Preferences
from paperfeed.papers.models import Author


@pytest.fixture
def authors(corpus):
    return list(Author.objects.order_by("name")[:2])


def test_a_member_who_takes_over_the_digest_of_their_address_keeps_what_both_followed(authors):
    anonymous = digest_subscription("ada@example.org", status="active", categories=["hep-th"], authors=[authors[0]])
    ada = member("ada")
    own = Interests.objects.create(user=ada, categories=["cs.CL"], include_keywords=["attention"])
    own.authors.set([authors[1]])

    page = signed_in(ada).get("/digest/settings").content.decode()
    assert "hep-th" in page and "cs.CL" in page  # the form shows both before anything is saved
    assert Interests.objects.count() == 2

    subs.start_for_account(subs.account_subscription(ada))
    subscription = Subscription.objects.get()
    assert subscription.pk == anonymous.pk and subscription.user == ada
    assert subscription.interests == own  # the member's own interests, which For you reads too
    own.refresh_from_db()
    assert own.categories == ["cs.CL", "hep-th"] and own.include_keywords == ["attention"]
    assert set(own.authors.all()) == set(authors)
    assert Interests.objects.count() == 1  # the anonymous ones were merged, not left behind


def test_a_stranger_asking_for_a_members_address_does_not_change_their_interests(corpus, mailoutbox):
    ada = member("ada")
    digest_subscription("ada@example.org", user=ada, status="unsubscribed", categories=["cs.CL"])
    outcome = subs.subscribe("ada@example.org", "192.0.2.7", None, Preferences(categories=["hep-th"]))
    assert outcome is subs.Outcome.CHECK_INBOX
    assert Interests.objects.get(user=ada).categories == ["cs.CL"]
    assert len(mailoutbox) == 1  # a confirmation link to the address; only its owner can start the digest again


def test_an_anonymous_subscriber_gets_interests_of_their_own(corpus):
    first = digest_subscription("reader@example.org", categories=["cs.LG"])
    second = digest_subscription("other@example.org")
    assert first.interests.user is None and first.interests != second.interests
    assert second.interests.categories == []


def test_following_from_an_author_page_is_what_for_you_and_the_digest_read(authors):
    ada = member("ada")
    digest_subscription("ada@example.org", user=ada, status="active")
    client = signed_in(ada)
    client.post("/digest/follow", {"kind": "author", "id": authors[0].pk, "action": "follow"})
    assert list(Interests.objects.get(user=ada).authors.all()) == [authors[0]]
    assert Subscription.objects.get().interests.user == ada


def test_deleting_a_subscription_takes_an_anonymous_subscribers_interests_but_not_a_members(corpus):
    ada = member("ada")
    digest_subscription("ada@example.org", user=ada, categories=["cs.CL"])
    digest_subscription("reader@example.org", categories=["hep-th"])
    Subscription.objects.all().delete()  # as the admin's bulk delete does
    assert list(Interests.objects.values_list("user__username", "categories")) == [("ada", ["cs.CL"])]
