"""Monthly income per customer: net interest, fees and the concessions given.

Net interest is a margin on the monthly average balance of deposits and loans; fees come
from fee-earning holdings (wealth management, funds, insurance, precious metals) and from
transactions; concessions (fee waivers, rate premium) are a modest share for ordinary
customers and are reshaped for the planted peelers and high-volume-low-profit customers.
"""

from __future__ import annotations

import numpy as np

from tierbook.demo.accounts import DEMAND, FUND, INSURANCE, LOAN, METAL, TIME, WM, Holdings
from tierbook.demo.cases import Plan
from tierbook.demo.paths import Book, month_of_day

_MARGIN = np.zeros(7)
_MARGIN[[DEMAND, TIME, LOAN]] = (0.018, 0.006, 0.02)
_FEE = np.zeros(7)
_FEE[[WM, FUND, INSURANCE, METAL]] = (0.006, 0.012, 0.015, 0.005)


def monthly_averages(book: Book) -> np.ndarray:
    """Account × month average balance (calendar days; closed days count as zero)."""
    month = month_of_day(book.days)
    starts = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
    sums = np.add.reduceat(book.B, starts, axis=1)
    return sums / np.bincount(month)[None, :]


def compute(
    rng: np.random.Generator,
    book: Book,
    h: Holdings,
    *,
    n_customers: int,
    txn_acct: np.ndarray,
    txn_day: np.ndarray,
    wealth: np.ndarray,
    plan: Plan,
) -> dict[str, np.ndarray]:
    """Customer × month arrays: net_interest, fees, fee_waivers, rate_premium (CNY, cents)."""
    avg = monthly_averages(book)
    month = month_of_day(book.days)
    ni = np.zeros((n_customers, 12))
    fees = np.zeros((n_customers, 12))
    np.add.at(ni, h.cust, avg * _MARGIN[h.prod][:, None] / 12.0)
    np.add.at(fees, h.cust, avg * _FEE[h.prod][:, None] / 12.0)
    count = np.zeros((n_customers, 12))
    np.add.at(count, (h.cust[txn_acct], month[txn_day]), 1.0)
    fees += count * 0.2
    has_demand = np.zeros(n_customers, dtype=bool)
    has_demand[h.cust[h.prod == DEMAND]] = True
    fees += has_demand[:, None] * 1.0
    time_avg = np.zeros((n_customers, 12))
    np.add.at(time_avg, h.cust[h.prod == TIME], avg[h.prod == TIME])

    waive = rng.uniform(0.0, 0.25, n_customers)[:, None] * fees
    premium = (
        (wealth >= 200_000)[:, None]
        * rng.uniform(0.0, 0.0015, n_customers)[:, None]
        * time_avg
        / 12.0
    )

    for c in plan.of("peeler"):
        gross = ni[c] + fees[c]
        total = plan.ratio[c] * gross
        waive[c] = np.minimum(fees[c], 0.3 * total)
        premium[c] = total - waive[c]
    hv_count = count.copy()
    for c in plan.of("high_volume_low_profit"):
        fees[c] += hv_count[c] * 1.8  # priced per transaction, then waived almost entirely
        gross = ni[c] + fees[c]
        waive[c] = fees[c] * rng.uniform(0.9, 1.0)
        premium[c] = np.maximum(gross - waive[c] - plan.ratio[c] * gross, 0.0)
    return {
        "net_interest": np.round(ni, 2),
        "fees": np.round(fees, 2),
        "fee_waivers": np.round(waive, 2),
        "rate_premium": np.round(premium, 2),
    }
