"""The arithmetic of the close on its state: one day added, and the batch's bucket sums
rebuilt from the state's month sums. Numpy on the state's arrays; no I/O.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierbook.analytics.aum import CLASSES
from tierbook.batch.close_state import CloseState
from tierbook.batch.measures import BucketSums
from tierbook.domain.closing import month_number, month_start, rolling_cut, rolling_tail_days
from tierbook.domain.periods import Bucket, ReviewCalendar, review_calendar
from tierbook.rules.loader import LoadedRulebook
from tierbook.rules.models import AumMeasure


def calendars(loaded: LoadedRulebook, day: date) -> tuple[ReviewCalendar, ReviewCalendar]:
    """The batch's review calendar as of ``day`` and as of the day after."""
    periods = tuple(
        lad.measure.period
        for lad in loaded.rulebook.aum_ladders()
        if isinstance(lad.measure, AumMeasure)
    )
    nxt = day + timedelta(days=1)
    return review_calendar(day, 12, periods), review_calendar(nxt, 12, periods)


def weights_of(loaded: LoadedRulebook) -> dict[str, float]:
    return {k.value: v for k, v in loaded.rulebook.asset_weights.items()}


def weight_vector(weights: dict[str, float]) -> np.ndarray:
    return np.asarray([weights.get(c, 0.0) for c in CLASSES])


def span_calendar(as_of: date, first: date, monthly: bool) -> ReviewCalendar:
    """A calendar of whole months from ``first``'s month (``monthly``), or of single days
    from ``first``, through ``as_of``: the engine's bucket sums at that grain."""
    if monthly:
        starts, n = [], month_number(first)
        while month_start(n) <= as_of:
            starts.append(month_start(n))
            n += 1
    else:
        starts = [first + timedelta(days=i) for i in range((as_of - first).days + 1)]
    ends = [*(s - timedelta(days=1) for s in starts[1:]), as_of]
    buckets = tuple(Bucket(s, e, i) for i, (s, e) in enumerate(zip(starts, ends, strict=True)))
    return ReviewCalendar(as_of=as_of, buckets=buckets, month_ends=tuple(ends), n_reviews=1)


def account_positions(state: CloseState, account_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each id's row in ``state.accounts`` (Arrow's hash lookup on the ids as they come from
    the engine: no Python strings); an id not in the state is refused."""
    known = pa.array(state.accounts["account_id"]).cast(pa.large_string())
    pos = pc.index_in(account_ids.cast(pa.large_string()), value_set=known)
    out = pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if (out < 0).any():
        raise ValueError("day rows of accounts not in the state (reconcile accounts first)")
    return out


def day_cents_daily(state: CloseState, pos: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Balances of the day's rows (at ``pos`` in ``state.accounts``) summed per class and
    customer slot: ``[classes, slots]``."""
    acc = state.accounts
    out = np.zeros((len(CLASSES), state.n_slots), np.int64)
    klass = acc["klass"].to_numpy()[pos]
    slot = acc["slot"].to_numpy()[pos]
    np.add.at(out, (klass, slot), cents)
    return out


def apply_events(state: CloseState, day: date, pos: np.ndarray, cents: np.ndarray) -> None:
    """Carry every balance forward to ``day``: the day's events (at ``pos`` in
    ``state.accounts``) replace their accounts' balances and accounts closing on ``day``
    stop counting. Only those accounts are touched; ``state.current`` holds the counted
    balances per class and slot."""
    acc = state.accounts
    close = acc["close_date"].to_numpy("datetime64[D]")
    d = np.datetime64(day, "D")
    touched = np.union1d(pos, np.flatnonzero(close == d))
    before = _counted(acc, touched, np.datetime64(state.last, "D"))
    last_cents = acc["last_cents"].to_numpy(np.int64).copy()
    last_date = acc["last_date"].to_numpy("datetime64[D]").copy()
    last_cents[pos], last_date[pos] = cents, d
    acc["last_cents"], acc["last_date"] = last_cents, last_date
    state.accounts_changed = True
    after = _counted(acc, touched, d)
    klass = acc["klass"].to_numpy()[touched]
    slot = acc["slot"].to_numpy()[touched]
    np.add.at(state.current, (klass, slot), after - before)


def _counted(acc: pd.DataFrame, rows: np.ndarray, day: np.datetime64) -> np.ndarray:
    """The balance each account in ``rows`` counts on ``day``: its last balance when it has
    one and is not closed by then (a balance holds until the close date), else 0."""
    last = acc["last_date"].to_numpy("datetime64[D]")[rows]
    close = acc["close_date"].to_numpy("datetime64[D]")[rows]
    live = ~np.isnat(last) & (np.isnat(close) | (day < close))
    return np.where(live, acc["last_cents"].to_numpy(np.int64)[rows], 0)


def add_day(state: CloseState, day: date, cents: np.ndarray, weights: dict[str, float]) -> None:
    """Add a day's ``[classes, slots]`` balances to its month and record its weighted sum."""
    m = month_number(day)
    state.months[m] = state.month(m) + cents
    w = weight_vector(weights)
    state.new_days[day.isoformat()] = (cents * w[:, None]).sum(axis=0)


def sums_from_state(
    state: CloseState, cal: ReviewCalendar, index: pd.Index, weights: dict[str, float]
) -> BucketSums:
    """The batch's ``BucketSums`` for ``cal`` from the state: whole-month class sums, and the
    month split at the rolling-365 start weighted from the state's daily sums."""
    slots = state.slots_of(index)
    if (slots < 0).any():
        raise ValueError("customers not in the state (add them first)")
    identity = len(slots) == state.n_slots and bool((slots == np.arange(len(slots))).all())
    cut = rolling_cut(cal)
    sums = BucketSums(len(index), len(cal.buckets), weights)
    for b, bucket in enumerate(cal.buckets):
        if cut is not None and b == cut[0]:
            continue  # the split month's class sums all go to its later part
        month = state.months.get(month_number(bucket.start))
        if month is not None:
            sums.add_dense(b, month if identity else month[:, slots])  # no copy when in order
    if cut is not None:
        first, second = cut
        tail = np.zeros(len(index))
        for d in rolling_tail_days(cal.as_of):
            tail += state.day(d)[slots]
        whole = sums.weighted_cents[:, second].copy()
        sums.set_weighted_cents(second, tail)
        sums.set_weighted_cents(first, whole - tail)
    return sums
