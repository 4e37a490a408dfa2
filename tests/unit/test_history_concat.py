"""The ladders' history frames are joined with the values ``pd.concat`` gives, every
categorical column staying categorical."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tierbook.batch.tiering import concat_keeping_categories


def _frame(ladder: str, levels: list[str], codes: list[int]) -> pd.DataFrame:
    n = len(codes)
    return pd.DataFrame(
        {
            "customer_id": pd.array([f"C{i}" for i in range(n)], dtype="str"),
            "ladder_id": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [ladder]),
            "measure": np.arange(n, dtype=float),
            "level": pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8), levels),
            "step": pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8) % 2, ["a", "b"]),
        }
    )


def test_history_of_several_ladders_has_pandas_concats_values_and_stays_categorical():
    frames = [
        _frame("card_tiers", ["普卡", "金卡", "白金"], [0, 2, 1, -1, 2]),
        _frame("branch_bands", ["未维护", "0.1-5万"], [1, 1, 0]),
        _frame("card_tiers", ["普卡", "金卡", "白金"], []),
    ]
    expected = pd.concat(frames, ignore_index=True)
    got = concat_keeping_categories(frames)
    for c in ("ladder_id", "level", "step"):
        assert isinstance(got[c].dtype, pd.CategoricalDtype), c
    assert list(got["level"].cat.categories) == ["普卡", "金卡", "白金", "未维护", "0.1-5万"]
    text = {"ladder_id": "str", "level": "str", "step": "str"}
    pd.testing.assert_frame_equal(got.astype(text), expected.astype(text), check_exact=True)
    assert got["level"].isna().tolist() == expected["level"].isna().tolist()


def test_history_of_one_ladder_keeps_its_categories():
    frame = _frame("card_tiers", ["普卡", "金卡"], [0, 1, 1])
    pd.testing.assert_frame_equal(concat_keeping_categories([frame]), frame, check_exact=True)


def test_migration_matrix_equals_the_crosstab_of_the_two_levels():
    from tierbook.batch.tiering import LadderResult, migration_matrix
    from tierbook.domain.tiers import TierPath
    from tierbook.rules.loader import load_preset

    ladder = load_preset("bank_default").rulebook.ladder("card_tiers")
    names = list(ladder.level_names())
    rng = np.random.default_rng(3)
    levels = rng.integers(0, len(names), size=(50, 4))
    levels[:, -1] = np.minimum(levels[:, -1], 1)  # some levels empty at the end
    path = TierPath(levels, np.zeros_like(levels), np.zeros_like(levels))
    result = LadderResult(ladder, levels.astype(float), path, "month")
    for start in (0, 2):
        a = pd.Categorical(result.level_names(levels[:, start]), categories=names)
        b = pd.Categorical(result.level_names(levels[:, -1]), categories=names)
        expected = pd.crosstab(a, b, dropna=False)
        expected.index.name, expected.columns.name = "from", "to"
        got = migration_matrix(result, start)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        pd.testing.assert_frame_equal(got.reset_index(), expected.reset_index(), check_exact=True)
