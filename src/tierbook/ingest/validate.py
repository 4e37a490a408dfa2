"""Set-based validation of one contract table in DuckDB: every error of every row, one
quarantine line each; a row with any error is set aside, every other row is kept, typed.

A staged source (``tierbook.ingest.stage``) becomes three relations:

- ``typed``: every contract column typed (``fields.typed_sql``) next to its text ``_t<i>``;
  materialised as a temp table for the small tables, a view over the scan for the large ones;
- ``chk``: ``typed`` plus one boolean per check, true when the row breaks it: cell checks
  (``REQUIRED``, ``BAD_DATE``...), row rules (identity numbers, signs, date order, capacity)
  and references (``UNKNOWN_REFERENCE``, an anti-join on the CLEAN parent table);
- ``clean``: the rows of ``chk`` with no check true and not among the duplicate lines.

Only the bad rows are materialised (``flagged``, ``dups``); the quarantine lines are built
from them in SQL. Duplicates (``DUPLICATE_ROW``: exact copies after the first, which is kept;
``DUPLICATE_KEY``: different rows sharing a key, all set aside) are found by a GROUP BY on the
key among the rows that passed the cell and row checks, then a join back for their lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from tierbook.ingest.contract import Table
from tierbook.ingest.fields import Check, column_checks, is_native, text_sql, typed_sql
from tierbook.ingest.identity_sql import identity_checks, identity_columns
from tierbook.ingest.quarantine import QUARANTINE_COLUMNS, empty_quarantine
from tierbook.ingest.sql import frame, lit, q, run, scalar, setting
from tierbook.ingest.stage import Raw

Sign = Literal[">=0", ">0"]

SIGN_RULES: dict[tuple[str, str], Sign] = {
    ("balances_daily", "balance"): ">=0",
    ("balance_events", "balance"): ">=0",
    ("transactions", "amount"): ">0",
    ("purchases", "amount"): ">0",
    ("purchases", "items"): ">0",
    ("purchases", "discount"): ">=0",
    ("income", "fee_waivers"): ">=0",
    ("income", "rate_premium"): ">=0",
}
"""Amount columns whose sign the contract fixes (NEGATIVE_AMOUNT when broken)."""

DATE_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "accounts": (("open_date", "maturity_date"), ("open_date", "close_date")),
    "staff": (("start_date", "end_date"),),
}
"""(earlier, later) date columns: the later one, when filled, must not precede the earlier."""

ROWS_PER_KEY_PASS = 2_500_000
"""Rows per slice of the GROUP BY on key hashes (about 100 MB of DuckDB hash table)."""

DUP_ROW = "exact copy of an earlier row (same {} and values); the first is kept"
DUP_KEY = "{} different rows share this {}; all set aside"


@dataclass
class Checked:
    """A validated table's relations, kept so that duplicate keys can be checked later."""

    table: Table
    chk: str  # typed columns, _file, _sheet, _line, _rid and the check booleans
    checks: list[Check]
    field_ok: str  # SQL: no cell or row check failed (the rows the key check compares)
    flagged: str  # temp table: _rid, _file... and the checks of the rows failing a check
    dups: str  # temp table: the duplicate lines (_rid, _file, _sheet, _line, _same, _n)
    out: str  # temp table: _rid of every row set aside (flagged or duplicate)
    typed: str  # relation with the typed columns and _rid (the clean rows are taken from it)
    clean: str
    materialised: bool
    version: int = 0
    store: str = ""  # small tables: the stored typed rows
    scan: str = ""  # large tables: typed rows and ``_bad`` (a cell or row check fails)
    scan_as_read: bool = False  # ``scan`` reads the source itself (``_fast_scan``)
    raw: Raw | None = None
    pending: bool = False  # prepared, no row looked at yet (``validate(defer=True)``)
    check_keys: bool = True


@dataclass
class Validated:
    checked: Checked
    quarantine: pd.DataFrame
    quarantined_rows: dict[str, int]


def validate(
    con: Any,
    table: Table,
    raw: Raw,
    parents: dict[str, str],
    *,
    check_keys: bool,
    materialise: bool,
    defer: bool = False,
) -> Validated:
    """Validate staged ``raw``; ``parents`` maps ``"table.column"`` to the clean relation of
    that table. ``materialise`` stores the clean rows as a temp table and drops the rest
    (small tables); otherwise the clean rows stay a view over the scan.
    ``check_keys=False`` leaves duplicates in.

    ``defer`` (large tables): the relations are made but no row is looked at yet. The
    table stays ``Checked.pending``: its ``clean`` view evaluates every check as it reads
    (correct, slower), and ``scan`` gives the typed rows with ``_bad``, true when a cell or
    row check fails, for a caller that counts the rows passing in its own scan and then
    calls ``settle`` (see ``Dataset.settle``)."""
    state = _prepare(con, table, raw, parents, materialise=materialise)
    if defer and not materialise:
        state.pending, state.check_keys = True, check_keys
        state.clean = _pending_clean(con, state)
        return Validated(state, empty_quarantine(), {})
    return finish(con, state, raw, check_keys=check_keys)


def _prepare(
    con: Any, table: Table, raw: Raw, parents: dict[str, str], *, materialise: bool
) -> Checked:
    """The typed and check relations of ``raw`` (views; a small table's are stored)."""
    base = raw.name.replace("tb_raw_", "", 1)
    typed, chk = f"tb_typed_{base}", f"tb_chk_{base}"
    checks, identity = _typed_relation(con, table, raw, typed)
    checks += _row_checks(table, identity)
    field_ok = _none(checks)
    row_bad = " OR ".join(f"({c.sql})" for c in checks) or "false"
    checks += _reference_checks(table, parents)
    flags = ", ".join(f"{c.sql} AS {q(c.name)}" for c in checks)
    keep = ", ".join([*(q(c) for c in table.names), "_file", "_sheet", "_line", "_rid"])
    store = f"tb_store_{base}"
    scan, fast = "", None
    if materialise:  # typed values and flags computed once, stored in file order
        _store(con, raw, store, chk, typed, table, flags)
    else:
        run(con, f"CREATE OR REPLACE TEMP VIEW {chk} AS SELECT {keep}, {flags} FROM {typed}")
        scan = f"tb_scan_{base}"
        fast = _fast_scan(table, raw, parents)
        names = ", ".join(q(c) for c in table.names)
        body = fast or f"SELECT {names}, ({row_bad}) AS _bad FROM {typed}"
        run(con, f"CREATE OR REPLACE TEMP VIEW {scan} AS {body}")
    return Checked(
        table,
        chk,
        checks,
        field_ok,
        f"tb_flagged_{base}",
        f"tb_dups_{base}",
        f"tb_out_{base}",
        chk if materialise else typed,
        "",
        materialise,
        store=store,
        scan=scan,
        scan_as_read=materialise is False and fast is not None,
        raw=raw,
    )


_ENGINE_TYPES = {"date": "DATE", "decimal": "DOUBLE", "int": "BIGINT"}


def _fast_scan(table: Table, raw: Raw, parents: dict[str, str]) -> str | None:
    """SQL of a large table's ``scan`` read straight from the source, or None when some
    column needs its text step (stripping, parsing) or a row rule other than a sign.

    Every column must be stored natively (dates, numbers: typed without text) or be a text
    key referring to a loaded parent table; the key is taken as read, not stripped. The
    caller counts a row good only when that key is among the clean parent keys, which are
    stripped and never empty, so a key as read that matches one is itself stripped and
    filled: REQUIRED and UNKNOWN_REFERENCE pass, and the row's values are its clean values.
    A key that would need stripping matches none: the row counts as bad, and the full
    checks (which strip it) decide. ``_bad`` is never NULL."""
    if raw.has_skip or table.name in DATE_ORDER or table.name == "staff":
        return None  # cells refused by the reader, row rules beyond signs: typed relation
    values, ok = [], []
    for column in table.columns:
        x, src = q(column.name), raw.types.get(column.name, "VARCHAR")
        if is_native(column, src) and column.references is None:
            typed = typed_sql(column, x, src)
            sign = SIGN_RULES.get((table.name, column.name))
            test = f"{typed} {'>=' if sign == '>=0' else '>'} 0" if sign else f"{typed} IS NOT NULL"
            ok.append(test if column.required else f"({x} IS NULL OR {test})")  # NULL: bad
            # A value stored as the contract's own type is its typed value when the row is
            # good (a double is typed when finite): read as it is.
            same = _ENGINE_TYPES.get(column.type) == src.upper()
            values.append(x if same else f"{typed} AS {x}")
        elif column.type == "id_text" and src.upper() == "VARCHAR" and column.references in parents:
            values.append(x)
        else:
            return None
    good = " AND ".join(ok) or "TRUE"
    return f"SELECT {', '.join(values)}, NOT coalesce({good}, false) AS _bad FROM {raw.name}"


def finish(con: Any, state: Checked, raw: Raw, *, check_keys: bool) -> Validated:
    """Look at every row of a prepared table: the rows failing a check (``flagged``), the
    duplicate lines, the quarantine lines and the clean relation."""
    table, checks, chk = state.table, state.checks, state.chk
    state.pending = False
    any_bad = " OR ".join(q(c.name) for c in checks) or "false"
    cols = ", ".join(q(c.name) for c in checks)
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {state.flagged} AS SELECT _rid, _file, _sheet, _line"
        f"{', ' if cols else ''}{cols} FROM {chk} WHERE {any_bad}",
    )
    _empty_dups(con, state)
    if check_keys:
        total = sum(raw.rows_read.values())
        find_duplicates(con, state, state.dups, passes=max(1, -(-total // ROWS_PER_KEY_PASS)))
    lines = [
        raw.reader_quarantine,
        _check_lines(con, table, state),
        dup_lines(con, table, state.dups),
    ]
    quarantine = pd.concat([x for x in lines if len(x)] or [empty_quarantine()], ignore_index=True)
    counts = _bad_rows(con, state)
    for file, n in raw.unstaged.items():
        counts[file] = counts.get(file, 0) + n
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {state.out} AS SELECT _rid FROM {state.flagged} "
        f"UNION SELECT _rid FROM {state.dups}",
    )
    if state.materialised:  # the stored rows less those set aside are the clean table
        store = state.store
        rid = "rowid" if raw.rowid_lines else "_rid"
        run(con, f"DELETE FROM {store} WHERE {rid} IN (SELECT _rid FROM {state.out})")
        stored = [r[0] for r in run(con, f"DESCRIBE {store}").fetchall()]
        for column in (c for c in stored if c not in table.names):  # flags: no longer needed
            run(con, f"ALTER TABLE {store} DROP COLUMN {q(column)}")
        typed = state.typed
        state.typed = store
        state.clean = make_clean(con, state)
        drop = [f"TABLE {t}" for t in (state.out, state.dups, state.flagged)]
        for what in (*drop, f"VIEW {chk}", f"VIEW {typed}", *reversed(raw.temp)):
            _drop(con, what)
    else:
        state.clean = make_clean(con, state)
    return Validated(state, quarantine[list(QUARANTINE_COLUMNS)], counts)


def settle_clean(con: Any, state: Checked) -> None:
    """A pending table that the caller's scan proved clean (no row fails a cell or row
    check or refers to an unknown parent): nothing flagged, the clean rows are the typed
    rows. Duplicate keys are left as ``check_keys`` was (the engine looks for them)."""
    cols = ", ".join(q(c.name) for c in state.checks)
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {state.flagged} AS SELECT _rid, _file, _sheet, _line"
        f"{', ' if cols else ''}{cols} FROM {state.chk} LIMIT 0",
    )
    _empty_dups(con, state)
    run(con, f"CREATE OR REPLACE TEMP TABLE {state.out} (_rid BIGINT)")
    state.pending = False
    state.clean = make_clean(con, state)
    if state.scan_as_read:  # every row proved clean: its values as read are its clean values
        cols = ", ".join(q(c) for c in state.table.names)
        run(con, f"CREATE OR REPLACE TEMP VIEW {state.clean} AS SELECT {cols} FROM {state.scan}")


def _empty_dups(con: Any, state: Checked) -> None:
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {state.dups} (_rid BIGINT, _file VARCHAR, _sheet VARCHAR, "
        "_line BIGINT, _same BOOLEAN, _n BIGINT)",
    )


def _pending_clean(con: Any, state: Checked) -> str:
    """The clean view of a pending table: the rows of ``chk`` failing no check (every check
    evaluated as the view is read)."""
    name = state.chk.replace("tb_chk_", "tb_unsettled_", 1)
    cols = ", ".join(q(c) for c in state.table.names)
    none_bad = _none(state.checks)
    run(
        con,
        f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} FROM {state.chk} WHERE {none_bad}",
    )
    return name


def _store(con: Any, raw: Raw, store: str, chk: str, typed: str, table: Table, flags: str) -> None:
    """Store the typed values and flags of every row in file order (one parallel pass) and
    make ``chk`` read them. A CSV read by DuckDB stores neither its file name nor its lines:
    ``chk`` numbers the rows from their ``rowid`` (``Raw.rowid_lines``)."""
    names = ", ".join(q(c) for c in table.names)
    meta = "_blank" if raw.rowid_lines else "_file, _sheet, _line, _rid"
    with setting(con, "preserve_insertion_order", "true"):
        run(
            con,
            f"CREATE OR REPLACE TEMP TABLE {store} AS SELECT {names}, {meta}, {flags} FROM {typed}",
        )
    if not raw.rowid_lines:
        run(con, f"CREATE OR REPLACE TEMP VIEW {chk} AS SELECT * FROM {store}")
        return
    join, shift = raw.rowid_lines
    file = lit(next(iter(raw.rows_read)))
    run(con, f"DELETE FROM {store} WHERE _blank")
    run(
        con,
        f"CREATE OR REPLACE TEMP VIEW {chk} AS SELECT c.* EXCLUDE (_blank, _k), {file} AS _file, "
        f"CAST(NULL AS VARCHAR) AS _sheet, c._k + 2 + {shift} AS _line, c._k AS _rid "
        f"FROM (SELECT *, rowid AS _k FROM {store}) c {join}",
    )


# --- the typed relation and the checks --------------------------------------------------------


def _drop(con: Any, what: str) -> None:
    kind, name = what.split(" ", 1)
    run(con, f"DROP {kind} IF EXISTS {name}")


def _typed_relation(con: Any, table: Table, raw: Raw, typed: str) -> tuple[list[Check], bool]:
    """Create view ``typed``; return the cell checks (over it) and whether it has the
    identity columns (customers)."""
    inner, outer, checks = [], [], []
    for i, column in enumerate(table.columns):
        src = raw.types.get(column.name, "VARCHAR")
        t = q(column.name) if is_native(column, src) else text_sql(column, src)
        if raw.has_skip:  # a cell the reader refused: not checked again, typed NULL
            skipped = f"contains(coalesce(_skip, ''), {lit(',' + column.name + ',')})"
            inner.append(f"{skipped} AS _k{i}")
            outer.append(f"_k{i}")
            t = f"CASE WHEN {skipped} THEN NULL ELSE {t} END"
        inner.append(f"{t} AS _t{i}")
        outer += [f"_t{i}", f"{typed_sql(column, f'_t{i}', src)} AS {q(column.name)}"]
        for c in column_checks(column, f"_t{i}", q(column.name), src, i):
            sql = f"{c.sql} AND NOT _k{i}" if raw.has_skip else c.sql  # never NULL
            checks.append(Check(c.name, c.column, c.code, c.reason, sql))
    identity = False
    if table.name == "customers":
        number = f"upper(_t{table.names.index('id_number')})"
        kind = typed_sql(table.column("kind"), f"_t{table.names.index('kind')}")
        outer += [f"{sql} AS {n}" for n, sql in identity_columns(number, kind).items()]
        identity = True
    meta = ["_file", "_sheet", "_line", "_rid"] + (["_blank"] if raw.rowid_lines else [])
    if raw.has_skip:
        inner.append("_skip IS NOT NULL AS _e_reader")
        outer.append("_e_reader")
        checks.append(Check("_e_reader", "", "NUMERIC_ID_CELL", "", "_e_reader"))
    run(
        con,
        f"CREATE OR REPLACE TEMP VIEW {typed} AS "
        f"SELECT {', '.join(outer + meta)} FROM (SELECT {', '.join(inner + meta)} FROM {raw.name})",
    )
    return checks, identity


def _row_checks(table: Table, identity: bool) -> list[Check]:
    checks: list[Check] = []
    for column in table.columns:
        sign = SIGN_RULES.get((table.name, column.name))
        if sign:
            op = "<" if sign == ">=0" else "<="
            why = f"{column.name} must be {sign[:-1]} 0"
            sql = f"{q(column.name)} IS NOT NULL AND {q(column.name)} {op} 0"
            checks.append(Check(f"_r_sign_{column.name}", column.name, "NEGATIVE_AMOUNT", why, sql))
    for early, late in DATE_ORDER.get(table.name, ()):
        sql = f"{q(late)} IS NOT NULL AND {q(early)} IS NOT NULL AND {q(late)} < {q(early)}"
        why = f"{late} is before {early}"
        checks.append(Check(f"_r_order_{late}", late, "DATE_ORDER", why, sql))
    if table.name == "staff":
        checks.append(
            Check(
                "_r_capacity",
                "capacity",
                "BAD_CAPACITY",
                "capacity must be greater than 0",
                "capacity IS NOT NULL AND capacity <= 0",
            )
        )
        why = "branch_id may be empty only for personal_banking staff"
        sql = "branch_id IS NULL AND role IS NOT NULL AND role <> 'personal_banking'"
        checks.append(Check("_r_branch", "branch_id", "REQUIRED", why, sql))
    if identity:
        checks += identity_checks("id_number", "kind", "birth_date", "_born", "_check")
    return checks


def _reference_checks(table: Table, parents: dict[str, str]) -> list[Check]:
    checks = []
    for column in table.columns:
        if column.references is None:
            continue
        parent_table, key = column.references.split(".")
        x = q(column.name)
        parent = parents.get(column.references)
        sql = f"{x} IS NOT NULL"
        if parent:
            keys = f"SELECT {q(key)} FROM {parent} WHERE {q(key)} IS NOT NULL"
            sql = f"{x} IS NOT NULL AND {x} NOT IN ({keys})"
        why = f"{column.name} refers to a {parent_table} row that does not exist or was quarantined"
        checks.append(Check(f"_x_{column.name}", column.name, "UNKNOWN_REFERENCE", why, sql))
    return checks


def _none(checks: list[Check]) -> str:
    """SQL: none of ``checks`` failed."""
    return " AND ".join(f"NOT {q(c.name)}" for c in checks) or "TRUE"


# --- duplicates ------------------------------------------------------------------------------


def find_duplicates(
    con: Any, state: Checked, out: str, *, restrict: str = "TRUE", passes: int = 1
) -> None:
    """Insert into ``out`` the duplicate lines among the rows of ``state.chk`` that passed the
    cell and row checks and match ``restrict`` (lines already in ``state.dups`` excepted).

    The first GROUP BY is on the 64-bit hash of the key of every row of ``state.typed``
    (checked or not, so no check and no reference join is evaluated), in ``passes``
    slices: a small hash table of integers whatever the key, and few groups of more than
    one row (a collision only adds candidates). The rows of
    those groups are then checked and compared exactly, by key and values.
    """
    table = state.table
    key = ", ".join(q(c) for c in table.key)
    ok = f"{state.field_ok} AND {restrict}"
    cand, rows, keys = f"{out}_cand", f"{out}_rows", f"{out}_keys"
    run(con, f"CREATE OR REPLACE TEMP TABLE {cand} (h UBIGINT)")
    for part in range(passes):
        sliced = f" AND hash({key}) % {passes} = {part}" if passes > 1 else ""
        run(
            con,
            f"INSERT INTO {cand} SELECT hash({key}) AS h FROM {state.typed} WHERE {restrict}"
            f"{sliced} GROUP BY h HAVING count(*) > 1",
        )
    if not scalar(con, f"SELECT count(*) FROM {cand}"):
        run(con, f"DROP TABLE {cand}")
        return
    names = ", ".join(q(c) for c in table.names)
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT {names}, _rid, _file, _sheet, _line "
        f"FROM {state.chk} WHERE {ok} AND hash({key}) IN (SELECT h FROM {cand})",
    )
    values = [c for c in table.names if c not in table.key]
    same = (
        " AND ".join(
            f"min({q(c)}) IS NOT DISTINCT FROM max({q(c)}) AND count({q(c)}) IN (0, count(*))"
            for c in values
        )
        or "TRUE"
    )
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {keys} AS SELECT {key}, ({same}) AS _same, "
        f"count(*) AS _n FROM {rows} GROUP BY {key} HAVING count(*) > 1",
    )
    join = " AND ".join(f"c.{q(c)} = d.{q(c)}" for c in table.key)
    part = ", ".join(f"c.{q(c)}" for c in table.key)
    ranked = (
        f"SELECT c._rid, c._file, c._sheet, c._line, d._same, d._n, row_number() OVER "
        f"(PARTITION BY {part} ORDER BY c._rid) AS _rn FROM {rows} c JOIN {keys} d ON {join}"
    )
    run(
        con,
        f"INSERT INTO {out} SELECT _rid, _file, _sheet, _line, _same, _n FROM ({ranked}) "
        f"WHERE (NOT _same OR _rn > 1) AND _rid NOT IN (SELECT _rid FROM {state.dups})",
    )
    run(con, f"DROP TABLE {keys}; DROP TABLE {rows}; DROP TABLE {cand}")


def dup_lines(con: Any, table: Table, dups: str) -> pd.DataFrame:
    """The quarantine lines of the duplicate rows in ``dups``."""
    key = ", ".join(table.key)
    row = lit(DUP_ROW.format(key))
    count = lit(DUP_KEY.format("%d", key))
    return _fetch_lines(
        con,
        table,
        f"SELECT _file, _sheet, _line, {lit(key)} AS col, CASE WHEN _same THEN 'DUPLICATE_ROW' "
        f"ELSE 'DUPLICATE_KEY' END AS code, CASE WHEN _same THEN {row} ELSE printf({count}, _n) "
        f"END AS reason FROM {dups}",
    )


def make_clean(con: Any, state: Checked) -> str:
    """(Re)create the clean relation, a view. A small table's is its stored rows (those set
    aside deleted already); a large table's is a view over its scan: no check is evaluated
    again, only an anti-join on the (few) row ids set aside, left out when there are none."""
    state.version += 1
    name = state.chk.replace("tb_chk_", "tb_clean_", 1)
    name = name if state.version == 1 else f"{name}_v{state.version}"
    cols = ", ".join(f"c.{q(c)}" for c in state.table.names)
    anti = ""
    if not state.materialised and scalar(con, f"SELECT count(*) FROM {state.out}"):
        anti = f" ANTI JOIN {state.out} o ON c._rid = o._rid"
    run(con, f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} FROM {state.typed} c{anti}")
    return name


# --- quarantine lines ------------------------------------------------------------------------


def _check_lines(con: Any, table: Table, state: Checked) -> pd.DataFrame:
    parts = [
        f"SELECT _file, _sheet, _line, {lit(c.column)} AS col, {lit(c.code)} AS code, "
        f"{lit(c.reason)} AS reason FROM {state.flagged} WHERE {q(c.name)}"
        for c in state.checks
        if c.name != "_e_reader"
    ]
    return _fetch_lines(con, table, " UNION ALL ".join(parts)) if parts else empty_quarantine()


def _fetch_lines(con: Any, table: Table, sql: str) -> pd.DataFrame:
    got = frame(con, sql)
    if got.empty:
        return empty_quarantine()
    return pd.DataFrame(
        {
            "table": table.name,
            "file": got["_file"].astype(object).to_numpy(),
            "sheet": got["_sheet"].astype(object).where(got["_sheet"].notna(), None).to_numpy(),
            "line": got["_line"].astype("int64").to_numpy(),
            "column": got["col"].astype(object).to_numpy(),
            "code": got["code"].astype(object).to_numpy(),
            "reason": got["reason"].astype(object).to_numpy(),
        }
    )


def _bad_rows(con: Any, state: Checked) -> dict[str, int]:
    rows = run(
        con,
        f"SELECT _file, count(DISTINCT _rid) FROM (SELECT _file, _rid FROM {state.flagged} "
        f"UNION ALL SELECT _file, _rid FROM {state.dups}) GROUP BY _file",
    ).fetchall()
    return {str(f): int(n) for f, n in rows}
