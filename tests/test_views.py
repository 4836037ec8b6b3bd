"""The pages, through Django's test client on a SQLite file holding the 10-paper test corpus."""

import json
import re
from datetime import timedelta

import pytest
from conftest import SMALL
from conftest import card_titles as titles
from django.contrib.auth.models import User
from django.utils import timezone

from paperfeed.papers.models import Organization, Paper, Vote

pytestmark = pytest.mark.django_db

HOSTILE_QUERIES = [
    '"',
    '""',
    '"unbalanced',
    "*",
    "mlp*",
    "-",
    "-mlp",
    "AND(",
    "AND",
    "OR OR",
    "NOT",
    "NEAR(a b, 2)",
    "NEAR",
    "title:mlp",
    ":",
    "^mlp",
    "a^b",
    "(",
    ")",
    "((mlp",
    "mlp))",
    "[",
    "]{",
    "{title abstract}: x",
    "'; DROP TABLE papers_paper; --",
    "😀",
    "🔥 mlp 🔥",
    "\u0000",
    "\ud7ff",
    "x" * 10_000,
    "mlp " * 2500,
    "<script>alert(1)</script>",
    "%",
    "%%",
    "_",
    "\\",
]


# --- the daily list ---


def test_home_shows_the_latest_day_with_papers(client, corpus):
    response = client.get("/")
    assert response.status_code == 200
    assert "Wednesday, 1 July 2026" in response.content.decode()
    assert sorted(titles(response)) == [
        "<script>alert('title')</script> Robustness of Parsers",
        "Cross-Lingual Retrieval with Small Language Models",
        "Diffusion Policies for Robot Manipulation",
    ]


def test_a_card_shows_what_the_hf_list_shows(client, corpus):
    paper = Paper.objects.get(arxiv_id="2606.00002")
    paper.organization = Organization.objects.create(name="Example Lab", slug="example-lab")
    paper.save()
    html = client.get("/?date=2026-06-30").content.decode()
    card = html[html.index("Graph Transformers at Scale") - 200 :]
    card = card[: card.index("</article>")]
    assert 'href="/papers/2606.00002"' in card
    assert "Graph transformers scale to billions" in card  # the start of the abstract
    assert "Edsger Dijkstra, Barbara Liskov, Donald Knuth and 2 more" in card
    assert "5 authors" in card
    assert "30 Jun 2026" in card
    assert "Example Lab" in card
    assert "cs.LG" in card
    assert re.search(r"▲</span> 0", card)


def test_previous_and_next_days_skip_empty_days(client, corpus):
    html = client.get("/?date=2026-06-29").content.decode()
    assert 'rel="prev" href="?date=2026-06-26"' in html  # Saturday and Sunday had no papers
    assert 'rel="next" href="?date=2026-06-30"' in html


def test_the_first_day_has_no_previous_link(client, corpus):
    html = client.get("/?date=2026-06-26").content.decode()
    assert 'rel="prev"' not in html.split("period-nav")[1].split("</nav>")[0]


def test_a_day_without_papers_says_so_and_points_to_neighbours(client, corpus):
    response = client.get("/?date=2026-06-27")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No papers were listed on Saturday, 27 June 2026" in html
    assert "?date=2026-06-26" in html and "?date=2026-06-29" in html


def test_week_and_month_views(client, corpus):
    week = client.get("/?week=2026-W27")
    assert len(titles(week)) == 7  # 29 June to 5 July
    assert 'rel="prev" href="?week=2026-W26"' in week.content.decode()
    month = client.get("/?month=2026-06")
    assert len(titles(month)) == 7  # 26, 29 and 30 June
    assert 'rel="next" href="?month=2026-07"' in month.content.decode()


def test_the_date_picker_is_a_plain_form(client, corpus):
    html = client.get("/").content.decode()
    assert re.search(r'<form class="date-picker" method="get" action="/">', html)
    assert 'type="date" id="date" name="date" value="2026-07-01" min="2026-06-26" max="2026-07-01"' in html


def test_sort_by_votes_or_newest(client, corpus):
    user = User.objects.create(username="u")
    Vote.objects.create(user=user, paper=Paper.objects.get(arxiv_id="2606.00001"))
    by_votes = titles(client.get("/?date=2026-06-30"))
    assert by_votes[0].startswith("MLP-Mixer")
    newest = titles(client.get("/?date=2026-06-30&sort=newest"))
    assert newest[0] == "Graph Transformers at Scale"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date=2026-02-30", "date=&#x27;2026-02-30&#x27; is not a real calendar date"),
        ("date=tomorrow", "write it as YYYY-MM-DD"),
        ("week=2026-W60", "year 2026 has no week 60"),
        ("month=2026-00", "write it as YYYY-MM"),
        ("sort=random", "use votes, newest or stars"),
        ("page=two", "is not a page number"),
        ("date=2026-06-30&month=2026-06", "give only one of"),
    ],
)
def test_malformed_parameters_are_a_400_that_names_them(client, corpus, query, message):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_empty_database_explains_how_to_load_papers(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "paperfeed load-jsonl" in response.content.decode()


# --- the paper page ---


def test_paper_page(client, corpus):
    html = client.get("/papers/2606.00002").content.decode()
    for text in [
        '<h1 class="paper-title">Graph Transformers at Scale</h1>',
        "Edsger Dijkstra",
        "Frances Allen",
        "John Backus",
        "Graph transformers scale to billions of edges",
        'href="https://arxiv.org/abs/2606.00002"',
        'href="https://arxiv.org/pdf/2606.00002"',
        "30 June 2026",
        "cs.LG",
    ]:
        assert text in html, text


def test_paper_page_shows_comment_and_categories(client, corpus):
    html = client.get("/papers/2606.00008").content.decode()
    assert "Accepted at ACL 2026" in html
    assert all(c in html for c in ["cs.CL", "cs.IR", "cs.LG"])
    assert "Zoë Müller" in html and "李雷" in html


def test_latex_is_left_for_katex_and_never_html(client, corpus):
    html = client.get("/papers/2606.00003").content.decode()
    assert r"$\mathcal{O}(n)$" in html
    assert "katex.min.js" in html and "auto-render.min.js" in html


def test_hostile_text_is_escaped(client, corpus):
    html = client.get("/papers/2606.00006").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror" in html
    assert "<b>Evil</b>" not in html


def test_versioned_ids_resolve_and_keep_the_version_in_links(client, corpus):
    response = client.get("/papers/2606.00002v3")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="https://arxiv.org/abs/2606.00002v3"' in html
    assert "you asked for v3" in html


def test_old_style_ids_resolve(client, corpus):
    response = client.get("/papers/hep-th/9901001")
    assert response.status_code == 200
    assert "String Dualities" in response.content.decode()
    assert client.get("/papers/hep-th/9901001v2").status_code == 200


@pytest.mark.parametrize("path", ["/papers/not-an-id", "/papers/", "/papers/../../etc/passwd", "/nowhere"])
def test_unknown_pages_get_a_friendly_404(client, corpus, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here" in html and 'action="/search"' in html


@pytest.mark.parametrize("path", ["/papers/2606.99999", "/papers/2606.99999v3", "/papers/math/0101001"])
def test_a_paper_we_do_not_have_points_to_arxiv(client, corpus, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    arxiv_id = path.removeprefix("/papers/")
    assert f"arXiv:{arxiv_id} is not on this site yet" in html
    assert f'href="https://arxiv.org/abs/{arxiv_id}"' in html
    assert 'action="/search"' in html


# --- trending ---


def test_trending_without_votes_says_so_and_shows_newest(client, corpus):
    response = client.get("/trending")
    html = response.content.decode()
    assert "No upvotes yet" in html
    found = titles(response)
    assert len(found) == 10
    # Newest first: the three papers of 1 July, then 30 June's.
    assert set(found[:3]) == {
        "Diffusion Policies for Robot Manipulation",
        "Cross-Lingual Retrieval with Small Language Models",
        "<script>alert('title')</script> Robustness of Parsers",
    }
    assert set(found[3:5]) == {
        "Graph Transformers at Scale",
        "MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision",
    }


def test_trending_ranks_recent_votes_first(client, corpus):
    now = timezone.now()
    users = [User.objects.create(username=f"u{i}") for i in range(5)]
    old, fresh = Paper.objects.get(arxiv_id="2606.00010"), Paper.objects.get(arxiv_id="2606.00009")
    for user in users:  # five votes, four days old
        Vote.objects.create(user=user, paper=old, created_at=now - timedelta(days=4))
    for user in users[:2]:  # two votes, an hour old
        Vote.objects.create(user=user, paper=fresh, created_at=now - timedelta(hours=1))
    response = client.get("/trending")
    assert "No upvotes yet" not in response.content.decode()
    assert titles(response) == [
        "Efficient Attention for Long Documents",
        "Protein Folding with Geometric Deep Learning",
    ]


# --- search ---


def test_mlp_finds_multilayer_perceptron_papers_first(client, corpus):
    response = client.get("/search", {"q": "MLP"})
    found = titles(response)
    assert found[0].startswith("MLP-Mixer Revisited")
    # The spelled-out form is found too, after the papers that say MLP.
    assert found == [found[0], "Graph Transformers at Scale", "A Survey of Multilayer Perceptron Training"]
    html = response.content.decode()
    assert "<mark>MLP</mark>" in html
    assert "3 results" in html


def test_search_covers_authors_and_highlights_safely(client, corpus):
    response = client.get("/search", {"q": "Knuth"})
    assert titles(response) == ["Graph Transformers at Scale"]
    response = client.get("/search", {"q": "hostile input"})
    html = response.content.decode()
    assert "<img src=x" not in html and "&lt;img" in html


def test_search_filters_by_category_and_dates(client, corpus):
    assert titles(client.get("/search", {"q": "retrieval", "category": "cs.IR"})) == [
        "Cross-Lingual Retrieval with Small Language Models"
    ]
    assert titles(client.get("/search", {"q": "retrieval", "category": "cs.CV"})) == []
    dated = titles(client.get("/search", {"q": "retrieval", "from": "2026-06-20", "to": "2026-06-28"}))
    assert dated == ["Efficient Attention for Long Documents"]


def test_the_search_form_keeps_the_chosen_category_and_offers_every_primary_category(client, corpus):
    from django.core.cache import cache

    cache.clear()  # the list is cached for ten minutes: another test's corpus may be in it
    primaries = sorted(set(Paper.objects.values_list("primary_category", flat=True)))

    def offered(category: str) -> tuple[list[str], list[str]]:
        html = client.get("/search", {"q": "retrieval", "category": category}).content.decode()
        options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html)
        assert options[0] == ("", "", "any") and all(value == label for value, _, label in options[1:])
        return [value for value, _, _ in options[1:]], [value for value, selected, _ in options if selected]

    assert offered("cs.LG") == (primaries, ["cs.LG"])
    # A category no paper has as its primary one (papers list it among others): still shown as the filter in force.
    assert offered("cs.IR") == (sorted([*primaries, "cs.IR"]), ["cs.IR"])


def test_search_falls_back_to_any_word_and_says_so(client, corpus):
    response = client.get("/search", {"q": "protein zebra"})
    assert "matching some of your words" in response.content.decode()
    assert titles(response) == ["Protein Folding with Geometric Deep Learning"]


def test_search_paginates(client, corpus, monkeypatch):
    from paperfeed.papers.retrieval import request

    monkeypatch.setattr(request, "PAGE_SIZE", 2)
    first = client.get("/search", {"q": "learning"})
    assert "page 1 of" in first.content.decode()
    second = client.get("/search", {"q": "learning", "page": "2"})
    assert set(titles(first)).isdisjoint(titles(second))
    assert 'rel="prev"' in second.content.decode()


def test_an_emptied_live_search_box_shows_tips(client, corpus):
    html = client.get("/search", {"q": ""}, headers={"HX-Request": "true"}).content.decode()
    assert "Type words to search" in html


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_answer_200(client, corpus, query):
    response = client.get("/search", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "from": "yesterday"},
        {"q": "x", "to": "2026-02-30"},
        {"q": "x", "from": "2026-07-01", "to": "2026-06-01"},
    ],
)
def test_bad_search_filters_are_a_400(client, corpus, params):
    assert client.get("/search", params).status_code == 400


# --- every page ---

PAGES = ["/", "/?week=2026-W27", "/?month=2026-06", "/papers/2606.00002", "/trending", "/search?q=learning"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_semantic_phone_ready_and_safe(client, corpus, path):
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    for tag in [
        '<html lang="en">',
        '<meta name="viewport"',
        'name="color-scheme" content="light dark"',
        "<main",
        "<nav",
        "<header",
        "<footer",
    ]:
        assert tag in html, tag
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in html  # no inline script anywhere: everything is a file under /static/


def sync_keyword_index() -> None:
    from paperfeed.papers.retrieval import sync_keyword_index as sync

    sync()


def _queries(client, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", PAGES)
def test_no_n_plus_one_queries(client, corpus, path, tmp_path, no_page_cache):
    """A page costs the same number of queries whether it shows 3 papers or 30."""
    from paperfeed.papers.services.loading import load_jsonl

    org = Organization.objects.create(name="Lab", slug="lab")
    users = [User.objects.create(username=f"q{i}") for i in range(3)]

    def decorate():
        Paper.objects.update(organization=org)
        Vote.objects.bulk_create(
            [Vote(user=u, paper=p) for u in users for p in Paper.objects.all()], ignore_conflicts=True
        )

    decorate()
    client.get(path)  # caches (the category list) warm up once
    few = _queries(client, path)
    # Ten more copies of every paper, on the same days, with the same words.
    rows = [json.loads(line) for line in SMALL.read_text().splitlines()]
    more = tmp_path / "more.jsonl"
    more.write_text(
        "".join(json.dumps(dict(r, id=f"2607.{n:03d}{i:02d}")) + "\n" for n in range(10) for i, r in enumerate(rows))
    )
    load_jsonl(more)
    decorate()
    sync_keyword_index()  # as the loader does once its batches are committed (here, inside the test's transaction)
    assert _queries(client, path) == few
    assert few <= 10


def test_the_stylesheet_has_dark_mode_and_a_phone_layout(client):
    from django.contrib.staticfiles import finders

    with open(finders.find("paperfeed/site.css")) as f:
        css = f.read()
    assert "@media (prefers-color-scheme: dark)" in css
    assert "@media (max-width: 40rem)" in css


def test_head_requests_have_no_body(client, corpus):
    response = client.head("/")
    assert response.status_code == 200
    assert response.content == b""


def test_broad_queries_rank_every_match_whatever_its_age(client, corpus, monkeypatch):
    from paperfeed.papers.retrieval import request

    monkeypatch.setattr(request, "PAGE_SIZE", 1)
    # 200 newer papers that mention the word once in a long abstract: the old paper with it in its title still
    # ranks first, as BM25 says, however many newer matches there are.
    rows = [
        {
            "id": f"2607.{n:05d}",
            "title": f"Filler {n}",
            "abstract": "learning " + "padding words " * 60,
            "authors": ["Someone"],
            "categories": ["cs.LG"],
            "first_listed": "2026-07-01",
        }
        for n in range(200)
    ]
    import orjson

    from paperfeed.core.records import parse_jsonl_line
    from paperfeed.papers.services.loading import LoadSummary, PaperLoader

    PaperLoader().write([parse_jsonl_line(orjson.dumps(r)) for r in rows], LoadSummary())
    response = client.get("/search", {"q": "learning", "mode": "keyword"})
    html = response.content.decode()
    assert titles(response) == ["Protein Folding with Geometric Deep Learning"]
    assert "203 results" in html and "page 1 of 203" in html
    last = client.get("/search", {"q": "learning", "mode": "keyword", "page": "203"})
    assert len(titles(last)) == 1 and titles(last)[0].startswith("Filler")


def test_a_query_that_only_excludes_explains_itself(client, corpus):
    html = client.get("/search", {"q": "-survey"}).content.decode()
    assert "only leaves papers out" in html


def test_staff_can_browse_papers_in_the_admin(client, corpus):
    admin = User.objects.create_superuser("admin", "admin@example.org", "a-long-passphrase")
    client.force_login(admin)
    assert client.get("/admin/papers/paper/").status_code == 200
    paper = Paper.objects.get(arxiv_id="2606.00002")
    html = client.get(f"/admin/papers/paper/{paper.id}/change/").content.decode()
    assert "Edsger Dijkstra" in html


def test_paper_page_shows_what_other_sources_added(client, corpus):
    Paper.objects.filter(arxiv_id="2606.00002").update(
        project_url="https://graph.example.org",
        code_url="https://github.com/example/graphs",
        hf_upvotes=42,
        doi="10.1000/xyz123",
        journal_ref="J. Graphs 12 (2026) 1-20",
    )
    html = client.get("/papers/2606.00002").content.decode()
    assert 'href="https://graph.example.org"' in html and ">Project page<" in html
    assert 'href="https://github.com/example/graphs"' in html and ">Code<" in html
    assert "42 upvotes there" in html and 'href="https://huggingface.co/papers/2606.00002"' in html
    assert 'href="https://doi.org/10.1000/xyz123"' in html and "J. Graphs 12 (2026) 1-20" in html
    card = client.get("/?date=2026-06-30").content.decode()
    assert "HF ▲ 42" in card


def test_a_category_link_lists_the_categorys_newest_papers(client, corpus):
    from paperfeed.papers.models import Paper

    expected = [p.title for p in Paper.objects.order_by("-published", "-arxiv_id") if "cs.LG" in p.categories]
    # the oracle reads every paper in Python; the page asks the database
    assert len(expected) >= 2
    response = client.get("/search", {"category": "cs.LG"})
    assert titles(response) == expected
    assert f"{len(expected)} papers in cs.LG, newest first" in response.content.decode()
    newest = Paper.objects.order_by("-published", "-arxiv_id")
    early = [p.title for p in newest if "cs.LG" in p.categories and p.published.isoformat() <= "2026-06-26"]
    assert 0 < len(early) < len(expected)
    assert titles(client.get("/search", {"category": "cs.LG", "to": "2026-06-26"})) == early
    assert "No papers in cs.XX on this site." in client.get("/search", {"category": "cs.XX"}).content.decode()
    assert client.get("/search").status_code == 302  # no words and no filters: the daily list
