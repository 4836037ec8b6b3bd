"""Load benchmark (issue 14): the whole site under 200 concurrent clients of mixed traffic, on SQLite and PostgreSQL.

    make bench-load                 # both databases, each without and with nginx in front: 200 clients, 60 s each
    python bench/load.py --db sqlite --front nginx --seconds 10 --clients 50 [--data-dir DIR] [--workers N]

Prints a Markdown report (routes × requests/s, p50/p95/p99, errors, 5xx; votes checked in the database; machine,
load average before and after) ready for docs/benchmarks.md, and keeps every log of the run beside the site's data.
Exits 1 when any answer was a 5xx or a vote was lost or doubled, 2 when the run could not be made.

The site is started as a user starts it: `paperfeed serve` (gunicorn, default workers unless --workers) on a data
directory of its own under --data-dir, which the first start fills with the demo corpus (5,921 papers) and later
runs reuse. SQLite: one server. PostgreSQL: a PostgreSQL 16 of its own (PyPI's pgserver, data kept under
--data-dir, as tests/with_postgres.py starts one) and two `paperfeed serve` processes on two ports sharing the
database and the data directory (one runs the task-queue worker, as an operator would set it up); every route's
connections are split between them. With --front nginx, the site is set up as docs/operations.md ("Caching") tells
a public site: nginx in front with the micro-cache (its lines are read from the documentation itself: see
bench/nginx_front.py), PAPERFEED_CACHE_SHARED_MAX_AGE=1, and one more `paperfeed serve --no-worker --workers 1
--threads 8` for anonymous reads; every client then talks to nginx. Before measuring, every address of the cached
anonymous routes is asked once, as a site that has been up for a while has been asked (the first run renders them
all, later runs find most in the shared cache). Everything listens on 127.0.0.1 and stops at the end, on Ctrl-C
and on failure.

Design choices, and why:
- The load generator is wrk (C, epoll): at a thousand requests a second a Python client would need a core of
  the two the site is measured on; wrk needs a few percent, and the report prints its CPU seconds beside the
  site's. wrk gives one latency distribution per process, so each route group is its own wrk process (the Lua
  script bench/load_routes.lua draws each request at random from that group's list of addresses and counts every
  status code), and the clients are split among them by the traffic mix below. wrk is a closed loop: a connection
  sends its next request when the answer arrives, so at saturation requests/s is the site's capacity for this mix
  and a slow route gets a smaller share of the requests than of the connections (the report shows both). Latency
  is from a request written to its answer read, queueing in the server included; the site's p50/p95/p99 merge
  every route's distribution (wrk's percentiles every 5 % to p90, every 1 % to p99, p99.5, p99.9) with the
  votes' own timings.
- One request in ten, on average, closes its connection and the client opens another, as visitors come and go.
  gunicorn keeps a kept-alive connection on the worker that accepted it: with connections living for the whole
  run, each route stayed on whichever worker its connections first landed on (in one such run keyword search
  measured a p50 of 47 ms beside 1.9 s for hybrid search, whose server time is about three times keyword's).
- Addresses come from the site's own data: every paper id (paper pages, both APIs), every day of the daily list,
  the arXiv categories, and search queries made of words from paper titles plus the 22 queries of
  bench/load_and_search.py, in all three modes (keyword, semantic, hybrid).
- Signed-in members are real accounts with real sessions: a helper process with the site's settings creates them
  and signs each in through django.contrib.auth.login, what the sign-in view does after checking a password (no
  password round trips, which the sign-in rate limits would refuse from one address). The native API is called
  with each member's API token: without one it allows 120 requests a minute per client address, and all this
  traffic comes from 127.0.0.1.
- Upvotes (5 % of the clients) are sent by a small Python client (bench/load_votes.py: threads and http.client,
  a few dozen requests a second, cheap) because every acknowledged vote must be known: members flip their votes
  on the front page's papers through the page's htmx button, one vote in ten a double click. Afterwards the
  members' vote rows in the database must be exactly the acknowledged upvotes (none lost, none extra, no pair
  twice), and the count the site shows for each paper voted on, asked again through the vote button, must equal
  the rows in the database (paperfeed keeps no denormalised count: cards and APIs count Vote rows).
- Before the measured run, the same traffic runs for --warmup seconds (every worker opens its indexes, caches
  fill); its 5xx count too.

Traffic mix (share of the clients): anonymous daily list 25 % (half `/`, half other days), anonymous paper pages
25 %, search 5 % per mode, Hugging Face-compatible API 7.5 %, native API 7.5 %, feeds 7.5 %, signed-in pages
(daily list and paper pages with a member's session) 7.5 %, upvotes 5 %.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote, urlencode

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import nginx_front  # noqa: E402
from load_and_search import QUERIES  # noqa: E402
from load_votes import SignInFailed, VoteClient  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"
LUA = BENCH / "load_routes.lua"
MEMBER_PREFIX = "loadbench"
WRK_TIMEOUT = "30s"  # a slower answer counts as a timeout; well above the p99 target, below gunicorn's 60 s
MAX_SECONDS = 600
REQUESTS_PER_CONNECTION = 10  # on average, then the client closes it and opens another, as visitors come and go
STOPWORDS = set(
    "about after also among analysis approach based between beyond from into learning model models more over "
    "than that their them these this through towards under using when where which while with without".split()
)


@dataclass(frozen=True)
class Route:
    name: str
    label: str
    share: float  # of the clients


ROUTES = (
    Route("daily", "daily list, anonymous", 0.25),
    Route("paper", "paper page, anonymous", 0.25),
    Route("search-keyword", "search, keyword", 0.05),
    Route("search-semantic", "search, semantic", 0.05),
    Route("search-hybrid", "search, hybrid", 0.05),
    Route("hf-api", "HF-compatible API", 0.075),
    Route("native-api", "native API (token)", 0.075),
    Route("feeds", "feeds (RSS, Atom)", 0.075),
    Route("signed-in", "signed-in pages", 0.075),
)
VOTES = Route("votes", "upvotes (POST, signed in)", 0.05)


class RunError(Exception):
    """The run cannot go on; the message says why and what to do."""


# --- the helper that runs inside the site's Django (a subprocess with the site's environment) ---


def prepare(out: Path, members: int, seed: int) -> None:
    """Members with sessions and API tokens (their old votes removed), and addresses drawn from the site's data."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import login
    from django.contrib.auth.models import User
    from django.core.cache import caches
    from django.db import connection
    from django.http import HttpRequest
    from django.utils import timezone

    from paperfeed.api.models import ApiToken
    from paperfeed.api.services.tokens import create_token
    from paperfeed.community.models import Profile
    from paperfeed.papers.models import DailyEntry, Paper, Vote
    from paperfeed.papers.services.listing import latest_day

    rng = random.Random(seed)
    engine = import_module(settings.SESSION_ENGINE)
    accounts = []
    for number in range(members):
        username = f"{MEMBER_PREFIX}{number:03d}"
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
        profile, _ = Profile.objects.get_or_create(user=user, defaults={"email_verified": True})
        if not profile.email_verified or profile.banned:  # written only when needed: a write would make every
            Profile.objects.filter(pk=profile.pk).update(email_verified=True, banned=False)  # cached page stale
        ApiToken.objects.filter(user=user).delete()
        token = create_token(user, "load benchmark").secret
        request = HttpRequest()
        request.session = engine.SessionStore()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.save()
        accounts.append({"username": username, "session": request.session.session_key, "token": token})
    Vote.objects.filter(user__username__startswith=MEMBER_PREFIX).delete()
    # The shared page cache holds the pages of earlier runs, under addresses naming the ports those runs used: of no
    # use to this run, they would only crowd its pages out (the cache drops entries beyond its size).
    caches["default"].clear()

    papers = list(Paper.objects.visible().order_by("id").values_list("arxiv_id", "title", "primary_category"))
    if not papers:
        raise SystemExit("the site has no papers: start it once without --no-demo, or load a corpus")
    day = latest_day(timezone.localdate())
    hot = list(
        DailyEntry.objects.filter(day=day, paper__hidden=False)
        .order_by("paper_id")
        .values_list("paper__arxiv_id", flat=True)
        .distinct()[:50]
    )
    days = sorted({d.isoformat() for d in DailyEntry.objects.values_list("day", flat=True).distinct()})
    categories = [category for category, _ in Counter(p[2] for p in papers).most_common(20)]
    queries = list(QUERIES)
    for _, title, _ in rng.sample(papers, min(len(papers), 400)):
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", title) if w.lower() not in STOPWORDS]
        if words:
            start = rng.randrange(len(words))
            queries.append(" ".join(words[start : start + rng.choice((1, 2, 2, 3))]))
    if connection.vendor == "postgresql":
        database = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    else:
        database = f"SQLite {sqlite3.sqlite_version}"
    out.write_text(
        json.dumps(
            {
                "members": accounts,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "csrf_cookie": settings.CSRF_COOKIE_NAME,
                "papers": [p[0] for p in papers],
                "hot": hot,
                "days": days,
                "latest_day": day.isoformat() if day else None,
                "categories": categories,
                "queries": sorted(set(queries)),
                "database": database,
                "votes_before": Vote.objects.count(),
            }
        )
    )


def count_votes(out: Path, papers: list[str]) -> None:
    """The members' vote rows, any (user, paper) pair held twice, and each paper's upvote count, from the database."""
    import django

    django.setup()
    from django.db.models import Count

    from paperfeed.papers.models import Vote

    rows = Vote.objects.filter(user__username__startswith=MEMBER_PREFIX).values_list(
        "user__username", "paper__arxiv_id"
    )
    twice = Vote.objects.values("user_id", "paper_id").annotate(n=Count("id")).filter(n__gt=1).count()
    counts = dict(
        Vote.objects.filter(paper__arxiv_id__in=papers)
        .values("paper__arxiv_id")
        .annotate(n=Count("id"))
        .values_list("paper__arxiv_id", "n")
    )
    out.write_text(json.dumps({"rows": sorted(rows), "pairs_twice": twice, "counts": counts}))


# --- processes: the sites, PostgreSQL, wrk ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The environment of this tree's paperfeed with the site in `data_dir` (on `database_url` when given)."""
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PAPERFEED_DATABASE_URL", None)
    if database_url:
        env["PAPERFEED_DATABASE_URL"] = database_url
    return env


def stop_group(process: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM to the process and everything it started (its own session), then SIGKILL if they linger."""
    group = process.pid  # started with start_new_session: the group is ours alone
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            process.wait(timeout=10)
    if any(g == group for _, _, g in processes()):  # web processes or a task-queue worker left behind by their parent
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


@dataclass
class Site:
    port: int
    process: subprocess.Popen
    log: Path


def start_site(
    stack: contextlib.ExitStack, env: dict, port: int, log: Path, workers: int | None, indexer: bool,
    threads: int | None = None,
) -> Site:  # fmt: skip
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)]
    command += ["--workers", str(workers)] if workers else []
    command += ["--threads", str(threads)] if threads else []
    command += [] if indexer else ["--no-worker"]
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    stack.callback(stop_group, process)
    site = Site(port, process, log)
    deadline = time.monotonic() + 900  # a first start on PostgreSQL loads the demo corpus
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RunError(
                f"`paperfeed serve` on port {port} stopped with {process.returncode}; its log {log}:\n"
                + log.read_text()[-3000:]
            )
        try:
            status, _ = http_get(port, "/")
            if status == 200:
                return site
        except OSError:
            pass
        time.sleep(0.5)
    raise RunError(f"`paperfeed serve` on port {port} did not answer within 15 minutes; see {log}")


def http_get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    client = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        client.request("GET", path, headers=headers or {})
        response = client.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        client.close()


@contextlib.contextmanager
def postgres(directory: Path) -> Iterator[str]:
    """A PostgreSQL of the benchmark's own (pgserver), its data kept in `directory`; yields the database's URL."""
    try:
        import pgserver
    except ImportError:
        raise RunError("pgserver is missing: install the test extras (`make bench-load` does)") from None
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" (pgserver's lock files)
        warnings.simplefilter("ignore")
        server = pgserver.get_server(directory, cleanup_mode="stop")
    try:
        if "(1 row)" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'paperfeed';"):
            server.psql("CREATE DATABASE paperfeed;")
        yield server.get_uri("paperfeed")
    finally:
        server.cleanup()


def postgres_pids(directory: Path) -> set[int]:
    """The postmaster (its pid file in `directory`) and its children."""
    try:
        postmaster = int((directory / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return set()
    return {postmaster} | {pid for pid, parent, _ in processes() if parent == postmaster}


def processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                yield int(entry.name), int(fields[1]), int(fields[2])


def cpu_seconds(pids: set[int]) -> float:
    """CPU time of these processes and of the children they reaped (gunicorn's workers, PostgreSQL's backends)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


# --- what each wrk process asks for ---


def route_lines(name: str, data: dict, rng: random.Random) -> list[str]:
    """The request lines of one route group: a path, then tab-separated headers."""
    papers, days, queries, members = data["papers"], data["days"], data["queries"], data["members"]
    other_days = [d for d in days if d != data["latest_day"]] or days

    def q(text: str, **more: str) -> str:
        return urlencode({"q": text, **more})

    def many(*kinds, n: int = 600) -> list[str]:  # an equal share for each kind of address
        return [kind() for kind in kinds for _ in range(n // len(kinds))]

    search_mode = {"search-keyword": "keyword", "search-semantic": "semantic", "search-hybrid": "hybrid"}
    if name == "daily":
        return ["/"] * len(other_days) + [f"/?date={d}" for d in other_days]
    if name == "paper":
        return [f"/papers/{p}" for p in papers]
    if name in search_mode:
        return [f"/search?{q(text, mode=search_mode[name])}" for text in queries]
    if name == "hf-api":
        return many(
            lambda: "/api/daily_papers",
            lambda: f"/api/daily_papers?date={rng.choice(days)}",
            lambda: f"/api/papers/{rng.choice(papers)}",
            lambda: f"/api/papers/search?{q(rng.choice(queries))}",
        )
    if name == "native-api":
        paths = many(
            lambda: "/api/v1/daily",
            lambda: f"/api/v1/daily?date={rng.choice(days)}",
            lambda: f"/api/v1/papers/{rng.choice(papers)}",
            lambda: f"/api/v1/search?{q(rng.choice(queries), mode=rng.choice(('keyword', 'semantic', 'hybrid')))}",
        )
        return [f"{path}\tAuthorization: Bearer {rng.choice(members)['token']}" for path in paths]
    if name == "feeds":
        return many(
            lambda: "/feeds/daily.rss",
            lambda: "/feeds/daily.atom",
            lambda: f"/feeds/trending.{rng.choice(('rss', 'atom'))}",
            lambda: f"/feeds/category/{quote(rng.choice(data['categories']))}.{rng.choice(('rss', 'atom'))}",
            lambda: f"/search/feed?{q(rng.choice(queries))}",
        )
    if name == "signed-in":
        cookie = data["session_cookie"]
        paths = many(lambda: "/", lambda: f"/papers/{rng.choice(papers)}")
        return [f"{path}\tCookie: {cookie}={rng.choice(members)['session']}" for path in paths]
    raise ValueError(name)


ANONYMOUS_CACHED = ("daily", "paper", "hf-api", "feeds")  # route groups whose answers the caches keep


def warm_caches(run_dir: Path, ports: list[int], threads: int = 4) -> dict:
    """Ask every address of the cached anonymous route groups once, as a site that has been up for a while has
    been asked: (addresses, seconds, answers the site already had cached, statuses)."""
    paths = sorted({line.split("\t")[0] for name in ANONYMOUS_CACHED
                    for line in (run_dir / f"routes-{name}.tsv").read_text().splitlines() if line})  # fmt: skip
    statuses: Counter = Counter()
    cached = Counter()
    lock = threading.Lock()
    todo = iter(enumerate(paths))

    def crawl() -> None:
        clients: dict[int, HTTPConnection] = {}
        for number, path in todo:  # iterators hand each item to one thread
            port = ports[number % len(ports)]
            client = clients.get(port) or clients.setdefault(port, HTTPConnection("127.0.0.1", port, timeout=120))
            try:
                client.request("GET", path)
                response = client.getresponse()
                response.read()
                outcome = str(response.status), response.getheader("X-Cache") or "-"
            except OSError:
                client.close()
                clients.pop(port, None)
                outcome = "socket error", "-"
            with lock:
                statuses[outcome[0]] += 1
                cached[outcome[1]] += 1
        for client in clients.values():
            client.close()

    started = time.monotonic()
    workers = [threading.Thread(target=crawl, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"addresses": len(paths), "seconds": time.monotonic() - started, "hits": cached["hit"],
            "statuses": dict(statuses)}  # fmt: skip


def split_clients(clients: int, servers: int) -> dict[str, int]:
    """Connections per route group by the mix, each a multiple of the number of servers (largest remainder)."""
    routes = (*ROUTES, VOTES)
    units = max(clients // servers, len(routes))
    exact = [units * route.share for route in routes]
    given = [max(1, int(x)) for x in exact]
    by_remainder = sorted(range(len(routes)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in by_remainder[: max(0, units - sum(given))]:
        given[i] += 1
    return {route.name: n * servers for route, n in zip(routes, given, strict=True)}


def start_wrk(
    stack: contextlib.ExitStack,
    routes_file: Path,
    connections: int,
    seconds: int,
    ports: list[int],
    log: Path,
    max_requests: int,
) -> subprocess.Popen:
    command = [
        WRK, "-t", str(len(ports)), "-c", str(connections), "-d", f"{seconds}s", "--timeout", WRK_TIMEOUT,
        "--latency", "-s", str(LUA), f"http://127.0.0.1:{ports[0]}/", "--", str(routes_file),
    ]  # fmt: skip
    env = {
        **os.environ,
        "LOAD_PORTS": ",".join(map(str, ports)),
        "LOAD_THREADS": str(len(ports)),
        "LOAD_MAX_REQUESTS": str(max_requests),
        "LOAD_REQUESTS_PER_CONNECTION": str(REQUESTS_PER_CONNECTION),
    }
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    stack.callback(stop_group, process, 5)
    return process


def wrk_result(log: Path) -> dict:
    for line in log.read_text().splitlines():
        if line.startswith("LOAD-RESULT "):
            return json.loads(line.removeprefix("LOAD-RESULT "))
    raise RunError(f"wrk printed no result; its output ({log}):\n{log.read_text()[-2000:]}")


# --- figures ---


def merged_percentiles(grids: list[tuple[int, list[list[float]]]], samples: list[float], wanted: tuple) -> list[float]:
    """Percentiles of all requests together, from each route's (count, percentile grid in ms) and raw samples (ms).

    Each route's distribution function is interpolated between its grid points (bench/load_routes.lua's done()).
    """
    samples = sorted(samples)
    total = sum(n for n, _ in grids) + len(samples)
    if total == 0:
        return [float("nan")] * len(wanted)

    columns = [(n, grid, [v for _, v in grid]) for n, grid in grids]

    def below(x: float) -> float:
        found = bisect.bisect_right(samples, x)
        for n, grid, values in columns:
            i = bisect.bisect_right(values, x)
            if i == 0:
                continue
            if i == len(grid):
                found += n
                continue
            (p0, v0), (p1, v1) = grid[i - 1], grid[i]
            found += n * (p0 + (p1 - p0) * ((x - v0) / (v1 - v0) if v1 > v0 else 1)) / 100
        return found / total

    candidates = sorted({v for _, grid in grids for _, v in grid} | set(samples))
    shares = [below(x) for x in candidates]
    return [candidates[min(bisect.bisect_left(shares, p / 100 - 1e-9), len(candidates) - 1)] for p in wanted]


def sample_percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)] if ordered else float("nan")


@dataclass
class Row:
    label: str
    connections: int
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    statuses: Counter
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))

    @property
    def other_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith(("2", "3", "5")))


def grid_ms(result: dict) -> list[list[float]]:
    return [[p, v / 1000] for p, v in result["percentiles_us"]]


def at(grid: list[list[float]], p: float) -> float:
    return next((v for q, v in grid if q >= p - 1e-9), float("nan"))


def wrk_row(label: str, connections: int, result: dict) -> Row:
    grid = grid_ms(result) if result["requests"] else []
    errors = result["errors"]
    return Row(
        label,
        connections,
        result["requests"],
        result["duration_us"] / 1e6,
        at(grid, 50),
        at(grid, 95),
        at(grid, 99),
        Counter(result["statuses"]),
        errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
    )


def ms(value: float) -> str:
    return "–" if value != value else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def table(rows: list[Row], site: Row) -> str:
    total = site.requests or 1
    lines = [
        "| route | clients | requests | share | req/s | p50 ms | p95 ms | p99 ms | errors | 5xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in [*rows, site]:
        bold = "**" if row is site else ""
        lines.append(
            f"| {bold}{row.label}{bold} | {row.connections} | {row.requests:,} | {row.requests / total:.1%} | "
            f"{bold}{row.rate:,.0f}{bold} | {ms(row.p50)} | {ms(row.p95)} | {bold}{ms(row.p99)}{bold} | "
            f"{row.other_errors + row.socket_errors:,} | {row.server_errors:,} |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))  # fmt: skip
    wrk = subprocess.run([WRK, "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
    return (
        f"{platform.machine()}, {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {model}, "
        f"{memory / 1024 / 1024:.0f} GB; {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}; {wrk}"
    )


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def log_problems(logs: list[Path]) -> list[str]:
    """Lines of the servers' logs that say something failed (tracebacks' last lines, errors, worker timeouts)."""
    found = Counter()
    for log in logs:
        lines = log.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if re.search(r"Internal Server Error|database is locked|WORKER TIMEOUT|Error:|Exception:", line):
                found[line.strip()[:200]] += 1
            elif line.startswith("Traceback") and i + 1 < len(lines):
                last = next((x for x in lines[i + 1 :] if x and not x.startswith((" ", "\t"))), "")
                found[f"Traceback … {last.strip()[:160]}"] += 1
    return [f"{n} × {line}" for line, n in found.most_common(12)]


# --- one run: a database, its site(s), warm-up, the measured run, the checks ---


@dataclass
class Outcome:
    report: str
    failed: list[str]
    votes: dict  # the vote check, kept beside the report


@dataclass
class Measured:
    results: dict[str, dict]  # wrk's, per route group
    capped: list[str]  # route groups that reached their share of --max-requests
    votes: VoteClient
    cpu: dict[str, float]  # core-seconds over the run
    load: tuple[str, str, str]  # load average before the site started, as the run began, at its end
    warm: tuple[int, int]  # warm-up requests, and 5xx among them
    crawled: dict  # warm_caches's answer
    shown: dict[str, int]  # upvote counts shown after the run, per paper
    database: dict  # count_votes's answer


def serve(stack: contextlib.ExitStack, db: str, args: argparse.Namespace, run_dir: Path) -> tuple:
    """Start the database (PostgreSQL), the web servers and nginx when asked for; (site environment, sites,
    PostgreSQL's directory, the ports clients talk to, nginx's process or None)."""
    if db == "sqlite":
        data_dir, url, pg_dir = args.data_dir / "sqlite", None, None
    else:
        data_dir, pg_dir = args.data_dir / "postgresql" / "site", args.data_dir / "postgresql" / "pgdata"
        note(f"[{db}] starting PostgreSQL (pgserver) in {pg_dir}")
        url = stack.enter_context(postgres(pg_dir))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = site_env(data_dir, url)
    if args.front == "nginx":  # docs/deploy.md's settings for a site behind nginx with the micro-cache
        env |= {"PAPERFEED_TRUSTED_PROXIES": "1", "PAPERFEED_CACHE_SHARED_MAX_AGE": "1"}
    sites = []
    for number in range(1 if db == "sqlite" else 2):  # one after the other: the first migrates and loads the demo
        port = free_port()
        note(f"[{db}] starting `paperfeed serve --port {port}` (a first start loads the demo corpus: minutes)")
        sites.append(start_site(stack, env, port, run_dir / f"serve-{port}.log", args.workers, number == 0))
    if args.front != "nginx":
        return env, sites, pg_dir, [site.port for site in sites], None
    port = free_port()  # the web process for anonymous reads, as docs/operations.md sets it up
    note(f"[{db}] starting `paperfeed serve --port {port} --no-worker --workers 1 --threads 8` (anonymous reads)")
    pages = start_site(stack, env, port, run_dir / f"serve-{port}.log", 1, False, threads=8)
    port = free_port()
    note(f"[{db}] starting nginx on port {port} in front of {[site.port for site in sites]} and {pages.port}")
    try:
        front = nginx_front.start(run_dir, port, [site.port for site in sites], [pages.port], run_dir / "nginx.log")
    except (OSError, RuntimeError) as error:
        raise RunError(f"nginx could not start: {error}") from None
    stack.callback(stop_group, front, 10)
    for _ in range(100):
        with contextlib.suppress(OSError):
            if http_get(port, "/")[0] == 200:
                return env, [*sites, pages], pg_dir, [port], front
        time.sleep(0.1)
    raise RunError(f"nginx did not answer on port {port}; see {run_dir / 'nginx-error.log'}")


def traffic(
    stack: contextlib.ExitStack,
    run_dir: Path,
    tag: str,
    seconds: int,
    connections: dict,
    ports: list[int],
    budget: dict[str, int],
) -> tuple[dict[str, dict], float, list[str]]:
    """Every route group's wrk at once for `seconds`; (their results, wrk's CPU seconds, groups that hit their cap)."""
    started = {
        route.name: start_wrk(
            stack, run_dir / f"routes-{route.name}.tsv", connections[route.name], seconds, ports,
            run_dir / f"wrk-{tag}-{route.name}.log", budget[route.name],
        )
        for route in ROUTES
    }  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for name, process in started.items():
        try:
            process.wait(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            raise RunError(f"wrk for {name} did not stop after its {seconds} s") from None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    results = {name: wrk_result(run_dir / f"wrk-{tag}-{name}.log") for name in started}
    capped = [name for name, result in results.items() if result["requests"] >= budget[name]]
    return results, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), capped


def busy_seconds() -> float:
    """Core-seconds the machine has spent busy since it booted (/proc/stat: user, nice, system, irq, softirq)."""
    user, nice, system, _idle, _iowait, irq, softirq = Path("/proc/stat").read_text().split()[1:8]
    return sum(int(x) for x in (user, nice, system, irq, softirq)) / os.sysconf("SC_CLK_TCK")


def cpu_now(sites: list[Site], pg_dir: Path | None, front: subprocess.Popen | None) -> dict[str, float]:
    groups = {site.process.pid for site in sites}
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "site": cpu_seconds({pid for pid, _, group in processes() if group in groups}),
        "nginx": cpu_seconds({pid for pid, _, group in processes() if front and group == front.pid}),
        "postgresql": cpu_seconds(postgres_pids(pg_dir)) if pg_dir else 0.0,
        "votes": own.ru_utime + own.ru_stime,
        "machine": busy_seconds(),
        "wall": time.monotonic(),
    }


def run_database(db: str, args: argparse.Namespace) -> Outcome:
    stamp = datetime.now(UTC)
    run_dir = args.data_dir / "runs" / f"{stamp:%Y%m%d-%H%M%S}-{db}"
    run_dir.mkdir(parents=True)
    note(f"[{db}] logs and route lists: {run_dir}")
    load_idle = load_average()
    with contextlib.ExitStack() as stack:
        env, sites, pg_dir, ports, front = serve(stack, db, args, run_dir)
        note(f"[{db}] preparing {args.members} members with sessions and API tokens")
        helper(env, "prepare", run_dir / "prepared.json", ["--members", str(args.members)])
        data = json.loads((run_dir / "prepared.json").read_text())
        if not data["hot"]:
            raise RunError("the site's daily list is empty: the votes need papers on the front page")
        rng = random.Random(args.seed)
        for route in ROUTES:
            (run_dir / f"routes-{route.name}.tsv").write_text("\n".join(route_lines(route.name, data, rng)) + "\n")
        connections = split_clients(args.clients, len(ports))
        budget = {name: max(1, args.max_requests * n // sum(connections.values())) for name, n in connections.items()}
        cookies = (data["session_cookie"], data["csrf_cookie"])
        votes = VoteClient(data["members"], data["hot"], ports, cookies, args.seed, REQUESTS_PER_CONNECTION)
        try:
            votes.sign_in()
        except SignInFailed as error:
            raise RunError(str(error)) from None

        note(f"[{db}] asking every cached anonymous address once (a site that has been up for a while)")
        crawled = warm_caches(run_dir, ports)
        note(f"[{db}] {crawled['addresses']:,} addresses in {crawled['seconds']:.0f} s, {crawled['hits']:,} already "
             f"cached by paperfeed; statuses {crawled['statuses']}")  # fmt: skip
        note(f"[{db}] warm-up: {args.warmup} s")
        warm, _, _ = traffic(stack, run_dir, "warmup", args.warmup, connections, ports, budget)
        load_start, cpu_before = load_average(), cpu_now(sites, pg_dir, front)
        note(f"[{db}] measured run: {args.clients} clients for {args.seconds} s (load average {load_start})")
        stop = threading.Event()
        stack.callback(stop.set)
        voter = threading.Thread(
            target=votes.run, args=(connections[VOTES.name], args.seconds, budget[VOTES.name], stop), daemon=True
        )
        voter.start()
        results, wrk_cpu, capped = traffic(stack, run_dir, "run", args.seconds, connections, ports, budget)
        voter.join(timeout=120)
        cpu = {key: value - cpu_before[key] for key, value in cpu_now(sites, pg_dir, front).items()} | {"wrk": wrk_cpu}
        load_end = load_average()

        note(f"[{db}] checking the votes")
        # The database first: the counts shown next are asked for by sending votes again, which would mend a lost one.
        (run_dir / "votes-papers.json").write_text(json.dumps(data["hot"]))
        helper(
            env, "count-votes", run_dir / "votes-counted.json", ["--papers-file", str(run_dir / "votes-papers.json")]
        )
        database = json.loads((run_dir / "votes-counted.json").read_text())
        shown = votes.shown_counts()
    # every process of this run is stopped here
    warm_5xx = sum(n for r in warm.values() for status, n in r["statuses"].items() if status.startswith("5"))
    measured = Measured(
        results, capped, votes, cpu, (load_idle, load_start, load_end),
        (sum(r["requests"] for r in warm.values()), warm_5xx), crawled, shown, database,
    )  # fmt: skip
    outcome = report(db, args, stamp, data, connections, measured, log_problems([site.log for site in sites]))
    (run_dir / "report.md").write_text(outcome.report)
    (run_dir / "votes-check.json").write_text(json.dumps(outcome.votes, indent=1))
    outcome.failed = [f"{line} (see {run_dir})" for line in outcome.failed]
    return outcome


def vote_check(measured: Measured) -> dict:
    """What the database holds against what the site acknowledged."""
    votes, database = measured.votes, measured.database
    expected = {pair for pair, up in votes.state.items() if up and pair not in votes.uncertain}
    rows = {tuple(pair) for pair in database["rows"]}
    counts = database["counts"]
    return {
        "acknowledged_up": len(expected),
        "rows": len(rows),
        "lost": sorted(expected - rows),
        "extra": sorted(pair for pair in rows - expected if pair not in votes.uncertain),
        "pairs_twice": database["pairs_twice"],
        "miscounted": {p: [n, counts.get(p, 0)] for p, n in measured.shown.items() if n != counts.get(p, 0)},
        "wrong_answers": votes.wrong_answers[:100],
        "uncertain": sorted(votes.uncertain),
    }


def report(
    db: str, args: argparse.Namespace, stamp: datetime, data: dict, connections: dict, measured: Measured,
    problems: list[str],
) -> Outcome:  # fmt: skip
    results, votes = measured.results, measured.votes
    rows = [wrk_row(route.label, connections[route.name], results[route.name]) for route in ROUTES]
    latencies = votes.latencies_ms
    rows.append(
        Row(VOTES.label, connections[VOTES.name], len(latencies), votes.seconds, sample_percentile(latencies, 50),
            sample_percentile(latencies, 95), sample_percentile(latencies, 99), votes.statuses,
            sum(votes.connection_errors.values()))
    )  # fmt: skip
    grids = [(r["requests"], grid_ms(r)) for r in results.values() if r["requests"]]
    p50, p95, p99 = merged_percentiles(grids, latencies, (50, 95, 99))
    site = Row(
        "site (all routes)", sum(connections.values()), sum(r.requests for r in rows), args.seconds, p50, p95, p99,
        sum((r.statuses for r in rows), Counter()), sum(r.socket_errors for r in rows),
    )  # fmt: skip
    check = vote_check(measured)
    cpu = measured.cpu
    others = cpu["machine"] - cpu["site"] - cpu["postgresql"] - cpu["nginx"] - cpu["wrk"] - cpu["votes"]
    warm_requests, warm_5xx = measured.warm
    crawled = measured.crawled
    by_name = {route.name: row for route, row in zip((*ROUTES, VOTES), rows, strict=True)}

    postgres_cpu = f", PostgreSQL {cpu['postgresql']:.0f} s" if db != "sqlite" else ""
    postgres_cpu += f", nginx {cpu['nginx']:.0f} s" if args.front == "nginx" else ""
    title = "SQLite, one `paperfeed serve`" if db == "sqlite" else "PostgreSQL, two `paperfeed serve` processes"
    title += " behind nginx (micro-cache)" if args.front == "nginx" else ""
    lines = [
        f"### {title} ({data['database']}): {stamp:%Y-%m-%d %H:%M} UTC",
        "",
        f"`python bench/load.py --db {db} --clients {args.clients} --seconds {args.seconds}"
        f"{' --front nginx' if args.front == 'nginx' else ''}"
        f"{f' --workers {args.workers}' if args.workers else ''}` ({len(data['papers']):,} papers, "
        f"{len(data['days'])} days; {args.warmup} s of the same traffic first: {warm_requests:,} requests, "
        f"{warm_5xx} 5xx; before that, every address of the cached anonymous routes asked once, as on a site that "
        f"has been up for a while: {crawled['addresses']:,} addresses in {crawled['seconds']:.0f} s, "
        f"{crawled['hits']:,} of them already in paperfeed's cache from earlier runs, statuses "
        f"{crawled['statuses']}). Machine: {machine()}. Load average before the site started: "
        f"{measured.load[0]}; as the "
        f"run began: {measured.load[1]}; at its end: {measured.load[2]}.",
        "",
        table(rows, site),
        "",
        f"Errors: 4xx, socket errors and timeouts (over {WRK_TIMEOUT}). p50/p95/p99 of the site: all requests "
        f"together. CPU over the run, of {cpu['wall'] * (os.cpu_count() or 1):.0f} core-seconds: the site "
        f"{cpu['site']:.0f} s{postgres_cpu}, wrk "
        f"{cpu['wrk']:.1f} s, the vote client {cpu['votes']:.1f} s; everything else on the machine (other "
        f"people's work, the kernel's network stack) {max(others, 0):.0f} s.",
        "",
        f"Votes: {votes.acknowledged['up']:,} upvotes and {votes.acknowledged['down']:,} taken back, acknowledged "
        f"({votes.acknowledged['double clicks']:,} of them double clicks), by {len(votes.members)} members on "
        f"{len(data['hot'])} papers of the front page; {len(check['uncertain'])} (member, paper) left uncertain. "
        f"In the database afterwards: {check['rows']:,} vote rows of these members for {check['acknowledged_up']:,} "
        f"acknowledged upvotes — **{len(check['lost'])} lost, {len(check['extra'])} extra, {check['pairs_twice']} "
        f"pairs held twice**; of {len(measured.shown)} papers' counts shown afterwards, {len(check['miscounted'])} "
        f"differ from the database; 200s without the button asked for: {len(check['wrong_answers'])}."
        + (
            f" Connections that broke before a vote's answer (the vote sent again): "
            f"{', '.join(f'{name} × {n}' for name, n in votes.connection_errors.items())}."
            if votes.connection_errors
            else ""
        ),
    ]
    if args.front == "nginx":
        lines += ["", "nginx's cache (X-Proxy-Cache) per route: " + "; ".join(
            f"{route.label}: " + ", ".join(f"{state} {n / max(1, sum(results[route.name]['proxy_cache'].values())):.0%}"
                                           for state, n in sorted(results[route.name]["proxy_cache"].items(),
                                                                  key=lambda item: -item[1]))
            for route in ROUTES if results[route.name].get("proxy_cache")
        ) + "."]  # fmt: skip
    if measured.capped:
        lines += ["", f"These reached their share of --max-requests, so their req/s is understated: {measured.capped}."]
    if problems:
        lines += ["", "Errors in the servers' logs:", "", *[f"- `{line}`" for line in problems]]
    crawl_5xx = sum(n for status, n in crawled["statuses"].items() if status.startswith("5"))
    server_errors = site.server_errors + warm_5xx + crawl_5xx
    votes_ok = not (check["lost"] or check["extra"] or check["pairs_twice"] or check["miscounted"])
    votes_ok = votes_ok and not check["wrong_answers"]
    targets = [
        ("no 5xx", "0", f"{server_errors}", server_errors == 0),
        ("no lost or doubled votes", "0", f"{len(check['lost']) + len(check['extra']) + check['pairs_twice']}",
         votes_ok),
        ("anonymous daily list", "≥ 1,000 req/s", f"{by_name['daily'].rate:,.0f} req/s", by_name["daily"].rate >= 1000),
        ("anonymous paper page", "≥ 1,000 req/s", f"{by_name['paper'].rate:,.0f} req/s", by_name["paper"].rate >= 1000),
        ("signed-in pages", "≥ 100 req/s", f"{by_name['signed-in'].rate:,.0f} req/s", by_name["signed-in"].rate >= 100),
        ("the site's p99", "≤ 500 ms", f"{ms(site.p99)} ms", site.p99 <= 500),
    ]  # fmt: skip
    lines += ["", "| target | wanted | measured | |", "|---|---|---:|---|"]
    lines += [f"| {name} | {want} | {got} | {'met' if ok else '**not met**'} |" for name, want, got, ok in targets]
    failed = [f"{db}: {server_errors} answers were 5xx"] if server_errors else []
    if not votes_ok:
        failed.append(
            f"{db}: votes: {len(check['lost'])} lost, {len(check['extra'])} extra, {check['pairs_twice']} pairs "
            f"twice, {len(check['miscounted'])} counts shown wrong, {len(check['wrong_answers'])} wrong buttons"
        )
    return Outcome("\n".join(lines) + "\n", failed, check)


def helper(env: dict, task: str, out: Path, extra: list[str]) -> None:
    """Run this script's `task` inside the site's Django, with the site's environment."""
    command = [sys.executable, __file__, "--internal", task, "--internal-out", str(out), *extra]
    done = subprocess.run(
        command, env={**env, "DJANGO_SETTINGS_MODULE": "paperfeed.settings"}, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RunError(f"the {task} step failed:\n{done.stderr[-3000:]}")


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--seconds", type=int, default=60, help=f"measured run per database (default 60, at most {MAX_SECONDS})"
    )
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections in all (default 200)")
    parser.add_argument(
        "--warmup", type=int, default=5, help="seconds of the same traffic before measuring (default 5)"
    )
    parser.add_argument(
        "--front",
        choices=("none", "nginx", "both"),
        default="both",
        help="none: clients talk to paperfeed; nginx: nginx in front, with the micro-cache and the web process for "
        "anonymous reads of docs/operations.md; both (default): one run each",
    )
    parser.add_argument("--workers", type=int, help="`paperfeed serve --workers` (default: the site's default)")
    parser.add_argument("--members", type=int, default=50, help="signed-in members voting and reading (default 50)")
    parser.add_argument(
        "--max-requests", type=int, default=2_000_000, help="stop sending after this many (default 2,000,000)"
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".test-data" / "load",
                        help="the sites' data, reused between runs (default .test-data/load)")  # fmt: skip
    parser.add_argument("--internal", choices=("prepare", "count-votes"), help=argparse.SUPPRESS)
    parser.add_argument("--internal-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--papers-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.internal == "prepare":
        prepare(args.internal_out, args.members, args.seed)
        return 0
    if args.internal == "count-votes":
        count_votes(args.internal_out, json.loads(args.papers_file.read_text()))
        return 0
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be from 1 to {MAX_SECONDS}")
    if not 20 <= args.clients <= 2000:
        parser.error("--clients must be from 20 to 2000 (each route group needs a connection per server)")
    if not shutil.which(WRK) and not Path(WRK).is_file():
        note("wrk is not installed: run `make bench-load` (it installs Debian's wrk), or `apt-get install -y wrk`.")
        return 2
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    args.data_dir = args.data_dir.resolve()
    failed: list[str] = []
    try:
        fronts = ("none", "nginx") if args.front == "both" else (args.front,)
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            for front in fronts:
                outcome = run_database(db, argparse.Namespace(**{**vars(args), "front": front}))
                print(outcome.report, flush=True)
                failed += outcome.failed
    except RunError as error:
        note(f"load benchmark stopped: {error}")
        return 2
    except KeyboardInterrupt:
        note("interrupted: every process this run started has been stopped")
        return 130
    for line in failed:
        note(f"FAILED {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
