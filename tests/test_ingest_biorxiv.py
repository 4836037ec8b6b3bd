"""`paperfeed ingest biorxiv|medrxiv` against a real HTTP server on 127.0.0.1 replaying constructed pages of the
bioRxiv API's `details` endpoint (tests/fixtures/biorxiv/README.md): pages followed by their cursor, both servers,
an interruption and a resume, bad answers, and the preprints' subjects as categories on the site."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import card_titles, ingest
from replay import FIXTURES, ReplayServer, Reply

from paperfeed.papers.models import DailyEntry, HarvestState, Paper

WINDOW = "2026-07-01/2026-07-02"
GRID_CELLS = "10.1101/2026.06.30.602001"
COMMENTS = "10.1101/2026.06.30.602010"
MITOCHONDRIA = "10.1101/2026.07.01.602077"
HEAT = "10.1101/2026.06.29.26310001"
WASTEWATER = "10.1101/2026.06.30.26310042"
NO_POSTS = Reply(b'{"messages":[{"status":"no posts found"}],"collection":[]}', content_type="application/json")


def api_page(server: str, cursor: int) -> Reply:
    return Reply.fixture(f"biorxiv/constructed_api_{server}_2026-07-01_2026-07-02_cursor{cursor}.json")


def path(server: str, cursor: int, window: str = WINDOW) -> str:
    return f"/details/{server}/{window}/{cursor}"


def route_biorxiv(server: ReplayServer, *cursors: int) -> None:
    for cursor in cursors:
        server.route(path("biorxiv", cursor), api_page("biorxiv", cursor))


def ids(source: str = "biorxiv") -> list[str]:
    return sorted(Paper.objects.filter(source=source).values_list("external_id", flat=True))


@pytest.fixture
def api(settings, monkeypatch):
    """The replay server as the bioRxiv API; the harvest's pacing and retries wait 0.05 s at most."""
    import time

    from paperfeed.papers.management.commands import ingest as command

    server = ReplayServer().start()
    settings.PAPERFEED_BIORXIV_API_URL = server.url + "/"
    settings.PAPERFEED_HTTP_RETRIES = 2
    settings.PAPERFEED_HTTP_TIMEOUT_SECONDS = 1
    original = command.biorxiv_client

    def quick():
        client = original()
        client.sleep = lambda seconds: time.sleep(min(seconds, 0.05))
        return client

    monkeypatch.setattr(command, "biorxiv_client", quick)
    yield server
    server.stop()


def test_a_harvest_follows_the_cursor_through_every_page(api, db):
    route_biorxiv(api, 0, 2, 4)
    status, out, err = ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    assert status == 0, err
    assert "bioRxiv, harvested 2026-07-01 to 2026-07-02: 3 page(s)." in out and "3 new" in out
    assert [r.path for r in api.requests] == [path("biorxiv", 0), path("biorxiv", 2), path("biorxiv", 4)]
    assert ids() == [GRID_CELLS, COMMENTS, MITOCHONDRIA]
    assert "skipped 10.1101/2026.07.01.602050: biorxiv:10.1101/2026.07.01.602050: the title is empty" in err
    assert "skipped entry 2: the entry has no `doi`" in err
    comments = Paper.objects.get(external_id=COMMENTS)  # version 1 on the first page, version 2 on the second
    assert (comments.version, comments.title) == (
        2,
        "Preprint comments predict the changes made in journal peer review",
    )
    assert (str(comments.published), str(comments.updated)) == ("2026-07-01", "2026-07-02")
    assert [a.author.name for a in comments.authorships.order_by("position")] == [
        "K. Osei",
        "M. L. Brandt",
        "P. Ivanova",
    ]
    listed = {(e.paper.external_id, str(e.day), e.source) for e in DailyEntry.objects.all()}
    assert listed == {
        (GRID_CELLS, "2026-07-01", "biorxiv"),
        (COMMENTS, "2026-07-01", "biorxiv"),
        (MITOCHONDRIA, "2026-07-02", "biorxiv"),
    }
    state = HarvestState.objects.get(name="biorxiv-api:biorxiv").state
    assert state["last_until"] == "2026-07-02" and "cursor" not in state


def test_the_next_run_continues_from_the_last_one_and_reports_nothing_new(api, db):
    route_biorxiv(api, 0, 2, 4)
    ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    today = date.today()
    api.route(path("biorxiv", 0, f"2026-07-02/{today}"), NO_POSTS)
    status, out, _ = ingest("biorxiv")
    assert status == 1 and "Nothing changed" in out
    assert api.requests[-1].path == path("biorxiv", 0, f"2026-07-02/{today}")
    api.route(path("biorxiv", 0, WINDOW), api_page("biorxiv", 0))
    assert ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")[0] == 1  # again: upserted, not doubled
    assert len(ids()) == 3


def test_the_first_run_without_dates_takes_yesterday_and_today(api, db):
    today = date.today()
    window = f"{today - timedelta(days=1)}/{today}"
    api.route(path("medrxiv", 0, window), NO_POSTS)
    status, out, _ = ingest("medrxiv")
    assert status == 1 and f"medRxiv, harvested {today - timedelta(days=1)} to {today}: 1 page(s)." in out
    assert [r.path for r in api.requests] == [path("medrxiv", 0, window)]


def test_medrxiv_is_a_source_of_its_own_beside_biorxiv(api, db, client):
    route_biorxiv(api, 0, 2, 4)
    api.route(path("medrxiv", 0), api_page("medrxiv", 0))
    assert ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")[0] == 0
    status, out, err = ingest("medrxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    assert status == 0 and "medRxiv, harvested 2026-07-01 to 2026-07-02: 1 page(s)." in out and "2 new" in out, err
    assert ids("medrxiv") == [HEAT, WASTEWATER] and len(ids("biorxiv")) == 3
    assert HarvestState.objects.filter(name__in=["biorxiv-api:biorxiv", "biorxiv-api:medrxiv"]).count() == 2
    heat = Paper.objects.get(external_id=HEAT)
    assert (heat.source, heat.categories, heat.doi) == ("medrxiv", ["epidemiology"], HEAT)
    assert heat.daily_entries.get().source == "medrxiv"
    page = client.get(f"/papers/medrxiv:{HEAT}")
    html = page.content.decode()
    assert page.status_code == 200 and "Heat waves and emergency admissions" in html
    assert f'href="https://www.medrxiv.org/content/{HEAT}v1"' in html and ">medRxiv page<" in html
    assert client.get(f"/papers/biorxiv:{HEAT}").status_code == 404  # a DOI is on one server only
    day = client.get("/?date=2026-07-01").content.decode()
    assert f'href="/papers/medrxiv:{HEAT}"' in day and f'href="/papers/biorxiv:{GRID_CELLS}"' in day


def test_subjects_are_categories_that_are_shown_and_filter_lists_and_search(api, db, client):
    route_biorxiv(api, 0, 2, 4)
    api.route(path("medrxiv", 0), api_page("medrxiv", 0))
    ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    ingest("medrxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    wastewater = Paper.objects.get(external_id=WASTEWATER)
    assert wastewater.primary_category == "infectious diseases (except hiv/aids)"
    page = client.get(f"/papers/medrxiv:{WASTEWATER}").content.decode()
    assert (
        '<a class="category primary" href="/search?category=infectious%20diseases%20%28except%20hiv/aids%29">' in page
    )
    day = client.get("/?date=2026-07-01").content.decode()
    assert 'href="/search?category=scientific%20communication%20and%20education"' in day
    listed = client.get("/search?category=scientific%20communication%20and%20education")
    assert card_titles(listed) == ["Preprint comments predict the changes made in journal peer review"]
    assert card_titles(client.get("/search?category=infectious+diseases+%28except+hiv%2Faids%29")) == [
        "Wastewater surveillance anticipates influenza admissions by a week"
    ]
    found = client.get("/search?q=mitochondria+fission&mode=keyword&category=cell+biology")
    assert card_titles(found) == ["Mitochondria divide at contacts with the endoplasmic reticulum in yeast"]
    assert card_titles(client.get("/search?q=mitochondria+fission&mode=keyword&category=neuroscience")) == []
    form = client.get("/search?category=epidemiology").content.decode()
    assert '<option value="epidemiology" selected>epidemiology</option>' in form
    assert '<option value="cell biology">cell biology</option>' in form
    api_listed = client.get("/api/v1/search?q=heat+waves&mode=keyword&category=epidemiology").json()
    assert [p["id"] for p in api_listed["results"]] == [f"medrxiv:{HEAT}"]


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (Reply(b"oops", 500, content_type="text/plain"), "HTTP 500 Internal Server Error (gave up after 3 attempts)"),
        (Reply(b"slow down", 429, {"Retry-After": "1"}, content_type="text/plain"), "HTTP 429"),
        (
            Reply(b"<html><head><title>502 Bad Gateway</title></head></html>", content_type="text/html"),
            "but got an HTML page ('502 Bad Gateway'), not JSON",
        ),
        (Reply(b'{"messages":[{"status":"ok"}],"collection":[{"doi"', content_type="application/json"), "not JSON"),
        (Reply(b'{"messages":[], "collection": "none"}', content_type="application/json"), "`collection` list"),
    ],
    ids=["http-500", "http-429", "html-page", "cut-off-json", "wrong-shape"],
)
def test_a_failure_mid_harvest_keeps_the_pages_before_it_and_the_next_run_resumes(api, db, failure, words):
    route_biorxiv(api, 0)
    api.route(path("biorxiv", 2), failure)
    status, _, err = ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    assert status == 2, err
    assert words in err and "run the same command again to go on from the last saved page" in err
    assert ids() == [GRID_CELLS, COMMENTS] and Paper.objects.get(external_id=COMMENTS).version == 1  # page 1, whole
    state = HarvestState.objects.get(name="biorxiv-api:biorxiv").state
    assert (state["from"], state["until"], state["cursor"]) == ("2026-07-01", "2026-07-02", 2)

    route_biorxiv(api, 2, 4)
    asked = len(api.requests)
    status, out, err = ingest("biorxiv")
    assert status == 0, err
    assert "Resumed an interrupted harvest." in out and "2 page(s)" in out
    assert [r.path for r in api.requests[asked:]] == [path("biorxiv", 2), path("biorxiv", 4)]
    assert ids() == [GRID_CELLS, COMMENTS, MITOCHONDRIA] and Paper.objects.get(external_id=COMMENTS).version == 2
    assert HarvestState.objects.get(name="biorxiv-api:biorxiv").state["last_until"] == "2026-07-02"


def test_a_429_then_the_page_is_retried_and_loaded(api, db):
    api.route(
        path("biorxiv", 0), Reply(b"busy", 429, {"Retry-After": "2"}, content_type="text/plain"), api_page("biorxiv", 0)
    )
    route_biorxiv(api, 2, 4)
    status, _, err = ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    assert status == 0, err
    assert [r.path for r in api.requests][:2] == [path("biorxiv", 0), path("biorxiv", 0)] and len(ids()) == 3


def test_an_api_error_status_is_reported_and_changes_nothing(api, db):
    refused = b'{"messages":[{"status":"interval format error: from date after to date"}],"collection":[]}'
    api.route(path("biorxiv", 0), Reply(refused, content_type="application/json"))
    status, _, err = ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    assert status == 2 and "the bioRxiv API answered 'interval format error: from date after to date'" in err
    assert ids() == [] and "cursor" not in HarvestState.objects.get(name="biorxiv-api:biorxiv").state


def test_a_page_from_another_place_in_the_interval_is_refused(api, db):
    api.route(path("biorxiv", 0), api_page("biorxiv", 2))
    status, _, err = ingest("biorxiv", "--from", "2026-07-01", "--until", "2026-07-02")
    assert status == 2 and "answered with the page at cursor 2" in err and ids() == []


def test_bad_dates_and_dates_with_a_file_are_refused_before_any_request(api, db):
    assert ingest("biorxiv", "--from", "yesterday")[0] == 2
    status, _, err = ingest("medrxiv", "--from", "2026-07-03", "--until", "2026-07-01")
    assert status == 2 and "is after" in err
    saved = FIXTURES / "biorxiv" / "constructed_details.json"
    status, _, err = ingest("biorxiv", str(saved), "--from", "2026-07-01")
    assert status == 2 and "a FILE is loaded whole" in err
    assert api.requests == [] and ids() == []


def test_a_saved_medrxiv_page_loads_like_a_biorxiv_one(db):
    status, out, err = ingest("medrxiv", str(FIXTURES / "biorxiv" / "constructed_details.json"))
    assert status == 0 and "medRxiv, constructed_details.json:" in out and "1 new" in out, err
    assert ids("medrxiv") == ["10.1101/2026.07.01.26312345"] and ids("biorxiv") == []
    assert err.count("a biorxiv preprint, not a medRxiv one") == 4
