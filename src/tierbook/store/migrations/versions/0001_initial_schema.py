"""Initial schema: every table of the store, and the append-only audit log's triggers.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "branches",
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_branches")),
    )
    op.create_table(
        "runs",
        sa.Column(
            "no",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rulebook_id", sa.String(length=100), nullable=False),
        sa.Column("rulebook_version", sa.String(length=50), nullable=False),
        sa.Column("rulebook_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "rulebook", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "manifest", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("no", name=op.f("pk_runs")),
        sa.UniqueConstraint("run_id", name=op.f("uq_runs_run_id")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_as_of"), ["as_of"], unique=False)
        batch_op.create_index(
            "uq_runs_current",
            ["is_current"],
            unique=True,
            sqlite_where=sa.text("is_current = 1"),
            postgresql_where=sa.text("is_current"),
        )

    op.create_table(
        "aum_history",
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("ladder_id", sa.String(length=64), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("measure", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("level", sa.String(length=64), nullable=False),
        sa.Column("level_index", sa.SmallInteger(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["run_no"], ["runs.no"], name=op.f("fk_aum_history_run_no_runs")),
        sa.PrimaryKeyConstraint(
            "run_no", "customer_id", "ladder_id", "period_end", name=op.f("pk_aum_history")
        ),
    )
    op.create_table(
        "birthday_list",
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("list_month", sa.String(length=7), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("band", sa.String(length=64), nullable=True),
        sa.Column("aum", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["run_no"], ["runs.no"], name=op.f("fk_birthday_list_run_no_runs")),
        sa.PrimaryKeyConstraint(
            "run_no", "customer_id", "list_month", name=op.f("pk_birthday_list")
        ),
    )
    op.create_table(
        "customer_snapshots",
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("ytd_avg", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("year_avg", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("rolling_365_avg", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("month_avg", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("loan_ytd_avg", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_no"], ["runs.no"], name=op.f("fk_customer_snapshots_run_no_runs")
        ),
        sa.PrimaryKeyConstraint("run_no", "customer_id", name=op.f("pk_customer_snapshots")),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("open_date", sa.Date(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("id_number_enc", sa.Text(), nullable=False),
        sa.Column("id_number_masked", sa.String(length=32), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("phone_masked", sa.String(length=32), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("occupation", sa.String(length=100), nullable=True),
        sa.Column("annual_income", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("family", sa.Text(), nullable=True),
        sa.Column("hobbies", sa.Text(), nullable=True),
        sa.Column("risk_preference", sa.String(length=4), nullable=True),
        sa.Column("preferred_channel", sa.String(length=16), nullable=True),
        sa.Column("preferred_service", sa.String(length=100), nullable=True),
        sa.Column("sector", sa.String(length=32), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("annual_sales", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("listed_industry", sa.Boolean(), nullable=True),
        sa.Column("archive_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "updated_run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.branch_id"], name=op.f("fk_customers_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["updated_run_no"], ["runs.no"], name=op.f("fk_customers_updated_run_no_runs")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customers_id_number_hash"), ["id_number_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_phone_hash"), ["phone_hash"], unique=False)

    op.create_table(
        "holdings",
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("open_date", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("balance", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["run_no"], ["runs.no"], name=op.f("fk_holdings_run_no_runs")),
        sa.PrimaryKeyConstraint("run_no", "account_id", name=op.f("pk_holdings")),
    )
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_holdings_run_no_customer_id", ["run_no", "customer_id"], unique=False
        )

    op.create_table(
        "staff",
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("supervisor_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.branch_id"], name=op.f("fk_staff_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["staff.staff_id"], name=op.f("fk_staff_supervisor_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff")),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "tier_changes",
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("ladder_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("from_level", sa.String(length=64), nullable=False),
        sa.Column("to_level", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["run_no"], ["runs.no"], name=op.f("fk_tier_changes_run_no_runs")),
        sa.PrimaryKeyConstraint(
            "run_no", "customer_id", "ladder_id", "date", name=op.f("pk_tier_changes")
        ),
    )
    op.create_table(
        "tier_snapshots",
        sa.Column("run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("ladder_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=64), nullable=False),
        sa.Column("level_index", sa.SmallInteger(), nullable=False),
        sa.Column("measure", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("level_min", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("next_level", sa.String(length=64), nullable=True),
        sa.Column("gap_to_next", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("below_run", sa.Integer(), nullable=False),
        sa.Column(
            "class_averages",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_no"], ["runs.no"], name=op.f("fk_tier_snapshots_run_no_runs")
        ),
        sa.PrimaryKeyConstraint(
            "run_no", "customer_id", "ladder_id", name=op.f("pk_tier_snapshots")
        ),
    )
    with op.batch_alter_table("tier_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tier_snapshots_run_no_ladder_id_level",
            ["run_no", "ladder_id", "level"],
            unique=False,
        )

    op.create_table(
        "referrals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("from_staff_id", sa.String(length=32), nullable=False),
        sa.Column("to_staff_id", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('offered', 'accepted', 'declined')", name=op.f("ck_referrals_state")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_referrals_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["from_staff_id"], ["staff.staff_id"], name=op.f("fk_referrals_from_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["to_staff_id"], ["staff.staff_id"], name=op.f("fk_referrals_to_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_to_staff_id"), ["to_staff_id"], unique=False)

    op.create_table(
        "staff_assignments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("band", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("over_capacity", sa.Boolean(), nullable=False),
        sa.Column("substitute", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "from_run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("to_run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_staff_assignments_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["from_run_no"], ["runs.no"], name=op.f("fk_staff_assignments_from_run_no_runs")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_staff_assignments_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["to_run_no"], ["runs.no"], name=op.f("fk_staff_assignments_to_run_no_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_assignments")),
    )
    with op.batch_alter_table("staff_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_assignments_staff_id_valid_to", ["staff_id", "valid_to"], unique=False
        )
        batch_op.create_index(
            "uq_staff_assignments_open",
            ["customer_id", "role"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('teller', 'vip_teller', 'lobby_manager', 'rm', 'rm_supervisor', 'branch_manager', 'personal_banking', 'head_office_analyst', 'admin')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_users_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("alert_key", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column(
            "first_run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "last_run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "acknowledged_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_alerts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["first_run_no"], ["runs.no"], name=op.f("fk_alerts_first_run_no_runs")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_no"], ["runs.no"], name=op.f("fk_alerts_last_run_no_runs")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_alerts_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("alert_key", name=op.f("uq_alerts_alert_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_alerts_staff_id_last_run_no", ["staff_id", "last_run_no"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column(
            "before", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("after", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_audit_log_entity_entity_id", ["entity", "entity_id"], unique=False
        )

    op.create_table(
        "complaints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=1), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "recorded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint("severity IN ('A', 'B', 'C', 'D')", name=op.f("ck_complaints_severity")),
        sa.CheckConstraint(
            "state IN ('open', 'responded', 'closed')", name=op.f("ck_complaints_state")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_complaints_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_complaints_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_complaints_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_complaints_state_response_due_at", ["state", "response_due_at"], unique=False
        )

    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column(
            "invitee_rule", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('salon', 'seminar', 'vip_dinner')", name=op.f("ck_events_kind")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.branch_id"], name=op.f("fk_events_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_events_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "satisfaction_surveys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("surveyed_on", sa.Date(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "recorded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint("score BETWEEN 1 AND 10", name=op.f("ck_satisfaction_surveys_score")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_satisfaction_surveys_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_satisfaction_surveys_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_surveys")),
    )
    with op.batch_alter_table("satisfaction_surveys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_satisfaction_surveys_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "sessions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sessions_token_hash")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sessions_user_id_expires_at", ["user_id", "expires_at"], unique=False
        )

    op.create_table(
        "tasks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_key", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "first_run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "last_run_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint("state IN ('open', 'done', 'closed')", name=op.f("ck_tasks_state")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_tasks_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["done_by"], ["users.id"], name=op.f("fk_tasks_done_by_users")),
        sa.ForeignKeyConstraint(
            ["first_run_no"], ["runs.no"], name=op.f("fk_tasks_first_run_no_runs")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_no"], ["runs.no"], name=op.f("fk_tasks_last_run_no_runs")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_tasks_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("task_key", name=op.f("uq_tasks_task_key")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_tasks_customer_id_state", ["customer_id", "state"], unique=False)
        batch_op.create_index(
            "ix_tasks_staff_id_state_due_date", ["staff_id", "state", "due_date"], unique=False
        )

    op.create_table(
        "contact_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("next_step", sa.Text(), nullable=True),
        sa.Column("next_contact_date", sa.Date(), nullable=True),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "recorded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('branch', 'phone', 'wechat', 'app', 'email', 'sms', 'visit')",
            name=op.f("ck_contact_log_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_contact_log_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_contact_log_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_contact_log_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_contact_log_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_log")),
    )
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_log_customer_id_contacted_at", ["customer_id", "contacted_at"], unique=False
        )
        batch_op.create_index(
            "ix_contact_log_staff_id_contacted_at", ["staff_id", "contacted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contact_log_task_id"), ["task_id"], unique=False)

    op.create_table(
        "event_invitations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rsvp", sa.String(length=16), nullable=False),
        sa.Column("rsvp_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column(
            "follow_up_task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "rsvp IN ('pending', 'yes', 'no')", name=op.f("ck_event_invitations_rsvp")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_event_invitations_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_invitations_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_task_id"],
            ["tasks.id"],
            name=op.f("fk_event_invitations_follow_up_task_id_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_event_invitations_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_invitations")),
        sa.UniqueConstraint(
            "event_id", "customer_id", name=op.f("uq_event_invitations_event_id_customer_id")
        ),
    )
    with op.batch_alter_table("event_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_invitations_customer_id"), ["customer_id"], unique=False
        )
    _audit_log_append_only()


AUDIT_SQLITE = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
AUDIT_POSTGRESQL = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege'; "
    "END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def _audit_log_append_only() -> None:
    """UPDATE and DELETE (and TRUNCATE on PostgreSQL) of the audit log fail for every client."""
    statements = AUDIT_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else AUDIT_SQLITE
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("event_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_invitations_customer_id"))

    op.drop_table("event_invitations")
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_log_task_id"))
        batch_op.drop_index("ix_contact_log_staff_id_contacted_at")
        batch_op.drop_index("ix_contact_log_customer_id_contacted_at")

    op.drop_table("contact_log")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_staff_id_state_due_date")
        batch_op.drop_index("ix_tasks_customer_id_state")
        batch_op.drop_index(batch_op.f("ix_tasks_branch_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_user_id_expires_at")

    op.drop_table("sessions")
    with op.batch_alter_table("satisfaction_surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satisfaction_surveys_customer_id"))

    op.drop_table("satisfaction_surveys")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_branch_id"))

    op.drop_table("events")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_state_response_due_at")
        batch_op.drop_index(batch_op.f("ix_complaints_customer_id"))

    op.drop_table("complaints")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity_entity_id")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_staff_id_last_run_no")
        batch_op.drop_index(batch_op.f("ix_alerts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_branch_id"))

    op.drop_table("alerts")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_staff_id"))

    op.drop_table("users")
    with op.batch_alter_table("staff_assignments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_staff_assignments_open",
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        batch_op.drop_index("ix_staff_assignments_staff_id_valid_to")

    op.drop_table("staff_assignments")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_to_staff_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_customer_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("tier_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_snapshots_run_no_ladder_id_level")

    op.drop_table("tier_snapshots")
    op.drop_table("tier_changes")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_branch_id"))

    op.drop_table("staff")
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.drop_index("ix_holdings_run_no_customer_id")

    op.drop_table("holdings")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_customers_id_number_hash"))
        batch_op.drop_index(batch_op.f("ix_customers_branch_id"))

    op.drop_table("customers")
    op.drop_table("customer_snapshots")
    op.drop_table("birthday_list")
    op.drop_table("aum_history")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_runs_current",
            sqlite_where=sa.text("is_current = 1"),
            postgresql_where=sa.text("is_current"),
        )
        batch_op.drop_index(batch_op.f("ix_runs_as_of"))

    op.drop_table("runs")
    op.drop_table("branches")
