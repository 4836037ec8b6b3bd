"""Keyword search over the site's papers, and the keyword index kept in step with the database.

The index is derived data in the data directory. The database's change log (papers_searchchange, written by
triggers on every paper, authorship and author change) says what the index must follow: before answering, a
search compares the last change with the one the index applied, applies what is new, and rebuilds the index when
it cannot be trusted (missing, damaged, of another version, or from another database state such as a restored
backup). Only one process writes at a time (a lock file); a search that finds another process writing answers from
the index as last committed, which that writer is bringing up to date.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
from django.conf import settings
from django.db import connection, transaction

from paperfeed.core.search_query import SearchQuery
from paperfeed.papers.models import Author, Authorship, Paper, SearchChange, visible_sql
from paperfeed.papers.retrieval import engine
from paperfeed.papers.retrieval.engine import Document, IndexDamaged, KeywordIndex, Marked, Marker
from paperfeed.papers.retrieval.request import Filters

log = logging.getLogger(__name__)
READ_CHUNK = 2000  # papers read from the database per step of a rebuild
IDS_CHUNK = 500  # ids per IN (...) list
OTHER_STATE = "the keyword index was built from another state of the database"


def index_path() -> Path:
    return Path(settings.DATA_DIR) / "keyword-index"


@dataclass(frozen=True)
class SyncReport:
    action: str  # "none", "applied", "rebuilt" or "failed" (no room on the disk: the index stays behind)
    papers: int  # papers written to the index
    reason: str = ""  # why it was rebuilt


class _Process:
    """This process's handle on the index: opened once, reopened after another process rebuilt it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.index: KeywordIndex | None = None
        self.state: dict | None = None
        self.state_stamp: tuple | None = None

    def get(self) -> KeywordIndex:
        path = index_path()
        if self.index is None or self.index.path != path:
            self.index = KeywordIndex(path)
            self.state, self.state_stamp = None, None
        return self.index


_process = _Process()


def close() -> None:
    """Forget this process's open index (a forked worker opens its own, with its own engine threads)."""
    with _process.lock:
        _process.index, _process.state, _process.state_stamp = None, None, None


# --- what the database says the index should hold ---


def _last_change() -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, stamp FROM {SearchChange._meta.db_table} ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _has_change(change: int, stamp: int) -> bool:
    return SearchChange.objects.filter(id=change, stamp=stamp).exists()


def documents(paper_ids: Sequence[int]) -> list[Document]:
    """The index documents of these papers as stored now; hidden or deleted papers have none."""
    found: list[Document] = []
    table, authorship, author = Paper._meta.db_table, Authorship._meta.db_table, Author._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(paper_ids), IDS_CHUNK):
            chunk = list(paper_ids[start : start + IDS_CHUNK])
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT s.paper_id, a.name FROM {authorship} s JOIN {author} a ON a.id = s.author_id "
                f"WHERE s.paper_id IN ({marks}) ORDER BY s.paper_id, s.position",
                chunk,
            )
            names: dict[int, list[str]] = {}
            for pid, name in cursor.fetchall():
                names.setdefault(pid, []).append(name)
            cursor.execute(
                "SELECT p.id, p.external_id, p.title, p.abstract, p.categories, p.published, p.code_url "
                f"FROM {table} p WHERE p.id IN ({marks}) AND {visible_sql('p')}",
                chunk,
            )
            for pid, external_id, title, abstract, categories, published, code_url in cursor.fetchall():
                authors = names.get(pid, ())
                categories, day = _categories(categories), _day(published)
                found.append(
                    Document(pid, title, abstract or "", authors, categories, day, external_id, bool(code_url))
                )
    return found


def _categories(stored: object) -> list[str]:
    value = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
    return [str(c) for c in value or ()]


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


# --- keeping the index in step ---


@contextmanager
def _writing(block: bool) -> Iterator[bool]:
    """The index's write lock (across processes): yields whether it was taken."""
    path = index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / "keyword-index.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _in_step(state: dict, last: tuple[int, int] | None) -> bool:
    """Whether the index whose state note this is has applied the database's last change."""
    return last == (state["change"], state["stamp"]) or (last is None and state["change"] == 0)


def _can_apply(state: dict, last: tuple[int, int] | None) -> bool:
    """Whether the changes after the index's last one can be applied to it: that change is still in the log."""
    if last is None or state["change"] == 0 or last[0] <= state["change"]:
        return False
    return _has_change(state["change"], state["stamp"])


def problem() -> str | None:
    """Why the index does not reflect the database now (None: it does)."""
    index = _process.get()
    state = index.read_state()
    if state is None:
        if not index.path.exists():
            return f"there is no keyword index at {index.path}"
        return f"the keyword index at {index.path} has no readable state note (damaged, or of another version)"
    last = _last_change()
    if _in_step(state, last):
        return None
    if _can_apply(state, last):
        return f"{last[0] - state['change']:,} changes to papers are not in the keyword index yet"
    return OTHER_STATE


def _disk_refused(error: BaseException) -> bool:
    """Whether the engine could not write its files for want of room (tantivy says so in a ValueError)."""
    text = str(error)
    return isinstance(error, OSError | ValueError) and (
        "StorageFull" in text
        or "No space left" in text
        or "Failed to open file for write" in text
        or "index writer was killed" in text  # its indexing thread hit the I/O error first
    )


def _behind(error: BaseException) -> SyncReport:
    log.error(
        "Keyword index: could not save changes (%s); searches answer from the index as it was, and it catches up "
        "from the database's change log once the disk has room.",
        error,
    )
    return SyncReport("failed", 0, str(error))


def sync(block: bool = True, on_progress: Callable[[int, int], None] | None = None) -> SyncReport | None:
    """Bring the index in step with the database: apply the new changes, or rebuild when it cannot be trusted.

    block=False: give up (None) when another process is writing the index. Callers inside a transaction see its
    uncommitted papers; the change log makes that harmless (a rolled-back change is noticed and rebuilt). A disk
    with no room for the index's files leaves it behind (a "failed" report and a log line), never fails the caller:
    the database holds every change and the log keeps them until the index has applied them.
    """
    with _process.lock, _writing(block) as taken:
        if not taken:
            return None
        try:
            return _sync_locked(_process.get(), on_progress)
        except (OSError, ValueError) as error:
            if not _disk_refused(error):
                raise
            return _behind(error)


def _sync_locked(index: KeywordIndex, on_progress: Callable[[int, int], None] | None = None) -> SyncReport:
    state = index.read_state()
    try:
        if state is not None:
            index.open()
    except IndexDamaged as error:
        log.warning("%s; rebuilding it", error)
        state = None
    last = _last_change()
    if state is None:
        return _rebuild(index, problem() or "the keyword index cannot be read", on_progress)
    if _in_step(state, last):
        return SyncReport("none", 0)
    if _can_apply(state, last):
        return _apply(index, state["change"], last)
    return _rebuild(index, OTHER_STATE, on_progress)


def _changed(after: int, through: int) -> list[int]:
    """The papers changed by the log's entries (after, through]."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT paper_id FROM {SearchChange._meta.db_table} WHERE id > %s AND id <= %s",
            [after, through],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _apply(index: KeywordIndex, after: int, last: tuple[int, int]) -> SyncReport:
    with transaction.atomic():
        changed = _changed(after, last[0])
        docs = documents(changed)
    # Only papers the index holds need deleting first: most changes of a bulk load are new papers.
    held = engine.held(index.searcher(), changed)
    writer = index.writer()
    try:
        engine.replace_documents(writer, held, docs)
        writer.commit()
        writer.wait_merging_threads()  # merges of the small segments each sync adds, before the writer goes
    except BaseException:
        writer.rollback()
        raise
    finally:
        del writer
    index.reload()
    searcher = index.searcher()
    index.write_state(last[0], last[1], searcher.num_docs)
    _prune(last[0])
    return SyncReport("applied", len(docs))


def _rebuild(index: KeywordIndex, reason: str, on_progress: Callable[[int, int], None] | None) -> SyncReport:
    """Every visible paper into a new index, read in one consistent snapshot of the database."""
    started = time.monotonic()
    # A first build is routine; rebuilding an index that was there but cannot be trusted is worth a warning.
    level = logging.WARNING if index.path.exists() else logging.INFO
    log.log(level, "Keyword index: %s; rebuilding it from the database.", reason)
    # Built beside the index in use, which keeps answering searches until the new one replaces it.
    building = KeywordIndex(index.path.with_name(index.path.name + ".building"))
    tantivy_index = building.create()
    threads = max(1, min(2, os.cpu_count() or 1))
    writer = tantivy_index.writer(engine.WRITER_HEAP * threads, threads)
    written = 0
    try:
        with transaction.atomic():
            last = _last_change() or (0, 0)
            total = Paper.objects.count()
            after = 0
            while True:
                ids = list(Paper.objects.filter(id__gt=after).order_by("id").values_list("id", flat=True)[:READ_CHUNK])
                if not ids:
                    break
                docs = documents(ids)
                engine.add_documents(writer, docs)
                written += len(docs)
                after = ids[-1]
                if on_progress:
                    on_progress(min(written, total), total)
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:
        writer.rollback()
        raise
    finally:
        del writer
    building.write_state(last[0], last[1], written)
    del tantivy_index
    building.close()
    index.replace_with(building)
    _prune(last[0])
    log.log(level, "Keyword index rebuilt: %s papers in %.1f s.", f"{written:,}", time.monotonic() - started)
    return SyncReport("rebuilt", written, reason)


def _prune(applied: int) -> None:
    """Forget changes the index has applied (the last one stays: it identifies the state)."""
    try:
        with transaction.atomic():
            SearchChange.objects.filter(id__lt=applied).delete()
    except Exception:  # noqa: BLE001 - pruning is housekeeping; a busy database can have it next time
        log.debug("could not prune the search change log", exc_info=True)


def rebuild(on_progress: Callable[[int, int], None] | None = None) -> SyncReport:
    """Rebuild the index from the database whatever its state (`paperfeed index --rebuild`)."""
    with _process.lock, _writing(True):
        return _rebuild(_process.get(), "a rebuild was asked for", on_progress)


class _Follower:
    """The index following a bulk load batch by batch, with one engine writer held across the batches.

    Each `step` (after a batch commits) hands the batch's changes to the writer and returns; the engine indexes
    them on its own threads while the loader reads and writes the next batch. The writer commits every
    COMMIT_PAPERS papers or COMMIT_SECONDS seconds and at the end, and only a commit moves the state note: a crash
    between commits leaves an index that is behind, never wrong, and the change log (pruned only up to a commit)
    still holds what it must apply next.
    """

    def __init__(self, index: KeywordIndex) -> None:
        self.index = index
        state = index.read_state() or {}
        self.applied = self.committed = (state.get("change", 0), state.get("stamp", 0))
        self.writer = None
        self.pending: set[int] = set()  # papers added since the last commit
        self.since = time.monotonic()
        self.lost = False  # the log no longer continues from what was applied (restored database): rebuild at the end
        self.done = False

    def step(self) -> None:
        if self.done:  # a batch committed after the load ended (an outer transaction): the usual way
            sync(block=True)
            return
        if self.lost:
            return
        with _process.lock, transaction.atomic():
            last = _last_change()
            if last is None or last == self.applied:
                return
            if last[0] <= self.applied[0] or (self.applied[0] and not _has_change(*self.applied)):
                self.lost = True
                return
            changed = _changed(self.applied[0], last[0])
            docs = documents(changed)
        with _process.lock:
            try:
                if self.writer is None:
                    self.writer = self.index.writer(threads=WRITER_THREADS)
                # Deletes reach the committed index and this writer's uncommitted documents alike.
                held = set(engine.held(self.index.searcher(), changed)) | (self.pending & set(changed))
                engine.replace_documents(self.writer, sorted(held), docs)
                self.pending.update(doc.paper_id for doc in docs)
                self.applied = last
                if len(self.pending) >= COMMIT_PAPERS or time.monotonic() - self.since >= COMMIT_SECONDS:
                    self._commit(final=False)
            except (OSError, ValueError) as error:
                if not _disk_refused(error):
                    raise
                _behind(error)
                self._drop_writer()
                self.lost = True  # no more steps; at the end, the usual catching up (which may succeed)

    def _commit(self, final: bool) -> None:
        writer, self.writer = self.writer, (None if final else self.writer)
        if writer is None:
            return
        try:
            writer.commit()
            if final:
                writer.wait_merging_threads()
        except BaseException:
            self.writer = writer
            self._drop_writer()
            raise
        self.index.reload()
        self.index.write_state(self.applied[0], self.applied[1], self.index.searcher().num_docs)
        self.committed = self.applied
        self.pending.clear()
        self.since = time.monotonic()
        _prune(self.applied[0])

    def _drop_writer(self) -> None:
        writer, self.writer = self.writer, None
        self.pending.clear()
        if writer is not None:
            try:
                writer.rollback()
            except (OSError, ValueError):  # a writer the disk killed may not even roll back: let it go
                log.debug("could not roll back the keyword index writer", exc_info=True)

    def finish(self) -> None:
        self.done = True
        with _process.lock:
            self._commit(final=True)
            if self.lost or self.applied != _last_change():
                _sync_locked(self.index)  # what happened after the last step, or a rebuild


WRITER_THREADS = 1  # beside the loader on a 2-core box, one indexing thread finishes sooner than two (measured)
COMMIT_PAPERS = 100_000  # papers a bulk load adds to the index between commits
COMMIT_SECONDS = 30.0  # ... or seconds: how far behind searches elsewhere see the index during a load


@contextmanager
def following() -> Iterator[Callable[[], None]]:
    """For a bulk load: the index's write lock for the whole load, and a `step` to call after each committed batch.

    Searches elsewhere answer from the index as last committed meanwhile. On leaving (also after an error: the
    batches committed so far are in the database), the index is committed and in step with the database.
    """
    with _writing(True):
        with _process.lock:
            index = _process.get()
            try:
                _sync_locked(index)
                refused = False
            except (OSError, ValueError) as error:
                if not _disk_refused(error):
                    raise
                refused = _behind(error)
        if refused:
            yield lambda: None  # the load goes on; the index catches up later, from the change log
            return
        follower = _Follower(index)
        try:
            yield follower.step
        except BaseException:
            try:
                follower.finish()
            except Exception:  # noqa: BLE001 - the load's own error matters more; the next sync catches up
                log.exception("could not bring the keyword index in step after a failed load")
            raise
        try:
            follower.finish()
        except (OSError, ValueError) as error:
            if not _disk_refused(error):
                raise
            _behind(error)


def searcher():
    """A searcher over the index in step with the database (see sync)."""
    index = _process.get()
    if problem_is_likely(index):
        try:
            sync(block=False)
        except (OSError, ValueError):  # the index is derived: answer from it as it is rather than fail the search
            log.exception("Keyword index: could not bring it in step before a search; answering from it as it is")
    try:
        return _current_searcher(index)
    except IndexDamaged:
        sync(block=True)
        return _current_searcher(index)


def problem_is_likely(index: KeywordIndex) -> bool:
    """A cheap check on each search: does the last change in the database match the one the index applied?"""
    state = _state(index)
    return state is None or not _in_step(state, _last_change())


def _state(index: KeywordIndex) -> dict | None:
    try:
        stat = index.state_path.stat()
    except OSError:
        return None
    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if stamp != _process.state_stamp:
        state = index.read_state()
        if state is not None and state.get("generation") != (_process.state or {}).get("generation"):
            index.close()  # rebuilt by someone: the files in the directory are new ones
        _process.state, _process.state_stamp = state, stamp
        if state is not None:
            try:
                index.open()
                index.reload()
            except IndexDamaged:
                _process.state = None
    return _process.state


def _current_searcher(index: KeywordIndex):
    if not index.path.exists():
        raise IndexDamaged(f"there is no keyword index at {index.path}")
    return index.searcher()


# --- searching ---


@dataclass(frozen=True)
class KeywordPage:
    ids: list[int]
    total: int  # how many papers match
    relaxed: bool  # no paper had every word, so these match any of them


def page(query: SearchQuery, filters: Filters, offset: int, limit: int, among=None) -> KeywordPage:
    """Papers [offset, offset + limit) of the keyword ranking (every match ranked by BM25), and how many match."""
    found = searcher()

    def run(match_all: bool) -> KeywordPage:
        ids: list[int] = []
        total = 0
        for tier in engine.tiers(query, match_all, filters, among):
            result = engine.ranked(found, tier, max(limit - len(ids), 0), max(offset - total, 0))
            ids += result.ids
            total += result.total
        return KeywordPage(ids, total, not match_all)

    every_word = run(True)
    if every_word.total == 0 and len(query.positive) > 1:
        return run(False)  # no paper has every word: any of them, and the page says so
    return every_word


def ranking(query: SearchQuery, filters: Filters, limit: int, among=None) -> KeywordPage:
    """The ids of the `limit` best matches, for fusion with other rankings; total counts every match."""
    return page(query, filters, 0, limit, among)


def newest(filters: Filters, offset: int, limit: int, among=None) -> KeywordPage:
    """The most recently published papers passing the filters: a search with no words."""
    result = engine.newest(searcher(), engine.all_papers(filters, among), limit, offset)
    return KeywordPage(result.ids, result.total, False)


def admitted(filters: Filters) -> list[int]:
    """Every paper that passes the filters, newest first."""
    found = searcher()
    query = engine.all_papers(filters)
    return engine.newest(found, query, engine.count(found, query), 0).ids


def passing(paper_ids: Sequence[int], filters: Filters) -> list[int]:
    """These ids, in order, of papers anyone may see that pass the filters (the index holds visible papers only)."""
    if not paper_ids:
        return []
    found = searcher()
    result = engine.ranked(found, engine.all_papers(filters, set(paper_ids)), len(set(paper_ids)), count=False)
    kept = set(result.ids)
    return [pid for pid in paper_ids if pid in kept]


def marks(query: SearchQuery, relaxed: bool, papers: Sequence[tuple[int, str, str]]) -> dict[int, Marked]:
    """(paper id, title, abstract) of a shown page -> the title and snippet with the words marked."""
    if not query or not papers:
        return {}
    marker = Marker(searcher(), query, match_all=not relaxed)
    out = {}
    for pid, title, abstract in papers:
        marked = marker.mark(title, abstract)
        if marked is not None:
            out[pid] = marked
    return out


def passing_query(query: SearchQuery, relaxed: bool, filters: Filters, paper_ids: Sequence[int]) -> list[int]:
    """Those of these ids whose papers match the words (all of them, or any when relaxed) and the filters."""
    if not paper_ids or not query:
        return []
    found = searcher()
    compiled = engine.compile_query(query, not relaxed, True, filters, set(paper_ids))
    if compiled is None:
        return []
    kept = set(engine.ranked(found, compiled, len(set(paper_ids)), count=False).ids)
    return [pid for pid in paper_ids if pid in kept]


def strict(query: SearchQuery, filters: Filters, among: frozenset[int]) -> list[int]:
    """Every paper `among` these that has every word (acronyms match their spelled-out forms too), best first."""
    if not query or not among:
        return []
    found = searcher()
    compiled = engine.compile_query(query, True, True, filters, among)
    if compiled is None:
        return []
    return engine.ranked(found, compiled, engine.count(found, compiled), count=False).ids


def indexed_ids() -> set[int]:
    """Every paper id in the keyword index (for checks: `paperfeed index --check` and the tests)."""
    found = searcher()
    query = engine.all_papers(Filters())
    return set(engine.ranked(found, query, max(engine.count(found, query), 1), count=False).ids)


def verify() -> str | None:
    """Whether the keyword index holds exactly the papers anyone may see, as stored now (None: it does)."""
    in_index = indexed_ids()
    visible = set(Paper.objects.visible().values_list("id", flat=True))
    if in_index == visible:
        return None
    missing, extra = visible - in_index, in_index - visible
    return f"the keyword index lacks {len(missing):,} visible papers and holds {len(extra):,} it should not"
