"""One site served by several processes: two `paperfeed serve` web nodes and one `paperfeed worker` on one database.

On the PostgreSQL pass the nodes are as on two machines: a data directory each (their own keyword index files), one
database, one secret key. On the SQLite pass they are two web processes on one box sharing its data directory, the
only way SQLite is shared."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from conftest import site_env, site_rows, start_site
from test_votes_concurrent import SETUP, SMALL

RUN = [sys.executable, "-m", "paperfeed"]
MEMBERS = 12
NEW_PAPER = {
    "id": "2607.00777",
    "title": "Tidal resonance locks the spin of hot Jupiters",
    "abstract": "Hot Jupiters orbiting close to their stars are spun down by tides until their rotation "
    "synchronises with the orbit; we show that a resonance with the stellar oscillations holds them there.",
    "authors": ["Vera Rubin"],
    "categories": ["astro-ph.EP"],
    "published": "2026-07-01",
    "updated": "2026-07-01",
    "listing_date": "2026-07-01",
}


def children_of(pid: int) -> list[int]:
    found = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                fields = Path(f"/proc/{stat}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(stat))
    return found


def upvotes_on(url: str, arxiv_id: str) -> int:
    page = httpx.get(f"{url}/papers/{arxiv_id}", timeout=30).text
    return int(re.search(r"▲</span> (\d+)<", page).group(1))


def search(url: str, q: str, mode: str) -> list[str]:
    """The ids the native API finds, in order; only if it answered in the mode asked (not by keyword instead)."""
    answer = httpx.get(f"{url}/api/v1/search", params={"q": q, "mode": mode}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    if body["mode"] != mode or body["meaning_unavailable"]:
        return []
    return [hit["arxiv_id"] for hit in body["results"]]


def eventually(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"not within {seconds:.0f} s: {what}"
            return value
        time.sleep(0.5)


def vote(client: httpx.Client, arxiv_id: str, token: str) -> int:
    return client.post(
        f"/papers/{arxiv_id}/vote", data={"vote": "1", "csrfmiddlewaretoken": token}, follow_redirects=False
    ).status_code


def test_two_web_nodes_and_a_worker_are_one_site(tmp_path):
    on_postgres = bool(os.environ.get("PAPERFEED_TEST_POSTGRES"))
    data_a = tmp_path / "a" / "data"
    data_b = tmp_path / "b" / "data" if on_postgres else data_a
    for folder in {data_a, data_b}:
        folder.mkdir(parents=True)
    database = site_env(data_a, migrated=True).get("PAPERFEED_DATABASE_URL")  # PostgreSQL: one database for both nodes
    shared = {"PAPERFEED_SECRET_KEY": "one-key-for-every-node-of-this-test-site-0123456789"}
    env_a = site_env(data_a, {**os.environ, **shared}, database)
    subprocess.run([*RUN, "migrate", "-v0"], env=env_a, check=True)
    made = subprocess.run(
        [sys.executable, "-c", SETUP, str(SMALL), str(MEMBERS)], env=env_a, check=True, capture_output=True, text=True
    )
    accounts = json.loads(made.stdout.strip().splitlines()[-1])
    node_a = start_site(data_a, "--no-demo", "--no-worker", env=shared, database_url=database)
    node_b = start_site(data_b, "--no-demo", "--no-worker", env=shared, database_url=database)
    worker = subprocess.Popen([*RUN, "worker", "--upkeep", "5"], env=env_a, stdout=subprocess.DEVNULL)
    try:
        # A vote through one node is seen through the other, by anyone, at once.
        cookie = {accounts["cookie"]: accounts["sessions"][0]}
        with httpx.Client(base_url=node_a.url, cookies=cookie, timeout=30) as member:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', member.get("/submit").text).group(1)
            assert upvotes_on(node_b.url, "2606.00003") == 0
            assert vote(member, "2606.00003", token) == 303
        assert upvotes_on(node_b.url, "2606.00003") == 1
        with httpx.Client(base_url=node_b.url, cookies=cookie, timeout=30) as same_member_elsewhere:
            assert "voter0" in same_member_elsewhere.get("/").text  # one session for the whole site

        # A paper ingested through one node is found through the other, by keyword and by meaning, within 60 s.
        new = tmp_path / "new.jsonl"
        new.write_text(json.dumps(NEW_PAPER) + "\n")
        subprocess.run([*RUN, "load-jsonl", str(new)], env=env_a, check=True, capture_output=True)
        eventually(lambda: NEW_PAPER["id"] in search(node_b.url, "tidal resonance", "keyword"), 60, "keyword")
        eventually(
            lambda: (
                NEW_PAPER["id"]
                in search(node_b.url, "tides synchronise the rotation of giant exoplanets", "semantic")[:3]
            ),
            60,
            "found by meaning through the other node",
        )

        # A web node killed with SIGKILL in the middle of a load of votes loses none it acknowledged.
        acknowledged: list[tuple[int, str]] = []
        papers = [f"2606.{n:05d}" for n in range(1, 11)]
        started = threading.Event()

        def member_votes(n: int) -> None:
            with httpx.Client(
                base_url=node_b.url, cookies={accounts["cookie"]: accounts["sessions"][n]}, timeout=10
            ) as client:
                try:
                    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/submit").text).group(
                        1
                    )
                    for arxiv_id in papers:
                        started.set()
                        if vote(client, arxiv_id, token) == 303:
                            acknowledged.append((n, arxiv_id))
                except (httpx.HTTPError, AttributeError):
                    return  # the node died under us: the rest of this member's votes were never acknowledged

        voters = [threading.Thread(target=member_votes, args=(n,)) for n in range(1, MEMBERS)]
        for voter in voters:
            voter.start()
        started.wait(30)
        time.sleep(0.3)
        web_workers = children_of(node_b.process.pid)
        node_b.process.send_signal(signal.SIGKILL)
        for voter in voters:
            voter.join(60)
        assert acknowledged, "the node died before it acknowledged any vote: nothing was tested"
        rows = site_rows(
            env_a,
            "SELECT substr(u.username, 6), p.arxiv_id FROM papers_vote v JOIN auth_user u ON u.id = v.user_id "
            "JOIN papers_paper p ON p.id = v.paper_id",
        )
        stored = {(int(name), arxiv_id) for name, arxiv_id in rows}
        assert set(acknowledged) <= stored, f"lost: {sorted(set(acknowledged) - stored)}"
        assert len(rows) == len(stored)  # one vote per member and paper
        # The node that is left still serves, with every vote counted.
        assert upvotes_on(node_a.url, "2606.00003") == len([1 for _, p in stored if p == "2606.00003"])
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        for site in (node_a, node_b):
            site.stop()
        for pid in locals().get("web_workers", []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert "Traceback" not in node_a.output()
