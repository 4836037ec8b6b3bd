"""SQLite FTS5 keyword search: BM25 with title matches weighted above abstract and authors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from django.db import connection
from django.utils.html import escape

from paperfeed.core.search_query import SearchQuery, fts5_tiers, to_fts5
from paperfeed.papers.models import Paper
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


def marked_to_html(text: str) -> str:
    """Escape the text, then turn the engine's match markers into <mark> elements."""
    return escape(text).replace(START, "<mark>").replace(END, "</mark>")


class SqliteFtsBackend:
    def index(self, documents: Sequence[SearchDocument]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {TABLE}(rowid, title, abstract, authors) VALUES (%s, %s, %s, %s)",
                [(d.paper_id, d.title, d.abstract, ", ".join(d.authors)) for d in documents],
            )

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

    def _run(
        self, tiers: list[str], filters: SearchFilters, offset: int, limit: int, marks: bool = True, cap: int = 0
    ) -> SearchPage:
        """Rank each tier's matches by BM25 and list the tiers one after the other (with highlights if marks)."""
        source, where, params = self._where(filters)
        cap = cap or RANK_CAP
        total, reachable, hits, capped = 0, 0, [], False
        with connection.cursor() as cursor:
            for expression in tiers:
                cursor.execute(f"SELECT count(*) FROM {source} WHERE {where}", [expression, *params])
                count = cursor.fetchone()[0]
                # The part of the requested page [offset, offset + limit) that falls in this tier.
                start = max(offset - reachable, 0)
                wanted = limit - len(hits)
                if wanted > 0 and start < min(count, cap):
                    recent = ""
                    if count > cap:
                        # BM25 costs time for every match: rank only the RANK_CAP most recently added ones.
                        cursor.execute(
                            f"SELECT {TABLE}.rowid FROM {source} WHERE {where} "
                            f"ORDER BY {TABLE}.rowid DESC LIMIT 1 OFFSET {cap - 1}",
                            [expression, *params],
                        )
                        recent = f" AND {TABLE}.rowid >= {int(cursor.fetchone()[0])}"
                        capped = True
                    if marks:
                        cursor.execute(
                            f"SELECT {TABLE}.rowid, highlight({TABLE}, 0, %s, %s), "
                            f"snippet({TABLE}, 1, %s, %s, '…', {SNIPPET_TOKENS}) "
                            f"FROM {source} WHERE {where}{recent} ORDER BY rank LIMIT %s OFFSET %s",
                            [START, END, START, END, expression, *params, wanted, start],
                        )
                        rows = cursor.fetchall()
                    else:
                        cursor.execute(
                            f"SELECT {TABLE}.rowid, '', '' FROM {source} WHERE {where}{recent} "
                            "ORDER BY rank LIMIT %s OFFSET %s",
                            [expression, *params, wanted, start],
                        )
                        rows = cursor.fetchall()
                    hits += [SearchHit(pid, marked_to_html(t), marked_to_html(s)) for pid, t, s in rows]
                total += count
                reachable += min(count, cap)
        return SearchPage(hits=hits, total=total, reachable=reachable, relaxed=False, capped=capped)

    def search(
        self, query: SearchQuery, filters: SearchFilters, offset: int, limit: int, marks: bool = True, cap: int = 0
    ) -> SearchPage:
        """A page of results; `cap` (default RANK_CAP) bounds how many matches are ranked, newest first."""
        page = self._run(fts5_tiers(query), filters, offset, limit, marks, cap)
        if page.total == 0 and len(query.positive) > 1:
            relaxed = self._run(fts5_tiers(query, match_all=False), filters, offset, limit, marks, cap)
            return replace(relaxed, relaxed=True)
        return page

    def highlights(self, query: SearchQuery, paper_ids: Sequence[int], relaxed: bool) -> list[SearchHit]:
        """Titles and snippets with the query's words marked, for these papers (those that match)."""
        expression = to_fts5(query, match_all=not relaxed, expand=True)
        if expression is None or not paper_ids:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, highlight({TABLE}, 0, %s, %s), snippet({TABLE}, 1, %s, %s, '…', {SNIPPET_TOKENS}) "
                f"FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid IN ({', '.join(['%s'] * len(paper_ids))})",
                [START, END, START, END, expression, *paper_ids],
            )
            return [SearchHit(pid, marked_to_html(t), marked_to_html(s)) for pid, t, s in cursor.fetchall()]
