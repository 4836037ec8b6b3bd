"""Run the suite's two passes at once: on SQLite, and on a PostgreSQL 16 with pgvector (tests/with_postgres.py).

    .venv/bin/python tests/both_passes.py TEST_DATA_DIR [pytest arguments…]

Each pass has its own data directory (TEST_DATA_DIR/sqlite, TEST_DATA_DIR/postgresql) and its own log
(TEST_DATA_DIR/sqlite.log, …/postgresql.log). Tests marked both_databases build both kinds of site themselves:
they run in the PostgreSQL pass only. The two passes spend much of their time waiting (for servers they start, for
Chromium, for PostgreSQL), so on two cores both take about as long as the longer one alone (`make test`: 14 min
instead of 22, docs/benchmarks.md). While they run, a line says how far each has got; at the end each pass's
output is printed whole, and the exit status is 0 only when both passed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PROGRESS_SECONDS = 30  # how often a line says how far each pass has got


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data = Path(sys.argv[1]).resolve()
    extra = sys.argv[2:]
    here = Path(__file__).resolve().parent
    python = sys.executable
    pytest = str(Path(python).parent / "pytest")  # the virtualenv's, as `make test-sqlite` runs it
    passes = {
        "sqlite": [pytest, "-m", "not both_databases", *extra],
        "postgresql": [python, str(here / "with_postgres.py"), pytest, *extra],
    }
    running: dict[str, tuple[subprocess.Popen, Path, float]] = {}
    for name, command in passes.items():
        (data / name).mkdir(parents=True, exist_ok=True)
        log = data / f"{name}.log"
        env = {**os.environ, "PAPERFEED_DATA_DIR": str(data / name)}
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        running[name] = (process, log, time.monotonic())
        print(f"{name} pass started (log: {log})", flush=True)
    results: dict[str, int] = {}
    said = time.monotonic()
    try:
        while len(results) < len(running):
            time.sleep(1)
            states = []
            for name, (process, log, started) in running.items():
                if name not in results and process.poll() is not None:
                    results[name] = process.returncode
                    print(f"{name} pass ended after {time.monotonic() - started:.0f} s: {_summary(log)}", flush=True)
                elif name not in results:
                    states.append(f"{name} {_progress(log)}")
            if states and time.monotonic() - said >= PROGRESS_SECONDS:
                print("running: " + ", ".join(states), flush=True)
                said = time.monotonic()
    except KeyboardInterrupt:
        for process, _, _ in running.values():
            process.terminate()
        raise
    for name, (_, log, _) in running.items():
        print(f"\n===== {name} pass (exit status {results[name]}) =====", flush=True)
        sys.stdout.write(log.read_text(errors="replace"))
    failed = [name for name, status in results.items() if status != 0]
    print(f"\n{'FAILED: ' + ', '.join(failed) if failed else 'both passes passed'}", flush=True)
    return 1 if failed else 0


def _progress(log: Path) -> str:
    """The last percentage pytest printed ("[ 42%]"), or "starting"."""
    text = log.read_text(errors="replace")
    at = text.rfind("%]")
    return text[at - 3 : at + 1].strip() if at >= 3 else "starting"


def _summary(log: Path) -> str:
    """pytest's last line ("2288 passed, 16 deselected in 583.0s"), without its frame of '='."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else "no output"


if __name__ == "__main__":
    sys.exit(main())
