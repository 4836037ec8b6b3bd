import gzip
from datetime import date

import orjson
import pytest

from paperfeed.core.records import LineReader, RecordError, clean_text, parse_jsonl_line

GOOD = {
    "id": "2503.11731",
    "title": "  A   Title\n with  spaces ",
    "abstract": "Text\x02 with a control character.",
    "authors": ["Ada Lovelace", " ", "Alan  Turing"],
    "categories": ["cs.CV", "cs.RO"],
    "primary_category": "cs.CV",
    "first_listed": "2025-03-18",
    "last_seen": "2025-03-20",
    "comment": None,
}


def line(**changes) -> bytes:
    obj = {**GOOD, **changes}
    return orjson.dumps({k: v for k, v in obj.items() if v is not ...})


def test_a_good_line():
    record = parse_jsonl_line(line())
    assert record.arxiv_id == "2503.11731"
    assert record.title == "A Title with spaces"
    assert record.abstract == "Text with a control character."
    assert record.authors == ("Ada Lovelace", "Alan Turing")
    assert record.categories == ("cs.CV", "cs.RO")
    assert record.published == record.listed_on == date(2025, 3, 18)
    assert record.updated == date(2025, 3, 20)
    assert record.comment is None
    assert record.version is None


def test_version_comes_from_a_versioned_id():
    record = parse_jsonl_line(line(id="2503.11731v3"))
    assert (record.arxiv_id, record.version) == ("2503.11731", 3)


def test_primary_category_joins_categories_when_missing():
    record = parse_jsonl_line(line(categories=["cs.RO"], primary_category="cs.CV"))
    assert record.categories == ("cs.CV", "cs.RO")


def test_last_seen_on_the_first_day_is_no_update():
    assert parse_jsonl_line(line(last_seen="2025-03-18")).updated is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (line(id=...), "`id` is missing"),
        (line(id="banana"), "`id` 'banana' is not an arXiv id"),
        (line(id=12), "`id` must be a string, not int"),
        (line(title=...), "`title` is missing"),
        (line(title="   "), "`title` is empty"),
        (line(abstract=...), "`abstract` is missing"),
        (line(authors="Ada, Alan"), "`authors` must be a list of strings"),
        (line(authors=[1, 2]), "`authors` must be a list of strings"),
        (line(categories=...), "`categories` is missing"),
        (line(first_listed="2025-02-30"), "`first_listed` '2025-02-30' is not a date"),
        (line(first_listed=20250318), "`first_listed` must be a date string"),
        (line(version=0), "`version` must be a positive whole number"),
    ],
)
def test_bad_lines_say_what_is_wrong(raw, message):
    with pytest.raises(RecordError) as error:
        parse_jsonl_line(raw)
    assert message in str(error.value)


def test_clean_text_leaves_clean_text_alone():
    text = "Already clean text."
    assert clean_text(text) is text
    assert clean_text("a\u00a0b\tc") == "a b c"


def test_reader_reads_gzip_and_plain_alike(tmp_path):
    content = line() + b"\n\n" + line(id="2503.00001") + b"\n"
    plain = tmp_path / "p.jsonl"
    plain.write_bytes(content)
    packed = tmp_path / "p.jsonl.gz"  # named .gz but recognised by content either way
    packed.write_bytes(gzip.compress(content))
    for path in (plain, packed):
        with LineReader(path) as reader:
            assert [n for n, _ in reader] == [1, 3]
            assert reader.position == reader.size


def test_reader_reports_a_truncated_gzip_file(tmp_path):
    content = b"".join(line(id=f"2503.{i:05d}") + b"\n" for i in range(2000))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(content)[:-200])
    with LineReader(broken) as reader, pytest.raises(RecordError, match="gzip data is damaged"):
        for _ in reader:
            pass
