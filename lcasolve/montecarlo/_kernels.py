"""Numba kernel of the Monte Carlo per-activity contributions; values laid out ``[entry, sample]``.

Per-sample results use the same operations in the same order whatever the batch size or
thread count.
"""

from __future__ import annotations

from numba import njit, prange

#: samples per thread task
_TILE = 8


@njit(cache=True, nogil=True, parallel=True)
def activity_contributions(
    b_indptr, b_indices, b_data, c_indptr, c_indices, c_data, x, out
):  # pragma: no cover - compiled
    """``out[q, j, k] = x[j, k] · Σ_r C_k[q, r] B_k[r, j]``: each activity's share of each score.

    ``B`` (flows × activities) and ``C`` (categories × flows) are CSR with per-sample values; only
    the flows a category characterizes are visited. Tiles of samples run in parallel and every
    sum runs in the same order whatever the tiling.
    """
    nq = c_indptr.shape[0] - 1
    n, K = x.shape
    n_tiles = (K + _TILE - 1) // _TILE
    for t in prange(n_tiles):
        k0 = t * _TILE
        k1 = min(K, k0 + _TILE)
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
