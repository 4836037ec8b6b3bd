"""Loading paper records into the database: upsert by source and id there, one transaction per batch.

The keyword index follows through the database's change log (see paperfeed.papers.retrieval.keyword): each
committed batch is handed to it, and a file load keeps one index writer for all its batches, so that indexing
runs on the engine's threads while the next batch is read and written.

Written with a few set-based SQL statements per batch rather than the ORM's per-object saves, because a full
corpus has ~75 k papers and ~430 k authorships (see docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from django.db import connection, transaction

from paperfeed.core.addresses import DEFAULT_SOURCE, paper_address
from paperfeed.core.links import links_in
from paperfeed.core.records import LineReader, PaperRecord, RecordError, parse_jsonl_line
from paperfeed.core.sources.registry import SourceFile
from paperfeed.papers.models import Author, Authorship, DailyEntry, LinkOrigin, Paper
from paperfeed.papers.retrieval import following_bulk_load, keep_in_step

CHUNK = 500  # ids per IN (...) list, well under every database's parameter limit

PAPER = Paper._meta.db_table
AUTHOR = Author._meta.db_table
AUTHORSHIP = Authorship._meta.db_table
DAILY = DailyEntry._meta.db_table
PAPER_COLUMNS = (
    "source",
    "external_id",
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "categories",
    "primary_category",
    "published",
    "updated",
    "comment",
    "doi",
    "journal_ref",
)
# Where each column sits in a row tuple.
SOURCE, EXTERNAL, ARXIV, VERSION, TITLE, ABSTRACT, CATEGORIES, PRIMARY, PUBLISHED, UPDATED, COMMENT, DOI, JOURNAL = (
    range(13)
)
IDENTITY = 2  # the columns before this one say which paper a row is: never updated


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

    def describe(self) -> str:
        """One line for people: what the load changed."""
        if not self.changed:
            text = f"Nothing changed: all {self.papers:,} papers were already up to date."
        else:
            text = (
                f"{self.papers:,} papers: {self.new:,} new, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged; {self.daily_entries:,} daily-list entries added."
            )
        if self.duplicates:
            text += f" {self.duplicates:,} ids appeared more than once (the later line was kept)."
        return text


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _by_source(identities: Iterable[tuple[str, str]]) -> Iterable[tuple[str, Sequence[str]]]:
    """(source, a chunk of its ids) for these (source, id) pairs."""
    ids: dict[str, list[str]] = {}
    for source, external_id in identities:
        ids.setdefault(source, []).append(external_id)
    for source, external_ids in ids.items():
        for chunk in _chunks(external_ids):
            yield source, chunk


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def _insert_rows(cursor, insert: str, rows: Sequence[tuple], *, row: str = "", tail: str = "") -> int:
    """`insert` (up to VALUES) of all the rows, many to a statement; how many rows it wrote (`tail` may skip some).

    Not one statement per row (executemany): on PostgreSQL each statement fires the tables' statement-level
    triggers (the search and page-cache change logs), which then cost more than the rows themselves."""
    if not rows:
        return 0
    row = row or f"({_placeholders(len(rows[0]))})"
    written = 0
    for chunk in _chunks(rows, max(1, CHUNK // len(rows[0]))):
        cursor.execute(f"{insert} VALUES {', '.join([row] * len(chunk))} {tail}", [v for r in chunk for v in r])
        written += cursor.rowcount
    return written


def _row(record: PaperRecord) -> tuple:
    """The record as stored in the paper table's PAPER_COLUMNS."""
    source, external_id = record.identity
    return (
        source,
        external_id,
        record.arxiv_id or None,
        record.version,
        record.title,
        record.abstract,
        orjson.dumps(list(record.categories)).decode(),
        record.primary_category,
        record.published.isoformat() if record.published else None,
        record.updated.isoformat() if record.updated else None,
        record.comment or "",
        record.doi or "",
        record.journal_ref or "",
    )


def _iso(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass(frozen=True)
class Written:
    """What one batch did: the paper pk of each record's address (an arXiv paper's: its arXiv id), and the
    addresses of the papers it left unchanged."""

    pks: dict[str, int]
    unchanged: set[str]


@dataclass(frozen=True)
class _Stored:
    pk: int
    row: tuple
    authors: tuple[str, ...]


@dataclass(frozen=True)
class _Update:
    pk: int
    row: tuple
    authors: tuple[str, ...]


def _merge(stored: _Stored, record: PaperRecord) -> _Update | None:
    """What to write for a record of a paper already stored, or None when it brings nothing new.

    Sources know different things (Hugging Face gives no categories, the arXiv API no listing day), so a
    record fills in what it knows and never erases what another source said: empty fields keep the stored
    value. A record of an older version than the stored one is stale and ignored. The earliest known
    publication date and the latest update date are kept.
    """
    old, new = stored.row, list(_row(record))
    if old[VERSION] is not None and new[VERSION] is not None and new[VERSION] < old[VERSION]:
        return None
    if new[VERSION] is None:
        new[VERSION] = old[VERSION]
    for column in (ARXIV, ABSTRACT, COMMENT, DOI, JOURNAL, PRIMARY):
        if not new[column]:
            new[column] = old[column]
    if not record.categories:
        new[CATEGORIES] = old[CATEGORIES]
    dates = [d for d in (old[PUBLISHED], new[PUBLISHED]) if d]
    new[PUBLISHED] = min(dates) if dates else None
    dates = [d for d in (old[UPDATED], new[UPDATED]) if d]
    new[UPDATED] = max(dates) if dates else None
    if new[UPDATED] and new[PUBLISHED] and new[UPDATED] <= new[PUBLISHED]:
        new[UPDATED] = None
    authors = record.authors or stored.authors
    same_categories = orjson.loads(new[CATEGORIES]) == orjson.loads(old[CATEGORIES])
    rest = [c for c in range(len(new)) if c != CATEGORIES]
    if same_categories and all(new[c] == old[c] for c in rest) and authors == stored.authors:
        return None
    return _Update(stored.pk, tuple(new), authors)


class PaperLoader:
    """Upserts batches of records; keeps a name → id cache of authors across batches."""

    def __init__(self, source: str = DailyEntry.Source.ARXIV, keep_up: Callable[[], None] | None = None) -> None:
        self.source = source
        self.keep_up = keep_up  # from following_bulk_load(); without it each batch is applied on its own
        self._author_ids: dict[str, int] = {}
        self._seen: set[str] = set()

    def write(self, records: Sequence[PaperRecord], summary: LoadSummary) -> Written:
        """Upsert one batch in one transaction (all of it or nothing)."""
        latest: dict[str, PaperRecord] = {}
        for record in records:
            if record.address in self._seen:
                summary.duplicates += 1
            self._seen.add(record.address)
            latest[record.address] = record
        new_authors: dict[str, int] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            stored = self._stored(cursor, [r.identity for r in latest.values()])
            inserts = [r for aid, r in latest.items() if aid not in stored]
            updates: list[_Update] = []
            unchanged: set[str] = set()
            for aid, record in latest.items():
                if aid in stored:
                    update = _merge(stored[aid], record)
                    if update is None:
                        unchanged.add(aid)
                    else:
                        updates.append(update)
            pks = self._insert_papers(cursor, inserts)
            self._update_papers(cursor, updates)
            # (pk, title, abstract, authors) of every paper written, as stored now.
            written = [(pks[r.address], r.title, r.abstract, r.authors) for r in inserts] + [
                (u.pk, u.row[TITLE], u.row[ABSTRACT], u.authors) for u in updates
            ]
            self._write_authorships(cursor, [(pk, authors) for pk, _, _, authors in written], new_authors)
            texts = [(pks[r.address], r.abstract, r.comment or "") for r in inserts]
            self._write_links(cursor, texts + [(u.pk, u.row[ABSTRACT], u.row[COMMENT]) for u in updates])
            all_pks = {aid: s.pk for aid, s in stored.items()} | pks
            summary.daily_entries += self._add_daily_entries(cursor, latest.values(), all_pks)
            if written:
                self._keep_index_in_step()
        # Only once the batch is committed may its new authors join the cache.
        self._author_ids.update(new_authors)
        summary.new += len(inserts)
        summary.updated += len(updates)
        summary.unchanged += len(unchanged)
        return Written(all_pks, unchanged)

    def delete(self, external_ids: Sequence[str], source: str = DEFAULT_SOURCE) -> int:
        """Remove papers that their source withdrew (OAI-PMH deleted records), with their search entries."""
        if not external_ids:
            return 0
        with transaction.atomic():
            withdrawn = Paper.objects.filter(source=source, external_id__in=list(external_ids))
            deleted = withdrawn.delete()[1].get(Paper._meta.label, 0)
            self._keep_index_in_step()
            return deleted

    def _keep_index_in_step(self) -> None:
        """Once the transaction commits, the keyword index follows what it changed."""
        if self.keep_up is not None:
            transaction.on_commit(self.keep_up)
        else:
            keep_in_step(wait=True)

    def _stored(self, cursor, identities: list[tuple[str, str]]) -> dict[str, _Stored]:
        """The stored papers of these (source, id) pairs, by address."""
        rows: dict[str, tuple] = {}
        for source, chunk in _by_source(identities):
            cursor.execute(
                f"SELECT id, {', '.join(PAPER_COLUMNS)} FROM {PAPER} "
                f"WHERE source = %s AND external_id IN ({_placeholders(len(chunk))})",
                [source, *chunk],
            )
            for pk, *row in cursor.fetchall():
                # Drivers differ in how dates come back (date objects or text): compare them as ISO text.
                row[PUBLISHED], row[UPDATED] = _iso(row[PUBLISHED]), _iso(row[UPDATED])
                rows[paper_address(row[SOURCE], row[EXTERNAL])] = (pk, tuple(row))
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
        _insert_rows(cursor, f"INSERT INTO {PAPER} ({', '.join(PAPER_COLUMNS)})", [_row(r) for r in records])
        pks: dict[str, int] = {}
        for source, chunk in _by_source([r.identity for r in records]):
            cursor.execute(
                f"SELECT external_id, id FROM {PAPER} WHERE source = %s AND external_id IN "
                f"({_placeholders(len(chunk))})",
                [source, *chunk],
            )
            pks.update((paper_address(source, external_id), pk) for external_id, pk in cursor.fetchall())
        return pks

    def _update_papers(self, cursor, updates: list[_Update]) -> None:
        if not updates:
            return
        assignments = ", ".join(f"{column} = %s" for column in PAPER_COLUMNS[IDENTITY:])
        cursor.executemany(
            f"UPDATE {PAPER} SET {assignments} WHERE id = %s", [(*u.row[IDENTITY:], u.pk) for u in updates]
        )
        pks = [u.pk for u in updates]
        for chunk in _chunks(pks):
            cursor.execute(f"DELETE FROM {AUTHORSHIP} WHERE paper_id IN ({_placeholders(len(chunk))})", chunk)

    def _write_links(self, cursor, texts: list[tuple[int, str, str]]) -> None:
        """The code and project links the papers' abstracts and comments name (core.links), where the paper has
        none yet or had one from its text before: never over a link from Hugging Face or a member's choice."""
        found = [(pk, links_in(abstract, comment)) for pk, abstract, comment in texts]
        for column, origin, index in (("code_url", "code_origin", 0), ("project_url", "project_origin", 1)):
            cursor.executemany(
                f"UPDATE {PAPER} SET {column} = %s, {origin} = '{LinkOrigin.TEXT}' WHERE id = %s AND "
                f"(({origin} IS NULL AND {column} = '') OR {origin} = '{LinkOrigin.TEXT}')",
                [(links[index], pk) for pk, links in found if links[index]],
            )

    def _write_authorships(self, cursor, written: list[tuple[int, tuple[str, ...]]], new_authors: dict) -> None:
        names = {name for _, authors in written for name in authors}
        ids = self._resolve_authors(cursor, names, new_authors)
        _insert_rows(
            cursor,
            f"INSERT INTO {AUTHORSHIP} (paper_id, author_id, position)",
            [(pk, ids[name], i) for pk, authors in written for i, name in enumerate(authors)],
        )

    def _resolve_authors(self, cursor, names: set[str], new_authors: dict[str, int]) -> dict[str, int]:
        ids = {name: self._author_ids[name] for name in names if name in self._author_ids}
        missing = [name for name in names if name not in ids]
        for attempt in range(2):
            for chunk in _chunks(missing):
                cursor.execute(f"SELECT name, id FROM {AUTHOR} WHERE name IN ({_placeholders(len(chunk))})", chunk)
                found = dict(cursor.fetchall())
                ids.update(found)
                new_authors.update(found)
            missing = [name for name in missing if name not in ids]
            if not missing or attempt:
                break
            _insert_rows(cursor, f"INSERT INTO {AUTHOR} (name)", [(n,) for n in missing], tail="ON CONFLICT DO NOTHING")
        return ids

    def _add_daily_entries(self, cursor, records: Iterable[PaperRecord], pks: dict[str, int]) -> int:
        rows = [(pks[r.address], r.listed_on.isoformat(), self.source) for r in records if r.listed_on is not None]
        if not rows:
            return 0
        return _insert_rows(  # ignored conflicts count 0
            cursor,
            f"INSERT INTO {DAILY} (paper_id, day, source, created_at)",
            rows,
            row="(%s, %s, %s, CURRENT_TIMESTAMP)",
            tail="ON CONFLICT DO NOTHING",
        )


def load_file(
    path: Path,
    parse: Callable[[bytes], PaperRecord] = parse_jsonl_line,
    *,
    batch_size: int = 2000,
    skip_bad: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> LoadSummary:
    """Load a file of one record per line (plain or gzip), parsing each line with `parse`.

    A bad line raises BadLine before its batch is written, unless skip_bad. on_progress(bytes_read,
    bytes_total, papers_so_far) is called after each committed batch.
    """
    summary = LoadSummary()
    batch: list[PaperRecord] = []
    with LineReader(path) as reader, following_bulk_load() as keep_up:
        loader = PaperLoader(keep_up=keep_up)
        try:
            for lineno, line in reader:
                try:
                    batch.append(parse(line))
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


def load_source_file(path: Path, parse: Callable[[bytes], SourceFile], listing: str, batch_size: int = 2000):
    """Load a file of a registered paper source (core.sources.registry: its `parse_file`), its papers' daily-list
    days listed under `listing` (the source's name). Returns (LoadSummary, the entries the parser skipped);
    SourceError when the file cannot be read at all, before anything is written."""
    read = parse(path.read_bytes())
    summary = LoadSummary()
    with following_bulk_load() as keep_up:
        loader = PaperLoader(source=listing, keep_up=keep_up)
        for start in range(0, len(read.records), batch_size):
            loader.write(read.records[start : start + batch_size], summary)
    return summary, read.skipped


def load_jsonl(path: Path, **options) -> LoadSummary:
    """Load a papers.jsonl(.gz) file (the format of shared/data/arxiv-daily)."""
    return load_file(path, parse_jsonl_line, **options)
