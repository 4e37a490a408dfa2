"""What a branch manager changes through the API outlives the next published run: the run
plans from the store's open assignments (``stored_plan``), so a reassignment is kept,
and a recorded departure keeps its end date when the staff file gives none, for the store
and for the planner (``stored_plan``): the leaver is given no customer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pandas as pd

from tests.integration.store.conftest import AS_OF, BatchRun
from tests.integration.store.helpers import scalar
from tierbook.api.deps import Actor, Context
from tierbook.api.schemas.work import DepartureIn, ReassignIn
from tierbook.api.services.staff import reassign, record_departure
from tierbook.batch.run import run_batch
from tierbook.domain.access import Viewer
from tierbook.rules.models import Role
from tierbook.store.publish import publish_run, stored_plan

MOVED = 3


def _as_branch_manager(store: Any, branch_id: str, change: Any) -> None:
    """Run ``change(ctx)`` as the API does for a branch manager of ``branch_id``."""
    viewer = Viewer(role=Role.BRANCH_MANAGER, staff_id=None, branch_id=branch_id)
    actor = Actor(user_id=None, login="manager", viewer=viewer, session_id=0)  # type: ignore[arg-type]
    now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with store.unit_of_work() as uow:
        change(Context(uow.session, actor, now, store.cipher, SimpleNamespace(rulebooks={})))
        uow.commit()


def _busiest_rm(run: BatchRun) -> tuple[str, str]:
    a = run.result.assignments
    rm = str(a.loc[a["role"] == "rm", "staff_id"].value_counts().idxmax())
    staff = run.master.staff
    return rm, str(staff.loc[staff["staff_id"] == rm, "branch_id"].iloc[0])


def _colleague(run: BatchRun, rm: str, branch: str) -> str:
    s = run.master.staff
    others = s[(s["role"] == "rm") & (s["branch_id"] == branch) & (s["staff_id"] != rm)]
    return str(others.loc[others["end_date"].isna(), "staff_id"].iloc[0])


def _open_rm(store: Any, customer_id: str) -> str:
    sql = (
        "SELECT staff_id FROM staff_assignments WHERE customer_id = :c AND role = 'rm' "
        "AND valid_to IS NULL"
    )
    return str(scalar(store.engine, sql, c=customer_id))


def test_the_next_run_keeps_a_reassignment_made_through_the_api(
    store, march: BatchRun, year_end: BatchRun
) -> None:
    rulebook = year_end.result.rulebook
    a = march.result.assignments
    # planned from the previous run's out/ (the old way): who keeps the same RM at year end
    from_out = run_batch(year_end.ds, AS_OF, rulebook, previous_assignments=a)
    kept = a.merge(from_out.assignments, on=["customer_id", "role", "staff_id"])
    kept = kept[kept["role"] == "rm"]
    rm = str(kept["staff_id"].value_counts().idxmax())
    branch = str(march.master.staff.set_index("staff_id").at[rm, "branch_id"])
    moved = sorted(kept.loc[kept["staff_id"] == rm, "customer_id"])[:MOVED]
    to = _colleague(march, rm, branch)
    assert len(moved) == MOVED

    publish_run(store, march.result, march.master)
    body = ReassignIn(customer_ids=moved, role="rm", to_staff_id=to, reason="asked for it")
    _as_branch_manager(store, branch, lambda ctx: reassign(ctx, body))
    assert [_open_rm(store, c) for c in moved] == [to] * MOVED
    previous = stored_plan(store.url).assignments
    assert previous is not None
    planned = run_batch(year_end.ds, AS_OF, rulebook, previous_assignments=previous)
    publish_run(store, planned, year_end.master)
    assert [_open_rm(store, c) for c in moved] == [to] * MOVED


def test_a_departure_recorded_through_the_api_survives_the_next_publish(
    store, march: BatchRun, year_end: BatchRun
) -> None:
    publish_run(store, march.result, march.master)
    rm, branch = _busiest_rm(year_end)  # still employed according to the staff file
    left = date(2025, 11, 30)
    body = DepartureIn(end_date=left, reason="resigned")
    _as_branch_manager(store, branch, lambda ctx: record_departure(ctx, rm, body))
    assert pd.isna(year_end.master.staff.set_index("staff_id").at[rm, "end_date"])
    publish_run(store, year_end.result, year_end.master)
    stored = scalar(store.engine, "SELECT end_date FROM staff WHERE staff_id = :s", s=rm)
    assert pd.Timestamp(stored).date() == left


def _open_book(store: Any, staff_id: str) -> int:
    sql = "SELECT count(*) FROM staff_assignments WHERE staff_id = :s AND valid_to IS NULL"
    return int(scalar(store.engine, sql, s=staff_id))


def test_the_next_run_gives_no_customer_to_a_leaver_the_staff_file_still_lists(
    store, march: BatchRun, year_end: BatchRun
) -> None:
    publish_run(store, march.result, march.master)
    rm, branch = _busiest_rm(year_end)
    assert pd.isna(year_end.master.staff.set_index("staff_id").at[rm, "end_date"])
    body = DepartureIn(end_date=date(2025, 11, 30), reason="resigned")
    _as_branch_manager(store, branch, lambda ctx: record_departure(ctx, rm, body))
    assert _open_book(store, rm) == 0  # the API handed the book over
    stored = stored_plan(store.url)
    assert stored.staff_ends[rm] == date(2025, 11, 30)
    planned = run_batch(
        year_end.ds,
        AS_OF,
        year_end.result.rulebook,
        previous_assignments=stored.assignments,
        staff_ends=stored.staff_ends,
    )
    assert rm not in set(planned.assignments["staff_id"])
    assert rm not in set(planned.tasks["staff_id"])
    publish_run(store, planned, year_end.master)
    assert _open_book(store, rm) == 0
    # planned without the store's end date (the staff file alone), the leaver has a book
    unaware = run_batch(
        year_end.ds, AS_OF, year_end.result.rulebook, previous_assignments=stored.assignments
    )
    assert rm in set(unaware.assignments["staff_id"])


def test_an_empty_store_gives_no_previous_assignments(store) -> None:
    assert stored_plan(store.url).assignments is None
    assert stored_plan(store.url).staff_ends == {}
