"""The balance scan: balance-days per customer, asset class and review bucket
(``BucketSums``) from one pass over the daily balances or the change events, with the row
checks the ingest left to it, on any engine. Where DuckDB's working memory cannot hold the
one query (the join of the account sums with the accounts, or the window over each
account's events, at 1–2M customers under the default ``TIERBOOK_MEMORY_LIMIT``) the scan
falls back to two steps or to blocks of accounts, which give the same sums."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from tierbook.analytics import aum as aum_expr
from tierbook.analytics.backends.duckdb import memory_limit_bytes, stored
from tierbook.analytics.backends.engine import record_batches
from tierbook.batch.measures import BucketSums
from tierbook.ingest.dataset import Dataset


def bucket_sums(ds: Dataset, cal: Any, index: pd.Index, weights: dict[str, float]) -> BucketSums:
    """Balance-days per customer and bucket in one scan of the balances. Daily snapshots are
    checked for duplicate days in the same scan; if some customer has one, the ingest checks
    the keys of that customer's accounts (duplicates go to the quarantine) and the sums are
    taken again on the clean rows. When the ingest left the row checks of the balances to
    this scan (``Dataset.pending_scan``), the scan counts the rows passing them (and, for
    events, the keys given twice); unless every row read passed (and no key repeats), the
    ingest checks them all and the sums are retaken."""
    if ds.balance_form == "events":
        unchecked = ds.pending_scan("balance_events")
        if unchecked is not None:
            sums = stream_events(unchecked, ds, cal, index, weights, row_flag="_bad")
            if ds.settle("balance_events", sums.rows_ok, sums.repeated_keys):
                return sums
        return stream_events(ds.tables["balance_events"], ds, cal, index, weights)
    sums, flagged = None, []
    unchecked = ds.pending_scan("balances_daily")
    if unchecked is not None:
        acct = aum_expr.account_bucket_sums_daily(unchecked, cal, row_flag="_bad")
        sums, flagged = stream_daily(acct, ds, cal, index, weights)
        if not ds.settle("balances_daily", sums.rows_ok):
            sums, flagged = None, []
    balances = ds.tables["balances_daily"]
    if sums is None:
        acct = aum_expr.account_bucket_sums_daily(balances, cal)
        sums, flagged = stream_daily(acct, ds, cal, index, weights)
    if flagged:
        accounts = ds.tables["accounts"]
        dup = aum_expr.duplicate_day_accounts(balances, accounts, sorted(set(flagged)), cal)
        got = dup.to_pyarrow()
        twice = aum_expr.repeated_day(got["day_sum"].to_numpy(), got["n_rows"].to_numpy())
        ids = got["account_id"].filter(pa.array(twice)).unique().to_pylist()
        ds.check_keys_for("balances_daily", ids)
        acct = aum_expr.account_bucket_sums_daily(ds.tables["balances_daily"], cal)
        sums, _ = stream_daily(acct, ds, cal, index, weights)
    return sums


def stream_daily(
    acct: Any, ds: Dataset, cal: Any, index: pd.Index, weights: dict[str, float]
) -> tuple[BucketSums, list[str]]:
    """Account sums keyed by customer row, streamed in record batches and summed into the
    matrices as they arrive (no whole result held). In one query; where DuckDB runs out of
    its working memory on it (the join of the account sums with the accounts: at 2M
    customers 33M account sums, over the default ``TIERBOOK_MEMORY_LIMIT``), in two: the
    account sums stored first (spilled to its temporary directory as they grow), then keyed
    — the same batches, the sums started again."""
    import duckdb

    if one_query_may_fit(ds, "daily"):
        try:
            return sum_keyed(acct, ds, index, len(cal.buckets), weights)
        except duckdb.OutOfMemoryException:
            pass
    with stored(ds.con, acct, "tb_account_bucket_sums") as table:
        return sum_keyed(table, ds, index, len(cal.buckets), weights)


ACCOUNTS_PER_MIB = {"daily": 10_000, "events": 3_000}
"""Accounts per MiB of DuckDB's working memory above which the balance scan goes straight
to its fallback (``stream_daily``: two steps; ``stream_events``: blocks of accounts) instead of
first failing on the one query. Under the default 224MB (213.6 MiB) the daily one query ran
at 1M customers (1.63M accounts, 7.6k per MiB) and ran out of memory at 2M (3.26M, 15.3k)
after 23 s; the event one ran at 200k (1.5k per MiB) and ran out at 1M after 16 s. Below
the mark the one query is tried, and its failure still falls back."""


def one_query_may_fit(ds: Dataset, form: str) -> bool:
    limit = memory_limit_bytes(ds.con)
    if limit is None:
        return True  # another engine, or no limit
    accounts = int(ds.tables["accounts"].count().execute())
    return accounts <= ACCOUNTS_PER_MIB[form] * limit / (1 << 20)


EVENT_BLOCKS = 4
"""Blocks of accounts the event form's scan falls back to (``stream_events``)."""


def stream_events(
    events: Any,
    ds: Dataset,
    cal: Any,
    index: pd.Index,
    weights: dict[str, float],
    *,
    row_flag: str | None = None,
    blocks: int | None = None,
) -> BucketSums:
    """The event form's account sums, keyed and summed as ``stream_daily`` does. Each
    account's segments come from a window over its events (the next event's date), which
    DuckDB does not spill: where it runs out of working memory on the one query (at 1M
    customers, 32M events, under the default ``TIERBOOK_MEMORY_LIMIT``), the accounts are
    taken in ``EVENT_BLOCKS`` blocks by a hash of their id (``blocks``: that many at once),
    one query each over the events of its accounts, summed into the same matrices. An
    account's sums and its rows' counts (``n_ok``, ``repeated``) depend on its own events
    only, so the blocks give the one query's sums; each block reads the events again (a
    twentieth of the daily rows)."""
    import duckdb

    accounts = ds.tables["accounts"]
    n = len(cal.buckets)
    if blocks is None and not one_query_may_fit(ds, "events"):
        blocks = EVENT_BLOCKS
    if blocks is None:
        try:
            acct = aum_expr.account_bucket_sums_events(events, accounts, cal, row_flag=row_flag)
            return sum_keyed(acct, ds, index, n, weights)[0]
        except duckdb.OutOfMemoryException:
            blocks = EVENT_BLOCKS
    sums = BucketSums(len(index), n, weights)
    block = (events.account_id.hash() % blocks).abs()  # each id in exactly one block
    for j in range(blocks):
        part = events.filter(block == j)
        acct = aum_expr.account_bucket_sums_events(part, accounts, cal, row_flag=row_flag)
        sum_keyed(acct, ds, index, n, weights, into=sums)
    return sums


def sum_keyed(
    acct: Any,
    ds: Dataset,
    index: pd.Index,
    n_buckets: int,
    weights: dict[str, float],
    *,
    into: BucketSums | None = None,
) -> tuple[BucketSums, list[str]]:
    """The account sums ``acct`` keyed by customer row and added to ``into`` (by default
    new matrices); with the ids of the customers flagged with a duplicate day."""
    expr = aum_expr.keyed_bucket_sums(acct, ds.tables["accounts"], ds.tables["customers"])
    sums = into if into is not None else BucketSums(len(index), n_buckets, weights)
    flagged: list[str] = []
    for batch in record_batches(ds.con, expr):
        flagged += sums.add(batch, index)
    return sums, flagged
