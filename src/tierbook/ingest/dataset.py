"""Load a data directory into clean, typed Ibis tables plus a quarantine of the bad rows.

Every table is staged into DuckDB (``tierbook.ingest.stage``) and validated set-based in SQL
(``tierbook.ingest.validate``). Small tables are materialised as DuckDB temp tables; large
tables (balances, transactions) stay lazy views over their scan. Parents are validated before
children (branches → staff, customers → accounts → the rest), so a row referring to a
quarantined parent is itself quarantined (``UNKNOWN_REFERENCE``).

Duplicate keys of ``balances_daily`` are not looked for at load: a GROUP BY over 100M rows
would cost more than the rest of the load together. The engine notices them for free in its
own per-account scan and asks ``Dataset.check_keys_for`` to check those accounts precisely.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierbook.ingest.contract import TABLES, TABLES_BY_NAME, Table
from tierbook.ingest.quarantine import IngestError, combine
from tierbook.ingest.readers import Source, display_path, find_sources
from tierbook.ingest.sql import registered, run
from tierbook.ingest.stage import stage
from tierbook.ingest.validate import (
    Checked,
    dup_lines,
    find_duplicates,
    finish,
    make_clean,
    settle_clean,
    validate,
)

BalanceForm = Literal["daily", "events"]
REQUIRED_TABLES = ("branches", "staff", "customers", "accounts")
BALANCE_TABLES: dict[str, str] = {"daily": "balances_daily", "events": "balance_events"}
SMALL_ORDER = (
    "branches",
    "staff",
    "customers",
    "accounts",
    "income",
    "referrals",
    "purchases",
    "contacts",
)
KEYS_LEFT_TO_ENGINE = ("balances_daily",)
"""Large tables whose duplicate keys the engine detects; see ``Dataset.check_keys_for``."""
DEFERRABLE = ("balances_daily", "balance_events")
"""Large tables whose row checks (and, for events, duplicate keys) may wait for the
engine's scan (``defer_checks``)."""


@dataclass(frozen=True)
class FileRecord:
    """One input file: its hash and what became of its rows (loaded + quarantined == read)."""

    table: str
    path: Path
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


@dataclass
class Dataset:
    """Clean tables (Ibis, on ``con``), the balance form loaded, the files and the quarantine.

    ``keys_unchecked`` names the tables whose duplicate keys were not looked for at load
    (``balances_daily`` always; every large table with ``check_keys=False``)."""

    con: Any
    tables: dict[str, Any]
    balance_form: BalanceForm
    files: list[FileRecord] = field(default_factory=list)
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    keys_unchecked: set[str] = field(default_factory=set)
    _checked: dict[str, Checked] = field(default_factory=dict, repr=False)
    _data_dir: Path = field(default=Path(), repr=False)

    @property
    def balances(self) -> Any:
        """The clean balance table of the loaded form."""
        return self.tables[BALANCE_TABLES[self.balance_form]]

    def pending_scan(self, table: str) -> Any | None:
        """For a table whose checks wait (``load_dataset(defer_checks=True)``): its rows
        with ``_bad`` (true when a cell or row check fails; references are not in it), for
        a scan that counts the rows passing; else None. See ``settle``.

        When the source stores its dates and numbers natively (Parquet), the rows are read
        as they are, the key not stripped: a key needing it is among no clean parent keys,
        so its row is not counted good and ``settle`` checks every row."""
        state = self._checked.get(table)
        return self.con.table(state.scan) if state is not None and state.pending else None

    def settle(self, table: str, good_rows: int | None, repeated_keys: int | None = None) -> bool:
        """End the wait of a pending ``table``. ``good_rows`` is the number of its rows a
        scan found with ``_bad`` false and a key among the clean parent rows (e.g. an
        inner join on the clean accounts). When it equals the rows read, no row can be bad
        and none is looked at again: True. A table whose duplicate keys the load checks
        (``balance_events``) also needs ``repeated_keys`` == 0: the scan found no two rows
        (good or not) sharing a key. Otherwise (or with None) every row is checked as at
        load, the quarantine and file counts are updated and ``tables[table]`` is the new
        clean relation: False (what was computed from ``pending_scan`` is void).
        """
        state = self._checked[table]
        if not state.pending:
            raise ValueError(f"{table}: its checks are not pending")
        raw = state.raw
        assert raw is not None
        read = sum(raw.rows_read.values())
        keys_ok = not state.check_keys or repeated_keys == 0
        if good_rows == read and keys_ok and not raw.reader_lines and not raw.unstaged:
            settle_clean(self.con, state)
            self.tables[table] = self.con.table(state.clean)
            return True
        if good_rows is not None and good_rows > read:
            raise ValueError(f"{table}: {good_rows} good rows counted, only {read} read")
        result = finish(self.con, state, raw, check_keys=state.check_keys)
        self.tables[table] = self.con.table(result.checked.clean)
        self.quarantine = combine([self.quarantine, result.quarantine])
        newly_bad = result.quarantined_rows
        self.files = [self._recount(r, table, newly_bad) for r in self.files]
        return False

    def finish_checks(self) -> None:
        """Check every row of the tables still pending (the quarantine is complete after)."""
        for name, state in self._checked.items():
            if state.pending:
                self.settle(name, None)

    def check_keys_for(self, table: str, account_ids: Sequence[str] | pa.Array) -> int:
        """Check the duplicate keys of large ``table`` among the rows of ``account_ids``.

        Exact copies after the first become ``DUPLICATE_ROW`` (the first is kept), different
        rows sharing a key ``DUPLICATE_KEY`` (all set aside), as the load does for the other
        tables. The quarantine, the file counts and ``tables[table]`` (a new clean relation
        without those lines) are updated; relations taken from ``tables`` before stay valid.
        Returns the number of quarantine lines added; checking an account again adds none.
        """
        state = self._checked.get(table)
        if state is None or state.materialised or "account_id" not in state.table.names:
            raise ValueError(f"{table}: not a large table with account_id loaded in this dataset")
        if state.pending:
            self.settle(table, None)
        if isinstance(account_ids, pa.Array | pa.ChunkedArray):  # e.g. a whole day's ids
            ids: Any = pc.unique(account_ids.cast(pa.string())).drop_null()
        else:
            ids = list(dict.fromkeys(str(a) for a in account_ids))
        if len(ids) == 0:
            return 0
        new = f"{state.dups}_new"
        run(self.con, f"CREATE OR REPLACE TEMP TABLE {new} AS SELECT * FROM {state.dups} LIMIT 0")
        listed_ids = ids if isinstance(ids, pa.Array) else pa.array(ids, pa.string())
        data = pa.table({"account_id": listed_ids})
        with registered(self.con, f"{new}_ids", data) as listed:
            restrict = f"account_id IN (SELECT account_id FROM {listed})"
            find_duplicates(self.con, state, new, restrict=restrict)
        lines = dup_lines(self.con, state.table, new)
        newly_bad = dict(
            run(
                self.con,
                f"SELECT _file, count(DISTINCT _rid) FROM {new} "
                f"WHERE _rid NOT IN (SELECT _rid FROM {state.flagged}) GROUP BY _file",
            ).fetchall()
        )
        run(
            self.con,
            f"INSERT INTO {state.dups} SELECT * FROM {new}; "
            f"INSERT INTO {state.out} SELECT _rid FROM {new}; DROP TABLE {new}",
        )
        if lines.empty:
            return 0
        state.clean = make_clean(self.con, state)
        self.tables[table] = self.con.table(state.clean)
        self.quarantine = combine([self.quarantine, lines])
        self.files = [self._recount(r, table, newly_bad) for r in self.files]
        return len(lines)

    def _recount(self, record: FileRecord, table: str, newly_bad: dict[str, int]) -> FileRecord:
        n = (
            newly_bad.get(display_path(record.path, self._data_dir), 0)
            if record.table == table
            else 0
        )
        if not n:
            return record
        return replace(
            record,
            rows_loaded=record.rows_loaded - n,
            rows_quarantined=record.rows_quarantined + n,
        )


def load_dataset(
    data_dir: Path,
    con: Any,
    *,
    balances: Literal["auto", "daily", "events"] = "auto",
    check_keys: bool = True,
    tables: Collection[str] | None = None,
    defer_checks: bool = False,
) -> Dataset:
    """Validate and load every contract table found in ``data_dir`` — or, with ``tables``,
    only those (the required tables and the balances always); the others are not read.

    ``balances="auto"`` loads ``balances_daily`` when present, else ``balance_events``.
    Duplicate keys are checked in every small table, and in ``balance_events`` and
    ``transactions`` unless ``check_keys=False``; never in ``balances_daily`` (see
    ``Dataset.check_keys_for``). Raises ``IngestError`` on a fatal problem.

    ``defer_checks``: the row checks of the balances (and the duplicate keys of
    ``balance_events``) wait for the engine's own scan (``Dataset.pending_scan``,
    ``Dataset.settle``): on clean input the 100M rows are read once, not twice. Until
    settled, the table's quarantine lines are missing and its clean relation checks every
    row as it is read; ``Dataset.finish_checks`` settles the rest.
    """
    data_dir = Path(data_dir)
    sources = find_sources(data_dir)
    missing = [t for t in REQUIRED_TABLES if t not in sources]
    if missing:
        raise IngestError(data_dir, f"required table missing: {', '.join(missing)}")
    form = _balance_form(sources, balances, data_dir)
    run(con, "SET enable_progress_bar = false")
    loader = _Loader(data_dir, con, uuid.uuid4().hex[:8], defer=DEFERRABLE if defer_checks else ())
    wanted = None if tables is None else {*tables, *REQUIRED_TABLES, BALANCE_TABLES[form]}
    for name in SMALL_ORDER:
        if name in sources and (wanted is None or name in wanted):
            loader.load(TABLES_BY_NAME[name], sources[name], check_keys=True)
    for name in (BALANCE_TABLES[form], "transactions"):
        if name in sources and (wanted is None or name in wanted):
            keys = check_keys and name not in KEYS_LEFT_TO_ENGINE
            loader.load(TABLES_BY_NAME[name], sources[name], check_keys=keys)
    return Dataset(
        con,
        loader.tables,
        form,
        loader.files,
        combine(loader.quarantines),
        loader.unchecked,
        loader.checked,
        data_dir,
    )


def _balance_form(sources: dict[str, Source], wanted: str, data_dir: Path) -> BalanceForm:
    if wanted == "auto":
        for form in ("daily", "events"):
            if BALANCE_TABLES[form] in sources:
                return form  # type: ignore[return-value]
        raise IngestError(data_dir, "no balances: need balances_daily or balance_events")
    if wanted not in ("daily", "events"):
        raise ValueError(f"balances must be auto, daily or events, not {wanted!r}")
    if BALANCE_TABLES[wanted] not in sources:
        raise IngestError(
            data_dir, f"balances={wanted} asked for but {BALANCE_TABLES[wanted]} missing"
        )
    return wanted  # type: ignore[return-value]


class _Loader:
    """Accumulates the clean tables, file records and quarantine of one load."""

    def __init__(self, data_dir: Path, con: Any, tag: str, defer: Collection[str]) -> None:
        self.data_dir, self.con, self.tag, self.defer = data_dir, con, tag, defer
        self.tables: dict[str, Any] = {}
        self.files: list[FileRecord] = []
        self.quarantines: list[pd.DataFrame] = []
        self.parents: dict[str, str] = {}  # "table.column" -> clean relation
        self.checked: dict[str, Checked] = {}
        self.unchecked: set[str] = set()

    def load(self, table: Table, source: Source, *, check_keys: bool) -> None:
        name = f"tb_raw_{table.name}_{self.tag}"
        small = not table.large
        raw = stage(self.con, table, source, self.data_dir, name, skip_blank=small, in_order=small)
        result = validate(
            self.con,
            table,
            raw,
            self.parents,
            check_keys=check_keys,
            materialise=not table.large,
            defer=table.name in self.defer,
        )
        clean = result.checked.clean
        for ref in _referenced_columns(table):
            self.parents[f"{table.name}.{ref}"] = clean
        self.tables[table.name] = self.con.table(clean)
        self.checked[table.name] = result.checked
        if not check_keys:
            self.unchecked.add(table.name)
        self.quarantines.append(result.quarantine)
        for path in source.paths:
            shown = display_path(path, self.data_dir)
            n, bad = raw.rows_read.get(shown, 0), result.quarantined_rows.get(shown, 0)
            sha = raw.sha256[shown]
            self.files.append(FileRecord(table.name, path, sha, n, n - bad, bad))


def _referenced_columns(table: Table) -> set[str]:
    refs = {c.references for t in TABLES for c in t.columns if c.references}
    return {r.split(".")[1] for r in refs if r.split(".")[0] == table.name}
