"""bioRxiv as a paper source (core/sources/biorxiv.py): its DOIs and links, its API's `details` JSON, and its
papers through the whole site — ingest, daily list, page, vote, comment, search, API, feeds — at addresses of their
own (/papers/biorxiv:10.1101/…), next to arXiv papers whose addresses did not change."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from conftest import ingest, member, signed_in

from paperfeed.core.sources import SourceError
from paperfeed.core.sources.biorxiv import parse_details, parse_id
from paperfeed.core.sources.registry import PaperAddress, parse_address
from paperfeed.papers.models import DailyEntry, Paper, Vote

DETAILS = Path(__file__).parent / "fixtures" / "biorxiv" / "constructed_details.json"
PLACE_CELLS = "10.1101/2026.06.29.601234"
ENZYMES = "10.1101/2026.06.30.601300"
PAGE = f"/papers/biorxiv:{PLACE_CELLS}"


@pytest.mark.parametrize(
    ("written", "found"),
    [
        (PLACE_CELLS, (PLACE_CELLS, None)),
        (f"{PLACE_CELLS}v2", (PLACE_CELLS, 2)),
        (f"doi:{PLACE_CELLS}", (PLACE_CELLS, None)),
        (f"https://doi.org/{PLACE_CELLS}", (PLACE_CELLS, None)),
        (f"https://www.biorxiv.org/content/{PLACE_CELLS}v1.full.pdf", (PLACE_CELLS, 1)),
        ("10.1101/123456", ("10.1101/123456", None)),  # before December 2019
    ],
)
def test_biorxiv_ids_and_links(written, found):
    assert parse_id(written) == found
    assert parse_address(f"biorxiv:{written}") == PaperAddress("biorxiv", *found)


@pytest.mark.parametrize("written", ["10.1038/s41586-020-2649-2", "10.1101/", "biorxiv", "10.1101/2026.06.29.601234/x"])
def test_what_is_not_a_biorxiv_id(written):
    assert parse_id(written) is None


def test_a_details_page_gives_each_preprint_once_and_says_what_it_skipped():
    read = parse_details(DETAILS.read_bytes())
    by_id = {r.external_id: r for r in read.records}
    assert set(by_id) == {PLACE_CELLS, ENZYMES}
    cells = by_id[PLACE_CELLS]
    assert (cells.source, cells.address, cells.arxiv_id) == ("biorxiv", f"biorxiv:{PLACE_CELLS}", "")
    assert cells.authors == ("N. Okafor", "E. M. Lindqvist", "H. Tanaka")
    assert (cells.categories, cells.version, str(cells.listed_on)) == (("neuroscience",), 1, "2026-07-01")
    enzymes = by_id[ENZYMES]  # versions 1 and 2 on one page: the second's text, the first's day
    assert enzymes.version == 2 and enzymes.title.endswith("across families") and len(enzymes.authors) == 3
    assert (str(enzymes.published), str(enzymes.listed_on), str(enzymes.updated)) == (
        "2026-07-01",
        "2026-07-01",
        "2026-07-02",
    )
    assert [what for what, _ in read.skipped] == ["10.1101/2026.07.01.601400", "10.1101/2026.07.01.26312345"]
    assert "title is empty" in read.skipped[0][1] and "medrxiv preprint" in read.skipped[1][1]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"<html>Service unavailable</html>", "not JSON"),
        (b"[]", "without a `collection` list"),
        (b'{"collection": {"doi": 1}}', "without a `collection` list"),
    ],
)
def test_a_page_that_is_not_a_details_page_is_refused_whole(body, complaint):
    with pytest.raises(SourceError, match=complaint):
        parse_details(body)


def test_no_posts_found_is_an_empty_page():
    read = parse_details(b'{"messages":[{"status":"no posts found"}],"collection":[]}')
    assert read.records == [] and read.skipped == []


@pytest.fixture
def preprints(corpus):
    status, out, err = ingest("biorxiv", str(DETAILS))
    assert status == 0, err
    assert "2 papers: 2 new" in out and "skipped 10.1101/2026.07.01.601400" in err
    return Paper.objects.filter(source="biorxiv")


def test_ingesting_a_page_adds_the_preprints_to_the_daily_list_of_their_day(preprints):
    assert sorted(p.external_id for p in preprints) == [PLACE_CELLS, ENZYMES]
    listed = DailyEntry.objects.filter(paper__source="biorxiv")
    assert {(e.paper.external_id, str(e.day), e.source) for e in listed} == {
        (PLACE_CELLS, "2026-07-01", "biorxiv"),
        (ENZYMES, "2026-07-01", "biorxiv"),
    }
    assert ingest("biorxiv", str(DETAILS))[0] == 1  # again: nothing new (exit status 1)


def test_a_file_that_is_not_a_details_page_changes_nothing(corpus, tmp_path):
    bad = tmp_path / "page.json"
    bad.write_text("<html>Service unavailable</html>")
    status, _, err = ingest("biorxiv", str(bad))
    assert status == 2 and "biorxiv: expected the JSON of api.biorxiv.org/details" in err
    assert not Paper.objects.filter(source="biorxiv").exists()
    assert ingest("biorxiv", str(tmp_path / "missing.json"))[0] == 2


def test_a_preprint_has_a_page_of_its_own_and_arxiv_pages_keep_theirs(preprints, client):
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200 and "Place cells remap when the reward moves" in html
    assert f'href="https://www.biorxiv.org/content/{PLACE_CELLS}v1"' in html and ">bioRxiv page<" in html
    assert "<dt>DOI</dt>" in html and "arXiv id" not in html and "citation_arxiv_id" not in html
    assert client.get(f"{PAGE}v1").status_code == 200
    assert client.get("/papers/2606.00001").status_code == 200  # arXiv addresses unchanged
    missing = client.get("/papers/biorxiv:10.1101/2026.01.01.999999")
    assert missing.status_code == 404 and "bioRxiv:10.1101/2026.01.01.999999 is not on this site yet" in (
        missing.content.decode()
    )
    day = client.get("/?date=2026-07-01").content.decode()
    assert f'href="{PAGE}"' in day and f"bioRxiv:{PLACE_CELLS}" in day


def test_members_vote_comment_and_collect_a_preprint(preprints):
    ada = member("ada")
    client = signed_in(ada)
    assert client.post(f"{PAGE}/vote", {"vote": "1"}).status_code == 303
    assert Vote.objects.filter(user=ada, paper__external_id=PLACE_CELLS).exists()
    commented = client.post(f"{PAGE}/comments", {"body": "Which corridor length?"})
    assert commented.status_code == 303 and commented["Location"].startswith(PAGE)
    made = client.post("/collections/new", {"name": "Hippocampus", "paper": f"biorxiv:{PLACE_CELLS}"})
    assert made.status_code in (302, 303)
    assert ada.collections.get().items.get().paper.external_id == PLACE_CELLS
    bib = client.get(f"{PAGE}.bib").content.decode()
    assert f"doi = {{{PLACE_CELLS}}}" in bib and "eprint" not in bib and "archivePrefix" not in bib


def test_search_the_api_and_feeds_name_preprints_by_their_address(preprints, client):
    found = client.get("/search?q=place+cells+reward&mode=keyword").content.decode()
    assert f'href="{PAGE}"' in found
    api = client.get(f"/api/v1/papers/biorxiv:{PLACE_CELLS}")
    body = api.json()
    assert api.status_code == 200, body
    assert (body["id"], body["source"], body["arxiv_id"]) == (f"biorxiv:{PLACE_CELLS}", "biorxiv", None)
    assert (
        body["links"]["source"] == f"https://www.biorxiv.org/content/{PLACE_CELLS}" and body["links"]["arxiv"] is None
    )
    feed = client.get("/feeds/daily.rss?date=2026-07-01")
    assert feed.status_code == 200 and f"http://testserver{PAGE}" in feed.content.decode()
    listed = json.loads(client.get("/api/v1/daily?date=2026-07-01").content)
    assert f"biorxiv:{PLACE_CELLS}" in {paper["id"] for paper in listed["results"]}


# --- medRxiv, the family's other server, and where a page sits in its interval ---


def test_medrxiv_dois_and_links_name_medrxiv_papers():
    from paperfeed.core.sources.medrxiv import SOURCE

    doi = "10.1101/2026.06.29.26310001"
    assert SOURCE.parse_id(f"https://www.medrxiv.org/content/{doi}v2.full.pdf") == (doi, 2)
    assert SOURCE.parse_id(f"https://www.biorxiv.org/content/{doi}") is None  # the other server's site
    assert parse_address(f"medrxiv:{doi}") == PaperAddress("medrxiv", doi)
    assert parse_address(f"https://medrxiv.org/content/{doi}v1") == PaperAddress("medrxiv", doi, 1)
    assert PaperAddress("medrxiv", doi).page_url == f"https://www.medrxiv.org/content/{doi}"
    assert PaperAddress("medrxiv", doi).label == f"medRxiv:{doi}"


def test_a_page_says_where_the_next_one_starts():
    from paperfeed.core.sources.biorxiv import read_details

    def page(**message):
        return read_details(orjson.dumps({"messages": [message], "collection": []}))

    assert page(status="ok", cursor=0, count=100, total="250").next_cursor(0) == 100
    assert page(status="ok", cursor="200", count="50", total="250").next_cursor(200) is None
    assert page(status="ok", cursor=0, count=100).next_cursor(0) == 100  # no total: a full page may have a next
    assert page(status="ok", cursor=0, count=40).next_cursor(0) is None
    assert page(status="no posts found").next_cursor(0) is None
    assert page(status="ok", cursor=0, count=0, total=250).next_cursor(0) is None  # an empty page ends it


def test_an_html_error_page_is_named_as_such():
    with pytest.raises(SourceError, match=r"got an HTML page \('Service Unavailable'\), not JSON"):
        parse_details(b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head></html>")
