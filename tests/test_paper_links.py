"""Code and project links (issue 16): found in abstracts and comments, taken from Hugging Face's list, given by the
submitter, confirmed authors and moderators (each change kept for moderators), shown as a badge on cards and on
the page, and the "with code" filter on lists, search, feeds and the API. Also Hugging Face's AI summary and
keywords, shown with their origin, and "In these collections" on a paper's page."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import ingest, member, signed_in
from django.test import Client
from replay import ReplayServer, Reply

from paperfeed.community.models import AuthorClaim, Collection, CollectionItem, LinkChange
from paperfeed.core.links import MAX_CHARS, LinkError, check_link, links_in
from paperfeed.core.records import make_record
from paperfeed.papers.models import Author, DailyEntry, Paper, PaperExtras
from paperfeed.papers.retrieval import sync_keyword_index
from paperfeed.papers.services.loading import LoadSummary, PaperLoader

pytestmark = pytest.mark.django_db(transaction=True)

HF = "hf/daily_papers_2026-08_3entries_prettyprinted-upstream.json"
MIXER = "2606.00001"  # of the test corpus (tests/data/small.jsonl), on the list of 30 June 2026
GRAPHS = "2606.00002"  # same day


# --- which links a text names, and which links are kept ---


@pytest.mark.parametrize(
    ("texts", "code", "project"),
    [
        (
            ["Code is available at https://github.com/foo/bar.git. Project page: https://foo.github.io/bar/."],
            "https://github.com/foo/bar",
            "https://foo.github.io/bar/",
        ),
        (["See (https://github.com/a/b/tree/main/src)."], "https://github.com/a/b", None),
        (
            ["Ours: https://gitlab.com/group/sub/proj/-/tree/main, and our website https://example.org/p"],
            "https://gitlab.com/group/sub/proj",
            "https://example.org/p",
        ),
        (
            ["Weights: https://huggingface.co/org/model-7b and https://huggingface.co/datasets/org/d"],
            "https://huggingface.co/org/model-7b",
            None,
        ),
        (
            ["Try https://huggingface.co/spaces/org/demo", "Code: https://codeberg.org/x/y"],
            "https://codeberg.org/x/y",
            "https://huggingface.co/spaces/org/demo",
        ),
        (["https://github.com/features/copilot and https://github.com/onlyowner"], None, None),
        (["no links at all, only 10.1101/2024.01.01.575001 and http://"], None, None),
    ],
    ids=[
        "github-and-pages",
        "a-file-in-a-repository",
        "gitlab",
        "hugging-face",
        "space-and-codeberg",
        "no-repo",
        "none",
    ],
)
def test_the_links_a_text_names(texts, code, project):
    assert links_in(*texts) == (code, project)


@pytest.mark.parametrize(
    ("link", "complaint"),
    [
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("ftp://example.org/code", "must start with http:// or https://"),
        ("https://github.com/" + "a" * MAX_CHARS, "500 characters long at most"),
        ("https://papers.example.org/papers/2606.00001", "points at this site itself"),
        ("https://github.com/a b", "spaces or control characters"),
        ("https://localhost/repo", "not an address on the web"),
        ("https://example.org:port/", "is not a web address"),
    ],
)
def test_links_that_are_refused_say_why(link, complaint):
    with pytest.raises(LinkError, match=complaint):
        check_link(link, {"papers.example.org"})


# --- links found when papers are loaded ---


def load(*records) -> None:
    PaperLoader().write(list(records), LoadSummary())


def record(arxiv_id: str, abstract: str, comment: str | None = None, version: int = 1):
    return make_record(
        arxiv_id=arxiv_id,
        title=f"Paper {arxiv_id}",
        abstract=abstract,
        authors=["Ada Lovelace"],
        categories=["cs.LG"],
        version=version,
        published=date(2026, 6, 30),
        listed_on=date(2026, 6, 30),
        comment=comment,
    )


def test_loading_a_paper_keeps_the_links_its_abstract_and_comment_name(db):
    load(
        record("2607.00001", "We release code at https://github.com/lab/tool.", "12 pages; https://lab.github.io/tool"),
        record("2607.00002", "No code here."),
    )
    tool = Paper.objects.get(arxiv_id="2607.00001")
    assert (tool.code_url, tool.code_origin) == ("https://github.com/lab/tool", "text")
    assert (tool.project_url, tool.project_origin) == ("https://lab.github.io/tool", "text")
    plain = Paper.objects.get(arxiv_id="2607.00002")
    assert (plain.code_url, plain.code_origin) == ("", None)

    load(record("2607.00001", "Code moved to https://github.com/lab/tool-v2.", version=2))  # a new version
    assert Paper.objects.get(arxiv_id="2607.00001").code_url == "https://github.com/lab/tool-v2"


def test_links_from_hugging_face_or_a_member_are_not_replaced_by_the_text(db):
    load(record("2607.00003", "Nothing yet."), record("2607.00004", "Nothing yet."))
    Paper.objects.filter(arxiv_id="2607.00003").update(
        code_url="https://github.com/hf/given", code_origin="huggingface"
    )
    Paper.objects.filter(arxiv_id="2607.00004").update(code_url="", code_origin="member")  # a member removed it
    load(
        record("2607.00003", "See https://github.com/text/found.", version=2),
        record("2607.00004", "See https://github.com/text/found.", version=2),
    )
    assert Paper.objects.get(arxiv_id="2607.00003").code_url == "https://github.com/hf/given"
    assert Paper.objects.get(arxiv_id="2607.00004").code_url == ""


# --- Hugging Face's list: links, stars, summary, keywords, thumbnail ---


@pytest.fixture
def hf_server(settings):
    server = ReplayServer().start()
    settings.PAPERFEED_HF_API_URL = server.url
    settings.PAPERFEED_HTTP_RETRIES = 1
    settings.PAPERFEED_HTTP_TIMEOUT_SECONDS = 1
    server.route("/api/daily_papers", Reply.fixture(HF))
    yield server
    server.stop()


def test_hugging_face_gives_links_stars_summary_keywords_and_a_thumbnail(hf_server):
    assert ingest("hf-daily", "--week", "2026-W33")[0] == 0
    paper = Paper.objects.get(arxiv_id="2608.09888")
    assert (paper.code_url, paper.code_origin) == ("https://github.com/pathwaycom/arc-task-gen", "huggingface")
    assert paper.project_origin == "huggingface" and paper.project_url.startswith("https://pathway.com/blog/")
    extras = paper.extras
    assert (extras.github_stars, extras.github_repo) == (3314, "pathwaycom/arc-task-gen")
    assert extras.summary.startswith("A 150M-parameter reasoning model") and extras.summary_origin == "huggingface"
    assert extras.summary_keywords[:2] == ["in-context learning", "recurrent latent reasoning"]
    assert extras.summary_model == "thinkingmachines/Inkling-Small"
    assert extras.hf_thumbnail_url == "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2608.09888.png"

    page = Client().get("/papers/2608.09888").content.decode()
    assert "AI summary" in page and "A 150M-parameter reasoning model" in page
    assert "thinkingmachines/Inkling-Small" in page and "Hugging Face’s page of this paper" in page
    assert ">recurrent latent reasoning</a>" in page and "(from Hugging Face)" in page


def test_hugging_face_leaves_a_members_link_and_newer_github_stars_alone(hf_server):
    ingest("hf-daily", "--week", "2026-W33")
    paper = Paper.objects.get(arxiv_id="2608.09888")
    Paper.objects.filter(pk=paper.pk).update(code_url="https://github.com/member/choice", code_origin="member")
    PaperExtras.objects.filter(pk=paper.pk).update(
        summary="Ours.", summary_origin="site", github_stars=1, github_repo="x/y"
    )
    other = Paper.objects.get(arxiv_id="2605.31264")
    from django.utils import timezone

    PaperExtras.objects.filter(pk=other.pk).update(github_stars=99999, github_checked_at=timezone.now())
    assert ingest("hf-daily", "--week", "2026-W33")[0] == 0
    paper.refresh_from_db()
    assert (paper.code_url, paper.code_origin) == ("https://github.com/member/choice", "member")
    assert paper.extras.summary.startswith("A 150M-parameter")  # Hugging Face's summary replaces the site's own
    assert paper.extras.github_stars == 1  # not the stars of a repository that is no longer the paper's code
    assert PaperExtras.objects.get(pk=other.pk).github_stars == 99999  # GitHub answered since: its count stays


# --- people change links ---


@pytest.fixture
def mixer(corpus) -> Paper:
    return Paper.objects.get(arxiv_id=MIXER)


def post_links(user, paper: Paper, **links):
    client = signed_in(user) if user else Client()
    return client.post(f"/papers/{paper.address}/links", links, HTTP_HOST="127.0.0.1")


def test_the_submitter_confirmed_authors_and_moderators_may_change_links(mixer, staff):
    submitter, author, moderator = member("sub"), member("ada"), member("keeper", staff=True)
    DailyEntry.objects.create(paper=mixer, day=date(2026, 7, 2), source="submission", submitted_by=submitter)
    AuthorClaim.objects.create(
        user=author, paper=mixer, author=Author.objects.get(name="Ada Lovelace"), status="approved"
    )
    page = signed_in(submitter).get(f"/papers/{MIXER}").content.decode()
    assert 'action="/papers/2606.00001/links"' in page and "Change the code and project links" in page

    PaperExtras.objects.create(paper=mixer, github_stars=50, github_repo="old/repo", github_etag='"abc"')
    done = post_links(submitter, mixer, code="https://github.com/mixer/mixer", project="")
    assert done.status_code == 303 and done["Location"] == f"/papers/{MIXER}#links"
    mixer.refresh_from_db()
    assert (mixer.code_url, mixer.code_origin) == ("https://github.com/mixer/mixer", "member")
    stars = PaperExtras.objects.get(pk=mixer.pk)  # the old repository's stars are not the new one's
    assert (stars.github_stars, stars.github_repo, stars.github_etag) == (None, "", "")
    assert post_links(author, mixer, project="https://mixer.github.io/").status_code == 303
    assert post_links(moderator, mixer, code="").status_code == 303  # removed
    mixer.refresh_from_db()
    assert (mixer.code_url, mixer.code_origin, mixer.project_url) == ("", "member", "https://mixer.github.io/")
    changes = [(c.username, c.kind, c.before, c.after) for c in LinkChange.objects.order_by("id")]
    assert changes == [
        ("sub", "code", "", "https://github.com/mixer/mixer"),
        ("ada", "project", "", "https://mixer.github.io/"),
        ("keeper", "code", "https://github.com/mixer/mixer", ""),
    ]
    assert post_links(submitter, mixer, code="", project="https://mixer.github.io/").status_code == 303
    assert LinkChange.objects.count() == 3  # the same links again: nothing to record

    admin_page = staff.get(f"/admin/papers/paper/{mixer.pk}/change/").content.decode()
    assert "Paper extras" in admin_page and 'name="code_url"' not in admin_page  # links: on the page, recorded
    listed = staff.get("/admin/community/linkchange/")

    assert listed.status_code == 200 and "https://github.com/mixer/mixer" in listed.content.decode()
    assert staff.get(f"/admin/community/linkchange/{LinkChange.objects.first().pk}/change/").status_code == 200


def test_others_may_not_change_links_and_bad_links_change_nothing(mixer, settings):
    settings.PAPERFEED_SITE_URL = "https://papers.example.org"
    stranger, claimant, submitter = member("eve"), member("bob"), member("sub")
    AuthorClaim.objects.create(user=claimant, paper=mixer, author=Author.objects.get(name="Alan Turing"))  # pending
    DailyEntry.objects.create(paper=mixer, day=date(2026, 7, 2), source="submission", submitted_by=submitter)

    anonymous = post_links(None, mixer, code="https://github.com/x/y")
    assert anonymous.status_code == 302 and "/accounts/signin" in anonymous["Location"]
    for user in (stranger, claimant):
        refused = post_links(user, mixer, code="https://github.com/x/y")
        assert refused.status_code == 403 and "Only the member who submitted this paper" in refused.content.decode()
        assert 'action="/papers/2606.00001/links"' not in signed_in(user).get(f"/papers/{MIXER}").content.decode()
    for code, complaint in [
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("https://papers.example.org/papers/2606.00002", "points at this site itself"),
        ("http://127.0.0.1/papers/2606.00002", "points at this site itself"),
        ("https://github.com/" + "x" * 500, "500 characters long at most"),
    ]:
        refused = post_links(submitter, mixer, code=code, project="https://fine.example.org/")
        assert refused.status_code == 400 and complaint in refused.content.decode(), code
    mixer.refresh_from_db()
    assert (mixer.code_url, mixer.project_url, LinkChange.objects.count()) == ("", "", 0)  # neither link changed
    assert Client().post("/papers/2699.99999/links", {"code": ""}).status_code == 404


# --- shown on cards and pages; "with code" on lists, search, feeds and the API ---


def test_cards_show_a_code_badge_and_lists_filter_papers_with_code(mixer, client):
    Paper.objects.filter(pk=mixer.pk).update(code_url="https://github.com/mixer/mixer", code_origin="text")
    PaperExtras.objects.create(paper=mixer, github_stars=1234, github_repo="Mixer/Mixer")  # names are case-blind
    PaperExtras.objects.create(paper=Paper.objects.get(arxiv_id=GRAPHS), github_stars=99, github_repo="old/repo")
    day = client.get("/?date=2026-06-30").content.decode()
    assert "★ 1,234" in day and "★ 99" not in day  # stars of a repository that is not the paper's code: not shown
    assert day.count('class="code-badge"') == 1 and 'href="https://github.com/mixer/mixer"' in day
    assert "with code only" in day
    only = client.get("/?date=2026-06-30&code=1").content.decode()
    assert f'href="/papers/{MIXER}"' in only and f'href="/papers/{GRAPHS}"' not in only
    assert "1 paper" in only and "code=1" in only  # the other views keep the filter
    empty = client.get("/?date=2026-06-29&code=1").content.decode()
    assert "No papers with code were listed on" in empty
    bad = client.get("/?date=2026-06-30&code=maybe")
    assert bad.status_code == 400 and "use code=1 for papers with code only" in bad.content.decode()

    feed = client.get("/feeds/daily.rss?date=2026-06-30&code=1").content.decode()
    assert f"/papers/{MIXER}" in feed and f"/papers/{GRAPHS}" not in feed
    api = client.get("/api/v1/daily?date=2026-06-30&code=true").json()
    assert [paper["id"] for paper in api["results"]] == [MIXER]
    starred = client.get("/api/v1/daily?date=2026-06-30&sort=stars").json()
    assert starred["sort"] == "stars" and [paper["id"] for paper in starred["results"]][:1] == [MIXER]  # 1,234
    paper_page = client.get(f"/papers/{MIXER}").content.decode()
    assert "<dt>Code</dt>" in paper_page and "(found in the paper’s abstract or comment)" in paper_page


def test_search_with_code_follows_links_as_they_change(mixer, client):
    sync_keyword_index()
    assert f'href="/papers/{MIXER}"' not in client.get("/search?q=mlp&mode=keyword&code=1").content.decode()
    submitter = member("sub")
    DailyEntry.objects.create(paper=mixer, day=date(2026, 7, 2), source="submission", submitted_by=submitter)
    assert post_links(submitter, mixer, code="https://github.com/mixer/mixer").status_code == 303
    sync_keyword_index()  # what the worker's upkeep does: the index follows the database's change log
    found = client.get("/search?q=mlp&mode=keyword&code=1").content.decode()
    assert f'href="/papers/{MIXER}"' in found and found.count('class="card"') == 1
    assert 'name="code" value="1" checked' in found
    browse = client.get("/search?code=1").content.decode()
    assert "1 paper with code" in browse
    api = client.get("/api/v1/search?q=mlp&mode=keyword&code=true").json()
    assert [paper["id"] for paper in api["results"]] == [MIXER]
    feed = client.get("/search/feed?q=mlp&mode=keyword&code=1")
    assert feed.status_code == 200 and "with code" in feed.content.decode()


# --- In these collections ---


def test_a_paper_page_names_the_public_collections_holding_it(mixer, client):
    ada, bob = member("ada"), member("bob")
    shown = Collection.objects.create(owner=ada, name="Vision reading", slug="vision", public=True)
    private = Collection.objects.create(owner=bob, name="Secret list", slug="secret", public=False)
    for collection in (shown, private):
        CollectionItem.objects.create(collection=collection, paper=mixer)
    CollectionItem.objects.create(collection=shown, paper=Paper.objects.get(arxiv_id=GRAPHS))
    page = client.get(f"/papers/{MIXER}").content.decode()
    assert "In these collections" in page
    assert 'href="/users/ada/collections/vision">Vision reading</a>' in page and "2 papers" in page
    for viewer in (client, signed_in(bob)):  # a private collection is in no one's list, its owner's neither
        page = viewer.get(f"/papers/{MIXER}").content.decode()
        assert "Secret list" not in page.split('id="in-collections-h"')[1].split("</section>")[0]
    shown.public = False
    shown.save()
    assert "In these collections" not in client.get(f"/papers/{MIXER}").content.decode()


def test_a_summary_this_sites_summarizer_wrote_is_labelled_as_such(mixer, client):
    PaperExtras.objects.create(
        paper=mixer, summary="Mixing tokens is enough.", summary_origin="site", summary_model="local-llama"
    )
    page = client.get(f"/papers/{MIXER}").content.decode()
    assert "Mixing tokens is enough." in page and "(local-llama), for this site." in page
    assert "Hugging Face’s page of this paper" not in page
