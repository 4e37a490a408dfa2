"""Rules of the incremental daily close that need no data. Pure.

A close state is closed through one day; the next close must be the day after it. Closing a
day already closed with the same input (same fingerprint) is a no-op; with another input,
or a day before the state began, or a day after a gap, it is refused with the expected date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from tierbook.domain.periods import ReviewCalendar

ROLLING_DAYS = 365


class CloseRefusedError(ValueError):
    """A close that must not run; the message names the expected date."""


class Action(Enum):
    CLOSE = "close"
    NOTHING = "already closed"


@dataclass(frozen=True)
class Closed:
    """What a state has closed: from its initial day (a full run) through ``last``."""

    initial: date
    last: date
    fingerprints: Mapping[str, str]  # ISO day -> fingerprint of the input it was closed with

    @property
    def expected(self) -> date:
        return self.last + timedelta(days=1)


def decide(closed: Closed, day: date, fingerprint: Callable[[], str]) -> Action:
    """Close ``day``, do nothing (already closed with this input), or refuse.
    ``fingerprint`` is asked for only when a closed day's input must be compared."""
    if day == closed.expected:
        return Action.CLOSE
    if day > closed.expected:
        missing = (day - closed.expected).days
        raise CloseRefusedError(
            f"gap: the state is closed through {closed.last}; the next day to close is "
            f"{closed.expected}, not {day} ({missing} day{'s' * (missing > 1)} missing)"
        )
    if day <= closed.initial:
        raise CloseRefusedError(
            f"out of order: {day} is covered by the full run as of {closed.initial} this state "
            f"started from; the next day to close is {closed.expected}"
        )
    before = closed.fingerprints.get(day.isoformat())
    now = fingerprint()
    if before == now:
        return Action.NOTHING
    raise CloseRefusedError(
        f"{day} was already closed with a different input (fingerprint {str(before)[:12]}…, "
        f"now {now[:12]}…); the next day to close is {closed.expected}. To correct a "
        "closed day, run the full batch again (tierbook run --write-state)"
    )


def month_number(d: date) -> int:
    """Months since year 0: consecutive months are consecutive numbers."""
    return d.year * 12 + d.month - 1


def month_start(number: int) -> date:
    return date(number // 12, number % 12 + 1, 1)


def first_month_needed(cal_now: ReviewCalendar, cal_next: ReviewCalendar) -> int:
    """The oldest month a close of this or any later day can still read (window starts only
    move forward)."""
    return month_number(min(cal_now.start, cal_next.start))


def rolling_cut(cal: ReviewCalendar) -> tuple[int, int] | None:
    """``(first, second)`` bucket indices of the month the rolling-365 start splits, or None
    when the start is a month's first day (then no month is split)."""
    start = cal.as_of - timedelta(days=ROLLING_DAYS - 1)
    if start.day == 1:
        return None
    for i, b in enumerate(cal.buckets):
        if b.start == start:
            return i - 1, i
    raise ValueError(f"calendar as of {cal.as_of} has no bucket starting at {start}")


def rolling_tail_days(as_of: date) -> list[date]:
    """Days from the rolling-365 start to the end of its month (the split month's later part);
    empty when the start is a month's first day."""
    start = as_of - timedelta(days=ROLLING_DAYS - 1)
    if start.day == 1:
        return []
    nxt = month_start(month_number(start) + 1)
    return [start + timedelta(days=i) for i in range((nxt - start).days)]
