"""An independent recomputation of monthly 年日均 and card tiers from a demo bank's raw
files: pandas group-bys and a plain per-customer policy loop, sharing no code with tierbook.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.seed_rules import SEED_LADDERS

CARD = SEED_LADDERS[("bank_default", "card_tiers")]
WEIGHTS = {
    "demand_deposit": 1.0,
    "time_deposit": 1.0,
    "wealth_management": 0.5,
    "fund": 0.5,
    "insurance": 0.5,
    "precious_metal": 0.5,
    "loan": 0.0,
}
DAYS_2025 = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def card_level(x: float) -> int:
    x = round(x, 2)
    return max(i for i, (_, m) in enumerate(CARD) if x >= m)


def slow_down(months: list[float]) -> int:
    """Fast up, slow down, written plainly: 3 below → watch, 3 more → best of last 6."""
    level, run, quals = card_level(months[0]), 0, [card_level(months[0])]
    for x in months[1:]:
        q = card_level(x)
        quals.append(q)
        if q > level:
            level, run = q, 0
        elif q == level:
            run = 0
        else:
            run += 1
            if run >= 6:
                level, run = min(level, max(quals[-6:])), 0
    return level


def monthly_averages(bank: Path) -> pd.DataFrame:
    """Weighted 年日均 of each calendar month of 2025 per customer (rows in customers.csv
    order, columns 1..12), from ``balances_daily``; a missing day counts as zero."""
    acc = pd.read_csv(bank / "accounts.csv", dtype=str)
    cust = pd.read_csv(bank / "customers.csv", dtype=str)
    bal = pd.read_parquet(bank / "balances_daily")
    bal["date"] = pd.to_datetime(bal["date"])
    bal = bal[(bal["date"] >= "2025-01-01") & (bal["date"] <= "2025-12-31")]
    bal = bal.merge(acc[["account_id", "customer_id", "product_type"]], on="account_id")
    bal["w"] = bal["balance"] * bal["product_type"].map(WEIGHTS)
    bal["month"] = bal["date"].dt.month
    sums = bal.groupby(["customer_id", "month"])["w"].sum().unstack(fill_value=0.0)
    sums = sums.reindex(index=cust["customer_id"], columns=range(1, 13), fill_value=0.0)
    return sums / DAYS_2025


def card_levels(avgs: pd.DataFrame) -> pd.Series:
    """The card tier index each customer holds at the year end."""
    return pd.Series([slow_down(list(row)) for row in avgs.to_numpy()], index=avgs.index)
