"""Indexes for a staff member's book read from the index alone: the open assignments by
staff and customer (partial, ``valid_to IS NULL``; replaces ``(staff_id, valid_to)``, as
every query by staff reads the open rows), and each snapshot's sort keys by run and
customer (tier measure, year-to-date average, tier index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("valid_to IS NULL")
KEYS = ["run_no", "customer_id", "tier_measure", "ytd_avg", "tier_level_index"]


def upgrade() -> None:
    with op.batch_alter_table("staff_assignments") as batch:
        batch.drop_index("ix_staff_assignments_staff_id_valid_to")
        batch.create_index(
            "ix_staff_assignments_open_staff_id_customer_id",
            ["staff_id", "customer_id"],
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    op.create_index("ix_customer_snapshots_book_keys", "customer_snapshots", KEYS)


def downgrade() -> None:
    op.drop_index("ix_customer_snapshots_book_keys", table_name="customer_snapshots")
    with op.batch_alter_table("staff_assignments") as batch:
        batch.drop_index("ix_staff_assignments_open_staff_id_customer_id")
        batch.create_index("ix_staff_assignments_staff_id_valid_to", ["staff_id", "valid_to"])
