"""A run that writes its largest results as they are made (``run_batch(spill=…)``, what
``tierbook run`` does) writes the same files as a run holding them, shows the same summary
and workbook sheets, and leaves nothing half-way behind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from tierbook.batch.outputs import PARQUET_RESULTS, spill_folder, write_outputs
from tierbook.batch.run import run_batch, tables_needed
from tierbook.batch.summary import print_summary
from tierbook.batch.value_outputs import VALUE_RESULTS
from tierbook.bootstrap import connect_engine
from tierbook.demo.generator import generate
from tierbook.ingest.dataset import load_dataset
from tierbook.report.workbook import run_sheets
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


SPILLED = {"history", "tiers", "changes", "value_scores", "key_customers"}
"""The results a run writes as soon as they are made: read by no later step."""


def _summary(result) -> str:  # type: ignore[no-untyped-def]
    console = Console(record=True, width=160)
    print_summary(result, console)
    return console.export_text()


def test_results_written_as_they_are_made_are_the_held_runs_files(
    bank: Path, tmp_path: Path
) -> None:
    held = _run(bank, None)
    write_outputs(held, tmp_path / "held", excel=False)
    out = tmp_path / "spilled"
    stale = spill_folder(out)
    stale.mkdir(parents=True)
    (stale / "history.parquet").write_bytes(b"a run stopped half-way")
    spilled = _run(bank, spill_folder(out))
    assert set(spilled.spilled) == SPILLED
    for name in SPILLED - {"value_scores", "key_customers"}:
        kept, whole = getattr(spilled, name), getattr(held, name)
        assert kept.empty and list(kept.columns) == list(whole.columns), name
    assert spilled.value is not None and held.value is not None
    assert spilled.value.value_scores.empty and len(held.value.value_scores) == len(held.customers)
    assert spilled.value.key_customers.empty and len(held.value.key_customers) > 0
    assert len(held.history) == 2 * 12 * len(held.customers)  # two ladders, twelve months
    assert len(held.tiers) == 2 * len(held.customers)
    # what the summary, the chart counts and the workbook read back from the files
    for name in SPILLED:  # the held run wrote its files above
        read = pd.read_parquet(tmp_path / "held" / f"{name}.parquet")
        pd.testing.assert_frame_equal(spilled.frame(name), read)
    assert _summary(spilled).split("Timings:")[0] == _summary(held).split("Timings:")[0]
    held_sheets = {s.name: s.frame for s in run_sheets(held, {"outputs": {}})}
    for sheet in run_sheets(spilled, {"outputs": {}}):
        if sheet.name.startswith("about"):
            continue
        pd.testing.assert_frame_equal(sheet.frame, held_sheets[sheet.name], check_dtype=False)
    manifest = write_outputs(spilled, out, excel=False)
    assert manifest["row_counts"]["history"] == len(held.history)
    assert manifest["row_counts"]["value_scores"] == len(held.customers)
    assert spilled.spilled == {name: out / f"{name}.parquet" for name in SPILLED}
    assert not stale.exists()
    for name in (*PARQUET_RESULTS, *VALUE_RESULTS):
        a = pq.read_table(tmp_path / "held" / f"{name}.parquet")
        b = pq.read_table(out / f"{name}.parquet")
        assert a.equals(b), name
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "held" / f"{name}.parquet"),
        )
