"""A publish killed mid-transaction (SIGKILL) leaves the previous run current and intact."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.store.conftest import BatchRun
from tests.integration.store.helpers import dump, scalar
from tierbook.store.publish import publish_run, run_identity

REPO = Path(__file__).resolve().parents[3]


def test_killed_publish_leaves_the_previous_run_current_and_intact(
    store, march: BatchRun, year_end: BatchRun, tmp_path: Path
) -> None:
    first = publish_run(store, march.result, march.master)
    before = dump(store.engine)
    marker, run_pickle = tmp_path / "inside", tmp_path / "run.pickle"
    run_pickle.write_bytes(pickle.dumps((year_end.result, year_end.master)))
    args = [store.url, str(run_pickle), str(marker)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.store.hang_publish", *args],
        cwd=REPO,
        # this checkout's sources first: not the tierbook the virtualenv was installed from
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])},
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the publishing process ended before the hook"
            assert time.monotonic() < deadline, "the publish never reached its tasks stage"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    store.engine.dispose()  # forget pooled connections; read what a new client sees
    assert scalar(store.engine, "SELECT run_id FROM runs WHERE is_current = :t", t=True) == (
        first.run_id
    )
    assert dump(store.engine) == before
    # and the killed run can be published afterwards
    again = publish_run(store, year_end.result, year_end.master)
    assert again.published
    assert again.run_id == run_identity(year_end.result)
