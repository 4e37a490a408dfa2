"""Write a run's results: Parquet per result, the Excel workbook, the run manifest."""

from __future__ import annotations

import contextlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from tierbook.batch.parquet import move_spilled, write_parquet
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
    value = None
    if result.value is not None:
        value = write_value_outputs(result.value, out, result.spilled)
    with contextlib.suppress(OSError):  # empty once every spilled file has moved
        spill_folder(out).rmdir()
    manifest = merge_manifest(build_manifest(result, counts), value)
    manifest["outputs"].update(write_analyses(result, out))
    return finish_outputs(result, manifest, out, excel=excel)


def spill_folder(out: Path) -> Path:
    """Where ``tierbook run`` writing to ``out`` lets the batch write its largest results as
    soon as they are made (``run_batch(spill=…)``): inside ``out``, so that moving them in
    is a rename, and apart from it, so that a run stopped half-way leaves ``out``'s files
    as the last whole run wrote them."""
    return out / ".tierbook-partial"


def write_day_files(result: RunResult, out: Path) -> dict[str, int]:
    """The per-customer results, migrations, quarantine and rulebook of a run or a close;
    returns the row count of each. A result the run already wrote (``RunResult.spilled``,
    in ``spill_folder(out)``) is moved into ``out``, and ``spilled`` then names that file."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in PARQUET_RESULTS:
        path = out / f"{name}.parquet"
        if name in result.spilled:
            counts[name] = move_spilled(result.spilled, name, path)
            continue
        frame: pd.DataFrame = getattr(result, name)
        counts[name] = write_parquet(frame, path)
    with contextlib.suppress(OSError):  # empty once every spilled file has moved
        spill_folder(out).rmdir()
    for ladder_id, matrix in result.migrations.items():
        matrix.reset_index().to_parquet(out / f"migration_{ladder_id}.parquet", index=False)
    result.quarantine.to_csv(out / "quarantine.csv", index=False, encoding="utf-8")
    (out / "rulebook.json").write_text(
        result.rulebook.rulebook.model_dump_json(indent=2), encoding="utf-8"
    )
    counts["quarantine"] = len(result.quarantine)
    return counts


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
