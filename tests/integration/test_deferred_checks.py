"""Row checks of the daily balances left to the engine's scan (``defer_checks``): a clean
file is read once and settled without a second look; any bad row — inside the review
window or not — sends the table through the full checks, with exactly the quarantine,
file counts, clean rows and tier sums of checks made at load."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pytest

from tests.integration.test_ingest import base_rows, write_bank
from tierbook.batch.run import Timer, compute_tiers
from tierbook.ingest.dataset import Dataset, load_dataset
from tierbook.rules import load_preset

AS_OF = date(2025, 12, 31)


def load(bank, *, defer: bool) -> Dataset:
    return load_dataset(bank, ibis.duckdb.connect(), balances="daily", defer_checks=defer)


def good_rows(ds: Dataset) -> int:
    """Rows passing the cell and row checks with an account among the clean ones."""
    scan = ds.pending_scan("balances_daily")
    ok = scan.filter(~scan._bad)
    return int(ok.semi_join(ds.tables["accounts"], "account_id").count().execute())


def frames(ds: Dataset):
    clean = ds.tables["balances_daily"].to_pandas()
    clean = clean.sort_values(["account_id", "date", "balance"], ignore_index=True)
    return ds.quarantine.reset_index(drop=True), clean, ds.files


def bad_bank(tmp_path):
    rows = base_rows()
    rows["balances_daily"] += [
        {"account_id": "A1", "date": "2023-06-30", "balance": "-5"},  # outside the window
        {"account_id": "A404", "date": "2025-01-03", "balance": "1"},  # unknown account
        {"account_id": " A3 ", "date": "2025-01-04", "balance": "7"},  # fine once stripped
        {"account_id": "", "date": "2025-01-05", "balance": "NaN"},
    ]
    return write_bank(tmp_path / "bank", rows, balances_daily="parquet")


def test_clean_balances_settle_without_looking_at_a_row_again(tmp_path):
    bank = write_bank(tmp_path / "bank", base_rows(), balances_daily="parquet")
    ds = load(bank, defer=True)
    assert ds.pending_scan("balances_daily") is not None
    assert ds.settle("balances_daily", good_rows(ds)) is True
    assert ds.pending_scan("balances_daily") is None
    assert frames(ds)[0].empty
    eager = load(bank, defer=False)
    assert frames(ds)[1].equals(frames(eager)[1])
    assert frames(ds)[2] == frames(eager)[2]


def test_a_count_short_of_the_rows_read_checks_every_row_as_the_load_would(tmp_path):
    bank = bad_bank(tmp_path)
    ds = load(bank, defer=True)
    assert good_rows(ds) == 5  # the four base rows and the padded A3
    assert ds.settle("balances_daily", good_rows(ds)) is False
    eager = load(bank, defer=False)
    got, want = frames(ds), frames(eager)
    assert set(got[0]["code"]) == {"NEGATIVE_AMOUNT", "UNKNOWN_REFERENCE", "REQUIRED", "BAD_NUMBER"}
    assert got[0].equals(want[0])
    assert got[1].equals(want[1])
    assert got[2] == want[2]


def test_unsettled_table_reads_only_good_rows_and_finish_completes_the_quarantine(tmp_path):
    bank = bad_bank(tmp_path)
    ds = load(bank, defer=True)
    assert ds.quarantine.empty  # not looked at yet
    assert len(ds.tables["balances_daily"].to_pandas()) == 5
    ds.finish_checks()
    assert frames(ds)[0].equals(frames(load(bank, defer=False))[0])
    with pytest.raises(ValueError, match="not pending"):
        ds.settle("balances_daily", 5)


def test_more_good_rows_than_read_is_refused(tmp_path):
    bank = write_bank(tmp_path / "bank", base_rows(), balances_daily="parquet")
    ds = load(bank, defer=True)
    with pytest.raises(ValueError, match="only 4 read"):
        ds.settle("balances_daily", 5)


@pytest.mark.parametrize("flawed", [False, True])
def test_batch_sums_are_the_same_whether_checks_wait_for_the_scan_or_not(tmp_path, flawed):
    bank = bad_bank(tmp_path) if flawed else write_bank(tmp_path / "b", base_rows())
    loaded = load_preset()
    eager = load(bank, defer=False)
    ds = load(bank, defer=True)
    want = compute_tiers(eager, AS_OF, loaded, Timer(None))
    got = compute_tiers(ds, AS_OF, loaded, Timer(None))
    assert ds.pending_scan("balances_daily") is None  # the batch's scan settled them
    assert np.array_equal(got[2].weighted, want[2].weighted)
    assert got[0].equals(want[0])
    assert frames(ds)[0].equals(frames(eager)[0])
    assert frames(ds)[2] == frames(eager)[2]
    # Independent check of one sum: A3 (fund, weight 0.5) holds 900,000 on 2025-01-01 and,
    # when the padded " A3 " row is there, 7 on 2025-01-04; January has 31 days.
    c3 = list(got[0]["customer_id"]).index("C3")
    jan = next(i for i, b in enumerate(got[3].buckets) if b.start <= date(2025, 1, 4) <= b.end)
    assert got[2].weighted[c3, jan] == pytest.approx(0.5 * (900_000 + (7 if flawed else 0)))
