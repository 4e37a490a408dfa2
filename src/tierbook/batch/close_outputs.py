"""Write a close's results: the day's files only; the full run's other outputs stay.

A close refreshes what the day changes (``docs/close.md``): customers, tiers, history,
changes, migration, assignments, departures, tasks, alerts, birthday list, quarantine and
the manifest — the same files, written the same way, as ``tierbook run`` for that as-of
date (``tierbook.batch.outputs``). The value step and the analyses (key customers, fake-big
flags, Pareto, churn, segments, membership and their charts) read the whole year and are
not recomputed by a close: their files are left as the last full run wrote them, and the
manifest keeps naming them under ``outputs`` with the as-of date they hold
(``full_run.as_of``). No chart is drawn (matplotlib is not even imported).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tierbook.batch.outputs import build_manifest, finish_outputs, write_day_files
from tierbook.batch.run import RunResult

CARRIED_KEYS = ("concentration",)
"""Manifest entries of the full run's value step that a close keeps as they were."""


def write_close_outputs(result: RunResult, out: Path, *, excel: bool = False) -> dict[str, Any]:
    """Write the day's results to ``out`` and return the manifest (also manifest.json)."""
    previous = _previous_manifest(out)
    counts = write_day_files(result, out)
    manifest = build_manifest(result, counts)
    manifest["close"] = True
    _carry(manifest, previous, out)
    return finish_outputs(result, manifest, out, excel=excel)


def _previous_manifest(out: Path) -> dict[str, Any]:
    path = out / "manifest.json"
    if not path.exists():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _carry(manifest: dict[str, Any], previous: dict[str, Any], out: Path) -> None:
    """Name the full run's outputs a close leaves in place, with the date they hold."""
    if not previous:
        return
    own = set(manifest["outputs"]) | {"excel"}
    carried = {
        k: v
        for k, v in previous.get("outputs", {}).items()
        if k not in own and (out / str(v)).exists()
    }
    if not carried:
        return
    full = previous.get("full_run", {"as_of": previous.get("as_of")})
    manifest["full_run"] = {"as_of": full.get("as_of"), "outputs": sorted(carried)}
    manifest["outputs"].update(carried)
    rows = previous.get("row_counts", {})
    manifest["row_counts"].update({k: rows[k] for k in carried if k in rows})
    for key in CARRIED_KEYS:
        if key in previous:
            manifest[key] = previous[key]
