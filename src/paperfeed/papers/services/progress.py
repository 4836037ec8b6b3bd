"""Progress bars for long commands (tqdm), shown on a terminal and kept quiet in logs and cron mail."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm


def file_progress(description: str, stream=None) -> tuple[Callable[[int, int, int], None], Callable[[], None]]:
    """An on_progress(done_bytes, total_bytes, papers) callback drawing a bar, and a function closing it."""
    stream = stream or sys.stderr
    bar = tqdm(
        desc=description,
        total=None,
        unit="B",
        unit_scale=True,
        file=stream,
        disable=None,  # on a terminal only
        dynamic_ncols=True,
    )

    def update(done: int, total: int, papers: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.set_postfix_str(f"{papers:,} papers", refresh=False)
        bar.refresh()

    return update, bar.close


def count_progress(
    description: str, stream=None, unit: str = " papers"
) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """An on_progress(done, total) callback drawing a bar of papers (or other units), and a function closing it."""
    stream = stream or sys.stderr
    bar = tqdm(desc=description, total=None, unit=unit, file=stream, disable=None, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close
