"""paperfeed serve: migrate, load the demo corpus on first run, then serve with gunicorn, with one task-queue worker."""

from __future__ import annotations

import socket

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

from paperfeed.background import workers as task_workers
from paperfeed.core.embedder import (
    MODEL_NAME,
    TOKENIZER_FIX,
    TOKENIZER_PATH,
    ModelError,
    default_model_path,
    verify_model_file,
)
from paperfeed.papers.retrieval import close_indexes, keyword_problem, sync_keyword_index, vectors
from paperfeed.papers.services import demo
from paperfeed.papers.services.progress import count_progress, file_progress

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class PaperfeedServer(BaseApplication):
    """gunicorn, configured from arguments instead of a config file or its own command line."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from paperfeed.wsgi import application

        return application


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CommandError(
                f"cannot listen on {host}:{port} ({error.strerror}). "
                "Is paperfeed already running? Stop it, or pick another port with --port."
            ) from None


class Command(BaseCommand):
    help = "Serve paperfeed with gunicorn (migrating first, and loading the demo corpus into an empty database)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.PAPERFEED_WORKERS,
            help="web processes (PAPERFEED_WORKERS)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.PAPERFEED_THREADS,
            help="threads per web process (PAPERFEED_THREADS)",
        )
        parser.add_argument("--no-demo", action="store_true", help="never load the demo corpus")
        parser.add_argument(
            "--no-worker",
            "--no-indexer",  # its name before the task queue
            dest="no_worker",
            action="store_true",
            help="start no task-queue worker (run `paperfeed worker` yourself, here or on another machine)",
        )

    def handle(
        self, *args, host: str, port: int, workers: int, threads: int, no_demo: bool, no_worker: bool, **options
    ):
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a port number (1–65535)")
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if threads < 1:
            raise CommandError("--threads must be at least 1")
        _check_port_free(host, port)
        self.stdout.write(f"Data directory: {settings.DATA_DIR}")
        call_command("migrate", interactive=False, verbosity=0)
        if settings.PAPERFEED_LOAD_DEMO and not no_demo and demo.needs_demo():
            self.stdout.write("First run: loading the demo corpus (5,921 arXiv papers, 21 days)…")
            update, close = file_progress("Demo corpus")
            summary = demo.load_demo(on_progress=update)
            close()
            embedded = demo.load_demo_embeddings()
            self.stdout.write(f"Loaded {summary.new:,} papers and {embedded:,} precomputed embeddings.")
        self.check_search_by_meaning()
        # Worker processes must not inherit this process's database connection or search engine handles.
        connections.close_all()
        close_indexes()
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(self.style.SUCCESS(f"paperfeed is serving on http://{shown_host}:{port}/"))
        self.stdout.write("Press Ctrl-C to stop.")
        if host not in LOOPBACK and settings.ALLOWED_HOSTS == ["127.0.0.1", "localhost", "[::1]"]:
            self.stderr.write(
                "Note: set PAPERFEED_ALLOWED_HOSTS to the names visitors use to reach this machine; "
                "other host names are refused."
            )
        self.stdout.flush()
        # One worker for the single-box case: emails, embedding new papers, index upkeep, refits (paperfeed worker).
        worker = None if no_worker else task_workers.start_process([], nice=10)
        try:
            PaperfeedServer(
                {
                    "bind": f"{shown_host}:{port}",
                    "workers": workers,
                    "worker_class": "gthread",
                    "threads": threads,
                    "timeout": 60,
                    "graceful_timeout": 10,
                    "errorlog": "-",
                    "loglevel": "warning",
                    "proc_name": "paperfeed",
                }
            ).run()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)

    def check_keyword_index(self) -> None:
        """Bring the keyword index in step (rebuilt, with a message, when missing, damaged or out of step)."""
        reason = keyword_problem()
        if reason is None:
            return
        self.stdout.write(f"Keyword index: {reason}; bringing it up to date…")
        update, close = count_progress("Keyword index")
        report = sync_keyword_index(update)
        close()
        if report.action == "rebuilt":
            self.stdout.write(f"Keyword index rebuilt: {report.papers:,} papers.")
        else:
            self.stdout.write(f"Keyword index up to date ({report.papers:,} papers changed).")

    def check_search_by_meaning(self) -> None:
        """Stop on a missing or corrupt model; rebuild a vector index that is missing or out of step; say what to
        install when the database cannot hold one (PostgreSQL without pgvector)."""
        try:
            verify_model_file(default_model_path())
            if not TOKENIZER_PATH.is_file():
                raise ModelError(f"the tokenizer file {TOKENIZER_PATH} is missing; {TOKENIZER_FIX}")
        except ModelError as error:
            raise CommandError(f"cannot start: {error}", returncode=2) from None
        self.check_keyword_index()
        if unavailable := vectors.prepare():  # PostgreSQL without pgvector: the site serves, by keyword
            self.stderr.write(unavailable)
            return
        reason = vectors.problem(MODEL_NAME)
        if reason and vectors.database_state(MODEL_NAME).count:
            self.stdout.write(f"Vector index: {reason}; rebuilding it from the stored embeddings…")
            state = vectors.rebuild(MODEL_NAME)
            self.stdout.write(f"Vector index rebuilt: {state.count:,} papers.")
