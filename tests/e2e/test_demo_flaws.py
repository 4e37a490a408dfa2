"""Every bad row planted in the demo bank lands in the quarantine with its code — and no
good row does; the tiers of the good customers are untouched by the bad rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.helpers import run_batch, tierbook
from tierbook.demo.flaws import plant_flaws
from tierbook.demo.generator import generate


@pytest.fixture(scope="module")
def flawed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    bank = tmp_path_factory.mktemp("flawed")
    generate(bank, customers=400, corporates=20, branches=2, seed=5, year=2025)
    return bank, plant_flaws(bank, 2025)


@pytest.mark.parametrize("form", ["daily", "events"])
def test_each_planted_flaw_is_quarantined_with_its_code(flawed, tmp_path: Path, form: str) -> None:
    bank, flaws = flawed
    other = "balance_events" if form == "daily" else "balances_daily"
    run_batch(bank, tmp_path, "--balances", form, "--no-excel", "--quiet")
    q = pd.read_csv(tmp_path / "quarantine.csv", dtype=str)
    got = Counter(zip(q["table"], q["code"], strict=True))
    # A conflicting duplicate day sets aside both rows: the original and the planted one.
    expected = Counter()
    for f in flaws:
        if f.table != other:
            expected[(f.table, f.code)] += 2 if f.code == "DUPLICATE_KEY" else 1
    assert got == expected


def test_bad_rows_carry_file_line_column_and_no_personal_data(flawed, tmp_path: Path) -> None:
    bank, _ = flawed
    run_batch(bank, tmp_path, "--no-excel", "--quiet")
    q = pd.read_csv(tmp_path / "quarantine.csv", dtype=str)
    row = q[q["code"] == "ID_CHECKSUM"].iloc[0]
    assert (row["file"], row["column"]) == ("customers.csv", "id_number")
    lines = (bank / "customers.csv").read_text(encoding="utf-8").splitlines()
    assert "CX0000001" in lines[int(row["line"]) - 1]
    raw = pd.read_csv(bank / "customers.csv", dtype=str)
    secrets = set(raw["id_number"].dropna()) | set(raw["name"].dropna())
    assert not any(s in reason for s in secrets for reason in q["reason"])


@pytest.mark.parametrize(
    ("setting", "stage"),
    [
        ("TIERBOOK_MEMORY_LIMIT", "load and validate inputs"),
        ("TIERBOOK_ANALYSIS_MEMORY_LIMIT", "analyses: churn, segments, membership"),
    ],
)
def test_a_run_beyond_a_memory_limit_stops_naming_the_setting_and_the_stage_not_a_traceback(
    flawed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, stage: str
) -> None:
    bank, _ = flawed
    monkeypatch.setenv(setting, "1MB")
    out = tierbook("run", "--data", str(bank), "--as-of", "2025-12-31", "--out", str(tmp_path),
                   "--no-excel", "--quiet", expect=2)  # fmt: skip
    text = " ".join(out.split())
    assert f"ran out of its working memory ({setting}=1MB) in the stage '{stage}'" in text
    assert f"set {setting} higher" in text
    assert "Traceback" not in out
