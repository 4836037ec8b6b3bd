"""The Hugging Face-compatible API: huggingface.co's paths and JSON shapes, read by the real `huggingface_hub`.

First through Django's test client (every parameter, every kind of bad input, the shapes against huggingface.co's
recorded responses), then against `paperfeed serve` in a subprocess with `HfApi(endpoint=...)` as a user runs it.
"""

import json
import socket
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from conftest import SMALL, member, site_env, start_site
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from replay import FIXTURES

from paperfeed.community.models import AuthorClaim, Comment, Profile
from paperfeed.community.services.submissions import submit_paper
from paperfeed.papers.models import Author, Organization, Paper, Vote

HF_FIXTURES = [
    FIXTURES / "hf" / name
    for name in ("daily_papers_2024-10-25_first4.json", "daily_papers_2026-08_3entries_prettyprinted-upstream.json")
]

# The test corpus's daily lists (tests/data/small.jsonl).
JUNE_26 = {"2606.00007", "2606.00009", "2606.00010"}
JUNE_29 = {"2606.00003", "hep-th/9901001"}
JUNE_30 = {"2606.00001", "2606.00002"}
JULY_1 = {"2606.00005", "2606.00006", "2606.00008"}
ALL = JUNE_26 | JUNE_29 | JUNE_30 | JULY_1
MIXER = "MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision"  # 2606.00001


def ids(items: list[dict]) -> list[str]:
    return [item["paper"]["id"] for item in items]


def get_json(client: Client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def vote(arxiv_id: str, *usernames: str, ago: timedelta = timedelta(0)) -> None:
    """Upvotes of the paper by these members (created as needed), cast `ago`."""
    paper = Paper.objects.get(arxiv_id=arxiv_id)
    for username in usernames:
        user = User.objects.filter(username=username).first() or member(username)
        Vote.objects.create(user=user, paper=paper, created_at=timezone.now() - ago)


# --- /api/daily_papers through the test client ---


@pytest.mark.django_db
def test_a_day_lists_its_papers_most_upvoted_first_in_huggingface_shape(client, corpus):
    vote("2606.00001", "ada", "alan")
    items = get_json(client, "/api/daily_papers?date=2026-06-30")
    assert ids(items) == ["2606.00001", "2606.00002"]
    first = items[0]
    assert first["paper"]["upvotes"] == 2 and items[1]["paper"]["upvotes"] == 0
    assert first["title"] == first["paper"]["title"] == MIXER
    assert first["summary"] == first["paper"]["summary"] == Paper.objects.get(arxiv_id="2606.00001").abstract
    assert [a["name"] for a in first["paper"]["authors"]] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert first["publishedAt"] == first["paper"]["submittedOnDailyAt"] == "2026-06-30T00:00:00.000Z"
    assert first["paper"]["publishedAt"] == "2026-06-30T00:00:00.000Z"
    assert first["numComments"] == 0
    assert "submittedBy" not in first and "organization" not in first  # nothing to say: left out, not invented


@pytest.mark.django_db
def test_a_week_and_a_month_list_the_latest_day_first(client, corpus):
    vote("2606.00003", "ada")
    week = ids(get_json(client, "/api/daily_papers?week=2026-W27"))
    # 29 June to 1 July: each day's papers together, the latest day first; within a day, upvoted, then newest id.
    assert week == [
        "2606.00008",
        "2606.00006",
        "2606.00005",
        "2606.00002",
        "2606.00001",
        "2606.00003",
        "hep-th/9901001",
    ]
    june = ids(get_json(client, "/api/daily_papers?month=2026-06"))
    assert set(june[:2]) == JUNE_30 and set(june[2:4]) == JUNE_29 and set(june[4:]) == JUNE_26
    assert ids(get_json(client, "/api/daily_papers?month=2026-07")) == week[:3]
    assert get_json(client, "/api/daily_papers?date=2026-06-28") == []  # a Sunday without papers
    assert get_json(client, "/api/daily_papers?week=2030-W01") == []


@pytest.mark.django_db
def test_without_a_period_the_most_recent_papers_come_first_and_pages_count_from_zero(client, corpus):
    everything = ids(get_json(client, "/api/daily_papers"))
    assert set(everything) == ALL and len(everything) == 10
    assert set(everything[:3]) == JULY_1 and set(everything[-3:]) == JUNE_26
    pages = [ids(get_json(client, f"/api/daily_papers?limit=3&p={p}")) for p in range(5)]
    assert [len(page) for page in pages] == [3, 3, 3, 1, 0]
    assert sum(pages, []) == everything  # the pages, one after another, are the whole list once
    assert ids(get_json(client, "/api/daily_papers?limit=1")) == everything[:1]
    assert ids(get_json(client, "/api/daily_papers?limit=100")) == everything
    assert get_json(client, f"/api/daily_papers?p={10**30}") == []  # far past the end: empty, not an error


@pytest.mark.django_db
def test_sort_trending_ranks_by_recent_upvotes_then_the_newest(client, corpus):
    vote("2606.00009", "ada", "alan", "grace")  # a paper of 26 June, upvoted now: it trends
    vote("2606.00003", "ada", ago=timedelta(hours=1))
    vote("2606.00002", "ada", "alan", ago=timedelta(days=2))  # more votes, but older ones count less
    trending = ids(get_json(client, "/api/daily_papers?sort=trending"))
    assert trending[:3] == ["2606.00009", "2606.00003", "2606.00002"]
    assert set(trending[3:6]) == JULY_1 and len(trending) == 10  # then the rest, newest first
    assert ids(get_json(client, "/api/daily_papers?sort=trending&limit=2&p=1")) == trending[2:4]
    assert ids(get_json(client, "/api/daily_papers?sort=trending&limit=2&p=2")) == trending[4:6]
    # Within a period, only its papers.
    assert ids(get_json(client, "/api/daily_papers?sort=trending&date=2026-06-30")) == ["2606.00002", "2606.00001"]
    assert ids(get_json(client, "/api/daily_papers?sort=publishedAt&date=2026-06-30")) == ["2606.00002", "2606.00001"]


@pytest.mark.django_db
def test_submitter_filters_to_one_members_submissions_and_shows_who_submitted(client, corpus):
    grace = member("grace")
    Profile.objects.filter(user=grace).update(display_name="Grace Hopper")
    today = timezone.localdate()
    submit_paper(grace, "2606.00003", today=today)
    items = get_json(client, "/api/daily_papers?submitter=grace")
    assert ids(items) == ["2606.00003"]
    expected = {"fullname": "Grace Hopper", "user": "grace", "name": "grace", "type": "user"}
    assert items[0]["submittedBy"] == items[0]["paper"]["submittedOnDailyBy"] == expected
    assert items[0]["publishedAt"] == f"{today.isoformat()}T00:00:00.000Z"  # the day of the submission
    assert ids(get_json(client, f"/api/daily_papers?date={today.isoformat()}")) == ["2606.00003"]
    assert ids(get_json(client, "/api/daily_papers?submitter=@grace")) == ["2606.00003"]
    assert get_json(client, "/api/daily_papers?submitter=nobody") == []
    assert get_json(client, "/api/daily_papers?submitter=grace&date=2026-06-29") == []


@pytest.mark.django_db
def test_hidden_papers_appear_nowhere(client, corpus):
    vote("2606.00001", "ada")
    hidden = Paper.objects.get(arxiv_id="2606.00001")
    Paper.objects.filter(pk=hidden.pk).update(hidden=True)
    assert ids(get_json(client, "/api/daily_papers?date=2026-06-30")) == ["2606.00002"]
    assert "2606.00001" not in ids(get_json(client, "/api/daily_papers?sort=trending"))
    assert "2606.00001" not in ids(get_json(client, "/api/daily_papers?limit=100"))
    assert "2606.00001" not in ids(get_json(client, "/api/papers/search?q=MLP"))
    body = get_json(client, "/api/papers/2606.00001", 404)
    assert body == {"error": "arXiv:2606.00001 has been hidden by a moderator of this site"}
    assert client.get("/papers/2606.00001.md").status_code == 404


# --- bad input: a 400 with a JSON body naming the parameter ---

BAD_DAILY = [
    ("date=2026-13-01", "date"),
    ("date=2026-02-30", "date"),
    ("date=30.06.2026", "date"),
    ("date=yesterday", "date"),
    ("week=2026-W60", "week"),
    ("week=2026-27", "week"),
    ("week=W27", "week"),
    ("month=2026-13", "month"),
    ("month=June", "month"),
    ("month=2026-06-01", "month"),
    ("date=2026-06-30&week=2026-W27", "week"),
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=-5", "limit"),
    ("limit=ten", "limit"),
    ("limit=1.5", "limit"),
    ("p=-1", "p"),
    ("p=first", "p"),
    ("sort=votes", "sort"),
    ("sort=TRENDING", "sort"),
    ("sort=publishedAt%00", "sort"),
    ("submitter=ada%00", "submitter"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "param"), BAD_DAILY)
def test_bad_daily_parameters_get_a_400_naming_the_parameter(client, corpus, query, param):
    body = get_json(client, f"/api/daily_papers?{query}", 400)
    assert set(body) == {"error", "parameter"} and body["parameter"] == param
    assert body["error"].startswith(f"{param}=") or param in body["error"].split(" (got")[0]


@pytest.mark.django_db
def test_bad_input_messages_say_what_to_write(client, corpus):
    assert get_json(client, "/api/daily_papers?date=2026-13-01", 400)["error"] == (
        "date='2026-13-01' is not a real calendar date"
    )
    assert get_json(client, "/api/daily_papers?date=1/7/2026", 400)["error"] == (
        "date='1/7/2026' is not a date: write it as YYYY-MM-DD, e.g. 2026-06-30"
    )
    assert "write it as YYYY-Www" in get_json(client, "/api/daily_papers?week=2026-27", 400)["error"]
    assert "write it as YYYY-MM" in get_json(client, "/api/daily_papers?month=June", 400)["error"]
    assert get_json(client, "/api/daily_papers?limit=500", 400)["error"] == (
        "limit=500 is out of range: limit is from 1 to 100"
    )
    assert get_json(client, "/api/daily_papers?p=-1", 400)["error"] == (
        "p=-1 is out of range: p is the page number, counted from 0"
    )
    assert get_json(client, "/api/daily_papers?sort=votes", 400)["error"] == (
        "sort='votes' is not a sort order: use publishedAt or trending"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=many", "q=mlp&limit=-1"])
def test_bad_search_limits_get_a_400(client, corpus, query):
    assert get_json(client, f"/api/papers/search?{query}", 400)["parameter"] == "limit"


@pytest.mark.django_db
def test_empty_parameters_count_as_not_given(client, corpus):
    everything = ids(get_json(client, "/api/daily_papers"))
    assert ids(get_json(client, "/api/daily_papers?date=&week=&month=&sort=&p=&limit=&submitter=")) == everything


@pytest.mark.django_db
def test_only_get_is_allowed_and_any_site_may_read(client, corpus):
    strict = Client(enforce_csrf_checks=True)  # a POST is refused as a POST, not as a missing CSRF token
    for url in ("/api/daily_papers", "/api/papers/search?q=mlp", "/api/papers/2606.00001", "/papers/2606.00001.md"):
        response = strict.post(url)
        assert response.status_code == 405, url
        assert response["Allow"] == "GET, HEAD"
        assert json.loads(response.content) == {"error": "POST is not allowed here: this API is read-only (GET)"}
        assert client.get(url)["Access-Control-Allow-Origin"] == "*"
    assert client.head("/api/daily_papers").status_code == 200


# --- /api/papers/{id} ---


@pytest.fixture
def featured(corpus):
    """2606.00001 with an organization, project and code links, a confirmed author, a comment and two upvotes."""
    paper = Paper.objects.get(arxiv_id="2606.00001")
    lab = Organization.objects.create(name="Analytical Engines Lab", slug="analytical-engines")
    Paper.objects.filter(pk=paper.pk).update(
        organization=lab, project_url="https://example.org/mixer", code_url="https://github.com/example/mixer"
    )
    ada = member("ada")
    Profile.objects.filter(user=ada).update(display_name="Ada King")
    AuthorClaim.objects.create(
        user=ada,
        paper=paper,
        author=Author.objects.get(name="Ada Lovelace"),
        status=AuthorClaim.Status.APPROVED,
        decided_at=timezone.now(),
    )
    Comment.objects.create(paper=paper, author=ada, body="Tight bound.", body_html="<p>Tight bound.</p>")
    Comment.objects.create(paper=paper, author=ada, body="spam", body_html="<p>spam</p>", hidden=True)
    vote("2606.00001", "ada", "alan")
    return paper


def test_a_paper_is_the_huggingface_paper_object(client, featured):
    body = get_json(client, "/api/papers/2606.00001")
    assert body["id"] == "2606.00001"
    assert body["title"] == featured.title and body["summary"] == featured.abstract
    assert body["upvotes"] == 2 and body["numComments"] == 1  # the hidden comment is not counted
    assert body["publishedAt"] == "2026-06-30T00:00:00.000Z"
    assert body["submittedOnDailyAt"] == "2026-06-30T00:00:00.000Z"
    assert body["projectPage"] == "https://example.org/mixer"
    assert body["githubRepo"] == "https://github.com/example/mixer"
    assert body["organization"] == {"name": "analytical-engines", "fullname": "Analytical Engines Lab"}
    ada, alan, grace = body["authors"]
    assert ada == {
        "user": {"fullname": "Ada King", "user": "ada", "name": "ada", "type": "user"},
        "name": "Ada Lovelace",
        "hidden": False,
        "status": "claimed_verified",
    }
    assert alan == {"name": "Alan Turing", "hidden": False} and grace["name"] == "Grace Hopper"
    item = get_json(client, "/api/daily_papers?date=2026-06-30")[0]
    assert item["organization"] == body["organization"] and item["numComments"] == 1
    assert item["paper"] == {key: value for key, value in body.items() if key != "numComments"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ("2606.00005v2", "2606.00005"),
        ("2606.00005v1", "2606.00005"),
        ("2606.00005", "2606.00005"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("arXiv:2606.00002", "2606.00002"),
    ],
)
def test_any_form_of_an_id_finds_the_paper(client, corpus, asked, found):
    assert get_json(client, f"/api/papers/{asked}")["id"] == found


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("2606.99999", "arXiv:2606.99999 is not on this site"),
        ("2606.99999v2", "arXiv:2606.99999 is not on this site"),
        ("not-a-paper", "'not-a-paper' is not an arXiv id: write it like 2501.00001 or hep-th/9901001"),
        ("2606.00001/extra", "'2606.00001/extra' is not an arXiv id: write it like 2501.00001 or hep-th/9901001"),
    ],
)
def test_an_unknown_id_is_a_404_with_a_json_error(client, corpus, asked, message):
    assert get_json(client, f"/api/papers/{asked}", 404) == {"error": message}


# --- /api/papers/search ---


@pytest.mark.django_db
def test_search_lists_matching_papers_in_the_daily_shape(client, corpus):
    vote("2606.00007", "ada")
    items = get_json(client, "/api/papers/search?q=multilayer perceptron")
    assert set(ids(items)) >= {"2606.00001", "2606.00007"}
    survey = next(item for item in items if item["paper"]["id"] == "2606.00007")
    assert survey["title"] == "A Survey of Multilayer Perceptron Training" and survey["paper"]["upvotes"] == 1
    assert survey["publishedAt"] == "2026-06-26T00:00:00.000Z"
    assert len(get_json(client, "/api/papers/search?q=MLP&limit=1")) == 1
    assert get_json(client, "/api/papers/search?q=zzzzqqq") == []
    assert get_json(client, "/api/papers/search?q=-mlp") == []  # only a word to leave out: nothing to look for


@pytest.mark.django_db
def test_search_without_words_lists_the_most_recent_papers(client, corpus):
    assert ids(get_json(client, "/api/papers/search")) == ids(get_json(client, "/api/daily_papers"))
    assert len(get_json(client, "/api/papers/search?q=&limit=2")) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("q", ['"', "AND(", "NEAR(a b, 2)", "*", "\\", "\x00", "😀", "x" * 5000, "<script>", "%"])
def test_hostile_searches_answer_with_a_list(client, corpus, q):
    assert isinstance(get_json(client, "/api/papers/search?" + urlencode({"q": q})), list)


# --- /papers/{id}.md ---


def test_the_markdown_page_has_title_authors_links_figures_and_abstract(client, featured):
    response = client.get("/papers/2606.00001.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text.startswith(f"# {MIXER}\n")
    assert "**Authors:** Ada Lovelace (@ada), Alan Turing, Grace Hopper\n" in text
    assert "**Organization:** Analytical Engines Lab\n" in text
    assert "- arXiv: [2606.00001](https://arxiv.org/abs/2606.00001) · [PDF](https://arxiv.org/pdf/2606.00001)" in text
    assert "- On this site: [http://testserver/papers/2606.00001](http://testserver/papers/2606.00001)" in text
    assert "- Project page: [https://example.org/mixer](https://example.org/mixer)" in text
    assert "- Code: [https://github.com/example/mixer](https://github.com/example/mixer)" in text
    assert "- Published: 30 June 2026\n- On the daily list: 30 June 2026\n" in text
    assert "- Upvotes: 2\n- Comments: 1\n" in text
    assert text.endswith("## Abstract\n\n" + featured.abstract + "\n")


@pytest.mark.django_db
def test_the_markdown_page_of_a_versioned_or_old_style_id(client, corpus):
    text = client.get("/papers/2606.00005v2.md").content.decode()
    assert text.startswith("# Diffusion Policies for Robot Manipulation\n")
    assert "[2606.00005v2](https://arxiv.org/abs/2606.00005v2)" in text
    old = client.get("/papers/hep-th/9901001.md")
    assert old.status_code == 200 and "# String Dualities and Old-Style Identifiers" in old.content.decode()


@pytest.mark.django_db
def test_the_markdown_page_names_a_submission_and_its_submitter(client, corpus):
    grace = member("grace")
    Profile.objects.filter(user=grace).update(display_name="Grace Hopper")
    today = timezone.localdate()
    submit_paper(grace, "2606.00003", today=today)
    text = client.get("/papers/2606.00003.md").content.decode()
    assert f"- On the daily list: {today.day} {today:%B %Y}, submitted by Grace Hopper (@grace)\n" in text
    # LaTeX is left as written, for whoever renders it.
    assert "# Sorting in $\\mathcal{O}(n \\log n)$ Time with Learned Comparators\n" in text


@pytest.mark.django_db
def test_the_markdown_page_of_hostile_text_renders_no_html(client, corpus):
    text = client.get("/papers/2606.00006.md").content.decode()
    assert "# \\<script>alert('title')\\</script> Robustness of Parsers" in text
    html = MarkdownIt("commonmark", {"html": True}).render(text)  # a renderer that lets raw HTML through
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert('title')&lt;/script&gt; Robustness of Parsers" in html


@pytest.mark.django_db
def test_the_markdown_route_does_not_take_over_the_paper_pages(client, corpus):
    assert client.get("/papers/2606.00001").status_code == 200
    assert b"<h1" in client.get("/papers/2606.00001").content
    assert client.get("/papers/hep-th/9901001").status_code == 200
    missing = client.get("/papers/2606.99999.md")
    assert missing.status_code == 404 and json.loads(missing.content) == {
        "error": "arXiv:2606.99999 is not on this site"
    }


# --- the shapes against huggingface.co's recorded responses ---


def _keys(items: list[dict], part) -> set[str]:
    found: set[str] = set()
    for item in items:
        value = part(item)
        for one in value if isinstance(value, list) else [value]:
            found |= set(one or {})
    return found


def test_every_field_we_send_has_huggingface_name_and_nesting(client, featured):
    grace = member("grace")
    submit_paper(grace, "2606.00001", today=timezone.localdate())
    recorded = sum((json.loads(path.read_text()) for path in HF_FIXTURES), [])
    ours = get_json(client, "/api/daily_papers?limit=100")
    parts = {
        "item": lambda item: item,
        "paper": lambda item: item["paper"],
        "author": lambda item: item["paper"]["authors"],
        "author user": lambda item: [a["user"] for a in item["paper"]["authors"] if "user" in a],
        "organization": lambda item: item.get("organization"),
        "paper organization": lambda item: item["paper"].get("organization"),
    }
    for name, part in parts.items():
        sent = _keys(ours, part)
        assert sent, f"the test data gives no {name}"
        assert sent <= _keys(recorded, part), f"{name}: {sent - _keys(recorded, part)} are not huggingface.co's"
    # huggingface.co names the submitter's username `user` in submittedOnDailyBy; submittedBy gets it too, so that
    # huggingface_hub (which reads `user`) knows who submitted.
    submitters = _keys(recorded, lambda item: [item.get("submittedBy"), item["paper"].get("submittedOnDailyBy")])
    assert _keys(ours, lambda item: [item.get("submittedBy"), item["paper"].get("submittedOnDailyBy")]) <= submitters
    for item in ours:
        assert isinstance(item["paper"]["upvotes"], int) and isinstance(item["numComments"], int)
        assert item["publishedAt"].endswith("T00:00:00.000Z")


# --- the acceptance test: the real huggingface_hub against `paperfeed serve` ---

SETUP = """
from django.contrib.auth.models import User
from django.utils import timezone
from paperfeed.community.models import Profile
from paperfeed.community.services.comments import post_comment
from paperfeed.community.services.submissions import submit_paper
from paperfeed.community.services.votes import set_vote
from paperfeed.papers.models import Paper, PaperExtras

def member(name, display=""):
    user = User.objects.create_user(name, f"{name}@example.org", "a long enough password")
    Profile.objects.update_or_create(user=user, defaults={"email_verified": True, "display_name": display})
    return user

ada, alan, grace = member("ada", "Ada Lovelace"), member("alan"), member("grace", "Grace Hopper")
paper = {p.arxiv_id: p for p in Paper.objects.all()}
for user, ids in ((ada, ["2606.00002", "2606.00008", "2606.00001"]), (alan, ["2606.00002", "2606.00008"]),
                  (grace, ["2606.00002"])):
    for arxiv_id in ids:
        set_vote(user, paper[arxiv_id], True)
post_comment(ada, paper["2606.00001"], "The mixing is the point.")
submit_paper(grace, "2606.00009")
Paper.objects.filter(arxiv_id="2606.00010").update(hidden=True)
Paper.objects.filter(arxiv_id="2606.00005").update(code_url="https://github.com/real-stanford/diffusion_policy")
PaperExtras.objects.create(paper=paper["2606.00005"], summary="Robots act by denoising.",
                           summary_keywords=["diffusion", "robot manipulation"], summary_origin="huggingface")
print(timezone.localdate().isoformat())
"""


@pytest.fixture(scope="module")
def hf_site(tmp_path_factory):
    """`paperfeed serve` on the test corpus, with upvotes (2606.00002: 3, 2606.00008: 2, 2606.00001: 1), a comment,
    grace's submission of 2606.00009 for today, and 2606.00010 hidden by a moderator."""
    data = tmp_path_factory.mktemp("hf-site") / "data"
    data.mkdir()
    env = site_env(data, {"PATH": "/usr/bin:/bin"}, migrated=True)
    for command in (["migrate", "-v0"], ["load-jsonl", str(SMALL)]):
        subprocess.run([sys.executable, "-m", "paperfeed", *command], env=env, check=True, capture_output=True)
    setup = subprocess.run(
        [sys.executable, "-m", "paperfeed", "shell", "-c", SETUP], env=env, check=True, capture_output=True, text=True
    )
    site = start_site(data, "--no-demo", "--no-worker")
    site.today = setup.stdout.strip().splitlines()[-1]
    yield site
    site.stop()


@pytest.fixture
def hf_api(hf_site, tmp_path, monkeypatch):
    """huggingface_hub's HfApi pointed at the site; every connection it makes is recorded, and must be local."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    import huggingface_hub
    from huggingface_hub import constants
    from huggingface_hub.utils import close_session

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    connections: list[object] = []
    connect = socket.socket.connect

    def recording_connect(sock, address):
        connections.append(address)
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    close_session()  # no connection kept open from an earlier test: each one here is seen
    yield huggingface_hub.HfApi(endpoint=hf_site.url, token=False)
    close_session()
    hosts = {address[0] for address in connections if isinstance(address, tuple)}
    assert hosts <= {"127.0.0.1"}, f"huggingface_hub connected elsewhere: {hosts}"
    assert connections, "huggingface_hub made no connection at all"


def test_huggingface_hub_lists_daily_papers_by_date_week_month_sort_and_submitter(hf_site, hf_api):
    day = list(hf_api.list_daily_papers(date="2026-06-30"))
    assert [p.id for p in day] == ["2606.00002", "2606.00001"]
    assert [p.title for p in day] == ["Graph Transformers at Scale", MIXER]
    assert [p.upvotes for p in day] == [3, 1]
    assert [p.comments for p in day] == [0, 1]
    assert [a.name for a in day[0].authors][:2] == ["Edsger Dijkstra", "Barbara Liskov"]
    assert day[0].published_at.date().isoformat() == "2026-06-30"
    assert day[0].submitted_at.date().isoformat() == "2026-06-30"

    week = [p.id for p in hf_api.list_daily_papers(week="2026-W27")]
    assert week == [
        "2606.00008",
        "2606.00006",
        "2606.00005",
        "2606.00002",
        "2606.00001",
        "hep-th/9901001",  # no upvotes on 29 June: the larger id first
        "2606.00003",
    ]
    june = [p.id for p in hf_api.list_daily_papers(month="2026-06")]
    assert june[:4] == ["2606.00002", "2606.00001", "hep-th/9901001", "2606.00003"]
    assert set(june[4:]) == {"2606.00007", "2606.00009"}  # 2606.00010 is hidden

    trending = [p.id for p in hf_api.list_daily_papers(sort="trending")]
    assert trending[:3] == ["2606.00002", "2606.00008", "2606.00001"]
    assert "2606.00010" not in trending and len(trending) == 9
    assert [p.id for p in hf_api.list_daily_papers(sort="publishedAt", limit=2)] == ["2606.00009", "2606.00008"]
    assert [p.id for p in hf_api.list_daily_papers(sort="trending", p=1, limit=2)] == trending[2:4]

    (submitted,) = hf_api.list_daily_papers(submitter="grace")
    assert submitted.id == "2606.00009"
    assert submitted.submitted_by.username == "grace" and submitted.submitted_by.fullname == "Grace Hopper"
    assert submitted.submitted_at.date().isoformat() == hf_site.today
    assert [p.id for p in hf_api.list_daily_papers(date=hf_site.today)] == ["2606.00009"]
    assert list(hf_api.list_daily_papers(submitter="nobody")) == []


def test_huggingface_hub_reads_a_paper_searches_and_reads_markdown(hf_site, hf_api):
    info = hf_api.paper_info("2606.00005v2")
    assert info.id == "2606.00005" and info.title == "Diffusion Policies for Robot Manipulation"
    assert [a.name for a in info.authors] == ["Cheng Chi", "Shuran Song"]
    assert info.published_at.date().isoformat() == "2026-07-01"
    assert info.github_repo == "https://github.com/real-stanford/diffusion_policy"
    assert (info.ai_summary, info.ai_keywords) == ("Robots act by denoising.", ["diffusion", "robot manipulation"])
    old = hf_api.paper_info("hep-th/9901001")
    assert old.title == "String Dualities and Old-Style Identifiers"
    first = hf_api.paper_info("2606.00001")
    assert first.upvotes == 1 and first.comments == 1

    found = [p.id for p in hf_api.list_papers(query="multilayer perceptron")]
    assert {"2606.00001", "2606.00007"} <= set(found)
    assert len(list(hf_api.list_papers(query="MLP", limit=1))) == 1
    assert list(hf_api.list_papers(query="zzzzqqq")) == []
    assert "2606.00010" not in [p.id for p in hf_api.list_papers(query="protein folding")]

    text = hf_api.read_paper("2606.00001")
    assert text.startswith(f"# {MIXER}\n")
    assert "**Authors:** Ada Lovelace, Alan Turing, Grace Hopper" in text
    assert "- Upvotes: 1\n" in text and f"{hf_site.url}/papers/2606.00001" in text


def test_huggingface_hub_gets_a_404_for_unknown_and_hidden_papers_and_a_400_for_a_bad_date(hf_api):
    from huggingface_hub.errors import BadRequestError, HfHubHTTPError

    for call, arxiv_id in (
        (hf_api.paper_info, "2606.99999"),
        (hf_api.read_paper, "2606.99999"),
        (hf_api.paper_info, "2606.00010"),
    ):
        with pytest.raises(HfHubHTTPError) as raised:
            call(arxiv_id)
        assert raised.value.response.status_code == 404
        assert f"arXiv:{arxiv_id}" in str(raised.value)  # the server's message, shown by huggingface_hub
    with pytest.raises(BadRequestError) as raised:
        list(hf_api.list_daily_papers(date="2026-13-01"))
    assert raised.value.response.status_code == 400
    assert "date='2026-13-01' is not a real calendar date" in str(raised.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["", "?date=2026-06-30", "?week=2026-W27&p=1&limit=2", "?sort=trending", "?limit=3&p=3"]
)
def test_a_page_takes_a_bounded_number_of_queries(client, corpus, query, django_assert_max_num_queries, no_page_cache):
    vote("2606.00002", "ada")
    with django_assert_max_num_queries(12):
        get_json(client, f"/api/daily_papers{query}")


DAILY_PARAMS = ("date", "week", "month", "submitter", "sort", "p", "limit")


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(DAILY_PARAMS), st.text(max_size=30)))
def test_any_daily_parameters_get_a_list_or_a_400_naming_one_of_them(client, corpus, params):
    response = client.get("/api/daily_papers?" + urlencode(params))
    body = json.loads(response.content)
    if response.status_code == 200:
        assert isinstance(body, list)
    else:
        assert response.status_code == 400 and body["parameter"] in params and body["error"]
