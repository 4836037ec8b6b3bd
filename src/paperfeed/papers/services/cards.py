"""Paper cards: the one place that gathers what a card on a list shows, in a fixed number of queries."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, DateField, IntegerField, QuerySet
from django.db.models.expressions import BaseExpression, RawSQL

from paperfeed.community.models import Comment
from paperfeed.papers.models import Author, Authorship, DailyEntry, Organization, Paper, Vote, visible_sql

SHOWN_AUTHORS = 3
SUMMARY_CHARS = 300


@dataclass(frozen=True)
class PaperCard:
    paper: Paper
    upvotes: int
    day: date | None  # the day it was listed (in the period shown), else its publication date
    authors: tuple[str, ...]
    title_html: str = ""  # set for search hits: the title with matches marked
    snippet_html: str = ""
    submitted_by: str = ""  # username of the user who submitted it (in the period shown), if one did
    comment_count: int = 0  # comments shown under the paper: hidden ones and deleted placeholders left out

    # Cards are rendered fifty to a page: the text they show is put together here, once, in plain Python,
    # rather than through a dozen template filters per card.

    @property
    def author_count(self) -> int:
        return len(self.authors)

    @property
    def authors_line(self) -> str:
        """'Ada, Alan, Grace and 2 more', the first names of the author list."""
        shown = ", ".join(self.authors[:SHOWN_AUTHORS])
        more = self.author_count - SHOWN_AUTHORS
        return f"{shown} and {more} more" if more > 0 else shown

    @property
    def summary(self) -> str:
        """The start of the abstract, cut at a word."""
        abstract = self.paper.abstract
        if len(abstract) <= SUMMARY_CHARS:
            return abstract
        return abstract[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"


# The two per-card figures are correlated subqueries written as SQL: the same subqueries built from ORM
# expressions cost more to compile (about 1.5 ms a list) than to run. Plain SQL that PostgreSQL runs as well.
_UPVOTES = "SELECT count(*) FROM {vote} WHERE {vote}.paper_id = {paper}.id"
_FIRST_DAY = "SELECT min(day) FROM {entry} WHERE {entry}.paper_id = {paper}.id"
# A deleted comment kept for its replies has an empty body; like a hidden one it is not counted.
_COMMENTS = (
    "SELECT count(*) FROM {comment} WHERE {comment}.paper_id = {paper}.id"
    " AND NOT {comment}.hidden AND {comment}.body <> ''"
)
# The first user submission that still has its user (submitter_name holds the username when it was made).
_SUBMITTER = (
    "SELECT submitter_name FROM {entry} WHERE {entry}.paper_id = {paper}.id"
    " AND {entry}.source = '{submission}' AND {entry}.submitted_by_id IS NOT NULL"
)
_FIRST_SUBMITTER_ORDER = " ORDER BY day, id LIMIT 1"


def _tables(sql: str) -> str:
    return sql.format(
        vote=Vote._meta.db_table,
        entry=DailyEntry._meta.db_table,
        paper=Paper._meta.db_table,
        comment=Comment._meta.db_table,
        submission=DailyEntry.Source.SUBMISSION.value,
    )


def with_upvotes(papers: QuerySet[Paper]) -> QuerySet[Paper]:
    """Annotate `upvotes`: a correlated count per paper, which needs no GROUP BY over wide paper rows."""
    return papers.annotate(upvotes=RawSQL(_tables(_UPVOTES), [], output_field=IntegerField()))


def author_names(paper_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each paper's author names in order, in one query (plain tuples: cheaper than model objects).

    Plain SQL: on every list and search page, building this query through the ORM cost more than running it.
    """
    if not paper_ids:
        return {}
    names: dict[int, list[str]] = defaultdict(list)
    authorship, author = Authorship._meta.db_table, Author._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.paper_id, n.name FROM {authorship} a JOIN {author} n ON n.id = a.author_id "
            f"WHERE a.paper_id IN ({', '.join(['%s'] * len(paper_ids))}) ORDER BY a.paper_id, a.position",
            list(paper_ids),
        )
        for paper_id, name in cursor.fetchall():
            names[paper_id].append(name)
    return {pid: tuple(found) for pid, found in names.items()}


# What the card query selects: the paper's columns, its organization's, then these card figures.
_PAPER_FIELDS = tuple(Paper._meta.concrete_fields)
_ORGANIZATION_FIELDS = tuple(Organization._meta.concrete_fields)
_FIGURES = (
    ("upvotes", IntegerField()),
    ("listed_on", DateField()),
    ("submitted_by", CharField()),
    ("comment_count", IntegerField()),
)


@dataclass(frozen=True)
class _CardQuery:
    """The card query's SQL (up to the id list) and how to turn its rows into papers as the ORM does."""

    sql: str
    # (column, the ORM's converters for its values, the expression they are given), for the columns that have any
    converters: tuple[tuple[int, tuple[Callable, ...], BaseExpression], ...]

    def paper(self, db: BaseDatabaseWrapper, row: tuple) -> Paper:
        """The paper of one row, with its organization (or None) cached and the card figures as attributes."""
        values = list(row)
        for position, converters, expression in self.converters:
            value = values[position]
            for convert in converters:
                value = convert(value, expression, db)
            values[position] = value
        paper_end, organization_end = len(_PAPER_FIELDS), len(_PAPER_FIELDS) + len(_ORGANIZATION_FIELDS)
        paper = Paper.from_db(db.alias, None, values[:paper_end])
        organization = None
        if values[paper_end] is not None:
            organization = Organization.from_db(db.alias, None, values[paper_end:organization_end])
        Paper.organization.field.set_cached_value(paper, organization)
        for (name, _), value in zip(_FIGURES, values[organization_end:], strict=True):
            setattr(paper, name, value)
        return paper


# Per connection (each thread has its own): converters can be bound to the connection's operations.
_card_queries: weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[bool, _CardQuery]] = weakref.WeakKeyDictionary()


def _card_query(db: BaseDatabaseWrapper, since: bool) -> _CardQuery:
    """The card query for this connection (with `day >= %s` on the listing day and submitter when `since`)."""
    queries = _card_queries.setdefault(db, {})
    if since not in queries:
        quote = db.ops.quote_name
        paper_table, organization_table = Paper._meta.db_table, Organization._meta.db_table
        paper = quote(paper_table)
        paper_id, organization_id = quote(Paper._meta.pk.column), quote(Organization._meta.pk.column)
        first_day, submitter = _tables(_FIRST_DAY), _tables(_SUBMITTER)
        if since:
            first_day, submitter = first_day + " AND day >= %s", submitter + " AND day >= %s"
        columns = [f"{paper}.{quote(f.column)}" for f in _PAPER_FIELDS]
        columns += [f"o.{quote(f.column)}" for f in _ORGANIZATION_FIELDS]
        columns += [
            f"({sql})" for sql in (_tables(_UPVOTES), first_day, submitter + _FIRST_SUBMITTER_ORDER, _tables(_COMMENTS))
        ]
        sql = (
            f"SELECT {', '.join(columns)} FROM {paper} LEFT OUTER JOIN {quote(organization_table)} o "
            f"ON o.{organization_id} = {paper}.{quote(Paper.organization.field.column)} "
            f"WHERE {visible_sql(paper)} AND {paper}.{paper_id} IN "
        )
        expressions = [f.get_col(paper_table) for f in _PAPER_FIELDS]
        expressions += [f.get_col("o") for f in _ORGANIZATION_FIELDS]
        expressions += [RawSQL("", [], output_field=field) for _, field in _FIGURES]
        converters = []
        for position, expression in enumerate(expressions):
            found = tuple(db.ops.get_db_converters(expression) + expression.get_db_converters(db))
            if found:
                converters.append((position, found, expression))
        queries[since] = _CardQuery(sql, tuple(converters))
    return queries[since]


def cards_for_ids(
    paper_ids: Sequence[int], extra: dict[int, dict] | None = None, first_day_from: date | None = None
) -> list[PaperCard]:
    """Cards in the order of paper_ids (unknown ids and hidden papers are left out); `extra` adds fields per paper
    id, and the listing day and submitter are the first from first_day_from on.

    Each paper comes with its organization and, as attributes, upvotes, listed_on, submitted_by and comment_count,
    as the ORM would load them. One plain SQL query and the author names: every list and search page builds
    cards, and building this query through the ORM cost more than running it.
    """
    wanted = [int(pid) for pid in paper_ids if pid is not None]  # as the ORM's id__in takes them
    if not wanted:
        return []
    db = connections[DEFAULT_DB_ALIAS]
    query = _card_query(db, first_day_from is not None)
    since = [first_day_from.isoformat()] * 2 if first_day_from is not None else []
    with db.cursor() as cursor:
        cursor.execute(query.sql + f"({', '.join(['%s'] * len(wanted))})", [*since, *wanted])
        rows = cursor.fetchall()
    found = {paper.id: paper for paper in (query.paper(db, row) for row in rows)}
    papers = [found[pid] for pid in paper_ids if pid in found]
    names = author_names([p.id for p in papers])
    extra = extra or {}
    return [
        PaperCard(
            p,
            p.upvotes,
            p.listed_on or p.published,
            names.get(p.id, ()),
            submitted_by=p.submitted_by or "",
            comment_count=p.comment_count,
            **extra.get(p.id, {}),
        )
        for p in papers
    ]
