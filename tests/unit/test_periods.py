"""Periods of the 年日均 family: calendar days, whatever the data holds."""

from __future__ import annotations

from datetime import date

import pytest

from tierbook.domain.periods import review_calendar


def test_year_end_review_has_twelve_months_and_365_days() -> None:
    cal = review_calendar(date(2025, 12, 31), 12, ("month",))
    assert cal.n_reviews == 12
    assert cal.period_days("year") == 365
    assert cal.period_days("ytd") == 365
    assert cal.period_days("rolling_365") == 365
    assert [cal.period_days("month", m) for m in cal.review_months][:3] == [31, 28, 31]


def test_leap_year_counts_366_days_in_the_year() -> None:
    cal = review_calendar(date(2024, 12, 31), 12)
    assert cal.period_days("year") == 366
    assert cal.period_days("month", cal.review_months[1]) == 29


def test_mid_month_as_of_makes_the_last_month_month_to_date() -> None:
    cal = review_calendar(date(2025, 11, 23), 12)
    assert cal.period_days("month") == 23
    assert cal.period_days("ytd") == 327  # 1 Jan .. 23 Nov 2025
    assert cal.period_days("rolling_365") == 365


def test_quarter_periods_reach_back_before_the_first_review_month() -> None:
    cal = review_calendar(date(2025, 12, 31), 12, ("quarter",))
    first = cal.review_months[0]
    assert cal.month_ends[first] == date(2025, 1, 31)
    assert cal.period_days("quarter", first) == 30 + 31 + 31  # Nov, Dec 2024 and Jan 2025


def test_buckets_are_disjoint_and_cover_the_window() -> None:
    cal = review_calendar(date(2025, 7, 9), 12, ("year",))
    days = sum(b.days for b in cal.buckets)
    assert days == (cal.as_of - cal.start).days + 1
    for a, b in zip(cal.buckets, cal.buckets[1:], strict=False):
        assert (b.start - a.end).days == 1


def test_rolling_365_is_not_a_review_period_before_the_as_of_date() -> None:
    cal = review_calendar(date(2025, 12, 31))
    with pytest.raises(ValueError, match="as-of date only"):
        cal.period_buckets("rolling_365", 3)
