"""GitHub stars: the refresh against a replay server answering in GitHub's documented format (tests/fixtures/github),
through `paperfeed refresh github`, the background task, the paper page, cards, the "most starred" sort, the feed
and the Hugging Face-compatible API; and every bad answer GitHub can give, which keeps the old value."""

import json
import logging
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from replay import FIXTURES, ReplayServer, Reply

from paperfeed.background import refresh as background
from paperfeed.papers.models import DailyEntry, Paper, PaperExtras
from paperfeed.papers.services.refresh import github

REPO = "/repos/mixer-lab/mlp-mixer-revisited"
OTHER = "/repos/graph-lab/graph-transformers"
ETAG = 'W/"5d2b7f0c1e"'


def repo_reply(stars: int | None = None, **headers) -> Reply:
    body = json.loads((FIXTURES / "github" / "constructed_repo.json").read_bytes())
    if stars is not None:
        body["stargazers_count"] = stars
    return Reply(
        json.dumps(body).encode(),
        headers={"ETag": ETAG, "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "58", **headers},
        content_type="application/json; charset=utf-8",
    )


def fixture_reply(name: str, status: int, **headers) -> Reply:
    return Reply.fixture(f"github/{name}", status=status, headers=headers)


@pytest.fixture
def gh(settings):
    server = ReplayServer().start()
    settings.PAPERFEED_GITHUB_API_URL = server.url
    settings.PAPERFEED_GITHUB_TOKEN = None
    yield server
    server.stop()


@pytest.fixture
def coded(corpus):
    """Two papers of the test corpus with GitHub code links, on today's list: 2606.00001 (Mixer) and 2606.00002."""
    today = timezone.localdate()
    links = {
        "2606.00001": "https://github.com/mixer-lab/mlp-mixer-revisited",
        "2606.00002": "https://github.com/graph-lab/graph-transformers/tree/main/src",
    }
    for arxiv_id, url in links.items():
        paper = Paper.objects.get(arxiv_id=arxiv_id)
        Paper.objects.filter(pk=paper.pk).update(code_url=url)
        DailyEntry.objects.create(paper=paper, day=today, source="hf")
    return {arxiv_id: Paper.objects.get(arxiv_id=arxiv_id) for arxiv_id in links}


def extras(arxiv_id: str) -> PaperExtras | None:
    return PaperExtras.objects.filter(paper__arxiv_id=arxiv_id).first()


def run_pass(capsys, *args: str) -> tuple[int, str]:
    try:
        call_command("refresh", "github", "--pause", "0", *args)
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().out


def make_stale(arxiv_id: str) -> None:
    PaperExtras.objects.filter(paper__arxiv_id=arxiv_id).update(github_checked_at=timezone.now() - timedelta(hours=25))


@pytest.mark.django_db
def test_stars_come_from_github_and_show_on_the_page_cards_sort_feed_and_api(client, gh, coded, capsys):
    gh.route(REPO, repo_reply())
    gh.route(OTHER, repo_reply(stars=56, ETag='"other"'))
    code, out = run_pass(capsys)
    assert code == 0 and "checked 2 of 2 due papers, 2 changed" in out
    mixer = extras("2606.00001")
    assert (mixer.github_stars, mixer.github_repo, mixer.github_etag, mixer.github_problem) == (
        1234,
        "mixer-lab/mlp-mixer-revisited",
        ETAG,
        "",
    )
    assert extras("2606.00002").github_repo == "graph-lab/graph-transformers"  # a link inside the repository
    [request] = gh.requests_to(REPO)
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert "If-None-Match" not in request.headers and "Authorization" not in request.headers

    page = client.get("/papers/2606.00001").content.decode()
    assert "★ 1,234" in page and "GitHub stars of the code repository" in page
    daily = client.get("/?sort=stars").content.decode()
    assert 'aria-current="true">most starred' in daily
    assert daily.index("★ 1,234") < daily.index("★ 56")
    titles = [card.paper.arxiv_id for card in github_sorted()]
    assert titles[:2] == ["2606.00001", "2606.00002"]  # then the papers without stars
    feed = client.get("/feeds/daily.rss?sort=stars").content.decode()
    assert "most starred first" in feed
    assert client.get("/?sort=starz").status_code == 400

    api = client.get("/api/papers/2606.00001").json()
    assert api["githubRepo"] == "https://github.com/mixer-lab/mlp-mixer-revisited" and api["githubStars"] == 1234
    listed = client.get(f"/api/daily_papers?date={timezone.localdate().isoformat()}").json()
    assert {item["paper"]["id"]: item["paper"].get("githubStars") for item in listed} == {
        "2606.00001": 1234,
        "2606.00002": 56,
    }


def github_sorted():
    from paperfeed.core.periods import day_period
    from paperfeed.papers.services.listing import listing

    return list(listing(day_period(timezone.localdate()), "stars").page.object_list)


@pytest.mark.django_db
def test_most_starred_puts_papers_without_stars_last_and_keeps_the_upvote_order_among_them(client, corpus):
    PaperExtras.objects.create(paper=Paper.objects.get(arxiv_id="2606.00002"), github_stars=3)
    PaperExtras.objects.create(paper=Paper.objects.get(arxiv_id="2606.00001"), github_stars=None, summary="x")
    page = client.get("/?date=2026-06-30&sort=stars").content.decode()
    mixer = "MLP-Mixer Revisited"
    assert page.index("Graph Transformers at Scale") < page.index(mixer)


@pytest.mark.django_db
def test_a_304_changes_nothing_but_the_time_of_the_check(gh, coded, capsys):
    gh.route(REPO, repo_reply(), Reply(b"", status=304, headers={"ETag": ETAG, "X-RateLimit-Remaining": "57"}))
    gh.route(OTHER, repo_reply(stars=56))
    run_pass(capsys)
    make_stale("2606.00001")
    before = extras("2606.00001")
    code, out = run_pass(capsys)
    assert code == 0 and "checked 1 of 1 due papers, 0 changed" in out  # 2606.00002 was checked a moment ago
    after = extras("2606.00001")
    assert gh.requests_to(REPO)[-1].headers["If-None-Match"] == ETAG
    assert (after.github_stars, after.github_etag, after.github_repo) == (1234, ETAG, before.github_repo)
    assert after.github_checked_at > before.github_checked_at


@pytest.mark.django_db
def test_a_spent_rate_limit_stops_the_pass_until_githubs_reset_and_keeps_every_value(gh, coded, capsys):
    PaperExtras.objects.create(paper=coded["2606.00001"], github_stars=900)  # from Hugging Face's list, say
    reset = int(time.time()) + 600
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    for path in (REPO, OTHER):
        gh.route(path, fixture_reply("constructed_rate_limited.json", 403, **limited))
    report = github.refresh(pause=0)
    assert report.checked == 0 and report.stopped_by == "GitHub's rate limit (HTTP 403)"
    assert 500 < report.wait <= 600
    assert len(gh.requests) == 1  # nothing more asked once GitHub said stop
    mixer = extras("2606.00001")
    assert (mixer.github_stars, mixer.github_checked_at, mixer.github_problem) == (900, None, "")


@pytest.mark.django_db
def test_a_429_with_retry_after_stops_the_pass_for_that_long(gh, coded):
    gh.route(REPO, Reply(b'{"message": "slow down"}', status=429, headers={"Retry-After": "42"}))
    report = github.refresh(pause=0)
    assert (report.wait, report.checked, report.stopped_by) == (42.0, 0, "GitHub's rate limit (HTTP 429)")


@pytest.mark.django_db
def test_the_last_request_the_rate_limit_allows_ends_the_pass(gh, coded):
    last = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 300)}
    gh.route(REPO, repo_reply(**last))
    gh.route(OTHER, repo_reply(**last))
    report = github.refresh(pause=0)
    assert report.checked == 1 and report.stopped_by == "GitHub's rate limit is spent" and 200 < report.wait <= 300
    assert len(gh.requests) == 1 and PaperExtras.objects.get().github_stars == 1234  # the answer is kept


@pytest.mark.django_db
def test_404_5xx_and_garbage_keep_the_old_stars_and_are_logged_once(gh, coded, caplog, capsys):
    for arxiv_id in coded:
        PaperExtras.objects.create(paper=coded[arxiv_id], github_stars=7, github_repo="x/y")
    gh.route(REPO, fixture_reply("constructed_not_found.json", 404))
    gh.route(OTHER, Reply(b"<html>unicorn</html>", content_type="text/html"))
    caplog.set_level(logging.WARNING, logger="paperfeed.refresh")
    code, out = run_pass(capsys)
    assert code == 1 and "2 with a problem (kept their old values)" in out
    assert (
        extras("2606.00001").github_problem
        == "GitHub has no public repository mixer-lab/mlp-mixer-revisited (HTTP 404)"
    )
    assert extras("2606.00002").github_problem.startswith(
        "GitHub's answer for graph-lab/graph-transformers is not JSON"
    )
    assert [extras(a).github_stars for a in coded] == [7, 7]
    assert len(caplog.records) == 2
    for arxiv_id in coded:
        make_stale(arxiv_id)
    run_pass(capsys)
    assert len(caplog.records) == 2  # the same problems again: not logged again

    make_stale("2606.00001")
    gh.route(REPO, Reply(b"oops", status=502, content_type="text/plain"))
    report = github.refresh(pause=0)
    assert report.stopped_by == "GitHub answered HTTP 502" and report.wait == 60
    mixer = extras("2606.00001")
    assert mixer.github_stars == 7 and mixer.github_problem == "GitHub answered HTTP 502"
    assert report.due == 1 and len(caplog.records) == 3

    for bad in (b"[]", b'{"stargazers_count": "many"}', b'{"stargazers_count": -1}', b"\xff\xfe"):
        make_stale("2606.00001")
        gh.route(REPO, Reply(bad, content_type="application/json"))
        github.refresh(pause=0)
        assert extras("2606.00001").github_stars == 7
        assert extras("2606.00001").github_problem.startswith("GitHub's answer for mixer-lab/mlp-mixer-revisited is")


@pytest.mark.django_db
def test_no_answer_at_all_is_a_problem_that_ends_the_pass(settings, coded):
    settings.PAPERFEED_GITHUB_API_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    report = github.refresh(pause=0)
    assert report.stopped_by.startswith("GitHub did not answer (could not connect") and report.problems == 1
    [tried] = PaperExtras.objects.all()  # one paper asked, then the pass ended
    assert tried.github_checked_at is None  # first in line next time
    assert tried.github_problem.startswith("GitHub: could not connect") and tried.github_stars is None


@pytest.mark.django_db
def test_the_token_is_sent_and_only_due_papers_with_a_github_repository_are_asked(gh, coded, settings, capsys):
    settings.PAPERFEED_GITHUB_TOKEN = "ghp_test"
    Paper.objects.filter(arxiv_id="2606.00002").update(code_url="https://gitlab.com/graph-lab/graph-transformers")
    Paper.objects.filter(arxiv_id="2606.00005").update(code_url="https://github.com/old/listed-long-ago")
    third = Paper.objects.get(arxiv_id="2606.00006")
    Paper.objects.filter(pk=third.pk).update(code_url="https://github.com/orgs/someone")
    DailyEntry.objects.create(paper=third, day=timezone.localdate(), source="hf")
    gh.route(REPO, repo_reply())
    code, out = run_pass(capsys)
    assert code == 0 and "checked 1 of 2 due papers" in out
    assert [r.path for r in gh.requests] == [REPO]  # not gitlab, not a paper listed in June, not an /orgs/ page
    assert gh.requests[0].headers["Authorization"] == "Bearer ghp_test"
    assert extras("2606.00006").github_problem == "the code link is not a GitHub repository's address"
    code, out = run_pass(capsys)
    assert code == 1 and out.strip() == "GitHub stars: nothing due"


@pytest.mark.django_db(transaction=True)
def test_the_worker_queues_one_pass_and_a_stopped_pass_waits_in_the_queue_until_github_allows(settings, gh, coded):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    path = background.refresh_github.module_path
    assert background.request() == 2 and background.request() == 0  # one of each waits; asking again adds none
    assert DBTaskResult.objects.filter(task_path=path).count() == 1
    DBTaskResult.objects.all().delete()
    gh.route(REPO, Reply(b"{}", status=429, headers={"Retry-After": "120"}))
    assert background.refresh_github.call().startswith("GitHub stars: checked 0 of 2 due papers")
    [later] = DBTaskResult.objects.filter(task_path=path)
    assert later.status == "READY" and later.run_after > timezone.now() + timedelta(seconds=100)
    assert background.request() == 1  # the Hugging Face pass; GitHub's waits for its time


@pytest.mark.django_db
def test_command_options_are_checked(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--batch must be at least 1"):
        call_command("refresh", "github", "--batch", "0")
    with pytest.raises(CommandError):
        call_command("refresh", "gitlab")
