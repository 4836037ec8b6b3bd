"""Served over HTTPS (PAPERFEED_SITE_URL https://…, behind PAPERFEED_TRUSTED_PROXIES reverse proxies): secure
cookies, Strict-Transport-Security, the proxy's X-Forwarded-Proto trusted for links, plain HTTP redirected, and
`paperfeed check --deploy` clean on the documented setup."""

import os
import subprocess
import sys

import pytest
from django.test import override_settings

from paperfeed import config

SITE = "https://papers.example.org"


def test_a_site_served_over_plain_http_changes_nothing():
    assert config.https_settings("http://127.0.0.1:8000", 1, None) == {}


def test_an_https_site_gets_secure_cookies_and_a_year_of_hsts_unless_told_otherwise():
    assert config.https_settings(SITE, 0, None) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
    }
    assert config.https_settings(SITE, 0, 0)["SECURE_HSTS_SECONDS"] == 0  # PAPERFEED_HSTS_SECONDS=0: no header


def test_behind_a_trusted_proxy_its_scheme_header_is_believed_and_plain_http_is_redirected():
    settings = config.https_settings(SITE, 1, None)
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings["SECURE_SSL_REDIRECT"] is True


@pytest.mark.django_db
def test_through_the_proxy_feeds_link_over_https_and_plain_http_is_sent_to_https(client, corpus):
    with override_settings(**config.https_settings(SITE, 1, None)):
        feed = client.get("/feeds/daily.rss", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="testserver")
        assert feed.status_code == 200
        body = feed.content.decode()
        assert "<link>https://testserver/papers/" in body and "http://testserver" not in body
        assert feed.headers["Strict-Transport-Security"] == "max-age=31536000"
        plain = client.get("/feeds/daily.rss", HTTP_X_FORWARDED_PROTO="http", HTTP_HOST="testserver")
        assert plain.status_code == 301 and plain.headers["Location"] == "https://testserver/feeds/daily.rss"
        page = client.get("/accounts/signin", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="testserver")
        assert "secure" in str(page.cookies["csrftoken"]).lower()


def test_check_deploy_is_clean_on_the_documented_setup(tmp_path):
    env = {
        **os.environ,
        "PAPERFEED_DATA_DIR": str(tmp_path),
        "PAPERFEED_SITE_URL": SITE,
        "PAPERFEED_ALLOWED_HOSTS": "papers.example.org",
        "PAPERFEED_TRUSTED_PROXIES": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PAPERFEED_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "paperfeed", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
