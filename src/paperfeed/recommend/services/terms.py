"""The site's term index (paperfeed.core.terms): fitted on its papers' words, kept in the data directory.

It is built by the background (`paperfeed serve`'s indexer loop, `paperfeed recommend refit`) when it is missing,
unreadable, or fitted on a corpus that has since grown or shrunk by more than REFIT_CHANGE; never in a web
request. Until it exists, recommendation models have their embedding part only; a new index (another version)
makes every model stale, and the background refits them. Each process keeps the loaded index while its file
stays the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from django.conf import settings

from paperfeed.core import terms as core_terms
from paperfeed.papers.models import Paper
from paperfeed.recommend.models import LibraryItem

log = logging.getLogger(__name__)

FILE_NAME = "terms-tfidf.npz"
REFIT_CHANGE = 0.2  # refit the vocabulary when the site holds 20% more (or fewer) papers than it was fitted on
CHUNK = 900

_lock = threading.Lock()
_loaded: dict[str, tuple[tuple[int, int], core_terms.TermIndex | None]] = {}


def index_path() -> Path:
    return Path(settings.DATA_DIR) / FILE_NAME


def paper_text(title: str, abstract: str) -> str:
    """What the index reads of a paper or a library item: its title and abstract."""
    return f"{title} {abstract}"


def current_index() -> core_terms.TermIndex | None:
    """The site's term index, or None while there is none (or its file is unreadable: the background rebuilds it)."""
    path = index_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    key = str(path)
    with _lock:
        cached = _loaded.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        index = core_terms.load_term_index(path)
    except core_terms.TermIndexError as error:
        log.warning("%s", error)
        index = None
    with _lock:
        _loaded[key] = (stamp, index)
    return index


def current_version() -> str:
    """The version of the site's term index, "" while there is none: what a model's words part must match."""
    index = current_index()
    return index.version if index is not None else ""


def forget() -> None:
    """Drop the loaded index (tests)."""
    with _lock:
        _loaded.clear()


def why_rebuild() -> str | None:
    """Why the index should be (re)built now, in words, or None when it is in step with the site's papers."""
    papers = Paper.objects.visible().count()
    if papers == 0:
        return None
    if not index_path().exists():
        return "there is no term index yet"
    index = current_index()
    if index is None:
        return f"{index_path()} cannot be read"
    if abs(papers - index.papers) > REFIT_CHANGE * index.papers:
        return f"it was fitted on {index.papers:,} papers and the site now has {papers:,}"
    return None


def rebuild(on_progress: Callable[[str], None] | None = None) -> core_terms.TermIndex | None:
    """Fit the index on every visible paper's title and abstract and save it; None when there are no papers."""
    texts: list[str] = []
    last = 0
    visible = Paper.objects.visible()
    while True:
        rows = list(visible.filter(id__gt=last).order_by("id").values_list("id", "title", "abstract")[:5000])
        if not rows:
            break
        texts += [paper_text(title, abstract) for _, title, abstract in rows]
        last = rows[-1][0]
    if not texts:
        return None
    if on_progress:
        on_progress(f"Fitting the term index on {len(texts):,} papers…")
    index = core_terms.fit_term_index(texts)
    index.save(index_path())
    forget()
    return index


def _texts(model, ids: list[int]) -> dict[int, str]:
    """id -> title and abstract of these papers or library items (both have the two fields), CHUNK ids a query."""
    found: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        rows = model.objects.filter(id__in=ids[start : start + CHUNK]).values_list("id", "title", "abstract")
        found.update((pk, paper_text(title, abstract)) for pk, title, abstract in rows)
    return found


def paper_rows(index: core_terms.TermIndex, paper_ids: Sequence[int]):  # -> scipy.sparse.csr_matrix
    """The tf-idf rows of these papers, in this order (a paper not found gets an empty row)."""
    ids = list(paper_ids)
    found = _texts(Paper, ids)
    return index.transform([found.get(pid, "") for pid in ids])


def positive_rows(index: core_terms.TermIndex, positives: Iterable):  # -> scipy.sparse.csr_matrix
    """The tf-idf rows of a user's positives (signals.Positive): a paper's words, or an unmatched library item's."""
    positives = list(positives)
    papers = _texts(Paper, [p.paper_id for p in positives if p.paper_id is not None])
    items = _texts(LibraryItem, [p.library_item_id for p in positives if p.paper_id is None])
    texts = [
        papers.get(p.paper_id, "") if p.paper_id is not None else items.get(p.library_item_id, "") for p in positives
    ]
    return index.transform(texts)
