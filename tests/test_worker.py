"""The task queue and `paperfeed worker`: real worker processes on the site's own database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import site_env, site_rows, start_site
from django.core.management import CommandError, call_command
from django.utils import timezone

TESTS = Path(__file__).parent
RUN = [sys.executable, "-m", "paperfeed"]


def worker_site(tmp_path: Path) -> dict[str, str]:
    """A migrated site of its own whose processes can import this folder's test tasks."""
    env = site_env(tmp_path / "data", migrated=True)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    (tmp_path / "data").mkdir()
    subprocess.run([*RUN, "migrate", "-v0"], env=env, check=True)
    return env


def enqueue(env: dict[str, str], code: str) -> None:
    subprocess.run([*RUN, "shell", "-c", code], env=env, check=True)


def wait_for(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what or condition}")


def tasks(env, name: str = "queue_tasks.slow_once") -> list[tuple]:
    """(status, worker ids, return value) of the queue's tasks of this name, oldest first, JSON decoded."""
    rows = site_rows(
        env,
        "SELECT status, worker_ids, return_value FROM django_tasks_database_dbtaskresult "
        f"WHERE task_path = '{name}' ORDER BY enqueued_at",
    )
    if "PAPERFEED_DATABASE_URL" in env:  # PostgreSQL's jsonb comes decoded
        return rows
    return [(status, json.loads(ids), json.loads(value) if value else None) for status, ids, value in rows]


def test_a_task_of_a_worker_killed_mid_task_is_run_again_by_the_next_worker(tmp_path):
    env = worker_site(tmp_path)
    marks = tmp_path / "marks"
    marks.mkdir()
    enqueue(env, f"import queue_tasks; queue_tasks.slow_once.enqueue({str(marks)!r}, 600)")
    first = subprocess.Popen([*RUN, "worker"], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: (marks / "attempt-1").exists(), what="the first attempt to start")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    [(status, _, _)] = tasks(env)
    assert status == "RUNNING"  # what the dead worker left behind
    second = subprocess.Popen([*RUN, "worker"], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: tasks(env)[0][0] == "SUCCESSFUL", what="the task to be run again")
    finally:
        second.terminate()
        assert second.wait(timeout=30) == 0
    [(status, worker_ids, value)] = tasks(env)
    assert sorted(p.name for p in marks.iterdir()) == ["attempt-1", "attempt-2"]
    assert len(worker_ids) == 2
    assert value == "done on attempt 2"
    assert site_rows(env, "SELECT count(*) FROM background_worker") == [(0,)]  # a clean stop unregisters


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_another_machine_that_stopped_beating_loses_its_tasks_to_the_queue(settings):
    from django_tasks_db.models import DBTaskResult

    from paperfeed.background import workers
    from paperfeed.background.models import Worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from queue_tasks import slow_once

    now = timezone.now()
    for name, seen in [("gone", now - timedelta(seconds=workers.STALE_SECONDS + 5)), ("alive", now)]:
        Worker.objects.create(worker_id=name, hostname="elsewhere", pid=1, started_at=now, seen_at=seen)
        result = slow_once.enqueue("/nonexistent", 0)
        DBTaskResult.objects.filter(id=result.id).update(status="RUNNING", worker_ids=[name])
    assert workers.recover_abandoned() == 1
    by_worker = {r.worker_ids[0]: r.status for r in DBTaskResult.objects.all()}
    assert by_worker == {"gone": "READY", "alive": "RUNNING"}
    assert list(Worker.objects.values_list("worker_id", flat=True)) == ["alive"]


def test_concurrency_runs_several_workers_and_sigterm_stops_them_all(tmp_path):
    env = worker_site(tmp_path)
    marks = [tmp_path / f"m{i}" for i in range(3)]
    for folder in marks:
        folder.mkdir()
    enqueue(env, "import queue_tasks\n" + "".join(f"queue_tasks.slow_once.enqueue({str(m)!r}, 3)\n" for m in marks))
    pool = subprocess.Popen([*RUN, "worker", "--concurrency", "3"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        # All three tasks run at once, each in its own process.
        wait_for(lambda: all((m / "attempt-1").exists() for m in marks), what="three tasks running at once")
        pids = {(m / "attempt-1").read_text() for m in marks}
        assert len(pids) == 3
        assert site_rows(env, "SELECT count(*) FROM background_worker") == [(3,)]
    finally:
        pool.send_signal(signal.SIGTERM)
        out, _ = pool.communicate(timeout=60)
    assert pool.returncode == 0
    assert "3 workers are running the task queue" in out
    # A task in hand when SIGTERM came was finished, not abandoned.
    assert {row[0] for row in tasks(env)} == {"SUCCESSFUL"}


def test_the_worker_embeds_papers_that_arrive_and_stops_cleanly(tmp_path, small_file):
    """An ingest asks for upkeep; the worker embeds the new papers for search by meaning."""
    env = worker_site(tmp_path)
    loaded = subprocess.run([*RUN, "load-jsonl", str(small_file)], env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    upkeep = "paperfeed.background.upkeep.upkeep"
    assert [r[0] for r in tasks(env, upkeep)] == ["READY"]  # the upkeep the load asked for
    worker = subprocess.Popen([*RUN, "worker"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        wait_for(
            lambda: site_rows(env, "SELECT count(*) FROM papers_paperembedding") == [(10,)],
            timeout=120,
            what="the ten papers to be embedded",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0
    assert "is running the task queue" in out
    [(status, _, value)] = tasks(env, upkeep)
    assert status == "SUCCESSFUL" and "embedded 10 papers" in value


def test_serve_starts_one_worker_that_sends_the_emails(tmp_path):
    """`paperfeed serve` alone is the single-box site: a sign-in link asked for on a page reaches the mail."""
    import urllib.parse
    import urllib.request

    outbox = tmp_path / "mail"
    data = tmp_path / "data"
    site = start_site(data, "--no-demo", env={"PAPERFEED_EMAIL_URL": f"file://{outbox}"})
    try:
        env = site_env(data)
        wait_for(lambda: site_rows(env, "SELECT count(*) FROM background_worker") == [(1,)], what="a worker")
        enqueue(env, "from django.contrib.auth.models import User; User.objects.create_user('ada', 'ada@example.org')")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = opener.open(site.url + "/accounts/signin/link").read().decode()
        token = form.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": "ada@example.org"}).encode()
        opener.open(urllib.request.Request(site.url + "/accounts/signin/link", body, headers={"Referer": site.url}))
        # Django's file backend makes the file, then writes the message: wait for the text, not for the file.
        wait_for(lambda: outbox.exists() and any(f.read_text() for f in outbox.iterdir()), what="the email to be sent")
        assert "Your paperfeed sign-in link" in next(outbox.iterdir()).read_text()
    finally:
        site.stop()


def test_worker_options_are_checked(db):
    with pytest.raises(CommandError, match="--concurrency must be at least 1"):
        call_command("worker", "--concurrency", "0")
    with pytest.raises(CommandError, match="--interval must be above 0"):
        call_command("worker", "--interval", "0")
