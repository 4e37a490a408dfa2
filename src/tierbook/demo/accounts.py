"""Accounts and holdings of one chunk of customers: which products, how large, when.

Days are integers counted from 1 January of the demo year (negative = before the year).
A holding maturing inside the year closes on its maturity date; most time deposits and
wealth-management products roll over into a new account opened that same day, the rest
are paid out (half into the customer's demand account, half to another bank).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from tierbook.ingest.contract import PRODUCT_TYPES

DEMAND, TIME, WM, FUND, INSURANCE, METAL, LOAN = range(7)
assert PRODUCT_TYPES[LOAN] == "loan"
WEIGHTS = np.array([1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.0])  # bank_default asset_weights
DEPOSITS = (DEMAND, TIME)
NO_DAY = 1_000_000  # "no maturity" / "never closes"

NOISY, CONSTANT, WALK, AMORTIZE, SCRIPTED = range(5)
STYLE = np.array([NOISY, CONSTANT, WALK, WALK, CONSTANT, WALK, AMORTIZE])
SIGMA = np.array([0.35, 0.0, 0.004, 0.05, 0.0, 0.06, 0.0])
RATE = np.array([0.0, 0.0175, 0.028, 0.0, 0.0, 0.0, 0.0])  # yield at rollover
ROLLOVER = np.array([0.0, 0.8, 0.7, 0.0, 0.0, 0.0, 0.0])


@dataclass
class Holdings:
    """One row per account; every field an array of the same length."""

    cust: np.ndarray  # customer index within the chunk
    prod: np.ndarray  # index into PRODUCT_TYPES
    level: np.ndarray  # raw target balance (CNY)
    open_day: np.ndarray
    maturity: np.ndarray  # NO_DAY when none
    close: np.ndarray  # first day closed; NO_DAY when open past the year
    lam: np.ndarray  # expected balance changes per year besides opening
    sigma: np.ndarray
    style: np.ndarray
    term: np.ndarray  # days of one term (rollover), 0 when none
    payout: np.ndarray  # -1 none, 0 to own demand account, 1 to another bank

    @classmethod
    def build(
        cls,
        cust: np.ndarray,
        prod: np.ndarray,
        level: np.ndarray,
        open_day: np.ndarray,
        **kw: np.ndarray,
    ) -> Holdings:
        n = len(cust)
        p = prod.astype(np.int64)
        base = {
            "maturity": np.full(n, NO_DAY),
            "close": np.full(n, NO_DAY),
            "lam": np.zeros(n),
            "sigma": SIGMA[p],
            "style": STYLE[p],
            "term": np.zeros(n, dtype=np.int64),
            "payout": np.full(n, -1),
        }
        base.update(kw)
        return cls(
            cust.astype(np.int64),
            p,
            level.astype(float),
            open_day.astype(np.int64),
            **{k: np.asarray(v) for k, v in base.items()},
        )

    def __len__(self) -> int:
        return len(self.cust)

    def take(self, idx: np.ndarray) -> Holdings:
        return Holdings(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Holdings]) -> Holdings:
        return Holdings(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(Holdings)
            }
        )


def _s(x: np.ndarray, lo: float, span: float) -> np.ndarray:
    return np.clip((np.log10(np.maximum(x, 1.0)) - lo) / span, 0.0, 1.0)


def _later_open(
    rng: np.random.Generator, cust_open: np.ndarray, days: int, mid_year: float
) -> np.ndarray:
    """Open days of secondary accounts: after the customer's opening, some inside the year."""
    lo = cust_open
    u = rng.random(len(lo))
    out = lo + (u * (days - lo)).astype(np.int64)
    force = (rng.random(len(lo)) < mid_year) & (lo < days - 30)
    first = np.maximum(lo, 0)
    out[force] = first[force] + (rng.random(force.sum()) * (days - 20 - first[force])).astype(
        np.int64
    )
    return np.minimum(out, days - 2)


def _term_dates(rng: np.random.Generator, prod: np.ndarray, cust_open: np.ndarray, days: int):
    """Open, maturity and term of time deposits, WM products and insurance policies."""
    n = len(prod)
    term = np.where(
        prod == TIME,
        rng.choice([365, 730, 1095, 1825], n, p=[0.45, 0.2, 0.3, 0.05]),
        np.where(
            prod == WM,
            rng.choice([91, 182, 365], n, p=[0.3, 0.4, 0.3]),
            rng.integers(10, 21, n) * 365,
        ),
    )
    soon = rng.random(n) < np.where(prod == INSURANCE, 0.08, np.where(prod == WM, 0.8, 0.7))
    maturity = np.where(
        soon,
        rng.integers(1, days + 60, n),
        days + 1 + (rng.random(n) * (term - 2)).astype(np.int64),
    )
    opened = maturity - term
    late = opened < cust_open
    opened[late] = np.maximum(cust_open[late], 0) + (
        rng.random(late.sum()) * (days - 20 - np.maximum(cust_open[late], 0))
    ).astype(np.int64)
    maturity[late] = opened[late] + term[late]
    return opened, maturity, term


def normal_holdings(
    rng: np.random.Generator,
    cust: np.ndarray,
    *,
    wealth: np.ndarray,
    activity: np.ndarray,
    cust_open: np.ndarray,
    corporate: np.ndarray,
    days: int,
) -> Holdings:
    """Product mix by wealth: the poor hold demand deposits, the rich everything else."""
    n = len(cust)
    ind = ~corporate
    p = np.zeros((n, 7))
    p[:, DEMAND] = 1.0
    p[:, TIME] = np.where(ind, 0.08 + 0.55 * _s(wealth, 4.0, 2.0), 0.4)
    p[:, WM] = np.where(ind, 0.65 * _s(wealth, 4.7, 1.5), 0.15)
    p[:, FUND] = np.where(ind, 0.04 + 0.4 * _s(wealth, 4.5, 2.0), 0.0)
    p[:, INSURANCE] = np.where(ind, 0.5 * _s(wealth, 5.3, 1.0), 0.0)
    p[:, METAL] = np.where(ind, 0.02 + 0.25 * _s(wealth, 5.5, 1.0), 0.0)
    has = rng.random((n, 7)) < p
    has[:, DEMAND] = True
    alpha = np.array([1.0, 1.6, 1.5, 0.7, 0.8, 0.4])
    share = rng.gamma(np.broadcast_to(alpha, (n, 6))) * has[:, :6]
    share[:, DEMAND] += 0.05
    share /= share.sum(axis=1, keepdims=True)
    # a second demand account for some, a second time deposit for richer customers
    extra_demand = rng.random(n) < np.where(ind, 0.15, 0.4)
    extra_time = has[:, TIME] & (rng.random(n) < 0.3 * _s(wealth, 4.5, 2.0))

    ci, pi = np.nonzero(has[:, :6])
    level = wealth[ci] * share[ci, pi] / WEIGHTS[pi]
    is_extra = np.zeros(len(ci), dtype=bool)
    for flag, prod in ((extra_demand, DEMAND), (extra_time, TIME)):
        sel = np.flatnonzero(flag)
        mask = pi == prod
        # split that product's level between two accounts
        pos = np.flatnonzero(mask & np.isin(ci, sel))
        frac = rng.uniform(0.2, 0.6, len(pos))
        level_extra = level[pos] * frac
        level[pos] -= level_extra
        ci = np.concatenate([ci, ci[pos]])
        pi = np.concatenate([pi, pi[pos]])
        level = np.concatenate([level, level_extra])
        is_extra = np.concatenate([is_extra, np.ones(len(pos), dtype=bool)])
    # loans (not AUM): mortgages for some individuals, credit lines for many corporates
    loan_c = np.flatnonzero(rng.random(n) < np.where(ind, 0.06, 0.45))
    loan_level = np.where(
        corporate[loan_c],
        wealth[loan_c] * rng.uniform(1.0, 5.0, len(loan_c)),
        rng.uniform(2e5, 1.5e6, len(loan_c)),
    )
    ci = np.concatenate([ci, loan_c])
    pi = np.concatenate([pi, np.full(len(loan_c), LOAN)])
    level = np.concatenate([level, loan_level])
    is_extra = np.concatenate([is_extra, np.ones(len(loan_c), dtype=bool)])

    order = np.lexsort((is_extra, pi, ci))
    ci, pi, level, is_extra = ci[order], pi[order], level[order], is_extra[order]
    m = len(ci)
    c_open = cust_open[ci]
    primary = (pi == DEMAND) & ~is_extra
    open_day = np.where(primary, c_open, _later_open(rng, c_open, days, 0.12))
    maturity = np.full(m, NO_DAY)
    close = np.full(m, NO_DAY)
    term = np.zeros(m, dtype=np.int64)
    termed = np.isin(pi, (TIME, WM, INSURANCE))
    o, mat, t = _term_dates(rng, pi[termed], c_open[termed], days)
    open_day[termed], maturity[termed], term[termed] = o, mat, t
    loans = pi == LOAN
    maturity[loans] = days + rng.integers(200, 20 * 365, loans.sum())
    # some secondary demand accounts, funds and metal accounts close in the year
    closable = ((pi == DEMAND) & is_extra) | np.isin(pi, (FUND, METAL))
    closing = closable & (rng.random(m) < 0.08)
    start = np.maximum(open_day, 0)
    close[closing] = (
        start[closing]
        + 1
        + (rng.random(closing.sum()) * (days - 1 - start[closing])).astype(np.int64)
    )

    act = activity[ci]
    lam = np.select(
        [pi == DEMAND, pi == WM, pi == FUND, pi == METAL, pi == LOAN],
        [np.where(corporate[ci], 60 + 100 * act, 10 + 36 * act), 2.0, 12.0, 4.0, 12.0],
        0.0,
    )
    sigma = SIGMA[pi] * np.where(corporate[ci] & (pi == DEMAND), 0.7, 1.0)
    return Holdings.build(
        cust[ci],
        pi,
        level,
        open_day,
        maturity=maturity,
        close=close,
        lam=lam,
        sigma=sigma,
        term=term,
    )


def settle_maturities(rng: np.random.Generator, h: Holdings, days: int) -> Holdings:
    """Close holdings that mature in the year; roll most of them over into new accounts."""
    parts = [h]
    current = h
    for _ in range(8):
        due = np.flatnonzero((current.maturity < days) & (current.close == NO_DAY))
        if len(due) == 0:
            break
        current.close[due] = current.maturity[due]
        rolls = rng.random(len(due)) < ROLLOVER[current.prod[due]]
        current.payout[due[~rolls]] = (rng.random((~rolls).sum()) < 0.5).astype(int)
        src = current.take(due[rolls])
        if len(src) == 0:
            break
        grown = src.level * (1.0 + RATE[src.prod] * src.term / 365.0)
        new = Holdings.build(
            src.cust,
            src.prod,
            np.round(grown, 2),
            src.maturity,
            maturity=src.maturity + src.term,
            close=np.full(len(src), NO_DAY),
            lam=src.lam,
            sigma=src.sigma,
            style=src.style,
            term=src.term,
        )
        parts.append(new)
        current = new
    out = Holdings.concat(parts)
    order = np.lexsort((out.open_day, out.prod, out.cust))
    return out.take(order)
