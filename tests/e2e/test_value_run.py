"""End to end: a generated bank with planted fake-big customers through ``tierbook run`` and
``tierbook evaluate``; outputs, workbook sheets, masking and the Pareto chart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.e2e.helpers import run_batch, tierbook
from tierbook.batch.evaluate import evaluate_run
from tierbook.batch.value_frames import MONEY_EVIDENCE
from tierbook.demo.generator import generate

FLOOR = 0.8  # at 5 planted customers per case one miss or one extra flag is 0.8
DETECTORS = ("window_dressing", "one_off_bulk", "high_volume_low_profit", "peeler")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("valuebank")
    generate(out, customers=3000, corporates=60, branches=3, seed=12, year=2025)
    return out


@pytest.fixture(scope="module")
def run_dir(bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_batch(bank, tmp_path_factory.mktemp("valueout"), "--quiet")


def test_every_detector_passes_the_floor_on_planted_truth(bank: Path, run_dir: Path) -> None:
    table = evaluate_run(run_dir, bank / "truth" / "labels.csv").set_index("detector")
    for name in DETECTORS:
        assert table.loc[name, "labelled"] >= 5
        assert table.loc[name, "precision"] >= FLOOR, table
        assert table.loc[name, "recall"] >= FLOOR, table
    assert table.loc["steady_large: must not flag", "flagged"] == 0
    out = tierbook("evaluate", "--run", str(run_dir), "--truth", str(bank / "truth" / "labels.csv"),
                   "--floor", str(FLOOR))  # fmt: skip
    assert "met" in out


def test_evaluate_fails_below_an_impossible_floor_and_on_a_missing_run(
    bank: Path, run_dir: Path, tmp_path: Path
) -> None:
    truth = str(bank / "truth" / "labels.csv")
    tierbook("evaluate", "--run", str(run_dir), "--truth", truth, "--floor", "1.01", expect=1)
    out = tierbook("evaluate", "--run", str(tmp_path), "--truth", truth, expect=2)
    assert "not found" in out


def test_flags_carry_their_evidence_and_agree_with_the_raw_income(
    bank: Path, run_dir: Path
) -> None:
    flags = pd.read_parquet(run_dir / "fake_big_flags.parquet")
    assert flags["reason"].notna().all()
    income = pd.read_csv(bank / "income.csv")
    income["gross"] = income["net_interest"] + income["fees"]
    income["conc"] = income["fee_waivers"] + income["rate_premium"]
    per = income.groupby("customer_id")[["gross", "conc"]].sum()
    peel = flags[flags["detector"] == "peeler"].set_index("customer_id")
    assert len(peel)
    np.testing.assert_allclose(peel["contribution"], per.loc[peel.index, "gross"], atol=0.05)
    assert (per.loc[peel.index, "conc"] > per.loc[peel.index, "gross"]).all()
    bulk = flags[flags["detector"].isin(["window_dressing", "one_off_bulk"])]
    assert (bulk["peak"] >= 5 * bulk["held_avg"]).all()
    assert (bulk["days_above"] <= 60).all()
    for column in MONEY_EVIDENCE:  # to the cent: a rerun writes the same amounts
        amounts = flags[column].dropna().astype(float)
        np.testing.assert_array_equal(amounts, amounts.round(2), err_msg=column)


def test_key_customers_scores_and_groups(run_dir: Path) -> None:
    scores = pd.read_parquet(run_dir / "value_scores.parquet")
    customers = pd.read_parquet(run_dir / "customers.parquet")
    assert sorted(scores["customer_id"]) == sorted(customers["customer_id"])
    parts = scores.filter(like="pts_").sum(axis=1)
    np.testing.assert_allclose(parts, scores["score"], atol=0.05)
    key = pd.read_parquet(run_dir / "key_customers.parquet")
    n = len(scores)
    assert 0 < len(key) <= np.ceil(0.2 * n)
    cutoff = np.sort(scores["score"].to_numpy())[::-1][int(np.ceil(0.2 * n)) - 1]
    assert (key["score"] >= cutoff).all()
    assert (scores.set_index("customer_id").loc[key["customer_id"], "profit"] >= 1000).all()
    flagged = scores.loc[scores["flags"] != "", "customer_id"]
    assert not set(flagged) & set(key["customer_id"])
    assert set(scores["group_206020"]) == {"valuable", "break_even", "costly"}
    assert (scores["group_206020"] == "valuable").sum() == round(0.2 * n)
    corporate = scores["kind"] != "individual"
    assert (
        scores.loc[corporate, "ka_type"]
        .isin(["strategic_value", "extrinsic_value", "intrinsic_value"])
        .all()
    )
    assert (scores.loc[~corporate, "ka_type"] == "").all()


def test_cross_sell_tasks_name_an_rm_of_the_customer(run_dir: Path) -> None:
    tasks = pd.read_parquet(run_dir / "cross_sell_tasks.parquet")
    assignments = pd.read_parquet(run_dir / "assignments.parquet")
    key = set(pd.read_parquet(run_dir / "key_customers.parquet")["customer_id"])
    assert len(tasks) and set(tasks["customer_id"]) <= key
    assert (tasks["kind"] == "cross_sell").all() and (tasks["role"] == "rm").all()
    named = tasks.dropna(subset=["staff_id"]).merge(
        assignments[["customer_id", "role", "staff_id"]], on=["customer_id", "role", "staff_id"]
    )
    assert len(named) == tasks["staff_id"].notna().sum()
    assert tasks["reason"].str.contains("next best product").all()


def test_pareto_outputs_chart_and_manifest(run_dir: Path) -> None:
    pareto = pd.read_parquet(run_dir / "pareto.parquet")
    assert pareto["profit_share"].iloc[-1] == pytest.approx(1.0)
    scores = pd.read_parquet(run_dir / "value_scores.parquet")
    p = np.sort(scores["profit"].to_numpy())[::-1]
    k = int(np.ceil(0.2 * len(p)))
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["concentration"]["top_profit_share"] == pytest.approx(p[:k].sum() / p.sum())
    assert (run_dir / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert manifest["outputs"]["pareto_chart"] == "pareto.png"


def test_workbook_has_the_value_sheets_with_names_masked(bank: Path, tmp_path: Path) -> None:
    out = run_batch(bank, tmp_path / "wb", "--quiet", "--excel")
    wb = openpyxl.load_workbook(out / "tierbook-report.xlsx", read_only=True)
    for sheet in ("大客户 key customers", "假大户 fake-big flags", "帕累托 Pareto", "20-60-20",
                  "交叉销售 cross-sell"):  # fmt: skip
        assert sheet in wb.sheetnames
    names = set(pd.read_csv(bank / "customers.csv", dtype=str)["name"])
    rows = list(wb["大客户 key customers"].iter_rows(min_row=2, values_only=True))
    col = rows[0].index("name")
    shown = [r[col] for r in rows[1:]]
    assert shown and all("*" in s for s in shown)
    assert not set(shown) & names
