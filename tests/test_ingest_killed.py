"""A harvest process killed (SIGKILL) between pages resumes where it stopped, with nothing written twice or half."""

import signal
import subprocess
import sys
import time

from conftest import site_env, site_rows
from replay import ReplayServer, Reply
from test_ingest import three_pages, token


def run(data_dir, server, *args, wait=True):
    env = {
        **site_env(data_dir),
        "PAPERFEED_ARXIV_OAI_URL": server.url + "/oai",
        "PAPERFEED_ARXIV_DELAY_SECONDS": "0.01",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "ingest", "arxiv-oai", *args],
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


def test_a_killed_harvest_resumes_at_the_next_page(tmp_path):
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "paperfeed", "migrate", "-v0"],
        env=site_env(data),
        check=True,
    )
    db = data
    first, second, third = three_pages()
    server = ReplayServer().start()
    try:
        # Page 2 answers only after a minute: the process is killed while it waits for it.
        server.route("/oai", first, Reply(second.body, delay=60))
        process = run(data, server, "--from", "2026-07-10", "--until", "2026-07-11", wait=False)
        deadline = time.monotonic() + 60
        while len(server.requests_to("/oai")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server.requests_to("/oai")) == 2, "the harvest never asked for page 2"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert count(db, "SELECT count(*) FROM papers_paper") == 2  # page 1, whole
        assert token(2) in count(db, "SELECT CAST(state AS TEXT) FROM papers_harveststate")

        server.route("/oai", second, third)
        status, out, err = run(data, server)
        assert status == 0, err
        assert "Resumed an interrupted harvest" in out
        assert server.requests_to("/oai")[-2].query == {
            "verb": ["ListRecords"],
            "resumptionToken": [token(2)],
        }
        assert count(db, "SELECT count(*) FROM papers_paper") == 5
        assert count(db, "SELECT count(*) FROM papers_searchchange") >= 1  # the keyword index follows these
        assert count(db, "SELECT count(DISTINCT paper_id || '-' || position) FROM papers_authorship") == count(
            db, "SELECT count(*) FROM papers_authorship"
        )
    finally:
        server.stop()
