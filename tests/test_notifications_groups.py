"""Notifications and reading groups' private discussions (issue 17, items 1 and 2): a comment in a group's
discussion tells only the group's members — of a mention, a reply, or a comment on their paper — and a member who
left no longer sees what it said, on the page or in an email."""

import pytest
from conftest import member, signed_in
from test_notifications import PAPER, submitted, told

from paperfeed.community.models import Comment, Membership
from paperfeed.community.services import groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def club(corpus):
    ada, bob, mallory = member("ada"), member("bob"), member("mallory")
    group = groups.create_group(ada, "Theory club")
    Membership.objects.create(group=group, user=bob, role="member")
    return group, ada, bob, mallory


def post_in(client, group, body: str, parent: Comment | None = None):
    data = {"body": body, "group": group.slug} | ({"parent": str(parent.pk)} if parent is not None else {})
    response = client.post(f"/papers/{PAPER}/comments", data)
    assert response.status_code == 303, response.content.decode()[:500]
    return Comment.objects.latest("id")


def test_a_mention_in_a_groups_discussion_tells_members_only(club):
    group, ada, bob, mallory = club
    post_in(signed_in(ada), group, "@bob and @mallory: read section 3 before Friday")
    assert told() == [("bob", "mention")]  # mallory is not in the group: her name stays plain text for her
    assert "read section 3" in signed_in(bob).get("/notifications").content.decode()
    page = signed_in(mallory).get("/notifications").content.decode()
    assert "read section 3" not in page and "Theory club" not in page


def test_replies_and_comments_on_my_paper_in_a_group_reach_only_members(club):
    group, ada, bob, mallory = club
    submitted(mallory, PAPER)  # mallory submitted the paper: a public comment would tell her
    first = post_in(signed_in(bob), group, "A private first thought")
    post_in(signed_in(ada), group, "A private reply", parent=first)
    assert ("bob", "reply") in told() and not told(mallory)


def test_a_member_who_left_no_longer_sees_what_the_notification_said(club):
    group, ada, bob, _ = club
    post_in(signed_in(ada), group, "@bob the secret plan for Friday")
    assert "the secret plan" in signed_in(bob).get("/notifications").content.decode()
    Membership.objects.filter(group=group, user=bob).delete()
    assert "the secret plan" not in signed_in(bob).get("/notifications").content.decode()
