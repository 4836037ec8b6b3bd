"""Reading groups: making one, invitations by link and email, roles, leaving, the week's pin, shared collections,
the private discussion under papers, the activity on the group page and its feed, and the export.

What a non-member may not see is swept in test_groups_privacy.py."""

import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from conftest import member, signed_in
from django.utils import timezone

from paperfeed.community.models import (
    Collection,
    CollectionItem,
    Comment,
    Group,
    Invitation,
    Membership,
    Profile,
    WeeklyPin,
)
from paperfeed.community.services import groups
from paperfeed.community.services.collections import create_collection, set_paper
from paperfeed.papers.models import Paper, Vote

pytestmark = pytest.mark.django_db

MLP, GRAPHS, SORTING = "2606.00001", "2606.00002", "2606.00003"


def make_group(owner, name="Theory club", editors=(), members=()):
    group = groups.create_group(owner, name)
    for user in editors:
        Membership.objects.create(group=group, user=user, role="editor", feed_token=f"feed-{user.username}")
    for user in members:
        Membership.objects.create(group=group, user=user, role="member", feed_token=f"feed-{user.username}")
    return group


def invitation_link(html: str) -> str:
    """The path of the invitation link shown once on the page after making one."""
    found = re.search(r'value="https?://[^/"]+(/groups/join/[^"]+)"', html)
    assert found, html[:2000]
    return unescape(found.group(1))


def role_of(group, user) -> str | None:
    found = Membership.objects.filter(group=group, user=user).first()
    return found.role if found else None


@pytest.fixture
def club(corpus):
    """Theory club: ada owns it, eve edits, bob is a member; mallory is in no group."""
    ada, eve, bob, mallory = member("ada"), member("eve"), member("bob"), member("mallory")
    group = make_group(ada, editors=[eve], members=[bob])
    return group, ada, eve, bob, mallory


# --- making a group ---


def test_your_groups_need_you_signed_in(client, corpus):
    response = client.get("/groups")
    assert response.status_code == 302 and response.url == "/accounts/signin?next=/groups"


def test_making_a_group_makes_you_its_owner(corpus):
    ada = signed_in(member("ada"))
    html = ada.get("/groups").content.decode()
    assert "You are in no group yet." in html and 'action="/groups"' in html
    response = ada.post("/groups", {"name": "  Theory   club ", "description": "Thursdays at 4"})
    assert response.status_code == 303 and response.url == "/groups/theory-club"
    group = Group.objects.get()
    assert (group.name, group.description) == ("Theory club", "Thursdays at 4")
    assert role_of(group, group.created_by) == "owner"
    page = ada.get(response.url).content.decode()
    assert "<h1>Theory club" in page and "you are owner" in page and "Thursdays at 4" in page
    assert 'href="/groups/theory-club">Theory club</a>' in ada.get("/groups").content.decode()
    assert 'href="/groups"' in page  # the header's link for members


def test_group_addresses_are_unique_and_never_the_invitations_one(corpus):
    ada, bob = member("ada"), member("bob")
    assert groups.create_group(ada, "Reading").slug == "reading"
    assert groups.create_group(bob, "Reading").slug == "reading-2"  # one namespace for the whole site
    assert groups.create_group(ada, "Join").slug == "join-2"  # /groups/join/<token> is the invitations'
    assert groups.create_group(ada, "文献").slug == "group"


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Give the group a name."), ("n" * 101, "A group name can be at most 100 characters; this one has 101.")],
)
def test_a_group_without_a_proper_name_is_refused_and_the_form_kept(corpus, name, message):
    response = signed_in(member("ada")).post("/groups", {"name": name, "description": "kept"})
    assert response.status_code == 400
    assert message in unescape(response.content.decode()) and ">kept</textarea>" in response.content.decode()
    assert not Group.objects.exists()


def test_a_banned_member_cannot_make_a_group(corpus):
    response = signed_in(member("ada", banned=True)).post("/groups", {"name": "Club"})
    assert response.status_code == 403 and not Group.objects.exists()


# --- invitations ---


def test_an_invitation_link_lets_one_person_join_once(club):
    group, ada, _, _, mallory = club
    owner = signed_in(ada)
    response = owner.post(f"/groups/{group.slug}/invitations", {"role": "member"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    link = invitation_link(response.content.decode())
    invitation = Invitation.objects.get()
    token = link.rsplit("/", 1)[1]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64  # only a hash is kept
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)

    newcomer = signed_in(mallory)
    page = newcomer.get(link)
    assert page.status_code == 200 and "Join Theory club?" in page.content.decode()
    assert role_of(group, mallory) is None  # opening the link changes nothing: joining is a POST
    joined = newcomer.post(link)
    assert joined.status_code == 303 and joined.url == f"/groups/{group.slug}"
    assert role_of(group, mallory) == "member"
    invitation.refresh_from_db()
    assert invitation.used_by == mallory and invitation.used_at is not None

    carol = signed_in(member("carol"))
    for answer in (carol.get(link), carol.post(link)):
        assert answer.status_code == 410
        assert "This invitation was already used. Ask the group's owner for a new one." in unescape(
            answer.content.decode()
        )
    assert not Membership.objects.filter(user__username="carol").exists()


def test_an_invitation_by_email_sends_the_link(club, mailoutbox, settings):
    group, ada, *_ = club
    settings.PAPERFEED_SITE_URL = "https://papers.example.org"
    response = signed_in(ada).post(f"/groups/{group.slug}/invitations", {"role": "editor", "email": "zoe@example.org"})
    assert response.status_code == 200 and "We are emailing this link to <strong>zoe@example.org" in (
        response.content.decode()
    )
    (mail,) = mailoutbox
    assert mail.to == ["zoe@example.org"] and mail.subject == "ada invites you to Theory club on paperfeed"
    link = re.search(r"https://papers\.example\.org(/groups/join/\S+)", mail.body).group(1)
    assert link == invitation_link(response.content.decode())
    zoe = member("zoe")
    assert signed_in(zoe).post(link).status_code == 303 and role_of(group, zoe) == "editor"


def test_an_invitation_by_email_is_for_the_confirmed_account_of_that_address(club, mailoutbox):
    group, ada, _, bob, mallory = club
    signed_in(ada).post(f"/groups/{group.slug}/invitations", {"role": "member", "email": "Zoe@Example.org"})
    link = re.search(r"https?://[^/\s]+(/groups/join/\S+)", mailoutbox[0].body).group(1)
    forwarded = signed_in(mallory).post(link)  # someone the email was forwarded to
    assert forwarded.status_code == 403 and role_of(group, mallory) is None
    assert "This invitation was sent to Z***@Example.org" in unescape(forwarded.content.decode())
    unconfirmed = member("zoe", verified=False)
    assert signed_in(unconfirmed).post(link).status_code == 403 and role_of(group, unconfirmed) is None
    assert Invitation.objects.get().used_at is None  # still good for the right person
    Profile.objects.filter(user=unconfirmed).update(email_verified=True)
    assert signed_in(unconfirmed).post(link).status_code == 303 and role_of(group, unconfirmed) == "member"


def test_an_invitation_to_a_bad_address_or_role_is_refused(club, mailoutbox):
    group, ada, *_ = club
    owner = signed_in(ada)
    bad_email = owner.post(f"/groups/{group.slug}/invitations", {"role": "member", "email": "not an address"})
    assert bad_email.status_code == 400 and "is not an email address" in unescape(bad_email.content.decode())
    bad_role = owner.post(f"/groups/{group.slug}/invitations", {"role": "king"})
    assert bad_role.status_code == 400 and "is not a role" in unescape(bad_role.content.decode())
    assert not Invitation.objects.exists() and mailoutbox == []


def test_an_expired_invitation_cannot_be_used(club):
    group, ada, _, _, mallory = club
    made = groups.invite(ada, group)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = signed_in(mallory).post(made.path)
    assert response.status_code == 410
    assert "This invitation has expired. Ask the group's owner for a new one." in unescape(response.content.decode())
    assert role_of(group, mallory) is None and Invitation.objects.get().used_at is None


@pytest.mark.parametrize("token", ["forged", "a" * 300, "%00abc", "%ff%fe", "Xq3v_" * 9])
def test_a_forged_invitation_is_a_clear_404(club, token):
    group, _, _, _, mallory = club
    for client in (signed_in(mallory), signed_in(mallory).__class__()):
        response = client.post(f"/groups/join/{token}")
        assert response.status_code == 404
        assert "This invitation link is not valid" in unescape(response.content.decode())
        assert "Theory club" not in response.content.decode()
    assert role_of(group, mallory) is None


def test_a_visitor_with_a_good_link_signs_in_first(client, club):
    group, ada, *_ = club
    made = groups.invite(ada, group)
    response = client.get(made.path)
    assert response.status_code == 302 and response.url.startswith("/accounts/signin?next=/groups/join/")
    assert Invitation.objects.get().used_at is None


def test_a_member_following_an_invitation_keeps_their_role_and_leaves_it_unused(club):
    group, ada, eve, *_ = club
    made = groups.invite(ada, group, role="member")
    response = signed_in(eve).post(made.path)
    assert response.status_code == 303 and role_of(group, eve) == "editor"
    assert Invitation.objects.get().used_at is None


def test_only_owners_invite_and_withdraw_invitations(club):
    group, ada, eve, bob, _ = club
    for user in (eve, bob):
        response = signed_in(user).post(f"/groups/{group.slug}/invitations", {"role": "member"})
        assert response.status_code == 403 and "Only the owners of Theory club can do that." in unescape(
            response.content.decode()
        )
    assert not Invitation.objects.exists()
    made = groups.invite(ada, group)
    assert signed_in(bob).post(f"/groups/{group.slug}/invitations/{made.invitation.pk}/revoke").status_code == 403
    assert Invitation.objects.exists()
    assert signed_in(ada).post(f"/groups/{group.slug}/invitations/{made.invitation.pk}/revoke").status_code == 303
    assert not Invitation.objects.exists()
    assert signed_in(member("zed")).post(made.path).status_code == 404  # a withdrawn link is like a forged one


# --- roles, removing, leaving ---


def test_owners_change_roles(club):
    group, ada, eve, bob, _ = club
    owner = signed_in(ada)
    assert owner.post(f"/groups/{group.slug}/members/{bob.pk}/role", {"role": "editor"}).status_code == 303
    assert role_of(group, bob) == "editor"
    assert owner.post(f"/groups/{group.slug}/members/{eve.pk}/role", {"role": "owner"}).status_code == 303
    assert role_of(group, eve) == "owner"
    bad = owner.post(f"/groups/{group.slug}/members/{bob.pk}/role", {"role": "emperor"})
    assert bad.status_code == 400 and role_of(group, bob) == "editor"


def test_editors_and_members_cannot_change_roles_or_remove_anyone(club):
    group, ada, eve, bob, _ = club
    for actor in (eve, bob):
        client = signed_in(actor)
        assert client.post(f"/groups/{group.slug}/members/{actor.pk}/role", {"role": "owner"}).status_code == 403
        assert client.post(f"/groups/{group.slug}/members/{ada.pk}/role", {"role": "member"}).status_code == 403
        assert client.post(f"/groups/{group.slug}/members/{ada.pk}/remove").status_code == 403
    assert (role_of(group, ada), role_of(group, eve), role_of(group, bob)) == ("owner", "editor", "member")


def test_the_last_owner_cannot_be_demoted_or_leave(club):
    group, ada, eve, *_ = club
    owner = signed_in(ada)
    message = "Theory club needs at least one owner: make another member an owner first."
    demoted = owner.post(f"/groups/{group.slug}/members/{ada.pk}/role", {"role": "member"})
    left = owner.post(f"/groups/{group.slug}/leave")
    removed = owner.post(f"/groups/{group.slug}/members/{ada.pk}/remove")
    for response in (demoted, left, removed):
        assert response.status_code == 409 and message in unescape(response.content.decode())
    assert role_of(group, ada) == "owner"
    groups.set_role(ada, group, eve.pk, "owner")
    assert owner.post(f"/groups/{group.slug}/leave").status_code == 303
    assert role_of(group, ada) is None and role_of(group, eve) == "owner"


def test_an_owner_removes_a_member_who_then_sees_nothing(club):
    group, ada, _, bob, _ = club
    token = Membership.objects.get(user=bob).feed_token
    feed = f"/groups/{group.slug}/feed/{token}.atom"
    assert signed_in(bob).get(feed).status_code == 200
    assert signed_in(ada).post(f"/groups/{group.slug}/members/{bob.pk}/remove").status_code == 303
    assert role_of(group, bob) is None
    assert signed_in(bob).get(f"/groups/{group.slug}").status_code == 404
    assert signed_in(bob).get(feed).status_code == 404  # the feed token went with the membership


def test_a_member_leaves(club):
    group, _, _, bob, _ = club
    response = signed_in(bob).post(f"/groups/{group.slug}/leave")
    assert response.status_code == 303 and response.url == "/groups" and role_of(group, bob) is None


def test_the_group_page_lists_members_by_role(club):
    group, *_ = club
    html = signed_in(club[3]).get(f"/groups/{group.slug}").content.decode()
    names = re.findall(r'<a href="/users/([^"]+)">@', html)
    assert names == ["ada", "eve", "bob"]
    assert "Change role" not in html and "Invite people" not in html  # a member's page has no owner's forms
    owner_html = signed_in(club[1]).get(f"/groups/{group.slug}").content.decode()
    assert "Change role" in owner_html and "Invite people" in owner_html


# --- this week's reading ---


def test_an_editor_pins_this_weeks_reading(club):
    group, _, eve, bob, _ = club
    response = signed_in(eve).post(f"/groups/{group.slug}/pin", {"paper": MLP, "note": "Sections 2–3"})
    assert response.status_code == 303 and response.url == f"/groups/{group.slug}#this-week"
    pin = groups.weekly_reading(group, timezone.localdate())
    assert (pin.paper.arxiv_id, pin.note, pin.pinned_by) == (MLP, "Sections 2–3", eve)
    html = signed_in(bob).get(f"/groups/{group.slug}").content.decode()
    assert "Sections 2–3" in html and f'href="/papers/{MLP}"' in html and "pinned by @eve" in html


def test_one_pin_per_week_and_the_earlier_weeks_kept(club):
    group, ada, *_ = club
    monday = date(2026, 6, 29)
    groups.pin(ada, group, MLP, on_date=monday)
    groups.pin(ada, group, GRAPHS, "instead", on_date=monday + timedelta(days=6))  # Sunday: the same ISO week
    assert WeeklyPin.objects.count() == 1 and groups.weekly_reading(group, monday).paper.arxiv_id == GRAPHS
    groups.pin(ada, group, SORTING, on_date=monday + timedelta(days=7))
    assert groups.weekly_reading(group, monday + timedelta(days=8)).paper.arxiv_id == SORTING
    assert groups.weekly_reading(group, monday - timedelta(days=1)) is None
    assert [p.paper.arxiv_id for p in groups.past_pins(group, monday + timedelta(days=7))] == [GRAPHS]


def test_a_member_cannot_pin(club):
    group, ada, _, bob, _ = club
    groups.pin(ada, group, MLP)
    response = signed_in(bob).post(f"/groups/{group.slug}/pin", {"paper": GRAPHS})
    assert response.status_code == 403
    assert "Only the editors and owners of Theory club can pin" in unescape(response.content.decode())
    assert groups.weekly_reading(group, timezone.localdate()).paper.arxiv_id == MLP


@pytest.mark.parametrize(("paper", "message"), [("9999.99999", "is not on this site"), ("", "Name the paper")])
def test_pinning_a_paper_that_is_not_here_says_so(club, paper, message):
    group, ada, *_ = club
    response = signed_in(ada).post(f"/groups/{group.slug}/pin", {"paper": paper})
    assert response.status_code == 400 and message in unescape(response.content.decode())
    assert not WeeklyPin.objects.exists()


def test_a_long_note_is_refused(club):
    group, ada, *_ = club
    response = signed_in(ada).post(f"/groups/{group.slug}/pin", {"paper": MLP, "note": "n" * 501})
    assert response.status_code == 400 and not WeeklyPin.objects.exists()


# --- shared collections ---


def test_an_editor_makes_a_shared_collection_every_editor_adds_to(club):
    group, ada, eve, bob, _ = club
    response = signed_in(eve).post(f"/groups/{group.slug}/collections", {"name": "Spring term", "public": "on"})
    shared = Collection.objects.get()
    assert response.status_code == 303 and response.url == "/users/eve/collections/spring-term"
    assert (shared.group, shared.owner, shared.public) == (group, eve, False)  # never public
    for user, paper in ((eve, MLP), (ada, GRAPHS)):
        client = signed_in(user)
        panel = client.get(f"/papers/{paper}").content.decode()
        assert f'action="/collections/{shared.pk}/papers"' in panel and "Add to Spring term (Theory club)" in panel
        added = client.post(f"/collections/{shared.pk}/papers", {"paper": paper, "action": "add"})
        assert added.status_code == 303
    items = CollectionItem.objects.order_by("paper__arxiv_id")
    assert [(i.paper.arxiv_id, i.added_by.username) for i in items] == [(MLP, "eve"), (GRAPHS, "ada")]
    page = signed_in(bob).get(shared_url := "/users/eve/collections/spring-term").content.decode()
    assert "Shared with Theory club" in page and "Remove from this collection" not in page
    assert "Edit or delete" not in page
    assert "Remove from this collection" in signed_in(ada).get(shared_url).content.decode()
    assert 'href="/users/eve/collections/spring-term">Spring term</a>' in (
        signed_in(bob).get(f"/groups/{group.slug}").content.decode()
    )
    assert "Spring term" in signed_in(bob).get("/collections").content.decode()  # "Your groups' collections"


def test_a_member_can_neither_make_nor_change_a_shared_collection(club):
    group, _, eve, bob, _ = club
    shared = create_collection(eve, "Spring term", group=group)
    CollectionItem.objects.create(collection=shared, paper=Paper.objects.get(arxiv_id=MLP), added_by=eve)
    client = signed_in(bob)
    assert "Add to Spring term" not in client.get(f"/papers/{GRAPHS}").content.decode()
    add = client.post(f"/collections/{shared.pk}/papers", {"paper": GRAPHS, "action": "add"})
    remove = client.post(f"/collections/{shared.pk}/papers", {"paper": MLP, "action": "remove"})
    made = client.post(f"/groups/{group.slug}/collections", {"name": "Mine"})
    rename = client.post(f"/collections/{shared.pk}/edit", {"name": "Renamed"})
    delete = client.post(f"/collections/{shared.pk}/delete")
    assert [r.status_code for r in (add, remove, made, rename, delete)] == [403] * 5
    assert "Only the group's editors and owners can change its collections." in unescape(add.content.decode())
    assert list(shared.items.values_list("paper__arxiv_id", flat=True)) == [MLP]
    assert list(Collection.objects.values_list("name", flat=True)) == ["Spring term"]


def test_owners_and_the_editor_who_made_it_rename_a_shared_collection(club):
    group, ada, eve, _, _ = club
    shared = create_collection(eve, "Spring term", group=group)
    other_editor = member("otto")
    Membership.objects.create(group=group, user=other_editor, role="editor", feed_token="otto")
    assert signed_in(other_editor).post(f"/collections/{shared.pk}/edit", {"name": "X"}).status_code == 403
    assert signed_in(eve).post(f"/collections/{shared.pk}/edit", {"name": "Term", "public": "on"}).status_code == 303
    shared.refresh_from_db()
    assert (shared.name, shared.public) == ("Term", False)
    assert signed_in(ada).post(f"/collections/{shared.pk}/delete").status_code == 303
    assert not Collection.objects.exists()


# --- the private discussion ---


def test_members_discuss_a_paper_in_private_beside_the_public_discussion(club):
    group, ada, _, bob, _ = club
    public = signed_in(ada).post(f"/papers/{MLP}/comments", {"body": "Public remark."})
    assert public.status_code == 303
    response = signed_in(bob).post(f"/papers/{MLP}/comments", {"body": "Only for the club.", "group": group.slug})
    private = Comment.objects.get(group=group)
    assert response.status_code == 303 and response.url == f"/papers/{MLP}#comment-{private.pk}"
    html = signed_in(ada).get(f"/papers/{MLP}").content.decode()
    public_part, group_part = html.split('id="group-theory-club"')
    assert "Public remark." in public_part and "Only for the club." not in public_part
    assert "Only for the club." in group_part and "Discussion in <a" in group_part
    assert "· 1 comment</span>" in public_part  # the public count leaves the group's comment out
    assert 'name="group" value="theory-club"' in group_part
    reply = signed_in(ada).post(
        f"/papers/{MLP}/comments", {"body": "Agreed.", "group": group.slug, "parent": str(private.pk)}
    )
    assert reply.status_code == 303 and Comment.objects.get(body="Agreed.").group == group


def test_a_reply_never_crosses_between_the_public_and_a_private_discussion(club):
    group, ada, _, bob, _ = club
    signed_in(ada).post(f"/papers/{MLP}/comments", {"body": "Public."})
    signed_in(bob).post(f"/papers/{MLP}/comments", {"body": "Private.", "group": group.slug})
    public, private = Comment.objects.get(body="Public."), Comment.objects.get(body="Private.")
    into_public = signed_in(bob).post(
        f"/papers/{MLP}/comments", {"body": "leak", "group": group.slug, "parent": str(public.pk)}
    )
    out_of_private = signed_in(bob).post(f"/papers/{MLP}/comments", {"body": "leak", "parent": str(private.pk)})
    for response in (into_public, out_of_private):
        assert response.status_code == 400 and "no longer part of this discussion" in unescape(
            response.content.decode()
        )
    assert not Comment.objects.filter(body="leak").exists()


def test_the_visibility_of_a_comment_is_one_function(club):
    from django.contrib.auth.models import AnonymousUser

    from paperfeed.community.services import comments

    group, ada, _, bob, mallory = club
    paper = Paper.objects.get(arxiv_id=MLP)
    private = comments.post_comment(bob, paper, "Private.", group=group)
    public = comments.post_comment(ada, paper, "Public.")
    for viewer, sees in ((ada, True), (bob, True), (mallory, False), (AnonymousUser(), False)):
        assert comments.visible_to(viewer, private) is sees
        assert comments.visible_to(viewer, public) is True
        assert set(comments.visible_comments(viewer)) == ({private, public} if sees else {public})
    assert list(comments.public_comments()) == [public]
    Comment.objects.filter(pk=public.pk).update(hidden=True)
    public.refresh_from_db()
    assert comments.visible_to(ada, public) is False


# --- activity and its feed ---


def test_the_group_page_shows_the_members_recent_votes_and_additions(club):
    group, ada, eve, bob, mallory = club
    shared = create_collection(eve, "Spring term", group=group)
    now = timezone.now()
    Vote.objects.create(user=bob, paper=Paper.objects.get(arxiv_id=MLP), created_at=now - timedelta(hours=3))
    Vote.objects.create(user=mallory, paper=Paper.objects.get(arxiv_id=SORTING), created_at=now)  # not a member
    CollectionItem.objects.create(
        collection=shared, paper=Paper.objects.get(arxiv_id=GRAPHS), added_by=eve, added_at=now - timedelta(hours=1)
    )
    html = signed_in(ada).get(f"/groups/{group.slug}").content.decode()
    activity = re.search(r'<ol class="group-activity">(.*?)</ol>', html, re.S).group(1)
    lines = [" ".join(unescape(re.sub(r"<.*?>", "", line)).split()) for line in activity.split("</li>")[:-1]]
    assert lines[0].startswith("@eve added Graph Transformers at Scale to Spring term")
    assert lines[1].startswith("@bob upvoted MLP-Mixer Revisited")
    assert len(lines) == 2


def test_the_activity_is_paginated_newest_first(club):
    group, _, _, bob, _ = club
    now = timezone.now()
    papers = list(Paper.objects.order_by("?")[:7])
    for n, paper in enumerate(papers):
        Vote.objects.create(user=bob, paper=paper, created_at=now - timedelta(minutes=n))
    first = groups.activity(group, 1, per_page=3)
    assert first.paginator.count == 7 and first.paginator.num_pages == 3
    assert [e.paper for e in first.object_list] == papers[:3]
    assert [e.paper for e in groups.activity(group, 3, per_page=3).object_list] == papers[6:]
    assert [e.paper for e in groups.activity(group, 99, per_page=3).object_list] == papers[6:]  # past the end
    html = signed_in(bob).get(f"/groups/{group.slug}?page=1").content.decode()
    assert html.count("@bob upvoted") == 7 and 'class="pagination"' not in html  # one page of the default size


def test_the_activity_feed_is_atom_for_the_token_holder(club):
    group, ada, eve, bob, _ = club
    Vote.objects.create(user=bob, paper=Paper.objects.get(arxiv_id=MLP))
    token = Membership.objects.get(user=ada).feed_token
    assert len(token) >= 32
    page = signed_in(ada).get(f"/groups/{group.slug}").content.decode()
    assert f"/groups/{group.slug}/feed/{token}.atom" in page
    response = signed_in(eve).__class__().get(f"/groups/{group.slug}/feed/{token}.atom")  # a feed reader: no session
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    assert "private" in response["Cache-Control"]
    body = response.content.decode()
    assert "<title>Theory club — the members' activity · paperfeed</title>" in body
    assert "@bob upvoted: MLP-Mixer Revisited" in body
    assert f"urn:paperfeed:group-{group.pk}-vote-" in body


# --- the export ---


def test_the_export_holds_your_memberships_and_your_own_group_comments(club):
    group, ada, _, bob, mallory = club
    other = make_group(mallory, "Secret society")
    signed_in(bob).post(f"/papers/{MLP}/comments", {"body": "Bob for the club.", "group": group.slug})
    signed_in(ada).post(f"/papers/{MLP}/comments", {"body": "Ada for the club.", "group": group.slug})
    signed_in(mallory).post(f"/papers/{MLP}/comments", {"body": "Mallory's secret.", "group": other.slug})
    data = json.loads(signed_in(bob).get("/accounts/export.json").content)
    assert data["version"] == 5
    assert [(g["slug"], g["role"]) for g in data["groups"]] == [("theory-club", "member")]
    ((comment,),) = [data["comments"]]
    assert (comment["body"], comment["group"]) == ("Bob for the club.", "theory-club")
    assert comment["private_to_group"] is True
    raw = json.dumps(data)
    assert "Ada for the club." not in raw and "Secret society" not in raw and "Mallory" not in raw
    groups.remove_member(bob, group, bob.pk)
    after = json.loads(signed_in(bob).get("/accounts/export.json").content)
    assert after["groups"] == [] and after["comments"][0]["group"] is None  # their words, not the group's name
    assert "theory-club" not in json.dumps(after)


def test_a_shared_collections_papers_are_the_signals_of_whoever_added_them(club):
    """For you: a paper an editor adds to a group's collection is the editor's signal, not the collection's
    creator's; a member's own collections stay theirs."""
    from paperfeed.recommend.services.signals import fingerprint_table, has_signals

    group, ada, eve, bob, _ = club
    shared = create_collection(ada, "Club shelf", group=group)  # ada made it
    assert not has_signals(ada) and not has_signals(eve)
    set_paper(eve, shared, MLP, add=True)  # eve added to it
    assert has_signals(eve) and not has_signals(ada)
    before = fingerprint_table([ada.pk, eve.pk, bob.pk])
    assert before[1] == {eve.pk}
    own = create_collection(ada, "Mine")
    set_paper(ada, own, GRAPHS, add=True)
    after = fingerprint_table([ada.pk, eve.pk, bob.pk])
    assert after[1] == {ada.pk, eve.pk}
    assert after[0][eve.pk] == before[0][eve.pk] and after[0][ada.pk] != before[0][ada.pk]
