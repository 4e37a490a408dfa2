"""The incremental daily close equals a full recompute, exactly; and refuses what it must."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.analytics.aum import CLASSES
from tierbook.analytics.backends.duckdb import connect
from tierbook.batch.close import close_day
from tierbook.batch.close_init import init_state
from tierbook.batch.close_outputs import write_close_outputs
from tierbook.batch.close_state import load_state
from tierbook.batch.dayfiles import split_days
from tierbook.batch.outputs import PARQUET_RESULTS, write_outputs
from tierbook.batch.run import load_previous_assignments, run_batch, tables_needed
from tierbook.demo.generator import generate
from tierbook.domain.closing import Action, CloseRefusedError, month_number
from tierbook.ingest.dataset import load_dataset
from tierbook.ingest.quarantine import IngestError
from tierbook.rules.loader import LoadedRulebook, load_rulebook

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
PRODUCTS = ("demand_deposit", "time_deposit", "fund", "loan")
WEIGHTS = {"demand_deposit": 1.0, "time_deposit": 1.0, "fund": 0.5, "loan": 0.0}
TABLE = {"daily": "balances_daily", "events": "balance_events"}


def resident_id(body: str) -> str:
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


@pytest.fixture(scope="module")
def con():
    return connect(threads=1)


@pytest.fixture(scope="module")
def rulebook() -> LoadedRulebook:
    """The default rulebook without the maintenance step (tiers and averages only: fast)."""
    lr = load_rulebook(None)
    return LoadedRulebook(lr.rulebook.model_copy(update={"maintenance": None}), "test", "t1")


@st.composite
def banks(draw, form: str):
    """A few customers and accounts opening and closing around the start day ``x``, with
    balances on random days (gaps count as zero) a year back, near ``x`` and after it."""
    x = draw(st.sampled_from([date(2025, 12, 29), date(2024, 2, 27), date(2025, 6, 28)]))
    k = draw(st.integers(1, 3))
    customers = [(f"C{i}", draw(st.sampled_from([-800, -30, 1, 2]))) for i in range(3)]
    accounts, rows = [], []
    for a in range(draw(st.integers(1, 5))):
        cust, c_open = customers[draw(st.integers(0, 2))]
        open_ = max(c_open, draw(st.sampled_from([-800, -370, -20, 1, 2])))
        close = draw(st.sampled_from([None, -360, -5, 1, 2, 3]))
        close = None if close is None or close <= open_ else close
        aid = f"A{a}"
        accounts.append((aid, cust, draw(st.sampled_from(PRODUCTS)), open_, close))
        window = st.one_of(st.integers(-380, -360), st.integers(-40, 0), st.integers(1, k))
        for day in sorted(set(draw(st.lists(window, max_size=8)))):
            if open_ <= day and (close is None or day < close):
                rows.append((aid, day, draw(st.integers(0, 5_000_000_000))))
    return x, k, form, customers, accounts, rows


def write_bank(root: Path, bank, upto: date) -> None:
    """Reference tables as the bank exports them on ``upto``; balances whole and per day."""
    x, k, form, customers, accounts, rows = bank
    off = (upto - x).days
    pd.DataFrame({"branch_id": ["B01"], "name": ["总行"], "city": [""]}).to_csv(
        root / "branches.csv", index=False
    )
    pd.DataFrame(
        {"staff_id": ["S1"], "name": ["Wang"], "branch_id": ["B01"], "role": ["rm"],
         "capacity": [100], "start_date": ["2020-01-01"], "end_date": [""]}
    ).to_csv(root / "staff.csv", index=False)  # fmt: skip
    cust = [(c, o) for c, o in customers if o <= off]
    pd.DataFrame(
        {
            "customer_id": [c for c, _ in cust],
            "kind": "individual",
            "name": "张三",
            "branch_id": "B01",
            "open_date": [(x + timedelta(days=o)).isoformat() for _, o in cust],
            "id_number": [resident_id(f"1101051949123100{c[1:]}") for c, _ in cust],
        }
    ).to_csv(root / "customers.csv", index=False)
    acc = [a for a in accounts if a[3] <= off]
    pd.DataFrame(
        {
            "account_id": [a[0] for a in acc],
            "customer_id": [a[1] for a in acc],
            "product_type": [a[2] for a in acc],
            "open_date": [(x + timedelta(days=a[3])).isoformat() for a in acc],
            "close_date": [
                (x + timedelta(days=a[4])).isoformat() if a[4] is not None and a[4] <= off else ""
                for a in acc
            ],
        }
    ).to_csv(root / "accounts.csv", index=False)
    folder = root / TABLE[form]
    folder.mkdir(exist_ok=True)
    for day in range(0, k + 1):
        part = [r for r in rows if r[1] == day] if day else rows
        target = folder / f"date={(x + timedelta(days=day)).isoformat()}" if day else folder
        target.mkdir(exist_ok=True)
        pq.write_table(_arrow(x, part), target / "part-0.parquet")


def _arrow(x: date, rows) -> pa.Table:
    return pa.table(
        {
            "account_id": pa.array([r[0] for r in rows], pa.string()),
            "date": pa.array([x + timedelta(days=r[1]) for r in rows], pa.date32()),
            "balance": pa.array([r[2] / 100 for r in rows], pa.float64()),
        }
    )


def reference_months(bank, last: date) -> dict[tuple[str, int, int], int]:
    """Plain Python, day by day: balance-days in cents per customer, month and class."""
    x, _k, form, _customers, accounts, rows = bank
    out: dict[tuple[str, int, int], int] = {}
    for aid, cust, product, _open, close in accounts:
        own = sorted((d, c) for a, d, c in rows if a == aid)
        for off in range(-820, (last - x).days + 1):
            if form == "daily":
                cents = dict(own).get(off, 0)
            else:
                held = [c for d, c in own if d <= off]
                cents = held[-1] if held and (close is None or off < close) else 0
            key = (cust, month_number(x + timedelta(days=off)), CLASSES.index(product))
            out[key] = out.get(key, 0) + cents
    return out


RESULTS = ("customers", "tiers", "history", "changes")


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
@pytest.mark.parametrize("form", ["daily", "events"])
def test_closing_day_by_day_equals_the_full_recompute_exactly(
    tmp_path_factory, con, rulebook, form, data
):
    bank = data.draw(banks(form))
    x, k, form, *_ = bank
    root = tmp_path_factory.mktemp("bank")
    state_dir = root / "state"
    folder = root / "data"
    folder.mkdir()
    write_bank(folder, bank, x)
    init_state(load_dataset(folder, con, balances=form), x, rulebook, state_dir)  # no dups
    for i in range(1, k + 1):
        write_bank(folder, bank, x + timedelta(days=i))
        outcome = close_day(folder, x + timedelta(days=i), rulebook, con, state_dir)
        assert outcome.action is Action.CLOSE
        outcome.commit()
    last = x + timedelta(days=k)
    full = run_batch(load_dataset(folder, con, balances=form), last, rulebook)
    for name in RESULTS:
        pd.testing.assert_frame_equal(
            getattr(outcome.result, name), getattr(full, name), check_exact=True, obj=name
        )
    state = load_state(state_dir)
    ref = reference_months(bank, last)
    slots = {c: i for i, c in enumerate(state.customers)}
    for m, arr in state.months.items():
        for (cust, month, klass), cents in ref.items():
            if month == m and cust in slots:
                assert arr[klass, slots[cust]] == cents, (cust, month, CLASSES[klass])


# --- refusals and idempotence on a fixed bank ------------------------------------------------

FIXED = (
    date(2025, 12, 29),
    3,
    "daily",
    [("C0", -800), ("C1", -30)],
    [("A0", "C0", "demand_deposit", -800, None), ("A1", "C1", "fund", -20, None)],
    [("A0", d, 10_000_00 + d) for d in range(-40, 4)] + [("A1", d, 50_000_00) for d in (-3, 1)],
)


@pytest.fixture
def started(tmp_path, con, rulebook):
    data, state_dir = tmp_path / "data", tmp_path / "state"
    data.mkdir()
    write_bank(data, FIXED, FIXED[0])
    ds = load_dataset(data, con)
    run_batch(ds, FIXED[0], rulebook)
    init_state(ds, FIXED[0], rulebook, state_dir)
    return data, state_dir


def _close(started, con, rulebook, day: date, **kw):
    data, state_dir = started
    return close_day(data, day, rulebook, con, state_dir, **kw)


def test_closing_a_day_twice_with_the_same_input_changes_nothing(started, con, rulebook):
    day = date(2025, 12, 30)
    _close(started, con, rulebook, day).commit()
    meta = json.loads((started[1] / "meta.json").read_text())
    files = sorted(p.name for p in started[1].rglob("*"))
    again = _close(started, con, rulebook, day)
    assert again.action is Action.NOTHING and again.result is None
    again.commit()
    assert json.loads((started[1] / "meta.json").read_text()) == meta
    assert sorted(p.name for p in started[1].rglob("*")) == files


def test_a_closed_day_with_a_different_input_is_refused(started, con, rulebook):
    day = date(2025, 12, 30)
    _close(started, con, rulebook, day).commit()
    _close(started, con, rulebook, date(2025, 12, 31)).commit()
    part = started[0] / "balances_daily" / "date=2025-12-30" / "part-0.parquet"
    pq.write_table(_arrow(FIXED[0], [("A0", 1, 1)]), part)
    with pytest.raises(
        CloseRefusedError,
        match=r"different input.*next day to close is 2026-01-01",
    ):
        _close(started, con, rulebook, day)


def test_a_gap_is_refused_naming_the_expected_day(started, con, rulebook):
    with pytest.raises(CloseRefusedError, match=r"gap.*next day to close is 2025-12-30"):
        _close(started, con, rulebook, date(2025, 12, 31))


def test_a_day_before_the_state_is_refused_as_out_of_order(started, con, rulebook):
    _close(started, con, rulebook, date(2025, 12, 30)).commit()
    with pytest.raises(CloseRefusedError, match=r"out of order.*next day to close is 2025-12-31"):
        _close(started, con, rulebook, date(2025, 12, 28))


def test_a_row_of_another_day_in_the_days_file_is_refused(started, con, rulebook):
    part = started[0] / "balances_daily" / "date=2025-12-30" / "part-0.parquet"
    pq.write_table(_arrow(FIXED[0], [("A0", 1, 100), ("A1", 2, 100)]), part)
    with pytest.raises(IngestError, match=r"line 2.*dated 2025-12-31"):
        _close(started, con, rulebook, date(2025, 12, 30))


def test_a_bad_row_of_the_day_is_quarantined_with_its_real_file(started, con, rulebook):
    folder = started[0] / "balances_daily" / "date=2025-12-30"
    (folder / "part-0.parquet").unlink()
    (started[0] / "balances_daily" / "date=2025-12-30.csv").write_text(
        "account_id,date,balance\nA0,2025-12-30,100.00\nA9,2025-12-30,5\n", encoding="utf-8"
    )
    folder.rmdir()
    outcome = _close(started, con, rulebook, date(2025, 12, 30))
    q = outcome.result.quarantine
    assert list(q["file"]) == ["balances_daily/date=2025-12-30.csv"]
    assert list(q["line"]) == [3] and list(q["code"]) == ["UNKNOWN_REFERENCE"]
    c0 = outcome.result.customers.set_index("customer_id").loc["C0", "month_avg"]
    # December: 1,000,000 + d cents on days -40..0 (Dec 1 = offset -28) and 100.00 on the 30th
    expected = (sum(10_000_00 + d for d in range(-28, 1)) + 100_00) / 100 / 30
    assert c0 == pytest.approx(round(expected, 2), abs=0.005)


def test_the_accounts_file_is_rewritten_only_when_the_accounts_change(started, con, rulebook):
    """Daily form: balances are not kept per account, so the state's accounts file changes
    only with the accounts table. A day that adds an account writes a new one, and that
    account's balance counts from its first day."""
    data, state_dir = started
    first = json.loads((state_dir / "meta.json").read_text())["accounts"]
    stamp = (state_dir / first).stat().st_mtime_ns
    _close(started, con, rulebook, date(2025, 12, 30)).commit()
    meta = json.loads((state_dir / "meta.json").read_text())
    assert meta["accounts"] == first and (state_dir / first).stat().st_mtime_ns == stamp
    accounts = pd.read_csv(data / "accounts.csv", dtype=str, keep_default_na=False)
    new = {"account_id": "A7", "customer_id": "C1", "product_type": "demand_deposit",
           "open_date": "2025-12-31", "close_date": ""}  # fmt: skip
    pd.concat([accounts, pd.DataFrame([new])]).to_csv(data / "accounts.csv", index=False)
    part = data / "balances_daily" / "date=2025-12-31" / "part-0.parquet"
    day = [("A0", 2, 10_000_00 + 2), ("A7", 2, 777_00)]
    pq.write_table(_arrow(FIXED[0], day), part)
    _close(started, con, rulebook, date(2025, 12, 31)).commit()
    meta = json.loads((state_dir / "meta.json").read_text())
    assert meta["accounts"] == "accounts@2025-12-31.parquet"
    assert not (state_dir / first).exists()
    state = load_state(state_dir)
    assert "A7" in set(state.accounts["account_id"])
    slot = list(state.customers).index("C1")
    december = state.month(month_number(date(2025, 12, 1)))
    # C1: the fund A1 (50,000.00 on the 26th and the 30th), A7 (777.00 on the 31st)
    assert december[CLASSES.index("fund"), slot] == 2 * 50_000_00
    assert december[CLASSES.index("demand_deposit"), slot] == 777_00


# --- the files a close writes, with the maintenance step, against a full run -----------------


@pytest.fixture(scope="module")
def demo_bank(tmp_path_factory, con) -> Path:
    """A small generated bank (every input table) with its last week split into days."""
    out = tmp_path_factory.mktemp("demo") / "bank"
    generate(out, customers=160, corporates=6, branches=2, seed=5, year=2025)
    split_days(con, out, date(2025, 12, 23), date(2025, 12, 31))
    return out


def _frames(folder: Path) -> dict[str, pd.DataFrame]:
    names = [*PARQUET_RESULTS, *(p.stem for p in folder.glob("migration_*.parquet"))]
    return {n: pd.read_parquet(folder / f"{n}.parquet") for n in names}


@pytest.mark.parametrize("form", ["daily", "events"])
def test_a_close_writes_the_same_day_files_as_a_full_run(tmp_path, con, demo_bank, form):
    """With the default rulebook (tasks, alerts, named staff, birthday list), every file a
    close writes equals the full run's of that day given the same previous assignments; the
    full run's value and analysis files stay, named in the manifest with their date."""
    loaded = load_rulebook(None)
    start, out = date(2025, 12, 29), tmp_path / "out"
    ds = load_dataset(demo_bank, con, balances=form, tables=tables_needed(loaded))
    write_outputs(run_batch(ds, start, loaded), out, excel=False)
    init_state(ds, start, loaded, out / "state")
    analyses = (out / "analyses.json").read_bytes()
    for day in (date(2025, 12, 30), date(2025, 12, 31)):
        previous = load_previous_assignments(out)
        full_ds = load_dataset(demo_bank, con, balances=form, tables=tables_needed(loaded))
        full = run_batch(full_ds, day, loaded, previous_assignments=previous)
        write_outputs(full, tmp_path / f"full-{day}", excel=False)
        outcome = close_day(
            demo_bank, day, loaded, con, out / "state", previous_assignments=previous
        )
        write_close_outputs(outcome.result, out)
        outcome.commit()
        expected, got = _frames(tmp_path / f"full-{day}"), _frames(out)
        assert sorted(got) == sorted(expected)
        for name, frame in expected.items():
            pd.testing.assert_frame_equal(got[name], frame, check_exact=True, obj=name)
    assert len(expected["tasks"]) and len(expected["assignments"])  # the rules did fire
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == "2025-12-31" and manifest["full_run"]["as_of"] == "2025-12-29"
    assert "analyses" in manifest["full_run"]["outputs"]
    assert manifest["outputs"]["key_customers"] == "key_customers.parquet"
    assert (out / "analyses.json").read_bytes() == analyses
