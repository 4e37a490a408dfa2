"""Run by the crash test in a subprocess: publish a run and hang inside the transaction.

``python -m tests.integration.store.hang_publish URL RUN_PICKLE MARKER``: when the publish
reaches its ``tasks`` stage (run, snapshots, customers and assignments already written,
uncommitted), touch MARKER and sleep until killed.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path


def main(url: str, run_pickle: str, marker: str) -> None:
    from tierbook.bootstrap import open_store
    from tierbook.store.publish import publish_run

    result, master = pickle.loads(Path(run_pickle).read_bytes())
    store = open_store(url)

    def hang(stage: str) -> None:
        if stage == "tasks":
            Path(marker).write_text("inside the transaction", encoding="utf-8")
            time.sleep(600)

    publish_run(store, result, master, on_stage=hang)


if __name__ == "__main__":
    main(*sys.argv[1:4])
