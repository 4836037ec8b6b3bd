import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.jsonl"


@pytest.fixture
def small_file(tmp_path) -> Path:
    """A copy of the 10-paper test corpus that a test may change."""
    target = tmp_path / "small.jsonl"
    shutil.copy(SMALL, target)
    return target


@pytest.fixture
def corpus(db):
    """The 10-paper test corpus, loaded into the test database."""
    from paperfeed.papers.services.loading import load_jsonl

    return load_jsonl(SMALL)


# --- a real paperfeed server, started the way a user starts it ---

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServedSite:
    url: str
    data_dir: Path
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_site(data_dir: Path, *args: str, timeout: float = 120) -> ServedSite:
    """`paperfeed serve` in a subprocess on a free port, once it answers HTTP."""
    port = free_port()
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = data_dir.parent / f"serve-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "serve", "--port", str(port), *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    site = ServedSite(f"http://127.0.0.1:{port}", data_dir, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"paperfeed serve exited with {process.returncode}:\n{site.output()}")
        try:
            with urllib.request.urlopen(site.url + "/", timeout=5) as response:
                if response.status == 200:
                    return site
        except OSError:
            time.sleep(0.3)
    site.stop()
    raise RuntimeError(f"paperfeed serve did not answer within {timeout}s:\n{site.output()}")


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """The site as `make serve` starts it on a fresh machine: empty data directory, demo corpus loaded."""
    site = start_site(tmp_path_factory.mktemp("serve") / "data")
    yield site
    site.stop()
