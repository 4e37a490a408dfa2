"""The shipped migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from tests.integration.store.helpers import tables
from tierbook.store import models  # noqa: F401  (registers the tables)
from tierbook.store.base import Base
from tierbook.store.db import make_engine
from tierbook.store.migrate import current_revision, head_revision, upgrade


def test_upgrade_from_empty_reaches_head_with_every_table(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        assert current_revision(engine) == head_revision(store_url)
        assert tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_migrated_schema_has_no_difference_from_the_models(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless_and_downgrade_removes_every_table(store_url: str) -> None:
    from alembic import command

    from tierbook.store.migrate import alembic_config

    upgrade(store_url)
    upgrade(store_url)
    command.downgrade(alembic_config(store_url), "base")
    engine = make_engine(store_url)
    try:
        assert tables(engine) <= {"alembic_version"}
        assert current_revision(engine) is None
    finally:
        engine.dispose()


def _old_run(conn: Any, no: int, rulebook: dict[str, Any]) -> None:
    conn.execute(
        text(
            "INSERT INTO runs (no, run_id, as_of, rulebook_id, rulebook_version,"
            " rulebook_sha256, rulebook, manifest, published_at, is_current)"
            " VALUES (:no, :rid, '2025-12-31', 'r', '1', 'h', :rb, '{}', :at, :cur)"
        ),
        {
            "no": no,
            "rid": f"run{no}",
            "rb": json.dumps(rulebook),
            "at": datetime(2026, 1, 1, tzinfo=UTC),
            "cur": no == 2,
        },
    )


def _old_tier(conn: Any, run: int, customer: str, ladder: str, level: str, measure: str) -> None:
    conn.execute(
        text(
            "INSERT INTO tier_snapshots (run_no, customer_id, ladder_id, level, level_index,"
            " measure, period, level_min, step, below_run, class_averages)"
            " VALUES (:run, :cid, :lad, :level, :idx, :m, 'month', 0, :step, 0, '{}')"
        ),
        {
            "run": run,
            "cid": customer,
            "lad": ladder,
            "level": level,
            "idx": len(level),
            "m": measure,
            "step": f"step-{ladder}",
        },
    )


def test_upgrade_to_0002_fills_the_book_columns_of_runs_published_before(
    store_url: str,
) -> None:
    """Runs published before revision 0002 get each customer's tier row of the rulebook's
    referral ladder and band row of its band ladder copied onto their snapshot; a rulebook
    without maintenance takes its first ladder as the tier and has no band."""
    upgrade(store_url, "0001")
    engine = make_engine(store_url)
    with_bands = {"maintenance": {"upgrade_referral": {"ladder": "card"}, "band_ladder": "bands"}}
    plain = {"ladders": [{"id": "member"}, {"id": "card"}]}
    try:
        with engine.begin() as conn:
            _old_run(conn, 1, {**with_bands, "ladders": [{"id": "bands"}, {"id": "card"}]})
            _old_run(conn, 2, plain)
            for run, cid in ((1, "C1"), (2, "C1")):
                conn.execute(
                    text("INSERT INTO customer_snapshots VALUES (:run, :cid, 'B1', 1, 2, 3, 4, 5)"),
                    {"run": run, "cid": cid},
                )
            _old_tier(conn, 1, "C1", "card", "金卡", "123456.78")
            _old_tier(conn, 1, "C1", "bands", "10-50万", "99.00")
            _old_tier(conn, 2, "C1", "member", "银卡", "5000.00")
            _old_tier(conn, 2, "C1", "card", "普通", "1.00")
        upgrade(store_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT run_no, tier_level, tier_level_index, tier_measure, tier_step,"
                    " band_level, band_step FROM customer_snapshots ORDER BY run_no"
                )
            ).all()
    finally:
        engine.dispose()
    as_read = [(*r[:3], Decimal(str(r[3])).quantize(Decimal("0.01")), *r[4:]) for r in rows]
    assert as_read == [
        (1, "金卡", 2, Decimal("123456.78"), "step-card", "10-50万", "step-bands"),
        (2, "银卡", 2, Decimal("5000.00"), "step-member", None, None),
    ]


def test_upgrade_to_0003_counts_the_book_of_runs_published_before(store_url: str) -> None:
    """Each run's customers per branch, tier and band (a band may be absent)."""
    upgrade(store_url, "0002")
    engine = make_engine(store_url)
    snapshots = [  # run, customer, branch, tier, band
        (1, "C1", "B1", "金卡", "10-50万"),
        (1, "C2", "B1", "金卡", "10-50万"),
        (1, "C3", "B1", "金卡", None),
        (1, "C4", "B2", "普通", "10-50万"),
        (2, "C1", "B1", "白金", None),
    ]
    try:
        with engine.begin() as conn:
            _old_run(conn, 1, {})
            _old_run(conn, 2, {})
            for run, cid, branch, tier, band in snapshots:
                conn.execute(
                    text(
                        "INSERT INTO customer_snapshots VALUES (:run, :cid, :branch, 1, 2, 3,"
                        " 4, 5, :tier, 1, 6, 'keep', :band, :step)"
                    ),
                    {
                        "run": run,
                        "cid": cid,
                        "branch": branch,
                        "tier": tier,
                        "band": band,
                        "step": band and "keep",
                    },
                )
        upgrade(store_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT run_no, branch_id, tier_level, band_level, customers FROM book_counts")
            ).all()
    finally:
        engine.dispose()
    assert sorted(rows, key=str) == sorted(
        [
            (1, "B1", "金卡", "10-50万", 2),
            (1, "B1", "金卡", None, 1),
            (1, "B2", "普通", "10-50万", 1),
            (2, "B1", "白金", None, 1),
        ],
        key=str,
    )


def test_upgrade_to_0005_fills_the_staff_books_of_the_current_run(store_url: str) -> None:
    """Who holds whom now (the open assignments), with each customer's sort keys."""
    from sqlalchemy.orm import Session

    from tests.integration.api import bank
    from tierbook.store.crypto import FieldCipher
    from tierbook.store.models import StaffAssignment

    upgrade(store_url, "0004")
    engine = make_engine(store_url)
    cipher = FieldCipher("migration-test-secret")
    try:
        with Session(engine) as db:
            bank.seed_base(db)
            bank.add_customer(db, cipher, 1, "R1", aum=700_000, write_book=False)
            bank.add_customer(db, cipher, 2, "R2", aum=2_000_000, write_book=False)
            moved = db.query(StaffAssignment).filter_by(customer_id="C0002").one()
            moved.valid_to, moved.to_run_no = bank.AS_OF, bank.RUN_NO  # R2 no longer holds it
            bank.assign(db, "C0002", "R3", "rm")
            db.commit()
        upgrade(store_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT run_no, staff_id, customer_id, tier_measure, ytd_avg,"
                    " tier_level_index FROM staff_books"
                )
            ).all()
    finally:
        engine.dispose()
    assert sorted(rows) == [
        (bank.RUN_NO, "R1", "C0001", Decimal("700000.00"), Decimal("700000.00"), 3),
        (bank.RUN_NO, "R3", "C0002", Decimal("2000000.00"), Decimal("2000000.00"), 3),
    ]
