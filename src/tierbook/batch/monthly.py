"""The monthly book: per customer and review month, the matrices churn and segmentation
read — AUM, AUM per asset class, flows per counterparty, open accounts, level on a ladder.

Rows are the customers an analysis reads (``rows``: their positions in the customers
table, in its order; by default all of them); columns are the review months of the
calendar. Built from the balance sums the tiering already holds and two engine queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from tierbook.analytics import churn as expr
from tierbook.analytics.aum import customer_rows
from tierbook.analytics.backends.engine import record_batches
from tierbook.batch.measures import BucketSums, review_averages
from tierbook.domain.periods import ReviewCalendar
from tierbook.domain.tiers import TierPath
from tierbook.ingest.contract import COUNTERPARTY_TYPES, DIRECTIONS
from tierbook.ingest.dataset import Dataset


@dataclass
class MonthlyBook:
    customer_ids: pd.Index
    rows: np.ndarray  # [n] positions of the book's customers in the customers table (sums)
    month_ends: list[date]
    aum: np.ndarray  # [n, T] average weighted AUM
    class_aum: np.ndarray  # [n, T, classes] average balance per asset class
    flows: np.ndarray  # [n, T, counterparty, direction] amounts
    counts: np.ndarray  # [n, T] transactions
    open_accounts: np.ndarray  # [n, T] AUM accounts open at the month end
    open_date: np.ndarray  # [n] datetime64[D]
    levels: np.ndarray  # [n, T] level index on the churn ladder
    below_runs: np.ndarray  # [n, T] consecutive months below the held level's minimum

    @property
    def n_months(self) -> int:
        return len(self.month_ends)

    def flow(self, counterparty: str, direction: str) -> np.ndarray:
        """``[n, T]`` amounts of one counterparty type and direction."""
        c, d = COUNTERPARTY_TYPES.index(counterparty), DIRECTIONS.index(direction)
        return self.flows[:, :, c, d]

    def outflow(self) -> np.ndarray:
        return self.flows[:, :, :, DIRECTIONS.index("out")].sum(axis=2)

    def inflow(self) -> np.ndarray:
        return self.flows[:, :, :, DIRECTIONS.index("in")].sum(axis=2)

    def truncated(self, months: int) -> MonthlyBook:
        """The first ``months`` months only (what was known at that month's end)."""
        return MonthlyBook(
            self.customer_ids, self.rows, self.month_ends[:months], self.aum[:, :months],
            self.class_aum[:, :months], self.flows[:, :months], self.counts[:, :months],
            self.open_accounts[:, :months], self.open_date, self.levels[:, :months],
            self.below_runs[:, :months],
        )  # fmt: skip


def build_monthly_book(
    ds: Dataset,
    customers: pd.DataFrame,
    sums: BucketSums,
    cal: ReviewCalendar,
    path: TierPath,
    rows: np.ndarray | None = None,
) -> MonthlyBook:
    """``path``: the churn ladder's tier path (its review months are the book's months);
    ``rows``: the positions in ``customers`` to keep (``analyses.book_rows``)."""
    rows = np.arange(len(customers)) if rows is None else np.asarray(rows, dtype=np.int64)
    index = pd.Index(customers["customer_id"].to_numpy()[rows])
    months = list(cal.review_months)
    aum = review_averages(sums, cal, "month")[rows]
    days = np.asarray([cal.period_days("month", m) for m in months], dtype=float)
    groups = [list(cal.period_buckets("month", m)) for m in months]
    class_aum = sums.grouped_class_sums(groups, rows) / days[None, :, None]
    n, t = aum.shape
    flows = np.zeros((n, t, len(COUNTERPARTY_TYPES), len(DIRECTIONS)))
    counts = np.zeros((n, t))
    position = np.full(len(customers), -1, dtype=np.int64)  # customers row -> book row
    position[rows] = np.arange(n)
    wanted = None if n == len(customers) else _rows_table(rows)
    if "transactions" in ds.tables:
        tb = ds.tables
        flows_expr = expr.monthly_flows(
            tb["transactions"], tb["accounts"], tb["customers"], cal, wanted
        )
        for batch in record_batches(ds.con, flows_expr):  # streamed: no whole result held
            at = position[batch.column("row").to_numpy(zero_copy_only=False)]
            pos = batch.column("month").to_numpy(zero_copy_only=False).astype(np.int64) - months[0]
            cp = batch.column("cp").to_numpy(zero_copy_only=False).astype(np.int64)
            di = batch.column("di").to_numpy(zero_copy_only=False).astype(np.int64)
            ok = (at >= 0) & (pos >= 0) & (pos < t) & (cp >= 0) & (di >= 0)
            amount = batch.column("amount").to_numpy(zero_copy_only=False).astype(float)
            np.add.at(flows, (at[ok], pos[ok], cp[ok], di[ok]), amount[ok])
            count = batch.column("count").to_numpy(zero_copy_only=False)
            np.add.at(counts, (at[ok], pos[ok]), count[ok])
    ends = [cal.month_ends[m] for m in months]
    open_accounts = _open_accounts(ds, position, ends, wanted)
    cust = ds.tables["customers"].select("customer_id", "open_date").to_pandas()
    opened = cust.set_index("customer_id")["open_date"].reindex(index)
    open_date = pd.to_datetime(opened).to_numpy().astype("datetime64[D]")
    return MonthlyBook(
        index, rows, ends, aum, class_aum, flows, counts, open_accounts, open_date,
        path.levels[rows], path.below_runs[rows],
    )  # fmt: skip


def _rows_table(rows: np.ndarray) -> ir.Table:
    """The customers-table rows of the book, as a table the engine joins on (``row``)."""
    return ibis.memtable(pa.table({"row": pa.array(rows, type=pa.int32())}))


def _open_accounts(
    ds: Dataset, position: np.ndarray, ends: list[date], wanted: ir.Table | None
) -> np.ndarray:
    """``[book rows, months]`` AUM accounts open at each month end; ``position``: the book
    row of each customers-table row (-1 when not in the book); ``wanted``: those rows as a
    table (None: every row)."""
    a = ds.tables["accounts"]
    a = a.filter(a.product_type != "loan").join(
        customer_rows(ds.tables["customers"]), "customer_id"
    )
    if wanted is not None:
        a = a.join(wanted, "row")
    aggs = {
        f"m{k}": ibis.ifelse(
            (a.open_date <= e) & (a.close_date.isnull() | (a.close_date > e)), 1, 0
        ).sum()
        for k, e in enumerate(ends)
    }
    out = np.zeros((int((position >= 0).sum()), len(ends)), dtype=np.int64)
    for batch in record_batches(ds.con, a.group_by("row").aggregate(**aggs)):
        at = position[batch.column("row").to_numpy(zero_copy_only=False)]
        ok = at >= 0
        for k in range(len(ends)):
            out[at[ok], k] = batch.column(f"m{k}").to_numpy(zero_copy_only=False)[ok]
    return out
