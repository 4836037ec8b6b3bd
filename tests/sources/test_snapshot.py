import contextlib
import gzip
import importlib.util
from datetime import date
from itertools import islice
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.core.latex import latex_to_unicode
from paperfeed.core.records import PaperRecord, RecordError, parse_jsonl_line
from paperfeed.core.sources.snapshot import parse_snapshot_line

TESTS = Path(__file__).parent.parent
SAMPLE = TESTS / "fixtures" / "snapshot" / "sample.jsonl"
SMALL = TESTS / "data" / "small.jsonl"
CORPUS = TESTS.parent / "src" / "paperfeed" / "demo" / "papers-demo.jsonl.gz"  # real arXiv papers, in the repo

_spec = importlib.util.spec_from_file_location("make_snapshot", TESTS.parent / "bench" / "make_snapshot.py")
make_snapshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_snapshot)

LINES = SAMPLE.read_bytes().splitlines()
EXAMPLE = orjson.loads(LINES[0])


def line(**changes) -> bytes:
    obj = {**EXAMPLE, **changes}
    return orjson.dumps({key: value for key, value in obj.items() if value is not ...})


def test_the_example_line():
    record = parse_snapshot_line(LINES[0])
    assert record.arxiv_id == "0704.0001"
    assert record.title == ("Calculation of prompt diphoton production cross sections at Tevatron and LHC energies")
    assert record.abstract == "A fully differential calculation …"
    assert record.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan")
    assert record.version == 2
    assert record.published == date(2007, 4, 2)
    assert record.updated == date(2007, 7, 24)
    assert record.doi == "10.1103/PhysRevD.76.013009"
    assert record.journal_ref == "Phys.Rev.D76:013009,2007"
    assert record.comment == "37 pages, 15 figures; published version"
    assert (record.primary_category, record.categories) == ("hep-ph", ("hep-ph",))
    assert record.listed_on is None


def test_an_old_style_id():
    record = parse_snapshot_line(LINES[1])
    assert record.arxiv_id == "hep-th/9901001"
    assert record.version == 1
    assert record.authors == ("J. Müller", "F. Østergaard")
    assert record.categories == ("hep-th", "math-ph", "math.MP")
    assert record.published == date(1999, 1, 4)
    assert record.updated is None  # one version: update_date is a metadata change, not a new version


def test_authors_without_authors_parsed_come_from_the_string():
    assert parse_snapshot_line(LINES[2]).authors == ("François Dupont", "Jiří Novák", "Ana Peña")
    record = parse_snapshot_line(line(authors_parsed=...))
    assert record.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert parse_snapshot_line(line(authors_parsed=..., authors="A. One and B. Two")).authors == (
        "A. One",
        "B. Two",
    )
    assert parse_snapshot_line(line(authors_parsed=..., authors=...)).authors == ()


def test_the_highest_version_and_name_suffixes():
    record = parse_snapshot_line(LINES[3])
    assert record.version == 3
    assert (record.published, record.updated) == (date(2014, 12, 31), date(2015, 3, 2))
    assert record.authors == ("Martin Luther King Jr.", "Pál Erdős", "Søren Kierkegaard")
    assert record.primary_category == "cs.LG"


def test_versions_out_of_order_and_a_missing_created():
    versions = [
        {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
    ]
    record = parse_snapshot_line(line(versions=versions))
    assert (record.version, record.published, record.updated) == (2, date(2007, 4, 2), date(2007, 7, 24))
    versions[0] = {"version": "v2"}
    assert parse_snapshot_line(line(versions=versions)).updated == date(2008, 11, 13)  # update_date


def test_every_sample_line_parses():
    assert all(isinstance(parse_snapshot_line(raw), PaperRecord) for raw in LINES)


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("Bal\\'azs", "Balázs"),
        ('M\\"uller', "Müller"),
        ('M\\"{u}ller', "Müller"),
        ("Cr\\`emer", "Crèmer"),
        ("L\\^oc", "Lôc"),
        ("Pe\\~na", "Peña"),
        ("Fran\\c{c}ois", "François"),
        ("Fran\\c cois", "François"),
        ("\\v{S}koda", "Škoda"),
        ("{\\o}rsted", "ørsted"),
        ("S\\o ren", "Søren"),
        ("Erd{\\H o}s", "Erdős"),
        ("Mart\\'{\\i}n", "Martín"),
        ("{\\L}ukasz", "Łukasz"),
        ("Nguy\\~ên", "Nguyễn"),
        ("Stra{\\ss}e", "Straße"),
        ("{Van der Berg}", "Van der Berg"),
        ("Plain Name", "Plain Name"),
        ("\\d{a}", "ạ"),
        ("\\textit{Deep}", "Deep"),
        ("\\unknown{x}", "x"),
    ],
)
def test_tex_accents_in_names(tex, text):
    assert latex_to_unicode(tex) == text


def test_names_in_tex_are_read_by_the_one_latex_converter():
    parsed = [["Erd{\\H o}s", "P\\'al", ""], ["Nguy\\d{e}n", "V\\u{a}n", ""], ["Team", "\\textit{Deep}", ""]]
    assert parse_snapshot_line(line(authors_parsed=parsed)).authors == ("Pál Erdős", "Văn Nguyẹn", "Deep Team")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (line(id=...), "`id` is missing"),
        (line(title=...), "`title` is missing"),
        (line(abstract=...), "`abstract` is missing"),
        (line(versions=...), "`versions` is missing"),
        (line(id="banana"), "'banana' is not an arXiv id"),
        (line(id=704.0001), "`id` must be a string, not float"),
        (line(title="  "), "0704.0001: the title is empty"),
        (line(versions=[]), "`versions` must be a non-empty list"),
        (
            line(versions=[{"version": "1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]),
            "without a version like v1",
        ),
        (
            line(versions=[{"version": "v0", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]),
            "versions start at v1",
        ),
        (line(versions=[{"version": "v1"}]), "`versions` v1: `created` must be a date"),
        (line(versions=[{"version": "v1", "created": "yesterday"}]), "`created` 'yesterday' is not a date"),
        (line(versions=[{"version": "v1", "created": "Fri, 31 Feb 2007 10:00:00 GMT"}]), "is not a date"),
        (line(versions=[{"version": "v1", "created": "Mon, 2 Avr 2007 19:18:42 GMT"}]), "is not a date"),
        (line(update_date="2008-13-45"), "`update_date` '2008-13-45' is not a date"),
        (line(authors_parsed="C. Balázs"), "`authors_parsed` must be a list"),
        (line(authors_parsed=[["Balázs", 3, ""]]), "`authors_parsed` must be a list of [keyname"),
        (line(categories=["hep-ph"]), "`categories` must be a string, not list"),
    ],
)
def test_errors_say_what_is_wrong(raw, message):
    with pytest.raises(RecordError) as error:
        parse_snapshot_line(raw)
    assert message in str(error.value)


def _first_lines(path: Path, count: int) -> list[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        return [raw for raw in islice(file, count) if raw.strip()]


@pytest.mark.parametrize("source", [SMALL, CORPUS], ids=["small", "corpus"])
def test_a_round_trip_through_the_bench_converter(source):
    for raw in _first_lines(source, 200):
        original = parse_jsonl_line(raw)
        record = parse_snapshot_line(orjson.dumps(make_snapshot.to_snapshot(orjson.loads(raw))))
        assert record.arxiv_id == original.arxiv_id
        assert record.title == original.title
        assert record.authors == original.authors
        assert record.categories == original.categories
        assert record.primary_category == original.primary_category
        assert (record.published, record.updated) == (original.published, original.updated)


def test_the_bench_converter_is_deterministic(tmp_path):
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    assert make_snapshot.convert(SMALL, first) == 10
    make_snapshot.convert(SMALL, second)
    assert first.read_bytes() == second.read_bytes()
    assert all(
        isinstance(parse_snapshot_line(raw), PaperRecord) for raw in gzip.decompress(first.read_bytes()).splitlines()
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared, noisy machine
@given(st.binary())
def test_any_bytes_give_a_record_or_a_record_error(raw):
    with contextlib.suppress(RecordError):
        assert isinstance(parse_snapshot_line(raw), PaperRecord)


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=20)
    | st.sampled_from(["v1", "v2", "Mon, 2 Apr 2007 19:18:42 GMT", "2008-11-13", "\\'a{\\o}", "hep-th/9901001"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["version", "created"]), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared, noisy machine
@given(st.dictionaries(st.sampled_from(list(EXAMPLE)), _VALUES, max_size=6))
def test_damaged_fields_give_a_record_or_a_record_error(changes):
    with contextlib.suppress(RecordError):
        assert isinstance(parse_snapshot_line(orjson.dumps({**EXAMPLE, **changes})), PaperRecord)
