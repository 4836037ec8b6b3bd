"""Moderation through the admin: hidden papers vanish from every page and search and come back when shown;
hidden comments leave pages and counts; banned users read but cannot post or vote."""

import json
import re
from html import unescape

import pytest
from conftest import SMALL, member, signed_in
from conftest import card_titles as titles
from django.contrib.auth.models import User
from django.test import Client

from paperfeed.community.models import AuthorClaim, Comment, Profile
from paperfeed.community.services.permissions import posting_problem
from paperfeed.papers.models import Author, Organization, Paper, Vote

pytestmark = pytest.mark.django_db

HIDDEN = "2606.00008"
HIDDEN_TITLE = "Cross-Lingual Retrieval with Small Language Models"


def act(staff: Client, changelist: str, action: str, objects) -> str:
    """Run an admin action on these objects, as a moderator ticking them in the list; the page it comes back to."""
    data = {"action": action, "_selected_action": [o.pk for o in objects]}
    response = staff.post(f"/admin/{changelist}/", data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def hide(staff: Client, *arxiv_ids: str) -> str:
    return act(staff, "papers/paper", "hide_papers", Paper.objects.filter(arxiv_id__in=arxiv_ids))


def show(staff: Client, *arxiv_ids: str) -> str:
    return act(staff, "papers/paper", "show_papers", Paper.objects.filter(arxiv_id__in=arxiv_ids))


def keyword(client: Client, q: str) -> list[str]:
    return titles(client.get("/search", {"q": q, "mode": "keyword"}))


def search_index_ids() -> set[int]:
    from paperfeed.papers.retrieval import keyword as keyword_index

    return keyword_index.indexed_ids()


# --- hidden papers ---


@pytest.fixture
def decorated(corpus):
    """The paper to hide has an organization, an upvote (so it trends) and authors with pages."""
    lab = Organization.objects.create(name="Example Lab", slug="example-lab")
    Paper.objects.filter(arxiv_id__in=[HIDDEN, "2606.00001"]).update(organization=lab)
    Vote.objects.create(user=member("voter"), paper=Paper.objects.get(arxiv_id=HIDDEN))
    return lab


def where_it_shows(client: Client) -> dict[str, bool]:
    author = Author.objects.get(name="José Núñez")
    return {
        "daily list": HIDDEN_TITLE in titles(client.get("/")),
        "week list": HIDDEN_TITLE in titles(client.get("/?week=2026-W27")),
        "trending": HIDDEN_TITLE in titles(client.get("/trending")),
        "keyword search": HIDDEN_TITLE in keyword(client, "cross-lingual retrieval"),
        "hybrid search without an index": HIDDEN_TITLE in titles(client.get("/search", {"q": "retrieval"})),
        "category search": HIDDEN_TITLE in titles(client.get("/search", {"q": "language", "category": "cs.CL"})),
        "organization page": HIDDEN_TITLE in titles(client.get("/organizations/example-lab")),
        "author page": HIDDEN_TITLE in titles(client.get(f"/authors/{author.pk}", follow=True)),
        "paper page": client.get(f"/papers/{HIDDEN}").status_code == 200,
    }


def test_a_paper_hidden_in_the_admin_vanishes_everywhere_and_comes_back_when_shown(client, staff, decorated):
    assert all(where_it_shows(client).values()), where_it_shows(client)
    assert "1 paper hidden" in hide(staff, HIDDEN)
    assert Paper.objects.get(arxiv_id=HIDDEN).hidden
    assert not any(where_it_shows(client).values()), where_it_shows(client)
    assert "1 paper shown again." in show(staff, HIDDEN)
    assert all(where_it_shows(client).values()), where_it_shows(client)


def test_counts_and_totals_leave_hidden_papers_out(client, staff, decorated):
    assert "3 papers" in client.get("/").content.decode()
    assert "2 papers, newest first" in client.get("/organizations/example-lab").content.decode()
    hide(staff, HIDDEN)
    html = client.get("/").content.decode()
    assert "2 papers" in html and "3 papers" not in html
    assert len(titles(client.get("/"))) == 2
    assert "1 paper, newest first" in client.get("/organizations/example-lab").content.decode()
    found = client.get("/search", {"q": "language", "mode": "keyword"}).content.decode()
    assert HIDDEN_TITLE not in found
    assert re.search(r'<p class="count">(\d+) result', found) is None or HIDDEN not in found


def test_search_totals_count_only_visible_papers(client, staff, corpus):
    def total(q: str) -> int:
        html = client.get("/search", {"q": q, "mode": "keyword"}).content.decode()
        match = re.search(r'<p class="count">(\d+) result', html)
        return int(match.group(1)) if match else 0

    before = total("learning")
    with_word = [t for t in keyword(client, "learning")]
    assert before == len(with_word) >= 2
    hidden = Paper.objects.get(title=with_word[0])
    hide(staff, hidden.arxiv_id)
    assert total("learning") == before - 1
    show(staff, hidden.arxiv_id)
    assert total("learning") == before


def test_trending_leaves_hidden_papers_out_with_votes_and_without(client, staff, decorated):
    assert "Ranked by recent upvotes" in client.get("/trending").content.decode()
    hide(staff, HIDDEN)
    html = client.get("/trending").content.decode()
    # Its upvote was the only one: nothing visible trends, and the newest papers shown instead leave it out too.
    assert "No upvotes yet, so nothing is trending" in html
    assert HIDDEN_TITLE not in html and len(titles(client.get("/trending"))) == 9


def test_a_hidden_paper_page_says_it_is_not_available(client, staff, corpus):
    hide(staff, HIDDEN)
    response = client.get(f"/papers/{HIDDEN}")
    html = response.content.decode()
    assert response.status_code == 404
    assert "This paper is not available." in html
    assert HIDDEN_TITLE not in html
    assert "/admin/papers/paper/" not in html  # the way back is for staff only
    assert "find it in the admin" in staff.get(f"/papers/{HIDDEN}").content.decode()
    assert client.get("/papers/2699.99999").status_code == 404  # a paper never loaded keeps its own page
    assert "not on this site yet" in client.get("/papers/2699.99999").content.decode()


def test_a_hidden_paper_cannot_be_claimed(staff, corpus):
    hide(staff, HIDDEN)
    user = member("ada")
    author = Author.objects.get(name="José Núñez")
    assert signed_in(user).post(f"/papers/{HIDDEN}/claim", {"author": author.pk}).status_code == 404
    assert not AuthorClaim.objects.exists()


def test_hiding_twice_or_showing_a_visible_paper_changes_nothing(client, staff, corpus):
    assert "0 papers shown again." in show(staff, HIDDEN)
    hide(staff, HIDDEN)
    assert "0 papers hidden" in hide(staff, HIDDEN)
    show(staff, HIDDEN)
    assert keyword(client, "cross-lingual retrieval") == [HIDDEN_TITLE]  # indexed once, not twice


def test_the_papers_admin_lists_and_filters_hidden_papers(staff, corpus):
    hide(staff, HIDDEN)
    hidden = staff.get("/admin/papers/paper/", {"hidden__exact": "1"}).content.decode()
    assert HIDDEN_TITLE in hidden and "Graph Transformers at Scale" not in hidden
    shown = staff.get("/admin/papers/paper/", {"hidden__exact": "0"}).content.decode()
    assert HIDDEN_TITLE not in shown and "Graph Transformers at Scale" in shown


def change_form_data(response) -> dict:
    """What the admin change form posts back unchanged: its fields and its inline formsets."""
    from django.forms import MultiWidget

    data = {}

    def put(form, name: str) -> None:
        value, key, widget = form[name].value(), form.add_prefix(name), form.fields[name].widget
        if value is None or value is False:
            return
        if isinstance(widget, MultiWidget):  # a date and a time, posted as two fields
            for i, part in enumerate(widget.decompress(value)):
                data[f"{key}_{i}"] = str(part)
        else:
            data[key] = "on" if value is True else str(value)

    form = response.context["adminform"].form
    for name in form.fields:
        put(form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for sub in formset.forms:
            for name in sub.fields:
                put(sub, name)
    return data


def test_ticking_hidden_in_the_change_form_keeps_search_in_step(client, staff, corpus):
    paper = Paper.objects.get(arxiv_id=HIDDEN)
    url = f"/admin/papers/paper/{paper.pk}/change/"
    data = change_form_data(staff.get(url))
    response = staff.post(url, {**data, "hidden": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert Paper.objects.get(pk=paper.pk).hidden
    assert paper.pk not in search_index_ids()
    assert HIDDEN_TITLE not in keyword(client, "cross-lingual retrieval")
    data.pop("hidden", None)
    staff.post(url, {**data, "title": "Cross-Lingual Retrieval, Revised"})
    assert not Paper.objects.get(pk=paper.pk).hidden
    assert keyword(client, "revised") == ["Cross-Lingual Retrieval, Revised"]  # a title edited in the admin too


def test_deleting_papers_in_the_admin_takes_them_out_of_search(client, staff, corpus):
    doomed = Paper.objects.filter(arxiv_id=HIDDEN)
    pk = doomed.get().pk
    staff.post("/admin/papers/paper/", {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    assert not Paper.objects.filter(pk=pk).exists()
    assert pk not in search_index_ids()


def test_a_hidden_paper_stays_out_of_search_when_its_source_updates_it(client, staff, corpus, tmp_path):
    from paperfeed.papers.services.loading import load_jsonl

    hide(staff, HIDDEN)
    rows = [json.loads(line) for line in SMALL.read_text().splitlines()]
    updated = tmp_path / "updated.jsonl"
    updated.write_text(
        "".join(json.dumps(dict(r, title=r["title"] + " (v2)")) + "\n" for r in rows if r["id"] == HIDDEN)
    )
    assert load_jsonl(updated).updated == 1
    assert Paper.objects.get(arxiv_id=HIDDEN).hidden
    assert not [t for t in keyword(client, "cross-lingual retrieval") if "Cross-Lingual" in t]
    show(staff, HIDDEN)
    assert keyword(client, "cross-lingual retrieval") == [HIDDEN_TITLE + " (v2)"]


# --- hidden papers and search by meaning ---


@pytest.fixture
def embedded(corpus, settings, tmp_path):
    """Every paper embedded, with the vector index in this test's own data directory."""
    from paperfeed.papers.services.embedding import embed_pending

    settings.DATA_DIR = tmp_path
    assert embed_pending().embedded == 10


def test_hidden_papers_leave_search_by_meaning_and_similar_papers(client, staff, embedded):
    robots = {"q": "teaching robot arms from human demonstrations"}
    diffusion = "Diffusion Policies for Robot Manipulation"
    survey = "A Survey of Multilayer Perceptron Training"

    def similar_to_mlp_mixer() -> list[str]:
        html = client.get("/papers/2606.00001").content.decode()
        section = html[html.index('<section class="similar"') :]
        return [
            unescape(re.sub(r"<.*?>", "", t))
            for t in re.findall(r'<h3 class="card-title"><a[^>]*>(.*?)</a>', section, re.S)
        ]

    assert titles(client.get("/search", {**robots, "mode": "semantic"}))[0] == diffusion
    assert diffusion in titles(client.get("/search", {**robots, "mode": "hybrid"}))
    assert survey in similar_to_mlp_mixer()
    hide(staff, "2606.00005", "2606.00007")
    semantic = titles(client.get("/search", {**robots, "mode": "semantic"}))
    assert semantic and diffusion not in semantic
    hybrid = client.get("/search", {**robots, "mode": "hybrid"})
    assert titles(hybrid) and diffusion not in titles(hybrid)
    similar = similar_to_mlp_mixer()
    assert survey not in similar and len(similar) == 6  # the list stays full
    show(staff, "2606.00005", "2606.00007")
    assert titles(client.get("/search", {**robots, "mode": "semantic"}))[0] == diffusion
    assert survey in similar_to_mlp_mixer()


# --- hidden comments ---


def comment(paper: Paper, user: User, body: str, parent: Comment | None = None) -> Comment:
    return Comment.objects.create(paper=paper, author=user, body=body, body_html=f"<p>{body}</p>", parent=parent)


def test_a_hidden_comment_leaves_the_page_and_the_counts_and_comes_back_when_shown(client, staff, corpus):
    paper = Paper.objects.get(arxiv_id=HIDDEN)
    ada = member("ada")
    kept = comment(paper, ada, "A careful evaluation.")
    spam = comment(paper, member("spammer"), "Buy cheap watches")

    def card_count() -> str:
        html = client.get("/?date=2026-07-01").content.decode()
        return re.search(rf'href="/papers/{HIDDEN}#comments" title="(\d+) comments?"', html).group(1)

    page = client.get(f"/papers/{HIDDEN}").content.decode()
    assert "Buy cheap watches" in page and "· 2 comments" in page and card_count() == "2"
    assert "1 comment hidden" in act(staff, "community/comment", "hide_comments", [spam])
    page = client.get(f"/papers/{HIDDEN}").content.decode()
    assert "Buy cheap watches" not in page and "A careful evaluation." in page
    assert "· 1 comment" in page and card_count() == "1"
    listed = staff.get("/admin/community/comment/", {"hidden__exact": "1"}).content.decode()
    assert "Buy cheap watches" in listed and "A careful evaluation." not in listed
    assert "1 comment shown again." in act(staff, "community/comment", "show_comments", [spam])
    assert "Buy cheap watches" in client.get(f"/papers/{HIDDEN}").content.decode() and card_count() == "2"
    kept.refresh_from_db()
    assert not kept.hidden


def test_comments_are_hidden_in_the_admin_not_rewritten(staff, corpus):
    spam = comment(Paper.objects.get(arxiv_id=HIDDEN), member("spammer"), "Buy cheap watches")
    html = staff.get(f"/admin/community/comment/{spam.pk}/change/").content.decode()
    assert 'name="hidden"' in html
    assert 'name="body"' not in html  # shown, not editable: body_html must stay the rendering of body


# --- banned users ---


def test_banning_in_the_user_admin_stops_posting_and_voting_but_not_reading(staff, corpus):
    ada = member("ada")
    no_profile = User.objects.create_user("old", "old@example.org", "a long enough password")  # made before profiles
    html = act(staff, "auth/user", "ban", [ada, no_profile])
    assert "2 users banned: they can read but no longer post or vote." in html
    assert Profile.objects.get(user=ada).banned and Profile.objects.get(user=no_profile).banned
    assert posting_problem(ada) == "This account has been banned from posting and voting."
    assert posting_problem(ada, needs_verified_email=False) == "This account has been banned from posting and voting."
    client = signed_in(ada)
    assert client.get(f"/papers/{HIDDEN}").status_code == 200  # still reads
    vote = client.post(f"/papers/{HIDDEN}/vote", {"vote": "1"})
    assert vote.status_code == 403 and "banned" in vote.content.decode()
    assert not Vote.objects.filter(user=ada).exists()
    posted = client.post(f"/papers/{HIDDEN}/comments", {"body": "Let me in"})
    assert posted.status_code == 403 and not Comment.objects.filter(author=ada).exists()
    assert "1 user may post and vote again." in act(staff, "auth/user", "unban", [ada])
    assert posting_problem(ada) is None
    assert client.post(f"/papers/{HIDDEN}/vote", {"vote": "1"}).status_code == 303
    assert Vote.objects.filter(user=ada).count() == 1


def test_the_user_admin_shows_bans_and_the_profile_inline(staff, corpus):
    ada, bob = member("ada"), member("bob")
    Profile.objects.filter(user=bob).update(banned=True)
    banned = staff.get("/admin/auth/user/", {"profile__banned__exact": "1"}).content.decode()
    assert ">bob<" in banned and ">ada<" not in banned
    change = staff.get(f"/admin/auth/user/{ada.pk}/change/").content.decode()
    assert 'name="profile-0-banned"' in change and 'name="profile-0-email_verified"' in change


def test_profiles_can_be_banned_from_their_own_admin_too(staff, corpus):
    ada = member("ada")
    assert "1 user banned" in act(staff, "community/profile", "ban", [Profile.objects.get(user=ada)])
    assert Profile.objects.get(user=ada).banned


@pytest.mark.parametrize(
    "path", ["auth/user", "community/profile", "community/comment", "community/collection", "community/authorclaim"]
)
def test_every_moderation_list_opens(staff, corpus, path):
    assert staff.get(f"/admin/{path}/").status_code == 200
    assert staff.get(f"/admin/{path}/add/").status_code in (200, 403)
