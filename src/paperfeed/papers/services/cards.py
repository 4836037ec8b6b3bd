"""Paper cards: the one place that gathers what a card on a list shows, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import CharField, DateField, IntegerField, QuerySet
from django.db.models.expressions import RawSQL

from paperfeed.community.models import Comment
from paperfeed.papers.models import Author, Authorship, DailyEntry, Paper, Vote

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


def card_queryset(papers: QuerySet[Paper], first_day_from: date | None = None) -> QuerySet[Paper]:
    """The papers with their organization, upvotes, listing day and submitter (the first from first_day_from on)."""
    first_day, submitter, params = _tables(_FIRST_DAY), _tables(_SUBMITTER), []
    if first_day_from is not None:
        since = " AND day >= %s"
        first_day, submitter, params = first_day + since, submitter + since, [first_day_from.isoformat()]
    return (
        with_upvotes(papers)
        .select_related("organization")
        .annotate(
            listed_on=RawSQL(first_day, params, output_field=DateField()),
            submitted_by=RawSQL(submitter + _FIRST_SUBMITTER_ORDER, params, output_field=CharField()),
            comment_count=RawSQL(_tables(_COMMENTS), [], output_field=IntegerField()),
        )
    )


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


def cards_from(papers: Sequence[Paper], extra: dict[int, dict] | None = None) -> list[PaperCard]:
    """Cards for papers fetched through card_queryset, in their order; `extra` adds fields per paper id."""
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


def cards_for_ids(
    paper_ids: Sequence[int], extra: dict[int, dict] | None = None, first_day_from: date | None = None
) -> list[PaperCard]:
    """Cards in the order of paper_ids (unknown ids and hidden papers are left out)."""
    papers = card_queryset(Paper.objects.visible().filter(id__in=paper_ids), first_day_from).order_by()  # see below
    found = {p.id: p for p in papers}
    return cards_from([found[pid] for pid in paper_ids if pid in found], extra)
