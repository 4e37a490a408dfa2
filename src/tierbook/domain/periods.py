"""Review calendar: the day buckets every average is built from. Pure.

A batch as of a date D looks back over ``history_months`` calendar months ending with D's
month (the last month is month-to-date). The window is cut into disjoint *buckets* of days
so that every period the rules ask for is a union of buckets:

- ``month``   — the calendar month ending at a review point (month-to-date for D's month);
- ``quarter`` — the three months ending at a review point;
- ``year``    — the twelve months ending at a review point (the calendar year when D is
  31 December);
- ``ytd``     — 1 January of D's year to D (年日均 to date, as banks report it);
- ``rolling_365`` — the 365 days ending at D.

An average over a period is Σ of daily balances over its days ÷ the number of calendar days
in the period; a day with no balance counts as zero (SPEC §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tierbook.rules.models import Period


@dataclass(frozen=True)
class Bucket:
    start: date  # first day, inclusive
    end: date  # last day, inclusive
    month: int  # index of the review month the bucket belongs to (0 = oldest)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


SPANS = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}


@dataclass(frozen=True)
class ReviewCalendar:
    as_of: date
    buckets: tuple[Bucket, ...]
    month_ends: tuple[date, ...]  # last day of every month of the window; the last is as_of
    n_reviews: int  # review points are the last ``n_reviews`` months

    @property
    def start(self) -> date:
        return self.buckets[0].start

    @property
    def n_months(self) -> int:
        return len(self.month_ends)

    @property
    def review_months(self) -> tuple[int, ...]:
        return tuple(range(self.n_months - self.n_reviews, self.n_months))

    def boundaries(self) -> tuple[date, ...]:
        """Bucket start dates followed by the day after ``as_of`` (for range look-ups)."""
        return (*(b.start for b in self.buckets), self.as_of + timedelta(days=1))

    def period_buckets(self, period: Period | str, month: int | None = None) -> tuple[int, ...]:
        """Indices of the buckets forming ``period`` that ends at month index ``month``
        (default: the last, i.e. ``as_of``)."""
        last = self.n_months - 1 if month is None else month
        p = str(period)
        if p in ("ytd", Period.ROLLING_365):
            if last != self.n_months - 1:
                raise ValueError(f"{p} is defined at the as-of date only")
            first = date(self.as_of.year, 1, 1) if p == "ytd" else self.as_of - timedelta(days=364)
            return tuple(i for i, b in enumerate(self.buckets) if b.start >= first)
        try:
            span = SPANS[Period(p)]
        except (ValueError, KeyError):
            raise ValueError(f"unknown period {period!r}") from None
        lo = last - span + 1
        if lo < 0:
            raise ValueError(f"period {p} ending at month {last} reaches before the window")
        return tuple(i for i, b in enumerate(self.buckets) if lo <= b.month <= last)

    def period_days(self, period: Period | str, month: int | None = None) -> int:
        """Calendar days of the period (days without a balance count as zero)."""
        return sum(self.buckets[i].days for i in self.period_buckets(period, month))


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def _month_end(d: date) -> date:
    return _add_months(date(d.year, d.month, 1), 1) - timedelta(days=1)


def review_calendar(
    as_of: date, history_months: int = 12, periods: tuple[Period | str, ...] = ()
) -> ReviewCalendar:
    """Buckets for ``history_months`` review months ending with ``as_of``'s month, reaching
    back far enough that every requested period is whole at the first review point, with
    the rolling-365 start and 1 January as extra cut points."""
    if history_months < 1:
        raise ValueError("history_months must be at least 1")
    span = max([1, *(SPANS.get(Period(str(p)), 1) for p in periods if str(p) in SPANS)])
    first_month = _add_months(date(as_of.year, as_of.month, 1), -(history_months + span - 2))
    rolling_start = as_of - timedelta(days=364)
    window_start = min(first_month, rolling_start, date(as_of.year, 1, 1))
    first_month = date(window_start.year, window_start.month, 1)
    month_starts = []
    m = first_month
    while m <= as_of:
        month_starts.append(m)
        m = _add_months(m, 1)
    cuts = sorted({*month_starts, rolling_start})
    ends = [*(s - timedelta(days=1) for s in cuts[1:]), as_of]
    month_ends = tuple(min(_month_end(m), as_of) for m in month_starts)
    buckets = tuple(
        Bucket(start=s, end=e, month=next(i for i, me in enumerate(month_ends) if s <= me))
        for s, e in zip(cuts, ends, strict=True)
    )
    return ReviewCalendar(
        as_of=as_of, buckets=buckets, month_ends=month_ends, n_reviews=history_months
    )
