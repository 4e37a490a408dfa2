"""End to end: churn, early warning, corporate segments and membership on a small demo bank,
checked against the planted truth, the raw files and a plain recomputation."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.e2e.helpers import run_batch
from tests.reference import monthly_averages
from tierbook.batch.analyses import book_rows
from tierbook.batch.early_warning import training_set
from tierbook.batch.monthly import build_monthly_book
from tierbook.batch.run import Timer, compute_tiers, tables_needed
from tierbook.bootstrap import connect_engine
from tierbook.demo.generator import generate
from tierbook.demo.purchases import write_purchases
from tierbook.ingest.dataset import load_dataset
from tierbook.rules import load_preset

AS_OF = date(2025, 12, 31)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(out, customers=1500, corporates=40, branches=3, seed=11, year=2025)
    write_purchases(out, seed=11, year=2025)
    labels = pd.read_csv(out / "truth" / "labels.csv")
    told = labels[labels["label"] == "churner_transfer_out"]["customer_id"].iloc[0]
    staff = pd.read_csv(out / "staff.csv", dtype=str)["staff_id"].iloc[0]
    pd.DataFrame(
        [
            {"contact_id": "K1", "customer_id": told, "staff_id": staff, "date": "2025-11-20",
             "channel": "phone", "purpose": "挽留", "outcome": "客户称他行利率更高",
             "reason_code": "rate"},
            {"contact_id": "K2", "customer_id": "C99999999", "staff_id": staff,
             "date": "2025-11-21", "channel": "phone", "purpose": "", "outcome": "",
             "reason_code": "service"},
        ]
    ).to_csv(out / "contacts.csv", index=False)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def run_dir(bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_batch(bank, tmp_path_factory.mktemp("out"), "--quiet", as_of=AS_OF.isoformat())


@pytest.fixture(scope="module")
def churn(run_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "churn.parquet")


def _labels(bank: Path, label: str) -> list[str]:
    t = pd.read_csv(bank / "truth" / "labels.csv")
    return t.loc[t["label"] == label, "customer_id"].tolist()


def test_every_planted_decliner_is_leaving_from_the_second_half(
    bank: Path, churn: pd.DataFrame
) -> None:
    c = churn.set_index("customer_id")
    ids = _labels(bank, "churner_decline")
    assert ids and c.loc[ids, "leaving"].all()
    assert (pd.to_datetime(c.loc[ids, "onset_month"]) >= "2025-07-01").all()


def test_every_planted_transfer_out_is_leaving_in_the_months_it_left(
    bank: Path, churn: pd.DataFrame
) -> None:
    c = churn.set_index("customer_id")
    ids = _labels(bank, "churner_transfer_out")
    onset = pd.to_datetime(c.loc[ids, "onset_month"])
    assert c.loc[ids, "leaving"].all()
    assert onset.between("2025-06-01", "2025-10-31").all()
    others = c.loc[ids][c.loc[ids, "reason_source"] == "observed"]
    assert (others["reason_code"] == "transfer_out").all()


def test_reason_code_of_a_contact_explains_the_customer(bank: Path, churn: pd.DataFrame) -> None:
    told = pd.read_csv(bank / "contacts.csv")["customer_id"].iloc[0]
    row = churn.set_index("customer_id").loc[told]
    assert (row["reason_source"], row["reason_code"]) == ("contact", "rate")


def test_contact_of_an_unknown_customer_is_quarantined(run_dir: Path) -> None:
    q = pd.read_csv(run_dir / "quarantine.csv")
    bad = q[q["table"] == "contacts"]
    assert bad["code"].tolist() == ["UNKNOWN_REFERENCE"] and bad["line"].tolist() == [3]


def test_steady_large_customers_are_not_leaving(bank: Path, churn: pd.DataFrame) -> None:
    c = churn.set_index("customer_id")
    assert not c.loc[_labels(bank, "steady_large"), "leaving"].any()


def test_early_warning_beats_its_floor_on_months_10_to_12(run_dir: Path) -> None:
    m = json.loads((run_dir / "analyses.json").read_text(encoding="utf-8"))["early_warning"]
    assert m["features_through_month"] == "2025-09-30"
    assert m["labels_in_months"] == ["2025-10-31", "2025-11-30", "2025-12-31"]
    assert m["evaluated_positives"] >= 10
    assert m["auc"] >= 0.75
    assert m["precision_at_top"] >= 2 * m["base_rate"]


def test_training_never_sees_months_10_to_12(bank: Path) -> None:
    lr = load_preset()
    ds = load_dataset(bank, connect_engine(), tables=tables_needed(lr))
    customers, results, sums, cal = compute_tiers(ds, AS_OF, lr, Timer(None))
    book = build_monthly_book(ds, customers, sums, cal, results["card_tiers"].path)
    rules = lr.rulebook.churn
    assert rules is not None
    x, y = training_set(book, rules)
    rng = np.random.default_rng(0)
    for arr in (book.aum, book.flows, book.counts, book.class_aum):
        arr[:, 9:] = rng.uniform(0, 1e6, arr[:, 9:].shape)
    book.open_accounts[:, 9:] = 0
    book.levels[:, 9:] = 0
    x2, y2 = training_set(book, rules)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_the_monthly_book_holds_the_followed_customers_and_every_corporate_as_they_are(
    bank: Path,
) -> None:
    """Followed: the average of the first three months' weighted 年日均 (recomputed from
    the raw files) reaches the rule's minimum. The others are left out of the book, and
    leaving them out changes nothing of the rows kept."""
    lr = load_preset()
    rules = lr.rulebook.churn
    assert rules is not None and rules.baseline_months == 3
    ds = load_dataset(bank, connect_engine(), tables=tables_needed(lr))
    customers, results, sums, cal = compute_tiers(ds, AS_OF, lr, Timer(None))
    path = results["card_tiers"].path
    book = build_monthly_book(
        ds, customers, sums, cal, path, book_rows(lr.rulebook, customers, sums, cal)
    )
    baseline = monthly_averages(bank)[[1, 2, 3]].mean(axis=1)
    raw = pd.read_csv(bank / "customers.csv", dtype=str)
    firms = set(raw.loc[raw["kind"] != "individual", "customer_id"])
    expected = set(baseline.index[baseline.round(2) >= rules.min_baseline_aum]) | firms
    assert firms and 0 < len(expected - firms) < len(raw) / 2
    assert set(book.customer_ids) == expected
    whole = build_monthly_book(ds, customers, sums, cal, path)
    at = whole.customer_ids.get_indexer(book.customer_ids)
    for name in ("aum", "class_aum", "flows", "counts", "open_accounts", "levels", "below_runs",
                 "open_date"):  # fmt: skip
        np.testing.assert_array_equal(getattr(book, name), getattr(whole, name)[at], name)


def test_cohorts_start_whole_and_never_gain_customers(run_dir: Path) -> None:
    c = pd.read_parquet(run_dir / "churn_cohorts.parquet")
    for _, part in c.groupby("start_level"):
        retained = part.sort_values("month")["retained"].to_numpy()
        assert retained[0] == 1.0 and (np.diff(retained) <= 0).all()


def test_segments_follow_the_raw_files(bank: Path, run_dir: Path) -> None:
    clients = pd.read_parquet(run_dir / "segment_clients.parquet").set_index("customer_id")
    raw = pd.read_csv(bank / "customers.csv", dtype={"customer_id": str})
    firms = raw[raw["kind"] != "individual"].set_index("customer_id")
    assert set(clients.index) == set(firms.index)
    accounts = pd.read_csv(bank / "accounts.csv", dtype=str)
    loans = accounts[accounts["product_type"] == "loan"]
    balances = pq.read_table(bank / "balances_daily").to_pandas()
    with_balance = set(balances.loc[balances["balance"] > 0, "account_id"])
    borrowers = set(loans.loc[loans["account_id"].isin(with_balance), "customer_id"])
    assert {c for c in clients.index if clients.loc[c, "loan"] == "with_loan"} == (
        borrowers & set(clients.index)
    )
    trad = firms[firms["sector"] == "traditional"]
    line = np.where(trad["listed_industry"].astype(str).str.lower() == "true", 1.5e8, 3e8)
    large = set(trad.index[trad["annual_sales"].astype(float) >= line])
    assert set(clients.index[clients["size"] == "large"]) == large


def test_segments_are_ranked_and_cover_every_client(run_dir: Path) -> None:
    seg = pd.read_parquet(run_dir / "segments.parquet")
    clients = pd.read_parquet(run_dir / "segment_clients.parquet")
    assert seg["clients"].sum() == len(clients)
    assert seg["rank"].tolist() == list(range(1, len(seg) + 1))
    assert (np.diff(seg["attractiveness"].to_numpy()) <= 0).all()


def test_charts_are_pngs_and_sheets_are_masked(bank: Path, run_dir: Path) -> None:
    for name in ("chart-tier-distribution.png", "chart-churn-by-cohort.png"):
        assert (run_dir / name).read_bytes()[:8] == PNG
    wb = openpyxl.load_workbook(run_dir / "tierbook-report.xlsx", read_only=True)
    assert {"流失 churn", "流失预警 early warning", "留存 cohorts", "对公细分 segments"} <= set(
        wb.sheetnames
    )
    names = set(pd.read_csv(bank / "customers.csv", dtype=str)["name"])
    for sheet in ("流失 churn", "对公客户 segment clients"):
        cells = {c for row in wb[sheet].iter_rows(values_only=True) for c in row if c}
        assert not cells & names, sheet


def test_membership_run_gives_monthly_members_abc_and_lifecycle(bank: Path, tmp_path: Path) -> None:
    out = run_batch(bank, tmp_path / "m", "--rulebook", "retail_membership", "--quiet",
                    as_of=AS_OF.isoformat())  # fmt: skip
    monthly = pd.read_parquet(out / "membership_monthly.parquet")
    assert (np.diff(monthly["base"]) >= 0).all() and monthly["dead_rate"].between(0, 1).all()
    purchases = pd.read_csv(bank / "purchases.csv", parse_dates=["date"])
    in_year = purchases[purchases["date"].dt.year == 2025]
    assert monthly["sales"].sum() == pytest.approx(in_year["amount"].sum(), abs=0.05)
    members = pd.read_parquet(out / "membership_members.parquet")
    assert len(members) == purchases["customer_id"].nunique()
    contrib = pd.read_parquet(out / "membership_contribution.parquet")
    assert contrib.groupby("by")["contribution_rate"].sum().round(2).eq(1.0).all()
    life = pd.read_parquet(out / "lifecycle.parquet")
    assert life["p_alive"].between(0, 1).all() and (life["clv"] >= 0).all()
    wb = openpyxl.load_workbook(out / "tierbook-report.xlsx", read_only=True)
    assert {"会员月报 membership", "会员贡献 contribution", "生命周期 lifecycle"} <= set(
        wb.sheetnames
    )


def test_a_run_early_in_the_first_year_follows_nobody_and_still_writes_everything(
    bank: Path, tmp_path: Path
) -> None:
    # as of March the window reaches back before the data: no customer has a baseline
    out = run_batch(bank, tmp_path / "march", "--quiet", as_of="2025-03-31")
    metrics = json.loads((out / "analyses.json").read_text(encoding="utf-8"))
    assert metrics["churn"]["followed"] == 0
    assert "status" in metrics["early_warning"]
    assert pd.read_parquet(out / "churn.parquet").empty
    assert (out / "chart-tier-distribution.png").read_bytes()[:8] == PNG
    assert "流失 churn" in openpyxl.load_workbook(out / "tierbook-report.xlsx").sheetnames
