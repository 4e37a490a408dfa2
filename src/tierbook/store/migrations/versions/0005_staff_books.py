"""``staff_books``: which of a run's customers each staff member holds, with the book's sort
keys (tier measure, year-to-date average, tier index) and the tier and band, so that a
staff member's book is one index range instead of a probe of the run's snapshots per
assigned customer. The current run's rows are filled from the open assignments (earlier
runs are never served as a book).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = ["run_no", "staff_id", "customer_id", "tier_measure", "ytd_avg", "tier_level_index"]
COLUMNS = [*KEYS, "tier_level", "band_level"]


def upgrade() -> None:
    op.create_table(
        "staff_books",
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("tier_measure", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("ytd_avg", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("tier_level_index", sa.SmallInteger(), nullable=False),
        sa.Column("tier_level", sa.String(length=64), nullable=False),
        sa.Column("band_level", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["run_no"], ["runs.no"], name=op.f("fk_staff_books_run_no_runs")),
        sa.PrimaryKeyConstraint("run_no", "staff_id", "customer_id", name=op.f("pk_staff_books")),
    )
    op.create_index("ix_staff_books_keys", "staff_books", COLUMNS)
    op.execute(
        "INSERT INTO staff_books (run_no, staff_id, customer_id, tier_measure, ytd_avg,"
        " tier_level_index, tier_level, band_level)"
        " SELECT DISTINCT s.run_no, a.staff_id, a.customer_id, s.tier_measure, s.ytd_avg,"
        " s.tier_level_index, s.tier_level, s.band_level"
        " FROM staff_assignments a"
        " JOIN customer_snapshots s ON s.customer_id = a.customer_id"
        " JOIN runs r ON r.no = s.run_no AND r.is_current"
        " WHERE a.valid_to IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_staff_books_keys", table_name="staff_books")
    op.drop_table("staff_books")
