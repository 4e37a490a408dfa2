"""Measure matrices: bucket sums from the engine turned into per-period averages.

Rows follow the customers table order; columns are buckets or review months of the
``ReviewCalendar``. Pure numpy on results already aggregated by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierbook.analytics.aum import CLASSES
from tierbook.domain.periods import ReviewCalendar
from tierbook.rules.models import AumMeasure, Ladder, Period


@dataclass(frozen=True)
class BucketSums:
    """Balance-days per customer × bucket: weighted, and per asset class."""

    weighted: np.ndarray  # [customers, buckets]
    by_class: np.ndarray  # [customers, classes, buckets]

    @classmethod
    def empty(cls, n_customers: int, n_buckets: int) -> BucketSums:
        return cls(
            np.zeros((n_customers, n_buckets)), np.zeros((n_customers, len(CLASSES), n_buckets))
        )

    def add(self, batch: pa.RecordBatch | pa.Table, index: pd.Index) -> list[str]:
        """Add a batch of per-customer bucket sums; return the ids of customers the batch
        flags with duplicate days. Rows of customers not in ``index`` (set aside by the
        ingest) are ignored."""
        ids = pa.array(index.to_numpy(), type=pa.string())
        found = pc.index_in(batch.column("customer_id"), value_set=ids)
        keep = found.is_valid().to_numpy(zero_copy_only=False)
        rows = found.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)[keep]
        b = batch.column("bucket").to_numpy(zero_copy_only=False)[keep].astype(np.int64)
        self.weighted[rows, b] += batch.column("weighted").to_numpy(zero_copy_only=False)[keep]
        for k, c in enumerate(CLASSES):
            self.by_class[rows, k, b] += batch.column(f"bd_{c}").to_numpy(zero_copy_only=False)[
                keep
            ]
        if "duplicate_days" not in batch.schema.names:
            return []
        dup = batch.column("duplicate_days").to_numpy(zero_copy_only=False)[keep] > 0
        return list(index[rows[dup]])

    @classmethod
    def from_arrow(cls, table: pa.Table, index: pd.Index, n_buckets: int) -> BucketSums:
        sums = cls.empty(len(index), n_buckets)
        sums.add(table, index)
        return sums


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
