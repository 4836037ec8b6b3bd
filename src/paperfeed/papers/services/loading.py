"""Loading paper records into the database: upsert by arXiv id, one transaction per batch.

Written with a few set-based SQL statements per batch rather than the ORM's per-object saves, because a full
corpus has ~75 k papers and ~430 k authorships (see docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from django.db import connection, transaction

from paperfeed.core.records import LineReader, PaperRecord, RecordError, parse_jsonl_line
from paperfeed.papers.models import Author, Authorship, DailyEntry, Paper
from paperfeed.papers.services.search import SearchDocument, get_backend

CHUNK = 500  # ids per IN (...) list, well under every database's parameter limit

PAPER = Paper._meta.db_table
AUTHOR = Author._meta.db_table
AUTHORSHIP = Authorship._meta.db_table
DAILY = DailyEntry._meta.db_table
PAPER_COLUMNS = (
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "categories",
    "primary_category",
    "published",
    "updated",
    "comment",
)


class BadLine(Exception):
    """A line that stopped the load; str() is `FILE:LINE: what is wrong`."""

    def __init__(self, path: Path, line: int, message: str, summary: LoadSummary) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message
        self.summary = summary  # what earlier, committed batches loaded


@dataclass
class LoadSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # ids seen again later in the same file; the later line wins
    daily_entries: int = 0  # daily-list entries added
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), with --skip-bad
    committed_through: int = 0  # last line of the last committed batch

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated or self.daily_entries)

    @property
    def papers(self) -> int:
        return self.new + self.updated + self.unchanged


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def _row(record: PaperRecord) -> tuple:
    """The record as stored in the paper table's PAPER_COLUMNS."""
    return (
        record.arxiv_id,
        record.version,
        record.title,
        record.abstract,
        orjson.dumps(list(record.categories)).decode(),
        record.primary_category,
        record.published.isoformat() if record.published else None,
        record.updated.isoformat() if record.updated else None,
        record.comment or "",
    )


def _iso(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass(frozen=True)
class _Stored:
    pk: int
    row: tuple
    authors: tuple[str, ...]


def _merge(stored: _Stored, record: PaperRecord) -> tuple | None:
    """The row to write for a record of a paper already stored, or None when it brings nothing new.

    A record of an older version than the stored one is stale and ignored; the earliest known publication
    date and the latest update date are kept.
    """
    old = stored.row
    new = _row(record)
    if old[1] is not None and new[1] is not None and new[1] < old[1]:
        return None
    published = min(d for d in (old[6], new[6]) if d) if (old[6] or new[6]) else None
    updated = max(d for d in (old[7], new[7]) if d) if (old[7] or new[7]) else None
    if updated and published and updated <= published:
        updated = None
    version = new[1] if new[1] is not None else old[1]
    merged = (new[0], version, *new[2:6], published, updated, new[8])
    same = merged[:4] == old[:4] and merged[5:] == old[5:] and orjson.loads(old[4]) == list(record.categories)
    return None if same and stored.authors == record.authors else merged


class PaperLoader:
    """Upserts batches of records; keeps a name → id cache of authors across batches."""

    def __init__(self, source: str = DailyEntry.Source.ARXIV) -> None:
        self.source = source
        self.search = get_backend()
        self._author_ids: dict[str, int] = {}
        self._seen: set[str] = set()

    def write(self, records: Sequence[PaperRecord], summary: LoadSummary) -> None:
        """Upsert one batch in one transaction: all of it is written, or none of it."""
        latest: dict[str, PaperRecord] = {}
        for record in records:
            if record.arxiv_id in self._seen:
                summary.duplicates += 1
            self._seen.add(record.arxiv_id)
            latest[record.arxiv_id] = record
        new_authors: dict[str, int] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            stored = self._stored(cursor, list(latest))
            inserts = [r for aid, r in latest.items() if aid not in stored]
            updates: list[tuple[int, tuple, PaperRecord]] = []
            for aid, record in latest.items():
                if aid in stored:
                    merged = _merge(stored[aid], record)
                    if merged is None:
                        summary.unchanged += 1
                    else:
                        updates.append((stored[aid].pk, merged, record))
            pks = self._insert_papers(cursor, inserts)
            self._update_papers(cursor, updates)
            written = [(pks[r.arxiv_id], r) for r in inserts] + [(pk, r) for pk, _, r in updates]
            self._write_authorships(cursor, written, new_authors)
            self.search.index([SearchDocument(pk, r.title, r.abstract, r.authors) for pk, r in written])
            all_pks = {aid: s.pk for aid, s in stored.items()} | pks
            summary.daily_entries += self._add_daily_entries(cursor, latest.values(), all_pks)
        # Only once the batch is committed may its new authors join the cache.
        self._author_ids.update(new_authors)
        summary.new += len(inserts)
        summary.updated += len(updates)

    def _stored(self, cursor, arxiv_ids: list[str]) -> dict[str, _Stored]:
        rows: dict[str, tuple] = {}
        for chunk in _chunks(arxiv_ids):
            cursor.execute(
                f"SELECT id, {', '.join(PAPER_COLUMNS)} FROM {PAPER} "
                f"WHERE arxiv_id IN ({_placeholders(len(chunk))})",
                chunk,
            )
            for pk, *row in cursor.fetchall():
                # Drivers differ in how dates come back (date objects or text): compare them as ISO text.
                row[6], row[7] = _iso(row[6]), _iso(row[7])
                rows[row[0]] = (pk, tuple(row))
        authors: dict[int, list[str]] = {pk: [] for pk, _ in rows.values()}
        for chunk in _chunks(list(authors)):
            cursor.execute(
                f"SELECT s.paper_id, a.name FROM {AUTHORSHIP} s JOIN {AUTHOR} a ON a.id = s.author_id "
                f"WHERE s.paper_id IN ({_placeholders(len(chunk))}) ORDER BY s.paper_id, s.position",
                chunk,
            )
            for pk, name in cursor.fetchall():
                authors[pk].append(name)
        return {aid: _Stored(pk, row, tuple(authors[pk])) for aid, (pk, row) in rows.items()}

    def _insert_papers(self, cursor, records: list[PaperRecord]) -> dict[str, int]:
        if not records:
            return {}
        cursor.executemany(
            f"INSERT INTO {PAPER} ({', '.join(PAPER_COLUMNS)}) VALUES ({_placeholders(len(PAPER_COLUMNS))})",
            [_row(r) for r in records],
        )
        pks: dict[str, int] = {}
        for chunk in _chunks([r.arxiv_id for r in records]):
            cursor.execute(
                f"SELECT arxiv_id, id FROM {PAPER} WHERE arxiv_id IN ({_placeholders(len(chunk))})", chunk
            )
            pks.update(cursor.fetchall())
        return pks

    def _update_papers(self, cursor, updates: list[tuple[int, tuple, PaperRecord]]) -> None:
        if not updates:
            return
        assignments = ", ".join(f"{column} = %s" for column in PAPER_COLUMNS[1:])
        cursor.executemany(
            f"UPDATE {PAPER} SET {assignments} WHERE id = %s", [(*row[1:], pk) for pk, row, _ in updates]
        )
        pks = [pk for pk, _, _ in updates]
        for chunk in _chunks(pks):
            cursor.execute(f"DELETE FROM {AUTHORSHIP} WHERE paper_id IN ({_placeholders(len(chunk))})", chunk)
        self.search.remove(pks)

    def _write_authorships(self, cursor, written: list[tuple[int, PaperRecord]], new_authors: dict) -> None:
        names = {name for _, record in written for name in record.authors}
        ids = self._resolve_authors(cursor, names, new_authors)
        cursor.executemany(
            f"INSERT INTO {AUTHORSHIP} (paper_id, author_id, position) VALUES (%s, %s, %s)",
            [(pk, ids[name], i) for pk, record in written for i, name in enumerate(record.authors)],
        )

    def _resolve_authors(self, cursor, names: set[str], new_authors: dict[str, int]) -> dict[str, int]:
        ids = {name: self._author_ids[name] for name in names if name in self._author_ids}
        missing = [name for name in names if name not in ids]
        for attempt in range(2):
            for chunk in _chunks(missing):
                cursor.execute(
                    f"SELECT name, id FROM {AUTHOR} WHERE name IN ({_placeholders(len(chunk))})", chunk
                )
                found = dict(cursor.fetchall())
                ids.update(found)
                new_authors.update(found)
            missing = [name for name in missing if name not in ids]
            if not missing or attempt:
                break
            cursor.executemany(
                f"INSERT INTO {AUTHOR} (name) VALUES (%s) ON CONFLICT DO NOTHING", [(n,) for n in missing]
            )
        return ids

    def _add_daily_entries(self, cursor, records: Iterable[PaperRecord], pks: dict[str, int]) -> int:
        rows = [
            (pks[r.arxiv_id], r.listed_on.isoformat(), self.source)
            for r in records
            if r.listed_on is not None
        ]
        if not rows:
            return 0
        cursor.executemany(
            f"INSERT INTO {DAILY} (paper_id, day, source, created_at) VALUES (%s, %s, %s, CURRENT_TIMESTAMP) "
            "ON CONFLICT DO NOTHING",
            rows,
        )
        return cursor.rowcount  # ignored conflicts count 0


def load_jsonl(
    path: Path,
    *,
    batch_size: int = 2000,
    skip_bad: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> LoadSummary:
    """Load a papers.jsonl(.gz) file. A bad line raises BadLine before its batch is written, unless skip_bad.

    on_progress(bytes_read, bytes_total, papers_so_far) is called after each committed batch.
    """
    summary = LoadSummary()
    loader = PaperLoader()
    batch: list[PaperRecord] = []
    with LineReader(path) as reader:
        try:
            for lineno, line in reader:
                try:
                    batch.append(parse_jsonl_line(line))
                except RecordError as error:
                    if not skip_bad:
                        raise BadLine(path, lineno, str(error), summary) from None
                    summary.skipped.append((lineno, str(error)))
                    continue
                if len(batch) >= batch_size:
                    loader.write(batch, summary)
                    summary.committed_through = lineno
                    batch = []
                    if on_progress:
                        on_progress(reader.position, reader.size, summary.papers + summary.duplicates)
        except RecordError as error:  # the file itself is damaged: nothing more can be read
            if not skip_bad:
                raise BadLine(path, reader.lineno, str(error), summary) from None
            summary.skipped.append((reader.lineno, str(error)))
        if batch:
            loader.write(batch, summary)
            summary.committed_through = reader.lineno
        if on_progress:
            on_progress(reader.size, reader.size, summary.papers + summary.duplicates)
    return summary
