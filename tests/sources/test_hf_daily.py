import contextlib
import copy
from datetime import date
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperfeed.core.sources import SourceError
from paperfeed.core.sources.hf_daily import HfDailyList, HfOrganization, parse_daily_papers

FIXTURES = Path(__file__).parent.parent / "fixtures" / "hf"
OLD = FIXTURES / "daily_papers_2024-10-25_first4.json"
NEW = FIXTURES / "daily_papers_2026-08_3entries_prettyprinted-upstream.json"


def entries(path: Path) -> list:
    return orjson.loads(path.read_bytes())


def parse(value: object) -> HfDailyList:
    return parse_daily_papers(orjson.dumps(value))


def test_the_2024_shape():
    result = parse_daily_papers(OLD.read_bytes())
    assert result.skipped == []
    assert [p.record.arxiv_id for p in result.papers] == [
        "2410.17243",
        "2410.16251",
        "2410.18533",
        "2410.18693",
    ]
    assert [p.upvotes for p in result.papers] == [64, 41, 37, 35]
    assert [p.num_comments for p in result.papers] == [3, 2, 2, 2]
    assert [p.submitted_by for p in result.papers] == ["Zesen Cheng", "Canyu Chen", "Zecheng Tang", "Ding"]
    first = result.papers[0]
    # No submittedOnDailyAt in 2024: the day is the entry's publishedAt.
    assert {p.day for p in result.papers} == {date(2024, 10, 25)}
    assert first.record.listed_on == date(2024, 10, 25)
    assert first.record.published == date(2024, 10, 22)
    assert first.record.title == ("Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss")
    assert first.record.abstract.startswith("Contrastive loss is a powerful approach")
    assert first.record.authors == (
        "Zesen Cheng",
        "Hang Zhang",
        "Kehan Li",
        "Sicong Leng",
        "Zhiqiang Hu",
        "Fei Wu",
        "Deli Zhao",
        "Xin Li",
        "Lidong Bing",
    )
    assert first.record.categories == ()
    assert all(p.organization is None and p.project_page is None and p.github_repo is None for p in result.papers)


def test_the_2026_shape():
    result = parse_daily_papers(NEW.read_bytes())
    assert result.skipped == []
    bdh, colleague, trading = result.papers
    assert bdh.record.arxiv_id == "2608.09888"
    assert bdh.record.title == "BDH-CQ: In-Context Learning with Recurrent Latent Reasoning"
    assert bdh.record.authors[:2] == ("Björn Engdahl", "Adrian Kosowski")
    assert bdh.record.authors[4] == "Przemysław Uznański"
    assert len(bdh.record.authors) == 9
    assert bdh.day == bdh.record.listed_on == date(2026, 8, 11)  # paper.submittedOnDailyAt
    assert bdh.record.published == date(2026, 8, 10)
    assert (bdh.upvotes, bdh.num_comments) == (644, 4)
    assert bdh.organization == HfOrganization(
        name="pathwaycom",
        fullname="Pathway",
        avatar="https://cdn-avatars.huggingface.co/v1/production/uploads/6697aead07b36ccd016f0888/nOEvf0HpKBQJcVDfljgAc.png",
    )
    assert bdh.project_page == ("https://pathway.com/blog/pathway-150m-model-breaks-arc-agi-1-cost-efficiency-frontier")
    assert bdh.github_repo == "https://github.com/pathwaycom/arc-task-gen"
    assert bdh.submitted_by == "Jan Chorowski"

    assert colleague.record.arxiv_id == "2605.31264"
    assert colleague.day == date(2026, 6, 1)
    assert colleague.upvotes == 127
    assert colleague.organization.name == "ShanghaiAiLab"
    assert colleague.organization.fullname == "shanghai ailab"
    assert colleague.project_page is None
    assert colleague.github_repo == "https://github.com/titanwings/colleague-skill"
    assert colleague.submitted_by == "Qihan Ren"

    # No submittedOnDaily*, submittedBy or organization on this one.
    assert trading.record.arxiv_id == "2412.20138"
    assert trading.day == date(2024, 12, 28)
    assert trading.organization is None
    assert trading.submitted_by is None
    assert trading.github_repo == "https://github.com/tauricresearch/tradingagents"


def test_the_organization_of_the_paper_stands_in_for_the_entrys():
    data = entries(NEW)
    del data[0]["organization"]
    assert parse(data).papers[0].organization.name == "pathwaycom"


def test_a_broken_paper_is_skipped_and_the_others_kept():
    data = entries(OLD)
    data[1]["paper"]["id"] = "not-an-id"
    del data[2]["paper"]["title"]
    del data[2]["title"]
    data.insert(0, "a string")
    data.append({"publishedAt": "2024-10-25T00:00:00.000Z"})
    result = parse(data)
    assert [p.record.arxiv_id for p in result.papers] == ["2410.17243", "2410.18693"]
    reasons = dict(result.skipped)
    assert list(reasons) == ["entry 0", "not-an-id", "2410.18533", "entry 5"]
    assert "expected a JSON object, got str" in reasons["entry 0"]
    assert "is not an arXiv id" in reasons["not-an-id"]
    assert "`paper.title` is missing" in reasons["2410.18533"]
    assert "no `paper` object" in reasons["entry 5"]


def test_a_paper_without_any_date_or_with_a_bad_one_is_skipped():
    data = entries(NEW)
    del data[2]["publishedAt"]
    data[1]["paper"]["submittedOnDailyAt"] = "last Tuesday"
    result = parse(data)
    assert [p.record.arxiv_id for p in result.papers] == ["2608.09888"]
    reasons = dict(result.skipped)
    assert "gives the day" in reasons["2412.20138"]
    assert "`paper.submittedOnDailyAt` 'last Tuesday' is not a date" in reasons["2605.31264"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.org/x",
        "//example.org/x",
        "/avatars/x.svg",
        "https://",
        "http://a b",
        7,
    ],
)
def test_only_http_links_are_kept(url):
    data = entries(NEW)
    data[0]["paper"]["projectPage"] = url
    data[0]["paper"]["githubRepo"] = url
    data[0]["organization"]["avatar"] = url
    paper = parse(data).papers[0]
    assert (paper.project_page, paper.github_repo, paper.organization.avatar) == (None, None, None)


def test_hidden_authors_are_left_out_and_odd_counts_are_zero():
    data = entries(OLD)
    data[0]["paper"]["authors"][1]["hidden"] = True
    data[0]["paper"]["upvotes"] = -3
    data[0]["numComments"] = "many"
    paper = parse(data).papers[0]
    assert "Hang Zhang" not in paper.record.authors
    assert len(paper.record.authors) == 8
    assert (paper.upvotes, paper.num_comments) == (0, 0)


def test_the_submitter_falls_back_to_the_handle():
    data = entries(OLD)
    data[0]["submittedBy"]["fullname"] = ""
    assert parse(data).papers[0].submitted_by == "ClownRat"


def test_an_empty_list_is_an_empty_day():
    assert parse_daily_papers(b"[]") == HfDailyList(papers=[], skipped=[])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title>", "got an HTML page"),
        (b'{"error":"Invalid date"}', "got a JSON object with keys error: 'Invalid date'"),
        (b'{"papers": []}', "got a JSON object with keys papers"),
        (b"[{", "the body is not valid JSON"),
        (b"", "the body is empty"),
        (b" \n", "the body is empty"),
        (b"null", "got a JSON null"),
        (b'"2024-10-25"', "got a JSON str"),
    ],
)
def test_a_body_that_is_not_a_list_of_papers(body, message):
    with pytest.raises(SourceError, match="expected a JSON list of daily papers") as error:
        parse_daily_papers(body)
    assert message in str(error.value)


@settings(max_examples=300)
@given(st.binary())
def test_any_bytes_give_a_list_or_a_source_error(body):
    with contextlib.suppress(SourceError):
        assert isinstance(parse_daily_papers(body), HfDailyList)


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["2410.17243", "2024-10-25T00:57:09.392Z", "2024-13-45", "https://hf.co/x", "javascript:x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_PAPER_KEYS = (
    "id title summary authors publishedAt submittedOnDailyAt upvotes projectPage githubRepo organization"
    " submittedOnDailyBy"
).split()
_ENTRY_KEYS = "publishedAt title summary numComments submittedBy organization paper".split()


@st.composite
def _fuzzed(draw) -> list:
    """A recorded response with some fields replaced by arbitrary JSON values."""
    data = copy.deepcopy(draw(st.sampled_from([entries(OLD), entries(NEW)])))
    for _ in range(draw(st.integers(1, 6))):
        entry = draw(st.sampled_from(data))
        if isinstance(entry.get("paper"), dict) and draw(st.booleans()):
            entry["paper"][draw(st.sampled_from(_PAPER_KEYS))] = draw(_VALUES)
        else:
            entry[draw(st.sampled_from(_ENTRY_KEYS))] = draw(_VALUES)
    return data


@settings(max_examples=300)
@given(_fuzzed())
def test_damaged_entries_are_skipped_never_raised(data):
    result = parse(data)
    assert len(result.papers) + len(result.skipped) == len(data)
    for paper in result.papers:
        assert paper.upvotes >= 0 and paper.num_comments >= 0
        for url in (paper.project_page, paper.github_repo, paper.organization and paper.organization.avatar):
            assert url is None or url.startswith(("http://", "https://"))
