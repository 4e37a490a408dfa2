"""The incremental daily close: one new day added to a persisted state, then the same
results as ``tierbook run`` for that day (``docs/close.md``).

``init_state`` (``close_init``) writes the state from a full run's dataset; ``close_day``
validates one day's input, adds exactly that day — the day's balances (daily form), or the
day's change events with every other balance carried forward (events form) — and derives
tiers, tasks and alerts from the state's month sums with the batch's own code
(``run_batch`` with a ``sums_source``). Work on the balances is proportional to the day's
rows; nothing of the earlier days is read again.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierbook.batch.close_init import account_frame, accounts_fingerprint
from tierbook.batch.close_load import load_day_view
from tierbook.batch.close_state import CloseState, StateError, load_state, save_state
from tierbook.batch.close_sums import (
    account_positions,
    add_day,
    apply_events,
    calendars,
    day_cents_daily,
    sums_from_state,
    weights_of,
)
from tierbook.batch.dayfiles import DayInput, build_view, find_day_input, view_root
from tierbook.batch.run import Progress, RunResult, run_batch, tables_needed
from tierbook.domain.closing import Action, decide, first_month_needed
from tierbook.ingest.dataset import BALANCE_TABLES, Dataset
from tierbook.ingest.quarantine import IngestError
from tierbook.ingest.readers import display_path
from tierbook.ingest.sql import db, lit, run
from tierbook.rules.loader import LoadedRulebook


@dataclass
class DayClose:
    """The outcome of a close: nothing to do, or a result to write before ``commit``."""

    day: date
    action: Action
    fingerprint: str
    result: RunResult | None = None
    state: CloseState | None = None
    keep_from_month: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def commit(self) -> None:
        """Save the state — after the outputs are written, so that a close stopped in
        between is simply run again."""
        if self.state is not None and self.action is Action.CLOSE:
            save_state(self.state, self.keep_from_month)


def close_day(
    data_dir: Path,
    day: date,
    loaded: LoadedRulebook,
    con: Any,
    state_dir: Path,
    *,
    file: Path | None = None,
    previous_assignments: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> DayClose:
    """Close ``day``: refuse (``CloseRefusedError``, ``StateError``, ``IngestError``), do nothing
    (already closed with the same input), or compute its results."""
    state = load_state(state_dir)
    _check_rulebook(state, loaded, state_dir)
    form = state.meta["balance_form"]
    found: list[tuple[DayInput, str]] = []

    def fingerprint() -> str:
        if not found:
            day_input = find_day_input(data_dir, form, day, file)
            found.append((day_input, day_input.fingerprint(data_dir)))
        return found[0][1]

    action = decide(state.closed, day, fingerprint)
    outcome = DayClose(day, action, fingerprint())
    day_input = found[0][0]
    if outcome.action is Action.NOTHING:
        return outcome
    t0 = time.perf_counter()
    m = loaded.rulebook.maintenance
    lookback = m.large_flow.lookback_days if m is not None else 1
    weights = weights_of(loaded)
    with view_root() as tmp:
        names = build_view(data_dir, day_input, day, lookback, Path(tmp))
        ds = load_day_view(Path(tmp), con, form, tables_needed(loaded), state_dir / "ref")
        _real_paths(ds, names, Path(tmp), data_dir)
        rows = _day_rows(ds, day, names)
        outcome.timings["load and validate the day"] = round(time.perf_counter() - t0, 3)
        t1 = time.perf_counter()
        _reconcile(state, ds)
        pos, cents = account_positions(state, rows.column("account_id")), _cents(rows)
        if form == "daily":
            add_day(state, day, day_cents_daily(state, pos, cents), weights)
        else:
            apply_events(state, day, pos, cents)
            add_day(state, day, state.current.copy(), weights)
        state.meta["last_closed"] = day.isoformat()
        state.meta["fingerprints"][day.isoformat()] = outcome.fingerprint
        outcome.keep_from_month = first_month_needed(*calendars(loaded, day))
        outcome.timings["add the day to the state"] = round(time.perf_counter() - t1, 3)
        result = run_batch(
            ds,
            day,
            loaded,
            previous_assignments=previous_assignments,
            progress=progress,
            sums_source=lambda cal, index: sums_from_state(state, cal, index, weights),
            maintenance_ds=_snapshot(ds, state, day) if form == "events" else None,
        )
    result.timings = {**outcome.timings, **result.timings}
    outcome.result, outcome.state = result, state
    return outcome


def _check_rulebook(state: CloseState, loaded: LoadedRulebook, state_dir: Path) -> None:
    if state.meta["rulebook_sha256"] != loaded.sha256:
        raise StateError(
            f"{state_dir}: the state was built with rulebook {state.meta['rulebook']} "
            f"(sha256 {state.meta['rulebook_sha256'][:12]}…), not {loaded.rulebook.id} "
            f"{loaded.rulebook.version} ({loaded.sha256[:12]}…); start the state again with "
            "a full run (tierbook run --write-state)"
        )


def _cents(rows: pa.Table) -> np.ndarray:
    balance = rows.column("balance").cast(pa.float64()).to_numpy(zero_copy_only=False)
    return np.round(balance * 100.0).astype(np.int64)


def _real_paths(ds: Dataset, names: dict[str, str], view: Path, data_dir: Path) -> None:
    """Quarantine lines and file records name the real files, not the view's links."""
    if len(ds.quarantine):
        ds.quarantine["file"] = ds.quarantine["file"].map(lambda f: names.get(f, f))
    files = []
    for f in ds.files:
        shown = display_path(f.path, view)
        files.append(dataclasses.replace(f, path=data_dir / names.get(shown, shown)))
    ds.files = files


def _day_rows(ds: Dataset, day: date, names: dict[str, str]) -> pa.Table:
    """The day's clean balance rows; a row of another day makes the input wrong (fatal)."""
    table = BALANCE_TABLES[ds.balance_form]
    if ds.balance_form == "daily":
        ids = ds.balances.select("account_id").distinct().to_pyarrow().column("account_id")
        ds.check_keys_for(table, ids)
    chk = ds._checked[table].chk
    other = run(
        ds.con,
        f"SELECT _file, _line, date FROM {chk} WHERE date IS NOT NULL "
        f"AND date <> DATE {lit(day.isoformat())} ORDER BY _file, _line LIMIT 1",
    ).fetchall()
    if other:
        f, line, d = other[0]
        raise IngestError(
            f"{names.get(f, f)}, line {line}",
            f"a row dated {d} in the input of {day}: a day's file holds only {day}",
        )
    return ds.balances.select("account_id", "balance").to_pyarrow()


def _reconcile(state: CloseState, ds: Dataset) -> None:
    """Bring the state's customers and accounts up to the day's reference tables: new ones
    are added; a change that would alter days already closed is refused."""
    ids = ds.tables["customers"].select("customer_id").to_pyarrow().column("customer_id")
    ids = ids.cast(pa.string())
    new = ids.filter(pc.invert(pc.is_in(ids, value_set=pa.array(state.customers, pa.string()))))
    if len(new):  # only the customers not seen before are turned into Python strings
        state.add_customers(np.asarray(sorted(new.to_pylist()), dtype=object))
    sha = accounts_fingerprint(ds)
    if sha == state.meta["accounts_sha256"]:
        return
    new = account_frame(ds, state.customers)
    old = state.accounts.set_index("account_id")
    merged = new.merge(old.add_suffix("_old"), left_on="account_id", right_index=True, how="left")
    _refuse_changes(state, new, merged, old)
    merged["last_cents"] = merged["last_cents_old"].fillna(0).astype(np.int64)
    merged["last_date"] = merged["last_date_old"].to_numpy("datetime64[D]")
    state.accounts = merged[[*new.columns, "last_cents", "last_date"]].reset_index(drop=True)
    state.accounts_changed = True
    state.meta["accounts_sha256"] = sha


def _refuse_changes(
    state: CloseState, new: pd.DataFrame, merged: pd.DataFrame, old: pd.DataFrame
) -> None:
    rerun = "; start the state again with a full run (tierbook run --write-state)"
    gone = old.index.difference(pd.Index(new["account_id"]))
    if len(gone):
        raise StateError(
            f"{len(gone)} account(s) of closed days are no longer in accounts "
            f"(first: {gone[0]}): their history cannot be taken out of the sums{rerun}"
        )
    known = merged["slot_old"].notna()
    moved = known & (
        (merged["slot"] != merged["slot_old"]) | (merged["klass"] != merged["klass_old"])
    )
    if moved.any():
        first = merged.loc[moved, "account_id"].iloc[0]
        raise StateError(
            f"{int(moved.sum())} account(s) changed customer or product type (first: {first})"
            f": the full batch would move their history{rerun}"
        )
    if state.meta["balance_form"] == "events":
        last = np.datetime64(state.last, "D") + 1
        a = merged["close_date"].to_numpy("datetime64[D]")
        b = merged["close_date_old"].to_numpy("datetime64[D]")
        cap_a = np.where(np.isnat(a) | (a > last), last, a)
        cap_b = np.where(np.isnat(b) | (b > last), last, b)
        changed = known.to_numpy() & (cap_a != cap_b)
        if changed.any():
            first = merged.loc[changed, "account_id"].iloc[0]
            raise StateError(
                f"{int(changed.sum())} account(s) got a close date on or before "
                f"{state.last}, already closed (first: {first}){rerun}"
            )


def _snapshot(ds: Dataset, state: CloseState, day: date) -> Dataset:
    """The dataset the maintenance step reads, with each account's balance on ``day`` from
    the state as a one-day daily table (the events form's balance at a date)."""
    acc = state.accounts
    close = acc["close_date"].to_numpy("datetime64[D]")
    d = np.datetime64(day, "D")
    live = ~np.isnat(acc["last_date"].to_numpy("datetime64[D]")) & (np.isnat(close) | (d < close))
    frame = pa.table(
        {
            "account_id": pa.array(acc["account_id"].to_numpy()[live].astype(str)),
            "date": pa.array(np.full(int(live.sum()), d)).cast(pa.date32()),
            "balance": pa.array(acc["last_cents"].to_numpy()[live] / 100.0),
        }
    )
    name = f"tb_close_balances_{day:%Y%m%d}"
    db(ds.con).register(name, frame)
    tables = {**ds.tables, "balances_daily": ds.con.table(name)}
    return dataclasses.replace(ds, tables=tables, balance_form="daily")
