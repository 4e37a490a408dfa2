"""A run read back from its out/ folder publishes as the run itself did: same run id, same
rows; a run folder whose rulebook or input files changed is refused with the file named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.store.conftest import BatchRun
from tests.integration.store.helpers import dump
from tierbook.batch.outputs import write_outputs
from tierbook.store.publish import publish_run, run_identity
from tierbook.store.saved_run import SavedRunError, check_inputs, load_saved_run


def _rows(store, sql: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with store.engine.connect() as conn:
        # SQLite gives floats where PostgreSQL gives decimals: compare the cents
        return [
            tuple(round(float(v), 2) if i == 3 else v for i, v in enumerate(r))
            for r in conn.execute(text(sql))
        ]


@pytest.fixture
def out(year_end: BatchRun, tmp_path: Path) -> Path:
    write_outputs(year_end.result, tmp_path / "out", excel=False)
    return tmp_path / "out"


def test_a_saved_run_has_the_run_id_of_the_run(year_end: BatchRun, out: Path) -> None:
    saved, _manifest = load_saved_run(out)
    assert run_identity(saved) == run_identity(year_end.result)
    check_inputs(saved, year_end.ds, out)  # the same files: accepted


def test_a_saved_run_publishes_the_rows_of_the_run(
    store, year_end: BatchRun, out: Path, tmp_path: Path
) -> None:
    from tierbook.bootstrap import open_store
    from tierbook.store.migrate import upgrade

    saved, manifest = load_saved_run(out)
    from_disk = publish_run(store, saved, year_end.master, manifest=manifest)
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(url)
    reference = open_store(url)
    try:
        in_memory = publish_run(reference, year_end.result, year_end.master)
        assert from_disk.rows == in_memory.rows
        per_run = ("tier_snapshots", "customer_snapshots", "aum_history", "staff_assignments")
        a, b = dump(store.engine), dump(reference.engine)
        assert all(len(a[t]) == len(b[t]) for t in per_run)
        assert a["customer_snapshots"] == b["customer_snapshots"]
        sql = "SELECT customer_id, ladder_id, level, measure, step FROM tier_snapshots"
        assert sorted(_rows(store, sql)) == sorted(_rows(reference, sql))
    finally:
        reference.dispose()


def test_a_changed_rulebook_is_refused(out: Path) -> None:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["rulebook"]["rulebook_sha256"] = "0" * 64
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(SavedRunError, match=r"manifest\.json: rulebook .* has changed"):
        load_saved_run(out)


def test_other_input_files_are_refused(year_end: BatchRun, out: Path) -> None:
    saved, _ = load_saved_run(out)
    saved.files[0] = {**saved.files[0], "sha256": "f" * 64}
    with pytest.raises(SavedRunError, match=f"tables {saved.files[0]['table']}"):
        check_inputs(saved, year_end.ds, out)


def test_a_folder_without_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SavedRunError, match=r"manifest\.json: cannot read"):
        load_saved_run(tmp_path)
