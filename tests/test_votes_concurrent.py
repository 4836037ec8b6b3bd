"""Fifty people upvoting one paper at the same moment, against a real `paperfeed serve` (gunicorn) on SQLite."""

import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from conftest import SMALL, site_env, site_rows, start_site

PEOPLE = 50
PAPER = "2606.00002"

# Run inside the served site's data directory: the corpus, PEOPLE confirmed accounts and a signed-in session each.
SETUP = """
import json, os, sys
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
django.setup()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore

from paperfeed.community.models import Profile
from paperfeed.papers.services.loading import load_jsonl

load_jsonl(sys.argv[1])
keys = []
for n in range(int(sys.argv[2])):
    user = User.objects.create_user(f"voter{n}", f"voter{n}@example.org")
    Profile.objects.update_or_create(user=user, defaults={"email_verified": True})
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    keys.append(session.session_key)
print(json.dumps({"cookie": settings.SESSION_COOKIE_NAME, "sessions": keys}))
"""


def signed_in_sessions(data_dir) -> tuple[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(SMALL), str(PEOPLE)],
        env=site_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    made = json.loads(done.stdout.strip().splitlines()[-1])
    return made["cookie"], made["sessions"]


def votes_in(data_dir) -> int:
    [(count,)] = site_rows(
        site_env(data_dir),
        "SELECT count(*) FROM papers_vote JOIN papers_paper ON papers_paper.id = papers_vote.paper_id "
        f"WHERE arxiv_id = '{PAPER}'",
    )
    return count


def vote_all_at_once(url: str, cookie: str, sessions: list[str]) -> list[int]:
    """Each person opens a page (for a form's CSRF token: the light submit page), then all press ▲ together."""
    start = threading.Barrier(len(sessions), timeout=60)

    def person(session_key: str) -> int:
        with httpx.Client(base_url=url, cookies={cookie: session_key}, timeout=60) as browser:
            # The page on a connection of its own: gunicorn drops idle keep-alive connections after 2 s, and the
            # last person may open the page later than that after the first; the vote then comes on a new one.
            page = browser.get("/submit", headers={"Connection": "close"})
            assert page.status_code == 200  # signed in: a signed-out visitor would be sent to sign in
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            start.wait()
            answer = browser.post(
                f"/papers/{PAPER}/vote", data={"vote": "1", "csrfmiddlewaretoken": token, "next": f"/papers/{PAPER}"}
            )
            return answer.status_code

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        return list(pool.map(person, sessions))


def test_fifty_people_voting_at_the_same_moment_make_fifty_votes(tmp_path):
    data = tmp_path / "data"
    site = start_site(data, "--no-demo", "--no-worker")
    try:
        cookie, sessions = signed_in_sessions(data)
        statuses = vote_all_at_once(site.url, cookie, sessions)
        assert statuses == [303] * PEOPLE
        assert votes_in(data) == PEOPLE
        # Everyone's form replayed at once (a double click each) still leaves one vote per person.
        assert vote_all_at_once(site.url, cookie, sessions) == [303] * PEOPLE
        assert votes_in(data) == PEOPLE
        page = httpx.get(f"{site.url}/papers/{PAPER}").text
        assert re.search(rf"▲</span> {PEOPLE}<", page)
    finally:
        site.stop()
    log = site.output()
    assert "database is locked" not in log
    assert "Traceback" not in log and "Internal Server Error" not in log
