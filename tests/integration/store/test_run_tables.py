"""The per-run tables are written a chunk at a time, from frames or from Parquet files, and
hold what the run's rows say: every row once (chunks smaller than the data), the class
averages as one JSON object per tier row, the history as one JSON object of parallel lists
per customer and ladder, oldest first, checked against a plain-Python fold of the rows."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tierbook.store.models import Run
from tierbook.store.repositories import RunRepository
from tierbook.store.run_tables import write_per_run

CUSTOMERS = [f"C{i:03d}" for i in range(7)]
LADDERS = ["card", "wealth"]
ENDS = [date(2025, 10, 31), date(2025, 11, 30), date(2025, 12, 31)]
LEVELS = ["普通", '金"卡', "白金\\"]  # a quote and a backslash must survive the JSON
STEPS = ["initial", "hold", "upgrade"]


def _history() -> pd.DataFrame:
    rows = []
    for ci, c in enumerate(CUSTOMERS):
        for li, ladder in enumerate(LADDERS):
            for pi, end in enumerate(ENDS):
                k = (ci + li + pi) % 3
                measure = math.nan if (ci, li, pi) == (3, 1, 1) else ci * 1000.125 + pi
                rows.append((c, ladder, pd.Timestamp(end), measure, LEVELS[k], k, STEPS[k]))
    random.Random(4).shuffle(rows)  # the fold must order by period, not trust the input
    names = ["customer_id", "ladder_id", "period_end", "measure", "level", "level_index", "step"]
    frame = pd.DataFrame(rows, columns=names)
    for col in ("ladder_id", "level", "step"):
        frame[col] = frame[col].astype("category")
    return frame


def _tier_rows() -> list[dict[str, Any]]:
    rows = []
    for ci, c in enumerate(CUSTOMERS):
        for ladder in LADDERS:
            last = ci == len(CUSTOMERS) - 1
            rows.append(
                {
                    "customer_id": c,
                    "ladder_id": ladder,
                    "level": LEVELS[ci % 3],
                    "level_index": ci % 3,
                    "measure": ci * 1000.125,
                    "period": "ytd",
                    "level_min": 0.0,
                    "next_level": None if last else LEVELS[(ci + 1) % 3],
                    "gap_to_next": None if last else 10.5,
                    "step": STEPS[ci % 3],
                    "below_run": ci,
                    "avg_demand_deposit": ci * 10.004,
                    "avg_fund": 0.1 + 0.2,
                }
            )
    return rows


TIER_FIELDS = ("customer_id", "ladder_id", "level", "next_level", "gap_to_next", "below_run")
CENT = Decimal("0.01")  # money columns keep cents, rounded half up as the databases do
BOOK = ("card", "wealth")  # the book's tier ladder and band ladder


def _tiers() -> pd.DataFrame:
    return pd.DataFrame(_tier_rows())


def _sources() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": CUSTOMERS,
            "branch_id": pd.Categorical(["B1", "B2"] * 3 + ["B1"]),
            "ytd_avg": [i * 1.5 for i in range(7)],
            "year_avg": [i * 2.5 for i in range(7)],
            "rolling_365_avg": [i * 3.5 for i in range(7)],
            "month_avg": [i * 4.5 for i in range(7)],
            "loan_ytd_avg": [0.0] * 7,
        }
    )
    changes = pd.DataFrame(
        {
            "customer_id": ["C001", "C002", "C002"],
            "ladder_id": ["card", "card", "wealth"],
            "date": pd.to_datetime(["2025-11-30", "2025-11-30", "2025-12-31"]),
            "direction": ["up", "down", "up"],
            "from_level": ["普通", '金"卡', "普通"],
            "to_level": ['金"卡', "普通", "白金\\"],
            "measure": [1.25, 2.5, 3.75],
        }
    )
    holdings = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(5)],
            "customer_id": ["C000", "C000", "C001", "C004", "C006"],
            "product_type": ["demand_deposit", "fund", "time_deposit", "loan", "fund"],
            "product_name": ["活期", None, "定期, 1 年", "房贷", 'fund "A"'],
            "open_date": pd.to_datetime(["2020-01-01"] * 5),
            "maturity_date": pd.to_datetime([None, None, "2026-06-30", "2045-01-01", None]),
            "close_date": pd.to_datetime([None] * 5),
            "balance": [10.0, 20.5, 30.25, -400.0, 0.0],
        }
    )
    birthdays = pd.DataFrame(
        {
            "customer_id": ["C003", "C005"],
            "list_month": ["2026-01", "2026-01"],
            "branch_id": ["B2", None],
            "band": ["gold", None],
            "aum": [123.45, 0.0],
            "birthday": pd.to_datetime(["1980-01-15", "1990-01-31"]),
        }
    )
    return {
        "customers": customers,
        "tiers": _tiers(),
        "history": _history(),
        "changes": changes,
        "holdings": holdings,
        "birthday_list": birthdays,
    }


def _expected_history(history: pd.DataFrame) -> dict[tuple[str, str], dict[str, list[Any]]]:
    groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for r in history.itertuples(index=False):
        groups.setdefault((r.customer_id, r.ladder_id), []).append(
            (r.period_end.date().isoformat(), r.measure, r.level, r.level_index, r.step)
        )
    out = {}
    for key, rows in groups.items():
        rows.sort()
        out[key] = {
            "period_end": [r[0] for r in rows],
            "measure": [None if math.isnan(r[1]) else round(r[1], 2) for r in rows],
            "level": [r[2] for r in rows],
            "level_index": [r[3] for r in rows],
            "step": [r[4] for r in rows],
        }
    return out


def _new_run(session: Any) -> int:
    run = Run(
        run_id="r" * 64,
        as_of=date(2025, 12, 31),
        rulebook_id="test",
        rulebook_version="1",
        rulebook_sha256="0" * 64,
        rulebook={},
        manifest={},
        published_at=datetime.now(UTC),
        is_current=False,
    )
    RunRepository(session).add(run)
    return run.no


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _rows(store: Any, sql: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _day(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


@pytest.mark.parametrize("form", ["frames", "parquet"])
def test_per_run_tables_written_in_small_chunks_hold_every_row(
    store: Any, tmp_path: Path, form: str
) -> None:
    frames = _sources()
    sources: dict[str, Any] = dict(frames)
    if form == "parquet":
        for name, frame in frames.items():
            frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
            sources[name] = tmp_path / f"{name}.parquet"
    with store.unit_of_work() as uow:
        run_no = _new_run(uow.session)
        written = write_per_run(uow.session.connection(), sources, run_no, BOOK, chunk=2)
        uow.commit()
    assert written == {
        "customer_snapshots": 7,
        "tier_changes": 3,
        "holdings": 5,
        "birthday_list": 2,
        "tier_snapshots": 14,
        "aum_history": 14,
    }

    stored = {
        (c, lad): _json(p)
        for c, lad, p in _rows(store, "SELECT customer_id, ladder_id, periods FROM aum_history")
    }
    assert stored == _expected_history(frames["history"])

    averages = {
        (c, lad): _json(a)
        for c, lad, a in _rows(
            store, "SELECT customer_id, ladder_id, class_averages FROM tier_snapshots"
        )
    }
    assert averages == {
        (f"C{i:03d}", lad): {"demand_deposit": round(i * 10.004, 2), "fund": 0.3}
        for i in range(7)
        for lad in LADDERS
    }
    tiers = _rows(
        store,
        "SELECT customer_id, ladder_id, level, next_level, gap_to_next, below_run, run_no "
        "FROM tier_snapshots ORDER BY customer_id, ladder_id",
    )
    expected = [
        tuple(r[k] for k in TIER_FIELDS)
        for r in sorted(_tier_rows(), key=lambda r: (r["customer_id"], r["ladder_id"]))
    ]
    assert [(*t[:4], None if t[4] is None else float(t[4]), t[5]) for t in tiers] == expected
    assert {t[6] for t in tiers} == {run_no}

    snapshots = _rows(store, "SELECT customer_id, branch_id, month_avg FROM customer_snapshots")
    assert sorted((c, b, float(m)) for c, b, m in snapshots) == [
        (f"C{i:03d}", "B1" if i % 2 == 0 else "B2", i * 4.5) for i in range(7)
    ]
    book = _rows(
        store,
        "SELECT customer_id, tier_level, tier_level_index, tier_measure, tier_step,"
        " band_level, band_step FROM customer_snapshots",
    )
    rows = {(r["customer_id"], r["ladder_id"]): r for r in _tier_rows()}
    cents = [float(Decimal(str(r[3])).quantize(CENT, ROUND_HALF_UP)) for r in book]
    as_read = [(*r[:3], m, *r[4:]) for r, m in zip(book, cents, strict=True)]
    assert sorted(as_read) == [
        (
            c,
            rows[c, "card"]["level"],
            rows[c, "card"]["level_index"],
            float(Decimal(str(rows[c, "card"]["measure"])).quantize(CENT, ROUND_HALF_UP)),
            rows[c, "card"]["step"],
            rows[c, "wealth"]["level"],
            rows[c, "wealth"]["step"],
        )
        for c in CUSTOMERS
    ]
    changes = _rows(store, "SELECT customer_id, ladder_id, date, to_level FROM tier_changes")
    assert sorted((c, lad, _day(d), t) for c, lad, d, t in changes) == [
        ("C001", "card", "2025-11-30", '金"卡'),
        ("C002", "card", "2025-11-30", "普通"),
        ("C002", "wealth", "2025-12-31", "白金\\"),
    ]
    holdings = _rows(
        store,
        "SELECT account_id, product_name, maturity_date, close_date, balance FROM holdings",
    )
    assert sorted((a, n, _day(m), c, float(b)) for a, n, m, c, b in holdings) == [
        ("A0", "活期", None, None, 10.0),
        ("A1", None, None, None, 20.5),
        ("A2", "定期, 1 年", "2026-06-30", None, 30.25),
        ("A3", "房贷", "2045-01-01", None, -400.0),
        ("A4", 'fund "A"', None, None, 0.0),
    ]
    birthdays = _rows(store, "SELECT customer_id, branch_id, band, birthday FROM birthday_list")
    assert sorted((c, br, band, _day(d)) for c, br, band, d in birthdays) == [
        ("C003", "B2", "gold", "1980-01-15"),
        ("C005", None, None, "1990-01-31"),
    ]


def test_an_error_in_a_later_chunk_leaves_nothing_written(store: Any) -> None:
    """The chunks belong to the caller's transaction: a failing chunk rolls back all."""
    sources: dict[str, Any] = _sources()
    bad = sources["customers"].copy()
    bad.loc[6, "customer_id"] = "C000"  # a duplicate key, in the last chunk of two rows
    sources["customers"] = bad
    with store.unit_of_work() as uow:
        run_no = _new_run(uow.session)
        conn = uow.session.connection()
        # SQLAlchemy's error on SQLite; psycopg's own from the COPY on PostgreSQL
        with pytest.raises((IntegrityError, psycopg.IntegrityError), match=r"(?i)unique|duplic"):
            write_per_run(conn, sources, run_no, BOOK, chunk=2)
        uow.rollback()
    assert _rows(store, "SELECT count(*) FROM customer_snapshots") == [(0,)]
    assert _rows(store, "SELECT count(*) FROM runs") == [(0,)]
