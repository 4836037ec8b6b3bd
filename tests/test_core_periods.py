from datetime import date

import pytest

from paperfeed.core.periods import PeriodError, containing, parse_period


def test_no_parameter_means_no_period():
    assert parse_period() is None


def test_day():
    period = parse_period(date_="2026-06-30")
    assert (period.kind, period.start, period.end, period.query) == (
        "day",
        date(2026, 6, 30),
        date(2026, 6, 30),
        "date=2026-06-30",
    )
    assert period.label == "Tuesday, 30 June 2026"


def test_iso_week_runs_monday_to_sunday():
    period = parse_period(week="2026-W27")
    assert (period.start, period.end, period.query) == (date(2026, 6, 29), date(2026, 7, 5), "week=2026-W27")


def test_iso_week_at_a_year_boundary():
    period = parse_period(week="2026-W01")
    assert period.start == date(2025, 12, 29)
    assert containing("week", date(2026, 1, 1)) == period


def test_month():
    period = parse_period(month="2026-02")
    assert (period.start, period.end, period.query) == (date(2026, 2, 1), date(2026, 2, 28), "month=2026-02")


@pytest.mark.parametrize(
    ("kwargs", "param", "words"),
    [
        ({"date_": "2026-13-01"}, "date", "not a real calendar date"),
        ({"date_": "yesterday"}, "date", "YYYY-MM-DD"),
        ({"date_": "2026-06-30T00:00"}, "date", "YYYY-MM-DD"),
        ({"week": "2026-W54"}, "week", "has no week 54"),
        ({"week": "2026-27"}, "week", "YYYY-Www"),
        ({"month": "2026-13"}, "month", "YYYY-MM"),
        ({"month": "June"}, "month", "YYYY-MM"),
        ({"date_": "2026-06-30", "week": "2026-W27"}, "week", "only one of"),
    ],
)
def test_malformed_periods_name_the_parameter(kwargs, param, words):
    with pytest.raises(PeriodError) as error:
        parse_period(**kwargs)
    assert error.value.param == param
    assert words in str(error.value)
