"""Row checks of the balances left to the engine's scan (``defer_checks``): a clean file is
read once and settled without a second look; any bad row — inside the review window or not —
and, for events, any key given twice sends the table through the full checks, with exactly
the quarantine, file counts, clean rows and tier sums of checks made at load.

Each rule holds for both balance forms and for Parquet holding text cells (typed by the
ingest) or native dates and numbers (read as they are by the scan)."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.test_ingest import base_rows, write_bank
from tierbook.batch.run import Timer, compute_tiers
from tierbook.ingest.dataset import Dataset, load_dataset
from tierbook.rules import load_preset

AS_OF = date(2025, 12, 31)
TABLE = {"daily": "balances_daily", "events": "balance_events"}
CASES = [(form, typed) for form in TABLE for typed in (False, True)]
IDS = [f"{form}-{'typed' if typed else 'text'}" for form, typed in CASES]


def write(tmp_path, rows, form: str, typed: bool):
    """The bank with its balances as ``form``, in Parquet: text cells, or (``typed``)
    dates as dates and balances as doubles."""
    rows = dict(rows)
    balances = rows.pop("balances_daily")
    bank = write_bank(tmp_path / "bank", rows)
    path = bank / f"{TABLE[form]}.parquet"
    if not typed:
        pq.write_table(pa.Table.from_pylist(balances), path)
        return bank
    data = {
        "account_id": pa.array([r["account_id"] for r in balances], pa.string()),
        "date": pa.array(
            [date.fromisoformat(r["date"]) if r["date"] else None for r in balances], pa.date32()
        ),
        "balance": pa.array(
            [float(r["balance"]) if r["balance"] else None for r in balances], pa.float64()
        ),
    }
    pq.write_table(pa.table(data), path)
    return bank


def load(bank, form: str, *, defer: bool) -> Dataset:
    return load_dataset(bank, ibis.duckdb.connect(), balances=form, defer_checks=defer)


def good_rows(ds: Dataset, table: str) -> int:
    """Rows passing the cell and row checks with an account among the clean ones."""
    scan = ds.pending_scan(table)
    ok = scan.filter(~scan._bad)
    return int(ok.semi_join(ds.tables["accounts"], "account_id").count().execute())


def repeats(ds: Dataset, table: str) -> int:
    """Rows beyond the first of each (account, date)."""
    scan = ds.pending_scan(table)
    rows = int(scan.count().execute())
    return rows - int(scan.select("account_id", "date").distinct().count().execute())


def frames(ds: Dataset, table: str):
    clean = ds.tables[table].to_pandas()
    clean = clean.sort_values(["account_id", "date", "balance"], ignore_index=True)
    return ds.quarantine.reset_index(drop=True), clean, ds.files


def bad_rows():
    rows = base_rows()
    rows["balances_daily"] += [
        {"account_id": "A1", "date": "2023-06-30", "balance": "-5"},  # outside the window
        {"account_id": "A404", "date": "2025-01-03", "balance": "1"},  # unknown account
        {"account_id": " A3 ", "date": "2025-01-04", "balance": "7"},  # fine once stripped
        {"account_id": "A2", "date": "", "balance": "NaN"},
    ]
    return rows


def twice_rows():
    """Valid rows only, one of them an exact copy of another (a key given twice)."""
    rows = base_rows()
    rows["balances_daily"].append(dict(rows["balances_daily"][-1]))
    return rows


@pytest.mark.parametrize(("form", "typed"), CASES, ids=IDS)
def test_clean_balances_settle_without_looking_at_a_row_again(tmp_path, form, typed):
    bank = write(tmp_path, base_rows(), form, typed)
    table = TABLE[form]
    ds = load(bank, form, defer=True)
    assert ds.pending_scan(table) is not None
    assert ds.settle(table, good_rows(ds, table), repeats(ds, table)) is True
    assert ds.pending_scan(table) is None
    assert frames(ds, table)[0].empty
    eager = load(bank, form, defer=False)
    assert frames(ds, table)[1].equals(frames(eager, table)[1])
    assert frames(ds, table)[2] == frames(eager, table)[2]


@pytest.mark.parametrize(("form", "typed"), CASES, ids=IDS)
def test_a_count_short_of_the_rows_read_checks_every_row_as_the_load_would(tmp_path, form, typed):
    bank = write(tmp_path, bad_rows(), form, typed)
    table = TABLE[form]
    ds = load(bank, form, defer=True)
    # The four base rows, and the padded " A3 " when the ingest types the text cells (it
    # strips them); read as it is, " A3 " is no clean account and its row counts as bad.
    assert good_rows(ds, table) == (4 if typed else 5)
    assert ds.settle(table, good_rows(ds, table), 0) is False
    eager = load(bank, form, defer=False)
    got, want = frames(ds, table), frames(eager, table)
    codes = {"NEGATIVE_AMOUNT", "UNKNOWN_REFERENCE", "REQUIRED", "BAD_NUMBER"}
    assert set(got[0]["code"]) == codes
    assert got[0].equals(want[0])
    assert got[1].equals(want[1])
    assert len(got[1]) == 5  # the padded row is kept, stripped
    assert got[2] == want[2]


def test_a_repeated_event_key_is_checked_even_when_every_row_passes(tmp_path):
    bank = write(tmp_path, twice_rows(), "events", True)
    ds = load(bank, "events", defer=True)
    assert good_rows(ds, "balance_events") == 5
    assert ds.settle("balance_events", 5, repeats(ds, "balance_events")) is False
    got, want = (
        frames(ds, "balance_events"),
        frames(load(bank, "events", defer=False), "balance_events"),
    )
    assert list(got[0]["code"]) == ["DUPLICATE_ROW"]
    assert got[0].equals(want[0])
    assert got[1].equals(want[1])


@pytest.mark.parametrize("form", list(TABLE))
def test_unsettled_table_reads_only_good_rows_and_finish_completes_the_quarantine(tmp_path, form):
    bank = write(tmp_path, bad_rows(), form, True)
    table = TABLE[form]
    ds = load(bank, form, defer=True)
    assert ds.quarantine.empty  # not looked at yet
    assert len(ds.tables[table].to_pandas()) == 5
    ds.finish_checks()
    assert frames(ds, table)[0].equals(frames(load(bank, form, defer=False), table)[0])
    with pytest.raises(ValueError, match="not pending"):
        ds.settle(table, 5)


def test_more_good_rows_than_read_is_refused(tmp_path):
    bank = write(tmp_path, base_rows(), "daily", True)
    ds = load(bank, "daily", defer=True)
    with pytest.raises(ValueError, match="only 4 read"):
        ds.settle("balances_daily", 5)


@pytest.mark.parametrize(("form", "typed"), CASES, ids=IDS)
@pytest.mark.parametrize("flaw", ["none", "bad rows", "key twice"])
def test_batch_sums_are_the_same_whether_checks_wait_for_the_scan_or_not(
    tmp_path, form, typed, flaw
):
    rows = {"none": base_rows, "bad rows": bad_rows, "key twice": twice_rows}[flaw]()
    bank = write(tmp_path, rows, form, typed)
    table = TABLE[form]
    loaded = load_preset()
    eager = load(bank, form, defer=False)
    ds = load(bank, form, defer=True)
    want = compute_tiers(eager, AS_OF, loaded, Timer(None))
    got = compute_tiers(ds, AS_OF, loaded, Timer(None))
    assert ds.pending_scan(table) is None  # the batch's scan settled them
    assert np.array_equal(got[2].weighted, want[2].weighted)
    assert got[0].equals(want[0])
    assert frames(ds, table)[0].equals(frames(eager, table)[0])
    assert frames(ds, table)[2] == frames(eager, table)[2]
    # Independent check of one sum: A3 (fund, weight 0.5) holds 900,000 on 2025-01-01 and,
    # when the padded " A3 " row is there, 7 on 2025-01-04; January has 31 days. As daily
    # snapshots each row is one day; as events each balance holds until the next one.
    c3 = list(got[0]["customer_id"]).index("C3")
    jan = next(i for i, b in enumerate(got[3].buckets) if b.start <= date(2025, 1, 4) <= b.end)
    padded = flaw == "bad rows"
    if form == "daily":
        want_jan = 900_000 + (7 if padded else 0)
    else:
        want_jan = 900_000 * 3 + 7 * 28 if padded else 900_000 * 31
    assert got[2].weighted[c3, jan] == pytest.approx(0.5 * want_jan)
