"""A published batch run and what it produced: tier snapshots, staff assignments with
history, tasks with their state, alerts, the birthday list."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tierbook.store.base import Base, BigId, Json, UtcDateTime
from tierbook.store.models.customers import Money
from tierbook.store.models.org import in_list

TASK_STATES = ("open", "done", "closed")


class Run(Base):
    """A published run. ``run_id`` is a hash of the inputs, the rulebook and the as-of date:
    publishing the same run again finds it and changes nothing. Exactly one run is current."""

    __tablename__ = "runs"
    __table_args__ = (
        Index(
            "uq_runs_current",
            "is_current",
            unique=True,
            sqlite_where=text("is_current = 1"),
            postgresql_where=text("is_current"),
        ),
    )

    no: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    """Compact key the per-run tables refer to."""
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    rulebook_id: Mapped[str] = mapped_column(String(100))
    rulebook_version: Mapped[str] = mapped_column(String(50))
    rulebook_sha256: Mapped[str] = mapped_column(String(64))
    rulebook: Mapped[dict[str, Any]] = mapped_column(Json)
    manifest: Mapped[dict[str, Any]] = mapped_column(Json)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)


class CustomerSnapshot(Base):
    """A customer's averages in a run (年日均 year-to-date, calendar year, rolling, month)."""

    __tablename__ = "customer_snapshots"
    __table_args__ = (
        # the book: a branch's (or everyone's) customers in a run, by AUM or by tier
        Index(
            "ix_customer_snapshots_run_no_branch_id_tier_measure",
            "run_no",
            "branch_id",
            "tier_measure",
        ),
        Index("ix_customer_snapshots_run_no_tier_measure", "run_no", "tier_measure"),
        # a staff book filtered by a flag, due date, staff or ID number: the sort keys per
        # assigned customer, read from the index alone (otherwise ``staff_books`` serves)
        Index(
            "ix_customer_snapshots_book_keys",
            "run_no",
            "customer_id",
            "tier_measure",
            "ytd_avg",
            "tier_level_index",
        ),
    )

    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    ytd_avg: Mapped[Decimal] = mapped_column(Money)
    year_avg: Mapped[Decimal] = mapped_column(Money)
    rolling_365_avg: Mapped[Decimal] = mapped_column(Money)
    month_avg: Mapped[Decimal] = mapped_column(Money)
    loan_ytd_avg: Mapped[Decimal] = mapped_column(Money)
    # The book's columns, copied from this run's tier rows of the tier ladder and of the
    # band ladder (``api.services.common``), so that a book page is one indexed scan.
    tier_level: Mapped[str] = mapped_column(String(64))
    tier_level_index: Mapped[int] = mapped_column(SmallInteger)
    tier_measure: Mapped[Decimal] = mapped_column(Money)
    tier_step: Mapped[str] = mapped_column(String(32))
    band_level: Mapped[str | None] = mapped_column(String(64))
    band_step: Mapped[str | None] = mapped_column(String(32))


class BookCount(Base):
    """How many of a run's customers a branch has at each tier and band level, written
    with the run's snapshots: the total of a branch's or the whole bank's book, unfiltered
    or by tier or band, is a sum over a few of these rows instead of a count over up to
    every customer of the run (counting a branch of 33,385 of 200k customers took 11 ms a
    page; the largest branch of the 8-branch 1M demo holds 166,965)."""

    __tablename__ = "book_counts"
    __table_args__ = (Index("ix_book_counts_run_no_branch_id", "run_no", "branch_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"))
    branch_id: Mapped[str] = mapped_column(String(32))
    tier_level: Mapped[str] = mapped_column(String(64))
    band_level: Mapped[str | None] = mapped_column(String(64))
    customers: Mapped[int] = mapped_column(Integer)


class StaffBook(Base):
    """Which of a run's customers each staff member holds, with the book's sort keys and
    the tier and band copied from the customer's snapshot: a staff member's book (an RM's
    "我的客户"), unfiltered or by tier or band, is one range of one index instead of a probe
    of the run's snapshots per assigned customer (4,718 probes, 24 of an RM page's 29 ms, for
    an RM of the 8-branch 1M demo). Written by the publish from the open assignments;
    ``api.services.assignments.move`` rewrites the rows of the customers it moves (current
    run)."""

    __tablename__ = "staff_books"
    __table_args__ = (
        Index(
            "ix_staff_books_keys",
            "run_no",
            "staff_id",
            "customer_id",
            "tier_measure",
            "ytd_avg",
            "tier_level_index",
            "tier_level",
            "band_level",
        ),
    )

    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier_measure: Mapped[Decimal] = mapped_column(Money)
    ytd_avg: Mapped[Decimal] = mapped_column(Money)
    tier_level_index: Mapped[int] = mapped_column(SmallInteger)
    # the book's tier and band filters, read from the same index
    tier_level: Mapped[str] = mapped_column(String(64))
    band_level: Mapped[str | None] = mapped_column(String(64))


class TierSnapshot(Base):
    """A customer's level on one ladder in one run, with the structured explanation: the
    measure, the threshold, the gap to the next level, the hysteresis step and run length,
    and the averages per asset class (the sentence is rendered from these on demand)."""

    __tablename__ = "tier_snapshots"
    __table_args__ = (
        Index("ix_tier_snapshots_run_no_ladder_id_level", "run_no", "ladder_id", "level"),
    )

    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ladder_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(64))
    level_index: Mapped[int] = mapped_column(SmallInteger)
    measure: Mapped[Decimal] = mapped_column(Money)
    period: Mapped[str] = mapped_column(String(32))
    level_min: Mapped[Decimal] = mapped_column(Money)
    next_level: Mapped[str | None] = mapped_column(String(64))
    gap_to_next: Mapped[Decimal | None] = mapped_column(Money)
    step: Mapped[str] = mapped_column(String(32))
    below_run: Mapped[int] = mapped_column(Integer)
    class_averages: Mapped[dict[str, float]] = mapped_column(Json)


class TierChange(Base):
    """An upgrade or downgrade at a review date, as found by a run."""

    __tablename__ = "tier_changes"

    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ladder_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    direction: Mapped[str] = mapped_column(String(16))
    from_level: Mapped[str] = mapped_column(String(64))
    to_level: Mapped[str] = mapped_column(String(64))
    measure: Mapped[Decimal] = mapped_column(Money)


class StaffAssignment(Base):
    """Who maintains a customer in a role, valid from one run's as-of date until replaced.
    The open row (``valid_to`` empty) is the current assignment; closed rows are history."""

    __tablename__ = "staff_assignments"
    __table_args__ = (
        Index(
            "uq_staff_assignments_open",
            "customer_id",
            "role",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        # a staff member's open book, read from the index alone (every query by staff
        # reads the open rows: books, scopes, departures, compliance)
        Index(
            "ix_staff_assignments_open_staff_id_customer_id",
            "staff_id",
            "customer_id",
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    role: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    band: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    over_capacity: Mapped[bool] = mapped_column(Boolean)
    substitute: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    from_run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"))
    to_run_no: Mapped[int | None] = mapped_column(ForeignKey("runs.no"))


class Task(Base):
    """A dated maintenance task. ``task_key`` is the planner's stable id (kind, subject,
    staff, role, due date): a re-run finds the same task and keeps its state."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(in_list("state", TASK_STATES), name="state"),
        Index("ix_tasks_staff_id_state_due_date", "staff_id", "state", "due_date"),
        Index("ix_tasks_customer_id_state", "customer_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_key: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"))
    """Empty for a branch-level task (e.g. posting the birthday list)."""
    branch_id: Mapped[str | None] = mapped_column(String(32), index=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    role: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="open")
    closed_reason: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"))
    last_run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"))


class Alert(Base):
    """An alert (e.g. a large single-day outflow). Active while the current run still
    raises it (``last_run_no``); acknowledging it is kept across re-runs."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_staff_id_last_run_no", "staff_id", "last_run_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_key: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    branch_id: Mapped[str | None] = mapped_column(String(32), index=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    role: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(200))
    first_run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"))
    last_run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BirthdayEntry(Base):
    """The monthly birthday list of a run (customers to greet, with their band and AUM)."""

    __tablename__ = "birthday_list"

    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    list_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    branch_id: Mapped[str | None] = mapped_column(String(32))
    band: Mapped[str | None] = mapped_column(String(64))
    aum: Mapped[Decimal] = mapped_column(Money)
    birthday: Mapped[date] = mapped_column(Date)
