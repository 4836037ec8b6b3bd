"""Paper cards: the one place that gathers what a card on a list shows, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery

from paperfeed.papers.models import Authorship, DailyEntry, Paper

SHOWN_AUTHORS = 3


@dataclass(frozen=True)
class PaperCard:
    paper: Paper
    upvotes: int
    day: date | None
    title_html: str = ""  # set for search hits: the title with matches marked
    snippet_html: str = ""

    @property
    def author_names(self) -> list[str]:
        return [a.author.name for a in self.paper.authorships.all()]

    @property
    def first_authors(self) -> list[str]:
        return self.author_names[:SHOWN_AUTHORS]

    @property
    def author_count(self) -> int:
        return len(self.paper.authorships.all())

    @property
    def more_authors(self) -> int:
        return max(self.author_count - SHOWN_AUTHORS, 0)


def with_upvotes(papers: QuerySet[Paper]) -> QuerySet[Paper]:
    return papers.annotate(upvotes=Count("votes"))


def card_queryset(papers: QuerySet[Paper], first_day_from: date | None = None) -> QuerySet[Paper]:
    """The papers with all a card needs: organization, ordered authors, upvotes and listing day."""
    entries = DailyEntry.objects.filter(paper=OuterRef("pk"))
    if first_day_from is not None:
        entries = entries.filter(day__gte=first_day_from)
    return (
        papers.select_related("organization")
        .prefetch_related(
            Prefetch("authorships", queryset=Authorship.objects.select_related("author").order_by("position"))
        )
        .annotate(listed_on=Subquery(entries.order_by("day").values("day")[:1]))
    )


def cards_from(papers: Sequence[Paper]) -> list[PaperCard]:
    """Cards for papers fetched through card_queryset (and with_upvotes)."""
    return [PaperCard(p, getattr(p, "upvotes", 0), p.listed_on or p.published) for p in papers]


def cards_for_ids(paper_ids: Sequence[int], extra: dict[int, dict] | None = None) -> list[PaperCard]:
    """Cards in the order of paper_ids; `extra` adds fields (such as search highlights) per id."""
    papers = {p.id: p for p in card_queryset(with_upvotes(Paper.objects.filter(id__in=paper_ids)))}
    extra = extra or {}
    return [
        PaperCard(p, p.upvotes, p.listed_on or p.published, **extra.get(pid, {}))
        for pid in paper_ids
        if (p := papers.get(pid)) is not None
    ]
