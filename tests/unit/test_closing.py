"""Rules of the daily close: which day comes next, and where the rolling-365 cut falls."""

from __future__ import annotations

from datetime import date

import pytest

from tierbook.domain.closing import (
    Action,
    Closed,
    CloseRefusedError,
    decide,
    rolling_cut,
    rolling_tail_days,
)
from tierbook.domain.periods import review_calendar

CLOSED = Closed(date(2025, 12, 28), date(2025, 12, 30), {"2025-12-29": "aaa", "2025-12-30": "bbb"})


def fp(value: str):
    return lambda: value


def test_the_day_after_the_last_closed_day_is_closed():
    assert decide(CLOSED, date(2025, 12, 31), fp("new")) is Action.CLOSE


@pytest.mark.parametrize(
    ("day", "value"), [(date(2025, 12, 30), "bbb"), (date(2025, 12, 29), "aaa")]
)
def test_a_closed_day_with_the_same_input_is_nothing_to_do(day, value):
    assert decide(CLOSED, day, fp(value)) is Action.NOTHING


def test_a_closed_day_with_another_input_is_refused():
    with pytest.raises(CloseRefusedError, match=r"different input.*2025-12-31"):
        decide(CLOSED, date(2025, 12, 30), fp("other"))


def test_a_gap_names_the_expected_day_and_the_missing_days():
    with pytest.raises(CloseRefusedError, match=r"next day to close is 2025-12-31.*2 days missing"):
        decide(CLOSED, date(2026, 1, 2), fp("x"))


def test_a_day_of_the_initial_run_is_out_of_order():
    with pytest.raises(CloseRefusedError, match=r"out of order.*2025-12-31"):
        decide(CLOSED, date(2025, 12, 28), fp("x"))


def test_a_gap_is_refused_without_reading_the_input():
    def unreadable() -> str:
        raise AssertionError("the input was read")

    with pytest.raises(CloseRefusedError):
        decide(CLOSED, date(2026, 1, 5), unreadable)


def test_rolling_start_on_a_month_first_day_splits_no_month():
    # 2025-12-31 - 364 days = 2025-01-01
    assert rolling_cut(review_calendar(date(2025, 12, 31))) is None
    assert rolling_tail_days(date(2025, 12, 31)) == []


def test_rolling_start_inside_a_month_splits_it_and_the_tail_runs_to_its_end():
    cal = review_calendar(date(2025, 12, 29))  # rolling start 2024-12-30
    first, second = rolling_cut(cal)
    assert cal.buckets[second].start == date(2024, 12, 30)
    assert cal.buckets[first].end == date(2024, 12, 29)
    assert rolling_tail_days(date(2025, 12, 29)) == [date(2024, 12, 30), date(2024, 12, 31)]
