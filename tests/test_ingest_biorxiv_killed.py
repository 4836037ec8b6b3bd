"""A bioRxiv harvest killed (SIGKILL) while it waits for a page resumes at that page, with nothing written twice
or half."""

import signal
import subprocess
import sys
import time

from conftest import site_env, site_rows
from replay import ReplayServer, Reply
from sites import paperfeed
from test_ingest_biorxiv import api_page, path


def env_for(data_dir, server):
    return {**site_env(data_dir, migrated=True), "PAPERFEED_BIORXIV_API_URL": server.url}


def count(data_dir, sql):
    return site_rows(site_env(data_dir), sql)[0][0]


def test_a_killed_harvest_resumes_at_the_page_it_waited_for(tmp_path):
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "paperfeed", "migrate", "-v0"], env=site_env(data, migrated=True), check=True)
    server = ReplayServer().start()
    try:
        # The page at cursor 2 answers only after a minute: the process is killed while it waits for it.
        server.route(path("biorxiv", 0), api_page("biorxiv", 0))
        server.route(path("biorxiv", 2), Reply(api_page("biorxiv", 2).body, delay=60))
        process = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "ingest", "biorxiv", "--from", "2026-07-01", "--until", "2026-07-02"],
            env=env_for(data, server),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r.path for r in server.requests] == [path("biorxiv", 0), path("biorxiv", 2)]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert count(data, "SELECT count(*) FROM papers_paper WHERE source = 'biorxiv'") == 2  # page 1, whole
        assert '"cursor": 2' in count(data, "SELECT CAST(state AS TEXT) FROM papers_harveststate")

        server.route(path("biorxiv", 2), api_page("biorxiv", 2))
        server.route(path("biorxiv", 4), api_page("biorxiv", 4))
        done = paperfeed(env_for(data, server), "ingest", "biorxiv")
        assert done.returncode == 0, done.stderr
        assert "Resumed an interrupted harvest." in done.stdout and "2 page(s)" in done.stdout
        assert [r.path for r in server.requests[2:]] == [path("biorxiv", 2), path("biorxiv", 4)]
        assert count(data, "SELECT count(*) FROM papers_paper WHERE source = 'biorxiv'") == 3
        assert count(data, "SELECT count(*) FROM papers_dailyentry WHERE source = 'biorxiv'") == 3
    finally:
        server.stop()
