"""Where one day's input is found, the view a close loads, and splitting a bank into days.

Day-partitioned layout (what ``tierbook split-days`` writes, and what a bank's nightly
export can drop)::

    DIR/balances_daily/date=2025-12-31/*.parquet     (or balance_events/date=…/)
    DIR/balances_daily/date=2025-12-31.csv           (one file per day: .csv, .xlsx, .parquet)
    DIR/transactions/date=2025-12-31/*.parquet       (optional; else DIR/transactions[.csv])

The reference tables (customers, accounts, staff, …) stay at the top of ``DIR`` as for
``tierbook run``. ``tierbook run`` reads only the Parquet files directly in
``balances_daily/``, so the day partitions may sit beside a full history without being
counted twice.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from tierbook.ingest.contract import FORMATS
from tierbook.ingest.dataset import BALANCE_TABLES, SMALL_ORDER
from tierbook.ingest.quarantine import IngestError
from tierbook.ingest.readers import display_path, sha256_file
from tierbook.ingest.sql import lit, run, scalar


@dataclass(frozen=True)
class DayInput:
    table: str  # balances_daily or balance_events
    paths: tuple[Path, ...]

    def fingerprint(self, data_dir: Path) -> str:
        """sha256 over the day's files (their names relative to DIR and their contents)."""
        h = hashlib.sha256()
        for p in self.paths:
            h.update(f"{display_path(p, data_dir)}\0{sha256_file(p)}\n".encode())
        return h.hexdigest()


def partition(folder: Path, day: date) -> Path:
    return folder / f"date={day.isoformat()}"


def find_day_input(data_dir: Path, form: str, day: date, file: Path | None = None) -> DayInput:
    """The day's balance file(s): ``file`` when given, else the day partition of ``form``."""
    table = BALANCE_TABLES[form]
    if file is not None:
        if not file.is_file() or file.suffix.lower() not in FORMATS:
            raise IngestError(file, f"not a {', '.join(FORMATS)} file")
        return DayInput(table, (file,))
    base = partition(data_dir / table, day)
    found = [base.with_name(base.name + ext) for ext in FORMATS]
    files = [p for p in found if p.is_file()]
    parts = sorted(base.glob("*.parquet")) if base.is_dir() else []
    if files and parts:
        raise IngestError(base, "day given twice (a folder and a file); keep one")
    if not files and not parts:
        raise IngestError(
            base,
            f"no {table} input for {day}: expected {display_path(base, data_dir)}/*.parquet "
            f"or {display_path(base, data_dir)}.csv (or pass --file)",
        )
    return DayInput(table, tuple(files[:1] or parts))


def build_view(
    data_dir: Path, day_input: DayInput, day: date, lookback_days: int, root: Path
) -> dict[str, str]:
    """A data directory under ``root`` of symbolic links: the reference tables, the day's
    balances and the transactions of the last ``lookback_days`` (their day partitions when
    every one of those days has one, else the whole transactions table); returns view path -> real
    path (relative to ``data_dir``) for every linked balance or transaction file."""
    names: dict[str, str] = {}
    for table in SMALL_ORDER:
        for ext in FORMATS:
            src = data_dir / f"{table}{ext}"
            if src.is_file():
                (root / src.name).symlink_to(src.resolve())
        if (data_dir / table).is_dir() and any((data_dir / table).glob("*.parquet")):
            (root / table).symlink_to((data_dir / table).resolve())
    _link(root, day_input.table, day_input.paths, data_dir, names)
    tx = data_dir / "transactions"
    days = [day - timedelta(days=i) for i in range(lookback_days)]
    parts = [p for d in days for p in sorted(partition(tx, d).glob("*.parquet"))]
    whole = all(partition(tx, d).is_dir() for d in days)
    if parts and (whole or not any(tx.glob("*.parquet"))):
        _link(root, "transactions", tuple(parts), data_dir, names)
    elif tx.is_dir() and any(tx.glob("*.parquet")):
        (root / "transactions").symlink_to(tx.resolve())
    else:
        for ext in FORMATS:
            if (data_dir / f"transactions{ext}").is_file():
                (root / f"transactions{ext}").symlink_to(
                    (data_dir / f"transactions{ext}").resolve()
                )
    return names


def _link(
    root: Path, table: str, paths: tuple[Path, ...], data_dir: Path, names: dict[str, str]
) -> None:
    if len(paths) == 1 and paths[0].suffix.lower() != ".parquet":
        target = root / f"{table}{paths[0].suffix.lower()}"
        target.symlink_to(paths[0].resolve())
        names[target.name] = display_path(paths[0], data_dir)
        return
    folder = root / table
    folder.mkdir()
    for i, p in enumerate(paths):
        target = folder / f"{i:05d}-{p.name}"
        target.symlink_to(p.resolve())
        names[f"{table}/{target.name}"] = display_path(p, data_dir)


def view_root() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="tierbook-close-")


def split_days(
    con: object, data_dir: Path, since: date | None = None, until: date | None = None
) -> dict[str, int]:
    """Write every day of the Parquet balance tables (and transactions) of ``data_dir`` as a
    day partition beside them; returns rows written per table. Rows are copied as they are
    (a close validates its day)."""
    written: dict[str, int] = {}
    for table in (*BALANCE_TABLES.values(), "transactions"):
        folder = data_dir / table
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if not files:
            continue
        scan = "read_parquet([" + ", ".join(lit(p.as_posix()) for p in files) + "])"
        where = ["TRUE"]
        if since:
            where.append(f"date >= DATE {lit(since.isoformat())}")
        if until:
            where.append(f"date <= DATE {lit(until.isoformat())}")
        cond = " AND ".join(where)
        n = scalar(con, f"SELECT count(*) FROM {scan} WHERE {cond}")
        run(
            con,
            f"COPY (SELECT * FROM {scan} WHERE {cond}) TO {lit(folder.as_posix())} "
            "(FORMAT parquet, PARTITION_BY (date), WRITE_PARTITION_COLUMNS true, "
            "OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part-{i}')",
        )
        written[table] = int(n or 0)
    return written
