"""@mentions: linked to the member's profile in rendered comments (unknown names stay plain text, the sanitizer keeps
only profile links among relative ones), and the comment form's autocomplete endpoint /users/mentions."""

import re

import pytest
from conftest import member, signed_in
from django.test import Client

from paperfeed.community.services import mentions
from paperfeed.community.services.throttle import Limit
from paperfeed.core.markdown import mentioned_usernames, render_markdown, sanitize_html

KNOWN = {"ada": "Ada", "grace.h": "grace.h", "bob.": "bob."}


def lookup(names):
    return {name: KNOWN[name] for name in names if name in KNOWN}


def links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]+)" class="mention" rel="nofollow noopener ugc">([^<]+)</a>', html)


def test_known_names_link_to_profiles_whatever_the_case_and_unknown_names_stay_text():
    html = render_markdown("Hi @ADA and @grace.h, not @nobody.", mentions=lookup)
    assert links(html) == [("/users/Ada", "@ADA"), ("/users/grace.h", "@grace.h")]
    assert "not @nobody." in html


def test_a_dot_ending_a_sentence_is_kept_out_unless_it_is_part_of_a_name():
    html = render_markdown("Thanks @ada. And @bob. too", mentions=lookup)
    assert links(html) == [("/users/Ada", "@ada"), ("/users/bob.", "@bob.")]
    assert "</a>. And" in html


def test_no_mention_in_code_links_addresses_or_words():
    text = "`@ada` [@ada](https://example.org) ada@example.org x@ada <https://e.org/@ada>\n\n```\n@ada\n```"
    assert links(render_markdown(text, mentions=lookup)) == []
    assert mentioned_usernames(text, lookup) == []


def test_mentioned_usernames_are_those_linked_each_once_in_order():
    assert mentioned_usernames("@grace.h @ada @ADA **@grace.h** @nobody", lookup) == ["grace.h", "Ada"]


def test_without_a_lookup_nothing_is_linked_and_the_lookup_is_asked_once():
    asked = []

    def counting(names):
        asked.append(sorted(names))
        return lookup(names)

    assert "<a" not in render_markdown("@ada")
    render_markdown("@ada @grace.h @ada.", mentions=counting)
    assert asked == [["ada", "ada.", "grace.h"]]
    render_markdown("no names here", mentions=counting)
    assert len(asked) == 1


@pytest.mark.parametrize(
    "text",
    ['@ada"><script>alert(1)</script>', "@ada<img src=x onerror=alert(1)>", "@ada' onclick='x", "@ada\u202e"],
)
def test_a_mention_beside_hostile_text_stays_inert(text):
    html = render_markdown(text, mentions=lookup)
    assert links(html) == [("/users/Ada", "@ada")]
    assert "<script" not in html and "<img" not in html and not re.search(r"<[^>]*\sonclick", html)


def test_the_sanitizer_keeps_profile_links_and_no_other_relative_link():
    html = sanitize_html(
        '<a href="/users/ada" class="mention evil">a</a><a href="/relative">r</a>'
        '<a href="//evil.example/users/ada">e</a><a href="/users/ada/../../admin">t</a><a href="/users/../admin">u</a>'
        '<a href="https://example.org/x">w</a>'
    )
    assert '<a href="/users/ada" class="mention" rel="nofollow noopener ugc">a</a>' in html
    assert "/relative" not in html and "evil.example" not in html and "admin" not in html
    assert '<a href="https://example.org/x" rel="nofollow noopener ugc">w</a>' in html


# --- the autocomplete endpoint ---


@pytest.mark.django_db
def test_only_members_may_look_up_names(client):
    member("ada")
    response = client.get("/users/mentions", {"q": "a"})
    assert response.status_code == 403 and response.json() == {"error": "Sign in to look up members."}


@pytest.mark.django_db
def test_names_are_matched_by_prefix_in_any_case_shortest_first_eight_at_most():
    for name in ["adam", "ada", "Adaline", "bob", "adalbert", "adb", "ad-x", "ad_y", "ad.z", "adrian", "adele"]:
        member(name)
    member("adagio").profile.__class__.objects.filter(user__username="adagio").update(display_name="Ada Gio")
    client = signed_in(member("zed"))
    found = client.get("/users/mentions", {"q": "AD"}).json()["members"]
    assert len(found) == 8
    names = [m["username"] for m in found]
    assert names[:2] == ["ada", "adb"] and [len(n) for n in names] == sorted(len(n) for n in names)
    assert "adalbert" not in names and "Adaline" not in names  # the longest wait their turn
    assert client.get("/users/mentions", {"q": "adag"}).json() == {
        "members": [{"username": "adagio", "name": "Ada Gio"}]
    }
    for nothing in ["", "@", "a b", "%", "_", "x" * 40, "zzz"]:
        assert client.get("/users/mentions", {"q": nothing}).json() == {"members": []}, nothing


@pytest.mark.django_db
def test_inactive_members_are_not_suggested_nor_linked():
    from django.contrib.auth.models import User

    member("ada")
    User.objects.filter(username="ada").update(is_active=False)
    assert signed_in(member("bob")).get("/users/mentions", {"q": "ad"}).json() == {"members": []}
    assert mentions.usernames_named({"ada"}) == {}


@pytest.mark.django_db
def test_look_ups_are_throttled(monkeypatch):
    monkeypatch.setattr(mentions, "LOOKUPS_PER_USER", Limit("mention-lookup-user", 3, mentions.LOOKUPS_PER_USER.window))
    client = signed_in(member("ada"))
    assert [client.get("/users/mentions", {"q": "a"}).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = client.get("/users/mentions", {"q": "a"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many look-ups" in refused.json()["error"]
    assert signed_in(member("bob")).get("/users/mentions", {"q": "a"}).status_code == 200, "per member"


@pytest.mark.django_db
def test_the_comment_form_gets_the_autocomplete_script_for_members_only(corpus):
    script = '<script defer src="/static/notifications/mentions.js" data-source="/users/mentions"></script>'
    assert script in signed_in(member("ada")).get("/papers/2606.00002").content.decode()
    assert script not in Client().get("/papers/2606.00002").content.decode()


@pytest.mark.django_db
def test_a_posted_comment_shows_its_mentions_as_profile_links(corpus):
    member("ada")
    client = signed_in(member("bob"))
    client.post("/papers/2606.00002/comments", {"body": "Ask @Ada, not @adah."})
    html = client.get("/papers/2606.00002").content.decode()
    assert '<a href="/users/ada" class="mention" rel="nofollow noopener ugc">@Ada</a>, not @adah.' in html
    assert client.get("/users/ada").status_code == 200
