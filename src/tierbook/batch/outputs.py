"""Write a run's results: Parquet per result, the Excel workbook, the run manifest."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tierbook.batch.run import RunResult

PARQUET_RESULTS = (
    "customers",
    "tiers",
    "history",
    "changes",
    "assignments",
    "departures",
    "tasks",
    "alerts",
    "birthday_list",
)
LIBRARIES = (
    "tierbook",
    "ibis-framework",
    "duckdb",
    "pyarrow",
    "pandas",
    "numpy",
    "pydantic",
    "lunardate",
    "xlsxwriter",
    "networkx",
    "scikit-learn",
    "scipy",
    "matplotlib",
)


def write_outputs(result: RunResult, out: Path, *, excel: bool = True) -> dict[str, Any]:
    """Write everything to ``out`` and return the manifest (also written as manifest.json)."""
    # imported here: the value step's modules import networkx, which a close (writing only
    # the day's files) never needs
    from tierbook.batch.analyses import write_analyses
    from tierbook.batch.value_outputs import merge_manifest, write_value_outputs

    counts = write_day_files(result, out)
    value = write_value_outputs(result.value, out) if result.value is not None else None
    manifest = merge_manifest(build_manifest(result, counts), value)
    manifest["outputs"].update(write_analyses(result, out))
    return finish_outputs(result, manifest, out, excel=excel)


def write_day_files(result: RunResult, out: Path) -> dict[str, int]:
    """The per-customer results, migrations, quarantine and rulebook of a run or a close;
    returns the row count of each."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in PARQUET_RESULTS:
        frame: pd.DataFrame = getattr(result, name)
        write_parquet(frame, out / f"{name}.parquet")
        counts[name] = len(frame)
    for ladder_id, matrix in result.migrations.items():
        matrix.reset_index().to_parquet(out / f"migration_{ladder_id}.parquet", index=False)
    result.quarantine.to_csv(out / "quarantine.csv", index=False, encoding="utf-8")
    (out / "rulebook.json").write_text(
        result.rulebook.rulebook.model_dump_json(indent=2), encoding="utf-8"
    )
    counts["quarantine"] = len(result.quarantine)
    return counts


ROW_GROUP = 1 << 20  # pyarrow's default row group size


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame.to_parquet(path, index=False)`` read back alike, at half the writer's work on
    the large results (history: 4.8M rows at 200k customers): dictionary pages for the text
    columns only (amounts are nearly all distinct, a dictionary of them is built only to be
    dropped), min/max statistics for ``customer_id`` only (what a reader filtering one
    customer, like ``tierbook explain``, skips row groups by). Categorical columns are
    written as text: in memory a ladder id or level is a one-byte code into the names of
    every ladder of the run, but a reader of one file should not meet another ladder's
    levels among its categories. (A categorical of dates, the history's month ends, is
    written as dates.) The frame goes to Arrow one row group at a time, so writing holds
    one row group's copy, not the whole frame's (the history of 2M customers: 48M rows)."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    values = {c: pa.array(frame[c].cat.categories) for c in cats}  # converted once
    codes = {c: frame[c].cat.codes.to_numpy() for c in cats}
    rest = frame.drop(columns=cats)
    schema = pa.Schema.from_pandas(rest, preserve_index=False)
    plain = pa.schema(
        [pa.field(c, _text(values[c].type)) if c in values else schema.field(c) for c in frame]
    )
    text = [f.name for f in plain if _is_text(f.type)]
    stats = ["customer_id"] if "customer_id" in plain.names else False
    with pq.ParquetWriter(path, plain, use_dictionary=text, write_statistics=stats) as writer:
        for lo in range(0, len(frame), ROW_GROUP):
            hi = lo + ROW_GROUP
            part = pa.Table.from_pandas(rest.iloc[lo:hi], schema=schema, preserve_index=False)
            columns = {c: part.column(c) for c in part.column_names}
            for c in cats:  # a categorical's values by its codes (-1: missing)
                k = codes[c][lo:hi]
                columns[c] = values[c].take(pa.array(k, mask=k < 0)).cast(plain.field(c).type)
            writer.write_table(pa.table([columns[c] for c in frame], schema=plain))


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _text(t: pa.DataType) -> pa.DataType:
    """A categorical's value type in the file: text as large strings, dates as dates."""
    return pa.large_string() if _is_text(t) else t


def finish_outputs(
    result: RunResult, manifest: dict[str, Any], out: Path, *, excel: bool
) -> dict[str, Any]:
    """The workbook (when asked) and manifest.json, last: a manifest names what was written."""
    if excel:
        from tierbook.report.workbook import write_run_workbook

        path = out / "tierbook-report.xlsx"
        write_run_workbook(result, manifest, path)
        manifest["outputs"]["excel"] = path.name
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return manifest


def build_manifest(result: RunResult, counts: dict[str, int]) -> dict[str, Any]:
    lr = result.rulebook
    return {
        "as_of": result.as_of.isoformat(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rulebook": {**lr.stamp, "source": lr.source},
        "balance_form": result.balance_form,
        "engine": result.engine,
        "inputs": result.files,
        "row_counts": counts,
        "timings_s": result.timings,
        "libraries": {lib: _version(lib) for lib in LIBRARIES},
        "python": platform.python_version(),
        "outputs": {name: f"{name}.parquet" for name in PARQUET_RESULTS},
    }


def _version(lib: str) -> str:
    try:
        return metadata.version(lib)
    except metadata.PackageNotFoundError:
        return "not installed"
