"""Django settings, all read from PAPERFEED_* environment variables (see paperfeed.config)."""

from pathlib import Path

from paperfeed import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

DEBUG = config.env_bool("PAPERFEED_DEBUG", False)
SECRET_KEY = config.secret_key(DATA_DIR)
ALLOWED_HOSTS = config.env_list("PAPERFEED_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = config.env_list("PAPERFEED_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "paperfeed.site",
    "paperfeed.papers",
    "paperfeed.community",
    "paperfeed.digests",
    "paperfeed.api",
    "paperfeed.feeds",
    "paperfeed.recommend",
    "paperfeed.notifications",
    "paperfeed.background",
    "django_tasks",
    "django_tasks_db",
    "paperfeed.pagecache",
    "ninja",  # the API docs (/api/docs) from its own static files: its CDN fallback would break the CSP
]

MIDDLEWARE = [
    "paperfeed.pagecache.middleware.AnonymousPageCacheMiddleware",  # first: a cached page needs nothing below
    "django.middleware.security.SecurityMiddleware",
    "paperfeed.site.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "paperfeed.site.middleware.DatabaseTroubleMiddleware",  # last: it sees the views' exceptions first
]

ROOT_URLCONF = "paperfeed.site.urls"
WSGI_APPLICATION = "paperfeed.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "paperfeed.community.context_processors.votes",
                "paperfeed.community.context_processors.reading",
            ],
        },
    },
]

DATABASES = {"default": config.database(config.env("PAPERFEED_DATABASE_URL"), DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The task queue is a table of the same database: `paperfeed worker` (started by `paperfeed serve`) runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CACHES = config.caches(config.env("PAPERFEED_CACHE_URL"))
PAPERFEED_CACHE_SECONDS = config.env_number("PAPERFEED_CACHE_SECONDS", 60)
PAPERFEED_CACHE_MAX_AGE = int(config.env_number("PAPERFEED_CACHE_MAX_AGE", 0, minimum=0))
PAPERFEED_CACHE_SHARED_MAX_AGE = int(config.env_number("PAPERFEED_CACHE_SHARED_MAX_AGE", 0, minimum=0))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Static files are served by whitenoise straight from the installed package: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

PAPERFEED_LOAD_DEMO = config.env_bool("PAPERFEED_LOAD_DEMO", True)
PAPERFEED_WORKERS = int(config.env_number("PAPERFEED_WORKERS", 2))
PAPERFEED_THREADS = int(config.env_number("PAPERFEED_THREADS", 4))
PAPERFEED_TRENDING_HALF_LIFE_HOURS = config.env_number("PAPERFEED_TRENDING_HALF_LIFE_HOURS", 24)
PAPERFEED_TRENDING_WINDOW_DAYS = config.env_number("PAPERFEED_TRENDING_WINDOW_DAYS", 14)

PAPERFEED_ARXIV_OAI_URL = config.env("PAPERFEED_ARXIV_OAI_URL") or "https://oaipmh.arxiv.org/oai"
PAPERFEED_ARXIV_RSS_URL = config.env("PAPERFEED_ARXIV_RSS_URL") or "https://rss.arxiv.org"
PAPERFEED_ARXIV_API_URL = config.env("PAPERFEED_ARXIV_API_URL") or "https://export.arxiv.org/api/query"
PAPERFEED_HF_API_URL = config.env("PAPERFEED_HF_API_URL") or "https://huggingface.co"
PAPERFEED_BIORXIV_API_URL = config.env("PAPERFEED_BIORXIV_API_URL") or "https://api.biorxiv.org"
PAPERFEED_GITHUB_API_URL = config.env("PAPERFEED_GITHUB_API_URL") or "https://api.github.com"
PAPERFEED_GITHUB_TOKEN = config.env("PAPERFEED_GITHUB_TOKEN")
PAPERFEED_REFRESH_HOURS = config.env_number("PAPERFEED_REFRESH_HOURS", 24)
PAPERFEED_REFRESH_DAYS = config.env_number("PAPERFEED_REFRESH_DAYS", 30)
PAPERFEED_ZOTERO_API_URL = (config.env("PAPERFEED_ZOTERO_API_URL") or "https://api.zotero.org").rstrip("/")
PAPERFEED_ZOTERO_SYNC_MINUTES = config.env_number("PAPERFEED_ZOTERO_SYNC_MINUTES", 30)
PAPERFEED_THUMBNAILS = (config.env("PAPERFEED_THUMBNAILS") or "on").lower()
if PAPERFEED_THUMBNAILS not in ("on", "huggingface", "off"):
    raise SystemExit(f"PAPERFEED_THUMBNAILS={PAPERFEED_THUMBNAILS!r}: use on, huggingface or off")
PAPERFEED_ARXIV_PDF_URL = (config.env("PAPERFEED_ARXIV_PDF_URL") or "https://arxiv.org/pdf").rstrip("/")
PAPERFEED_HF_THUMBNAIL_URL = (
    config.env("PAPERFEED_HF_THUMBNAIL_URL") or "https://cdn-thumbnails.huggingface.co"
).rstrip("/")
PAPERFEED_CONTACT_EMAIL = config.env("PAPERFEED_CONTACT_EMAIL")
PAPERFEED_ARXIV_DELAY_SECONDS = config.env_number("PAPERFEED_ARXIV_DELAY_SECONDS", 3, minimum=0)
PAPERFEED_HTTP_TIMEOUT_SECONDS = config.env_number("PAPERFEED_HTTP_TIMEOUT_SECONDS", 30)
PAPERFEED_HTTP_RETRIES = int(config.env_number("PAPERFEED_HTTP_RETRIES", 4, minimum=0))
PAPERFEED_SUMMARY_URL, PAPERFEED_SUMMARY_MODEL = config.summary_endpoint(
    config.env("PAPERFEED_SUMMARY_URL"), config.env("PAPERFEED_SUMMARY_MODEL")
)
PAPERFEED_SUMMARY_API_KEY = config.env("PAPERFEED_SUMMARY_API_KEY") or ""
PAPERFEED_SUMMARY_PER_DAY = int(config.env_number("PAPERFEED_SUMMARY_PER_DAY", 200, minimum=0))
PAPERFEED_SUMMARY_TIMEOUT_SECONDS = config.env_number("PAPERFEED_SUMMARY_TIMEOUT_SECONDS", 120)

try:
    globals().update(config.email_settings(config.env("PAPERFEED_EMAIL_URL") or "console://"))
except config.EmailUrlError as error:
    raise SystemExit(f"PAPERFEED_EMAIL_URL: {error}") from None
# A message the mail server refused is tried again after this many seconds, then 4 times longer each time.
PAPERFEED_MAIL_RETRY_SECONDS = config.env_number("PAPERFEED_MAIL_RETRY_SECONDS", 60, minimum=1)
DEFAULT_FROM_EMAIL = SERVER_EMAIL = config.env("PAPERFEED_EMAIL_FROM") or "paperfeed <noreply@localhost>"
PAPERFEED_WEBHOOK_TIMEOUT_SECONDS = config.env_number("PAPERFEED_WEBHOOK_TIMEOUT_SECONDS", 10)
PAPERFEED_WEBHOOK_ALLOW_LOOPBACK = config.env_bool("PAPERFEED_WEBHOOK_ALLOW_LOOPBACK", False)
PAPERFEED_TRUSTED_PROXIES = int(config.env_number("PAPERFEED_TRUSTED_PROXIES", 0, minimum=0))
PAPERFEED_SITE_URL = (config.env("PAPERFEED_SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
# HSTS covers this host only: a paperfeed site usually lives on a subdomain of a domain whose other hosts it does
# not control, and preloading the domain is its owner's decision. So `check --deploy` need not ask for them.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
_hsts = config.env("PAPERFEED_HSTS_SECONDS")
globals().update(
    config.https_settings(
        PAPERFEED_SITE_URL,
        PAPERFEED_TRUSTED_PROXIES,
        None if _hsts is None else int(config.env_number("PAPERFEED_HSTS_SECONDS", 0, minimum=0)),
    )
)

LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "daily"
LOGOUT_REDIRECT_URL = "daily"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600  # reset and email-confirmation links last three days
SIGN_IN_LINK_TIMEOUT = 15 * 60  # seconds a one-time sign-in link by email lasts

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
