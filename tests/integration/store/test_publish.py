"""Publishing a run: every result row lands once, a re-publish changes nothing, the previous
run stays intact, and task state survives re-runs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tests.integration.store.conftest import AS_OF, BatchRun
from tests.integration.store.helpers import count, dump, scalar
from tierbook.store import frames as fr
from tierbook.store.models import AumHistory
from tierbook.store.publish import publish_run, run_identity
from tierbook.store.repositories import TaskRepository


def publish(store, run: BatchRun):  # type: ignore[no-untyped-def]
    return publish_run(store, run.result, run.master)


def test_publish_writes_one_row_per_result_row(store, year_end: BatchRun) -> None:
    outcome = publish(store, year_end)
    r, e = year_end.result, store.engine
    assert outcome.published
    assert count(e, "customers") == len(r.identities)
    assert count(e, "customer_snapshots") == len(r.customers)
    assert count(e, "tier_snapshots") == len(r.tiers)
    assert count(e, "aum_history") == len(r.history.groupby(["customer_id", "ladder_id"]))
    assert count(e, "tier_changes") == len(r.changes)
    assert count(e, "tasks") == len(r.tasks)
    assert count(e, "alerts") == len(r.alerts)
    assert count(e, "birthday_list") == len(r.birthday_list)
    assert count(e, "staff_assignments", "valid_to IS NULL") == len(r.assignments)
    assert scalar(e, "SELECT run_id FROM runs WHERE is_current = :t", t=True) == outcome.run_id
    assert count(e, "audit_log", "action = 'publish_run'") == 1


def test_the_book_counts_are_the_runs_customers_per_branch_tier_and_band(
    store, year_end: BatchRun
) -> None:
    """The rows a branch's book total is summed from: the run's customers counted by their
    branch and their levels on the book's tier and band ladders."""
    publish(store, year_end)
    r = year_end.result
    rb = r.rulebook.rulebook
    levels = r.tiers[["customer_id", "ladder_id", "level"]].astype(str)
    tier = levels[levels["ladder_id"] == fr.tier_ladder_id(rb)]
    band = levels[levels["ladder_id"] == fr.band_ladder_id(rb)]
    book = (
        r.customers[["customer_id", "branch_id"]]
        .astype(str)
        .merge(tier[["customer_id", "level"]].rename(columns={"level": "tier"}), how="left")
        .merge(band[["customer_id", "level"]].rename(columns={"level": "band"}), how="left")
    )
    expected = book.groupby(["branch_id", "tier", "band"], dropna=False).size()
    stored = pd.read_sql(
        "SELECT branch_id, tier_level AS tier, band_level AS band, customers FROM book_counts",
        store.engine,
    ).set_index(["branch_id", "tier", "band"])["customers"]
    assert len(band) > 0 and expected.sum() == len(r.customers)
    assert sorted(stored.items(), key=str) == sorted(expected.items(), key=str)


def test_the_staff_books_are_the_runs_assignments_with_each_customers_book_keys(
    store, year_end: BatchRun
) -> None:
    """Each (staff, customer) of the run's assignments once, with the customer's measure,
    level and level index on the book's tier ladder, its band and its year-to-date average,
    from the run's frames."""
    publish(store, year_end)
    r = year_end.result
    rb = r.rulebook.rulebook
    tier = r.tiers[r.tiers["ladder_id"] == fr.tier_ladder_id(rb)]
    band = r.tiers[r.tiers["ladder_id"] == fr.band_ladder_id(rb)]
    held = r.assignments[["staff_id", "customer_id"]].dropna().drop_duplicates().astype(str)
    expected = held.merge(
        tier[["customer_id", "measure", "level_index", "level"]].astype({"customer_id": str})
    )
    expected = expected.merge(r.customers[["customer_id", "ytd_avg"]].astype({"customer_id": str}))
    bands = dict(zip(band["customer_id"].astype(str), band["level"].astype(str), strict=True))
    stored = pd.read_sql(
        "SELECT staff_id, customer_id, tier_measure, ytd_avg, tier_level_index, tier_level,"
        " band_level FROM staff_books",
        store.engine,
    )
    assert len(held) > 0 and len(stored) == len(held)
    got = {
        (x.staff_id, x.customer_id): (
            round(float(x.tier_measure), 2),
            round(float(x.ytd_avg), 2),
            int(x.tier_level_index),
            x.tier_level,
            x.band_level,
        )
        for x in stored.itertuples()
    }
    want = {
        (x.staff_id, x.customer_id): (
            round(float(x.measure), 2),
            round(float(x.ytd_avg), 2),
            int(x.level_index),
            str(x.level),
            bands.get(x.customer_id),
        )
        for x in expected.itertuples()
    }
    assert got == want


def test_tier_levels_in_the_store_match_the_run(store, year_end: BatchRun) -> None:
    publish(store, year_end)
    stored = pd.read_sql("SELECT customer_id, ladder_id, level FROM tier_snapshots", store.engine)
    expected = year_end.result.tiers[["customer_id", "ladder_id", "level"]]
    merged = expected.merge(stored, on=["customer_id", "ladder_id"], suffixes=("", "_db"))
    assert len(merged) == len(expected)
    assert (merged["level"] == merged["level_db"]).all()


@pytest.mark.parametrize("written", [False, True], ids=["held", "written-as-made"])
def test_aum_history_holds_every_review_month_of_the_run_in_order(
    store, year_end: BatchRun, year_end_written: BatchRun, written: bool
) -> None:
    """Also for a run that wrote its history to a file as it made it (``tierbook run``):
    the publish reads the file, and the store holds the same history."""
    if written:
        assert year_end_written.result.history.empty
        publish(store, year_end_written)
    else:
        publish(store, year_end)
    history = year_end.result.history
    with store.unit_of_work() as uow:
        stored = {(h.customer_id, h.ladder_id): h.periods for h in uow.session.query(AumHistory)}
    assert sum(len(p["period_end"]) for p in stored.values()) == len(history)
    for row in history.sample(50, random_state=1).itertuples():
        periods = stored[(row.customer_id, row.ladder_id)]
        k = periods["period_end"].index(f"{row.period_end:%Y-%m-%d}")
        assert periods["measure"][k] == pytest.approx(row.measure, abs=0.005)
        assert (periods["level"][k], periods["step"][k]) == (row.level, str(row.step))
        assert periods["level_index"][k] == row.level_index
    for periods in stored.values():
        assert periods["period_end"] == sorted(periods["period_end"])
        assert len({len(v) for v in periods.values()}) == 1


def test_holdings_hold_the_last_balance_event_on_or_before_the_as_of_date(
    store, year_end: BatchRun
) -> None:
    publish(store, year_end)
    events = pd.read_parquet(year_end.data / "balance_events")
    events = events[pd.to_datetime(events["date"]) <= pd.Timestamp(AS_OF)]
    last = events.sort_values(["account_id", "date"]).groupby("account_id")["balance"].last()
    stored = pd.read_sql("SELECT account_id, balance FROM holdings", store.engine)
    expected = last.reindex(stored["account_id"]).fillna(0.0).to_numpy(dtype=float)
    assert len(stored) > 0
    assert np.allclose(stored["balance"].astype(float), expected, atol=0.005)


def test_publishing_the_same_run_twice_changes_nothing(store, year_end: BatchRun) -> None:
    first = publish(store, year_end)
    before = dump(store.engine)
    second = publish(store, year_end)
    assert second.run_id == first.run_id
    assert not second.published
    assert dump(store.engine) == before


def test_the_run_id_depends_on_inputs_rulebook_and_as_of(
    year_end: BatchRun, march: BatchRun, year_end_after_departure: BatchRun
) -> None:
    ids = {run_identity(r.result) for r in (year_end, march, year_end_after_departure)}
    assert len(ids) == 3


def test_a_later_run_becomes_current_and_the_previous_run_stays_intact(
    store, march: BatchRun, year_end: BatchRun
) -> None:
    first = publish(store, march)
    per_run = ("tier_snapshots", "customer_snapshots", "aum_history", "holdings")
    before = {t: dump(store.engine)[t] for t in per_run}
    second = publish(store, year_end)
    e = store.engine
    assert scalar(e, "SELECT run_id FROM runs WHERE is_current = :t", t=True) == second.run_id
    assert count(e, "runs") == 2
    after = dump(e)
    for table in per_run:
        kept = [row for row in after[table] if row[0] == repr(first.run_no)]
        assert kept == before[table], table
    assert count(e, "tier_snapshots", f"run_no = {first.run_no}") == len(march.result.tiers)


def test_a_changed_assignment_closes_the_old_row_and_opens_a_new_one(
    store, year_end: BatchRun, year_end_after_departure: BatchRun, busiest_rm: str
) -> None:
    publish(store, year_end)
    book = count(store.engine, "staff_assignments", f"staff_id = '{busiest_rm}'")
    publish(store, year_end_after_departure)
    e = store.engine
    assert book > 0
    assert count(e, "staff_assignments", f"staff_id = '{busiest_rm}' AND valid_to IS NULL") == 0
    closed = count(e, "staff_assignments", f"staff_id = '{busiest_rm}' AND valid_to IS NOT NULL")
    assert closed == book
    new = year_end_after_departure.result.assignments
    assert count(e, "staff_assignments", "valid_to IS NULL") == len(new)


def _task_id(store, key: str) -> int:  # type: ignore[no-untyped-def]
    return int(scalar(store.engine, "SELECT id FROM tasks WHERE task_key = :k", k=key))


def _states(store) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    sql = "SELECT task_key, state, closed_reason, staff_id, due_date FROM tasks"
    return pd.read_sql(sql, store.engine).set_index("task_key")


def test_task_state_survives_a_re_run(
    store, year_end: BatchRun, year_end_after_departure: BatchRun, busiest_rm: str
) -> None:
    a, b = year_end.result.tasks, year_end_after_departure.result.tasks
    keys_a, keys_b = set(a["task_id"]), set(b["task_id"])
    publish(store, year_end)
    kept = a[a["task_id"].isin(keys_b) & (a["staff_id"] != busiest_rm)]["task_id"].iloc[0]
    gone = a[(a["staff_id"] == busiest_rm) & ~a["task_id"].isin(keys_b)]["task_id"].iloc[0]
    with store.unit_of_work() as uow:
        repo = TaskRepository(uow.session)
        for key in (kept, gone):
            repo.mark_done(_task_id(store, key), None, datetime.now(UTC))
        uow.commit()
    publish(store, year_end_after_departure)
    states = _states(store)
    assert set(states.index) == keys_a | keys_b  # nothing deleted
    assert states.loc[kept, "state"] == "done"
    assert states.loc[gone, "state"] == "done"
    moved = (keys_a - keys_b) - {gone}
    assert moved, "the departure must take tasks away from the RM"
    for key in moved:
        assert states.loc[key, "state"] == "closed", key
        assert f"reassigned from {busiest_rm}" in states.loc[key, "closed_reason"]
    for key in keys_b - keys_a:
        assert states.loc[key, "state"] == "open"
        assert states.loc[key, "staff_id"] != busiest_rm


@pytest.mark.parametrize("later", ["year_end_after_departure"])
def test_a_past_due_task_whose_staff_is_unchanged_stays_open(
    store, march: BatchRun, later: str, request: pytest.FixtureRequest
) -> None:
    publish(store, march)
    run: BatchRun = request.getfixturevalue(later)
    publish(store, run)
    states = _states(store)
    march_keys = set(march.result.tasks["task_id"]) - set(run.result.tasks["task_id"])
    staff_now = run.result.assignments.set_index(["customer_id", "role"])["staff_id"]
    unchanged = [
        t.task_id
        for t in march.result.tasks.itertuples()
        if t.task_id in march_keys
        and isinstance(t.customer_id, str)
        and staff_now.get((t.customer_id, t.role)) == t.staff_id
    ]
    assert unchanged
    assert all(states.loc[k, "state"] == "open" for k in unchanged)


def test_a_publish_leaves_planner_statistics_for_the_tables_it_filled(
    store, year_end: BatchRun
) -> None:
    publish(store, year_end)
    e = store.engine
    if e.dialect.name == "postgresql":
        sql = "SELECT count(*) FROM pg_stats WHERE tablename = :t"
    else:
        sql = "SELECT count(*) FROM sqlite_stat1 WHERE tbl = :t"
    for table in ("customers", "tier_snapshots", "staff_assignments", "tasks"):
        assert scalar(e, sql, t=table) > 0, table
