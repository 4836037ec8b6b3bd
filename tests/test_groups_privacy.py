"""What a reading group keeps to its members: a non-member, signed in or not, finds nothing private anywhere —
the group page, its collections (and their "more like this", feeds and BibTeX), its comments on paper pages, its
activity feed, the APIs, search, profiles and exports — and is answered 404, never 403, so that not even the
group's existence leaks. Forged forms change nothing."""

import json

import pytest
from conftest import member, signed_in
from django.test import Client
from django.utils import timezone

from paperfeed.api.services import tokens
from paperfeed.community.models import Collection, CollectionItem, Comment, Membership, WeeklyPin
from paperfeed.community.services import comments, groups
from paperfeed.community.services.collections import create_collection
from paperfeed.papers.models import DailyEntry, Paper

pytestmark = pytest.mark.django_db

MLP, GRAPHS = "2606.00001", "2606.00002"
SECRET = "Zanzibar quokka theorem"  # words of the private comment, found nowhere else
SHARED = "Marmalade reading list"  # the shared collection's name


@pytest.fixture
def private(corpus):
    """Theory club (ada owns it, bob is a member) with a shared collection, a private comment and a pin; and the
    Chess club, mallory's, with her own shared collection."""
    ada, bob, mallory = member("ada"), member("bob"), member("mallory")
    club = groups.create_group(ada, "Theory club")
    Membership.objects.create(group=club, user=bob, role="member", feed_token="bob-" + "x" * 40)
    chess = groups.create_group(mallory, "Chess club")
    mlp = Paper.objects.get(arxiv_id=MLP)
    shared = create_collection(ada, SHARED, "Only for us", public=True, group=club)
    CollectionItem.objects.create(collection=shared, paper=mlp, added_by=ada)
    CollectionItem.objects.create(collection=shared, paper=Paper.objects.get(arxiv_id=GRAPHS), added_by=ada)
    # A group's collection is never made public; were its flag set anyway (by hand, an old bug), the group rules.
    Collection.objects.filter(pk=shared.pk).update(public=True)
    comment = comments.post_comment(bob, mlp, SECRET, group=club)
    groups.pin(ada, club, MLP, "pinned note")
    return {"club": club, "chess": chess, "shared": shared, "comment": comment, "ada": ada, "bob": bob,
            "mallory": mallory}  # fmt: skip


def outsiders(private) -> dict[str, Client]:
    return {"visitor": Client(), "mallory": signed_in(private["mallory"])}


def counts() -> tuple:
    return (
        Comment.objects.count(),
        Collection.objects.count(),
        CollectionItem.objects.count(),
        Membership.objects.count(),
        WeeklyPin.objects.count(),
        sorted(Membership.objects.values_list("user__username", "role")),
    )


# --- pages ---


@pytest.mark.parametrize("who", ["visitor", "mallory"])
def test_the_group_page_and_its_shared_collection_are_404_to_non_members(private, who):
    client = outsiders(private)[who]
    shared = private["shared"]
    base = f"/users/ada/collections/{shared.slug}"
    for path in (
        "/groups/theory-club",
        "/groups/theory-club?page=2",
        base,
        f"{base}/more",
        f"{base}/feed.rss",
        f"{base}/feed.atom",
        f"{base}.bib",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert SHARED not in response.content.decode() and "Theory club" not in response.content.decode(), path
    assert signed_in(private["bob"]).get(base).status_code == 200
    assert signed_in(private["bob"]).get(f"{base}/more").status_code == 200
    assert signed_in(private["bob"]).get(f"{base}.bib").status_code == 200


def test_a_non_member_sees_no_private_comment_and_no_count_of_it(private):
    for who, client in outsiders(private).items():
        html = client.get(f"/papers/{MLP}").content.decode()
        assert SECRET not in html and "Theory club" not in html and "theory-club" not in html, who
        assert "pinned note" not in html and SHARED not in html, who  # not in "In these collections" either
        daily = client.get("/?date=2026-06-30").content.decode()
        assert SECRET not in daily
    bob_html = signed_in(private["bob"]).get(f"/papers/{MLP}").content.decode()
    assert SECRET in bob_html and "Discussion in" in bob_html
    assert "Chess club" not in bob_html  # nor a member of another group


def test_the_public_comment_counts_leave_group_comments_out(client, private):
    DailyEntry.objects.get_or_create(paper=Paper.objects.get(arxiv_id=MLP), day="2026-06-30")
    assert client.get("/api/papers/2606.00001").json()["numComments"] == 0
    assert client.get("/api/v1/papers/2606.00001").json()["comment_count"] == 0
    comments.post_comment(private["ada"], Paper.objects.get(arxiv_id=MLP), "A public one.")
    assert client.get("/api/papers/2606.00001").json()["numComments"] == 1
    daily = client.get("/api/daily_papers?date=2026-06-30").json()
    assert next(item["numComments"] for item in daily if item["paper"]["id"] == MLP) == 1


def test_the_most_discussed_digest_section_counts_public_comments_only(private):
    from datetime import date

    from paperfeed.digests.services.schedule import ListWindow
    from paperfeed.digests.services.sections.most_discussed import _comment_counts

    mlp = Paper.objects.get(arxiv_id=MLP)
    DailyEntry.objects.get_or_create(paper=mlp, day="2026-06-30")
    comments.post_comment(private["ada"], mlp, "Another private one.", group=private["club"])
    window = ListWindow(date(2026, 6, 30), date(2026, 6, 30))
    assert _comment_counts(window, timezone.now()) == {}  # two comments, both private: not "discussed"


@pytest.mark.parametrize("who", ["visitor", "mallory"])
def test_the_group_feed_is_404_without_the_right_token(private, who):
    client = outsiders(private)[who]
    bob_token = Membership.objects.get(user=private["bob"]).feed_token
    chess_token = Membership.objects.get(user=private["mallory"]).feed_token
    for path in (
        "/groups/theory-club/feed/.atom",
        "/groups/theory-club/feed/wrong.atom",
        f"/groups/theory-club/feed/{bob_token[:-1]}.atom",
        f"/groups/theory-club/feed/{chess_token}.atom",  # another group's token
        f"/groups/chess-club/feed/{bob_token}.atom",  # the right token for another group
        "/groups/theory-club/feed.atom",
        f"/groups/theory-club/feed/{bob_token}.rss",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert SHARED not in response.content.decode()
    assert client.get(f"/groups/theory-club/feed/{bob_token}.atom").status_code == 200  # the secret is the key


# --- the APIs, search, profiles, exports ---


def test_the_native_api_never_shows_a_shared_collection_to_a_non_member(private):
    shared = private["shared"]
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(private['mallory'], 'bot').secret}")
    anonymous = Client()
    for client in (mallory, anonymous):
        for path in (f"/api/v1/collections/{shared.pk}", f"/api/v1/collections/{shared.pk}/papers"):
            assert client.get(path).status_code == 404, path
    add = mallory.post(f"/api/v1/collections/{shared.pk}/papers", {"arxiv_id": "2606.00003"}, "application/json")
    remove = mallory.delete(f"/api/v1/collections/{shared.pk}/papers/{MLP}")
    delete = mallory.delete(f"/api/v1/collections/{shared.pk}")
    assert [r.status_code for r in (add, remove, delete)] == [404, 404, 404]
    assert shared.items.count() == 2 and Collection.objects.filter(pk=shared.pk).exists()
    listed = json.dumps(mallory.get("/api/v1/collections").json())
    assert SHARED not in listed
    bob = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(private['bob'], 'bot').secret}")
    assert bob.get(f"/api/v1/collections/{shared.pk}").json()["name"] == SHARED
    bob_add = bob.post(f"/api/v1/collections/{shared.pk}/papers", {"arxiv_id": "2606.00003"}, "application/json")
    assert bob_add.status_code == 403 and shared.items.count() == 2  # a member reads; only editors add


def test_search_finds_nothing_private(private):
    for client in (Client(), signed_in(private["mallory"])):
        for query in ("Zanzibar quokka", "Marmalade"):
            html = client.get("/search", {"q": query}).content.decode()
            assert SECRET not in html and SHARED not in html


def test_the_makers_profile_never_lists_a_shared_collection(private):
    for client in (Client(), signed_in(private["mallory"]), signed_in(private["ada"])):
        assert SHARED not in client.get("/users/ada").content.decode()


def test_exports_hold_nothing_of_groups_one_is_not_in(private):
    for user in (private["mallory"], private["ada"]):
        raw = signed_in(user).get("/accounts/export.json").content.decode()
        assert SECRET not in raw and SHARED not in raw  # ada is in the group, yet bob's words are bob's
    mallory = json.loads(signed_in(private["mallory"]).get("/accounts/export.json").content)
    assert [g["slug"] for g in mallory["groups"]] == ["chess-club"]


# --- forged forms ---


def test_forged_forms_from_non_members_are_404_and_change_nothing(private):
    club, shared, comment = private["club"], private["shared"], private["comment"]
    ada_id = private["ada"].pk
    before = counts()
    for who, client in outsiders(private).items():
        for path, data in (
            ("/groups/theory-club/invitations", {"role": "owner"}),
            ("/groups/theory-club/pin", {"paper": GRAPHS}),
            ("/groups/theory-club/collections", {"name": "Mine"}),
            (f"/groups/theory-club/members/{ada_id}/role", {"role": "member"}),
            (f"/groups/theory-club/members/{ada_id}/remove", {}),
            ("/groups/theory-club/leave", {}),
            (f"/collections/{shared.pk}/papers", {"paper": GRAPHS, "action": "remove"}),
            (f"/collections/{shared.pk}/edit", {"name": "Taken"}),
            (f"/collections/{shared.pk}/delete", {}),
            (f"/comments/{comment.pk}/edit", {"body": "defaced"}),
            (f"/comments/{comment.pk}/delete", {}),
        ):
            response = client.post(path, data)
            if who == "visitor" and response.status_code == 302:
                continue  # asked to sign in first: nothing was done
            assert response.status_code == 404, (who, path, response.status_code)
    assert counts() == before
    assert Comment.objects.get(pk=comment.pk).body == SECRET and Collection.objects.get(pk=shared.pk).name == SHARED
    assert groups.weekly_reading(club, timezone.localdate()).note == "pinned note"


def test_posting_to_another_groups_discussion_is_404(private):
    before = counts()
    mallory_into_club = signed_in(private["mallory"]).post(
        f"/papers/{MLP}/comments", {"body": "intrusion", "group": "theory-club"}
    )
    bob_into_chess = signed_in(private["bob"]).post(
        f"/papers/{MLP}/comments", {"body": "intrusion", "group": "chess-club"}
    )
    nowhere = signed_in(private["bob"]).post(f"/papers/{MLP}/comments", {"body": "intrusion", "group": "no-such"})
    reply = signed_in(private["mallory"]).post(
        f"/papers/{MLP}/comments", {"body": "intrusion", "parent": str(private["comment"].pk)}
    )
    assert [r.status_code for r in (mallory_into_club, bob_into_chess, nowhere)] == [404, 404, 404]
    assert reply.status_code == 400  # a reply to a comment she cannot see is refused as gone
    assert SECRET not in reply.content.decode()
    assert counts() == before and not Comment.objects.filter(body="intrusion").exists()


def test_an_editor_action_by_a_member_is_refused_and_changes_nothing(private):
    bob, shared = signed_in(private["bob"]), private["shared"]
    before = counts()
    for path, data in (
        ("/groups/theory-club/pin", {"paper": GRAPHS}),
        ("/groups/theory-club/collections", {"name": "Mine"}),
        ("/groups/theory-club/invitations", {"role": "owner"}),
        (f"/groups/theory-club/members/{bob.session['_auth_user_id']}/role", {"role": "owner"}),
        (f"/collections/{shared.pk}/papers", {"paper": MLP, "action": "remove"}),
        (f"/collections/{shared.pk}/delete", {}),
    ):
        assert bob.post(path, data).status_code == 403, path
    assert counts() == before


def test_a_former_member_loses_everything_private(private):
    ada, bob, shared = private["ada"], private["bob"], private["shared"]
    groups.set_role(ada, private["club"], bob.pk, "owner")
    groups.remove_member(ada, private["club"], ada.pk)  # the maker of the shared collection leaves
    client = signed_in(ada)
    assert client.get("/groups/theory-club").status_code == 404
    assert client.get(f"/users/ada/collections/{shared.slug}").status_code == 404
    assert SECRET not in client.get(f"/papers/{MLP}").content.decode()
    assert SHARED not in client.get(f"/papers/{GRAPHS}").content.decode()  # nor in the "Save to" menu
    assert client.post(f"/collections/{shared.pk}/papers", {"paper": MLP, "action": "remove"}).status_code == 404
    assert shared.items.count() == 2
