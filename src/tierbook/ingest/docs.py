"""Render ``docs/data-contract.md`` from the contract, the error codes and the sign rules.

``python -m tierbook.ingest.docs > docs/data-contract.md`` regenerates it; a test checks that
the committed file equals the rendering.
"""

from __future__ import annotations

from tierbook.ingest.contract import TABLES, Column, Table
from tierbook.ingest.quarantine import ERROR_CODES, QUARANTINE_COLUMNS
from tierbook.ingest.validate import DATE_ORDER, SIGN_RULES

INTRO = """\
# Data contract

*Generated from `src/tierbook/ingest/contract.py` by `tierbook.ingest.docs.render_markdown()`;
do not edit by hand.*

tierbook reads core-banking exports. A data directory holds one file per table, named after
the table: `customers.csv`, `customers.xlsx` or `customers.parquet`; a large table may also be
a folder of Parquet files (`balances_daily/*.parquet`). Other files and folders (for example
`truth/`) are ignored. Required tables: branches, staff, customers, accounts and one balance
form; the others are optional.

## File formats

- **CSV**: UTF-8, with or without a byte-order mark; first line is the header. Every cell is
  read as text and cast per column type, so IDs keep leading zeros and all their digits.
  Line numbers are physical lines (header = 1, first data row = 2), also across quoted
  newlines. Fully empty rows are skipped. Cells are stripped of whitespace (any Unicode
  space). A row with more or fewer fields than the header is set aside (`FIELD_COUNT`).
- **Excel (.xlsx)**: every sheet whose first row names at least one of the table's columns is
  read (sheets such as notes are skipped); line numbers are the sheet's row numbers and the
  quarantine records the sheet name. Date cells are accepted for dates. A *numeric* cell in an
  ID column is refused (`NUMERIC_ID_CELL`): Excel keeps only 15 significant digits, so an
  18-digit ID or account number may already be corrupted. Format such columns as text.
- **Parquet**: one file, or a folder of files read together; the line is the 1-based row index
  within its file. Integer ID columns are converted to text; floating-point ID columns are
  refused like numeric Excel cells.
- Header names are matched case-insensitively; extra columns are ignored; a missing optional
  column is read as empty; a missing required column stops the load.
- Dates: `YYYY-MM-DD` (also `YYYY/MM/DD`); months: `YYYY-MM`; decimals may use thousands
  separators (`1,234.50`), never NaN or infinity; booleans: true/false, 1/0, 是/否, Y/N.
- Enum values match case-insensitively and are stored in the contract's spelling. Phones are
  normalised to 11 digits; ID numbers are upper-cased.

## The two balance forms

A bank exports one of them (`load_dataset(..., balances="auto")` takes `balances_daily` when
present, else `balance_events`; `"daily"` or `"events"` forces one):

- `balances_daily`: one row per account and day with its end-of-day balance; a missing day
  counts as zero.
- `balance_events`: a row only when a balance changes; the balance holds from its date until
  the account's next event.

## Validation and fatal errors

Every file is validated before anything is used. A bad row is set aside in the quarantine
with its file, sheet, line, column, code and reason; every good row is kept; for each file
rows loaded + rows quarantined = rows read. A row gets one quarantine line per error but is
counted once. Loading the same files again gives the same clean tables; an exact copy of a row
is collapsed (`DUPLICATE_ROW`). Tables are checked parents first, so a row that refers to a
quarantined parent is quarantined too (`UNKNOWN_REFERENCE`).

Every table is validated set-based in DuckDB SQL: typed columns and one boolean per check,
only the bad rows materialised; the small tables' clean rows are stored as DuckDB temp tables,
the large tables' (`balances_daily`, `balance_events`, `transactions`) stay lazy views over
their scan. CSV files are read by DuckDB; a file whose physical lines are not one row each
(a quoted newline, a blank line) is read by an exact Python reader instead, with the same
results.

Duplicates: a GROUP BY over the 64-bit hash of the key finds the few keys seen more than once,
whose rows are then compared exactly. It runs at load for every small table, and for
`balance_events` and `transactions` unless `load_dataset(..., check_keys=False)`; never for
`balances_daily`. For `balances_daily` (100M rows for 200k customers)
even that costs more than the rest of the load, so the tiering engine, which aggregates every
account and month anyway, counts the days it sees: fewer distinct days than rows means a
repeated day. It then calls `Dataset.check_keys_for("balances_daily", accounts)`, which runs
the exact check on those accounts, adds their `DUPLICATE_ROW` / `DUPLICATE_KEY` lines and
file counts, and replaces the clean table. `Dataset.keys_unchecked` names the tables whose
keys the load left unchecked.

The batch (`tierbook run`) also lets the engine's scan do the row checks of the balances,
`balances_daily` or `balance_events` (`load_dataset(..., defer_checks=True)`): the aggregation
counts the rows that pass every cell and row check and belong to a clean account, and for
events the rows whose next event of the account has the same date (the window that ends each
balance's segment finds a repeated key for free). When the count equals the rows read (and no
event key repeats), no row can be bad and the table is settled clean without a second scan;
otherwise every row is checked as at load, duplicate keys included, the quarantine and file
counts get the same lines, and the sums are taken again on the clean rows. Parquet holding
native dates and doubles is read as it is, the account id unstripped: an id that needs
stripping matches no clean account, so its row is not counted and the full checks, which
strip it, decide. Until it is settled, the table's clean view checks every row as it reads.

Fatal problems stop the load with `IngestError` naming the file and the reason: a required
table or a required column missing, an unreadable file (not UTF-8, not a valid workbook or
Parquet file), the same table given twice (`customers.csv` and `customers.parquet`).

Reasons never contain raw personal data (ID numbers, names, phones).
"""


def _codes() -> str:
    lines = ["## Error codes", "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items()]
    return "\n".join(lines) + "\n"


def _quarantine() -> str:
    cols = ", ".join(f"`{c}`" for c in QUARANTINE_COLUMNS)
    return (
        "## Quarantine file\n\n"
        f"`Dataset.quarantine` is a table with columns {cols}, one line per error, sorted by\n"
        "table, file, sheet and line. `write_quarantine()` saves it as UTF-8 CSV with a BOM\n"
        "(Excel opens it with Chinese text intact). `sheet` is empty except for Excel files.\n"
        "`line` follows the file-format rules above. `column` is empty for whole-row errors\n"
        "(`FIELD_COUNT`) and lists the key columns for duplicate errors.\n"
    )


def _rules(table: Table, column: Column) -> str:
    parts = []
    sign = SIGN_RULES.get((table.name, column.name))
    if sign:
        parts.append(f"{sign[:-1]} 0")
    if (table.name, column.name) == ("staff", "capacity"):
        parts.append("> 0")
    for early, late in DATE_ORDER.get(table.name, ()):
        if column.name == late:
            parts.append(f"not before {early}")
    if column.references:
        parts.append(f"→ `{column.references}`")
    if column.enum:
        parts.append("one of " + ", ".join(f"`{v}`" for v in column.enum))
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> str:
    flags = [
        "large, validated set-based" if table.large else "",
        "optional" if table.optional else "required",
    ]
    lines = [
        f"### `{table.name}`",
        "",
        f"{table.doc} Key: `{', '.join(table.key)}`. ({'; '.join(f for f in flags if f)})",
        "",
        "| column | type | required | rules | personal | doc |",
        "|---|---|---|---|---|---|",
    ]
    for c in table.columns:
        lines.append(
            f"| `{c.name}` | {c.type} | {'yes' if c.required else 'no'} | "
            f"{_cell(_rules(table, c))} | {'yes' if c.personal else ''} | {_cell(c.doc)} |"
        )
    return "\n".join(lines) + "\n"


def render_markdown() -> str:
    """The whole of ``docs/data-contract.md``."""
    tables = "\n".join(_table(t) for t in TABLES)
    return "\n".join([INTRO, _codes(), _quarantine(), "## Tables\n", tables]).rstrip() + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
