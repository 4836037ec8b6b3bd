"""The anonymous page cache (paperfeed.pagecache): what is served from it, to whom, what makes it stale, and HTTP's
conditional requests, through the Django test client (the middleware) and a real `paperfeed serve` (the WSGI hit
path, two worker processes, and writes made by other processes)."""

import dataclasses
import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest
from conftest import SMALL, member, signed_in, site_env, start_site
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from paperfeed.community.models import Comment
from paperfeed.community.services.moderation import hide_comments, hide_papers, show_papers
from paperfeed.pagecache import changes, pages
from paperfeed.papers.models import DailyEntry, Paper, Vote
from paperfeed.papers.services.loading import load_jsonl

pytestmark = pytest.mark.django_db

PAPER = "2606.00002"  # on the list of 30 June 2026 in the test corpus
DAY_PAGE = "/?date=2026-06-30"
SHARED = [
    DAY_PAGE,
    "/?week=2026-W27",
    "/?month=2026-06",
    "/trending",
    f"/papers/{PAPER}",
    "/feeds/daily.rss",
    "/feeds/trending.atom",
    "/search/feed?q=mlp",
    f"/papers/{PAPER}.bib",
    "/api/daily_papers?date=2026-06-30",
    f"/api/papers/{PAPER}",
    f"/papers/{PAPER}.md",
    "/api/v1/daily?date=2026-06-30",
    "/api/v1/trending",
    f"/api/v1/papers/{PAPER}",
]


def upvotes_shown(html: str, arxiv_id: str = PAPER) -> int:
    """The upvote count on a paper's button: on its card in a list, or at the top of its own page."""
    if '<div class="paper-actions">' in html:
        part = html.split('<div class="paper-actions">', 1)[1]
    else:
        cards = [card for card in html.split('<article class="card">') if f'href="/papers/{arxiv_id}"' in card]
        assert cards, f"no card for {arxiv_id}"
        part = cards[0]
    return int(re.search(r"▲</span> (\d+)<", part).group(1))


def get(client: Client, url: str, **headers):
    return client.get(url, headers=headers)


# --- served from the cache ---


@pytest.mark.parametrize("url", SHARED)
def test_a_second_anonymous_request_is_answered_from_the_cache_without_running_the_page(client, corpus, url):
    first = get(client, url)
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    with CaptureQueriesContext(connection) as queries:
        second = get(client, url)
    assert second["X-Cache"] == "hit" and second.content == first.content
    assert [q["sql"] for q in queries] == [changes.STATE]  # only the change log is read: nothing was rendered
    assert second["ETag"] == first["ETag"] and second["Content-Type"] == first["Content-Type"]


def test_another_process_finds_the_page_in_the_shared_cache(client, corpus):
    first = get(client, DAY_PAGE)
    pages.local_pages.clear()  # what a second web process starts with: only the shared cache
    with CaptureQueriesContext(connection) as queries:
        second = get(client, DAY_PAGE)
    assert second["X-Cache"] == "hit" and second.content == first.content
    assert len(queries) == 2  # the change log, then the cache table
    caches["default"].clear()
    pages.local_pages.clear()
    assert get(client, DAY_PAGE)["X-Cache"] == "miss"


def test_cached_answers_say_how_proxies_may_keep_them(client, corpus, settings):
    response = get(client, DAY_PAGE)
    assert response["Cache-Control"] == "public, max-age=0, must-revalidate"
    vary = {field.strip() for field in response["Vary"].split(",")}
    assert {"Cookie", "Authorization", "HX-Request"} <= vary
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["Last-Modified"].endswith(" GMT")
    assert not response.cookies
    settings.PAPERFEED_CACHE_MAX_AGE = 120
    pages.local_pages.clear()
    caches["default"].clear()
    assert get(client, DAY_PAGE)["Cache-Control"] == "public, max-age=120, must-revalidate"
    settings.PAPERFEED_CACHE_MAX_AGE, settings.PAPERFEED_CACHE_SHARED_MAX_AGE = 0, 1  # a proxy's micro-cache
    pages.local_pages.clear()
    caches["default"].clear()
    assert get(client, DAY_PAGE)["Cache-Control"] == "public, max-age=0, s-maxage=1, must-revalidate"


def test_head_is_answered_from_the_same_copy_without_a_body(client, corpus):
    head = client.head(f"/papers/{PAPER}")
    assert head.status_code == 200 and head.content == b"" and head["X-Cache"] == "miss"
    page = client.get(f"/papers/{PAPER}")
    assert page["X-Cache"] == "hit" and int(head["Content-Length"]) == len(page.content) > 1000
    assert client.head(f"/papers/{PAPER}")["X-Cache"] == "hit"


def test_htmx_requests_and_other_host_names_are_kept_apart(client, corpus, settings):
    settings.ALLOWED_HOSTS = ["testserver", "papers.example.org"]
    get(client, DAY_PAGE)
    assert get(client, DAY_PAGE, **{"HX-Request": "true"})["X-Cache"] == "miss"
    assert get(client, DAY_PAGE, **{"HX-Request": "true"})["X-Cache"] == "hit"
    assert "http://testserver/papers/" in get(client, f"/papers/{PAPER}.md").content.decode()
    other = Client(HTTP_HOST="papers.example.org")  # its links name its own host
    page = other.get(f"/papers/{PAPER}.md")
    assert page["X-Cache"] == "miss" and "http://papers.example.org/papers/" in page.content.decode()
    assert other.get(f"/papers/{PAPER}.md")["X-Cache"] == "hit"


# --- conditional requests ---


def test_if_none_match_and_if_modified_since_get_a_304_without_a_body(client, corpus):
    page = get(client, DAY_PAGE)
    etag, modified = page["ETag"], page["Last-Modified"]
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},  # weak comparison, in a list
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
    ):
        answer = get(client, DAY_PAGE, **headers)
        assert answer.status_code == 304, headers
        assert answer.content == b"" and answer["ETag"] == etag and "Content-Type" not in answer
        assert answer["Cache-Control"].startswith("public")
    assert get(client, DAY_PAGE, **{"If-None-Match": '"other"'}).status_code == 200
    # If-None-Match wins over If-Modified-Since, as HTTP asks.
    assert get(client, DAY_PAGE, **{"If-None-Match": '"other"', "If-Modified-Since": modified}).status_code == 200
    assert get(client, DAY_PAGE, **{"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}).status_code == 200
    assert get(client, DAY_PAGE, **{"If-Modified-Since": "not a date"}).status_code == 200


def test_a_page_rendered_afresh_also_answers_a_conditional_request_with_304(client, corpus):
    etag = get(client, f"/papers/{PAPER}")["ETag"]
    pages.local_pages.clear()
    caches["default"].clear()
    answer = get(client, f"/papers/{PAPER}", **{"If-None-Match": etag})
    assert answer.status_code == 304 and answer["X-Cache"] == "miss"


def test_a_page_that_did_not_change_keeps_its_last_modified(client, corpus):
    first = get(client, f"/papers/{PAPER}")
    # As if it had been rendered long ago, before a write elsewhere on the site.
    old = dataclasses.replace(
        pages.local_pages.get(pages.question(first.wsgi_request.META).key),
        last_modified=946684800,
        generation=(0, 0, 0),
    )
    caches["default"].clear()
    pages.local_pages.put(pages.question(first.wsgi_request.META).key, old)
    again = get(client, f"/papers/{PAPER}")
    assert again["X-Cache"] == "miss" and again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == "Sat, 01 Jan 2000 00:00:00 GMT"
    Paper.objects.filter(arxiv_id=PAPER).update(title="A New Title")
    changed = get(client, f"/papers/{PAPER}")
    assert "A New Title" in changed.content.decode() and changed["Last-Modified"] != again["Last-Modified"]


# --- what makes a page stale: at once ---


def test_a_vote_shows_on_the_very_next_anonymous_request_and_the_voter_always_sees_it(client, corpus):
    assert upvotes_shown(get(client, DAY_PAGE).content.decode()) == 0
    assert upvotes_shown(get(client, f"/papers/{PAPER}").content.decode()) == 0
    assert get(client, DAY_PAGE)["X-Cache"] == "hit"
    ada = signed_in(member("ada"))
    assert ada.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": DAY_PAGE}).status_code == 303

    own = ada.get(DAY_PAGE)  # the voter's own page: rendered for them, never from the cache
    assert "X-Cache" not in own and own["Cache-Control"] == "private, no-cache"
    assert upvotes_shown(own.content.decode()) == 1 and 'aria-pressed="true"' in own.content.decode()

    listed = get(client, DAY_PAGE)
    assert listed["X-Cache"] == "miss" and upvotes_shown(listed.content.decode()) == 1
    assert upvotes_shown(get(client, f"/papers/{PAPER}").content.decode()) == 1
    assert get(client, "/api/v1/papers/" + PAPER).json()["upvotes"] == 1

    assert ada.post(f"/papers/{PAPER}/vote", {"vote": "0"}).status_code == 303  # and taken back
    assert upvotes_shown(get(client, DAY_PAGE).content.decode()) == 0
    assert upvotes_shown(ada.get(f"/papers/{PAPER}").content.decode()) == 0


def test_a_newly_loaded_paper_appears_on_the_cached_list(client, corpus, tmp_path):
    latest = "/?date=2026-07-01"  # the latest day: also the daily feed's
    for url in (latest, "/feeds/daily.rss", "/api/daily_papers?date=2026-07-01"):
        assert "A Paper Loaded Later" not in get(client, url).content.decode()
        assert get(client, url)["X-Cache"] == "hit"
    record = json.loads(SMALL.read_text().splitlines()[0])
    record.update(id="2606.00099", title="A Paper Loaded Later", first_listed="2026-07-01", last_seen="2026-07-01")
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps(record) + "\n")
    load_jsonl(more)  # set-based SQL: no model signals
    for url in (latest, "/feeds/daily.rss", "/api/daily_papers?date=2026-07-01"):
        assert "A Paper Loaded Later" in get(client, url).content.decode(), url


def test_hiding_a_paper_takes_it_off_cached_pages_and_showing_it_brings_it_back(client, corpus):
    title = Paper.objects.get(arxiv_id=PAPER).title
    assert title in get(client, DAY_PAGE).content.decode()
    assert get(client, f"/papers/{PAPER}").status_code == 200
    hide_papers(Paper.objects.filter(arxiv_id=PAPER))
    assert title not in get(client, DAY_PAGE).content.decode()
    assert get(client, f"/papers/{PAPER}").status_code == 404
    assert get(client, f"/api/v1/papers/{PAPER}").status_code == 404
    show_papers(Paper.objects.filter(arxiv_id=PAPER))
    assert title in get(client, DAY_PAGE).content.decode()


def test_a_comment_shows_at_once_and_goes_when_a_moderator_hides_it(client, corpus):
    assert "first thoughts" not in get(client, f"/papers/{PAPER}").content.decode()
    ada = signed_in(member("ada"))
    assert ada.post(f"/papers/{PAPER}/comments", {"body": "My first thoughts on this."}).status_code in (302, 303)
    page = get(client, f"/papers/{PAPER}")
    assert "My first thoughts on this." in page.content.decode() and page["X-Cache"] == "miss"
    hide_comments(Comment.objects.all())
    assert "My first thoughts on this." not in get(client, f"/papers/{PAPER}").content.decode()


def test_a_vote_or_a_comment_leaves_in_the_cache_the_pages_that_neither_show_nor_rank_its_paper(client, corpus):
    elsewhere = "2606.00007"  # listed on 26 June only
    stale = [DAY_PAGE, f"/papers/{PAPER}", f"/api/v1/papers/{PAPER}", "/trending", "/?week=2026-W27", "/?month=2026-06"]
    fresh = ["/?date=2026-06-26", f"/papers/{elsewhere}", f"/api/papers/{elsewhere}", f"/papers/{elsewhere}.bib"]
    ada = signed_in(member("ada"))  # before the pages are cached: a new member is a change site-wide
    for url in stale + fresh:
        assert get(client, url).status_code == 200
        assert get(client, url)["X-Cache"] == "hit", url
    assert ada.post(f"/papers/{PAPER}/vote", {"vote": "1", "next": DAY_PAGE}).status_code == 303
    for url in stale:
        assert get(client, url)["X-Cache"] == "miss", url  # they show the vote, or rank by votes across the site
    assert upvotes_shown(get(client, DAY_PAGE).content.decode()) == 1
    for url in fresh:
        assert get(client, url)["X-Cache"] == "hit", url  # a vote on another paper changes nothing they show

    assert ada.post(f"/papers/{PAPER}/comments", {"body": "A comment on this one."}).status_code in (302, 303)
    assert get(client, f"/papers/{PAPER}")["X-Cache"] == "miss" and get(client, DAY_PAGE)["X-Cache"] == "miss"
    assert all(get(client, url)["X-Cache"] == "hit" for url in fresh)
    assert ada.post(f"/papers/{elsewhere}/vote", {"vote": "1"}).status_code == 303
    assert all(get(client, url)["X-Cache"] == "miss" for url in fresh[:3])  # the .bib shows no count, but names it
    assert get(client, f"/papers/{PAPER}")["X-Cache"] == "hit"


def test_a_page_that_outlived_votes_on_other_papers_is_not_checked_against_them_again(client, corpus):
    ada = member("ada")
    first = get(client, f"/papers/{PAPER}")
    key = pages.question(first.wsgi_request.META).key
    built = pages.local_pages.get(key).papers_seen
    Vote.objects.create(user=ada, paper=Paper.objects.get(arxiv_id="2606.00007"))
    assert get(client, f"/papers/{PAPER}")["X-Cache"] == "hit"
    assert pages.local_pages.get(key).papers_seen == changes.current_state().papers_seen > built


def test_a_paper_page_is_stale_when_a_similar_paper_it_shows_gets_a_vote(client, corpus, settings, tmp_path):
    from paperfeed.papers.services.embedding import embed_pending

    settings.DATA_DIR = tmp_path
    assert embed_pending().embedded == 10
    ada = signed_in(member("ada"))
    page = get(client, f"/papers/{PAPER}").content.decode()
    section = page[page.index('<section class="similar"') :]
    shown = set(re.findall(r'href="/papers/([^"#?]+)"', section)) - {PAPER}
    every = set(Paper.objects.values_list("arxiv_id", flat=True))
    assert shown and every - shown - {PAPER}, "the test needs similar papers shown and others not"
    assert get(client, f"/papers/{PAPER}")["X-Cache"] == "hit"
    not_shown = sorted(every - shown - {PAPER})[0]
    assert ada.post(f"/papers/{not_shown}/vote", {"vote": "1"}).status_code == 303
    assert get(client, f"/papers/{PAPER}")["X-Cache"] == "hit"
    similar = sorted(shown)[0]
    assert ada.post(f"/papers/{similar}/vote", {"vote": "1"}).status_code == 303
    again = get(client, f"/papers/{PAPER}")
    assert again["X-Cache"] == "miss"
    section = again.content.decode()[again.content.decode().index('<section class="similar"') :]
    assert upvotes_shown(section, similar) == 1


def test_one_statement_voting_on_many_papers_makes_every_page_stale(client, corpus, monkeypatch):
    monkeypatch.setattr(changes, "MANY_PAPERS", 2)  # on PostgreSQL, more than this in one statement: site-wide
    changes.install_triggers()
    ada = member("ada")
    urls = ["/?date=2026-06-26", "/papers/2606.00007", "/papers/2606.00009", "/papers/2606.00010"]
    for url in urls:
        get(client, url)
        assert get(client, url)["X-Cache"] == "hit"
    state = changes.current_state()
    Vote.objects.bulk_create([Vote(user=ada, paper=p) for p in Paper.objects.filter(arxiv_id__in=[
        "2606.00007", "2606.00009", "2606.00010"])])  # fmt: skip
    if connection.vendor == "postgresql":
        assert changes.current_state().generation != state.generation
    assert all(get(client, url)["X-Cache"] == "miss" for url in urls)


def test_a_process_that_missed_rows_of_the_log_by_paper_treats_older_pages_as_stale(corpus):
    tracker = changes.PaperChanges(keep=3)
    ada = member("ada")
    papers = list(Paper.objects.order_by("id").values_list("id", flat=True))

    def vote(paper_id: int) -> None:
        Vote.objects.create(user=ada, paper_id=paper_id)
        tracker.catch_up(changes.current_state().papers_seen)

    vote(papers[0])
    seen = tracker.read_to
    vote(papers[1])
    assert tracker.unchanged_since(seen, frozenset({papers[0], papers[2]}))
    assert not tracker.unchanged_since(seen, frozenset({papers[1]})) and not tracker.unchanged_since(seen, None)
    for paper_id in papers[2:5]:  # more rows than it keeps: it can no longer tell what changed after `seen`
        vote(paper_id)
    assert not tracker.unchanged_since(seen, frozenset({papers[9]}))
    recent = tracker.read_to
    assert tracker.unchanged_since(recent, None)
    Vote.objects.create(user=ada, paper_id=papers[5])
    Vote.objects.create(user=ada, paper_id=papers[6])
    with connection.cursor() as cursor:  # pruned by other processes up to the first of them, before this one read it
        cursor.execute(
            f"DELETE FROM {changes.PAPER_LOG} WHERE id <= (SELECT min(id) FROM {changes.PAPER_LOG} WHERE id > %s)",
            [recent],
        )
    Vote.objects.create(user=ada, paper_id=papers[7])
    vote(papers[8])  # the log holds 3 rows: as full as `keep`, so the missing one was dropped, not rolled back
    assert not tracker.unchanged_since(recent, frozenset({papers[9]}))  # unknown: stale
    assert tracker.unchanged_since(tracker.read_to, frozenset({papers[9]}))


def test_pages_that_do_not_change_with_the_clock_are_kept_until_a_write_changes_them(client, corpus, settings):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    ada = signed_in(member("ada"))
    settings.PAPERFEED_CACHE_SECONDS = 0  # what shows the clock is stale at once
    for url in (f"/papers/{PAPER}", DAY_PAGE, "/?week=2026-W27", f"/api/v1/papers/{PAPER}", f"/papers/{PAPER}.bib"):
        get(client, url)
        assert get(client, url)["X-Cache"] == "hit", url
    for url in ("/trending", "/feeds/daily.rss", "/api/v1/trending"):  # trending fades; feeds date themselves
        get(client, url)
        assert get(client, url)["X-Cache"] == "miss", url
    front = get(client, "/")  # the latest day up to today: right until midnight
    assert get(client, "/")["X-Cache"] == "hit"
    midnight = datetime.combine(timezone.localdate() + timedelta(days=1), time.min)
    kept = pages.local_pages.get(pages.question(front.wsgi_request.META).key)
    assert kept.expires_at == timezone.make_aware(midnight).timestamp()
    assert ada.post(f"/papers/{PAPER}/comments", {"body": "Posted a moment ago."}).status_code in (302, 303)
    page = get(client, f"/papers/{PAPER}")  # now it says how long ago the comment was posted
    assert "data-relative" in page.content.decode() and get(client, f"/papers/{PAPER}")["X-Cache"] == "miss"


@pytest.mark.parametrize(
    "write",
    [
        "UPDATE papers_paper SET title = 'Retitled by hand' WHERE arxiv_id = '2606.00002'",
        "UPDATE papers_author SET name = 'Renamed Author' WHERE name = 'Edsger Dijkstra'",
        "DELETE FROM papers_dailyentry WHERE paper_id = (SELECT id FROM papers_paper WHERE arxiv_id = '2606.00002')",
        "UPDATE papers_organization SET name = 'x'",  # no organization in the corpus: changes no row
    ],
)
def test_plain_sql_makes_the_pages_it_changes_stale(client, corpus, write):
    before = get(client, DAY_PAGE)
    state = changes.current_generation()
    with connection.cursor() as cursor:
        cursor.execute(write)
        changed = cursor.rowcount > 0
    assert (changes.current_generation() != state) == changed
    after = get(client, DAY_PAGE)
    assert after["X-Cache"] == ("miss" if changed else "hit")
    assert (after.content != before.content) == changed


def test_bulk_writes_without_signals_and_username_changes_count_and_sign_ins_do_not(client, corpus):
    from django.contrib.auth.models import User, update_last_login

    state = changes.current_generation()
    ada = member("ada")  # a profile: a change (bans and display names live there)
    assert changes.current_generation() != state
    state = changes.current_generation()
    update_last_login(None, ada)  # signing in writes last_login: no page shows it
    User.objects.filter(pk=ada.pk).update(email="new@example.org")
    assert changes.current_generation() == state
    User.objects.filter(pk=ada.pk).update(username="ada2")  # shown on comments and submissions
    assert changes.current_generation() != state
    state = changes.current_state()
    Vote.objects.bulk_create([Vote(user=ada, paper=Paper.objects.get(arxiv_id=PAPER))])
    after = changes.current_state()  # a vote: logged by paper, not site-wide
    assert after.generation == state.generation and after.papers_seen > state.papers_seen
    assert not changes.paper_changes.unchanged_since(
        state.papers_seen, frozenset({Paper.objects.get(arxiv_id=PAPER).id})
    )
    state = changes.current_generation()
    DailyEntry.objects.filter(paper__arxiv_id="no-such-paper").delete()  # deletes nothing
    assert changes.current_generation() == state


def test_the_change_log_stays_small():
    for n in range(changes.KEEP + 10):
        member(f"user{n}")  # each writes a profile
    count, last, _ = changes.current_generation()
    assert count <= changes.KEEP and last > changes.KEEP


def test_migrate_puts_back_a_trigger_that_went_missing():
    assert changes.installed_triggers() == set(changes.trigger_names())
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER pagecache_papers_vote_insert_paper")  # as a rebuild of the table does
            cursor.execute("DROP TRIGGER pagecache_papers_paper_update")
        else:
            cursor.execute("DROP TRIGGER pagecache_papers_vote_insert_paper ON papers_vote")
            cursor.execute("DROP TRIGGER pagecache_papers_paper_update ON papers_paper")
    missing = set(changes.trigger_names()) - changes.installed_triggers()
    assert missing == {"pagecache_papers_vote_insert_paper", "pagecache_papers_paper_update"}
    changes.install_triggers()  # what every migrate runs at its end
    assert changes.installed_triggers() == set(changes.trigger_names())


# --- never shared ---


def test_signed_in_pages_never_come_from_the_cache_and_are_never_public(client, corpus):
    get(client, DAY_PAGE)
    ada = signed_in(member("ada"))
    for url in (DAY_PAGE, DAY_PAGE, f"/papers/{PAPER}", "/feeds/daily.rss"):
        page = ada.get(url)
        assert page.status_code == 200 and "X-Cache" not in page
        assert page["Cache-Control"] == "private, no-cache" and "public" not in page["Cache-Control"]
        assert "ETag" not in page
    assert 'href="/accounts/settings"' in ada.get(DAY_PAGE).content.decode()


def test_an_api_token_is_never_answered_from_the_cache(client, corpus):
    assert get(client, "/api/v1/daily?date=2026-06-30").status_code == 200
    answer = get(client, "/api/v1/daily?date=2026-06-30", Authorization="Bearer not-a-token")
    assert answer.status_code == 401 and "X-Cache" not in answer
    assert answer["Cache-Control"] == "private, no-cache"


def test_an_answer_that_sets_a_cookie_is_not_kept(client, corpus):
    client.cookies["csrftoken"] = "not-a-valid-token"  # Django answers with a new one
    answer = get(client, DAY_PAGE)
    assert answer.status_code == 200 and "csrftoken" in answer.cookies
    assert "X-Cache" not in answer and answer["Cache-Control"] == "private, no-cache"
    assert get(Client(), DAY_PAGE)["X-Cache"] == "miss"  # nothing was kept from the first


def test_a_message_to_show_once_is_never_replaced_by_a_cached_page(client, corpus):
    get(client, DAY_PAGE)
    client.cookies["messages"] = "anything"
    assert "X-Cache" not in get(client, DAY_PAGE)


def test_pages_for_signed_out_visitors_hold_no_csrf_token_and_their_buttons_still_work(client, corpus):
    for url in (DAY_PAGE, "/trending", f"/papers/{PAPER}"):
        html = get(client, url).content.decode()
        assert "csrfmiddlewaretoken" not in html and 'method="post"' not in html, url
    html = get(client, DAY_PAGE).content.decode()
    vote = re.search(r'<a class="button vote-button" href="([^"]+)"', html).group(1)
    assert vote == "/accounts/signin?next=/%3Fdate%3D2026-06-30"
    assert client.get(vote).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"/papers/{PAPER}x",  # not here: 404s are not kept
        "/?date=not-a-date",  # 400
        "/?utm=" + "x" * 3000,  # too long to keep
        "/search?q=mlp",  # searches are not kept
        "/accounts/signin",
    ],
)
def test_errors_long_addresses_searches_and_other_pages_are_never_kept(client, corpus, url):
    first = get(client, url)
    assert first.status_code < 500
    assert "X-Cache" not in first and "X-Cache" not in get(client, url)


@pytest.mark.parametrize("query", ["date=%ff%fe", "date=%00", "x=" + "é" * 200, "%zz=1&&&=", "page=1" * 100])
def test_hostile_query_strings_are_answered_and_kept_apart(client, corpus, query):
    first = client.get(f"/?{query}")
    assert first.status_code in (200, 400)
    assert first.status_code != 200 or get(client, f"/?{query}")["X-Cache"] == "hit"


def test_many_different_addresses_do_not_grow_the_process_layer_beyond_its_bounds(client, corpus, monkeypatch):
    monkeypatch.setattr(pages, "local_pages", pages.LocalPages(max_bytes=10**9, max_pages=5))
    for n in range(12):
        assert get(client, f"/?utm={n}")["X-Cache"] == "miss"
    assert len(pages.local_pages) == 5
    assert get(client, "/?utm=11")["X-Cache"] == "hit"


def test_dummy_cache_url_turns_the_cache_off(client, corpus, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    for _ in range(2):
        page = get(client, DAY_PAGE)
        assert page.status_code == 200 and "X-Cache" not in page and "ETag" not in page


def test_answers_that_change_with_the_clock_are_rendered_again_after_cache_seconds(client, corpus, settings):
    get(client, "/trending")
    settings.PAPERFEED_CACHE_SECONDS = 1e-9  # every copy is already too old
    with CaptureQueriesContext(connection) as queries:
        assert get(client, "/trending")["X-Cache"] == "miss"
    assert len(queries) > 2


# --- the process layer and one render at a time, without a database ---


def entry(generation=(1, 1, 1), body=b"x") -> pages.Entry:
    return pages.Entry(generation, 0.0, '"e"', 0, (), body)


def test_the_process_layer_drops_the_least_recently_used_pages_to_stay_in_bounds():
    layer = pages.LocalPages(max_bytes=10, max_pages=3)
    for key in "abc":
        layer.put(key, entry(body=b"12"))
    assert layer.get("a") is not None  # a is now the most recent
    layer.put("d", entry(body=b"12"))
    assert layer.get("b") is None and len(layer) == 3
    layer.put("e", entry(body=b"123456"))  # 2 + 2 + 2 + 6 bytes > 10
    assert layer.size <= 10 and layer.get("e") is not None and layer.get("c") is None


def test_while_one_thread_renders_a_page_the_others_answer_with_the_previous_copy_or_wait_for_the_new_one():
    ask = pages.Ask("key", head=False)
    rendering, finish, results = threading.Event(), threading.Event(), {}

    def render():
        with pages.building(pages.Found(ask, changes.State((2, 2, 2), 0), None, None)) as made:
            assert made is None  # this thread renders
            rendering.set()
            finish.wait()
            pages.local_pages.put("key", dataclasses.replace(entry((2, 2, 2)), built_at=float("inf")))

    def wait_for_it():
        with pages.building(pages.Found(ask, changes.State((2, 2, 2), 0), None, None)) as made:
            results["waited"] = made

    renderer = threading.Thread(target=render)
    renderer.start()
    rendering.wait()
    older = entry((1, 1, 1), body=b"one render ago")
    with pages.building(pages.Found(ask, changes.State((2, 2, 2), 0), None, older)) as made:
        assert made is older  # stale while revalidating: no wait behind the render
    waiter = threading.Thread(target=wait_for_it)  # no copy at all: waits for the render's
    waiter.start()
    finish.set()
    renderer.join()
    waiter.join()
    assert results["waited"].generation == (2, 2, 2)  # the copy the other thread made, not a render of its own
    with pages.building(pages.Found(ask, changes.State((3, 3, 3), 0), None, older)) as made:
        assert made is None  # nobody renders now: this thread does, the previous copy is not used


def test_a_copy_served_stale_may_not_be_kept_by_a_proxy(settings):
    settings.PAPERFEED_CACHE_SHARED_MAX_AGE = 5
    headers = (("Cache-Control", pages.cache_control()), ("Content-Type", "text/html"))
    old = dataclasses.replace(entry(), headers=headers)
    status, sent, body = pages.answer(old, {}, pages.Ask("key", head=False), "stale")
    assert status == 200 and body == b"x"
    assert dict(sent)["Cache-Control"] == "public, max-age=0, must-revalidate" and dict(sent)["X-Cache"] == "stale"
    assert dict(pages.answer(old, {}, pages.Ask("key", head=False), "hit")[1])["Cache-Control"] == (
        "public, max-age=0, s-maxage=5, must-revalidate"
    )


# --- several processes: a real `paperfeed serve` (two gunicorn workers) and writes from other processes ---


def test_processes_sharing_the_database_see_each_others_changes_at_once(tmp_path):
    site = start_site(tmp_path / "data", "--no-demo", "--no-indexer", env={"PAPERFEED_LOAD_DEMO": "0"})
    env = site_env(site.data_dir)

    def fetch(path: str, **headers) -> tuple[int, dict, str]:
        request = urllib.request.Request(site.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), ""

    def paperfeed(*args: str) -> None:
        run = subprocess.run([sys.executable, "-m", "paperfeed", *args], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr

    try:
        assert "A Paper" not in fetch("/")[2]  # the empty site's page, now cached
        paperfeed("load-jsonl", str(SMALL))
        status, headers, html = fetch(DAY_PAGE)
        assert status == 200 and upvotes_shown(html) == 0
        answers = [fetch(DAY_PAGE)[1]["X-Cache"] for _ in range(6)]
        assert set(answers) == {"hit"}  # whichever worker answers: from its own layer or the shared table
        status, head, _ = fetch(DAY_PAGE, **{"If-None-Match": headers["ETag"]})
        assert status == 304 and head["ETag"] == headers["ETag"]

        vote = (
            "from django.contrib.auth.models import User; from paperfeed.papers.models import Paper, Vote; "
            f"Vote.objects.create(user=User.objects.create(username='grace'), "
            f"paper=Paper.objects.get(arxiv_id='{PAPER}'))"
        )
        paperfeed("shell", "-c", vote)
        shown = [upvotes_shown(fetch(DAY_PAGE)[2]) for _ in range(6)]
        assert shown == [1] * 6
        assert fetch(DAY_PAGE, **{"If-None-Match": headers["ETag"]})[0] == 200
        # No page went missing on the way (Django logs "Not Found: <path>"; the bare "404" matched the site's own
        # address when its random port held those digits).
        assert "Not Found:" not in site.output()
    finally:
        site.stop()
