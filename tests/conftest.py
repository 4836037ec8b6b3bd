import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.jsonl"


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Each test starts with this process's layer of the page cache empty: the database (and the shared cache table in
    it) starts over for every test, and a page kept for another test's data must not answer this one."""
    from paperfeed.pagecache import pages

    pages.forget_everything()


@pytest.fixture
def no_page_cache(settings):
    """Every request rendered (PAPERFEED_CACHE_URL=dummy://), for tests that count what rendering a page costs."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture
def small_file(tmp_path) -> Path:
    """A copy of the 10-paper test corpus that a test may change."""
    target = tmp_path / "small.jsonl"
    shutil.copy(SMALL, target)
    return target


@pytest.fixture
def corpus(db):
    """The 10-paper test corpus, loaded into the test database."""
    from paperfeed.papers.services.loading import load_jsonl

    return load_jsonl(SMALL)


# --- paperfeed processes of a test's own: a data directory and, on PostgreSQL, a database of their own ---

import functools  # noqa: E402
import hashlib  # noqa: E402

# The remote services a site's worker asks by itself, and where a test's site finds them: the discard port of
# 127.0.0.1, which refuses at once (a test that wants one points the setting at its replay server).
OUTSIDE_SERVICES = (
    "PAPERFEED_GITHUB_API_URL",
    "PAPERFEED_HF_API_URL",
    "PAPERFEED_ARXIV_PDF_URL",
    "PAPERFEED_HF_THUMBNAIL_URL",
    "PAPERFEED_ZOTERO_API_URL",
)
NOBODY = "http://127.0.0.1:9"


def site_env(
    data_dir: Path, base: dict | None = None, database_url: str | None = None, *, migrated: bool = False
) -> dict[str, str]:
    """The environment for a paperfeed process with a site of its own in `data_dir`.

    On SQLite the site's database is the file in the data directory. When the suite runs on PostgreSQL
    (tests/with_postgres.py), each data directory gets a database of its own on the suite's server, created here
    once, so that such processes never share the database the test process uses. `database_url`: this database
    instead (several nodes of one site). `migrated`: on PostgreSQL, that database starts as a copy of one that
    `paperfeed migrate` made (see _migrated_template), for sites whose processes migrate first anyway: their own
    migrate still runs, and finds nothing to do. Otherwise it starts empty, as an operator's new database does.
    """
    env = {**(os.environ if base is None else base), "PAPERFEED_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for name in OUTSIDE_SERVICES:  # a test's site never asks the internet: its background refreshes find no one
        env.setdefault(name, NOBODY)
    server = os.environ.get("PAPERFEED_TEST_POSTGRES")
    if database_url:
        env["PAPERFEED_DATABASE_URL"] = database_url
    elif server:
        name = "site_" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:16]
        env["PAPERFEED_DATABASE_URL"] = _postgres_database(server, name, _migrated_template(server) if migrated else "")
    else:
        env.pop("PAPERFEED_DATABASE_URL", None)
    return env


def _postgres_database(server_dir: str, name: str, template: str = "") -> str:
    """The URL of database `name` on the suite's server, created (as a copy of `template`, if given) if missing."""
    import pgserver

    server = pgserver.get_server(server_dir, cleanup_mode=None)
    if not server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';").count("(1 row)"):
        server.psql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template};" if template else ";"))
    return server.get_uri(name)


@functools.cache
def _migrated_template(server_dir: str) -> str:
    """A database on the suite's server that `paperfeed migrate` made (tables, post-migrate triggers, pgvector),
    once per session: CREATE DATABASE … TEMPLATE copies its files, where migrating each site's database from
    nothing takes a second or more. Connections to it are then refused, since PostgreSQL copies a template only
    while nobody is connected to it."""
    import tempfile

    name = "site_template_migrated"
    url = _postgres_database(server_dir, name)
    with tempfile.TemporaryDirectory(prefix="paperfeed-template-") as data_dir:
        env = {**site_env(Path(data_dir), database_url=url), "PYTHONUNBUFFERED": "1"}
        subprocess.run([sys.executable, "-m", "paperfeed", "migrate", "-v0"], env=env, check=True)
    import pgserver

    pgserver.get_server(server_dir, cleanup_mode=None).psql(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false;")
    return name


@pytest.fixture(scope="session")
def new_postgres_database(tmp_path_factory):
    """A function making an empty PostgreSQL database and giving its URL, in either pass of the suite: on the
    PostgreSQL pass on the suite's server, on the SQLite pass on one of its own (PyPI's pgserver, offline)."""
    import uuid

    import pgserver

    suite = os.environ.get("PAPERFEED_TEST_POSTGRES")
    if suite:
        yield lambda: _postgres_database(suite, f"copy_{uuid.uuid4().hex[:12]}")
        return
    server = pgserver.get_server(tmp_path_factory.mktemp("copy-pg"), cleanup_mode="stop")

    def new() -> str:
        name = f"copy_{uuid.uuid4().hex[:12]}"
        server.psql(f"CREATE DATABASE {name};")
        return server.get_uri(name)

    yield new
    server.cleanup()


def site_rows(env: dict[str, str], sql: str) -> list[tuple]:
    """Rows of a query on the database of the site `env` names (SQLite file or PostgreSQL)."""
    url = env.get("PAPERFEED_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as db:
            return db.execute(sql).fetchall()
    import sqlite3

    with sqlite3.connect(Path(env["PAPERFEED_DATA_DIR"]) / "paperfeed.sqlite3", timeout=5) as db:
        return db.execute(sql).fetchall()


# --- a real paperfeed server, started the way a user starts it ---

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServedSite:
    url: str
    data_dir: Path
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_site(
    data_dir: Path,
    *args: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    port: int | None = None,
    database_url: str | None = None,
    migrated: bool = True,
) -> ServedSite:
    """`paperfeed serve` in a subprocess on a free port (or `port`), once it answers HTTP; `env` adds settings.
    `migrated`: see site_env (serve migrates at start: on a migrated copy it finds nothing to do)."""
    port = port or free_port()
    env = {
        **site_env(data_dir, {**os.environ, **(env or {})}, database_url, migrated=migrated),
        "PYTHONUNBUFFERED": "1",
    }
    log = data_dir.parent / f"serve-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "serve", "--port", str(port), *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    site = ServedSite(f"http://127.0.0.1:{port}", data_dir, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"paperfeed serve exited with {process.returncode}:\n{site.output()}")
        try:
            with urllib.request.urlopen(site.url + "/", timeout=5) as response:
                if response.status == 200:
                    return site
        except OSError:
            time.sleep(0.3)
    site.stop()
    raise RuntimeError(f"paperfeed serve did not answer within {timeout}s:\n{site.output()}")


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """The site as `make serve` starts it on a fresh machine: empty data directory (and empty database), demo corpus
    loaded."""
    site = start_site(tmp_path_factory.mktemp("serve") / "data", migrated=False)
    yield site
    site.stop()


# --- real Chromium (Debian's), driven by Playwright ---

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("PAPERFEED_TEST_ARTIFACTS", Path(__file__).parent.parent / ".test-data" / "artifacts"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on(
        "response",
        lambda response: response.status >= 400 and errors.append(f"{response.status} {response.url}"),
    )
    yield page
    context.close()
    assert errors == [], f"JavaScript errors or blocked resources: {errors}"


# --- members and pages, for the community tests ---


def member(username: str = "ada", *, verified: bool = True, banned: bool = False, staff: bool = False):
    """A member account with its profile (confirmed email unless told otherwise); sign it in with signed_in."""
    from django.contrib.auth.models import User

    from paperfeed.community.models import Profile

    user = User.objects.create(username=username, email=f"{username}@example.org", is_staff=staff)
    Profile.objects.update_or_create(user=user, defaults={"email_verified": verified, "banned": banned})
    return user


INTEREST_FIELDS = ("categories", "saved_searches", "include_keywords", "exclude_keywords", "authors", "organizations")


def digest_subscription(email: str, **fields):
    """A digest subscription (digests.Subscription) with these fields, and these interests (categories, saved
    searches, keywords, authors, organizations) on its Interests: its member's (`user=`) or its own."""
    from paperfeed.digests.models import Subscription

    interest_fields = {name: fields.pop(name) for name in INTEREST_FIELDS if name in fields}
    subscription = Subscription.objects.create(email=email, **fields)
    interests = subscription.interests
    for name in ("authors", "organizations"):
        getattr(interests, name).set(interest_fields.pop(name, []))
    for name, value in interest_fields.items():
        setattr(interests, name, value)
    interests.save()
    return subscription


def ingest(*args: str) -> tuple[int, str, str]:
    """`paperfeed ingest ARGS` in-process: (exit status, stdout, stderr) as cron would see them."""
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    except CommandError as error:
        status = error.returncode
        err.write(str(error))
    return status, out.getvalue(), err.getvalue()


def signed_in(user, **client_options):
    """A test client signed in as this user."""
    from django.test import Client

    client = Client(**client_options)
    client.force_login(user)
    return client


@pytest.fixture
def staff(db):
    """A client signed in as a superuser, for the admin."""
    from django.contrib.auth.models import User

    return signed_in(User.objects.create_superuser("moderator", "mod@example.org", "a long enough password"))


def card_titles(page) -> list[str]:
    """The titles of the paper cards on a page (a response, which must be a 200, or its HTML), as text."""
    import re
    from html import unescape

    if not isinstance(page, str):
        assert page.status_code == 200, page.status_code
        page = page.content.decode()
    found = re.findall(r'<h3 class="card-title"><a[^>]*>(.*?)</a>', page, re.S)
    return [unescape(re.sub(r"<.*?>", "", title)) for title in found]


# --- the task queue ---


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    """In this test process, a task runs as it is enqueued (django-tasks' immediate backend), so a test of a page
    that sends an email finds it in `mailoutbox` at once. The database queue and `paperfeed worker` are tested on
    their own (tests/test_worker.py), and every `paperfeed serve` a test starts runs the real queue and worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
