"""A day given twice in a bucket is found from two sums the engine takes in its scan."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tierbook.analytics.aum import repeated_day

days_of_a_bucket = st.lists(st.integers(min_value=0, max_value=30), max_size=80)


def _sums(days: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([float(sum(2**d for d in days))]), np.array([len(days)])


@given(st.lists(days_of_a_bucket, min_size=1, max_size=20))
def test_a_repeat_is_found_exactly_when_some_day_is_given_twice(buckets) -> None:
    pairs = [_sums(days) for days in buckets]
    day_sum = np.concatenate([p[0] for p in pairs])
    n_rows = np.concatenate([p[1] for p in pairs])
    want = [len(set(days)) < len(days) for days in buckets]
    assert list(repeated_day(day_sum, n_rows)) == want


def test_two_copies_of_a_day_are_not_mistaken_for_the_next_day() -> None:
    # 2**3 + 2**3 == 2**4: the sum alone would look like day 4 given once.
    assert list(repeated_day(*_sums([3, 3]))) == [True]
    assert list(repeated_day(*_sums([4]))) == [False]
    assert list(repeated_day(*_sums([30] * 4))) == [True]  # a sum past 2**31
