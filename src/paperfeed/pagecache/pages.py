"""Finding, keeping and answering with cached pages; used by the WSGI hit path (wsgi.py) and the middleware.

Works on the WSGI environ (a Django request's META is the same dict), so the hit path needs no Django request.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.handlers.wsgi import get_path_info
from django.core.signals import setting_changed
from django.db import DatabaseError, connections
from django.http import HttpResponse
from django.urls import resolve
from django.utils import timezone
from django.utils.cache import cc_delim_re
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from paperfeed.core.periods import PeriodError, parse_period
from paperfeed.core.sources.registry import addresses_in
from paperfeed.pagecache.changes import Generation, State, current_state, paper_changes
from paperfeed.papers.models import DailyEntry, Paper
from paperfeed.papers.services.listing import default_period

logger = logging.getLogger(__name__)

# The routes whose answer to a visitor who is not signed in is the same for everyone, and depends only on the
# address and on tables the change log watches (changes.WATCHED). Searches are left out on purpose: nearly every
# query is asked once, so caching them would only add a write per search.
SHARED_ROUTES = frozenset(
    {
        # pages
        "daily",  # the daily, weekly and monthly lists (?date, ?week, ?month)
        "trending",
        "paper",
        # feeds and downloads
        "feed-daily",
        "feed-trending",
        "feed-category",
        "feed-search-rss",  # a feed reader asks the same search again and again
        "feed-search",
        "feed-organization",
        "feed-author",
        "feed-collection",
        "collection-bibtex",
        "paper-bibtex",
        # the Hugging Face-compatible API
        "hf-daily-papers",
        "hf-paper",
        "hf-paper-markdown",
        # the native API's reads
        "api-v1:daily",
        "api-v1:trending",
        "api-v1:paper",
        "api-v1:similar",
        "api-v1:organization",
        "api-v1:organization-papers",
        "api-v1:author",
        "api-v1:author-papers",
    }
)

MAX_ADDRESS = 2000  # characters of host, path and query string; longer addresses are answered but not cached
LARGEST_PAGE = 4 * 1024 * 1024  # bytes; a larger answer is not cached
LOCAL_BYTES = 32 * 1024 * 1024  # per web process
LOCAL_PAGES = 2000
SHARED_TIMEOUT = 24 * 3600  # the shared copy outlives its freshness, so that an unchanged page keeps its Last-Modified
BUILD_WAIT = 15.0  # seconds a request waits for another thread of its process rendering the same page
FOUND = "paperfeed.pagecache.found"  # environ key: the hit path's lookup, handed to the middleware on a miss
VARY = ("Cookie", "Authorization", "HX-Request")
ON_304 = {"cache-control", "etag", "last-modified", "vary", "x-cache", "expires", "content-location"}
NOT_KEPT = {"cache-control", "etag", "last-modified", "vary", "expires", "x-cache", "date", "set-cookie"}
SHARED_FORMAT = 2

# Pages that depend on the votes and comments of only some papers (a vote elsewhere leaves them fresh); every other
# shared route depends on all of them (trending, feeds and lists ranked across the site).
# - A paper's page and its API reads: that paper and the similar papers shown with their counts; which papers are
#   similar does not depend on votes. So: the papers the answer names.
# - The daily list of a day, week or month: every paper listed in that period, since votes order them across pages.
NAMING_ROUTES = frozenset({"paper", "hf-paper", "hf-paper-markdown", "api-v1:paper", "api-v1:similar", "paper-bibtex"})
PERIOD_ROUTES = frozenset({"daily"})
# Pages of those routes change with the clock only when they show a relative time ("5 minutes ago", marked
# data-relative in the templates) or when they are the default day (`/` is the latest day up to today): the others
# are kept until a write changes them, at most SHARED_TIMEOUT.
RELATIVE_TIME = b"data-relative"


@dataclass(frozen=True)
class Ask:
    """A request that may be answered from the cache: its key (everything the answer varies on) and method."""

    key: str
    head: bool


@dataclass(frozen=True)
class Entry:
    """One cached answer: the state of the change logs it was rendered from, the papers whose votes and comments
    it depends on (None: all), when, and what to send."""

    generation: Generation
    built_at: float
    etag: str
    last_modified: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    papers_seen: int = 0
    papers: frozenset[int] | None = None
    expires_at: float | None = None  # None: PAPERFEED_CACHE_SECONDS after it was built

    def fresh(self, state: State, now: float) -> bool:
        expires = self.expires_at if self.expires_at is not None else self.built_at + settings.PAPERFEED_CACHE_SECONDS
        return (
            self.generation == state.generation
            and now < expires
            and paper_changes.unchanged_since(self.papers_seen, self.papers)
        )


@dataclass(frozen=True)
class Found:
    """What a lookup found: a fresh entry to answer with, or None; and the newest copy of any age (for its
    Last-Modified, and to answer while another thread of the process renders the page again)."""

    ask: Ask
    state: State
    entry: Entry | None
    previous: Entry | None


class LocalPages:
    """The per-process layer: a least-recently-used map bounded in pages and in bytes."""

    def __init__(self, max_bytes: int = LOCAL_BYTES, max_pages: int = LOCAL_PAGES) -> None:
        self.max_bytes, self.max_pages = max_bytes, max_pages
        self._pages: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is not None:
                self._pages.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._pages[key] = entry
            self._bytes += len(entry.body)
            while self._pages and (self._bytes > self.max_bytes or len(self._pages) > self.max_pages):
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size(self) -> int:
        """Bytes of page bodies held."""
        return self._bytes


local_pages = LocalPages()
_building: dict[str, threading.Event] = {}
_building_lock = threading.Lock()


def forget_everything() -> None:
    """Empty this process's layer (the test suite does it before each test: its database state starts over)."""
    local_pages.clear()
    paper_changes.forget()
    with _building_lock:
        _building.clear()
    _enabled.cache_clear()
    _route.cache_clear()


@lru_cache(maxsize=1)
def _enabled() -> bool:
    return not isinstance(caches["default"], DummyCache)  # PAPERFEED_CACHE_URL=dummy:// turns caching off


@lru_cache(maxsize=4096)
def _route(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Exception:  # Resolver404, or a hostile path a converter chokes on: Django answers it, uncached
        return None


def _on_setting_changed(**kwargs) -> None:
    if kwargs.get("setting") in {"CACHES", "ROOT_URLCONF"}:
        _enabled.cache_clear()
        _route.cache_clear()


setting_changed.connect(_on_setting_changed, dispatch_uid="paperfeed.pagecache.pages")


def is_shared_route(view_name: str | None) -> bool:
    return view_name in SHARED_ROUTES


def _scheme(environ: dict) -> str:
    """http or https, as Django's request.scheme decides it (a trusted proxy's header, else the server's)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure else "http"
    return environ.get("wsgi.url_scheme", "http")


def question(environ: dict) -> Ask | None:
    """The cache key of a request the cache may answer; None when it must go to the site (a method other than GET
    or HEAD, a session or messages cookie, an Authorization header, another route, an over-long address)."""
    method = environ.get("REQUEST_METHOD")
    if (method != "GET" and method != "HEAD") or "HTTP_AUTHORIZATION" in environ or not _enabled():
        return None
    cookies = environ.get("HTTP_COOKIE")
    if cookies and (f"{settings.SESSION_COOKIE_NAME}=" in cookies or "messages=" in cookies):
        return None  # signed in, or a message to show once: a page of its own (a false alarm only costs a render)
    try:
        path = get_path_info(environ)
    except UnicodeError:  # not what a WSGI server sends (latin-1), but Django copes: leave such requests to it
        return None
    query = environ.get("QUERY_STRING", "")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    if len(path) + len(query) + len(host) > MAX_ADDRESS or _route(path) not in SHARED_ROUTES:
        return None
    key = "\n".join(
        (_scheme(environ), host, environ.get("SCRIPT_NAME", ""), path, query, environ.get("HTTP_HX_REQUEST", "")[:8])
    )
    return Ask(key, method == "HEAD")


_warned = threading.Event()


def find(ask: Ask) -> Found | None:
    """The fresh entry for this request, from this process or the shared cache; None when the change log cannot be
    read (then the site answers without the cache)."""
    try:
        state = current_state()
    except DatabaseError as error:
        if not _warned.is_set():
            _warned.set()
            logger.warning("The page cache is off until the database answers again: %s", error)
        connection = connections["default"]
        if not connection.in_atomic_block:
            connection.close()  # reconnect on the next request
        return None
    now = time.time()
    mine = local_pages.get(ask.key)
    if mine is not None and mine.fresh(state, now):
        if mine.papers_seen < state.papers_seen:  # checked against the votes since: the next hit need not be
            mine = dataclasses.replace(mine, papers_seen=state.papers_seen)
            local_pages.put(ask.key, mine)
        return Found(ask, state, mine, mine)
    shared = _shared_get(ask.key)
    if shared is not None and shared.fresh(state, now):
        local_pages.put(ask.key, shared)
        return Found(ask, state, shared, shared)
    copies = [copy for copy in (mine, shared) if copy is not None]
    previous = max(copies, key=lambda copy: copy.built_at) if copies else None
    return Found(ask, state, None, previous)


@contextmanager
def building(found: Found) -> Iterator[Entry | None]:
    """One render of a page at a time in a process. Yields None to the thread that renders. The others get the
    previous copy at once when there is one (stale while revalidating: a visitor who is not signed in may see a
    page as it was one render ago, never older, while a busy site renders a popular page once instead of once per
    visitor queued behind it); without one, they wait for the copy the render makes, or get None when they must
    render after all (the page changed again, or the render was not cacheable)."""
    key = found.ask.key
    with _building_lock:
        underway = _building.get(key)
        if underway is None:
            _building[key] = mine = threading.Event()
    if underway is None:
        try:
            yield None
        finally:
            with _building_lock:
                _building.pop(key, None)
            mine.set()
        return
    if found.previous is not None:
        yield found.previous
        return
    underway.wait(BUILD_WAIT)
    made = local_pages.get(key)
    yield made if made is not None and made.fresh(found.state, time.time()) else None


def keep(found: Found, response: HttpResponse, used_csrf_token: bool, route: str | None, query) -> Entry | None:
    """Store a freshly rendered answer when everyone may share it; the entry to answer with, or None. `route` and
    `query` (the request's view name and GET parameters) say which papers' votes and comments it depends on."""
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or used_csrf_token
        or any(word in response.get("Cache-Control", "").lower() for word in ("private", "no-store", "no-cache"))
    ):
        return None
    body = response.content
    if len(body) > LARGEST_PAGE:
        return None
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    now = time.time()
    previous = found.previous
    # Unchanged since an earlier render (say, a vote on another paper): it was last modified when that one was.
    last_modified = previous.last_modified if previous is not None and previous.etag == etag else int(now)
    headers = [(name, value) for name, value in response.items() if name.lower() not in NOT_KEPT]
    if response.get("Content-Length") is None:
        headers.append(("Content-Length", str(len(body))))
    vary = [field for field in cc_delim_re.split(response.get("Vary", "")) if field]
    vary += [field for field in VARY if field.lower() not in {v.lower() for v in vary}]
    headers += [
        ("Cache-Control", cache_control()),
        ("ETag", etag),
        ("Last-Modified", http_date(last_modified)),
        ("Vary", ", ".join(vary)),
    ]
    try:
        papers = depends_on(route, query, body)
    except DatabaseError:
        return None
    expires = expiry(route, query, body, now)
    state = found.state
    entry = Entry(state.generation, now, etag, last_modified, tuple(headers), body, state.papers_seen, papers, expires)
    local_pages.put(found.ask.key, entry)
    _shared_set(found.ask.key, entry)
    return entry


def cache_control(stale: bool = False) -> str:
    """What a cached answer lets browsers (max-age) and proxies or CDNs (s-maxage) do with it. A stale copy (served
    while the page renders again) may be kept by nobody: that would make it older still."""
    if stale:
        return "public, max-age=0, must-revalidate"
    shared = settings.PAPERFEED_CACHE_SHARED_MAX_AGE
    proxies = f", s-maxage={shared}" if shared else ""
    return f"public, max-age={settings.PAPERFEED_CACHE_MAX_AGE}{proxies}, must-revalidate"


def depends_on(route: str | None, query, body: bytes) -> frozenset[int] | None:
    """The papers whose votes and comments an answer of `route` shows or is ordered by; None: all of them."""
    if route in NAMING_ROUTES:
        named: dict[str, list[str]] = {}
        for source, external_id in addresses_in(body.decode("utf-8", "replace")):
            named.setdefault(source, []).append(external_id)
        found: set[int] = set()
        chunk = 500  # SQLite's bound on a query's parameters
        for source, ids in named.items():
            ids.sort()
            for start in range(0, len(ids), chunk):
                papers = Paper.objects.filter(source=source, external_id__in=ids[start : start + chunk])
                found.update(papers.values_list("id", flat=True))
        return frozenset(found)
    if route in PERIOD_ROUTES:  # as site.pages.daily reads its parameters
        try:
            wanted = [query.get(name, "").strip() or None for name in ("date", "week", "month")]
            period = parse_period(*wanted) or default_period(timezone.localdate())
        except PeriodError:
            return None
        if period is None:
            return frozenset()
        listed = DailyEntry.objects.filter(day__range=(period.start, period.end)).values_list("paper_id", flat=True)
        return frozenset(listed)
    return None


def expiry(route: str | None, query, body: bytes, now: float) -> float | None:
    """Until when an answer stays right as the clock moves, if nothing is written meanwhile; None for
    PAPERFEED_CACHE_SECONDS after it was built."""
    if route not in NAMING_ROUTES and route not in PERIOD_ROUTES or RELATIVE_TIME in body:
        return None  # trending fades, feeds say when they were built, "5 minutes ago"
    until = now + SHARED_TIMEOUT
    if route in PERIOD_ROUTES and not any(query.get(name, "").strip() for name in ("date", "week", "month")):
        tomorrow = timezone.localdate() + timedelta(days=1)
        midnight = timezone.make_aware(datetime.combine(tomorrow, dt_time.min)).timestamp()
        until = min(until, midnight)  # the default day is the latest one up to today
    return until


def not_modified(environ: dict, entry: Entry) -> bool:
    """Whether a conditional request already has this answer (If-None-Match first, as HTTP asks)."""
    asked = environ.get("HTTP_IF_NONE_MATCH")
    if asked is not None:
        tags = parse_etags(asked)
        return tags == ["*"] or entry.etag in {tag.removeprefix("W/") for tag in tags}
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        when = parse_http_date_safe(since)
        return when is not None and entry.last_modified <= when
    return False


def answer(entry: Entry, environ: dict, ask: Ask, how: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a request answered with `entry`; `how` ("hit", "miss" or "stale") goes in
    X-Cache."""
    headers = [*entry.headers, ("X-Cache", how)]
    if how == "stale":
        headers = [(n, cache_control(stale=True) if n.lower() == "cache-control" else v) for n, v in headers]
    if not_modified(environ, entry):
        return 304, [(name, value) for name, value in headers if name.lower() in ON_304], b""
    return 200, headers, b"" if ask.head else entry.body


# --- the shared layer (PAPERFEED_CACHE_URL) ---


def _shared_key(key: str) -> str:
    # Hashed: every backend takes it, whatever the address holds (a NUL, 2,000 characters).
    return "paperfeed:page:" + hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def _shared_get(key: str) -> Entry | None:
    try:
        stored = caches["default"].get(_shared_key(key))
    except Exception as error:  # a cache server that is down must not take pages down with it
        logger.warning("The shared page cache could not be read: %s", error)
        return None
    if not (isinstance(stored, tuple) and len(stored) == 10 and stored[0] == SHARED_FORMAT):
        return None
    _, generation, built_at, etag, last_modified, headers, packed, papers_seen, papers, expires = stored
    papers = frozenset(papers) if papers is not None else None
    body = zlib.decompress(packed)
    return Entry(generation, built_at, etag, last_modified, headers, body, papers_seen, papers, expires)


def _shared_set(key: str, entry: Entry) -> None:
    value = (
        SHARED_FORMAT,
        entry.generation,
        entry.built_at,
        entry.etag,
        entry.last_modified,
        entry.headers,
        zlib.compress(entry.body, 1),  # HTML shrinks about 5 times: database rows stay small
        entry.papers_seen,
        tuple(sorted(entry.papers)) if entry.papers is not None else None,
        entry.expires_at,
    )
    cache = caches["default"]
    try:
        with _briefly_waiting_for_sqlite(cache):
            cache.set(_shared_key(key), value, SHARED_TIMEOUT)
    except Exception as error:
        logger.warning("The shared page cache could not be written: %s", error)


@contextmanager
def _briefly_waiting_for_sqlite(cache) -> Iterator[None]:
    """On SQLite, storing a copy in the database's cache table waits at most 0.1 s for the write lock (a load may
    hold it for seconds): a visitor's page must never wait for the cache. The copy is then just not shared."""
    connection = connections["default"]
    if not isinstance(cache, DatabaseCache) or connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    usual = int(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 100")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {usual}")
