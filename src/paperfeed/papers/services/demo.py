"""The bundled demo corpus, loaded once into an empty database so a new site has something to show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import paperfeed
from paperfeed.papers.models import Paper
from paperfeed.papers.services.loading import LoadSummary, load_jsonl

DEMO_FILE = Path(paperfeed.__file__).parent / "demo" / "papers-demo.jsonl.gz"


def needs_demo() -> bool:
    """True on a first run: the database has no papers at all."""
    return not Paper.objects.exists()


def load_demo(on_progress: Callable[[int, int, int], None] | None = None) -> LoadSummary:
    return load_jsonl(DEMO_FILE, on_progress=on_progress)
