"""Paper sources and addresses (core.sources.registry): what names a paper in URLs, forms and the API."""

from __future__ import annotations

import pytest

from paperfeed.core.addresses import paper_address
from paperfeed.core.records import RecordError, make_record
from paperfeed.core.sources.registry import PaperAddress, addresses_in, parse_address, sources


@pytest.mark.parametrize(
    ("written", "source", "external_id", "version"),
    [
        ("2503.11731", "arxiv", "2503.11731", None),
        ("2503.11731v2", "arxiv", "2503.11731", 2),
        ("arXiv:2503.11731", "arxiv", "2503.11731", None),
        ("arxiv:hep-th/9901001v3", "arxiv", "hep-th/9901001", 3),
        ("https://arxiv.org/abs/2503.11731v1", "arxiv", "2503.11731", 1),
        ("  2503.11731 ", "arxiv", "2503.11731", None),
    ],
)
def test_arxiv_papers_are_addressed_as_they_always_were(written, source, external_id, version):
    address = parse_address(written)
    assert address == PaperAddress(source, external_id, version)
    assert str(address) == external_id  # /papers/2503.11731: arXiv URLs unchanged
    assert address.label == f"arXiv:{external_id}"


@pytest.mark.parametrize("written", ["", "banana", "nosuchsource:123", "arxiv:banana", "2503.11731/vote", "../etc"])
def test_what_names_no_paper_is_none(written):
    assert parse_address(written) is None


def test_an_address_of_another_source_carries_its_name():
    assert paper_address("arxiv", "2503.11731") == "2503.11731"
    assert paper_address("biorxiv", "10.1101/2024.01.01.575001") == "biorxiv:10.1101/2024.01.01.575001"


def test_arxiv_is_registered_first_and_every_source_is_well_formed():
    registered = list(sources().values())
    assert registered[0].name == "arxiv"
    for source in registered:
        assert source.name == source.name.lower() and ":" not in source.name and source.label


def test_ids_written_in_a_page_are_found_with_their_source():
    text = '<a href="/papers/2503.11731">…</a> and hep-th/9901001, not 12345'
    assert {("arxiv", "2503.11731"), ("arxiv", "hep-th/9901001")} <= addresses_in(text)


def test_a_record_knows_its_identity_and_address():
    record = make_record(arxiv_id="2503.11731v2", title="A paper", abstract="", authors=["Ada"])
    assert (record.identity, record.address, record.version) == (("arxiv", "2503.11731"), "2503.11731", 2)
    other = make_record(source="example", external_id="E-1", title="Elsewhere", abstract="", authors=["Ada"])
    assert (other.identity, other.address, other.arxiv_id) == (("example", "E-1"), "example:E-1", "")
    with pytest.raises(RecordError, match="without its id there"):
        make_record(source="example", external_id=" ", title="No id", abstract="", authors=[])
    with pytest.raises(RecordError, match="not an arXiv id"):
        make_record(source="example", external_id="E-2", arxiv_id="banana", title="Bad", abstract="", authors=[])
