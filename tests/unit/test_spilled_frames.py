"""A result the batch writes as soon as it is made (``run_batch(spill=…)``) leaves only
its columns in memory: the empty frame in its place holds none of the written rows."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from tierbook.batch.run import _spilled

ROWS = 4_000_000  # 32 MB a column


def test_the_frame_left_in_place_of_a_written_result_holds_none_of_its_rows(
    tmp_path: Path,
) -> None:
    written: dict[str, Path] = {}
    tracemalloc.start()
    try:
        frames = (
            pd.DataFrame({"measure": np.arange(ROWS, dtype=float) + k, "level": np.int8(k)})
            for k in range(2)
        )
        kept = _spilled("tiers", frames, tmp_path, written)
        gc.collect()
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept.empty and list(kept.columns) == ["measure", "level"]
    assert held < ROWS * 8 / 4, f"{held:,} bytes still held after writing"
    back = pd.read_parquet(written["tiers"])
    assert len(back) == 2 * ROWS and back["measure"].iloc[ROWS] == 1.0
