"""Result files: several frames written one after the other read back as ``pd.concat`` of
them, with each frame's categorical columns as their values (text, dates)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tierbook.batch import parquet
from tierbook.batch.parquet import parquet_rows, write_parquet

MONTHS = pd.DatetimeIndex(["2025-10-31", "2025-11-30", "2025-12-31"])


def _ladder(ladder: str, levels: list[str], codes: list[int], ids: list[str]) -> pd.DataFrame:
    n = len(codes)
    return pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(np.arange(n) % len(ids), ids),
            "ladder_id": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [ladder]),
            "period_end": pd.Categorical.from_codes(np.arange(n) % 3, MONTHS),
            "measure": np.arange(n, dtype=float) * 1.25,
            "level": pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8), levels),
        }
    )


@pytest.mark.parametrize("row_group", [2, 1 << 20])
def test_frames_written_in_turn_read_back_as_their_concat_with_values_not_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row_group: int
) -> None:
    monkeypatch.setattr(parquet, "ROW_GROUP", row_group)
    ids = ["C1", "C2", "C3"]
    frames = [
        _ladder("card_tiers", ["普卡", "金卡", "白金"], [0, 2, 1, -1, 2], ids),
        _ladder("branch_bands", ["未维护", "0.1-5万"], [1, 1, 0], ids),
        _ladder("card_tiers", ["普卡"], [], ids),
    ]
    path = tmp_path / "history.parquet"
    assert write_parquet(iter(frames), path) == 8 == parquet_rows(path)
    got = pd.read_parquet(path)
    expected = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C1", "C2", "C1", "C2", "C3"],
            "ladder_id": ["card_tiers"] * 5 + ["branch_bands"] * 3,
            "period_end": list(MONTHS[[0, 1, 2, 0, 1, 0, 1, 2]]),
            "measure": [0.0, 1.25, 2.5, 3.75, 5.0, 0.0, 1.25, 2.5],
            "level": ["普卡", "白金", "金卡", None, "白金", "0.1-5万", "0.1-5万", "未维护"],
        }
    )
    text = dict.fromkeys(("customer_id", "ladder_id", "level"), "str")
    pd.testing.assert_frame_equal(
        got.astype(text), expected.astype(text), check_exact=True, check_dtype=False
    )
    assert got["level"].isna().tolist() == [False] * 3 + [True] + [False] * 4
    one = tmp_path / "one.parquet"
    write_parquet(pd.concat(frames, ignore_index=True), one)  # pandas' concat: text levels
    pd.testing.assert_frame_equal(pd.read_parquet(one), got)
