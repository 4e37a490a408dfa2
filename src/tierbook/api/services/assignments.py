"""Moving customers between staff: the open assignment is closed (kept as history) and a
new one opened, and the current run's staff books of the moved customers rewritten, in the
same transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy import and_, select

from tierbook.api.deps import Context
from tierbook.api.services import audit
from tierbook.store.models import StaffAssignment, TierSnapshot
from tierbook.store.repositories import RunRepository


def move(ctx: Context, role: str, targets: Mapping[str, str], reason: str) -> Counter[str]:
    """Give each customer of ``targets`` (customer → staff) to that staff in ``role``."""
    if not targets:
        return Counter()
    run = ctx.current_run()
    rb = ctx.rulebook(run)
    band_id = rb.maintenance.band_ladder if rb.maintenance else rb.ladders[0].id
    ids = sorted(targets)
    rows = ctx.db.execute(
        select(TierSnapshot.customer_id, StaffAssignment, TierSnapshot.level)
        .outerjoin(
            StaffAssignment,
            and_(
                StaffAssignment.customer_id == TierSnapshot.customer_id,
                StaffAssignment.role == role,
                StaffAssignment.valid_to.is_(None),
            ),
        )
        .where(
            TierSnapshot.run_no == run.no,
            TierSnapshot.ladder_id == band_id,
            TierSnapshot.customer_id.in_(ids),
        )
    )
    today = ctx.now.date()
    moved: Counter[str] = Counter()
    changed: list[str] = []
    for cid, old, band in rows:
        to = targets[cid]
        if old is not None and old.staff_id == to:
            continue
        if old is not None:
            old.valid_to, old.to_run_no = today, run.no
        ctx.db.flush()
        ctx.db.add(
            StaffAssignment(
                customer_id=cid,
                role=role,
                staff_id=to,
                band=band if old is None else old.band,
                reason=reason,
                over_capacity=False,
                substitute=False,
                valid_from=today,
                from_run_no=run.no,
            )
        )
        audit.record(
            ctx,
            "reassign",
            "customer",
            cid,
            reason=reason,
            before={"role": role, "staff_id": old.staff_id if old else None},
            after={"role": role, "staff_id": to},
        )
        moved[to] += 1
        changed.append(cid)
    ctx.db.flush()
    if changed:
        RunRepository(ctx.db).write_staff_books(run.no, changed)
    return moved
