"""The periods a daily list can show: one day, an ISO week (2026-W27) or a calendar month (2026-06)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

Kind = Literal["day", "week", "month"]


class PeriodError(ValueError):
    """A period parameter that cannot be read; `param` names it for the error message."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Period:
    kind: Kind
    start: date
    end: date  # inclusive

    @property
    def query(self) -> str:
        """The permanent-link query string of this period, e.g. `week=2026-W27`."""
        return f"{self.param_name}={self.value}"

    @property
    def param_name(self) -> str:
        return {"day": "date", "week": "week", "month": "month"}[self.kind]

    @property
    def value(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%A, %-d %B %Y}"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year} ({self.start:%-d %b} – {self.end:%-d %b})"
        return f"{self.start:%B %Y}"

    def days(self) -> int:
        return (self.end - self.start).days + 1


def day_period(day: date) -> Period:
    return Period("day", day, day)


def week_period(day: date) -> Period:
    start = day - timedelta(days=day.weekday())
    return Period("week", start, start + timedelta(days=6))


def month_period(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def containing(kind: Kind, day: date) -> Period:
    """The period of the given kind that contains `day`."""
    return {"day": day_period, "week": week_period, "month": month_period}[kind](day)


_WEEK = re.compile(r"(\d{4})-W(\d{1,2})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: str, param: str = "date") -> date:
    """A YYYY-MM-DD date, or PeriodError naming `param`."""
    value = value.strip()
    if not _DAY.fullmatch(value):
        raise PeriodError(param, f"{param}={value[:40]!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-06-30")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(param, f"{param}={value!r} is not a real calendar date") from None


def parse_period(date_: str | None = None, week: str | None = None, month: str | None = None) -> Period | None:
    """The period the query parameters ask for, None when none is given; PeriodError when malformed."""
    given = [(name, v) for name, v in (("date", date_), ("week", week), ("month", month)) if v is not None]
    if not given:
        return None
    if len(given) > 1:
        names = " and ".join(name for name, _ in given)
        raise PeriodError(given[1][0], f"give only one of date, week and month (got {names})")
    name, value = given[0]
    value = value.strip()
    if name == "date":
        return day_period(parse_day(value))
    if name == "week":
        match = _WEEK.fullmatch(value)
        if not match:
            raise PeriodError("week", f"week={value[:40]!r} is not an ISO week: write it as YYYY-Www, e.g. 2026-W27")
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise PeriodError("week", f"week={value!r}: year {match[1]} has no week {int(match[2])}") from None
        return week_period(monday)
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise PeriodError("month", f"month={value[:40]!r} is not a month: write it as YYYY-MM, e.g. 2026-06")
    return month_period(date(int(match[1]), int(match[2]), 1))


def parse_instant(value: str) -> datetime:
    """An aware datetime from ISO 8601 as a command's --now takes it (2026-11-28T07:30, UTC unless an offset or Z is
    given); ValueError says how to write it."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date and time: write it as 2026-11-28T07:30 (UTC) or 2026-11-28T07:30+01:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
