"""Publishing a batch run into the store, in ONE transaction.

- Crash-safe: everything is written inside one transaction and the run is made current last;
  a crash (or kill) before the commit leaves the previous run current and untouched.
- Idempotent: the run id is a hash of the inputs (table, file hash, rows), the rulebook hash,
  the balance form and the as-of date. Publishing a run already in the store changes nothing.
- Task state survives: tasks are matched by the planner's stable key. A done task stays done;
  an open task the new run no longer plans is closed with the reason (see
  ``tierbook.store.reconcile``), not deleted; new tasks are added open.
- Assignments keep history: a new staff member closes the old row (``valid_to``) and opens a
  new one; an unchanged one is left alone. ``tierbook run --publish`` plans from the store's
  open assignments (:func:`stored_plan`), so a reassignment made through the API is
  kept by the next run rather than reverted; a departure recorded through the API keeps its
  end date when the staff file gives none, in the store and for that run's planner.

Writes are bulk (COPY on PostgreSQL, executemany on SQLite); a re-run rewrites only the
customers whose archive changed (found by a keyed digest).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierbook.store import frames as fr
from tierbook.store import run_tables as rt
from tierbook.store.base import table_of
from tierbook.store.db import Store
from tierbook.store.models import (
    Alert,
    AuditEntry,
    AumHistory,
    BirthdayEntry,
    Branch,
    Customer,
    CustomerSnapshot,
    Holding,
    Run,
    Staff,
    StaffAssignment,
    StaffBook,
    Task,
    TierChange,
    TierSnapshot,
)
from tierbook.store.reconcile import assignment_changes, task_changes
from tierbook.store.repositories import (
    AlertRepository,
    AssignmentRepository,
    AuditRepository,
    CustomerRepository,
    RunRepository,
    TaskRepository,
    upsert_frame,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tierbook.batch.run import RunResult

Stage = Callable[[str], None]


@dataclass(frozen=True)
class PublishOutcome:
    run_id: str
    published: bool  # False: the run was already in the store and nothing changed
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    run_no: int | None = None  # the run's compact key in the per-run tables


def run_identity(result: RunResult) -> str:
    """The run's id: same inputs, rulebook, balance form and as-of date → same id."""
    inputs = sorted(
        (str(f["table"]), str(f["sha256"]), int(f["rows_loaded"])) for f in result.files
    )
    payload = {
        "as_of": result.as_of.isoformat(),
        "rulebook_sha256": result.rulebook.stamp["rulebook_sha256"],
        "balance_form": result.balance_form,
        "inputs": inputs,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def publish_run(
    store: Store,
    result: RunResult,
    master: fr.MasterData,
    *,
    manifest: dict[str, Any] | None = None,
    actor: str = "batch",
    on_stage: Stage | None = None,
    parquet: Mapping[str, Path] | None = None,
    chunk: int = rt.CHUNK,
) -> PublishOutcome:
    """Write ``result`` (and the master data it read) into ``store`` and make it current.
    ``parquet`` names run tables (``tierbook.store.run_tables.RESULT_TABLES``) to read from
    their Parquet files instead of ``result``'s frames (a saved run: see
    ``tierbook.store.saved_run``). The customers and the per-run tables are written
    ``chunk`` rows at a time."""
    began = time.perf_counter()
    stage = on_stage or (lambda _name: None)
    run_id = run_identity(result)
    with store.unit_of_work() as uow:
        s = uow.session
        runs = RunRepository(s)
        if (known := runs.get(run_id)) is not None:
            return PublishOutcome(run_id, False, {}, time.perf_counter() - began, known.no)
        rows: dict[str, int] = {}
        stage("branches and staff")
        conn = s.connection()
        rows["branches"] = upsert_frame(conn, table_of(Branch), master.branches, ["branch_id"])
        staff = fr.staff_frame(master.staff)
        # a departure recorded through the API stands until the staff file gives an end date
        rows["staff"] = upsert_frame(
            conn, table_of(Staff), staff, ["staff_id"], keep_stored=["end_date"]
        )
        stage("customers")
        run = _run_row(result, run_id, manifest)
        runs.add(run)
        rows["customers"] = _customers(s, store, master.archive, run.no, chunk)
        stage("run results")
        rows.update(_per_run(s, result, master, run.no, parquet or {}, chunk))
        stage("assignments")
        rows["staff_assignments"] = _assignments(s, result, run.no)
        stage("book")
        rows.update(runs.write_book(run.no))  # from the run's snapshots and open assignments
        stage("tasks")
        rows["tasks"] = _tasks(s, result, master, run.no)
        stage("alerts")
        rows["alerts"] = _alerts(s, result, run.no)
        stage("planner statistics")
        _analyze(s)
        stage("make current")
        runs.make_current(run.no)
        AuditRepository(s).append(_audit(actor, result, run_id, rows))
        uow.commit()
    stage("vacuum")
    _vacuum(store)
    return PublishOutcome(run_id, True, rows, time.perf_counter() - began, run.no)


VACUUMED = (CustomerSnapshot, StaffAssignment, StaffBook)


def _vacuum(store: Store) -> None:
    """On PostgreSQL, after the commit: VACUUM the tables a book's count reads, so that
    their index-only scans need no heap look-ups (the visibility map of freshly inserted
    pages is set by VACUUM, not by ANALYZE; autovacuum would do it later). Outside the
    transaction, so it cannot affect what was published."""
    if store.engine.dialect.name != "postgresql":
        return
    names = ", ".join(f'"{m.__tablename__}"' for m in VACUUMED)
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {names}")


ANALYZED = (
    Customer,
    CustomerSnapshot,
    TierSnapshot,
    TierChange,
    AumHistory,
    Holding,
    BirthdayEntry,
    StaffAssignment,
    StaffBook,
    Task,
    Alert,
)


def _analyze(s: Session) -> None:
    """Refresh the query planner's statistics of the tables a publish fills, inside the
    transaction. Without them PostgreSQL plans the book of a freshly published 200,000-
    customer store for 4 tier rows instead of 200,000 (nested loops: 12 s for one page
    instead of ~1 s; autovacuum comes later, if the machine is busy much later)."""
    conn = s.connection()
    names = ", ".join(f'"{m.__tablename__}"' for m in ANALYZED)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {names}")
    else:
        for m in ANALYZED:
            conn.exec_driver_sql(f'ANALYZE "{m.__tablename__}"')


def _run_row(result: RunResult, run_id: str, manifest: dict[str, Any] | None) -> Run:
    stamp = result.rulebook.stamp
    if manifest is None:
        from tierbook.batch.outputs import build_manifest

        manifest = build_manifest(result, {})
    return Run(
        run_id=run_id,
        as_of=result.as_of,
        rulebook_id=stamp["rulebook_id"],
        rulebook_version=stamp["rulebook_version"],
        rulebook_sha256=stamp["rulebook_sha256"],
        rulebook=result.rulebook.rulebook.model_dump(mode="json"),
        manifest=fr.manifest_json(manifest),
        published_at=datetime.now(UTC),
        is_current=False,
    )


def _customers(s: Session, store: Store, archive: pd.DataFrame, run_no: int, chunk: int) -> int:
    """Insert new customers, rewrite changed ones; unchanged rows are not touched. A chunk
    of ``chunk`` customers at a time: its keyed digests, then (new or changed rows only)
    its encrypted, masked and hashed fields, then its rows written."""
    repo = CustomerRepository(s)
    stored = repo.archive_hashes()
    written = 0
    for start in range(0, len(archive), chunk):
        part = archive.iloc[start : start + chunk].copy()
        part["archive_hash"] = fr.archive_hashes(part, store.cipher).to_numpy()
        known = part["customer_id"].map(stored)
        new = part[known.isna()]
        changed = part[known.notna() & (known != part["archive_hash"])]
        for rows, write in ((new, repo.insert), (changed, repo.upsert)):
            if not rows.empty:
                out = fr.protect(rows, store.cipher)
                out["updated_run_no"] = run_no
                written += write(out)
    return written


def _per_run(
    s: Session,
    result: RunResult,
    master: fr.MasterData,
    run_no: int,
    parquet: Mapping[str, Path],
    chunk: int,
) -> dict[str, int]:
    """The per-run tables, streamed a chunk at a time from the run's frames, or from its
    Parquet files for the tables named in ``parquet``."""
    sources: dict[str, rt.Source] = {name: getattr(result, name) for name in rt.RESULT_TABLES}
    sources["holdings"] = master.holdings
    sources.update(result.spilled)  # written by the batch, not held (``run_batch(spill=…)``)
    sources.update(parquet)
    rb = result.rulebook.rulebook
    ladders = (fr.tier_ladder_id(rb), fr.band_ladder_id(rb))
    return rt.write_per_run(s.connection(), sources, run_no, ladders, chunk=chunk)


def _assignments(s: Session, result: RunResult, run_no: int) -> int:
    repo = AssignmentRepository(s)
    change = assignment_changes(result.assignments, repo.open())
    repo.close(change.close_ids, result.as_of, run_no)
    repo.update(change.updates)
    new = change.inserts.assign(
        valid_from=pd.Timestamp(result.as_of), valid_to=None, from_run_no=run_no, to_run_no=None
    )
    return len(change.close_ids) + len(change.updates) + repo.insert(new)


def _tasks(s: Session, result: RunResult, master: fr.MasterData, run_no: int) -> int:
    repo = TaskRepository(s)
    change = task_changes(
        result.tasks,
        repo.all(),
        result.assignments,
        set(master.archive["customer_id"]),
        result.as_of,
        run_no,
    )
    for rows in change.updates:
        repo.update(rows)
    return sum(len(r) for r in change.updates) + repo.insert(change.inserts)


def _alerts(s: Session, result: RunResult, run_no: int) -> int:
    repo = AlertRepository(s)
    alerts = result.alerts.rename(columns={"alert_id": "alert_key"}).drop_duplicates("alert_key")
    if alerts.empty:
        return 0
    known = repo.keys().set_index("alert_key")["id"]
    seen = alerts["alert_key"].map(known)
    cols = ["alert_key", "customer_id", "branch_id", "staff_id", "role", "kind", "date"]
    new = alerts.loc[seen.isna(), [*cols, "amount", "reason", "rule"]]
    new = new.assign(first_run_no=run_no, last_run_no=run_no, date=fr.day_column(new["date"]))
    return repo.seen_in(seen.dropna().astype(int).tolist(), run_no) + repo.insert(new)


def _audit(actor: str, result: RunResult, run_id: str, rows: dict[str, int]) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action="publish_run",
        entity="run",
        entity_id=run_id,
        before=None,
        after={"as_of": result.as_of.isoformat(), "rows": rows},
        reason="batch run published",
    )


@dataclass(frozen=True)
class StoredPlan:
    """What a run that publishes plans from, read from the store (``stored_plan``)."""

    assignments: pd.DataFrame | None
    """The open assignments as the planner's previous ones (``customer_id``, ``role``,
    ``staff_id``, ``band``): a run that publishes keeps what was moved through the API
    (reassignments, hand-overs at a departure) instead of the previous run's ``out/``. None
    when the store holds no published run yet (or no schema): the caller falls back to
    ``out/``."""
    staff_ends: dict[str, date]
    """The staff end dates the store holds. A departure recorded through the API is kept
    by publishing where the staff file gives no end date, and the planner must keep it
    too, or it hands the leaver new customers."""


def stored_plan(url: str | None = None) -> StoredPlan:
    """The store's (``url`` or ``TIERBOOK_DATABASE_URL``) :class:`StoredPlan`."""
    from sqlalchemy import inspect, select

    from tierbook.bootstrap import open_store

    store = open_store(url)
    try:
        if not inspect(store.engine).has_table("runs"):
            return StoredPlan(None, {})
        with store.unit_of_work() as uow:
            if RunRepository(uow.session).current() is None:
                return StoredPlan(None, {})
            frame = AssignmentRepository(uow.session).open()
            ends = select(Staff.staff_id, Staff.end_date).where(Staff.end_date.is_not(None))
            staff_ends: dict[str, date] = dict(uow.session.execute(ends).all())
    finally:
        store.dispose()
    kept = frame[["customer_id", "role", "staff_id", "band"]].reset_index(drop=True)
    return StoredPlan(kept, staff_ends)


def publish_batch(
    result: RunResult,
    ds: Any,
    *,
    manifest: dict[str, Any] | None = None,
    url: str | None = None,
    on_stage: Stage | None = None,
) -> PublishOutcome:
    """Open the store (``url`` or ``TIERBOOK_DATABASE_URL``), migrate it to the latest schema,
    and publish ``result`` with the master data of the loaded dataset ``ds``."""
    from tierbook.bootstrap import open_store
    from tierbook.store.migrate import upgrade

    store = open_store(url)
    try:
        upgrade(store.url)
        master = fr.master_data(ds, result.as_of)
        return publish_run(store, result, master, manifest=manifest, on_stage=on_stage)
    finally:
        store.dispose()
