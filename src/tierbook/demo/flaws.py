"""Planted input flaws: a real export is never clean, and the demo shows what the ingest does.

After the demo bank is written, a handful of bad rows are appended to its files, one per
kind of error the data contract names. Each is listed with the error code the ingest must
give it in ``truth/flaws.csv`` (never read by the engine), so tests and a curious analyst can
check that every flaw — and nothing else — lands in the quarantine.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tierbook.domain.identity import resident_id_check_char

FLAW_PART = "part-99999.parquet"


@dataclass(frozen=True)
class Flaw:
    table: str
    key: str
    column: str
    code: str


def _bad_check_char(body17: str) -> str:
    good = resident_id_check_char(body17)
    return "1" if good != "1" else "2"


def plant_flaws(out: Path, year: int) -> list[Flaw]:
    """Append the flawed rows to the demo bank in ``out``; return what was planted."""
    customers = _head(out / "customers.csv", {"customer_id": pa.string(), "branch_id": pa.string()})
    accounts = _head(out / "accounts.csv", {"account_id": pa.string(), "customer_id": pa.string()})
    branch = customers.column("branch_id")[0].as_py()
    template = dict.fromkeys(customers.column_names, "")
    body = "11010519800101001"
    day = date(year, 3, 15).isoformat()
    person = {
        **template,
        "kind": "individual",
        "name": "测试",
        "branch_id": branch,
        "open_date": day,
        "birth_date": "1980-01-01",
        "id_number": body + resident_id_check_char(body),
    }
    bad_customers = [
        (
            {**person, "customer_id": "CX0000001", "id_number": body + _bad_check_char(body)},
            "id_number",
            "ID_CHECKSUM",
        ),
        ({**person, "customer_id": "CX0000002", "phone": "12345"}, "phone", "MOBILE_FORMAT"),
        (
            {**person, "customer_id": "CX0000003", "open_date": f"{year}-02-30"},
            "open_date",
            "BAD_DATE",
        ),
        (
            {**person, "customer_id": "CX0000004", "branch_id": "B999"},
            "branch_id",
            "UNKNOWN_REFERENCE",
        ),
    ]
    first = {
        k: ("" if v is None else str(v)) for k, v in customers.slice(0, 1).to_pylist()[0].items()
    }
    flaws = [Flaw("customers", row["customer_id"], col, code) for row, col, code in bad_customers]
    flaws.append(Flaw("customers", first["customer_id"], "", "DUPLICATE_ROW"))
    _append_csv(out / "customers.csv", customers.column_names, [row for row, _, _ in bad_customers])
    _append_raw_line(out / "customers.csv", _first_data_line(out / "customers.csv"))

    acct = dict.fromkeys(accounts.column_names, "")
    owner = customers.column("customer_id")[0].as_py()
    acct.update(customer_id=owner, product_type="demand_deposit", open_date=day)
    bad_accounts = [
        (
            {**acct, "account_id": "AX000000001", "customer_id": "CX9999999"},
            "customer_id",
            "UNKNOWN_REFERENCE",
        ),
        (
            {**acct, "account_id": "AX000000002", "product_type": "bitcoin"},
            "product_type",
            "BAD_ENUM",
        ),
        (
            {
                **acct,
                "account_id": "AX000000003",
                "product_type": "time_deposit",
                "maturity_date": f"{year}-01-15",
            },
            "maturity_date",
            "DATE_ORDER",
        ),
    ]
    _append_csv(out / "accounts.csv", accounts.column_names, [r for r, _, _ in bad_accounts])
    flaws += [Flaw("accounts", r["account_id"], col, code) for r, col, code in bad_accounts]

    flaws += _plant_balance_flaws(out, accounts.column("account_id")[0].as_py(), year)
    with (out / "truth" / "flaws.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["table", "key", "column", "code"])
        w.writerows((f.table, f.key, f.column, f.code) for f in flaws)
    return flaws


def _plant_balance_flaws(out: Path, account_id: str, year: int) -> list[Flaw]:
    """A negative balance, and one day given twice with two different balances."""
    flaws = []
    for folder in ("balances_daily", "balance_events"):
        if not (out / folder).is_dir():
            continue
        rows = {
            "account_id": [account_id, account_id],
            "date": [date(year, 6, 30), date(year, 7, 1)],
            "balance": [-100.0, 1.0],
        }
        if folder == "balances_daily":
            # 1 July is already in the file for this account: a conflicting duplicate day.
            flaws.append(Flaw(folder, f"{account_id}@{year}-07-01", "", "DUPLICATE_KEY"))
        else:
            rows = {k: v[:1] for k, v in rows.items()}
        flaws.append(Flaw(folder, f"{account_id}@{year}-06-30", "balance", "NEGATIVE_AMOUNT"))
        schema = pa.schema(
            [("account_id", pa.string()), ("date", pa.date32()), ("balance", pa.float64())]
        )
        pq.write_table(pa.table(rows, schema=schema), out / folder / FLAW_PART)
    return flaws


def _head(path: Path, types: dict[str, pa.DataType]) -> pa.Table:
    """The header and first rows of a CSV file, read as a stream: the flaws need the column
    names and one real row, and a 2M-customer bank's files need not be held for that."""
    reader = pacsv.open_csv(
        path,
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )
    first = reader.read_next_batch()
    reader.close()
    return pa.Table.from_batches([first])


def _append_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        for row in rows:
            w.writerow([row.get(c, "") for c in columns])


def _first_data_line(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as fh:
        fh.readline()
        return fh.readline()


def _append_raw_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(line)
