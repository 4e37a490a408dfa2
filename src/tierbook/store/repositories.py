"""Repositories: reads and writes of one aggregate each, on the caller's session. They never
begin or commit a transaction (the service's ``UnitOfWork`` does)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, bindparam, delete, false, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tierbook.store.base import table_of
from tierbook.store.bulk import insert_frame, records, update_rows
from tierbook.store.models import (
    Alert,
    AuditEntry,
    BookCount,
    Customer,
    CustomerSnapshot,
    Run,
    StaffAssignment,
    StaffBook,
    Task,
    User,
)


def _conn(session: Session) -> Connection:
    return session.connection()


def upsert_frame(
    conn: Connection,
    table: Table,
    frame: pd.DataFrame,
    key: Sequence[str],
    *,
    keep_stored: Sequence[str] = (),
) -> int:
    """Insert or update (by primary ``key``) every row of ``frame`` in one executemany. A
    column of ``keep_stored`` keeps its stored value where the frame's is empty."""
    if frame.empty:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={
            c: func.coalesce(stmt.excluded[c], table.c[c]) if c in keep_stored else stmt.excluded[c]
            for c in frame.columns
            if c not in key
        },
    )
    conn.execute(stmt, records(frame, table))
    return len(frame)


def _frame(conn: Connection, stmt: Any) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class RunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, run_id: str) -> Run | None:
        return self.session.scalars(select(Run).where(Run.run_id == run_id)).one_or_none()

    def current(self) -> Run | None:
        return self.session.scalars(select(Run).where(Run.is_current)).one_or_none()

    def add(self, run: Run) -> None:
        self.session.add(run)
        self.session.flush()

    def make_current(self, run_no: int) -> None:
        conn = _conn(self.session)
        conn.execute(update(Run).where(Run.is_current).values(is_current=false()))
        conn.execute(update(Run).where(Run.no == run_no).values(is_current=True))

    def count_book(self, run_no: int) -> int:
        """(Re)write the run's :class:`BookCount` rows from its snapshots; the number of
        rows written."""
        conn = _conn(self.session)
        conn.execute(delete(BookCount).where(BookCount.run_no == run_no))
        s = CustomerSnapshot
        keys = (s.branch_id, s.tier_level, s.band_level)
        counted = (
            select(s.run_no, *keys, func.count())
            .where(s.run_no == run_no)
            .group_by(s.run_no, *keys)
        )
        columns = ["run_no", "branch_id", "tier_level", "band_level", "customers"]
        conn.execute(insert(BookCount).from_select(columns, counted))
        # (not the INSERT's rowcount: -1 on PostgreSQL in a publish, measured)
        written = select(func.count()).where(BookCount.run_no == run_no)
        return int(conn.execute(written).scalar_one())

    def write_staff_books(self, run_no: int, customer_ids: Sequence[str] | None = None) -> int:
        """(Re)write the run's :class:`StaffBook` rows from the open assignments and the
        run's snapshots: every customer's, or only those of ``customer_ids`` (after the API
        moved them). The number of rows written."""
        conn = _conn(self.session)
        b, s, a = StaffBook, CustomerSnapshot, StaffAssignment
        mine = [b.run_no == run_no]
        if customer_ids is not None:
            mine.append(b.customer_id.in_(list(customer_ids)))
        conn.execute(delete(b).where(*mine))
        keys = (s.tier_measure, s.ytd_avg, s.tier_level_index, s.tier_level, s.band_level)
        held = (
            select(s.run_no, a.staff_id, a.customer_id, *keys)
            .join(s, s.customer_id == a.customer_id)
            .where(a.valid_to.is_(None), s.run_no == run_no)
            .distinct()
        )
        if customer_ids is not None:
            held = held.where(a.customer_id.in_(list(customer_ids)))
        columns = ["run_no", "staff_id", "customer_id", *(k.key for k in keys)]
        conn.execute(insert(b).from_select(columns, held))
        return int(conn.execute(select(func.count()).where(*mine)).scalar_one())

    def write_book(self, run_no: int) -> dict[str, int]:
        """The run's derived book tables (:class:`BookCount`, :class:`StaffBook`), written
        once its snapshots and open assignments are in place: rows written per table."""
        return {
            "book_counts": self.count_book(run_no),
            "staff_books": self.write_staff_books(run_no),
        }


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def archive_hashes(self) -> pd.Series:
        """customer_id → archive hash of every stored customer."""
        t = table_of(Customer)
        frame = _frame(_conn(self.session), select(t.c.customer_id, t.c.archive_hash))
        return frame.set_index("customer_id")["archive_hash"]

    def insert(self, frame: pd.DataFrame) -> int:
        return insert_frame(_conn(self.session), table_of(Customer), frame)

    def upsert(self, frame: pd.DataFrame) -> int:
        return upsert_frame(_conn(self.session), table_of(Customer), frame, ["customer_id"])


class AssignmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.table = table_of(StaffAssignment)

    def open(self) -> pd.DataFrame:
        t = self.table
        cols = (t.c.id, t.c.customer_id, t.c.role, t.c.staff_id, t.c.band, t.c.reason)
        stmt = select(*cols, t.c.over_capacity, t.c.substitute).where(t.c.valid_to.is_(None))
        return _frame(_conn(self.session), stmt)

    def close(self, ids: Sequence[int], valid_to: date, run_no: int) -> int:
        rows = [{"id": int(i), "valid_to": valid_to, "to_run_no": run_no} for i in ids]
        return update_rows(_conn(self.session), self.table, "id", rows)

    def update(self, rows: Sequence[dict[str, Any]]) -> int:
        return update_rows(_conn(self.session), self.table, "id", rows)

    def insert(self, frame: pd.DataFrame) -> int:
        return insert_frame(_conn(self.session), self.table, frame)


class TaskRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.table = table_of(Task)

    def all(self) -> pd.DataFrame:
        """Every stored task's key, state and what the close reason needs."""
        t = self.table
        stmt = select(
            t.c.id, t.c.task_key, t.c.state, t.c.due_date, t.c.customer_id, t.c.role, t.c.staff_id
        )
        return _frame(_conn(self.session), stmt)

    def insert(self, frame: pd.DataFrame) -> int:
        return insert_frame(_conn(self.session), self.table, frame)

    def update(self, rows: Sequence[dict[str, Any]]) -> int:
        return update_rows(_conn(self.session), self.table, "id", rows)

    def mark_done(self, task_id: int, user_id: int | None, at: datetime) -> None:
        self.session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(state="done", done_at=at, done_by=user_id, closed_reason=None)
        )


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.table = table_of(Alert)

    def keys(self) -> pd.DataFrame:
        t = self.table
        return _frame(_conn(self.session), select(t.c.id, t.c.alert_key))

    def insert(self, frame: pd.DataFrame) -> int:
        return insert_frame(_conn(self.session), self.table, frame)

    def seen_in(self, ids: Sequence[int], run_no: int) -> int:
        t = self.table
        stmt = update(t).where(t.c.id == bindparam("k_id")).values(last_run_no=run_no)
        if ids:
            _conn(self.session).execute(stmt, [{"k_id": int(i)} for i in ids])
        return len(ids)


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: AuditEntry) -> None:
        self.session.add(entry)
        self.session.flush()


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_login(self, login: str) -> User | None:
        return self.session.scalars(select(User).where(User.login == login)).one_or_none()

    def add(self, user: User) -> None:
        self.session.add(user)
        self.session.flush()
