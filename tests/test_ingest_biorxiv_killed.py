"""A bioRxiv harvest killed (SIGKILL) while it waits for a page resumes at that page, with nothing written twice
or half."""

import signal
import subprocess
import sys
import time

from conftest import site_env, site_rows
from replay import ReplayServer, Reply
from test_ingest_biorxiv import api_page, path


def run(data_dir, server, *args, wait=True):
    env = {**site_env(data_dir, migrated=True), "PAPERFEED_BIORXIV_API_URL": server.url}
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "ingest", "biorxiv", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        out, err = process.communicate(timeout=120)
        return process.returncode, out, err
    return process


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
        process = run(data, server, "--from", "2026-07-01", "--until", "2026-07-02", wait=False)
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
        status, out, err = run(data, server)
        assert status == 0, err
        assert "Resumed an interrupted harvest." in out and "2 page(s)" in out
        assert [r.path for r in server.requests[2:]] == [path("biorxiv", 2), path("biorxiv", 4)]
        assert count(data, "SELECT count(*) FROM papers_paper WHERE source = 'biorxiv'") == 3
        assert count(data, "SELECT count(*) FROM papers_dailyentry WHERE source = 'biorxiv'") == 3
    finally:
        server.stop()
