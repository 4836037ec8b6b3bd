from datetime import date
from pathlib import Path

import pytest
from damage import damaged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.core.sources import SourceError
from paperfeed.core.sources.arxiv_api import ApiFeed, parse_api_feed

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arxiv_api"
CL = FIXTURES / "query_cat-cs.CL_max3_2026-09-24.xml"
LG = FIXTURES / "query_cat-cs.LG_submittedDate_max5_2026-07.xml"


def test_recorded_cs_cl_query():
    feed = parse_api_feed(CL.read_bytes())
    assert feed.total_results == 119894
    assert feed.skipped == []
    assert [(p.arxiv_id, p.version) for p in feed.records] == [
        ("2609.28471", 1),
        ("2609.28449", 1),
        ("2609.28442", 1),
    ]
    first = feed.records[0]
    assert first.title == "Contrastive Learning for Authorship Verification"
    assert first.authors == ("Peter Kirby",)
    assert (first.primary_category, first.categories) == ("cs.CL", ("cs.CL", "cs.LG"))
    assert first.published == date(2026, 9, 23)
    assert first.updated is None  # updated on the day it was published
    assert first.doi == "10.1007/978-3-032-39150-6_7"
    assert first.journal_ref.startswith("Experimental IR Meets Multilinguality")
    assert first.comment.startswith("Published in the proceedings of CLEF 2026.")
    assert first.abstract.startswith("Our results show that contrastive learning outperforms")
    assert first.listed_on is None

    second = feed.records[1]
    assert second.authors == (
        "Hamed Taherkhani",
        "Mohammad Abdollahi",
        "Melika Sepidband",
        "Hridya Dhulipala",
        "Tien N. Nguyen",
        "Hadi Hemmati",
    )
    # The primary category is cs.SE although the query was for cs.CL.
    assert (second.primary_category, second.categories) == ("cs.SE", ("cs.SE", "cs.AI", "cs.CL"))
    assert (second.doi, second.journal_ref, second.comment) == (None, None, None)


def test_recorded_cs_lg_query():
    feed = parse_api_feed(LG.read_bytes())
    assert feed.total_results == 247
    assert [p.arxiv_id for p in feed.records] == [
        "2606.09863",
        "2606.01509",
        "2606.01513",
        "2606.01521",
        "2606.01525",
    ]
    papers = {p.arxiv_id: p for p in feed.records}
    assert papers["2606.01509"].authors == ("Heng Zhao", "Zilei Shao", "Guy Van den Broeck", "Zhe Zeng")
    assert papers["2606.01521"].authors[1] == "Silas Ruhrberg Estévez"
    assert papers["2606.01513"].primary_category == "cs.DC"
    assert "p < 0.001" in papers["2606.01513"].abstract  # a bare < survives markup stripping
    assert "top-$k$ routing" in papers["2606.01509"].abstract
    assert papers["2606.09863"].comment == "Accepted to FAGEN@ICML2026"


def test_old_ids_acm_classes_and_a_bad_entry():
    feed = parse_api_feed((FIXTURES / "constructed_api_entries_old_id_acm_class_and_bad_entry.xml").read_bytes())
    old, acm = feed.records
    assert (old.arxiv_id, old.version) == ("hep-ex/0307015", 1)
    assert old.title == "Multi-Electron Production at High Transverse Momenta in ep Collisions at HERA"
    assert old.journal_ref == "Eur.Phys.J. C31 (2003) 17-29"
    assert old.authors == ("H1 Collaboration",)
    assert (acm.arxiv_id, acm.version) == ("2609.00001", 2)
    assert acm.categories == ("cs.LG",)  # not "I.2.6; I.5.1" or "68T05"
    assert (acm.published, acm.updated) == (date(2026, 9, 1), date(2026, 9, 20))
    assert feed.skipped == [("https://arxiv.org/abs/2609.00002v1", "2609.00002: the title is empty")]


def test_api_error_entry_raises_source_error():
    with pytest.raises(SourceError, match="the arXiv API reported an error: incorrect id format for 1234.12345"):
        parse_api_feed((FIXTURES / "constructed_api_error_incorrect_id_format.xml").read_bytes())


def test_an_error_entry_among_papers_is_skipped():
    body = (FIXTURES / "constructed_api_entries_old_id_acm_class_and_bad_entry.xml").read_bytes()
    error = (
        b"<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_x</id><title>Error</title>"
        b"<summary>incorrect id format for x</summary></entry>\n</feed>"
    )
    feed = parse_api_feed(body.replace(b"</feed>", error))
    assert len(feed.records) == 2
    assert (
        "http://arxiv.org/api/errors#incorrect_id_format_for_x",
        "an API error entry: incorrect id format for x",
    ) in (feed.skipped)


def test_unknown_id_gives_an_empty_feed():
    feed = parse_api_feed((FIXTURES / "constructed_api_id_list_unknown_no_entries.xml").read_bytes())
    assert feed == ApiFeed(records=[], total_results=0, skipped=[])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            (
                Path(__file__).parent.parent / "fixtures" / "arxiv_oai" / "constructed_html_service_unavailable.html"
            ).read_bytes(),
            "expected arXiv API Atom XML but got an HTML page (title: 'Service Unavailable')",
        ),
        (b'[{"id": "2609.28471"}]', "expected arXiv API Atom XML but got JSON"),
        (b"", "the arXiv API response is empty"),
        (b"Rate exceeded.", "expected arXiv API Atom XML but got text: 'Rate exceeded.'"),
        (CL.read_bytes()[:900], "the arXiv API response is not well-formed XML: line "),
        (
            (
                Path(__file__).parent.parent
                / "fixtures"
                / "arxiv_rss"
                / "rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed.xml"
            ).read_bytes(),
            "but got XML whose root element is <rss>",
        ),
    ],
)
def test_unreadable_responses_raise_source_error(body, message):
    with pytest.raises(SourceError) as caught:
        parse_api_feed(body)
    assert message in str(caught.value)


RECORDED = [path.read_bytes() for path in sorted(FIXTURES.glob("*.xml"))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), damaged(RECORDED)))
def test_any_bytes_give_a_feed_or_a_source_error(body):
    try:
        result = parse_api_feed(body)
    except SourceError:
        return
    assert isinstance(result, ApiFeed)
