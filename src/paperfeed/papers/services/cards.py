"""Paper cards: the one place that gathers what a card on a list shows, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Expression, Min, OuterRef, QuerySet, Subquery
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


# Figures that apps above this one add to every card (name -> a function making the annotation, a correlated
# subquery on the card's paper), registered when they start: community adds `comment_count` (community/apps.py).
# A card then carries it as an attribute of its paper; PaperCard.comment_count reads it (0 when nobody adds it).
CARD_FIGURES: dict[str, Callable[[], Expression]] = {}


def add_card_figure(name: str, annotation: Callable[[], Expression]) -> None:
    CARD_FIGURES[name] = annotation


def per_paper(model, value, **filters) -> Subquery:
    """A correlated subquery over `model`'s rows of the outer paper (no GROUP BY over wide paper rows)."""
    rows = model.objects.filter(paper_id=OuterRef("pk"), **filters).order_by().values("paper_id")
    return Subquery(rows.annotate(value=value).values("value")[:1])


def _upvotes() -> Coalesce:
    return Coalesce(per_paper(Vote, Count("pk")), 0)


def with_upvotes(papers: QuerySet[Paper]) -> QuerySet[Paper]:
    """Annotate `upvotes`: a correlated count per paper."""
    return papers.annotate(upvotes=_upvotes())


def author_names(paper_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each paper's author names in order, in one query (plain tuples: cheaper than model objects)."""
    if not paper_ids:
        return {}
    names: dict[int, list[str]] = defaultdict(list)
    rows = Authorship.objects.filter(paper_id__in=paper_ids).order_by("paper_id", "position")
    for paper_id, name in rows.values_list("paper_id", "author__name"):
        names[paper_id].append(name)
    return {pid: tuple(found) for pid, found in names.items()}


def _cards_query(wanted: list[int], first_day_from: date | None) -> QuerySet[Paper]:
    """The papers with their organization, extras (stars, thumbnail) and the card figures: upvotes, the listing
    day and submitter (the first from first_day_from on), and those other apps add (CARD_FIGURES)."""
    since = {"day__gte": first_day_from} if first_day_from is not None else {}
    submissions = DailyEntry.objects.filter(
        paper_id=OuterRef("pk"), source=DailyEntry.Source.SUBMISSION, submitted_by__isnull=False, **since
    ).order_by("day", "id")
    return (
        Paper.objects.visible()
        .filter(id__in=wanted)
        .select_related("organization", "extras")
        .annotate(
            upvotes=_upvotes(),
            listed_on=per_paper(DailyEntry, Min("day"), **since),
            submitted_by=Subquery(submissions.values("submitter_name")[:1]),
            **{name: annotation() for name, annotation in CARD_FIGURES.items()},
        )
    )


def cards_for_ids(
    paper_ids: Sequence[int], extra: dict[int, dict] | None = None, first_day_from: date | None = None
) -> list[PaperCard]:
    """Cards in the order of paper_ids (unknown ids and hidden papers are left out); `extra` adds fields per paper
    id, and the listing day and submitter are the first from first_day_from on. Two queries: the papers with their
    figures, and the author names."""
    wanted = [int(pid) for pid in paper_ids if pid is not None]
    if not wanted:
        return []
    found = {paper.id: paper for paper in _cards_query(wanted, first_day_from)}
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
            comment_count=getattr(p, "comment_count", 0),
            **extra.get(p.id, {}),
        )
        for p in papers
    ]
