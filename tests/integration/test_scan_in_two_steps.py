"""The balance scan in two steps (the account sums stored, then keyed by customer), which
the batch falls back to when DuckDB runs out of working memory on the one query (at 2M
customers under the default limit): the same sums, to the last cent."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from tierbook.analytics import aum as aum_expr
from tierbook.analytics.backends.duckdb import stored
from tierbook.batch import scan
from tierbook.bootstrap import connect_engine
from tierbook.demo.generator import generate
from tierbook.domain.periods import review_calendar
from tierbook.ingest.dataset import load_dataset

AS_OF = date(2025, 12, 31)
WEIGHTS = dict.fromkeys(aum_expr.CLASSES, 1.0)


@pytest.fixture(scope="module")
def daily_scan(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    bank = tmp_path_factory.mktemp("two-steps") / "bank"
    generate(bank, customers=120, corporates=4, branches=2, seed=21, year=2025)
    ds = load_dataset(bank, connect_engine(), balances="daily", tables=())
    cal = review_calendar(AS_OF, 12, ("month", "year"))
    customers = ds.tables["customers"].select("customer_id").to_pandas()
    index = pd.Index(customers["customer_id"].sort_values(ignore_index=True))
    acct = aum_expr.account_bucket_sums_daily(ds.tables["balances_daily"], cal)
    return ds, cal, index, acct


def _tables(ds) -> set[str]:  # type: ignore[no-untyped-def]
    # (Ibis 12's ``list_tables`` calls a method DuckDB 2.0 renamed)
    return {r[0] for r in ds.con.raw_sql("SELECT table_name FROM duckdb_tables()").fetchall()}


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    np.testing.assert_array_equal(a.weighted_cents, b.weighted_cents)
    groups = [[k] for k in range(a.n_buckets)]
    np.testing.assert_array_equal(a.grouped_class_sums(groups), b.grouped_class_sums(groups))


def test_stored_account_sums_keyed_give_the_one_querys_sums(daily_scan) -> None:  # type: ignore[no-untyped-def]
    ds, cal, index, acct = daily_scan
    one, _ = scan.sum_keyed(acct, ds, index, len(cal.buckets), WEIGHTS)
    assert one.weighted_cents.sum() > 0
    with stored(ds.con, acct, "tb_test_sums") as table:
        assert "tb_test_sums" in _tables(ds)
        two, _ = scan.sum_keyed(table, ds, index, len(cal.buckets), WEIGHTS)
    assert "tb_test_sums" not in _tables(ds)
    _same(one, two)


def test_out_of_memory_on_the_one_query_runs_it_again_in_two_steps(
    daily_scan, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """DuckDB's out-of-memory error, part-way through the stream (as at 2M customers),
    leaves no half-summed batch behind: the sums start again on the stored account sums."""
    ds, cal, index, acct = daily_scan
    want, _ = scan.sum_keyed(acct, ds, index, len(cal.buckets), WEIGHTS)
    real, calls = scan.sum_keyed, []

    def running_out_once(source, *args):  # type: ignore[no-untyped-def]
        calls.append(source)
        if len(calls) == 1:
            real(source, *args)  # a whole pass, summed, then the error
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")
        return real(source, *args)

    monkeypatch.setattr(scan, "sum_keyed", running_out_once)
    got, flagged = scan.stream_daily(acct, ds, cal, index, WEIGHTS)
    assert len(calls) == 2 and calls[1] is not acct  # the second read the stored table
    assert flagged == []
    _same(got, want)
    assert "tb_account_bucket_sums" not in _tables(ds)


@pytest.fixture(scope="module")
def event_scan(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    bank = tmp_path_factory.mktemp("event-blocks") / "bank"
    generate(bank, customers=120, corporates=4, branches=2, seed=22, year=2025)
    ds = load_dataset(
        bank, connect_engine(), balances="events", tables=(), check_keys=True, defer_checks=True
    )
    cal = review_calendar(AS_OF, 12, ("month", "year"))
    customers = ds.tables["customers"].select("customer_id").to_pandas()
    index = pd.Index(customers["customer_id"].sort_values(ignore_index=True))
    return ds, cal, index


@pytest.mark.parametrize("blocks", [1, 3, 7])
def test_the_event_scan_in_blocks_of_accounts_gives_the_one_querys_sums_and_counts(
    event_scan, blocks: int
) -> None:  # type: ignore[no-untyped-def]
    """Every event falls in exactly one block (a hash of its account id), so the blocks'
    sums and their counts of rows passing and of keys given twice are the one query's."""
    ds, cal, index = event_scan
    unchecked = ds.pending_scan("balance_events")
    assert unchecked is not None  # the row checks were left to this scan
    one = scan.stream_events(unchecked, ds, cal, index, WEIGHTS, row_flag="_bad")
    got = scan.stream_events(unchecked, ds, cal, index, WEIGHTS, row_flag="_bad", blocks=blocks)
    _same(got, one)
    rows = ds.con.raw_sql(f"SELECT count(*) FROM ({ds.con.compile(unchecked)})").fetchall()[0][0]
    assert one.rows_ok == got.rows_ok == rows  # a clean bank: every row read passes
    assert one.repeated_keys == got.repeated_keys == 0
    assert one.weighted_cents.sum() > 0


def test_a_scan_known_too_large_for_the_working_memory_goes_straight_to_its_fallback(
    daily_scan, event_scan, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Above ``ACCOUNTS_PER_MIB`` accounts per MiB of DuckDB's limit the one query is not
    tried (at 2M customers it fails after tens of seconds): the daily scan reads the stored
    account sums first, the event scan its blocks; the sums are the one query's."""
    ds, cal, index, acct = daily_scan
    want, _ = scan.sum_keyed(acct, ds, index, len(cal.buckets), WEIGHTS)
    ev_ds, ev_cal, ev_index = event_scan
    events = ev_ds.tables["balance_events"]
    ev_want = scan.stream_events(events, ev_ds, ev_cal, ev_index, WEIGHTS)
    assert scan.one_query_may_fit(ds, "daily")  # a small bank under the default limit
    assert scan.one_query_may_fit(ev_ds, "events")
    monkeypatch.setattr(scan, "ACCOUNTS_PER_MIB", {"daily": 0, "events": 0})
    assert not scan.one_query_may_fit(ds, "daily")
    real, read = scan.sum_keyed, []

    def recording(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        read.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(scan, "sum_keyed", recording)
    got, _ = scan.stream_daily(acct, ds, cal, index, WEIGHTS)
    assert len(read) == 1 and read[0] is not acct
    _same(got, want)
    read.clear()
    ev_got = scan.stream_events(events, ev_ds, ev_cal, ev_index, WEIGHTS)
    assert len(read) == scan.EVENT_BLOCKS
    _same(ev_got, ev_want)
