import pytest

from paperfeed.core.arxiv_ids import ArxivId, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2503.11731", ArxivId("2503.11731")),
        ("2503.11731v2", ArxivId("2503.11731", 2)),
        ("0704.0001", ArxivId("0704.0001")),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("hep-th/9901001v3", ArxivId("hep-th/9901001", 3)),
        ("math.GT/0309136", ArxivId("math.GT/0309136")),
        ("arXiv:2503.11731", ArxivId("2503.11731")),
        ("https://arxiv.org/abs/2503.11731v4", ArxivId("2503.11731", 4)),
        ("https://arxiv.org/pdf/2503.11731.pdf", ArxivId("2503.11731")),
        ("  2503.11731 ", ArxivId("2503.11731")),
    ],
)
def test_parses_every_id_style(text, expected):
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize("text", ["", "hello", "2503.117", "2503.11731v", "../etc/passwd", "2503.11731<script>"])
def test_rejects_what_is_not_an_id(text):
    assert parse_arxiv_id(text) is None


def test_str_keeps_the_version():
    assert str(ArxivId("2503.11731", 2)) == "2503.11731v2"
    assert str(ArxivId("hep-th/9901001")) == "hep-th/9901001"
