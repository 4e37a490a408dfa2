"""A run that writes its history as it is made (``run_batch(spill=…)``, what ``tierbook
run`` does) writes the same file as a run holding it, and leaves nothing half-way behind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tierbook.batch.outputs import PARQUET_RESULTS, spill_folder, write_day_files
from tierbook.batch.run import run_batch, tables_needed
from tierbook.bootstrap import connect_engine
from tierbook.demo.generator import generate
from tierbook.ingest.dataset import load_dataset
from tierbook.rules import load_rulebook

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spill") / "bank"
    generate(out, customers=150, corporates=5, branches=2, seed=8, year=2025)
    return out


def _run(bank: Path, spill: Path | None):  # type: ignore[no-untyped-def]
    loaded = load_rulebook(None)
    ds = load_dataset(bank, connect_engine(), tables=tables_needed(loaded))
    return run_batch(ds, AS_OF, loaded, spill=spill)


def test_the_history_written_as_it_is_made_is_the_held_historys_file(
    bank: Path, tmp_path: Path
) -> None:
    held = _run(bank, None)
    write_day_files(held, tmp_path / "held")
    out = tmp_path / "spilled"
    stale = spill_folder(out)
    stale.mkdir(parents=True)
    (stale / "history.parquet").write_bytes(b"a run stopped half-way")
    spilled = _run(bank, spill_folder(out))
    assert spilled.history.empty and list(spilled.history.columns) == list(held.history.columns)
    assert len(held.history) == 2 * 12 * len(held.customers)  # two ladders, twelve months
    counts = write_day_files(spilled, out)
    assert counts["history"] == len(held.history)
    assert spilled.spilled == {"history": out / "history.parquet"}
    assert not stale.exists()
    for name in PARQUET_RESULTS:
        a = pq.read_table(tmp_path / "held" / f"{name}.parquet")
        b = pq.read_table(out / f"{name}.parquet")
        assert a.equals(b), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "history.parquet"), pd.read_parquet(tmp_path / "held/history.parquet")
    )
