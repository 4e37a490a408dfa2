"""Balance paths of one chunk as a dense account × day matrix, and its two export forms.

The matrix holds each account's end-of-day balance, zero on days it is not open. Both
export forms are read off the same rounded matrix, so they agree by construction:
``balances_daily`` is every open cell; ``balance_events`` is every cell whose balance
differs from the day before (an opening is a change from zero, a close a change to zero).
Deposit transactions are the day-to-day differences, so a change of +x is an inflow of x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierbook.demo.accounts import AMORTIZE, CONSTANT, DEMAND, NOISY, WALK, WM, Holdings
from tierbook.ingest.contract import COUNTERPARTY_TYPES

CP = {name: i for i, name in enumerate(COUNTERPARTY_TYPES)}


@dataclass
class Book:
    """The chunk's balances: ``B[a, d]`` is the end-of-day balance of account ``a`` on day ``d``."""

    B: np.ndarray
    mask: np.ndarray  # open days
    start: np.ndarray  # first day in the year the account is open
    end: np.ndarray  # first day in the year it is closed (``days`` when open at year end)
    cp: np.ndarray  # counterparty override per cell, -1 for none (int8)

    @property
    def days(self) -> int:
        return self.B.shape[1]


def simulate(rng: np.random.Generator, h: Holdings, days: int, drift: np.ndarray) -> Book:
    """Fill the matrix from random change days and the product's balance style."""
    n = len(h)
    start = np.maximum(h.open_day, 0)
    end = np.minimum(h.close, days)
    span = end - start
    k = rng.poisson(h.lam * span / days)
    k[h.style == AMORTIZE] = 0
    k[span <= 1] = 0
    a_extra = np.repeat(np.arange(n), k)
    d_extra = start[a_extra] + 1 + (rng.random(len(a_extra)) * (span[a_extra] - 1)).astype(np.int64)
    # loans amortise on the first of each month
    loan_rows = np.flatnonzero(h.style == AMORTIZE)
    month_starts = _month_starts(days)
    a_loan = np.repeat(loan_rows, len(month_starts))
    d_loan = np.tile(month_starts, len(loan_rows))
    keep = (d_loan > start[a_loan]) & (d_loan < end[a_loan])
    acct = np.concatenate([np.arange(n), a_extra, a_loan[keep]])
    day = np.concatenate([start, d_extra, d_loan[keep]])
    order = np.lexsort((day, acct))
    acct, day = acct[order], day[order]

    z = rng.standard_normal(len(acct))
    lvl = h.level[acct]
    sig = h.sigma[acct]
    style = h.style[acct]
    value = lvl.copy()
    noisy = style == NOISY
    t = day / days - 0.5
    value[noisy] = lvl[noisy] * np.exp(
        sig[noisy] * z[noisy] - sig[noisy] ** 2 / 2 + drift[h.cust[acct[noisy]]] * t[noisy]
    )
    walk = style == WALK
    step = np.where(h.prod[acct] == WM, 0.002 + sig * np.abs(z), sig * z) * walk
    first = np.r_[True, acct[1:] != acct[:-1]]
    step[first] = 0.0
    cs = np.cumsum(step)
    base = np.maximum.accumulate(np.where(first, np.arange(len(acct)), 0))
    value[walk] = lvl[walk] * np.exp(cs[walk] - cs[base[walk]])
    amort = style == AMORTIZE
    rate = rng.uniform(0.05, 0.25, n)
    value[amort] = lvl[amort] * (1.0 - rate[acct[amort]] * day[amort] / days)
    value[style == CONSTANT] = lvl[style == CONSTANT]

    B = np.full((n, days), np.nan)
    B[acct, day] = value
    B = _ffill(B)
    mask = (np.arange(days)[None, :] >= start[:, None]) & (np.arange(days)[None, :] < end[:, None])
    B = np.where(mask, B, 0.0)
    cp = np.full((n, days), -1, dtype=np.int8)
    return Book(B, mask, start, end, cp)


def _ffill(B: np.ndarray) -> np.ndarray:
    days = B.shape[1]
    idx = np.where(np.isnan(B), 0, np.arange(days)[None, :])
    np.maximum.accumulate(idx, axis=1, out=idx)
    return B[np.arange(B.shape[0])[:, None], idx]


def _month_starts(days: int) -> np.ndarray:
    # day index of the 1st of each month (leap years: February has 29 days)
    lengths = [31, 29 if days == 366 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return np.cumsum([0, *lengths[:-1]])


def month_of_day(days: int) -> np.ndarray:
    """Month index 0–11 of every day of the year."""
    starts = _month_starts(days)
    return np.searchsorted(starts, np.arange(days), side="right") - 1


def settle_payouts(book: Book, h: Holdings) -> None:
    """Move matured money that was not rolled over: into the demand account, or out."""
    closing = np.flatnonzero((h.close < book.days) & (h.close > 0))
    for a in closing:
        c = int(h.close[a])
        if h.payout[a] == 1:
            book.cp[a, c] = CP["other_bank"]
            continue
        book.cp[a, c] = CP["own"]
        if h.payout[a] != 0:
            continue
        same = np.flatnonzero((h.cust == h.cust[a]) & (h.prod == DEMAND) & book.mask[:, c])
        if len(same) == 0:
            continue
        target = same[0]
        amount = book.B[a, c - 1]
        book.B[target, c:] += amount * book.mask[target, c:]
        book.cp[target, c] = CP["own"]
    # a rolled-over holding opens the day its predecessor closes: money moves between own accounts
    opened = np.flatnonzero(h.open_day > 0)
    for a in opened:
        d = int(h.open_day[a])
        if d < book.days and ((h.cust == h.cust[a]) & (h.prod == h.prod[a]) & (h.close == d)).any():
            book.cp[a, d] = CP["own"]


def finish(book: Book) -> None:
    """Round to cents; an open account never shows exactly zero (so a close is a change)."""
    book.B = np.where(book.mask, np.maximum(np.round(book.B, 2), 0.01), 0.0)


def _prev(B: np.ndarray) -> np.ndarray:
    prev = np.zeros_like(B)
    prev[:, 1:] = B[:, :-1]
    return prev


def daily_rows(book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, d = np.nonzero(book.mask)
    return a, d, book.B[a, d]


def event_rows(book: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, d = np.nonzero(_prev(book.B) != book.B)
    return a, d, book.B[a, d]


def deltas(
    book: Book, h: Holdings, deposit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observable balance changes of deposit accounts: (account, day, signed amount)."""
    D = book.B - _prev(book.B)
    D[h.open_day < 0, 0] = 0.0  # the balance carried into the year is not a movement
    D[~deposit] = 0.0
    D = np.round(D, 2)
    a, d = np.nonzero(D)
    return a, d, D[a, d]
