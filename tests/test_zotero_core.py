"""The Zotero Web API's answers read into records (paperfeed.core.zotero: pure, no database), from the constructed
fixtures of tests/fixtures/zotero and from bad shapes."""

from __future__ import annotations

import json

import pytest
from replay import FIXTURES

from paperfeed.core.zotero import (
    ZoteroFormatError,
    header_number,
    parse_deleted,
    parse_items,
    parse_key_access,
)

ZOTERO = FIXTURES / "zotero"


def fixture(name: str) -> bytes:
    return (ZOTERO / name).read_bytes()


def test_items_become_the_records_every_library_format_gives():
    page = parse_items(fixture("constructed_zotero_items_page1.json"))
    assert page.count == 3 and page.skipped == 1  # the PDF attachment
    preprint, article = page.records
    assert (preprint.entry, preprint.key, preprint.arxiv_id) == (1, "PRE00001", "2606.00001")
    assert preprint.title.startswith("MLP-Mixer Revisited")
    assert preprint.authors == ("Ada Lovelace", "Alan Turing") and preprint.year == 2026
    assert preprint.doi == "10.48550/arxiv.2606.00001"
    # The arXiv id from `extra`, as Zotero's arXiv translator writes it; the editor is not an author.
    assert (article.entry, article.key, article.arxiv_id) == (3, "JOUR0001", "2606.00002")
    assert article.authors == ("Grace Hopper", "Edsger Dijkstra")
    assert article.abstract == "Attention over graphs with millions of nodes."


def test_notes_the_trash_and_items_with_nothing_to_go_by():
    page = parse_items(fixture("constructed_zotero_items_page2.json"), first_entry=4)
    assert page.count == 4 and page.skipped == 1  # the note
    [book] = page.records
    assert (book.entry, book.key, book.year, book.arxiv_id) == (4, "BOOK0001", 1951, "")
    assert book.doi == "10.5555/tidepools.1951"  # from `extra`, where Zotero keeps a DOI its type has no field for
    assert book.authors == ("Coastal Survey Collective", "Rachel Carson")
    assert page.trashed == ["TRSH0001"]
    [problem] = page.problems
    assert (problem.entry, problem.key, problem.message) == (7, "WEB00001", "it has no title, DOI or arXiv id")
    assert page.removed == ["TRSH0001", "WEB00001"]


def test_a_group_librarys_items():
    [record] = parse_items(fixture("constructed_zotero_group_items.json")).records
    assert record.key == "GRP00001" and record.arxiv_id == "2606.00003"
    assert record.title == r"Sorting in $\mathcal{O}(n \log n)$ Time with Learned Comparators"  # math kept for KaTeX


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Service Unavailable</body></html>", b'{"items": []}', b"[{", b"\xff\xfe", b""],
    ids=["html", "object", "cut-short", "not-utf8", "empty"],
)
def test_a_page_that_is_not_a_json_array_of_items_is_refused_whole(body):
    with pytest.raises(ZoteroFormatError, match="Zotero's list of items"):
        parse_items(body)


def test_an_odd_item_is_reported_by_its_key_and_the_others_kept():
    items = json.loads(fixture("constructed_zotero_items_page1.json"))
    items[0]["data"]["creators"] = "Ada Lovelace"  # not a list
    items[2]["data"]["title"] = {"text": "a title as an object"}
    page = parse_items(json.dumps([*items, "not an item", {"data": {}}]).encode())
    assert page.records == []
    assert [(p.entry, p.key) for p in page.problems] == [(1, "PRE00001"), (3, "JOUR0001"), (4, ""), (5, "")]
    assert page.problems[0].message == "its creators are not a list of people"
    assert page.problems[1].message == "its title is not text"
    assert page.removed == ["PRE00001", "JOUR0001"]  # an item that became unusable leaves the library


def test_deleted_keys():
    assert parse_deleted(fixture("constructed_zotero_deleted_since40.json")) == ["PRE00001"]
    assert parse_deleted(b'{"collections": ["C1"]}') == []
    with pytest.raises(ZoteroFormatError):
        parse_deleted(b'{"items": "PRE00001"}')
    with pytest.raises(ZoteroFormatError):
        parse_deleted(b"Forbidden")


def test_what_a_key_may_read():
    mine = parse_key_access(fixture("constructed_zotero_keys_current.json"))
    assert (mine.user_id, mine.username) == ("12345", "ada_l")
    assert mine.reads("user", "12345") and not mine.reads("user", "55555")
    assert mine.reads("group", "98765")  # "all" groups
    group_only = parse_key_access(fixture("constructed_zotero_keys_group_only.json"))
    assert group_only.reads("group", "98765") and not group_only.reads("group", "11111")
    assert not group_only.reads("user", "55555")  # no user library access
    no_library = json.loads(fixture("constructed_zotero_keys_current.json"))
    no_library["access"]["user"]["library"] = False
    assert not parse_key_access(json.dumps(no_library).encode()).reads("user", "12345")
    with pytest.raises(ZoteroFormatError, match="no userID"):
        parse_key_access(b'{"key": "abc"}')


def test_numeric_headers():
    assert header_number("47") == 47 and header_number(" 7 ") == 7
    assert header_number(None) is None and header_number("") is None and header_number("4.7") is None
