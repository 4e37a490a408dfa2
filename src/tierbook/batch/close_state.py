"""The persisted state of the incremental daily close (format: ``docs/close.md``).

Everything is kept in whole cents (int64) by customer *slot*: a customer's slot is fixed
when it is first seen, so new customers append and no stored array is ever re-indexed.

Files of a state folder (``@D`` is the last day a file covers; ``meta.json`` names the
current ones and is replaced last, atomically, so a close that stops half-way leaves the
previous state intact)::

    meta.json                 closed days and their input fingerprints, form, rulebook hash
    customers@D.parquet       customer_id per slot
    accounts@D.parquet        account_id, slot, klass, close_date, last_cents, last_date
    current@D.npy             int64 [classes, slots]: balances counted on day D (events form)
    months/YYYY-MM@D.npy      int64 [classes, slots]: balance-days of the month through D
    days/YYYY-MM-DD.npy       float64 [slots]: weighted cents of that day (last 365 days)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierbook.analytics.aum import CLASSES
from tierbook.domain.closing import ROLLING_DAYS, Closed, month_number, month_start

FORMAT = 1
ACCOUNT_COLUMNS = ("account_id", "slot", "klass", "close_date", "last_cents", "last_date")


class StateError(RuntimeError):
    """A missing, foreign or inconsistent close state."""


def _pad(a: np.ndarray, n: int) -> np.ndarray:
    if a.shape[-1] == n:
        return a
    out = np.zeros((*a.shape[:-1], n), dtype=a.dtype)
    out[..., : a.shape[-1]] = a
    return out


@dataclass
class CloseState:
    root: Path
    meta: dict[str, Any]
    customers: np.ndarray  # customer_id per slot (object)
    accounts: pd.DataFrame
    months: dict[int, np.ndarray]  # month number -> int64 [classes, slots]
    current: np.ndarray  # int64 [classes, slots]
    new_days: dict[str, np.ndarray] = field(default_factory=dict)
    customers_changed: bool = False
    accounts_changed: bool = False  # set by a change of the accounts or their balances

    @property
    def n_slots(self) -> int:
        return len(self.customers)

    @property
    def last(self) -> date:
        return date.fromisoformat(self.meta["last_closed"])

    @property
    def closed(self) -> Closed:
        m = self.meta
        return Closed(date.fromisoformat(m["initial"]), self.last, m["fingerprints"])

    def month(self, number: int) -> np.ndarray:
        got = self.months.get(number)
        return np.zeros((len(CLASSES), self.n_slots), np.int64) if got is None else got

    def day(self, d: date) -> np.ndarray:
        """Weighted cents of day ``d`` per slot (zeros for a day before the state's data)."""
        key = d.isoformat()
        if key in self.new_days:
            return _pad(self.new_days[key], self.n_slots)
        path = self.root / "days" / f"{key}.npy"
        if not path.exists():
            if d > self.last - timedelta(days=ROLLING_DAYS):
                raise StateError(f"{path}: a day of the last 365 is missing from the state")
            return np.zeros(self.n_slots)
        return _pad(np.load(path), self.n_slots)

    def add_customers(self, ids: np.ndarray) -> None:
        """Give every id not seen before a new slot."""
        known = pd.Index(self.customers)
        new = ids[known.get_indexer(ids) < 0]
        if len(new):
            self.customers = np.concatenate([self.customers, new]).astype(object)
            self.customers_changed = True
            n = self.n_slots
            self.months = {k: _pad(v, n) for k, v in self.months.items()}
            self.current = _pad(self.current, n)

    def slots_of(self, ids: Any) -> np.ndarray:
        return pd.Index(self.customers).get_indexer(ids)


def load_state(root: Path) -> CloseState:
    meta_path = root / "meta.json"
    if not meta_path.exists():
        raise StateError(
            f"{root}: no close state; start with a full run as of the day before: "
            "tierbook run --as-of D-1 --write-state"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise StateError(f"{meta_path}: state format {meta.get('format')}, expected {FORMAT}")
    customers = pd.read_parquet(root / meta["customers"])["customer_id"].to_numpy(object)
    accounts = pd.read_parquet(root / meta["accounts"])
    n = len(customers)
    months = {
        month_number(date.fromisoformat(k + "-01")): _pad(np.load(root / v), n)
        for k, v in meta["months"].items()
    }
    current = _pad(np.load(root / meta["current"]), n)
    return CloseState(root, meta, customers, accounts, months, current)


def save_state(state: CloseState, keep_from_month: int) -> None:
    """Write the files changed by the last close, then ``meta.json``, then drop stale files."""
    root, meta, tag = state.root, state.meta, state.meta["last_closed"]
    for sub in ("months", "days"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if state.customers_changed or "customers" not in meta:
        meta["customers"] = f"customers@{tag}.parquet"
        pd.DataFrame({"customer_id": state.customers.astype(str)}).to_parquet(
            root / meta["customers"], index=False
        )
    if state.accounts_changed or "accounts" not in meta:  # daily form: only a new account
        meta["accounts"] = f"accounts@{tag}.parquet"
        accounts = state.accounts.loc[:, list(ACCOUNT_COLUMNS)]
        accounts.to_parquet(root / meta["accounts"], index=False)
    meta["current"] = f"current@{tag}.npy"
    np.save(root / meta["current"], state.current)
    months = {}
    for number, arr in sorted(state.months.items()):
        if number < keep_from_month:
            continue
        key = month_start(number).strftime("%Y-%m")
        old = meta.get("months", {}).get(key)
        if old is None or month_number(state.last) == number:
            last_of_month = month_start(number + 1) - timedelta(days=1)
            old = f"months/{key}@{min(last_of_month, state.last).isoformat()}.npy"
            np.save(root / old, arr)
        months[key] = old
    meta["months"] = months
    for key, arr in state.new_days.items():
        np.save(root / "days" / f"{key}.npy", arr)
    tmp = root / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(root / "meta.json")
    state.new_days.clear()
    state.customers_changed = state.accounts_changed = False
    _drop_stale(state)


def _drop_stale(state: CloseState) -> None:
    root, meta = state.root, state.meta
    used = {meta["customers"], meta["accounts"], meta["current"], *meta["months"].values()}
    for pattern in ("customers@*", "accounts@*", "current@*", "months/*"):
        for p in root.glob(pattern):
            if p.relative_to(root).as_posix() not in used:
                p.unlink()
    oldest = state.last - timedelta(days=ROLLING_DAYS - 1)
    for p in (root / "days").glob("*.npy"):
        if date.fromisoformat(p.stem) < oldest:
            p.unlink()
