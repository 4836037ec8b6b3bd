"""SQLite FTS5 keyword search: BM25 with title matches weighted above abstract and authors."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace

from django.db import connection
from django.utils.html import escape

from paperfeed.core.search_query import SearchQuery, fts5_tiers, to_fts5
from paperfeed.papers.models import Paper, visible_condition, visible_sql
from paperfeed.papers.services.search import SearchDocument, SearchFilters, SearchHit, SearchPage

TABLE = "papers_search"
# As created by migration 0002 (which stores the weights as the table's persistent rank).
TOKENIZER = "porter unicode61 remove_diacritics 2"
BM25_WEIGHTS = (5.0, 1.0, 2.0)  # title, abstract, authors
# Indexed text has no control characters (records.clean_text drops them), so these mark matches safely.
START, END = "\x02", "\x03"
SNIPPET_TOKENS = 40
# A query matching more papers than this is ranked among the RANK_CAP most recently added of them: BM25 costs
# ~2.5 µs per match, and the pages people read (50 of 20) stay well inside it. See docs/ranking.md.
RANK_CAP = 2000
VISIBILITY_CHUNK = 500  # ids per IN (...) list when checking which papers may be indexed


def marked_to_html(text: str) -> str:
    """Escape the text, then turn the engine's match markers into <mark> elements."""
    return escape(text).replace(START, "<mark>").replace(END, "</mark>")


class SqliteFtsBackend:
    def index(self, documents: Sequence[SearchDocument]) -> None:
        """Add these documents, except those of papers a moderator hid: hidden papers stay out of the table, so
        that every search and count leaves them out at no cost (hiding and showing go through reindex)."""
        hidden: set[int] = set()
        ids = [d.paper_id for d in documents]
        for start in range(0, len(ids), VISIBILITY_CHUNK):
            chunk = Paper.objects.filter(id__in=ids[start : start + VISIBILITY_CHUNK])
            hidden.update(chunk.exclude(visible_condition()).values_list("id", flat=True))
        rows = [(d.paper_id, d.title, d.abstract, ", ".join(d.authors)) for d in documents if d.paper_id not in hidden]
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {TABLE}(rowid, title, abstract, authors) VALUES (%s, %s, %s, %s)", rows)

    def remove(self, paper_ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = %s", [(pid,) for pid in paper_ids])

    def _where(self, filters: SearchFilters) -> tuple[str, str, list]:
        """FROM and WHERE clauses for a MATCH with these filters (joining the paper table only if needed)."""
        clauses, params = [f"{TABLE} MATCH %s"], []
        if filters.category:
            clauses.append("EXISTS (SELECT 1 FROM json_each(p.categories) WHERE json_each.value = %s)")
            params.append(filters.category)
        if filters.date_from:
            clauses.append("p.published >= %s")
            params.append(filters.date_from.isoformat())
        if filters.date_to:
            clauses.append("p.published <= %s")
            params.append(filters.date_to.isoformat())
        source = TABLE if len(clauses) == 1 else f"{TABLE} JOIN {Paper._meta.db_table} p ON p.id = {TABLE}.rowid"
        return source, " AND ".join(clauses), params

    def _run(self, tiers: list[str], filters: SearchFilters, offset: int, limit: int) -> SearchPage:
        """Rank each tier's matches by BM25 and list the tiers one after the other, with highlights."""
        source, where, params = self._where(filters)
        total, reachable, hits, capped = 0, 0, [], False
        with connection.cursor() as cursor:
            for expression in tiers:
                cursor.execute(f"SELECT count(*) FROM {source} WHERE {where}", [expression, *params])
                count = cursor.fetchone()[0]
                # The part of the requested page [offset, offset + limit) that falls in this tier.
                start = max(offset - reachable, 0)
                wanted = limit - len(hits)
                if wanted > 0 and start < min(count, RANK_CAP):
                    recent = ""
                    if count > RANK_CAP:
                        # BM25 costs time for every match: rank only the RANK_CAP most recently added ones.
                        cursor.execute(
                            f"SELECT {TABLE}.rowid FROM {source} WHERE {where} "
                            f"ORDER BY {TABLE}.rowid DESC LIMIT 1 OFFSET {RANK_CAP - 1}",
                            [expression, *params],
                        )
                        recent = f" AND {TABLE}.rowid >= {int(cursor.fetchone()[0])}"
                        capped = True
                    cursor.execute(
                        f"SELECT {TABLE}.rowid, highlight({TABLE}, 0, %s, %s), "
                        f"snippet({TABLE}, 1, %s, %s, '…', {SNIPPET_TOKENS}) "
                        f"FROM {source} WHERE {where}{recent} ORDER BY rank LIMIT %s OFFSET %s",
                        [START, END, START, END, expression, *params, wanted, start],
                    )
                    rows = cursor.fetchall()
                    hits += [SearchHit(pid, marked_to_html(t), marked_to_html(s)) for pid, t, s in rows]
                total += count
                reachable += min(count, RANK_CAP)
        return SearchPage(hits=hits, total=total, reachable=reachable, relaxed=False, capped=capped)

    def newest(self, filters: SearchFilters, offset: int, limit: int) -> SearchPage:
        """The most recently published visible papers passing the filters: a search with no words."""
        clauses, params = [visible_sql("p")], []
        if filters.category:
            clauses.append("EXISTS (SELECT 1 FROM json_each(p.categories) WHERE json_each.value = %s)")
            params.append(filters.category)
        if filters.date_from:
            clauses.append("p.published >= %s")
            params.append(filters.date_from.isoformat())
        if filters.date_to:
            clauses.append("p.published <= %s")
            params.append(filters.date_to.isoformat())
        where = " AND ".join(clauses)
        table = Paper._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} p WHERE {where}", params)
            total = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT p.id FROM {table} p WHERE {where} "
                "ORDER BY p.published DESC, p.arxiv_id DESC LIMIT %s OFFSET %s",
                [*params, limit, offset],
            )
            hits = [SearchHit(pid, "", "") for (pid,) in cursor.fetchall()]
        return SearchPage(hits=hits, total=total, reachable=total, relaxed=False)

    def search(self, query: SearchQuery, filters: SearchFilters, offset: int, limit: int) -> SearchPage:
        """A page of results with highlights; at most RANK_CAP matches are ranked, the most recently added."""
        page = self._run(fts5_tiers(query), filters, offset, limit)
        if page.total == 0 and len(query.positive) > 1:
            relaxed = self._run(fts5_tiers(query, match_all=False), filters, offset, limit)
            return replace(relaxed, relaxed=True)
        return page

    def ranking(self, query: SearchQuery, filters: SearchFilters, limit: int, cap: int) -> tuple[list[int], bool]:
        """The ids of the `limit` best matches (BM25 among the `cap` most recently added), and whether they
        match only some of the words. One pass per tier: no count, no highlights, for fusion with other rankings."""
        for match_all in (True, False):
            if not match_all and len(query.positive) < 2:
                break
            source, where, params = self._where(filters)
            ids: list[int] = []
            with connection.cursor() as cursor:
                for expression in fts5_tiers(query, match_all):
                    cursor.execute(
                        f"SELECT rowid FROM (SELECT {TABLE}.rowid AS rowid, {TABLE}.rank AS score FROM {source} "
                        f"WHERE {where} ORDER BY {TABLE}.rowid DESC LIMIT %s) ORDER BY score LIMIT %s",
                        [expression, *params, cap, limit - len(ids)],
                    )
                    ids += [row[0] for row in cursor.fetchall()]
                    if len(ids) >= limit:
                        break
            if ids:
                return ids, not match_all
        return [], False

    def highlights(self, query: SearchQuery, documents: Sequence[SearchDocument], relaxed: bool) -> list[SearchHit]:
        """Titles and snippets with the query's words marked, for these papers (those that match).

        Marked in a private in-memory FTS5 table with the same tokenizer, holding just these papers: matching in
        the full index would read every matching paper's positions first (10 ms and more for common words).
        """
        expression = to_fts5(query, match_all=not relaxed, expand=True)
        if expression is None or not documents:
            return []
        db = _marker.db
        try:
            db.executemany(
                "INSERT INTO marks(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
                [(d.paper_id, d.title, d.abstract, ", ".join(d.authors)) for d in documents],
            )
            rows = db.execute(
                "SELECT rowid, highlight(marks, 0, ?, ?), snippet(marks, 1, ?, ?, '…', ?) FROM marks "
                "WHERE marks MATCH ?",
                [START, END, START, END, SNIPPET_TOKENS, expression],
            ).fetchall()
        finally:
            db.rollback()
        return [SearchHit(pid, marked_to_html(t), marked_to_html(s)) for pid, t, s in rows]


class _Marker(threading.local):
    """Per thread, an in-memory FTS5 table to mark matches in a page of papers (see highlights)."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")  # its implicit transaction is rolled back after each use
        self.db.execute(f"CREATE VIRTUAL TABLE marks USING fts5(title, abstract, authors, tokenize='{TOKENIZER}')")


_marker = _Marker()
