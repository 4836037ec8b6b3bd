"""The daily list: which papers a day, week or month shows, in which order, and where to go next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from django.core.paginator import Page, Paginator
from django.db.models import F, Max, Min, OrderBy, QuerySet

from paperfeed.core.periods import Period, containing, day_period
from paperfeed.papers.models import DailyEntry, Paper
from paperfeed.papers.services.cards import cards_for_ids, with_upvotes

Sort = Literal["votes", "newest", "stars"]
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "votes": ("-upvotes", "-published", "-external_id"),
    "newest": ("-published", "-external_id"),
    # Most starred: by the GitHub stars of the code repository (PaperExtras), papers without any last.
    "stars": (F("extras__github_stars").desc(nulls_last=True), "-upvotes", "-published", "-external_id"),
}
PAGE_SIZE = 50


@dataclass(frozen=True)
class Listing:
    period: Period
    page: Page  # of PaperCard
    previous: Period | None  # the nearest earlier period with papers
    next: Period | None
    first_day: date | None  # the range of days that have papers, for the date picker
    last_day: date | None


def latest_day(today: date) -> date | None:
    """The most recent day with papers: today when it has some, never a day in the future."""
    days = DailyEntry.objects.filter(day__lte=today).aggregate(last=Max("day"))
    return days["last"] or DailyEntry.objects.aggregate(first=Min("day"))["first"]


def _adjacent(period: Period) -> tuple[Period | None, Period | None]:
    """The nearest earlier and later periods of the same kind that have papers."""
    earlier = DailyEntry.objects.filter(day__lt=period.start).aggregate(day=Max("day"))["day"]
    later = DailyEntry.objects.filter(day__gt=period.end).aggregate(day=Min("day"))["day"]
    return (
        containing(period.kind, earlier) if earlier else None,
        containing(period.kind, later) if later else None,
    )


def listing(
    period: Period,
    sort: Sort = "votes",
    page_number: int | str = 1,
    with_code: bool = False,
    leave_out: QuerySet | None = None,
) -> Listing:
    """The period's papers in this order, one page of cards; `with_code`: only those with a code link; `leave_out`:
    a subquery of paper ids to leave out (a member's read papers), applied in the query so counts and pages agree."""
    entries = DailyEntry.objects.filter(day__range=(period.start, period.end)).values("paper_id")
    # Order and count narrow rows (ids), then build cards for the one page shown.
    visible = Paper.objects.visible().filter(id__in=entries)
    if with_code:
        visible = visible.exclude(code_url="")
    if leave_out is not None:
        visible = visible.exclude(id__in=leave_out)
    ordered = with_upvotes(visible).order_by(*SORTS[sort]).values_list("id", flat=True)
    page = Paginator(ordered, PAGE_SIZE).get_page(page_number)
    page.object_list = cards_for_ids(list(page.object_list), first_day_from=period.start)
    previous, next_ = _adjacent(period)
    # Two single-aggregate queries: SQLite answers each from the index; MIN and MAX together scan the table.
    first = DailyEntry.objects.aggregate(day=Min("day"))["day"]
    last = DailyEntry.objects.aggregate(day=Max("day"))["day"]
    return Listing(period, page, previous, next_, first, last)


def default_period(today: date) -> Period | None:
    day = latest_day(today)
    return day_period(day) if day else None
