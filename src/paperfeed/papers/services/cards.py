"""Paper cards: the one place that gathers what a card on a list shows, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from paperfeed.papers.models import Authorship, DailyEntry, Paper, Vote

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


def with_upvotes(papers: QuerySet[Paper]) -> QuerySet[Paper]:
    """Annotate `upvotes`: a correlated count per paper, which needs no GROUP BY over wide paper rows."""
    votes = Vote.objects.filter(paper=OuterRef("pk")).order_by().values("paper").annotate(n=Count("*")).values("n")
    return papers.annotate(upvotes=Coalesce(Subquery(votes), 0))


def card_queryset(papers: QuerySet[Paper], first_day_from: date | None = None) -> QuerySet[Paper]:
    """The papers with their organization, upvotes and listing day (the first one from first_day_from on)."""
    entries = DailyEntry.objects.filter(paper=OuterRef("pk"))
    if first_day_from is not None:
        entries = entries.filter(day__gte=first_day_from)
    return (
        with_upvotes(papers)
        .select_related("organization")
        .annotate(listed_on=Subquery(entries.order_by("day").values("day")[:1]))
    )


def author_names(paper_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each paper's author names in order, in one query (plain tuples: cheaper than model objects)."""
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        Authorship.objects.filter(paper_id__in=paper_ids)
        .order_by("paper_id", "position")
        .values_list("paper_id", "author__name")
    )
    for paper_id, name in rows:
        names[paper_id].append(name)
    return {pid: tuple(found) for pid, found in names.items()}


def cards_from(papers: Sequence[Paper], extra: dict[int, dict] | None = None) -> list[PaperCard]:
    """Cards for papers fetched through card_queryset, in their order; `extra` adds fields per paper id."""
    names = author_names([p.id for p in papers])
    extra = extra or {}
    return [
        PaperCard(p, p.upvotes, p.listed_on or p.published, names.get(p.id, ()), **extra.get(p.id, {})) for p in papers
    ]


def cards_for_ids(
    paper_ids: Sequence[int], extra: dict[int, dict] | None = None, first_day_from: date | None = None
) -> list[PaperCard]:
    """Cards in the order of paper_ids (unknown ids are left out)."""
    found = {p.id: p for p in card_queryset(Paper.objects.filter(id__in=paper_ids), first_day_from)}
    return cards_from([found[pid] for pid in paper_ids if pid in found], extra)
