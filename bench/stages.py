"""Peak RSS per stage of a whole run: ``python -m bench.stages DATA AS_OF [daily|events] [OUT]``.

Runs what ``tierbook run --data DATA --as-of AS_OF --balances FORM --out OUT --no-excel``
runs (``open_dataset`` with the tables the rulebook needs, ``run_batch`` with the history
written as it is made, ``write_outputs``) in this process, with a thread reading the
process's resident memory (``VmRSS``) every 20 ms, and prints one line per stage: its
seconds, the RSS at its start and the highest RSS seen during it, in MiB. The stages are the
batch's own (``Timer.stage``) plus the load before them and the writing after them. The
last line is the whole run's peak; ``/usr/bin/time -f %M`` around the command gives the
kernel's figure for the same process (it also counts pages the sampler missed between two
reads).

Environment: as ``tierbook run`` (``TIERBOOK_MEMORY_LIMIT``,
``TIERBOOK_ANALYSIS_MEMORY_LIMIT``, ...). ``OUT`` defaults to a temporary folder, removed
afterwards.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

MIB = 1024 * 1024


def rss_mib() -> float:
    with Path("/proc/self/status").open(encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class Sampler:
    """The highest RSS since the last ``mark``, read every ``every`` seconds."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.peak, self.top = every, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.rows: list[dict[str, float | str]] = []

    def _run(self) -> None:
        while not self._stop.is_set():
            now = rss_mib()
            self.peak, self.top = max(self.peak, now), max(self.top, now)
            time.sleep(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = rss_mib()
        self.peak = start
        t0 = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - t0
            peak = max(self.peak, rss_mib())
            self.rows.append({"stage": name, "s": seconds, "start": start, "peak": peak})
            print(
                f"{name:32s} {seconds:8.1f} s  {start:8,.0f} → {peak:8,.0f} MiB",
                file=sys.stderr,
                flush=True,
            )


def main(data: Path, as_of: date, form: str, out: Path | None) -> dict[str, object]:
    from tierbook.batch import run as batch_run
    from tierbook.batch.outputs import spill_folder, write_outputs
    from tierbook.batch.run import run_batch, tables_needed
    from tierbook.bootstrap import EngineSettings, close_dataset, open_dataset
    from tierbook.rules import load_rulebook

    folder = out or Path(tempfile.mkdtemp(prefix="tierbook-stages-"))
    loaded = load_rulebook(None)
    settings = EngineSettings.from_env()
    with Sampler() as sampler:
        original = batch_run.Timer.stage

        @contextmanager
        def stage(self: batch_run.Timer, name: str) -> Iterator[None]:
            with sampler.stage(name), original(self, name):
                yield

        batch_run.Timer.stage = stage  # type: ignore[method-assign]
        try:
            with sampler.stage("load and validate inputs"):
                ds = open_dataset(data, settings, balances=form, tables=tables_needed(loaded))
            result = run_batch(
                ds,
                as_of,
                loaded,
                analysis_memory_limit=settings.analysis_memory_limit,
                spill=spill_folder(folder),
            )
            with sampler.stage("write outputs"):
                write_outputs(result, folder, excel=False)
            close_dataset(ds)
        finally:
            batch_run.Timer.stage = original  # type: ignore[method-assign]
    if out is None:
        shutil.rmtree(folder, ignore_errors=True)
    report = {"peak_mib": sampler.top, "stages": sampler.rows}
    print(f"{'whole run peak':32s} {'':10s}  {'':8s}   {sampler.top:8,.0f} MiB", file=sys.stderr)
    return report


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    found = main(
        Path(args[0]),
        date.fromisoformat(args[1]),
        args[2] if len(args) > 2 else "daily",
        Path(args[3]) if len(args) > 3 else None,
    )
    print(json.dumps(found))
