"""Writers of the demo bank's files: CSV tables typed by the data contract, Parquet parts.

CSV: UTF-8, header once, ISO dates, money with two decimals, empty cell = missing.
Parquet: one ``part-NNNNN.parquet`` per chunk with ``account_id`` string, ``date`` date32
and ``balance``/``amount`` float64, sorted by account and date.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tierbook.ingest.contract import COUNTERPARTY_TYPES, DIRECTIONS, TABLES_BY_NAME, TXN_CHANNELS

if TYPE_CHECKING:
    from tierbook.demo.txns import Txns

CSV_TABLES = ("branches", "staff", "customers", "accounts", "income", "referrals", "truth/labels")
LARGE = {"daily": "balances_daily", "events": "balance_events"}
_ARROW = {
    "text": pa.string(),
    "id_text": pa.string(),
    "enum": pa.string(),
    "month": pa.string(),
    "int": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "date": pa.date32(),
    "bool": pa.bool_(),
}
_LABELS = pa.schema([("customer_id", pa.string()), ("label", pa.string()), ("detail", pa.string())])


def csv_schema(table: str) -> pa.Schema:
    if table == "truth/labels":
        return _LABELS
    return pa.schema([(c.name, _ARROW[c.type]) for c in TABLES_BY_NAME[table].columns])


class Writers:
    """Open files of one demo directory; call ``close`` at the end."""

    def __init__(self, out: Path, forms: set[str]) -> None:
        self.out = out
        self.forms = forms
        self.paths: dict[str, Path] = {}
        self.rows: dict[str, int] = {}
        out.mkdir(parents=True, exist_ok=True)
        (out / "truth").mkdir(exist_ok=True)
        large = [LARGE[f] for f in sorted(forms)] + ["transactions"]
        for name in ("balances_daily", "balance_events", "transactions"):
            folder = out / name
            for old in folder.glob("part-*.parquet") if folder.exists() else ():
                old.unlink()  # parts of an earlier, larger run must not linger
            if name in large:
                folder.mkdir(exist_ok=True)
                self.paths[name] = folder
                self.rows[name] = 0
        self._csv: dict[str, pacsv.CSVWriter] = {}
        for table in CSV_TABLES:
            path = out / f"{table}.csv"
            self.paths[table] = path
            self.rows[table] = 0
            self._csv[table] = pacsv.CSVWriter(
                str(path),
                csv_schema(table),
                write_options=pacsv.WriteOptions(quoting_style="needed"),
            )

    def write_csv_columns(self, table: str, columns: dict[str, list[object]]) -> None:
        schema = csv_schema(table)
        arrays = []
        for f in schema:
            values = columns[f.name]
            if pa.types.is_decimal(f.type):
                arr = pa.array(values, pa.float64()).cast(f.type)
            elif pa.types.is_date(f.type):
                arr = pa.array(values, pa.string()).cast(pa.date32())
            else:
                arr = pa.array(values, f.type)
            arrays.append(arr)
        tbl = pa.Table.from_arrays(arrays, schema=schema)
        self._csv[table].write_table(tbl)
        self.rows[table] += tbl.num_rows

    def write_csv_rows(self, table: str, rows: list[dict[str, object]]) -> None:
        names = csv_schema(table).names
        self.write_csv_columns(table, {k: [r[k] for r in rows] for k in names})

    def _part(self, name: str, chunk: int, tbl: pa.Table) -> None:
        pq.write_table(tbl, self.out / name / f"part-{chunk:05d}.parquet", compression="snappy")
        self.rows[name] += tbl.num_rows

    def write_balances(
        self,
        name: str,
        chunk: int,
        acct_ids: pa.Array,
        rows: tuple[np.ndarray, np.ndarray, np.ndarray],
        epoch: int,
    ) -> None:
        a, d, balance = rows
        tbl = pa.table(
            {
                "account_id": acct_ids.take(pa.array(a.astype(np.int64))),
                "date": pa.array((d + epoch).astype(np.int32)).cast(pa.date32()),
                "balance": pa.array(balance.astype(np.float64)),
            }
        )
        self._part(name, chunk, tbl)

    def write_txns(self, chunk: int, acct_ids: pa.Array, t: Txns, offset: int, epoch: int) -> None:
        seq = pa.array(np.arange(offset + 1, offset + 1 + len(t.acct), dtype=np.int64))
        txn_id = pc.binary_join_element_wise(
            "T", pc.utf8_lpad(pc.cast(seq, pa.string()), 12, "0"), ""
        )
        tbl = pa.table(
            {
                "txn_id": txn_id,
                "account_id": acct_ids.take(pa.array(t.acct.astype(np.int64))),
                "date": pa.array((t.day + epoch).astype(np.int32)).cast(pa.date32()),
                "amount": pa.array(t.amount.astype(np.float64)),
                "direction": pa.array(DIRECTIONS).take(pa.array(t.out.astype(np.int8))),
                "channel": pa.array(TXN_CHANNELS).take(pa.array(t.channel.astype(np.int8))),
                "counterparty_type": pa.array(COUNTERPARTY_TYPES).take(
                    pa.array(t.cp.astype(np.int8))
                ),
            }
        )
        self._part("transactions", chunk, tbl)

    def close(self) -> None:
        for w in self._csv.values():
            w.close()
