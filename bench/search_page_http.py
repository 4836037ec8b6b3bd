"""Benchmark: the whole search page over HTTP, as a visitor's browser asks for it.

    .venv/bin/python bench/search_page_http.py --data-dir /work/pfdata/full [--repeat 3] [--workers 1]

Starts `paperfeed serve --no-demo --no-worker` (gunicorn, the production server `make serve` runs) on a free
loopback port against an existing data directory (for hybrid: with every paper embedded and the vector index
built, as `paperfeed index` leaves it), waits for it, then asks `GET /search?q=…&mode=…` for the 22 queries of
bench/load_and_search.py in keyword and hybrid mode over one keep-alive connection (the standard library's
http.client, whose own time is small): one warm-up, then --repeat timed requests each. Reported per mode: p50 / p95
over the queries of each query's fastest request (the issue's "min of 3 per query"), and p50 of every request. The
time is the client's, from the request sent to the last byte of the page read, so it includes the search, the
rendering, marking words, the server's HTTP handling and the loopback.

Every answer must be a 200 whose page names the query's result count; anything else stops the run.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from load_and_search import QUERIES, percentile  # noqa: E402

MODES = ("keyword", "hybrid")
RESULTS = re.compile(r"([\d,]+) results?")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [str(ROOT / ".venv/bin/paperfeed"), "serve", "--no-demo", "--no-worker", "--port", str(port)]
    command += ["--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 300) -> HTTPConnection:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped: {server.stderr.read().decode()[-2000:]}")
        client = HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            client.request("GET", "/")
            response = client.getresponse()
            response.read()
            if response.status == 200:
                return client
        except OSError:
            pass
        client.close()
        time.sleep(0.5)
    sys.exit("the server did not answer in time")


def timed(client: HTTPConnection, query: str, mode: str) -> tuple[float, str]:
    """One request over the kept-alive connection (the standard library's client: little time of its own)."""
    start = time.perf_counter()
    client.request("GET", "/search?" + urlencode({"q": query, "mode": mode}))
    response = client.getresponse()
    body = response.read().decode()  # to the last byte
    elapsed = (time.perf_counter() - start) * 1000
    if response.status != 200:
        sys.exit(f"{query!r} ({mode}) answered {response.status}")
    found = RESULTS.search(body)
    if not found:
        sys.exit(f"{query!r} ({mode}): the page names no result count")
    return elapsed, found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="an existing site's data directory")
    parser.add_argument("--repeat", type=int, default=3, help="timed requests per query and mode (default 3)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1: one request at a time)")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    args = parser.parse_args()
    port = free_port()
    server = start_server(args.data_dir, port, args.workers)
    try:
        client = wait_ready(port, server)
        print(f"## The search page over HTTP: run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
        print(
            f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            f"Load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}. Site: `{args.data_dir}`, "
            f"`paperfeed serve --workers {args.workers}` (gunicorn), one keep-alive client on 127.0.0.1.\n"
        )
        print("| mode | queries | p50 of per-query min, ms | p95 of per-query min, ms | p50 of all requests, ms |")
        print("|---|---:|---:|---:|---:|")
        details = []
        for mode in args.modes:
            fastest, every = [], []
            for query in QUERIES:
                timed(client, query, mode)  # warm-up
                times = []
                for _ in range(args.repeat):
                    elapsed, count = timed(client, query, mode)
                    times.append(elapsed)
                fastest.append(min(times))
                every += times
                details.append((mode, query, min(times), statistics.median(times), count))
            print(
                f"| {mode} | {len(QUERIES)} | **{percentile(fastest, 50):.1f}** | {percentile(fastest, 95):.1f} | "
                f"{percentile(every, 50):.1f} |",
                flush=True,
            )
        print(f"\nLoad average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}.\n")
        print("<details><summary>Per query</summary>\n")
        print("| mode | query | min ms | median ms | results |\n|---|---|---:|---:|---:|")
        for mode, query, low, mid, count in details:
            print(f"| {mode} | `{query}` | {low:.1f} | {mid:.1f} | {count} |")
        print("\n</details>")
        client.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
