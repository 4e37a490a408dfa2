"""The demo's purchases for the retail-membership preset: valid, reproducible, BG/NBD-like."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tierbook.bootstrap import connect_engine
from tierbook.demo.generator import generate
from tierbook.demo.purchases import write_purchases
from tierbook.ingest.dataset import load_dataset


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(out, customers=400, corporates=10, branches=2, seed=3, year=2025)
    write_purchases(out, seed=3, year=2025)
    return out


def test_members_are_individuals_and_purchases_fall_in_the_two_years(bank: Path) -> None:
    p = pd.read_csv(bank / "purchases.csv", dtype={"customer_id": str}, parse_dates=["date"])
    customers = pd.read_csv(bank / "customers.csv", dtype=str)
    individuals = set(customers.loc[customers["kind"] == "individual", "customer_id"])
    assert set(p["customer_id"]) <= individuals
    assert p["date"].min() >= pd.Timestamp("2024-01-01")
    assert p["date"].max() <= pd.Timestamp("2025-12-31")
    assert (p["amount"] > 0).all() and (p["items"] >= 1).all()
    assert p["discount"].between(0, 1).all() and p["purchase_id"].is_unique


def test_same_seed_gives_the_same_purchases(bank: Path, tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_bytes((bank / "customers.csv").read_bytes())
    write_purchases(tmp_path, seed=3, year=2025)
    assert (tmp_path / "purchases.csv").read_bytes() == (bank / "purchases.csv").read_bytes()


def test_purchases_pass_the_data_contract_without_quarantine(bank: Path) -> None:
    ds = load_dataset(bank, connect_engine(), tables={"purchases"})
    q = ds.quarantine
    assert q[q["table"] == "purchases"].empty
    rows = len(pd.read_csv(bank / "purchases.csv"))
    assert ds.tables["purchases"].count().execute() == rows
