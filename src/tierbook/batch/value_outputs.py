"""Write the value step's results: Parquet files and the Pareto chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierbook.batch.parquet import move_spilled, write_parquet
from tierbook.batch.value import ValueResult
from tierbook.report.charts import pareto_png

VALUE_RESULTS = (
    "value_scores",
    "key_customers",
    "fake_big_flags",
    "pareto",
    "segments_206020",
    "cross_sell_tasks",
)


def write_value_outputs(
    value: ValueResult, out: Path, spilled: dict[str, Path] | None = None
) -> dict[str, Any]:
    """Write every frame as ``<name>.parquet`` and ``pareto.png``; return what the manifest
    records: row counts, file names and the concentration figures. A frame the batch
    already wrote (``spilled``, see ``RunResult.spilled``) is moved into ``out``, and
    ``spilled`` then names that file."""
    counts: dict[str, int] = {}
    files: dict[str, str] = {}
    spilled = {} if spilled is None else spilled
    for name in VALUE_RESULTS:
        path = out / f"{name}.parquet"
        if name in spilled:
            counts[name] = move_spilled(spilled, name, path)
        else:
            counts[name] = write_parquet(getattr(value, name), path)
        files[name] = f"{name}.parquet"
    if len(value.pareto):
        files["pareto_chart"] = pareto_png(
            value.pareto, value.concentration, out / "pareto.png"
        ).name
    return {"row_counts": counts, "outputs": files, "concentration": value.concentration}


def merge_manifest(manifest: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    if extra:
        manifest["row_counts"].update(extra["row_counts"])
        manifest["outputs"].update(extra["outputs"])
        manifest["concentration"] = extra["concentration"]
    return manifest
