"""Faults, for real: the mail server down, the database restarted, the data directory's disk full (a worker killed
by SIGKILL is tests/test_worker.py). Each ends in a clear message, retried work, and nothing lost or sent twice."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pgserver
import pytest
from aiosmtpd.controller import Controller
from conftest import SMALL, free_port, site_env, site_rows, start_site
from test_digest_send import Inbox
from test_votes_concurrent import SETUP
from test_worker import RUN, enqueue, tasks, wait_for, worker_site

RESET = "paperfeed.background.mail.send_email"


def test_mail_refused_while_the_server_is_down_is_sent_once_when_it_is_back(tmp_path):
    port = free_port()
    env = {
        **worker_site(tmp_path),
        "PAPERFEED_EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "PAPERFEED_MAIL_RETRY_SECONDS": "1",
    }
    enqueue(
        env,
        "from django.contrib.auth.models import User\n"
        "from paperfeed.community.services import accounts\n"
        "User.objects.create_user('ada', 'ada@example.org', 'x')\n"
        "accounts.send_password_reset('ada@example.org', '127.0.0.1')",
    )
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [*RUN, "worker", "--upkeep", "0"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    inbox = Inbox()
    try:
        wait_for(lambda: [r[0] for r in tasks(env, RESET)][:1] == ["FAILED"], what="the first attempt to fail")
        inbox.controller = Controller(inbox, hostname="127.0.0.1", port=port)
        inbox.controller.start()
        wait_for(lambda: inbox.messages, timeout=60, what="the retried email")
        time.sleep(3)  # time for a second copy, were one coming
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        if inbox.controller:
            inbox.controller.stop()
    assert [m["Subject"] for m in inbox.messages] == ["Reset your paperfeed password"]
    statuses = [r[0] for r in tasks(env, RESET)]
    assert statuses[0] == "FAILED" and statuses[-1] == "SUCCESSFUL" and "READY" not in statuses
    assert "was not sent ([Errno 111] Connection refused); trying again in 1 s" in log.read_text()


def stop(server) -> None:
    pgserver.postgres_server.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


@pytest.mark.both_databases
def test_a_restarted_database_costs_a_clear_503_then_everything_works_again(tmp_path):
    """The site's own PostgreSQL (not the suite's), stopped under a running site and worker, then started again."""
    folder = Path(tempfile.mkdtemp(prefix="paperfeed-restart-"))
    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        server.psql("CREATE DATABASE site;")
        url = server.get_uri("site")
        data = tmp_path / "data"
        data.mkdir()
        outbox = tmp_path / "mail"
        extra = {"PAPERFEED_EMAIL_URL": f"file://{outbox}"}
        env = {**os.environ, **extra, "PAPERFEED_DATA_DIR": str(data), "PAPERFEED_DATABASE_URL": url}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        subprocess.run([*RUN, "migrate", "-v0"], env=env, check=True)
        subprocess.run([sys.executable, "-c", SETUP, str(SMALL), "1"], env=env, check=True, capture_output=True)
        site = start_site(data, "--no-demo", env=extra, database_url=url)
        try:
            assert httpx.get(site.url + "/papers/2606.00001").status_code == 200
            wait_for(
                lambda: site_rows({"PAPERFEED_DATABASE_URL": url}, "SELECT count(*) FROM background_worker") == [(1,)],
                what="the worker to start",
            )
            stop(server)
            for path in ["/papers/2606.00001", "/api/v1/papers/2606.00001", "/api/daily_papers"]:
                down = httpx.get(site.url + path, timeout=30)
                assert down.status_code == 503, (path, down.text[:300])
                assert down.headers["Retry-After"] == "30"
                assert "database is not answering" in down.text
            time.sleep(3)  # the worker looks at the queue every second meanwhile
            server.ensure_postgres_running()  # as pgserver starts it: the same socket, the same URL
            wait_for(lambda: httpx.get(site.url + "/papers/2606.00001").status_code == 200, what="the site back")
            # The worker lived through it: an email asked for now is sent.
            ask = httpx.Client(base_url=site.url, follow_redirects=True)
            token = re.search(r'csrfmiddlewaretoken" value="([^"]+)"', ask.get("/accounts/signin/link").text).group(1)
            ask.post(
                "/accounts/signin/link",
                data={"csrfmiddlewaretoken": token, "email": "voter0@example.org"},
                headers={"Referer": site.url},
            )
            wait_for(lambda: outbox.exists() and any(outbox.iterdir()), timeout=60, what="the email after the restart")
        finally:
            site.stop()
        assert "Traceback" not in site.output()
        assert "the worker tries again in 5 s" in site.output()  # what the worker said, in the site's log
    finally:
        with contextlib.suppress(Exception):
            stop(server)
        server.cleanup()


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs as the data directory, filled on demand (`fill`) and emptied again (`free`)."""
    mount = tmp_path / "data"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"this test mounts a small tmpfs and needs root: {done.stderr.decode()}"

    class Disk:
        path = mount
        filler = mount / "filler"

        def fill(self) -> None:
            with self.filler.open("wb") as f, open("/dev/zero", "rb") as zero:
                try:
                    while True:
                        f.write(zero.read(1 << 16))
                        f.flush()
                except OSError:
                    pass

        def free(self) -> None:
            self.filler.unlink()

    yield Disk()
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_under_the_data_directory_is_a_clear_message_and_loses_nothing(tmp_path, small_disk):
    data = small_disk.path
    env = site_env(data, migrated=True)  # serve, next, migrates first
    site = start_site(data, "--no-demo", "--no-worker")
    try:
        setup = subprocess.run([sys.executable, "-c", SETUP, str(SMALL), "1"], env=env, capture_output=True, text=True)
        assert setup.returncode == 0, setup.stderr
        made = json.loads(setup.stdout.strip().splitlines()[-1])
        member = httpx.Client(base_url=site.url, cookies={made["cookie"]: made["sessions"][0]}, timeout=30)
        token = re.search(r'csrfmiddlewaretoken" value="([^"]+)"', member.get("/submit").text).group(1)
        small_disk.fill()
        # Writing says why it cannot, and nothing half-written is left. (On SQLite even a read may need to grow the
        # write-ahead log's index: then it too gets the 503, never a 500.)
        read = httpx.get(site.url + "/papers/2606.00001")
        assert read.status_code == 200 or (read.status_code == 503 and "disk" in read.text), read.text[:500]
        extra = tmp_path / "more.jsonl"
        extra.write_text(SMALL.read_text().replace("2606.000", "2607.000"))
        load = subprocess.run([*RUN, "load-jsonl", str(extra)], env=env, capture_output=True, text=True)
        voted = member.post("/papers/2606.00001/vote", data={"vote": "1", "csrfmiddlewaretoken": token})
        on_postgres = "PAPERFEED_TEST_POSTGRES" in os.environ
        if on_postgres:
            # The database is elsewhere: only the keyword index's files are on the full disk. Votes and loads go
            # into the database; searches answer from the index as it was, which catches up once there is room.
            assert voted.status_code == 303
            assert load.returncode == 0, load.stderr
            during = httpx.get(site.url + "/api/v1/search", params={"q": "perceptron", "mode": "keyword"})
            assert during.status_code == 200, during.text[:500]
        else:
            assert voted.status_code == 503 and "disk" in voted.text
            assert load.returncode != 0 and "disk" in load.stderr and "run the command again" in load.stderr
            assert load.stderr.count("Traceback") == 0, load.stderr[-2000:]
        small_disk.free()
        if not on_postgres:
            assert site_rows(env, "SELECT count(*) FROM papers_paper WHERE arxiv_id LIKE '2607.%'") == [(0,)]
            assert site_rows(env, "SELECT count(*) FROM papers_vote") == [(0,)]  # the refused vote is not there
        assert (
            member.post("/papers/2606.00002/vote", data={"vote": "1", "csrfmiddlewaretoken": token}).status_code == 303
        )
        again = subprocess.run([*RUN, "load-jsonl", str(extra)], env=env, capture_output=True, text=True)
        assert again.returncode == (1 if on_postgres else 0), again.stderr  # 1: loaded already, nothing changed
        # The nine new-style ids of the file, renumbered (its tenth, hep-th/9901001, was loaded already).
        assert site_rows(env, "SELECT count(*) FROM papers_paper WHERE arxiv_id LIKE '2607.%'") == [(9,)]
        found = httpx.get(site.url + "/api/v1/search", params={"q": "perceptron", "mode": "keyword"}).json()
        assert any(hit["arxiv_id"].startswith("2607.") for hit in found["results"])
    finally:
        site.stop()
    assert "Traceback" not in site.output()
