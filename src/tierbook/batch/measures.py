"""Measure matrices: bucket sums from the engine turned into per-period averages.

Rows follow the customers table order; columns are buckets or review months of the
``ReviewCalendar``. Pure numpy on results already aggregated by the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierbook.analytics.aum import CLASSES, repeated_day
from tierbook.domain.periods import ReviewCalendar
from tierbook.rules.models import AumMeasure, Ladder, Period


class BucketSums:
    """Balance-days per customer, asset class and bucket: the weighted matrix
    ``[customers, buckets]``, summed as each batch arrives, and the class sums kept as narrow
    arrays (one entry per non-zero row the engine returned, about 15 bytes) for the
    per-class averages.

    Sums are held in whole cents (the engine's float sums rounded to the cent: balances are
    amounts in cents, and a float sum of a few hundred of them is far closer than half a cent
    to the exact sum). Sums of whole cents are exact in float64 below 2**53 in any order, and
    so are weighted sums when the weights are binary fractions (1, 0.5, 0.25 … — the
    presets'): the batch and the incremental close (``tierbook.batch.close``) then agree to
    the last bit however their additions are ordered.
    """

    def __init__(self, n_customers: int, n_buckets: int, weights: dict[str, float]) -> None:
        self.n, self.n_buckets = n_customers, n_buckets
        self._w = np.asarray([weights.get(c, 0.0) for c in CLASSES])
        self._cents = np.zeros(n_customers * n_buckets)  # weighted cents, flat
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._dense: dict[int, np.ndarray] = {}  # bucket -> cents [classes, customers]
        self.rows_ok = 0  # balance rows the scan found passing (``n_ok``), when it counts them
        self.repeated_keys = 0  # events sharing a key with the next (``repeated``), likewise

    def add(self, batch: pa.RecordBatch | pa.Table, index: pd.Index) -> list[str]:
        """Add a batch of (row, bucket, klass, bd) sums (``keyed_bucket_sums``: one row per
        account and bucket, or already summed per customer); return the ids of the customers
        the batch flags with a duplicate day (``repeated_day``). ``index`` holds the
        customer ids in the engine's ``row`` order."""
        names = batch.schema.names
        if "n_ok" in names:
            self.rows_ok += int(pc.sum(batch.column("n_ok")).as_py() or 0)
        if "repeated" in names:
            self.repeated_keys += int(pc.sum(batch.column("repeated")).as_py() or 0)
        rows = batch.column("row").to_numpy(zero_copy_only=False).astype(np.int32)
        k = batch.column("klass").to_numpy(zero_copy_only=False).astype(np.int8)
        b = batch.column("bucket").to_numpy(zero_copy_only=False).astype(np.int16)
        bd = batch.column("bd").to_numpy(zero_copy_only=False).astype(np.float64)
        placed = (k >= 0) & (b >= 0)  # bucket -1: rows outside the window (``n_ok`` only)
        flagged: list[str] = []
        if "day_sum" in names:  # daily snapshots: rows counted in n_rows, or n_ok when checked
            count = batch.column("n_rows" if "n_rows" in names else "n_ok")
            day_sum = batch.column("day_sum").fill_null(0.0).to_numpy(zero_copy_only=False)
            dup = repeated_day(day_sum, count.to_numpy(zero_copy_only=False)) & placed
            flagged = list(index[rows[dup]]) if dup.any() else []
        cents = np.round(bd * 100.0)  # whole cents
        keep = placed & (cents != 0)  # a zero sum adds nothing: not kept
        rows, k, b, cents = rows[keep], k[keep], b[keep], cents[keep]
        np.add.at(self._cents, rows.astype(np.int64) * self.n_buckets + b, cents * self._w[k])
        self._parts.append((rows, k, b, cents))
        return flagged

    def add_dense(self, bucket: int, cents: np.ndarray) -> None:
        """Add one bucket's balance-days as a dense ``[classes, customers]`` array of whole
        cents (the close's month sums, one row per customer): the same sums as ``add`` of
        its non-zero entries — whole cents times binary-fraction weights are exact in
        float64 in any order."""
        cents = np.asarray(cents, dtype=np.int64)
        if bucket in self._dense:
            self._dense[bucket] = self._dense[bucket] + cents
        else:
            self._dense[bucket] = cents
        weighted = np.zeros(self.n)
        for k in np.flatnonzero(self._w):  # elementwise, in class order (no BLAS threads)
            weighted += cents[k] * self._w[k]
        self.weighted_cents[:, bucket] += weighted

    @property
    def weighted_cents(self) -> np.ndarray:
        """Weighted balance-days ``[customers, buckets]`` in whole cents."""
        return self._cents.reshape(self.n, self.n_buckets)

    @property
    def weighted(self) -> np.ndarray:
        """Weighted balance-days ``[customers, buckets]`` in CNY: a new array at each call
        (at 2M customers, 200 MB); the batch reads its averages through ``average``."""
        return self.weighted_cents / 100.0

    def average(self, cal: ReviewCalendar, period: str, month: int | None = None) -> np.ndarray:
        """``period_average`` of the weighted balance-days, in CNY."""
        return period_average(self.weighted_cents, cal, period, month, scale=100.0)

    def set_weighted_cents(self, bucket: int, cents: np.ndarray) -> None:
        """Replace one bucket's weighted cents (the close splits a month at the rolling-365
        cut from its own daily sums)."""
        self.weighted_cents[:, bucket] = cents

    def grouped_class_sums(
        self,
        groups: list[list[int]],
        rows: np.ndarray | None = None,
        classes: list[int] | None = None,
    ) -> np.ndarray:
        """Balance-days per customer, group of buckets and class, in one pass over the
        sums: ``[customers, groups, classes]``. ``groups`` are disjoint (the review months,
        say); ``rows``: only those customers' positions, in that order; ``classes``: only
        those positions in ``CLASSES``. Summed batch by batch: no temporary larger than a
        batch; each cell adds the same cents in the same order whichever rows, groups or
        classes are asked for."""
        g = len(groups)
        chosen = list(range(len(CLASSES))) if classes is None else list(classes)
        c = len(chosen)
        class_of = np.full(len(CLASSES), -1, dtype=np.int64)
        class_of[chosen] = np.arange(c)
        group_of = np.full(self.n_buckets, -1, dtype=np.int64)
        for j, buckets in enumerate(groups):
            if (group_of[buckets] >= 0).any():
                raise ValueError("grouped_class_sums: the groups of buckets overlap")
            group_of[buckets] = j
        picked = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64)
        row_of = np.full(self.n, -1, dtype=np.int64)
        row_of[picked] = np.arange(len(picked))
        out = np.zeros(len(picked) * g * c)
        for part_rows, k, b, cents in self._parts:
            r, j, kk = row_of[part_rows], group_of[b], class_of[k]
            sel = (r >= 0) & (j >= 0) & (kk >= 0)
            np.add.at(out, (r[sel] * g + j[sel]) * c + kk[sel], cents[sel])
        out = out.reshape(len(picked), g, c)
        for b, dense in self._dense.items():
            if group_of[b] >= 0:
                d = dense[chosen] if classes is not None else dense
                out[:, group_of[b], :] += (d if rows is None else d[:, picked]).T
        return out / 100.0

    def class_average(
        self,
        cal: ReviewCalendar,
        period: str,
        rows: np.ndarray | None = None,
        classes: list[int] | None = None,
    ) -> np.ndarray:
        """Daily average per customer and class over ``period`` ending at the as-of date
        (``rows``, ``classes``: as in ``grouped_class_sums``)."""
        sums = self.grouped_class_sums([list(cal.period_buckets(period))], rows, classes)
        return sums[:, 0, :] / cal.period_days(period)


ROW_BLOCK = 65_536
"""Rows of the per-customer matrices taken at a time by ``period_average``."""


def period_average(
    sums: np.ndarray,
    cal: ReviewCalendar,
    period: str,
    month: int | None = None,
    *,
    scale: float = 1.0,
) -> np.ndarray:
    """Average over ``period`` ending at review month ``month``: Σ balance-days ÷ days, of
    ``sums`` ``[customers, buckets]`` divided by ``scale`` (100: whole cents to CNY).
    Taken ``ROW_BLOCK`` rows at a time, so no copy of the period's columns is larger than a
    block; each row adds the same values in the same order as a whole-matrix sum."""
    idx = list(cal.period_buckets(period, month))
    out = np.empty(sums.shape[0])
    for start in range(0, len(out), ROW_BLOCK):
        part = sums[start : start + ROW_BLOCK][:, idx]
        out[start : start + ROW_BLOCK] = (part / scale if scale != 1.0 else part).sum(axis=-1)
    return out / cal.period_days(period, month)


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
    return review_averages(sums, cal, period)


def review_averages(sums: BucketSums, cal: ReviewCalendar, period: str) -> np.ndarray:
    """Weighted AUM averaged over ``period`` ending at every review month:
    ``[customers, reviews]`` (``"month"``: each customer's monthly 年日均)."""
    months = list(cal.review_months)
    out = np.empty((sums.n, len(months)))
    for j, m in enumerate(months):
        out[:, j] = sums.average(cal, period, m)
    return out
