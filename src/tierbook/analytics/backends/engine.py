"""Backend-neutral access to the chosen engine: results as Arrow record batches, and the
validated input tables put where the engine reads them (``CAPABILITIES[...].inputs``)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from tierbook.analytics.backends import duckdb as duck
from tierbook.analytics.backends.capabilities import Capabilities, capabilities

IBIS_NAMES = {"duckdb": "duckdb", "postgres": "postgres", "pyspark": "spark"}


def engine_of(con: Any) -> Capabilities:
    """The capabilities of the engine behind an Ibis backend."""
    try:
        return capabilities(IBIS_NAMES[con.name])
    except KeyError:
        raise ValueError(f"Ibis backend {con.name!r} is not a tierbook engine") from None


def record_batches(con: Any, expr: Any, rows: int = 256_000) -> Any:
    """``expr``'s result as an iterable of Arrow record batches, on any engine."""
    if engine_of(con).streaming == "duckdb_reader":
        return duck.record_batches(con, expr, rows)
    return con.to_pyarrow_batches(expr, chunk_size=rows)


class OnEngine:
    """A loaded ``Dataset`` whose tables live on another engine. Everything but ``con``,
    ``tables``, ``check_keys_for`` (and, for tables read in place, ``files`` and
    ``quarantine``) is the dataset's own.

    A table is put on the engine when first used. ``check_keys_for`` runs on the ingest's
    DuckDB; the table is then put again, so the engine sees the rows that remain. With
    ``schema``, the large tables are the database's own, checked there (``in_place``)."""

    def __init__(self, ds: Any, con: Any, placer: _Placer, schema: str | None = None) -> None:
        self._ds, self.con, self._placer, self._schema = ds, con, placer, schema
        self._in_place: dict[str, Any] = {}
        self._lines: list[pd.DataFrame] = []
        self.tables = _Placed(ds.tables, self._put)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ds, name)

    @property
    def balances(self) -> Any:
        from tierbook.ingest.dataset import BALANCE_TABLES

        return self.tables[BALANCE_TABLES[self._ds.balance_form]]

    @property
    def quarantine(self) -> pd.DataFrame:
        from tierbook.ingest.quarantine import combine

        return combine([self._ds.quarantine, *self._lines]) if self._lines else self._ds.quarantine

    @property
    def files(self) -> list[Any]:
        return [self._in_place.get(f.table, f) for f in self._ds.files]

    def check_keys_for(self, table: str, account_ids: Any) -> int:
        if table in self._in_place:
            return 0  # duplicate keys were set aside in the database already
        added = int(self._ds.check_keys_for(table, account_ids))
        if added:
            self.tables.forget(table)
        return added

    def close(self) -> None:
        """Delete the Parquet files staged for Spark (the folder too, if tierbook made it)."""
        self._placer.clean_up()

    def _put(self, name: str, table: Any) -> Any:
        from tierbook.ingest.contract import TABLES_BY_NAME

        if self._schema is None or not TABLES_BY_NAME[name].large:
            return self._placer.put(name, table)
        from tierbook.analytics.backends import postgres

        clean, lines = postgres.in_place(self.con, name, self._schema, self.tables["accounts"])
        read, kept = (
            int(self.con.table(name, database=self._schema).count().execute()),
            int(clean.count().execute()),
        )
        record = next(f for f in self._ds.files if f.table == name)
        where = Path(f"postgresql:{self._schema}.{name}")
        self._in_place[name] = replace(
            record,
            path=where,
            sha256="",
            rows_read=read,
            rows_loaded=kept,
            rows_quarantined=read - kept,
        )
        self._lines.append(lines)
        return clean


class _Placed(Mapping[str, Any]):
    """The dataset's tables, each put on the engine on first access."""

    def __init__(self, source: dict[str, Any], put: Callable[[str, Any], Any]) -> None:
        self._source, self._put, self._done = source, put, {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._done:
            self._done[name] = self._put(name, self._source[name])
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)

    def forget(self, name: str) -> None:
        self._done.pop(name, None)


class _Placer:
    """Puts one validated DuckDB relation on the engine (a new name each time)."""

    def __init__(self, ingest_con: Any, con: Any, staging: Path | None) -> None:
        self.ingest_con, self.con = ingest_con, con
        self.caps = engine_of(con)
        self.tag = uuid.uuid4().hex[:8]
        self.staging = staging
        self._n, self._made = 0, False

    def put(self, name: str, table: Any) -> Any:
        self._n += 1
        new = f"tb_{name}_{self.tag}_{self._n}"
        if "parquet" in self.caps.inputs:
            from tierbook.analytics.backends import spark

            path = self._staging_dir() / f"{new}.parquet"
            self.ingest_con.to_parquet(table, path)
            return spark.read_parquet(self.con, path, new, table.schema())
        from tierbook.analytics.backends import postgres

        batches = duck.record_batches(self.ingest_con, table)
        return postgres.copy_in(self.con, new, table.schema(), batches)

    def _staging_dir(self) -> Path:
        if self.staging is None:
            self.staging = Path(tempfile.mkdtemp(prefix="tierbook-spark-"))  # mode 0700
            self._made = True
        self.staging.mkdir(parents=True, exist_ok=True)
        return self.staging

    def clean_up(self) -> None:
        if self.staging is None:
            return
        if self._made:
            shutil.rmtree(self.staging, ignore_errors=True)
        else:
            for path in self.staging.glob(f"tb_*_{self.tag}_*.parquet"):
                path.unlink(missing_ok=True)


def on_engine(ds: Any, con: Any, *, staging: Path | None = None, schema: str | None = None) -> Any:
    """``ds`` with its validated tables on ``con``'s engine (``ds`` itself on DuckDB).

    Spark reads the validated rows as Parquet written under ``staging`` (on a cluster: a
    path every executor can read, e.g. a shared mount); PostgreSQL receives them by COPY
    into temporary tables of the session; with ``schema`` (``--source``) it keeps the large
    tables where they are, checked in the database."""
    if "ingest" in engine_of(con).inputs:
        return ds
    return OnEngine(ds, con, _Placer(ds.con, con, staging), schema)
