"""Load a close's day view: the ingest validation, with reference tables validated once.

A reference table (customers, accounts, staff, …) whose files are byte-identical to the
last close's is not validated again: its clean rows, file records and quarantine lines are
taken from the state's cache (``ref/<table>-<key>.*``, the key a hash of the files and of
the table's contract), the rows as a view over the cached Parquet (a table the close does
not read, such as the income the value step needs, costs nothing). A changed file is
validated as ``load_dataset`` does and cached. The day's balances and the transactions are
always validated.

A file's sha256 is remembered with its size and modification time (``ref/hashes.json``):
an export rewritten daily gets a new modification time and is hashed again; one left in
place is not read to be recognised. A file whose modification time was within 3 s of its
hashing is always hashed again (file times advance in coarse ticks, so two writes in one
tick can leave the same size and time — git's "racy clean" rule).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd

from tierbook.ingest.contract import TABLES_BY_NAME, Table
from tierbook.ingest.dataset import (
    BALANCE_TABLES,
    KEYS_LEFT_TO_ENGINE,
    REQUIRED_TABLES,
    SMALL_ORDER,
    Dataset,
    FileRecord,
    _Loader,
    _referenced_columns,
)
from tierbook.ingest.quarantine import IngestError, combine
from tierbook.ingest.readers import Source, display_path, find_sources, sha256_file
from tierbook.ingest.sql import lit, run


def load_day_view(view: Path, con: Any, form: str, tables: Collection[str], cache: Path) -> Dataset:
    """``load_dataset(view, con, balances=form, tables=tables)``, reference tables cached."""
    hashes = _Hashes(cache / "hashes.json")
    sources = find_sources(view)
    missing = [t for t in (*REQUIRED_TABLES, BALANCE_TABLES[form]) if t not in sources]
    if missing:
        raise IngestError(view, f"required table missing: {', '.join(missing)}")
    run(con, "SET enable_progress_bar = false")
    loader = _Loader(view, con, uuid.uuid4().hex[:8], defer=())  # a day file: checked at load
    wanted = {*tables, *REQUIRED_TABLES, BALANCE_TABLES[form]}
    cache.mkdir(parents=True, exist_ok=True)
    for name in SMALL_ORDER:
        if name in sources and name in wanted:
            _reference(loader, TABLES_BY_NAME[name], sources[name], cache, hashes)
    hashes.save()
    for name in (BALANCE_TABLES[form], "transactions"):
        if name in sources and name in wanted:
            keys = name not in KEYS_LEFT_TO_ENGINE
            loader.load(TABLES_BY_NAME[name], sources[name], check_keys=keys)
    return Dataset(
        con,
        loader.tables,
        form,  # type: ignore[arg-type]
        loader.files,
        combine(loader.quarantines),
        loader.unchecked,
        loader.checked,
        view,
    )


RACY_NS = 3_000_000_000
"""A file modified less than this before its hash was taken is hashed again (file times
advance in coarse ticks: two writes in one tick can leave the same size and time)."""


class _Hashes:
    """sha256 of files by (real path, size, modification time in ns)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[str, list[Any]] = {}
        if path.exists():
            self.known = json.loads(path.read_text(encoding="utf-8"))
        self.used: dict[str, list[Any]] = {}

    def sha256(self, p: Path) -> str:
        real = p.resolve()
        st = real.stat()
        got = self.known.get(str(real))
        if (
            got is None
            or got[0] != st.st_size
            or got[1] != st.st_mtime_ns
            or st.st_mtime_ns + RACY_NS >= got[3]  # written just before it was hashed
        ):
            got = [st.st_size, st.st_mtime_ns, sha256_file(real), time.time_ns()]
        self.used[str(real)] = got
        return str(got[2])

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.used, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)


def _key(table: Table, source: Source, view: Path, hashes: _Hashes) -> str:
    h = hashlib.sha256(repr(table).encode())
    for p in source.paths:
        h.update(f"{display_path(p, view)}\0{hashes.sha256(p)}\n".encode())
    return h.hexdigest()[:20]


def _reference(loader: _Loader, table: Table, source: Source, cache: Path, hashes: _Hashes) -> None:
    key = _key(table, source, loader.data_dir, hashes)
    base = cache / f"{table.name}-{key}"
    rows, meta, lines = (base.with_suffix(s) for s in (".parquet", ".json", ".quarantine.parquet"))
    if rows.exists() and meta.exists() and lines.exists():
        name = f"tb_cached_{table.name}_{loader.tag}"
        run(
            loader.con,
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet({lit(str(rows))})",
        )
        loader.tables[table.name] = loader.con.table(name)
        for ref in _referenced_columns(table):
            loader.parents[f"{table.name}.{ref}"] = name
        for r in json.loads(meta.read_text(encoding="utf-8")):
            loader.files.append(FileRecord(**{**r, "path": loader.data_dir / r["path"]}))
        loader.quarantines.append(pd.read_parquet(lines))
        return
    loader.load(table, source, check_keys=True)
    for old in cache.glob(f"{table.name}-*"):
        old.unlink()
    clean = loader.checked[table.name].clean
    run(loader.con, f"COPY (SELECT * FROM {clean}) TO {lit(str(rows))} (FORMAT parquet)")
    records = [
        {**r.__dict__, "path": display_path(r.path, loader.data_dir)}
        for r in loader.files
        if r.table == table.name
    ]
    meta.write_text(json.dumps(records), encoding="utf-8")
    loader.quarantines[-1].to_parquet(lines, index=False)
