"""A run read back from the folder ``tierbook run`` wrote (``out/``), to publish a run that
was computed earlier without computing it again (the API bench publishes one 1M-customer run
many times this way).

What the publish needs is in ``out/``: the result Parquet files, and in ``manifest.json`` the
as-of date, the balance form, the input files (their hashes make the run id) and the
rulebook's stamp. The rulebook itself is loaded again from its source (a preset or a file)
and must hash as it did when the run was made; the master data (archive, holdings) is read
from the data folder, whose file hashes must match the manifest's too.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from tierbook.batch.outputs import PARQUET_RESULTS
from tierbook.batch.run import RunResult
from tierbook.rules import load_rulebook
from tierbook.rules.loader import LoadedRulebook


class SavedRunError(ValueError):
    """The output folder cannot be published as it is (named file and reason)."""


def _rulebook(out: Path, manifest: dict[str, Any]) -> LoadedRulebook:
    stamp = manifest["rulebook"]
    source = str(stamp["source"])
    loaded = load_rulebook(
        source.removeprefix("preset:") if source.startswith("preset:") else source
    )
    if loaded.sha256 != stamp["rulebook_sha256"]:
        raise SavedRunError(
            f"{out / 'manifest.json'}: rulebook {source} has changed since the run "
            f"(sha256 {loaded.sha256[:12]}, the run used {str(stamp['rulebook_sha256'])[:12]})"
        )
    return loaded


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SavedRunError(f"{path}: cannot read the run's manifest ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise SavedRunError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc
    return manifest


def load_saved_run(
    out: Path, *, left_on_disk: Collection[str] = ()
) -> tuple[RunResult, dict[str, Any]]:
    """The ``RunResult`` (the parts a publish reads) and the manifest of the run in ``out``.

    The tables named in ``left_on_disk`` are not read: their frames in the result are empty
    (with the file's columns), and the publish reads them from the files
    (``publish_run(…, parquet=parquet_files(out, left_on_disk))``), a chunk at a time; a
    1M-customer run's history alone is 24M rows."""
    out = Path(out)
    manifest = read_manifest(out)
    frames: dict[str, pd.DataFrame] = {}
    for name in PARQUET_RESULTS:
        path = out / f"{name}.parquet"
        if not path.exists():
            raise SavedRunError(f"{path}: missing (written by tierbook run)")
        if name in left_on_disk:
            frames[name] = pd.DataFrame(columns=pq.read_schema(path).names)
        else:
            frames[name] = pd.read_parquet(path)
    result = RunResult(
        as_of=date.fromisoformat(manifest["as_of"]),
        rulebook=_rulebook(out, manifest),
        identities=pd.DataFrame(),
        migrations={},
        quarantine=pd.DataFrame(),
        files=list(manifest["inputs"]),
        balance_form=str(manifest["balance_form"]),
        engine=str(manifest.get("engine", "duckdb")),
        **frames,
    )
    return result, manifest


def parquet_files(out: Path, names: Collection[str]) -> dict[str, Path]:
    """The result files of the run in ``out`` for the tables ``names``."""
    return {name: Path(out) / f"{name}.parquet" for name in names}


def check_inputs(result: RunResult, ds: Any, out: Path) -> None:
    """Refuse master data read from other input files than the run's (every file ``ds``
    read must be one the run read, with the same hash)."""
    made = {(f["table"], f["sha256"]) for f in result.files}
    differ = sorted({f.table for f in ds.files if (f.table, f.sha256) not in made})
    if differ:
        raise SavedRunError(
            f"{out / 'manifest.json'}: the data folder's files differ from the run's "
            f"(tables {', '.join(differ)})"
        )
