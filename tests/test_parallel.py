"""lcasolve._parallel.split: every item of the outer loop once, whatever the thread count."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit

from lcasolve._parallel import split
from lcasolve.uncertainty import numba_threads


@njit(nogil=True)
def _count(hits, lo, hi):  # pragma: no cover - compiled
    for i in range(lo, hi):
        hits[i] += 1


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
def test_split_visits_each_item_once(threads: int, n: int) -> None:
    hits = np.zeros(n, dtype=np.int64)
    with numba_threads(threads):
        split(_count, n, hits)
    assert np.array_equal(hits, np.ones(n, dtype=np.int64))


def test_split_passes_the_arguments_before_the_range() -> None:
    seen: list[tuple[str, int, int]] = []

    def kernel(tag: str, lo: int, hi: int) -> None:
        seen.append((tag, lo, hi))

    with numba_threads(2):
        if numba.get_num_threads() < 2:
            pytest.skip("one Numba thread only")
        split(kernel, 5, "x")
    # 5 items in 5 ranges of one (up to 4 ranges per thread), each run once
    assert sorted(seen) == [("x", i, i + 1) for i in range(5)]
