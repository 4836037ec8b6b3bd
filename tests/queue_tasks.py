"""Tasks that only the worker tests enqueue (the worker imports them: the tests put this folder on PYTHONPATH)."""

import os
import time
from pathlib import Path

from paperfeed.background.queue import task


@task()
def slow_once(folder: str, seconds: float) -> str:
    """Leaves one file per attempt in `folder`; the first attempt takes `seconds`, later ones none."""
    attempts = len(list(Path(folder).glob("attempt-*"))) + 1
    (Path(folder) / f"attempt-{attempts}").write_text(str(os.getpid()))
    if attempts == 1:
        time.sleep(seconds)
    return f"done on attempt {attempts}"
