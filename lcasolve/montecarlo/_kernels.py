"""Numba kernel of the Monte Carlo per-activity contributions; values laid out ``[entry, sample]``.

Per-sample results use the same operations in the same order whatever the batch size or
thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lcasolve._parallel import split

#: samples per thread task
_TILE = 8


def activity_contributions(
    b_indptr: np.ndarray, b_indices: np.ndarray, b_data: np.ndarray, c_indptr: np.ndarray,
    c_indices: np.ndarray, c_data: np.ndarray, x: np.ndarray, out: np.ndarray,
) -> None:  # fmt: skip
    """``out[q, j, k] = x[j, k] · Σ_r C_k[q, r] B_k[r, j]``: each activity's share of each score.

    ``B`` (flows × activities) and ``C`` (categories × flows) are CSR with per-sample values; only
    the flows a category characterizes are visited. Tiles of samples run on threads
    (:func:`lcasolve._parallel.split`) and every sum runs in the same order whatever the tiling.
    """
    n_tiles = (int(x.shape[1]) + _TILE - 1) // _TILE
    args = (b_indptr, b_indices, b_data, c_indptr, c_indices, c_data, x, out)
    split(_activity_contributions, n_tiles, *args)


@njit(cache=True, nogil=True, error_model="numpy")
def _activity_contributions(
    b_indptr, b_indices, b_data, c_indptr, c_indices, c_data, x, out, lo, hi
):  # pragma: no cover - compiled
    """:func:`activity_contributions` of the sample tiles ``lo`` to ``hi - 1``."""
    nq = c_indptr.shape[0] - 1
    n, K = x.shape
    for t in range(lo, hi):
        k0 = t * _TILE
        k1 = k0 + _TILE
        if k1 > K:
            k1 = K
        for q in range(nq):
            for j in range(n):
                for k in range(k0, k1):
                    out[q, j, k] = 0.0
            for pc in range(c_indptr[q], c_indptr[q + 1]):
                r = c_indices[pc]
                for pb in range(b_indptr[r], b_indptr[r + 1]):
                    j = b_indices[pb]
                    for k in range(k0, k1):
                        out[q, j, k] += c_data[pc, k] * b_data[pb, k]
            for j in range(n):
                for k in range(k0, k1):
                    out[q, j, k] *= x[j, k]
