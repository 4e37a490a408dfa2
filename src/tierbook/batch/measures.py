"""Measure matrices: bucket sums from the engine turned into per-period averages.

Rows follow the customers table order; columns are buckets or review months of the
``ReviewCalendar``. Pure numpy on results already aggregated by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from tierbook.analytics.aum import CLASSES
from tierbook.domain.periods import ReviewCalendar
from tierbook.rules.models import AumMeasure, Ladder, Period


@dataclass(frozen=True)
class BucketSums:
    """Balance-days per customer × bucket: weighted, and per asset class."""

    weighted: np.ndarray  # [customers, buckets]
    by_class: np.ndarray  # [customers, classes, buckets]

    @classmethod
    def from_arrow(cls, table: pa.Table, index: pd.Index, n_buckets: int) -> BucketSums:
        n = len(index)
        rows = index.get_indexer(table.column("customer_id").to_numpy(zero_copy_only=False))
        keep = rows >= 0  # balances of customers that were quarantined are set aside
        rows = rows[keep]
        b = table.column("bucket").to_numpy()[keep].astype(np.int64)
        weighted = np.zeros((n, n_buckets))
        np.add.at(weighted, (rows, b), table.column("weighted").to_numpy()[keep])
        by_class = np.zeros((n, len(CLASSES), n_buckets))
        for k, c in enumerate(CLASSES):
            np.add.at(by_class[:, k, :], (rows, b), table.column(f"bd_{c}").to_numpy()[keep])
        return cls(weighted, by_class)


def period_average(sums: np.ndarray, cal: ReviewCalendar, period: str, month: int | None = None):
    """Average over ``period`` ending at review month ``month``: Σ balance-days ÷ days."""
    idx = list(cal.period_buckets(period, month))
    return sums[..., idx].sum(axis=-1) / cal.period_days(period, month)


def ladder_history(ladder: Ladder, sums: BucketSums, cal: ReviewCalendar) -> np.ndarray:
    """The ladder's measure at every review point: ``[customers, reviews]``."""
    if not isinstance(ladder.measure, AumMeasure):
        raise ValueError(f"ladder {ladder.id} is not measured on AUM")
    period = ladder.measure.period
    if period == Period.ROLLING_365:
        raise ValueError(
            f"ladder {ladder.id}: rolling_365 is reported at the as-of date and cannot drive "
            "a monthly review; use month, quarter or year"
        )
    return np.stack(
        [period_average(sums.weighted, cal, period, m) for m in cal.review_months], axis=1
    )
