"""`paperfeed worker`: processes that run the task queue, each with a heartbeat in the database.

A worker claims a task by marking its row running under the worker's id (django_tasks_db). If the worker dies
mid-task — SIGKILL, out of memory, the machine lost — the row stays "running". Every live worker looks now and then
for running tasks whose worker has stopped beating (or, on the same machine, whose process is gone) and hands them
back to the queue, where another worker runs them again. So a task is done at least once.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker as QueueWorker
from django_tasks_db.models import DBTaskResult

from paperfeed.background import refresh, upkeep
from paperfeed.background.models import Worker
from paperfeed.background.queue import TaskResultStatus

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0  # a worker not seen for this long is dead
OUTAGE_WAIT = 5.0  # seconds between tries while the database does not answer
HOSTNAME = socket.gethostname()[:255]


def new_worker_id() -> str:
    return f"{HOSTNAME[:40]}-{os.getpid()}-{get_random_string(8)}"[:64]


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def dead_worker_ids(now=None) -> set[str]:
    """Workers that stopped beating, or whose process on this machine is gone."""
    now = now or timezone.now()
    dead = set()
    for worker in Worker.objects.all():
        stale = worker.seen_at < now - timedelta(seconds=STALE_SECONDS)
        if stale or (worker.hostname == HOSTNAME and _process_gone(worker.pid)):
            dead.add(worker.worker_id)
    return dead


def recover_abandoned(own: str | None = None) -> int:
    """Put back in the queue the running tasks of workers that died (and those of worker `own`, which is running
    none: a database outage cut its task short); how many."""
    known = set(Worker.objects.values_list("worker_id", flat=True))
    dead = dead_worker_ids()
    if own:
        known.discard(own)
    recovered = 0
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("id", "worker_ids", "task_path"):
        last = result.worker_ids[-1] if result.worker_ids else None
        if last is not None and last in known and last not in dead:
            continue
        with transaction.atomic():
            recovered += DBTaskResult.objects.filter(id=result.id, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None
            )
        log.warning(
            "task %s (%s) was running on worker %s, which died: back in the queue", result.id, result.task_path, last
        )
    if dead:
        Worker.objects.filter(worker_id__in=dead).delete()
    return recovered


def register(worker_id: str) -> None:
    """Say this worker is alive now (its row is made if missing)."""
    now = timezone.now()
    updated = Worker.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        Worker.objects.get_or_create(
            worker_id=worker_id,
            defaults={"hostname": HOSTNAME, "pid": os.getpid(), "started_at": now, "seen_at": now},
        )


class Heartbeat(threading.Thread):
    """Beats for its worker every HEARTBEAT_SECONDS, recovers dead workers' tasks and asks for upkeep (and the
    refreshes of background.refresh) now and then."""

    def __init__(self, worker_id: str, upkeep_seconds: float) -> None:
        super().__init__(name="paperfeed-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.upkeep_seconds = upkeep_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        next_upkeep = 0.0
        elapsed = 0.0
        try:
            while not self.stopping.is_set():
                try:
                    close_old_connections()
                    register(self.worker_id)  # again, if others took it for dead during an outage
                    recover_abandoned()
                    if self.upkeep_seconds and elapsed >= next_upkeep:
                        upkeep.request()
                        refresh.request()  # GitHub stars, Hugging Face artifacts
                        next_upkeep = elapsed + self.upkeep_seconds
                except (OperationalError, InterfaceError) as error:  # a locked SQLite file, a restarting server
                    log.warning("worker heartbeat: %s", error)
                self.stopping.wait(HEARTBEAT_SECONDS)
                elapsed += HEARTBEAT_SECONDS
        finally:
            connection.close()


def run(worker_id: str, interval: float, upkeep_seconds: float, batch: bool = False) -> None:
    """Run the queue in this process until SIGTERM/SIGINT (or, with batch, until it is empty)."""
    register(worker_id)
    recover_abandoned()
    heartbeat = Heartbeat(worker_id, 0 if batch else upkeep_seconds)
    heartbeat.start()
    queue = QueueWorker(
        queue_names=["*"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=not batch,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    queue.configure_signals()
    try:
        cut_short = False
        while queue.running:
            try:
                if cut_short:
                    recover_abandoned(own=worker_id)
                queue.run()
                return
            except (OperationalError, InterfaceError) as error:  # the database restarting, or out of reach
                log.error("the database is not answering (%s); the worker tries again in %.0f s", error, OUTAGE_WAIT)
                connections.close_all()
                cut_short = True
                time.sleep(OUTAGE_WAIT)
    finally:
        heartbeat.stopping.set()
        heartbeat.join(timeout=HEARTBEAT_SECONDS + 5)
        with contextlib.suppress(OperationalError, InterfaceError):  # a stale row is cleaned up by the others
            Worker.objects.filter(worker_id=worker_id).delete()


def _die_with_parent() -> None:
    """Linux: a child gets SIGTERM when its parent dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_process(extra: list[str], nice: int = 0) -> subprocess.Popen:
    """`paperfeed worker` as a child process that dies with its parent (at a lower priority by `nice`)."""

    def prepare() -> None:
        _die_with_parent()
        if nice:
            with contextlib.suppress(OSError):
                os.nice(nice)

    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "worker", *extra],
        preexec_fn=prepare if sys.platform == "linux" else None,  # noqa: PLW1509 - no threads yet
    )
