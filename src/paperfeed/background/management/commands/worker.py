"""paperfeed worker: run the task queue (emails, embedding, index upkeep, library imports, model refits)."""

from __future__ import annotations

import signal
import subprocess
import time

from django.core.management.base import BaseCommand, CommandError

from paperfeed.background import workers

RESTART_DELAY = 2.0  # seconds before a worker process that died is started again


class Command(BaseCommand):
    help = (
        "Run background work from the task queue: emails, embedding new papers, index upkeep, library imports and "
        "model refits. Run one or more on any machine that reaches the database; `paperfeed serve` starts one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=1, help="worker processes to run (default 1)")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between looks at an empty queue (default 1)"
        )
        parser.add_argument(
            "--upkeep",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="ask for index upkeep and refits every SECONDS (default 60; 0: only when new papers arrive)",
        )
        parser.add_argument("--batch", action="store_true", help="run what is in the queue now, then stop")

    def handle(self, *args, concurrency: int, interval: float, upkeep: float, batch: bool, **options):
        if concurrency < 1:
            raise CommandError("--concurrency must be at least 1", returncode=2)
        if interval <= 0 or upkeep < 0:
            raise CommandError("--interval must be above 0 and --upkeep at least 0", returncode=2)
        if concurrency == 1:
            worker_id = workers.new_worker_id()
            if options["verbosity"] > 0 and not batch:
                self.stdout.write(f"paperfeed worker {worker_id} is running the task queue (Ctrl-C to stop).")
                self.stdout.flush()
            workers.run(worker_id, interval, upkeep, batch=batch)
            return
        self.supervise(
            concurrency, ["--interval", str(interval), "--upkeep", str(upkeep)] + (["--batch"] if batch else []), batch
        )

    def supervise(self, concurrency: int, extra: list[str], batch: bool) -> None:
        """Run `concurrency` single workers, start again any that dies, stop them all on SIGTERM or Ctrl-C."""
        stopping = []

        def stop(signum, frame) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        children = [workers.start_process(extra) for _ in range(concurrency)]
        self.stdout.write(f"paperfeed: {concurrency} workers are running the task queue (Ctrl-C to stop).")
        self.stdout.flush()
        try:
            while not stopping:
                time.sleep(0.5)
                for i, child in enumerate(children):
                    code = child.poll()
                    if code is None or stopping:
                        continue
                    if batch:
                        continue
                    self.stderr.write(f"A worker process stopped (exit code {code}); starting another.")
                    time.sleep(RESTART_DELAY)
                    children[i] = workers.start_process(extra)
                if batch and all(child.poll() is not None for child in children):
                    return
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    child.kill()
