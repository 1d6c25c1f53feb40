"""Numba kernel of the partitioned parameter batch: one small dense foreground solve per sample.

Values are laid out ``[entry, sample]``. Each sample builds its foreground matrix from the
deterministic one plus its changes, solves it by Gaussian elimination with partial pivoting,
checks the relative residual and scores the supply; samples are independent, so the result of
a sample does not depend on the batch size or the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: samples per thread task (scratch arrays are allocated once per tile)
_TILE = 256


@njit(cache=True, nogil=True, parallel=True)
def foreground_scores(
    a_ff, w, f, in_row, in_col, in_delta, out_col, out_coef, out_delta, h, worst
):  # pragma: no cover - compiled
    """``h[k] = (W + Σ_e δ_ek c_e e_jᵀ) s_k`` with ``(A_FF + Σ_e δ_ek e_r e_cᵀ) s_k = f_F``.

    ``a_ff`` (F, F) and ``w`` (Q, F) are the deterministic foreground matrix and scoring
    rows; entry ``e`` inside the foreground adds ``in_delta[e, k]`` at ``(in_row[e],
    in_col[e])``; entry ``e`` outside adds ``out_delta[e, k] * out_coef[e]`` to column
    ``out_col[e]`` of the scoring rows. ``worst[k]`` receives the relative residual
    ``‖f − M s‖∞ / ‖|M| |s| + |f|‖∞`` of sample ``k``.
    """
    K = h.shape[0]
    n_tiles = (K + _TILE - 1) // _TILE
    for t in prange(n_tiles):
        m = np.empty_like(a_ff)
        lu = np.empty_like(a_ff)
        s = np.empty_like(f)
        for k in range(t * _TILE, min(K, (t + 1) * _TILE)):
            _solve_one(a_ff, w, f, in_row, in_col, in_delta, out_col, out_coef, out_delta,
                       h, worst, k, m, lu, s)  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _solve_one(
    a_ff, w, f, in_row, in_col, in_delta, out_col, out_coef, out_delta, h, worst, k, m, lu, s
):  # pragma: no cover - compiled
    """Sample ``k`` of :func:`foreground_scores`, in the scratch arrays ``m``, ``lu``, ``s``."""
    nf = a_ff.shape[0]
    nq = w.shape[0]
    m[:] = a_ff
    for e in range(in_row.shape[0]):
        m[in_row[e], in_col[e]] += in_delta[e, k]
    lu[:] = m
    s[:] = f
    for c in range(nf):
        p = c
        big = abs(lu[c, c])
        for r in range(c + 1, nf):
            if abs(lu[r, c]) > big:
                big = abs(lu[r, c])
                p = r
        if p != c:
            for j in range(nf):
                t = lu[c, j]
                lu[c, j] = lu[p, j]
                lu[p, j] = t
            t = s[c]
            s[c] = s[p]
            s[p] = t
        d = lu[c, c]
        for r in range(c + 1, nf):
            factor = lu[r, c] / d
            if factor != 0.0:
                for j in range(c + 1, nf):
                    lu[r, j] -= factor * lu[c, j]
                s[r] -= factor * s[c]
    for c in range(nf - 1, -1, -1):
        acc = s[c]
        for j in range(c + 1, nf):
            acc -= lu[c, j] * s[j]
        s[c] = acc / lu[c, c]
    residual = 0.0
    scale = 0.0
    for r in range(nf):
        acc = -f[r]
        size = abs(f[r])
        for j in range(nf):
            acc += m[r, j] * s[j]
            size += abs(m[r, j]) * abs(s[j])
        residual = max(residual, abs(acc))
        scale = max(scale, size)
    worst[k] = residual / scale if scale > 0.0 else residual
    if not np.isfinite(worst[k]):
        worst[k] = np.inf
    for q in range(nq):
        acc = 0.0
        for j in range(nf):
            acc += w[q, j] * s[j]
        h[k, q] = acc
    for e in range(out_col.shape[0]):
        x = out_delta[e, k] * s[out_col[e]]
        for q in range(nq):
            h[k, q] += x * out_coef[e, q]
