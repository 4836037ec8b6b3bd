"""RSS 2.0 and Atom feeds of the site's lists, read back with feedparser as a feed reader reads them."""

import re
from datetime import date, timedelta
from html import unescape

import feedparser
import pytest
from conftest import member, signed_in
from django.test import Client
from django.utils import timezone

from paperfeed.community.models import CollectionItem
from paperfeed.community.services.collections import create_collection
from paperfeed.community.services.moderation import hide_papers
from paperfeed.papers.models import Author, DailyEntry, Organization, Paper, Vote

pytestmark = pytest.mark.django_db

LATEST_DAY = {  # the papers of the corpus's latest day, 1 July 2026
    "2606.00005": "Diffusion Policies for Robot Manipulation",
    "2606.00006": "<script>alert('title')</script> Robustness of Parsers",
    "2606.00008": "Cross-Lingual Retrieval with Small Language Models",
}
HOSTILE = "2606.00006"
HOSTILE_ABSTRACT = (
    "We test hostile input: <img src=x onerror=alert('abstract')> and $\\href{javascript:alert('katex')}{click}$ "
    "must stay inert."
)
TYPES = {"rss": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml; charset=utf-8"}


def read(client: Client, url: str) -> feedparser.FeedParserDict:
    """The feed at `url`, which must answer 200 with its format's type and parse without a complaint (bozo)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    kind = "atom" if ".atom" in url else "rss"
    assert response["Content-Type"] == TYPES[kind]
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, (url, feed.get("bozo_exception"))
    assert feed.version == ("atom10" if kind == "atom" else "rss20")
    return feed


def text(detail_value: str, detail: feedparser.FeedParserDict) -> str:
    """A title as the reader shows it: RSS titles are HTML (escaped once more), Atom titles plain text."""
    return unescape(detail_value) if detail.type == "text/html" else detail_value


def titles(feed) -> list[str]:
    return [text(entry.title, entry.title_detail) for entry in feed.entries]


def arxiv_ids(feed) -> list[str]:
    return [entry.link.removeprefix("http://testserver/papers/") for entry in feed.entries]


def vote(username: str, arxiv_id: str, hours_ago: float = 1) -> None:
    user = member(username)
    at = timezone.now() - timedelta(hours=hours_ago)
    Vote.objects.create(user=user, paper=Paper.objects.get(arxiv_id=arxiv_id), created_at=at)


# --- the daily list ---


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_daily_feed_holds_the_latest_day(client, corpus, kind):
    feed = read(client, f"/feeds/daily.{kind}")
    assert text(feed.feed.title, feed.feed.title_detail) == "Daily Papers · paperfeed"
    assert feed.feed.link == "http://testserver/"
    assert sorted(arxiv_ids(feed)) == sorted(LATEST_DAY)
    assert sorted(titles(feed)) == sorted(LATEST_DAY.values())
    for entry in feed.entries:
        assert entry.link.startswith("http://testserver/papers/")
        assert entry.id == entry.link  # the guid is the paper page's address
        assert entry.published_parsed[:3] == (2026, 7, 1)  # the day it was listed


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_an_item_carries_title_link_abstract_authors_date_and_categories(client, corpus, kind):
    feed = read(client, f"/feeds/daily.{kind}?date=2026-06-30")
    assert text(feed.feed.title, feed.feed.title_detail) == "Daily Papers, Tuesday, 30 June 2026 · paperfeed"
    entry = next(e for e in feed.entries if e.link.endswith("/papers/2606.00002"))
    assert text(entry.title, entry.title_detail) == "Graph Transformers at Scale"
    assert entry.summary == (
        "Graph transformers scale to billions of edges with sparse attention. We also compare against a small MLP "
        "baseline."
    )
    assert entry.author == "Edsger Dijkstra, Barbara Liskov, Donald Knuth, Frances Allen, John Backus"
    assert [tag.term for tag in entry.tags] == ["cs.LG"]
    assert entry.published_parsed[:3] == (2026, 6, 30)
    if kind == "rss":  # isPermaLink: readers may open the guid
        raw = client.get("/feeds/daily.rss?date=2026-06-30").content.decode()
        assert '<guid isPermaLink="true">http://testserver/papers/2606.00002</guid>' in raw
    else:
        assert entry.updated_parsed[:3] == (2026, 6, 30)  # Atom requires it on every entry


def test_the_daily_feed_takes_the_pages_periods_and_sort(client, corpus):
    assert sorted(arxiv_ids(read(client, "/feeds/daily.rss?date=2026-06-29"))) == ["2606.00003", "hep-th/9901001"]
    week = read(client, "/feeds/daily.atom?week=2026-W27")  # 29 June – 5 July
    assert len(week.entries) == 7
    vote("ada", "2606.00002")
    assert arxiv_ids(read(client, "/feeds/daily.rss?date=2026-06-30"))[0] == "2606.00002"  # most upvoted first
    newest = read(client, "/feeds/daily.rss?month=2026-06&sort=newest")
    assert arxiv_ids(newest)[0] == "2606.00002"  # published 30 June, the highest id of that day
    assert "newest first" in newest.feed.description


def test_a_paper_keeps_its_guid_across_fetches_and_days(client, corpus):
    first = {e.link: e.id for e in read(client, "/feeds/daily.rss").entries}
    again = {e.link: e.id for e in read(client, "/feeds/daily.rss").entries}
    assert first == again
    # The next day lists one of them again: the reader sees the same item, not a new one.
    paper = Paper.objects.get(arxiv_id="2606.00008")
    DailyEntry.objects.create(paper=paper, day=date(2026, 7, 2), source=DailyEntry.Source.HUGGINGFACE)
    next_day = read(client, "/feeds/daily.rss")
    assert [e.id for e in next_day.entries] == ["http://testserver/papers/2606.00008"]
    assert next_day.entries[0].id == first["http://testserver/papers/2606.00008"]
    atom = read(client, "/feeds/daily.atom?date=2026-07-01")
    assert {e.id for e in atom.entries} == set(first.values())


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_hostile_paper_stays_text_in_feeds(client, corpus, kind):
    response = client.get(f"/feeds/daily.{kind}")
    raw = response.content.decode()
    assert "<script" not in raw and "<img" not in raw and "<b>" not in raw  # never markup in the XML
    entry = next(e for e in feedparser.parse(response.content).entries if e.link.endswith(HOSTILE))
    assert text(entry.title, entry.title_detail) == LATEST_DAY[HOSTILE]
    # The description is HTML that says the abstract as text: the reader shows the tag, it does not run it.
    assert entry.summary_detail.type == "text/html"
    assert "<img" not in entry.summary and unescape(entry.summary) == HOSTILE_ABSTRACT
    assert entry.author == "Mallory <b>Evil</b>"


def test_feeds_are_limited_in_length(client, corpus):
    for n in range(60):
        paper = Paper.objects.create(
            arxiv_id=f"2607.{n:05d}", title=f"Paper {n}", primary_category="cs.LG", categories=["cs.LG"]
        )
        DailyEntry.objects.create(paper=paper, day=date(2026, 7, 3))
    assert len(read(client, "/feeds/daily.rss").entries) == 50
    assert len(read(client, "/feeds/category/cs.LG.atom").entries) == 50


# --- trending and search ---


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_trending_feed_follows_recent_upvotes(client, corpus, kind):
    vote("ada", "2606.00010", hours_ago=2)
    vote("alan", "2606.00010", hours_ago=3)
    vote("grace", "2606.00003", hours_ago=1)
    feed = read(client, f"/feeds/trending.{kind}")
    assert arxiv_ids(feed)[:2] == ["2606.00010", "2606.00003"]
    assert feed.feed.link == "http://testserver/trending"


def test_the_trending_feed_without_votes_holds_the_newest_papers(client, corpus):
    feed = read(client, "/feeds/trending.rss")
    assert len(feed.entries) == 10
    assert set(arxiv_ids(feed)[:3]) == set(LATEST_DAY)


@pytest.mark.parametrize(
    "url",
    ["/search/feed?q=mlp&mode=keyword", "/search/feed.rss?q=mlp&mode=keyword", "/search/feed.atom?q=mlp&mode=keyword"],
)
def test_a_search_feed_holds_the_searchs_results(client, corpus, url):
    feed = read(client, url)
    assert set(arxiv_ids(feed)) == {"2606.00001", "2606.00002", "2606.00007"}
    assert feed.feed.link == "http://testserver/search?q=mlp&mode=keyword"
    assert "“mlp”" in (feed.feed.get("subtitle") or feed.feed.description)


def test_a_search_feed_takes_the_pages_filters_and_modes(client, corpus):
    in_cv = read(client, "/search/feed?q=mlp&mode=keyword&category=cs.CV")
    assert arxiv_ids(in_cv) == ["2606.00001"]
    dated = read(client, "/search/feed?q=mlp&mode=keyword&from=2026-06-27&to=2026-06-30")
    assert set(arxiv_ids(dated)) == {"2606.00001", "2606.00002"}
    # By meaning, without a vector index, the search answers by words, as the page does.
    assert set(arxiv_ids(read(client, "/search/feed.atom?q=mlp"))) == {"2606.00001", "2606.00002", "2606.00007"}
    assert read(client, "/search/feed?q=zebra&mode=keyword").entries == []
    # Control characters cannot be written in XML: they are dropped from the query, not a 500.
    controlled = read(client, "/search/feed?q=%01mlp%1f&mode=keyword")
    assert "mlp" in controlled.feed.title and set(arxiv_ids(controlled)) >= {"2606.00001"}


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/search/feed", "q is empty"),
        ("/search/feed?q=%20%20", "q is empty"),
        ("/search/feed?q=-mlp&mode=keyword", "has no words to search for"),
        ("/search/feed?q=mlp&mode=fuzzy", "is not a search mode"),
        ("/search/feed?q=mlp&from=yesterday", "from=&#x27;yesterday&#x27; is not a date"),
        ("/search/feed.atom?q=mlp&to=2026-02-30", "is not a real calendar date"),
        ("/search/feed?q=mlp&from=2026-07-01&to=2026-06-01", "swap them"),
        ("/feeds/daily.rss?date=2026-13-01", "is not a real calendar date"),
        ("/feeds/daily.rss?date=soon", "is not a date"),
        ("/feeds/daily.atom?week=2026-W60", "has no week 60"),
        ("/feeds/daily.atom?month=2026-13", "is not a month"),
        ("/feeds/daily.rss?date=2026-07-01&week=2026-W27", "give only one of date, week and month"),
        ("/feeds/daily.rss?sort=random", "is not a sort order"),
    ],
)
def test_malformed_parameters_get_a_400_that_says_what_is_wrong(client, corpus, url, says):
    response = client.get(url)
    assert response.status_code == 400
    assert says in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/category/cs.XX.rss",
        "/feeds/category/cs.L.atom",  # not cs.LG: categories match whole
        "/feeds/category/%3Cscript%3E.rss",
        "/feeds/category/" + "a" * 40 + ".rss",
        "/organizations/no-such-lab/feed.rss",
        "/authors/999999/feed.atom",
        "/users/nobody/collections/nothing/feed.rss",
        "/feeds/daily.json",
    ],
)
def test_unknown_things_have_no_feed(client, corpus, url):
    assert client.get(url).status_code == 404


def test_feeds_answer_reads_only(client, corpus):
    assert client.post("/feeds/daily.rss").status_code == 405
    assert client.head("/feeds/trending.atom").status_code == 200


# --- categories, organizations, authors, collections ---


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_category_feed_holds_its_newest_papers_cross_lists_included(client, corpus, kind):
    feed = read(client, f"/feeds/category/cs.LG.{kind}")
    ids = arxiv_ids(feed)
    assert set(ids) == {p.arxiv_id for p in Paper.objects.all() if "cs.LG" in p.categories}
    assert "2606.00001" in ids  # listed in cs.CV first, cross-listed in cs.LG
    published = [Paper.objects.get(arxiv_id=i).published for i in ids]
    assert published == sorted(published, reverse=True)
    assert arxiv_ids(read(client, f"/feeds/category/hep-th.{kind}")) == ["hep-th/9901001"]
    # LaTeX in a title is left as written, for readers that render it.
    assert "Sorting in $\\mathcal{O}(n \\log n)$ Time with Learned Comparators" in titles(feed)


@pytest.mark.parametrize(
    "url", ["/feeds/daily.rss", "/feeds/daily.atom", "/feeds/trending.rss", "/feeds/trending.atom"]
)
def test_an_empty_site_has_valid_empty_feeds(client, db, url):
    feed = read(client, url)
    assert feed.entries == [] and feed.feed.title


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_an_organization_feed_holds_its_papers(client, corpus, kind):
    lab = Organization.objects.create(name="Example & Co Lab", slug="example-lab")
    Paper.objects.filter(arxiv_id__in=["2606.00002", "2606.00009"]).update(organization=lab)
    feed = read(client, f"/organizations/example-lab/feed.{kind}")
    assert arxiv_ids(feed) == ["2606.00002", "2606.00009"]  # newest first
    assert text(feed.feed.title, feed.feed.title_detail) == "Example & Co Lab · paperfeed"
    assert feed.feed.link == "http://testserver/organizations/example-lab"


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_an_author_feed_holds_their_papers(client, corpus, kind):
    author = Author.objects.get(name="José Núñez")
    feed = read(client, f"/authors/{author.id}/feed.{kind}")
    assert arxiv_ids(feed) == ["2606.00008"]
    assert text(feed.feed.title, feed.feed.title_detail) == "José Núñez · paperfeed"
    assert feed.feed.link == f"http://testserver/authors/{author.id}/jos%C3%A9-n%C3%BA%C3%B1ez"  # the page's address
    turing = Author.objects.get(name="Alan Turing")
    feed = read(client, f"/authors/{turing.id}/feed.{kind}")
    assert (arxiv_ids(feed), feed.feed.link) == (["2606.00001"], f"http://testserver/authors/{turing.id}/alan-turing")


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_public_collection_has_a_feed_in_the_order_papers_were_added(client, corpus, kind):
    ada = member("ada")
    collection = create_collection(ada, "Reading <group>", "Our list", public=True)
    for hours, arxiv_id in ((3, "2606.00003"), (2, "2606.00010"), (1, "2606.00001")):
        at = timezone.now() - timedelta(hours=hours)
        CollectionItem.objects.create(collection=collection, paper=Paper.objects.get(arxiv_id=arxiv_id), added_at=at)
    feed = read(client, f"/users/ada/collections/reading-group/feed.{kind}")
    assert arxiv_ids(feed) == ["2606.00001", "2606.00010", "2606.00003"]
    assert text(feed.feed.title, feed.feed.title_detail) == "Reading <group> — a collection by @ada · paperfeed"
    added = CollectionItem.objects.get(paper__arxiv_id="2606.00001").added_at
    assert feed.entries[0].published_parsed[:5] == added.utctimetuple()[:5]  # dated by when it was added


def test_a_private_collection_has_no_feed_even_for_its_owner(corpus):
    ada = member("ada")
    create_collection(ada, "Secret", public=False)
    assert Client().get("/users/ada/collections/secret/feed.rss").status_code == 404
    assert signed_in(ada).get("/users/ada/collections/secret/feed.atom").status_code == 404


def test_hidden_papers_appear_in_no_feed(client, corpus):
    ada = member("ada")
    collection = create_collection(ada, "Mixed", public=True)
    for arxiv_id in ("2606.00005", "2606.00001"):
        CollectionItem.objects.create(collection=collection, paper=Paper.objects.get(arxiv_id=arxiv_id))
    vote("bob", "2606.00005")
    lab = Organization.objects.create(name="Lab", slug="lab")
    Paper.objects.filter(arxiv_id="2606.00005").update(organization=lab)
    author = Author.objects.get(name="Cheng Chi")
    urls = [
        "/feeds/daily.rss",
        "/feeds/trending.atom",
        "/search/feed?q=diffusion&mode=keyword",
        "/feeds/category/cs.RO.rss",
        "/organizations/lab/feed.rss",
        f"/authors/{author.id}/feed.atom",
        "/users/ada/collections/mixed/feed.rss",
    ]
    for url in urls:
        assert "2606.00005" in arxiv_ids(read(client, url)), url
    hide_papers(Paper.objects.filter(arxiv_id="2606.00005"))
    for url in urls:
        assert "2606.00005" not in arxiv_ids(read(client, url)), url


# --- advertised on the pages ---

ALTERNATE = re.compile(r'<link rel="alternate" type="(application/(?:rss|atom)\+xml)" title="([^"]*)" href="([^"]*)">')


def advertised(client: Client, page: str) -> list[tuple[str, str, str]]:
    response = client.get(page)
    assert response.status_code == 200, page
    head = response.content.decode().split("</head>")[0]
    return [(kind, unescape(title), unescape(href)) for kind, title, href in ALTERNATE.findall(head)]


def test_every_list_page_advertises_working_feeds(client, corpus):
    lab = Organization.objects.create(name="Example Lab", slug="example-lab")
    Paper.objects.filter(arxiv_id="2606.00002").update(organization=lab)
    author = Author.objects.get(name="Alan Turing")
    collection = create_collection(member("ada"), "Graphs", public=True)
    CollectionItem.objects.create(collection=collection, paper=Paper.objects.get(arxiv_id="2606.00002"))
    expected = {
        "/": ["/feeds/daily.rss", "/feeds/daily.atom"],
        "/?date=2026-06-30": [
            "/feeds/daily.rss",
            "/feeds/daily.atom",
            "/feeds/daily.rss?date=2026-06-30",
            "/feeds/daily.atom?date=2026-06-30",
        ],
        "/?week=2026-W27&sort=newest": [
            "/feeds/daily.rss?sort=newest",
            "/feeds/daily.atom?sort=newest",
            "/feeds/daily.rss?week=2026-W27&sort=newest",
            "/feeds/daily.atom?week=2026-W27&sort=newest",
        ],
        "/trending": ["/feeds/trending.rss", "/feeds/trending.atom"],
        "/search?q=mlp&mode=keyword": ["/search/feed.rss?q=mlp&mode=keyword", "/search/feed.atom?q=mlp&mode=keyword"],
        "/search?q=mlp&mode=keyword&category=cs.LG": [
            "/search/feed.rss?q=mlp&mode=keyword&category=cs.LG",
            "/search/feed.atom?q=mlp&mode=keyword&category=cs.LG",
            "/feeds/category/cs.LG.rss",
            "/feeds/category/cs.LG.atom",
        ],
        "/organizations/example-lab": ["/organizations/example-lab/feed.rss", "/organizations/example-lab/feed.atom"],
        f"/authors/{author.id}/alan-turing": [f"/authors/{author.id}/feed.rss", f"/authors/{author.id}/feed.atom"],
        "/users/ada/collections/graphs": [
            "/users/ada/collections/graphs/feed.rss",
            "/users/ada/collections/graphs/feed.atom",
        ],
    }
    for page, feeds in expected.items():
        links = advertised(client, page)
        assert [href for _, _, href in links] == feeds, page
        for kind, title, href in links:
            assert title.endswith(" (RSS)" if "rss" in kind else " (Atom)")
            feed = read(client, href)
            assert feed.entries, href
        html = client.get(page).content.decode()
        assert 'class="note feed-links"' in html, page  # and a visible link, for browsers that show none


def test_pages_without_a_feed_advertise_none(corpus):
    ada = member("ada")
    create_collection(ada, "Secret", public=False)
    owner = signed_in(ada)
    assert advertised(owner, "/users/ada/collections/secret") == []
    assert "feed-links" not in owner.get("/users/ada/collections/secret").content.decode()
    assert advertised(owner, "/search?q=-mlp&mode=keyword") == []  # nothing searched for
    # A made-up category: the search (and its feed) finds nothing, and there is no category feed to offer.
    assert advertised(owner, "/search?q=mlp&mode=keyword&category=%3Cscript%3E") == [
        ("application/rss+xml", "This search (RSS)", "/search/feed.rss?q=mlp&mode=keyword&category=%3Cscript%3E"),
        ("application/atom+xml", "This search (Atom)", "/search/feed.atom?q=mlp&mode=keyword&category=%3Cscript%3E"),
    ]
    assert read(owner, "/search/feed.rss?q=mlp&mode=keyword&category=%3Cscript%3E").entries == []
