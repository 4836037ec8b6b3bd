"""Settings from the environment: the secret key, the email URL, and no secret in the repository."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from paperfeed import config

ROOT = Path(__file__).resolve().parent.parent


def test_the_secret_key_comes_from_the_environment_or_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERFEED_SECRET_KEY", "from-the-environment")
    assert config.secret_key(tmp_path) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    monkeypatch.delenv("PAPERFEED_SECRET_KEY")
    first = config.secret_key(tmp_path)
    assert len(first) >= 50 and config.secret_key(tmp_path) == first  # generated once, then kept
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    other = tmp_path / "other"
    other.mkdir()
    assert config.secret_key(other) != first


def test_no_secret_is_committed():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode == 0:
        files = [ROOT / name for name in listed.stdout.splitlines()]
    else:  # an unpacked copy: what would be committed is the source tree
        files = [f for top in ("src", "tests", "bench", "docs") for f in (ROOT / top).rglob("*") if f.is_file()]
    assert not [f for f in files if f.name in {"secret_key", ".env"} or f.suffix in {".pem", ".key"}]
    pattern = re.compile(
        r"(SECRET_KEY\s*=\s*['\"][^'\"]{8,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|EMAIL_HOST_PASSWORD\s*=\s*['\"][^'\"])"
    )
    found = []
    for path in files:
        if (
            path.suffix in {".py", ".toml", ".md", ".txt", ".cfg", ".ini", ".env", ".yml", ".yaml", ""}
            and path.is_file()
        ):
            text = path.read_text(errors="ignore")
            found += [f"{path.relative_to(ROOT)}: {m.group(0)[:40]}" for m in pattern.finditer(text)]
    assert found == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://ada:p%40ss@mail.example.org:587?tls=1",
            {
                "EMAIL_HOST": "mail.example.org",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "ada",
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        ("smtps://ada:x@mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
        ("smtp://127.0.0.1:2525", {"EMAIL_PORT": 2525, "EMAIL_HOST_USER": "", "EMAIL_USE_TLS": False}),
        ("file:///var/mail/paperfeed", {"EMAIL_FILE_PATH": "/var/mail/paperfeed"}),
    ],
)
def test_one_url_sets_the_email_backend(url, expected):
    found = config.email_settings(url)
    assert {key: found.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("imap://mail.example.org", "the scheme must be smtp, smtps, console or file"),
        ("smtp://", "names no host"),
        ("smtp://mail.example.org:port", "port that is not a number"),
        ("file://", "names no directory"),
    ],
)
def test_a_bad_email_url_says_what_is_wrong(url, message):
    with pytest.raises(config.EmailUrlError, match=message):
        config.email_settings(url)


def test_a_bad_email_url_stops_start_up_with_its_name(tmp_path):
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path), "PAPERFEED_EMAIL_URL": "imap://x"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run([sys.executable, "-m", "paperfeed", "check"], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "PAPERFEED_EMAIL_URL" in run.stderr and "Traceback" not in run.stderr


# --- PAPERFEED_CACHE_URL ---


@pytest.mark.parametrize(
    ("url", "backend", "location", "max_entries"),
    [
        (None, "db.DatabaseCache", config.CACHE_TABLE, config.CACHE_MAX_ENTRIES),
        ("db://", "db.DatabaseCache", config.CACHE_TABLE, config.CACHE_MAX_ENTRIES),
        ("db://?max_entries=20000", "db.DatabaseCache", config.CACHE_TABLE, 20000),
        ("locmem://", "locmem.LocMemCache", "paperfeed", 1000),
        ("file:///var/cache/paperfeed?max_entries=50", "filebased.FileBasedCache", "/var/cache/paperfeed", 50),
        ("dummy://", "dummy.DummyCache", None, None),
    ],
)
def test_one_url_picks_the_cache(url, backend, location, max_entries):
    found = config.caches(url)["default"]
    assert found["BACKEND"] == f"django.core.cache.backends.{backend}"
    assert found.get("LOCATION") == location
    assert found.get("OPTIONS", {}).get("MAX_ENTRIES") == max_entries


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memcached://cache:11211", "unknown scheme memcached://"),
        ("cache.example.org:6379", "unknown scheme"),
        ("db://elsewhere", "names a place"),
        ("locmem://?max_entries=lots", "not a whole number above 0"),
        ("db://?timeout=5", "unknown parameter 'timeout'"),
        ("dummy://?max_entries=5", "takes no parameters"),
        ("file://relative/dir", "names no directory"),
        ("file:///", "names no directory"),
        ("redis://", "names no host"),
        ("redis://cache:port/0", "port that is not a number"),
        ("redis://cache:6379/zero", "not a number"),
        ("redis://[::1/0", "cannot be read"),
    ],
)
def test_a_bad_cache_url_says_what_is_wrong_and_the_forms_it_takes(url, message):
    with pytest.raises(SystemExit) as stopped:
        config.caches(url)
    text = str(stopped.value)
    assert text.startswith("PAPERFEED_CACHE_URL=") and message in text
    assert "db://" in text and "redis://host:6379/0" in text and "dummy://" in text


def test_redis_without_its_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # as where the optional package is not installed
    with pytest.raises(SystemExit, match=r"needs the redis package.*pip install redis"):
        config.caches("redis://cache.example.org:6379/0")


def test_a_bad_cache_url_stops_start_up_with_its_name(tmp_path):
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path), "PAPERFEED_CACHE_URL": "memcache://x"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run([sys.executable, "-m", "paperfeed", "check"], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "PAPERFEED_CACHE_URL='memcache://x' has the unknown scheme memcache://" in run.stderr
