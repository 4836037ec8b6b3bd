"""`paperfeed serve`, run as a user runs it: first run, second run, and a busy port."""

import os
import subprocess
import sys
import urllib.request

from conftest import site_env, site_rows, start_site


def fetch(url: str) -> tuple[int, dict, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_first_run_migrates_loads_the_demo_and_prints_url_and_data_dir(demo_site):
    out = demo_site.output()
    assert f"Data directory: {demo_site.data_dir}" in out
    assert "First run: loading the demo corpus" in out
    assert "Loaded 5,921 papers and 5,921 precomputed embeddings." in out
    assert f"paperfeed is serving on {demo_site.url}/" in out
    env = site_env(demo_site.data_dir)
    if "PAPERFEED_DATABASE_URL" not in env:
        assert (demo_site.data_dir / "paperfeed.sqlite3").is_file()
    assert site_rows(env, "SELECT count(*) FROM papers_paper") == [(5921,)]


def test_served_by_gunicorn_with_static_files(demo_site):
    status, headers, html = fetch(demo_site.url + "/")
    assert status == 200
    assert headers["Server"] == "gunicorn"
    assert "Wednesday, 1 July 2026" in html  # the demo corpus's latest day
    status, headers, js = fetch(demo_site.url + "/static/vendor/katex/katex.min.js")
    assert status == 200 and "katex" in js


def test_a_second_run_does_not_reload_and_lost_indexes_are_rebuilt_at_start(tmp_path):
    import shutil

    data = tmp_path / "data"
    first = start_site(data)
    first.stop()
    for index_file in data.glob("vectors-*.usearch"):
        index_file.unlink()
    shutil.rmtree(data / "keyword-index")
    second = start_site(data)
    try:
        out = second.output()
        assert "First run" not in out
        if os.environ.get("PAPERFEED_TEST_POSTGRES"):
            assert "Vector index" not in out  # on PostgreSQL the vectors live in the database (pgvector): not lost
        else:
            assert "Vector index: there is no vector index" in out
            assert "Vector index rebuilt: 5,921 papers." in out
        assert "Keyword index: there is no keyword index" in out
        assert "Keyword index rebuilt: 5,921 papers." in out
        assert "paperfeed is serving on" in out
        status, _, html = fetch(second.url + "/search?q=robots+learning+from+demonstrations&mode=semantic")
        assert status == 200 and "Search by meaning is not available" not in html
        status, _, html = fetch(second.url + "/search?q=learning&mode=keyword")
        assert status == 200 and "1,784 results" in html
    finally:
        second.stop()


def test_no_demo_serves_an_empty_site(tmp_path):
    site = start_site(tmp_path / "data", "--no-demo")
    try:
        assert "paperfeed load-jsonl" in fetch(site.url + "/")[2]
    finally:
        site.stop()


def test_a_busy_port_is_a_clear_error(demo_site, tmp_path):
    port = demo_site.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "paperfeed", "serve", "--port", port, "--no-demo"],
        env=site_env(tmp_path, {"PATH": "/usr/bin:/bin"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
