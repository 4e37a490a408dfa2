"""The book's columns on ``customer_snapshots``: each customer's tier and band (level,
index, measure, step) of the run, copied from its tier rows, and two indexes, so that a
book page (a branch's or everyone's customers by AUM or tier) is one indexed scan instead
of a join of the branch with every tier row of the run.

Existing runs are filled from their ``tier_snapshots``; the tier ladder is the rulebook's
upgrade-referral ladder (else its first ladder) and the band ladder its maintenance band
ladder, as ``tierbook.api.services.common`` reads them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIER = ("tier_level", "tier_level_index", "tier_measure", "tier_step")
BAND = ("band_level", "band_step")


def _ladders(rulebook: Any) -> tuple[str, str | None]:
    rb = json.loads(rulebook) if isinstance(rulebook, str) else rulebook
    maintenance = rb.get("maintenance")
    if maintenance:
        return maintenance["upgrade_referral"]["ladder"], maintenance.get("band_ladder")
    return rb["ladders"][0]["id"], None


def _copy(column: str, source: str, ladder_param: str, default: str | None) -> str:
    pick = (
        f"(SELECT t.{source} FROM tier_snapshots t WHERE t.run_no = customer_snapshots.run_no"
        f" AND t.customer_id = customer_snapshots.customer_id AND t.ladder_id = :{ladder_param})"
    )
    return f"{column} = {pick if default is None else f'coalesce({pick}, {default})'}"


def upgrade() -> None:
    with op.batch_alter_table("customer_snapshots") as batch:
        batch.add_column(sa.Column("tier_level", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("tier_level_index", sa.SmallInteger(), nullable=True))
        batch.add_column(
            sa.Column("tier_measure", sa.Numeric(precision=18, scale=2), nullable=True)
        )
        batch.add_column(sa.Column("tier_step", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("band_level", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("band_step", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    sets = ", ".join(
        [
            _copy("tier_level", "level", "tier", "''"),
            _copy("tier_level_index", "level_index", "tier", "0"),
            _copy("tier_measure", "measure", "tier", "0"),
            _copy("tier_step", "step", "tier", "''"),
            _copy("band_level", "level", "band", None),
            _copy("band_step", "step", "band", None),
        ]
    )
    update = sa.text(f"UPDATE customer_snapshots SET {sets} WHERE run_no = :run")
    for run_no, rulebook in conn.execute(sa.text("SELECT no, rulebook FROM runs")).all():
        tier, band = _ladders(rulebook)
        conn.execute(update, {"run": run_no, "tier": tier, "band": band or ""})
    with op.batch_alter_table("customer_snapshots") as batch:
        for name in TIER:
            batch.alter_column(name, nullable=False)
        batch.create_index(
            "ix_customer_snapshots_run_no_branch_id_tier_measure",
            ["run_no", "branch_id", "tier_measure"],
        )
        batch.create_index("ix_customer_snapshots_run_no_tier_measure", ["run_no", "tier_measure"])


def downgrade() -> None:
    with op.batch_alter_table("customer_snapshots") as batch:
        batch.drop_index("ix_customer_snapshots_run_no_tier_measure")
        batch.drop_index("ix_customer_snapshots_run_no_branch_id_tier_measure")
        for name in (*TIER, *BAND):
            batch.drop_column(name)
