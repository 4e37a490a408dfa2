"""``book_counts``: how many of a run's customers each branch has at each tier and band
level, so that a branch's or the whole bank's book total is a sum of a few rows instead of
a count over the run's snapshots. Existing runs are counted from their snapshots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "book_counts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("tier_level", sa.String(length=64), nullable=False),
        sa.Column("band_level", sa.String(length=64), nullable=True),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_no"], ["runs.no"], name=op.f("fk_book_counts_run_no_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_counts")),
    )
    op.create_index("ix_book_counts_run_no_branch_id", "book_counts", ["run_no", "branch_id"])
    op.execute(
        "INSERT INTO book_counts (run_no, branch_id, tier_level, band_level, customers)"
        " SELECT run_no, branch_id, tier_level, band_level, count(*) FROM customer_snapshots"
        " GROUP BY run_no, branch_id, tier_level, band_level"
    )


def downgrade() -> None:
    op.drop_index("ix_book_counts_run_no_branch_id", table_name="book_counts")
    op.drop_table("book_counts")
