"""Load a data directory into clean, typed Ibis tables plus a quarantine of the bad rows.

Small tables are read as text, validated row by row and materialised as DuckDB temp tables;
large tables (balances, transactions) stay lazy Ibis expressions validated set-based (see
``tierbook.ingest.large``). Parents are validated before children, so a row referring to a
quarantined parent is itself quarantined (``UNKNOWN_REFERENCE``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from tierbook.ingest.contract import TABLES, TABLES_BY_NAME, Table
from tierbook.ingest.fields import ARROW_TYPES
from tierbook.ingest.large import create_temp_table, validate_large
from tierbook.ingest.quarantine import IngestError, combine
from tierbook.ingest.readers import Source, display_path, find_sources, read_small, sha256_file
from tierbook.ingest.validate import validate_small

BalanceForm = Literal["daily", "events"]
REQUIRED_TABLES = ("branches", "staff", "customers", "accounts")
BALANCE_TABLES: dict[str, str] = {"daily": "balances_daily", "events": "balance_events"}
SMALL_ORDER = ("branches", "staff", "customers", "accounts", "income", "referrals", "purchases")


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
    """Clean tables (Ibis, on ``con``), the balance form loaded, the files and the quarantine."""

    con: Any
    tables: dict[str, Any]
    balance_form: BalanceForm
    files: list[FileRecord] = field(default_factory=list)
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def balances(self) -> Any:
        """The clean balance table of the loaded form."""
        return self.tables[BALANCE_TABLES[self.balance_form]]


def load_dataset(
    data_dir: Path,
    con: Any,
    *,
    balances: Literal["auto", "daily", "events"] = "auto",
    check_keys: bool = True,
) -> Dataset:
    """Validate and load every contract table found in ``data_dir``.

    ``balances="auto"`` loads ``balances_daily`` when present, else ``balance_events``.
    ``check_keys=False`` skips the duplicate-key check of the large tables (its costliest
    step); small tables are always checked. Raises ``IngestError`` on a fatal problem.
    """
    data_dir = Path(data_dir)
    sources = find_sources(data_dir)
    missing = [t for t in REQUIRED_TABLES if t not in sources]
    if missing:
        raise IngestError(data_dir, f"required table missing: {', '.join(missing)}")
    form = _balance_form(sources, balances, data_dir)
    loader = _Loader(data_dir, con, uuid.uuid4().hex[:8])
    for name in SMALL_ORDER:
        if name in sources:
            loader.small(TABLES_BY_NAME[name], sources[name])
    for name in (BALANCE_TABLES[form], "transactions"):
        if name in sources:
            loader.large(TABLES_BY_NAME[name], sources[name], check_keys=check_keys)
    return Dataset(con, loader.tables, form, loader.files, combine(loader.quarantines))


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

    def __init__(self, data_dir: Path, con: Any, tag: str) -> None:
        self.data_dir, self.con, self.tag = data_dir, con, tag
        self.tables: dict[str, Any] = {}
        self.files: list[FileRecord] = []
        self.quarantines: list[pd.DataFrame] = []
        self.parents: dict[str, set[Any]] = {}

    def small(self, table: Table, source: Source) -> None:
        raw = read_small(source, table, self.data_dir)
        result = validate_small(table, raw, self.parents)
        for ref in _referenced_columns(table):
            self.parents[f"{table.name}.{ref}"] = set(result.clean[ref].dropna())
        name = self._name(table)
        self.tables[table.name] = create_temp_table(self.con, name, _to_arrow(table, result.clean))
        self.quarantines.append(result.quarantine)
        self._record(table, source, raw.rows_read, result.quarantined_rows)

    def large(self, table: Table, source: Source, *, check_keys: bool) -> None:
        accounts = self._name(TABLES_BY_NAME["accounts"])
        result = validate_large(
            self.con,
            table,
            source,
            self.data_dir,
            accounts,
            check_keys=check_keys,
            tag=self.tag,
        )
        self.tables[table.name] = result.clean
        self.quarantines.append(result.quarantine)
        self._record(table, source, result.rows_read, result.quarantined_rows)

    def _name(self, table: Table) -> str:
        return f"tb_clean_{table.name}_{self.tag}"

    def _record(
        self, table: Table, source: Source, read: dict[str, int], bad: dict[str, int]
    ) -> None:
        for path in source.paths:
            shown = display_path(path, self.data_dir)
            n, q = read.get(shown, 0), bad.get(shown, 0)
            self.files.append(FileRecord(table.name, path, sha256_file(path), n, n - q, q))


def _referenced_columns(table: Table) -> set[str]:
    refs = {c.references for t in TABLES for c in t.columns if c.references}
    return {r.split(".")[1] for r in refs if r.split(".")[0] == table.name}


def _to_arrow(table: Table, clean: pd.DataFrame) -> pa.Table:
    """Typed Arrow table of the clean rows, with the contract's types even when empty."""
    arrays = {
        c.name: pa.array(clean[c.name].tolist(), type=pa.type_for_alias(ARROW_TYPES[c.type]))
        for c in table.columns
    }
    return pa.table(arrays)
