"""`paperfeed ingest …` against a real HTTP server on 127.0.0.1 replaying recorded arXiv and Hugging Face answers.

Pages with a 2025-style resumption token were never recorded (see tests/fixtures/arxiv_oai/README.md), so the
multi-page harvests here cut the recorded records of a real response into pages and wrap them in the envelope
and token format documented in arXiv's server source: constructed, not recorded.
"""

import re
from datetime import date
from pathlib import Path

import pytest
from conftest import ingest
from replay import FIXTURES, ReplayServer, Reply

from paperfeed.papers.models import DailyEntry, HarvestState, Organization, Paper, Vote

pytestmark = pytest.mark.django_db(transaction=True)

RECORDED = FIXTURES / "arxiv_oai" / "listrecords_arXiv_set-cs_2026-07-10_EDITED-upstream.xml"
NO_RECORDS = (FIXTURES / "arxiv_oai" / "error_noRecordsMatch_2026-10-04_CONDENSED-upstream.xml").read_bytes()
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    "<responseDate>2026-07-18T01:41:58Z</responseDate>"
    '<request verb="ListRecords">http://oaipmh.arxiv.org/oai</request><ListRecords>{records}{token}'
    "</ListRecords></OAI-PMH>"
)
BAD_TOKEN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    b"<responseDate>2026-07-18T01:41:58Z</responseDate><error code='badResumptionToken'>The value of the "
    b"resumptionToken argument is invalid or expired. Reason: Token decoding failed or format is invalid."
    b"</error></OAI-PMH>"
)


def recorded_records() -> list[str]:
    """The <record> elements of a real ListRecords response (5 papers and 1 deleted record)."""
    return re.findall(r"<record>.*?</record>", RECORDED.read_text(), re.S)


def token(skip: int) -> str:
    return f"verb%3DListRecords%26metadataPrefix%3DarXiv%26skip%3D{skip}"


def page(records: list[str], next_token: str | None) -> Reply:
    end = (
        f"<resumptionToken expirationDate='2026-07-19T00:00:00Z'>{next_token}</resumptionToken>"
        if next_token
        else "<resumptionToken/>"
    )
    return Reply(ENVELOPE.format(records="".join(records), token=end).encode())


def three_pages() -> list[Reply]:
    records = recorded_records()
    return [page(records[:2], token(2)), page(records[2:4], token(4)), page(records[4:], None)]


@pytest.fixture
def server(settings):
    server = ReplayServer().start()
    settings.PAPERFEED_ARXIV_OAI_URL = server.url + "/oai"
    settings.PAPERFEED_ARXIV_RSS_URL = server.url
    settings.PAPERFEED_ARXIV_API_URL = server.url + "/api/query"
    settings.PAPERFEED_HF_API_URL = server.url
    settings.PAPERFEED_ARXIV_DELAY_SECONDS = 0.01
    settings.PAPERFEED_HTTP_RETRIES = 2
    settings.PAPERFEED_HTTP_TIMEOUT_SECONDS = 1
    settings.PAPERFEED_CONTACT_EMAIL = "ops@example.org"
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """The commands' clients wait 0.05 s where they would wait longer; the waits asked for are recorded."""
    import time

    from paperfeed.papers.management.commands import ingest as command

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, 0.05))

    for factory in ("arxiv_client", "hf_client"):
        original = getattr(command, factory)

        def patched(original=original):
            client = original()
            client.sleep = sleep
            return client

        monkeypatch.setattr(command, factory, patched)
    return waits


def papers() -> list[str]:
    return sorted(Paper.objects.values_list("arxiv_id", flat=True))


# --- arXiv OAI-PMH ---


def test_a_multi_page_harvest_follows_resumption_tokens(server):
    server.route("/oai", *three_pages())
    status, out, _ = ingest("arxiv-oai", "--from", "2026-07-10", "--until", "2026-07-11", "--set", "cs")
    assert status == 0
    assert "5 papers: 5 new" in out and "3 page(s)" in out
    assert len(papers()) == 5
    first, *rest = server.requests_to("/oai")
    assert first.query == {
        "verb": ["ListRecords"],
        "metadataPrefix": ["arXiv"],
        "from": ["2026-07-10"],
        "until": ["2026-07-11"],
        "set": ["cs"],
    }
    assert [r.query for r in rest] == [
        {"verb": ["ListRecords"], "resumptionToken": [token(2)]},
        {"verb": ["ListRecords"], "resumptionToken": [token(4)]},
    ]
    assert "mailto:ops@example.org" in first.headers["User-Agent"]
    paper = Paper.objects.get(arxiv_id="1612.06115")
    assert paper.title == "Complex Network Tools to Understand the Behavior of Criminality in Urban Areas"
    assert [a.author.name for a in paper.authorships.order_by("position")][:2] == [
        "Gabriel Spadon",
        "Lucas C. Scabora",
    ]
    state = HarvestState.objects.get(name="arxiv-oai:cs:arXiv").state
    assert state["last_until"] == "2026-07-11" and "token" not in state


def test_the_next_run_continues_from_the_last_one_and_reports_nothing_new(server):
    server.route("/oai", *three_pages())
    ingest("arxiv-oai", "--from", "2026-07-10", "--until", "2026-07-11")
    server.route("/oai", Reply(NO_RECORDS))
    status, out, _ = ingest("arxiv-oai")
    assert status == 1  # nothing changed: cron can skip re-indexing
    assert "Nothing changed" in out
    assert server.requests_to("/oai")[-1].query["from"] == ["2026-07-11"]


def test_new_papers_go_on_the_daily_list_of_their_datestamp_and_revisions_do_not(server):
    server.route("/oai", *three_pages())
    ingest("arxiv-oai", "--from", "2026-07-10", "--until", "2026-07-11")
    revised = Paper.objects.get(arxiv_id="1612.06115")  # created 2016, updated 2026-07-10
    assert not revised.daily_entries.exists()
    listed = DailyEntry.objects.values_list("day", flat=True).distinct()
    assert set(listed) <= {date(2026, 7, 10)}


def test_deleted_records_remove_the_paper(server):
    Paper.objects.create(arxiv_id="2401.00000", title="Withdrawn", primary_category="cs.LG")
    server.route("/oai", *three_pages())
    status, out, _ = ingest("arxiv-oai", "--from", "2026-07-10", "--until", "2026-07-11")
    assert status == 0
    assert "1 papers withdrawn from arXiv were removed" in out
    assert not Paper.objects.filter(arxiv_id="2401.00000").exists()


def test_a_503_with_retry_after_is_waited_out(server, quick_backoff):
    first, *others = three_pages()
    server.route("/oai", Reply(b"busy", 503, {"Retry-After": "5"}, content_type="text/plain"), first, *others)
    status, out, _ = ingest("arxiv-oai", "--from", "2026-07-10", "--until", "2026-07-11")
    assert status == 0 and len(papers()) == 5
    assert 5.0 in quick_backoff


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (Reply(b"oops", 500, content_type="text/plain"), "HTTP 500"),
        (Reply(b"late", delay=3.0), "no answer within 1 s"),
        (Reply(b"<html><head><title>502 Bad Gateway</title></head></html>", content_type="text/html"), "HTML"),
        (Reply(b"<OAI-PMH><ListRecords><record>"), "XML"),
    ],
    ids=["http-500", "timeout", "html-page", "malformed-xml"],
)
def test_a_failure_mid_harvest_keeps_the_pages_before_it_and_the_next_run_resumes(server, failure, words):
    first, second, third = three_pages()
    server.route("/oai", first, failure)
    status, _, err = ingest("arxiv-oai", "--from", "2026-07-10", "--until", "2026-07-11")
    assert status == 2
    assert words in err and "run the same command again" in err
    assert len(papers()) == 2  # page 1 was committed; nothing of page 2
    assert HarvestState.objects.get().state["token"] == token(2)

    server.route("/oai", second, third)
    status, out, _ = ingest("arxiv-oai")
    assert status == 0
    assert "Resumed an interrupted harvest" in out
    assert server.requests_to("/oai")[-2].query == {"verb": ["ListRecords"], "resumptionToken": [token(2)]}
    assert len(papers()) == 5


def test_an_expired_token_restarts_the_window_cleanly(server):
    first, *others = three_pages()
    server.route("/oai", first, Reply(b"down", 500, content_type="text/plain"))
    ingest("arxiv-oai", "--from", "2026-07-10", "--until", "2026-07-11")
    server.route("/oai", Reply(BAD_TOKEN), *three_pages())
    status, out, _ = ingest("arxiv-oai")
    assert status == 0
    assert "no longer accepted the saved resumption token" in out
    assert server.requests_to("/oai")[-3].query["from"] == ["2026-07-10"]
    assert len(papers()) == 5 and Paper.objects.count() == 5  # page 1 again: upserted, not doubled


def test_no_records_match_is_success_with_nothing_new(server):
    server.route("/oai", Reply(NO_RECORDS))
    status, out, _ = ingest("arxiv-oai", "--from", "2026-10-03", "--until", "2026-10-03")
    assert status == 1 and "Nothing changed" in out


def test_other_oai_errors_are_reported(server):
    body = NO_RECORDS.replace(b"noRecordsMatch", b"badArgument").replace(b"The combination", b"Illegal set")
    server.route("/oai", Reply(body))
    status, _, err = ingest("arxiv-oai", "--set", "nope")
    assert status == 2 and "badArgument" in err


def test_bad_dates_are_refused_before_any_request(server):
    status, _, err = ingest("arxiv-oai", "--from", "yesterday")
    assert status == 2 and "--from" in err
    status, _, err = ingest("arxiv-oai", "--from", "2026-07-12", "--until", "2026-07-10")
    assert status == 2 and "is after" in err
    assert server.requests == []


def test_an_arxivraw_harvest_keeps_versions(server):
    server.route(
        "/oai",
        Reply.fixture("arxiv_oai/listrecords_arXivRaw_set-physics-hep-th_2026-09-30_2026-10-03_final_trimmed.xml"),
    )
    status, out, _ = ingest(
        "arxiv-oai", "--format", "arXivRaw", "--set", "physics:hep-th", "--from", "2026-09-30", "--until", "2026-10-03"
    )
    assert status == 0
    assert server.requests[0].query["metadataPrefix"] == ["arXivRaw"]
    assert Paper.objects.filter(version__gt=1).exists()
    assert HarvestState.objects.filter(name="arxiv-oai:physics:hep-th:arXivRaw").exists()


def test_the_arxiv_delay_defaults_to_three_seconds():
    from paperfeed.papers.services.ingest import arxiv_client

    assert arxiv_client().min_interval == 3.0


# --- arXiv announcements ---

ATOM = "arxiv_rss/atom_cs.LG_2026-09-25_EDITED-upstream-abstracts-shortened.xml"


def test_announcements_fill_the_daily_list(server):
    server.route("/atom/cs.LG", Reply.fixture(ATOM))
    status, out, _ = ingest("arxiv-new", "cs.LG")
    assert status == 0
    assert "arXiv announcements for cs.LG" in out
    assert server.requests[0].path == "/atom/cs.LG"
    listed = DailyEntry.objects.filter(source="arxiv")
    assert listed.exists()
    assert {e.day for e in listed} == {date(2026, 9, 25)}


def test_a_replacement_updates_the_paper_without_listing_it_again(server):
    from paperfeed.core.sources.arxiv_feed import parse_announcements

    feed = parse_announcements((FIXTURES / ATOM).read_bytes())
    replaced = [a.record for a in feed.announcements if a.announce_type.startswith("replace")]
    assert replaced, "the recorded feed has a replacement"
    old = replaced[0]
    paper = Paper.objects.create(arxiv_id=old.arxiv_id, title="An older title", primary_category="cs.LG")
    server.route("/atom/cs.LG", Reply.fixture(ATOM))
    ingest("arxiv-new", "cs.LG")
    paper.refresh_from_db()
    assert paper.title == old.title
    assert not paper.daily_entries.exists()


def test_a_weekend_feed_with_nothing_is_nothing_new(server):
    empty = (
        b'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<id>urn:x</id><title>cs.LG updates on arXiv.org</title><updated>2026-10-03T04:00:01Z</updated></feed>"
    )
    server.route("/atom/cs.LG", Reply(empty))
    status, out, _ = ingest("arxiv-new", "cs.LG")
    assert status == 1 and "no announcements" in out


def test_unreadable_items_are_reported_with_reasons_and_the_rest_loaded(server):
    server.route("/atom/math.OC", Reply.fixture("arxiv_rss/constructed_rss_math.OC_replace-cross_and_bad_items.xml"))
    status, out, err = ingest("arxiv-new", "math.OC")
    assert status == 0
    assert err.count("skipped") == 2  # the item without an arXiv id and the one without a title
    assert "1 replace-cross" in out
    assert Paper.objects.count() == 2


def test_categories_are_checked(server):
    status, _, err = ingest("arxiv-new", "cs.LG", "../etc")
    assert status == 2 and "not arXiv categories: ../etc" in err


# --- arXiv API ---

API = "arxiv_api/query_cat-cs.CL_max3_2026-09-24.xml"


def test_single_papers_by_id(server):
    from paperfeed.core.sources.arxiv_api import parse_api_feed

    ids = [r.arxiv_id for r in parse_api_feed((FIXTURES / API).read_bytes()).records]
    server.route("/api/query", Reply.fixture(API))
    status, out, _ = ingest("arxiv-id", *ids)
    assert status == 0 and f"{len(ids)} new" in out
    assert server.requests[0].query["id_list"] == [",".join(ids)]
    assert papers() == sorted(ids)


def test_an_id_arxiv_does_not_know(server):
    empty = (FIXTURES / API).read_text()
    empty = re.sub(r"<entry>.*</entry>", "", empty, flags=re.S)
    empty = re.sub(r"<opensearch:totalResults[^>]*>\d+<", "<opensearch:totalResults>0<", empty)
    server.route("/api/query", Reply(empty.encode()))
    status, _, err = ingest("arxiv-id", "2699.99999")
    assert status == 2
    assert "arXiv does not know 2699.99999" in err
    assert papers() == []


def test_malformed_ids_are_refused_before_any_request(server):
    status, _, err = ingest("arxiv-id", "not-an-id")
    assert status == 2 and "not arXiv ids: not-an-id" in err
    assert server.requests == []


# --- Hugging Face ---

HF = "hf/daily_papers_2026-08_3entries_prettyprinted-upstream.json"


def test_hugging_face_daily_papers_with_their_own_details(server):
    from paperfeed.core.sources.hf_daily import parse_daily_papers

    listing = parse_daily_papers((FIXTURES / HF).read_bytes())
    server.route("/api/daily_papers", Reply.fixture(HF))
    status, out, _ = ingest("hf-daily", "--week", "2026-W33")
    assert status == 0
    assert server.requests[0].query["week"] == ["2026-W33"]
    for item in listing.papers:
        paper = Paper.objects.get(arxiv_id=item.record.arxiv_id)
        assert paper.hf_upvotes == item.upvotes
        assert paper.project_url == (item.project_page or "")
        assert paper.code_url == (item.github_repo or "")
        entry = paper.daily_entries.get(source="hf")
        assert entry.day == item.day
        assert entry.submitter_name == (item.submitted_by or "")
        if item.organization:
            assert paper.organization.slug == item.organization.name.lower()
    assert Organization.objects.exists()
    assert Vote.objects.count() == 0  # Hugging Face's upvotes are not local votes

    status, out, _ = ingest("hf-daily", "--week", "2026-W33")
    assert status == 1 and "Nothing changed" in out


def test_hugging_face_never_erases_what_arxiv_said(server):
    from paperfeed.core.sources.hf_daily import parse_daily_papers

    item = parse_daily_papers((FIXTURES / HF).read_bytes()).papers[0]
    Paper.objects.create(
        arxiv_id=item.record.arxiv_id,
        title=item.record.title,
        abstract=item.record.abstract,
        categories=["cs.CL", "cs.AI"],
        primary_category="cs.CL",
    )
    server.route("/api/daily_papers", Reply.fixture(HF))
    ingest("hf-daily", "--date", "2026-08-14")
    paper = Paper.objects.get(arxiv_id=item.record.arxiv_id)
    assert (paper.categories, paper.primary_category) == (["cs.CL", "cs.AI"], "cs.CL")
    assert paper.hf_upvotes == item.upvotes


def test_hugging_face_answering_html_is_a_clear_error(server):
    server.route("/api/daily_papers", Reply(b"<!DOCTYPE html><title>Rate limited</title>", content_type="text/html"))
    status, _, err = ingest("hf-daily", "--date", "2026-08-14")
    assert status == 2 and "HTML" in err
    assert papers() == []


# --- files ---


def snapshot_sample() -> Path:
    return FIXTURES / "snapshot" / "sample.jsonl"


def test_a_snapshot_file_loads(tmp_path):
    status, out, _ = ingest("snapshot", str(snapshot_sample()))
    assert status == 0
    paper = Paper.objects.get(arxiv_id="0704.0001")
    assert paper.version == 2 and paper.published == date(2007, 4, 2)
    assert paper.doi == "10.1103/PhysRevD.76.013009"
    assert [a.author.name for a in paper.authorships.order_by("position")][0] == "C. Balázs"
    status, out, _ = ingest("snapshot", str(snapshot_sample()))
    assert status == 1


def test_a_gzipped_snapshot_loads_the_same(tmp_path):
    import gzip

    packed = tmp_path / "arxiv-metadata-oai-snapshot.json.gz"
    packed.write_bytes(gzip.compress(snapshot_sample().read_bytes()))
    status, out, _ = ingest("snapshot", str(packed))
    assert status == 0
    assert len(papers()) == len(snapshot_sample().read_text().splitlines())


def test_a_snapshot_line_without_id_stops_with_file_and_line(tmp_path):
    broken = tmp_path / "snap.jsonl"
    lines = snapshot_sample().read_text().splitlines()
    lines.insert(1, lines[1].replace('"id"', '"ident"', 1))
    broken.write_text("\n".join(lines) + "\n")
    status, _, err = ingest("snapshot", str(broken))
    assert status == 2 and f"{broken}:2:" in err
    assert papers() == []


def test_control_characters_and_markup_in_an_abstract_are_cleaned(tmp_path):
    import json

    line = json.loads(snapshot_sample().read_text().splitlines()[0])
    line["abstract"] = "We show\x07 that <p>$a<b$</p> holds.\x00<br/>"
    dirty = tmp_path / "dirty.jsonl"
    dirty.write_text(json.dumps(line) + "\n")
    ingest("snapshot", str(dirty))
    assert Paper.objects.get(arxiv_id=line["id"]).abstract == "We show that $a<b$ holds."
