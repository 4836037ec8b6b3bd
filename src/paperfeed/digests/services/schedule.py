"""When a digest is due: periods in the subscriber's own calendar, and the daily-list days a digest covers.

A daily digest's period is the subscriber's local date (`daily:2026-11-28`); a weekly digest's the local ISO week
(`weekly:2026-W48`). It is due once the subscriber's local clock has passed their hour on that date (for weekly
digests: on their weekday of that week). Only the current period is ever due: a period missed entirely (the
server was down all day) is not sent late, and nothing is lost, because the next digest picks the lists up where
the last one stopped (see `list_window`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAILY, WEEKLY = "daily", "weekly"
# How far back a digest reaches for list days it has not covered yet (after a pause, or a first digest).
LOOKBACK_DAYS = {DAILY: 7, WEEKLY: 14}
# A first weekly digest covers the week up to its day; a first daily digest only the latest list.
FIRST_WEEKLY_DAYS = 7


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name; UTC when the name is unknown (a stored preference must never crash a run)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class DigestPeriod:
    frequency: str
    key: str  # daily:2026-11-28 or weekly:2026-W48
    local_date: date  # the subscriber's date when the digest is composed: the newest list day it may hold
    due_at: datetime  # aware, in the subscriber's zone

    @property
    def label(self) -> str:
        """How the email names its period: 'Saturday 28 November 2026' or 'week 48, 2026'."""
        if self.frequency == WEEKLY:
            year, week, _ = self.local_date.isocalendar()
            return f"week {week}, {year}"
        return f"{self.local_date:%A %-d %B %Y}"


def period_key(frequency: str, local_date: date) -> str:
    """The send-log key of the period holding `local_date`."""
    if frequency == WEEKLY:
        year, week, _ = local_date.isocalendar()
        return f"{WEEKLY}:{year}-W{week:02d}"
    return f"{DAILY}:{local_date.isoformat()}"


def current_period(frequency: str, weekday: int, time_zone: str, hour: int, now: datetime) -> DigestPeriod:
    """The period the subscriber's local clock is in at `now` (aware), with the moment its digest becomes due."""
    tz = zone(time_zone)
    local = now.astimezone(tz)
    today = local.date()
    hour = min(max(int(hour), 0), 23)
    if frequency == WEEKLY:
        monday = today - timedelta(days=today.weekday())
        due_day = monday + timedelta(days=min(max(int(weekday), 0), 6))
    else:
        due_day = today
    due_at = datetime.combine(due_day, time(hour), tzinfo=tz)
    return DigestPeriod(frequency, period_key(frequency, today), today, due_at)


def is_due(period: DigestPeriod, now: datetime) -> bool:
    """Whether the subscriber's local hour has passed in this period (wall-clock time, so DST changes are fine)."""
    return now.astimezone(period.due_at.tzinfo) >= period.due_at


@dataclass(frozen=True)
class ListWindow:
    """The daily-list days a digest looks at: from `start` to `end` inclusive; `start` None means none at all."""

    start: date | None
    end: date


def list_window(period: DigestPeriod, previous_through: date | None, latest_list_day: date | None) -> ListWindow:
    """Which list days this digest holds.

    A daily digest holds the lists published since the previous digest looked, up to the subscriber's local date:
    at 7 am that is the newest list they have not had (yesterday's or today's, depending on when the lists
    arrive in their zone). The day the previous digest stopped at is looked at again, because a list may grow
    after a digest went out; papers already sent are never sent twice. A first daily digest holds only the
    newest list; a first weekly digest the seven days up to its day. Nothing older than LOOKBACK_DAYS.
    """
    end = period.local_date
    floor = end - timedelta(days=LOOKBACK_DAYS[period.frequency] - 1)
    if previous_through is not None and previous_through <= end:
        start = max(previous_through, floor)
    elif period.frequency == WEEKLY:
        start = end - timedelta(days=FIRST_WEEKLY_DAYS - 1)
    else:
        start = latest_list_day if latest_list_day is not None and latest_list_day >= floor else None
    return ListWindow(start, end)
