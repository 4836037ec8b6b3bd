from datetime import date
from pathlib import Path

import pytest
from damage import damaged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.core.sources import SourceError
from paperfeed.core.sources.arxiv_feed import AnnouncementFeed, parse_announcements

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arxiv_rss"
RSS = FIXTURES / "rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed.xml"
ATOM = FIXTURES / "atom_cs.LG_2026-09-25_EDITED-upstream-abstracts-shortened.xml"
OAI_PAGE = (
    Path(__file__).parent.parent
    / "fixtures"
    / "arxiv_oai"
    / ("listrecords_arXivRaw_set-physics-hep-th_2026-09-30_2026-10-03_final_trimmed.xml")
)


def test_recorded_rss_feed():
    feed = parse_announcements(RSS.read_bytes())
    assert feed.day == date(2026, 9, 24)
    assert feed.skipped == []
    assert [(a.record.arxiv_id, a.record.version, a.announce_type) for a in feed.announcements] == [
        ("2609.26811", 1, "new"),
        ("2609.26820", 1, "new"),
        ("2205.06398", 2, "cross"),
        ("2009.13987", 3, "replace"),
    ]
    assert {a.record.listed_on for a in feed.announcements} == {date(2026, 9, 24)}

    first = feed.announcements[0].record
    assert first.title == "The Drift Contract: Spectral Updates for Depth-Robust Local Learning"
    assert first.abstract.startswith("Local learning trains each layer with its own auxiliary loss")
    assert "Announce Type" not in first.abstract and "Abstract:" not in first.abstract
    assert first.authors == ("Fabien Polly",)
    assert first.categories == ("cs.LG",)

    second = feed.announcements[1].record
    assert second.authors == ("Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan")
    assert (second.categories, second.primary_category) == (("cs.LG", "cs.AI"), "cs.LG")

    cross = feed.announcements[2].record
    assert cross.primary_category == "stat.ME"  # the first category, not the feed's cs.LG
    assert cross.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert cross.doi == "10.1093/bioinformatics/btac431"
    assert cross.authors == ("Pritam Dey", "Zhengwu Zhang", "David B. Dunson")
    assert (cross.published, cross.updated, cross.journal_ref) == (None, None, None)

    assert feed.announcements[3].record.authors == ("Michael Joswig", "Marek Kaluba", "Lukas Ruff")


def test_recorded_atom_feed():
    feed = parse_announcements(ATOM.read_bytes())
    assert feed.day == date(2026, 9, 25)
    assert [(a.record.arxiv_id, a.record.version, a.announce_type) for a in feed.announcements] == [
        ("2609.28553", 1, "new"),
        ("2402.10149", 3, "cross"),
        ("2401.08875", 3, "replace"),
    ]
    assert {a.record.listed_on for a in feed.announcements} == {date(2026, 9, 25)}

    new = feed.announcements[0].record
    assert new.title.startswith("SMILESGNN: Interpretable Clinical Toxicity Prediction")
    assert new.abstract.startswith("Drug toxicity prediction is critical")
    assert new.authors == (
        "Quang Minh Nguyen",
        "Thuy Quynh Nguyen",
        "Duc Minh Le",
        "Ho Nhat Minh Nguyen",
        "Thanh Long Dai Doan",
        "Trong Nghia Nguyen",
    )
    assert new.doi == "10.1109/MAPR72750.2026.11685822"
    assert new.journal_ref == ("2026 International Conference on Multimedia Analysis and Pattern Recognition (MAPR)")
    cross = feed.announcements[1].record
    assert (cross.primary_category, cross.categories) == ("hep-ph", ("hep-ph", "cs.LG", "hep-ex"))
    assert cross.doi == "10.1103/PhysRevD.111.032004"


def test_replace_cross_and_bad_items():
    feed = parse_announcements((FIXTURES / "constructed_rss_math.OC_replace-cross_and_bad_items.xml").read_bytes())
    assert feed.day == date(2024, 8, 23)
    assert [(a.record.arxiv_id, a.announce_type) for a in feed.announcements] == [
        ("2203.01250", "replace-cross"),
        ("2408.12347", "new"),
    ]
    replaced = feed.announcements[0].record
    assert replaced.version == 3
    assert replaced.authors == ("Antonin Monteil", "Paul Pegon")
    assert replaced.doi == "10.5802/jep.257"
    assert replaced.journal_ref.startswith("Journal de l'\\'Ecole polytechnique")
    assert replaced.abstract.startswith("We consider first order local minimization problems")

    kept = feed.announcements[1].record
    assert kept.title == "An item whose abstract carries markup"
    assert kept.abstract == "The neighbour is kept, and $a<b$ survives."

    assert [guid for guid, _ in feed.skipped] == ["oai:arXiv.org:banana", "oai:arXiv.org:2408.12346v1"]
    assert "is not an arXiv id" in feed.skipped[0][1]
    assert feed.skipped[1][1] == "2408.12346: the title is empty"


def test_announce_type_falls_back_to_the_description():
    body = RSS.read_bytes().replace(b"<arxiv:announce_type>cross</arxiv:announce_type>", b"")
    feed = parse_announcements(body)
    assert [a.announce_type for a in feed.announcements] == ["new", "new", "cross", "replace"]


def test_feed_day_falls_back_to_last_build_date():
    body = RSS.read_bytes().replace(
        b"<pubDate>Thu, 24 Sep 2026 00:00:00 -0400</pubDate>\n    <skipDays>", b"<skipDays>"
    )
    assert parse_announcements(body).day == date(2026, 9, 24)


@pytest.mark.parametrize(
    "name", ["constructed_rss_hep-th_empty_weekend.xml", "constructed_atom_cs.LG_empty_weekend.xml"]
)
def test_an_empty_weekend_feed_is_a_valid_empty_result(name):
    feed = parse_announcements((FIXTURES / name).read_bytes())
    assert (feed.announcements, feed.skipped, feed.day) == ([], [], date(2026, 10, 3))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            (
                Path(__file__).parent.parent / "fixtures" / "arxiv_oai" / "constructed_html_service_unavailable.html"
            ).read_bytes(),
            "expected an arXiv RSS or Atom feed but got an HTML page (title: 'Service Unavailable')",
        ),
        (b'{"items": []}', "expected an arXiv RSS or Atom feed but got JSON"),
        (b"", "the arXiv feed response is empty"),
        (RSS.read_bytes()[:1500], "the arXiv feed response is not well-formed XML: line "),
        (OAI_PAGE.read_bytes(), "but got XML whose root element is <OAI-PMH>"),
        (b'<rss version="2.0"></rss>', "the arXiv RSS feed has no <channel> element"),
    ],
)
def test_unreadable_feeds_raise_source_error(body, message):
    with pytest.raises(SourceError) as caught:
        parse_announcements(body)
    assert message in str(caught.value)


RECORDED = [path.read_bytes() for path in sorted(FIXTURES.glob("*.xml"))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), damaged(RECORDED)))
def test_any_bytes_give_a_feed_or_a_source_error(body):
    try:
        result = parse_announcements(body)
    except SourceError:
        return
    assert isinstance(result, AnnouncementFeed)
