"""End to end: a small generated bank through ``tierbook run``; tier counts recomputed
independently from the raw files with pandas and a plain per-customer policy loop."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.e2e.helpers import run_batch, tierbook
from tests.reference import CARD, card_levels, monthly_averages
from tierbook.demo.generator import generate
from tierbook.rules import load_preset

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(out, customers=800, corporates=40, branches=3, seed=11, year=2025)
    return out


@pytest.fixture(scope="module")
def run_dir(bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    return run_batch(bank, out, "--balances", "daily", as_of=AS_OF.isoformat())


def _independent_card_counts(bank: Path) -> dict[str, int]:
    levels = card_levels(monthly_averages(bank))
    return {CARD[i][0]: int(n) for i, n in levels.value_counts().items()}


def test_card_tier_counts_match_an_independent_recomputation(bank: Path, run_dir: Path) -> None:
    tiers = pd.read_parquet(run_dir / "tiers.parquet")
    card = tiers[tiers["ladder_id"] == "card_tiers"]
    got = card["level"].value_counts().to_dict()
    assert got == _independent_card_counts(bank)
    assert len(card) == len(pd.read_csv(bank / "customers.csv"))


def test_result_files_hold_each_ladders_own_levels_as_text(run_dir: Path) -> None:
    """In memory the ladder id and level are codes into every ladder's names; a file's
    reader sees text, and per ladder only that ladder's level names."""
    rb = load_preset().rulebook
    for name in ("tiers", "history"):
        frame = pd.read_parquet(run_dir / f"{name}.parquet")
        for c in ("ladder_id", "level", "step"):
            assert not isinstance(frame[c].dtype, pd.CategoricalDtype), (name, c)
        for lad in rb.ladders:
            levels = set(frame.loc[frame["ladder_id"] == lad.id, "level"])
            assert levels and levels <= set(lad.level_names()), (name, lad.id)
    # The history's customer ids and month ends are codes in memory too: the file holds
    # text and dates, every customer once per ladder and review month.
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(run_dir / "history.parquet")
    assert pa.types.is_large_string(schema.field("customer_id").type)
    assert pa.types.is_timestamp(schema.field("period_end").type)
    history = pd.read_parquet(run_dir / "history.parquet")
    customers = pd.read_parquet(run_dir / "customers.parquet")["customer_id"]
    per = history.groupby(["customer_id", "ladder_id"]).size()
    assert set(per.index.get_level_values(0)) == set(customers)
    months = history["period_end"].drop_duplicates().sort_values()
    assert list(months.dt.is_month_end) == [True] * len(months)
    assert set(per) == {len(months)}
    # ``tierbook run`` wrote the history as it made it, then moved the file in
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["row_counts"]["history"] == len(history)
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []


def test_event_form_gives_the_same_tiers_as_daily_snapshots(
    bank: Path, run_dir: Path, tmp_path: Path
) -> None:
    run_batch(bank, tmp_path, "--balances", "events", "--no-excel", "--quiet")
    daily = pd.read_parquet(run_dir / "tiers.parquet").sort_values(["ladder_id", "customer_id"])
    events = pd.read_parquet(tmp_path / "tiers.parquet").sort_values(["ladder_id", "customer_id"])
    assert list(daily["level"]) == list(events["level"])
    np.testing.assert_allclose(daily["measure"], events["measure"], atol=0.011)


def test_manifest_records_rulebook_inputs_counts_and_versions(run_dir: Path) -> None:
    m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["rulebook"]["rulebook_id"] == "bank-default"
    assert len(m["rulebook"]["rulebook_sha256"]) == 64
    assert {f["table"] for f in m["inputs"]} >= {"customers", "accounts", "balances_daily"}
    assert all(len(f["sha256"]) == 64 for f in m["inputs"])
    assert m["row_counts"]["tiers"] == 2 * m["row_counts"]["customers"]
    assert m["libraries"]["duckdb"] != "not installed"


def test_workbook_has_every_sheet_and_no_raw_identity(bank: Path, run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / "tierbook-report.xlsx", read_only=True)
    names = " ".join(wb.sheetnames)
    for part in (
        "分层汇总",
        "customers",
        "迁移",
        "changes",
        "staff books",
        "tasks",
        "alerts",
        "quarantine",
    ):
        assert part in names
    raw = pd.read_csv(bank / "customers.csv", dtype=str)
    secrets = set(raw["id_number"].dropna()) | set(
        raw["phone"].dropna().str.replace(r"\D", "", regex=True).str[-11:]
    )
    ws = wb[next(n for n in wb.sheetnames if "customers" in n)]
    rows = ws.iter_rows(values_only=True)
    next(rows)
    header = list(next(rows))
    assert len(header) == len(set(header)), "a column twice (a clash in a merge: _x, _y)"
    for lad in ("card_tiers", "branch_bands"):  # each ladder's level, step and explanation
        for col in ("level", "measure", "step", "explanation"):
            assert f"{lad}_{col}" in header, (lad, col)
    assert not [h for h in header if h.endswith(("_x", "_y"))]
    id_col = header.index("id_number")
    seen = 0
    for row in rows:
        cell = row[id_col]
        if cell:
            assert re.fullmatch(r"[0-9A-Z]{4}\*{10}[0-9A-Z]{4}", str(cell))
            seen += 1
        assert not secrets.intersection(str(v) for v in row if v is not None)
    assert seen > 0


def test_explain_names_the_level_threshold_and_rulebook(run_dir: Path) -> None:
    tiers = pd.read_parquet(run_dir / "tiers.parquet")
    cid = tiers[(tiers["ladder_id"] == "card_tiers") & (tiers["level"] == "金卡")][
        "customer_id"
    ].iloc[0]
    output = tierbook("explain", cid, "--run", str(run_dir))
    assert "card_tiers=金卡" in output
    assert "100,000.00" in output
    assert "2025.1" in output


def test_second_run_keeps_staff(bank: Path, run_dir: Path) -> None:
    before = pd.read_parquet(run_dir / "assignments.parquet")
    run_batch(bank, run_dir, "--no-excel", "--quiet")
    after = pd.read_parquet(run_dir / "assignments.parquet")
    merged = before.merge(after, on=["customer_id", "role"], suffixes=("_a", "_b"))
    assert len(merged) == len(before) == len(after)
    assert (merged["staff_id_a"] == merged["staff_id_b"]).all()
    assert set(after["reason"]) == {"kept"}


def test_bad_as_of_and_bad_rulebook_fail_with_a_message(bank: Path, tmp_path: Path) -> None:
    assert "not a date" in tierbook("run", "--data", str(bank), "--as-of", "2025-13-01", expect=2)
    bad = tmp_path / "r.yaml"
    bad.write_text("id: x\nversion: '1'\nladders: []\n", encoding="utf-8")
    assert "ladders" in tierbook("rules", "check", str(bad), expect=2)
