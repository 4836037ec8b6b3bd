"""nginx in front as docs/deploy.md and docs/operations.md set it up (the micro-cache, and web processes of their own
for anonymous reads), with real nginx and two real `paperfeed serve`: what the documentation promises operators."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import SMALL, free_port, site_env, start_site
from test_anonymous_cache import DAY_PAGE, PAPER, upvotes_shown

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import nginx_front  # noqa: E402

SIGN_IN = (
    "from importlib import import_module; from django.conf import settings; from django.contrib.auth import login; "
    "from django.contrib.auth.models import User; from django.http import HttpRequest; "
    "from paperfeed.community.models import Profile; "
    "user = User.objects.create(username='ada'); "
    "Profile.objects.update_or_create(user=user, defaults={'email_verified': True}); "
    "request = HttpRequest(); request.session = import_module(settings.SESSION_ENGINE).SessionStore(); "
    "login(request, user, backend='django.contrib.auth.backends.ModelBackend'); request.session.save(); "
    "print(request.session.session_key)"
)
VOTE = (
    "from django.contrib.auth.models import User; from paperfeed.papers.models import Paper, Vote; "
    f"Vote.objects.create(user=User.objects.get(username='ada'), paper=Paper.objects.get(arxiv_id='{PAPER}'))"
)


def test_the_documented_micro_cache_answers_visitors_and_never_gives_a_member_a_stale_page(tmp_path):
    assert Path(nginx_front.NGINX).is_file(), "nginx is missing: `make test` installs Debian's nginx-light"
    settings = {"PAPERFEED_LOAD_DEMO": "0", "PAPERFEED_TRUSTED_PROXIES": "1", "PAPERFEED_CACHE_SHARED_MAX_AGE": "1"}
    data = tmp_path / "data"
    work = start_site(data, "--no-demo", "--no-worker", env=settings)
    pages = start_site(data, "--no-demo", "--no-worker", "--workers", "1", "--threads", "8", env=settings)
    env = site_env(data)

    def paperfeed(*args: str) -> str:
        run = subprocess.run([sys.executable, "-m", "paperfeed", *args], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout

    port = free_port()
    nginx = nginx_front.start(tmp_path, port, [int(work.url.rsplit(":", 1)[1])], [int(pages.url.rsplit(":", 1)[1])],
                              tmp_path / "nginx.log")  # fmt: skip

    def fetch(path: str, **headers: str) -> tuple[int, dict, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), ""

    try:
        for _ in range(100):
            try:
                if fetch("/")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        paperfeed("load-jsonl", str(SMALL))
        session = paperfeed("shell", "-c", SIGN_IN).strip().splitlines()[-1]  # after shell's own notes
        member = {"Cookie": f"sessionid={session}"}

        status, headers, html = fetch(DAY_PAGE)
        assert status == 200 and headers["X-Proxy-Cache"] == "MISS" and upvotes_shown(html) == 0
        assert "s-maxage=1" in headers["Cache-Control"]
        status, headers, _ = fetch(DAY_PAGE)
        assert status == 200 and headers["X-Proxy-Cache"] == "HIT"  # nginx answered: paperfeed was not asked
        status, headers, html = fetch(DAY_PAGE, **member)
        assert headers["X-Proxy-Cache"] == "BYPASS" and headers["Cache-Control"] == "private, no-cache"
        assert 'href="/accounts/settings"' in html  # the member's own page
        assert fetch(DAY_PAGE, Authorization="Bearer not-a-token")[1]["X-Proxy-Cache"] == "BYPASS"
        assert fetch("/search?q=mlp")[1]["X-Proxy-Cache"] == "MISS"  # searches are not kept

        paperfeed("shell", "-c", VOTE)
        assert upvotes_shown(fetch(DAY_PAGE, **member)[2]) == 1  # the voter: at once, always
        started = time.monotonic()
        while upvotes_shown(fetch(DAY_PAGE)[2]) == 0:  # a visitor: when nginx's second is over
            assert time.monotonic() - started < 3, "a visitor still saw the old count after 3 s"
            time.sleep(0.1)
        # Any answer from nginx's copy (UPDATING: the stale copy while another request refreshes it, which
        # proxy_cache_use_stale allows on a loaded machine) — not MISS or BYPASS.
        assert fetch(DAY_PAGE)[1]["X-Proxy-Cache"] in ("HIT", "REVALIDATED", "EXPIRED", "UPDATING")

        # Anonymous reads go to their own web process; members and searches to the other.
        work.stop()
        assert fetch(f"/papers/{PAPER}")[0] == 200 and fetch("/?date=2026-06-26")[0] == 200
        assert fetch(DAY_PAGE, **member)[0] == 502 and fetch("/search?q=mlp")[0] == 502
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        work.stop()
        pages.stop()
