from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from damage import damaged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.core.sources import SourceError
from paperfeed.core.sources.arxiv_oai import OaiError, OaiPage, parse_list_records
from paperfeed.core.sources.arxiv_xml import split_authors

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arxiv_oai"
API_FIXTURE = Path(__file__).parent.parent / "fixtures" / "arxiv_api" / "query_cat-cs.CL_max3_2026-09-24.xml"


def page_of(name: str):
    return parse_list_records((FIXTURES / name).read_bytes())


def by_id(page) -> dict:
    return {item.record.arxiv_id: item for item in page.records}


def test_recorded_arxiv_format_page():
    page = page_of("listrecords_arXiv_set-cs_2026-07-10_EDITED-upstream.xml")
    assert [item.record.arxiv_id for item in page.records] == [
        "1612.06115",
        "2202.13142",
        "2311.00296",
        "2503.05598",
        "2606.10062",
    ]
    assert page.error is None and page.skipped == []
    assert page.response_date == datetime(2026, 7, 18, 1, 41, 58, tzinfo=UTC)

    first = page.records[0]
    assert first.datestamp == date(2026, 7, 10)
    assert first.sets == ("cs:cs:SI", "physics:physics:soc-ph")
    paper = first.record
    assert paper.title == "Complex Network Tools to Understand the Behavior of Criminality in Urban Areas"
    assert paper.authors == (
        "Gabriel Spadon",
        "Lucas C. Scabora",
        "Marcus V. S. Araujo",
        "Paulo H. Oliveira",
        "Bruno B. Machado",
        "Elaine P. M. Sousa",
        "Caetano Traina-Jr",
        "Jose F. Rodrigues-Jr",
    )
    assert paper.categories == ("cs.SI", "physics.soc-ph")
    assert paper.primary_category == "cs.SI"
    assert (paper.published, paper.updated, paper.version) == (date(2016, 12, 24), date(2026, 7, 10), None)
    assert paper.doi == "10.1007/978-3-319-54978-1_63"
    assert paper.journal_ref == (
        "Information Technology - New Generations, Advances in Intelligent Systems and Computing, 558, 2017"
    )
    assert paper.comment.startswith("7 pages, 2 figures")
    assert 'the "toolset" available' in paper.abstract  # &#34; decoded
    assert paper.listed_on is None

    papers = by_id(page)
    assert papers["2503.05598"].record.categories == ("cs.CE", "cs.LG")
    assert papers["2503.05598"].record.journal_ref == "Mathematics, 14(13), 2421"
    # Authors with only a keyname keep it, and the order is the feed's.
    assert papers["2606.10062"].record.authors[:3] == ("Lei", "Chen", "Guilin Zhang")
    assert papers["2606.10062"].record.primary_category == "cs.AI"


def test_deleted_record_and_old_style_token():
    page = page_of("listrecords_arXiv_set-cs_2026-07-10_EDITED-upstream.xml")
    assert page.deleted == ["2401.00000"]
    assert "2401.00000" not in by_id(page)
    assert page.resumption_token == "6941976|1001"  # cursor and completeListSize are ignored


def test_recorded_arxiv_raw_page():
    page = page_of("listrecords_arXivRaw_set-physics-hep-th_2026-09-30_2026-10-03_final_trimmed.xml")
    assert list(by_id(page)) == ["2102.06878", "2610.00146", "2610.02209"]
    assert page.resumption_token is None  # no element: a final page
    assert page.deleted == [] and page.skipped == []

    five = by_id(page)["2102.06878"].record
    assert five.version == 5
    assert five.published == date(2021, 2, 13)  # v1
    assert five.updated == date(2026, 10, 1)  # v5
    assert five.title == "Thermodynamics of Bosonic Higher Spin Fields"
    assert five.authors == ("N. Srinivas",)
    assert five.categories == ("hep-th",)
    assert five.comment == "13 pages, 1 Figure, added Interacting Theory and five references"
    assert "Feynman's path integral" in five.abstract

    cross = by_id(page)["2610.00146"]
    assert cross.sets == ("physics:hep-ph", "physics:hep-th", "physics:quant-ph")
    assert cross.record.version == 1
    assert (cross.record.published, cross.record.updated) == (date(2026, 9, 10), None)
    assert cross.record.authors == ("S. D. Campos",)  # the affiliation is not a name
    assert cross.record.categories == ("hep-ph", "hep-th", "quant-ph")
    assert cross.record.primary_category == "hep-ph"
    assert cross.record.comment is None

    assert by_id(page)["2610.02209"].record.authors == ("Steven B. Giddings", "Zi-Yue Wang")


def test_recorded_oai_dc_page_best_effort():
    page = page_of("listrecords_oai_dc_set-cs_from-2024-01-25_page1_with_token.xml")
    assert list(by_id(page)) == ["1303.2033", "2401.14034", "2401.14036", "2401.14038", "2401.14040"]
    assert page.resumption_token == "6960524|1001"
    assert page.response_date == datetime(2024, 1, 27, 17, 53, 42, tzinfo=UTC)

    thesis = by_id(page)["1303.2033"].record
    assert thesis.title == "Extended Fourier analysis of signals"
    assert thesis.authors == ("Vilnis Liepins",)  # "Liepins, Vilnis"
    assert thesis.comment == "32 pages, 9 figures"
    assert thesis.abstract.startswith("This summary of the doctoral thesis")
    assert (thesis.published, thesis.updated) == (date(2013, 3, 8), date(2024, 1, 23))
    assert thesis.categories == ()  # the old "cs" set names a group, not a category

    assert by_id(page)["2401.14034"].record.authors == (
        "Chuankun Li",
        "Shuai Li",
        "Yanbo Gao",
        "Ping Chen",
        "Jian Li",
        "Wanqing Li",
    )
    assert by_id(page)["2401.14040"].record.comment == "Accepted to the Findings of EACL 2024"


@pytest.mark.parametrize("attribute", [b"expirationDate", b"expires"])
def test_new_system_page_with_a_token(attribute):
    body = (FIXTURES / "constructed_listrecords_arXiv_2025_with_token.xml").read_bytes()
    # arXiv's notes say expirationDate, the stored server template writes expires: only the text counts.
    page = parse_list_records(body.replace(b"expirationDate=", attribute + b"="))
    assert page.resumption_token == "verb%3DListRecords%26metadataPrefix%3DarXiv%26skip%3D1300"

    first, old = page.records
    assert first.record.title == "A Constructed Record on Two Lines"
    assert first.record.authors == ("Jane Q. Doe", "Richard Roe Jr", "The Example Collaboration")
    assert first.record.categories == ("hep-th", "gr-qc")
    assert (first.record.published, first.record.updated) == (date(2026, 9, 30), None)
    assert old.record.arxiv_id == "hep-th/9901001"
    assert old.record.doi == "10.1103/PhysRevD.99.000001"
    assert old.record.journal_ref == "Phys. Rev. D 99 (1999) 000001"
    assert (old.record.published, old.record.updated) == (date(1999, 1, 1), date(2026, 10, 1))


def test_new_system_last_page_keeps_good_records_and_skips_bad_ones():
    page = page_of("constructed_listrecords_arXiv_2025_last_page_messy.xml")
    assert page.resumption_token is None  # <resumptionToken/>
    assert page.deleted == ["2609.99999"]
    assert list(by_id(page)) == ["2610.00002", "2610.00005"]
    assert [identifier for identifier, _ in page.skipped] == [
        "oai:arXiv.org:not-an-id",
        "oai:arXiv.org:2610.00003",
        "oai:arXiv.org:2610.00004",
    ]
    reasons = [reason for _, reason in page.skipped]
    assert "'not-an-id' is not an arXiv id" in reasons[0]
    assert reasons[1] == "2610.00003: the title is empty"
    assert reasons[2] == "2610.00004: no arXiv category"


def test_control_characters_and_markup_are_cleaned_but_latex_survives():
    paper = by_id(page_of("constructed_listrecords_arXiv_2025_last_page_messy.xml"))["2610.00002"].record
    assert paper.title == "Markup and control characters"
    assert paper.abstract == "We show that bold claims hold when $a<b$ and $b > c$."


def test_no_records_match_is_an_oai_error():
    page = page_of("error_noRecordsMatch_2026-10-04_CONDENSED-upstream.xml")
    assert page.error == OaiError(
        code="noRecordsMatch",
        message="The combination of the values of the from, until, set and metadataPrefix arguments "
        "results in an empty list.",
    )
    assert (page.records, page.deleted, page.resumption_token) == ([], [], None)
    assert page.response_date == datetime(2026, 10, 4, 2, 34, 37, tzinfo=UTC)


def test_bad_resumption_token_is_an_oai_error():
    page = page_of("constructed_error_badResumptionToken.xml")
    assert page.error.code == "badResumptionToken"
    assert page.error.message == (
        "The value of the resumptionToken argument is invalid or expired. "
        "Reason: Token decoding failed or format is invalid."
    )
    assert page.records == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            (FIXTURES / "constructed_html_service_unavailable.html").read_bytes(),
            "expected OAI-PMH XML but got an HTML page (title: 'Service Unavailable')",
        ),
        (b"<html><head><title>502 Bad Gateway</title></head></html>", "HTML page (title: '502 Bad Gateway')"),
        (
            b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Oops</title></head></html>',
            "HTML page (title: 'Oops')",
        ),
        ((FIXTURES / "constructed_json_body.json").read_bytes(), 'but got JSON: \'{"error": "not found"'),
        (
            (FIXTURES / "constructed_truncated_at_2000_bytes.xml").read_bytes(),
            "the OAI-PMH response is not well-formed XML: line 44, column 55: Premature end of data",
        ),
        (
            b"<OAI-PMH><ListRecords></OAI-PMH>",
            "not well-formed XML: line 1, column 33: Opening and ending tag",
        ),
        (b"", "the OAI-PMH response is empty"),
        (b"\xef\xbb\xbf \r\n", "the OAI-PMH response is empty"),
        (b"Rate exceeded.", "expected OAI-PMH XML but got text: 'Rate exceeded.'"),
        (API_FIXTURE.read_bytes(), "expected OAI-PMH XML but got XML whose root element is <feed>"),
        (
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><request verb="Identify"/><Identify/></OAI-PMH>',
            "got neither (verb 'Identify')",
        ),
    ],
)
def test_unreadable_responses_raise_source_error(body, message):
    with pytest.raises(SourceError) as caught:
        parse_list_records(body)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Steven B. Giddings and Zi-Yue Wang", ["Steven B. Giddings", "Zi-Yue Wang"]),
        ("A. One, B. Two and C. Three", ["A. One", "B. Two", "C. Three"]),
        ("A. One, B. Two, and C. Three", ["A. One", "B. Two", "C. Three"]),
        ("S. D. Campos (Federal University of S\\~ao Carlos)", ["S. D. Campos"]),
        ("A. One (1), B. Two (2) ((1) MIT, Cambridge and (2) CERN)", ["A. One", "B. Two"]),
        ("John Smith, Jr. and Jane\n  Doe", ["John Smith Jr.", "Jane Doe"]),
        ("Alexander Anand", ["Alexander Anand"]),
        ("", []),
    ],
)
def test_split_authors(value, names):
    assert split_authors(value) == names


RECORDED = [path.read_bytes() for path in sorted(FIXTURES.glob("*.xml"))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), damaged(RECORDED)))
def test_any_bytes_give_a_page_or_a_source_error(body):
    try:
        result = parse_list_records(body)
    except SourceError:
        return
    assert isinstance(result, OaiPage)
