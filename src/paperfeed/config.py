"""Every PAPERFEED_* environment setting, its default and meaning, read in one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "PAPERFEED_DATA_DIR",
        "$XDG_DATA_HOME/paperfeed, else ~/.local/share/paperfeed",
        "Where the SQLite database, the secret key and derived indexes live.",
    ),
    Setting(
        "PAPERFEED_DATABASE_URL",
        "(none: SQLite in DATA_DIR/paperfeed.sqlite3)",
        "postgresql://user:password@host:5432/name selects PostgreSQL (with the pgvector extension for search by "
        "meaning): the database for several web or worker processes on several machines.",
    ),
    Setting("PAPERFEED_DEBUG", "0", "1 shows Django's debug pages. Never on a public site."),
    Setting(
        "PAPERFEED_SECRET_KEY",
        "generated once into DATA_DIR/secret_key",
        "Django's signing key. Set it explicitly when several machines serve one site.",
    ),
    Setting(
        "PAPERFEED_ALLOWED_HOSTS",
        "127.0.0.1,localhost,[::1]",
        "Comma-separated host names the site answers to (your public domain on a server).",
    ),
    Setting(
        "PAPERFEED_CSRF_TRUSTED_ORIGINS",
        "(none)",
        "Comma-separated origins such as https://papers.example.org, needed behind an HTTPS proxy.",
    ),
    Setting("PAPERFEED_WORKERS", "2", "Web worker processes started by `paperfeed serve`."),
    Setting("PAPERFEED_THREADS", "4", "Threads per web worker process of `paperfeed serve`."),
    Setting(
        "PAPERFEED_LOAD_DEMO",
        "1",
        "1 loads the bundled demo corpus when `paperfeed serve` finds an empty database; 0 never does.",
    ),
    Setting(
        "PAPERFEED_TRENDING_HALF_LIFE_HOURS",
        "24",
        "How fast an upvote's weight fades on /trending: it counts half after this many hours.",
    ),
    Setting("PAPERFEED_TRENDING_WINDOW_DAYS", "14", "Upvotes older than this are ignored by /trending."),
    Setting("PAPERFEED_ARXIV_OAI_URL", "https://oaipmh.arxiv.org/oai", "arXiv's OAI-PMH service (2025 system)."),
    Setting("PAPERFEED_ARXIV_RSS_URL", "https://rss.arxiv.org", "arXiv's announcement feeds (RSS and Atom)."),
    Setting("PAPERFEED_ARXIV_API_URL", "https://export.arxiv.org/api/query", "arXiv's search and id API."),
    Setting(
        "PAPERFEED_HF_API_URL",
        "https://huggingface.co",
        "Hugging Face, for its daily papers list and the models, datasets and Spaces that cite a paper.",
    ),
    Setting("PAPERFEED_GITHUB_API_URL", "https://api.github.com", "GitHub's REST API, for code repositories' stars."),
    Setting(
        "PAPERFEED_GITHUB_TOKEN",
        "(none)",
        "A GitHub token (no scopes needed) sent with the stars requests: GitHub then allows 5,000 requests an hour "
        "instead of 60, and the background refresh checks 200 papers a pass instead of 20.",
    ),
    Setting(
        "PAPERFEED_REFRESH_HOURS",
        "24",
        "The background refresh checks a paper's GitHub stars and Hugging Face models, datasets and Spaces again "
        "after this many hours.",
    ),
    Setting(
        "PAPERFEED_REFRESH_DAYS",
        "30",
        "Which papers the background refresh keeps up to date: those on a daily list of the last this many days. "
        "Older papers keep what was last found.",
    ),
    Setting(
        "PAPERFEED_BIORXIV_API_URL",
        "https://api.biorxiv.org",
        "The bioRxiv API, for `paperfeed ingest biorxiv` and `paperfeed ingest medrxiv`.",
    ),
    Setting(
        "PAPERFEED_ZOTERO_API_URL",
        "https://api.zotero.org",
        "The Zotero Web API (v3), for the live sync of the Zotero libraries members link to their For you.",
    ),
    Setting(
        "PAPERFEED_ZOTERO_SYNC_MINUTES",
        "30",
        "The worker asks Zotero for what changed in each linked library this often (sooner after a link is saved).",
    ),
    Setting(
        "PAPERFEED_SUMMARY_URL",
        "(none: no summaries written here)",
        "An OpenAI-compatible chat endpoint's base, such as http://127.0.0.1:8080/v1 (llama.cpp, vLLM, Ollama): "
        "the worker asks it for a summary and keywords of papers that Hugging Face did not summarize.",
    ),
    Setting("PAPERFEED_SUMMARY_MODEL", "(none; needed with the URL)", "The model the summarizer asks for."),
    Setting("PAPERFEED_SUMMARY_API_KEY", "(none)", "Sent as `Authorization: Bearer KEY` to the summarizer."),
    Setting(
        "PAPERFEED_SUMMARY_PER_DAY",
        "200",
        "At most this many papers are sent to the summarizer per day (UTC), whether it answers well or not.",
    ),
    Setting("PAPERFEED_SUMMARY_TIMEOUT_SECONDS", "120", "How long to wait for the summarizer to answer one paper."),
    Setting(
        "PAPERFEED_THUMBNAILS",
        "on",
        "Thumbnails of the papers on the last two weeks' daily lists, made by `paperfeed worker`: `on` (Hugging "
        "Face's thumbnail when its list gave one, else the first page of the arXiv PDF, paced like every arXiv "
        "request), `huggingface` (only Hugging Face's, which are small images: no PDF is downloaded) or `off`.",
    ),
    Setting("PAPERFEED_ARXIV_PDF_URL", "https://arxiv.org/pdf", "arXiv's PDFs, for thumbnails of their first page."),
    Setting(
        "PAPERFEED_HF_THUMBNAIL_URL",
        "https://cdn-thumbnails.huggingface.co",
        "Where Hugging Face's paper thumbnails are fetched from (the host of the `thumbnail` links in its list).",
    ),
    Setting(
        "PAPERFEED_CONTACT_EMAIL",
        "(none)",
        "Your address, sent in the User-Agent of every harvest request as arXiv asks of harvesters.",
    ),
    Setting(
        "PAPERFEED_ARXIV_DELAY_SECONDS",
        "3",
        "Pause between two requests to arXiv. arXiv's terms ask for at least 3 seconds; do not lower it.",
    ),
    Setting("PAPERFEED_HTTP_TIMEOUT_SECONDS", "30", "How long to wait for a source to answer one request."),
    Setting("PAPERFEED_HTTP_RETRIES", "4", "Retries of a failed request (timeouts, 429, 5xx) before giving up."),
    Setting(
        "PAPERFEED_EMAIL_URL",
        "console://",
        "Where email goes: `smtp://user:pass@host:587?tls=1`, `smtps://user:pass@host:465`, `console://` (printed "
        "by the server, handy on a laptop) or `file:///path/to/dir`.",
    ),
    Setting("PAPERFEED_EMAIL_FROM", "paperfeed <noreply@localhost>", "The sender of every email the site sends."),
    Setting(
        "PAPERFEED_MAIL_RETRY_SECONDS",
        "60",
        "When the mail server refuses a message, the worker tries again after this many seconds, then 4 times "
        "longer each time (8 attempts, at most 6 hours apart); a message whose link has expired is dropped.",
    ),
    Setting(
        "PAPERFEED_WEBHOOK_TIMEOUT_SECONDS",
        "10",
        "How long a chat delivery (Slack, Mattermost, Discord, JSON webhook) waits for the receiver to connect and "
        "answer; a receiver that takes longer is tried again by the next `paperfeed digest send`.",
    ),
    Setting(
        "PAPERFEED_WEBHOOK_ALLOW_LOOPBACK",
        "0",
        "1 lets webhooks post to http(s)://127.0.0.1, localhost and [::1] (tests, a laptop). Off, as on any real "
        "site, webhooks go to https:// addresses that resolve to public internet addresses only.",
    ),
    Setting(
        "PAPERFEED_TRUSTED_PROXIES",
        "0",
        "How many reverse proxies (nginx, Caddy…) stand in front of the site and add to X-Forwarded-For; the "
        "client address that sign-in limits count is then read from that header. 0: the direct peer's address.",
    ),
    Setting(
        "PAPERFEED_HSTS_SECONDS",
        "31536000 (a year) when PAPERFEED_SITE_URL is https://",
        "How long browsers must reach the site over HTTPS only (Strict-Transport-Security); 0 sends no such header.",
    ),
    Setting(
        "PAPERFEED_CACHE_URL",
        "db:// (a table in the database)",
        "Where pages for visitors who are not signed in are cached, shared by every web process: `db://` (the "
        "database; right for several nodes), `redis://host:6379/0` (needs `pip install redis`), `locmem://` (each "
        "process its own), `file:///path/to/dir`, or `dummy://` (no caching). `?max_entries=N` sets how many "
        "pages db, locmem and file keep.",
    ),
    Setting(
        "PAPERFEED_CACHE_SECONDS",
        "60",
        "How long a cached page that shows the clock may be served when nothing was written meanwhile (writes "
        'invalidate at once): trending\'s fading, feeds, "5 minutes ago" may be this late; other pages are kept '
        "until a write changes them.",
    ),
    Setting(
        "PAPERFEED_CACHE_MAX_AGE",
        "0",
        "The max-age, in seconds, of the Cache-Control sent with cached pages; a proxy, CDN or browser may show a "
        "page this old without asking. 0: they ask every time (answered with a cheap 304 when unchanged).",
    ),
    Setting(
        "PAPERFEED_CACHE_SHARED_MAX_AGE",
        "0",
        "The s-maxage of the same answers: how long a proxy or CDN (not a browser) may serve one without asking. "
        "1 with the nginx micro-cache of docs/operations.md; members always get their own page.",
    ),
    Setting(
        "PAPERFEED_SITE_URL",
        "http://127.0.0.1:8000",
        "The site's public address, used for links in emails (sign-in links, confirmations).",
    ),
)


def env(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_number(name: str, default: float, minimum: float | None = None) -> float:
    """A number from the environment; above 0 (or at least `minimum` when given)."""
    value = env(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a number") from None
    if minimum is None and number <= 0:
        raise SystemExit(f"{name}={value!r} must be greater than 0")
    if minimum is not None and number < minimum:
        raise SystemExit(f"{name}={value!r} must be at least {minimum:g}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def data_dir() -> Path:
    """PAPERFEED_DATA_DIR, else the XDG data home's paperfeed folder; created if missing."""
    explicit = env("PAPERFEED_DATA_DIR")
    if explicit:
        path = Path(explicit).expanduser()
    else:
        xdg = env("XDG_DATA_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
        path = base / "paperfeed"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def secret_key(directory: Path) -> str:
    """PAPERFEED_SECRET_KEY, else a key generated once and kept (mode 600) in the data directory."""
    explicit = env("PAPERFEED_SECRET_KEY")
    if explicit:
        return explicit
    path = directory / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    # Written aside, then linked into place: when several workers start at once, exactly one key wins
    # and nobody reads a half-written file.
    tmp = directory / f".secret_key.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        tmp.unlink()
    return key


def summary_endpoint(url: str | None, model: str | None) -> tuple[str, str]:
    """PAPERFEED_SUMMARY_URL (without a trailing slash; "" when the summarizer is off) and PAPERFEED_SUMMARY_MODEL.

    A URL that cannot be used, or one without a model, stops start-up with a message naming the variable."""
    if not url:
        return "", model or ""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(
            f"PAPERFEED_SUMMARY_URL={url!r} is not an http(s) address: give the endpoint's base, such as "
            "http://127.0.0.1:8080/v1 (paperfeed posts to BASE/chat/completions), or unset it"
        )
    if not model:
        raise SystemExit(
            "PAPERFEED_SUMMARY_URL is set but PAPERFEED_SUMMARY_MODEL is not: name the model the server should "
            "use (as `ollama list` or the server's /v1/models shows it)"
        )
    return url.rstrip("/"), model


class EmailUrlError(ValueError):
    pass


def email_settings(url: str) -> dict[str, object]:
    """Django EMAIL_* settings from one URL: smtp://user:pass@host:port?tls=1, smtps://…, console://, file:///dir."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "file":
        if not parts.path:
            raise EmailUrlError(f"{url!r} names no directory: use file:///path/to/dir")
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": parts.path}
    if scheme not in ("smtp", "smtps"):
        raise EmailUrlError(f"{url!r}: the scheme must be smtp, smtps, console or file")
    if not parts.hostname:
        raise EmailUrlError(f"{url!r} names no host")
    try:
        port = parts.port or (465 if scheme == "smtps" else 25)
    except ValueError:
        raise EmailUrlError(f"{url!r} has a port that is not a number") from None
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    on = {"1", "true", "yes", "on"}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": scheme == "smtp" and query.get("tls", "") in on,
        "EMAIL_TIMEOUT": 30,
    }


SQLITE_OPTIONS = {
    # WAL lets readers go on while one writer commits; the busy timeout makes writers queue, not fail.
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
    ),
}


def database(url: str | None, directory: Path, variable: str = "PAPERFEED_DATABASE_URL") -> dict[str, object]:
    """Django's default database: SQLite in the data directory, or the one PAPERFEED_DATABASE_URL names.

    A URL that cannot be used stops start-up with a message naming the variable (or option) and the fix.
    """
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": directory / "paperfeed.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            "TEST": {"NAME": str(directory / "test-paperfeed.sqlite3")},
        }
    import dj_database_url

    fix = "use postgresql://user:password@host:5432/name, or unset it for SQLite in the data directory"
    if variable.startswith("--"):  # a command's option naming another database
        fix = "use postgresql://user:password@host:5432/name, or sqlite:////path/to/paperfeed.sqlite3"
    try:
        parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except (ValueError, dj_database_url.UnknownSchemeError) as error:
        raise SystemExit(f"{variable}={url!r} cannot be read ({error}): {fix}") from None
    if parsed["ENGINE"] == "django.db.backends.sqlite3":
        parsed["OPTIONS"] = {**SQLITE_OPTIONS, **parsed.get("OPTIONS", {})}
        parsed["CONN_MAX_AGE"], parsed["CONN_HEALTH_CHECKS"] = 0, False
    elif parsed["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(f"{variable}={url!r}: paperfeed runs on PostgreSQL or SQLite; {fix}")
    elif not parsed.get("NAME"):
        raise SystemExit(f"{variable}={url!r} names no database: {fix}")
    return parsed


CACHE_FORMS = (
    "db:// (the default: a table in the database), redis://host:6379/0, locmem://, file:///path/to/dir or dummy:// "
    "(no caching), optionally with ?max_entries=N for db, locmem and file"
)
CACHE_TABLE = "paperfeed_cache"
CACHE_MAX_ENTRIES = 20_000  # pages: the demo alone has 5,921 papers, each with a page, its API reads and BibTeX


def caches(url: str | None) -> dict[str, dict]:
    """Django's CACHES from PAPERFEED_CACHE_URL: the database's cache table by default.

    A URL that cannot be used stops start-up with a message naming the variable and the forms it takes.
    """
    from urllib.parse import parse_qs, urlsplit

    def refuse(problem: str) -> SystemExit:
        return SystemExit(f"PAPERFEED_CACHE_URL={url!r} {problem}: use {CACHE_FORMS}")

    try:
        parts = urlsplit(url or "db://")
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as error:
        raise refuse(f"cannot be read ({error})") from None
    scheme = parts.scheme.lower()
    options: dict[str, int] = {}
    if scheme in ("db", "locmem", "file"):
        unknown = set(query) - {"max_entries"}
        if unknown:
            raise refuse(f"has an unknown parameter {sorted(unknown)[0]!r}")
        if "max_entries" in query:
            value = query["max_entries"][-1]
            if not value.isdigit() or int(value) < 1:
                raise refuse(f"has max_entries={value!r}, which is not a whole number above 0")
            options["MAX_ENTRIES"] = int(value)
    elif query and scheme != "redis" and scheme != "rediss":
        raise refuse("takes no parameters")
    if scheme in ("db", "locmem", "dummy") and (parts.netloc or parts.path.strip("/")):
        raise refuse(f"names a place, which {scheme}:// does not take")
    if scheme == "db":
        backend = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
        options.setdefault("MAX_ENTRIES", CACHE_MAX_ENTRIES)
    elif scheme == "locmem":
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "paperfeed"}
        options.setdefault("MAX_ENTRIES", 1000)
    elif scheme == "dummy":
        backend = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    elif scheme == "file":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise refuse("names no directory (three slashes and an absolute path: file:///var/cache/paperfeed)")
        backend = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": parts.path}
        options.setdefault("MAX_ENTRIES", CACHE_MAX_ENTRIES)
    elif scheme in ("redis", "rediss"):
        if not parts.hostname:
            raise refuse("names no host")
        try:
            parts.port  # noqa: B018 - raises when the port is not a number
        except ValueError:
            raise refuse("has a port that is not a number") from None
        if parts.path.strip("/") and not parts.path.strip("/").isdigit():
            raise refuse(f"names the Redis database {parts.path.strip('/')!r}, which is not a number")
        try:
            import redis  # noqa: F401 - Django's RedisCache needs it; say so now rather than at the first request
        except ImportError:
            raise SystemExit(
                f"PAPERFEED_CACHE_URL={url!r} needs the redis package, which is not installed: pip install redis "
                "(into paperfeed's environment), or use db:// to cache in the database"
            ) from None
        backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    else:
        raise refuse(f"has the unknown scheme {scheme + '://' if scheme else '(none)'}")
    return {"default": {**backend, **({"OPTIONS": options} if options else {})}}


HSTS_DEFAULT = 365 * 24 * 3600


def https_settings(site_url: str, trusted_proxies: int, hsts_seconds: int | None) -> dict[str, object]:
    """Django's security settings for how the site is served: none for http://; for an https:// site, cookies that
    only travel over HTTPS and Strict-Transport-Security; behind trusted reverse proxies, also their
    X-Forwarded-Proto (so that links in feeds and pages say https) and a redirect of plain HTTP to HTTPS.
    """
    if not site_url.startswith("https://"):
        return {}
    settings: dict[str, object] = {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": HSTS_DEFAULT if hsts_seconds is None else hsts_seconds,
    }
    if trusted_proxies:
        # The proxy (nginx's `proxy_set_header X-Forwarded-Proto $scheme`, Caddy by default) says how the
        # visitor came; Django then redirects a visitor who came over plain HTTP.
        settings["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
        settings["SECURE_SSL_REDIRECT"] = True
    return settings
