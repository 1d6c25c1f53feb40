"""Numba kernel of the partitioned parameter batch: one small dense foreground solve per sample.

Values are laid out ``[entry, sample]``. Each sample builds its foreground matrix from the
deterministic one plus its changes, solves it by Gaussian elimination with partial pivoting,
checks the relative residual and scores the supply; samples are independent, so the result of
a sample does not depend on the batch size or the thread count.

Foregrounds are sparse (an activity takes in a few others): the elimination skips the rows
whose entry in the pivot column is zero and updates a row only at the pivot row's nonzero
columns, the back substitution reads each row's nonzeros found during the elimination, and the
residual reads the matrix's structural nonzeros (``m_ptr``/``m_idx``). Skipped terms are exact
zeros (``x − 0·y = x`` for finite ``y``), so the values are those of the dense elimination;
a pivot that is zero or not finite makes that step dense, as before.

Most foregrounds have no loop: ordered so that every activity comes after the activities that
consume its product, the matrix is triangular. :func:`foreground_scores` then finds that order
once per call (:func:`substitution_order`) and solves each sample by substitution over the
matrix's structural nonzeros, with no pivot search and no copy of a dense matrix; it checks the
same residual. A triangular solve is backward stable, so its supply differs from the
elimination's only by rounding.
"""

from __future__ import annotations

import math
from graphlib import CycleError, TopologicalSorter

import numpy as np
from numba import njit

from lcasolve._parallel import split


def foreground_scores(
    a_ff, w, f, value, base, in_at, in_row, in_col, out_at, out_col, out_coef, m_ptr, m_idx,
    h, worst,
) -> None:  # fmt: skip
    """``h[k] = (W + Σ_e δ_ek c_e e_jᵀ) s_k`` with ``(A_FF + Σ_e δ_ek e_r e_cᵀ) s_k = f_F``.

    ``a_ff`` (F, F) and ``w`` (Q, F) are the deterministic foreground matrix and scoring
    rows; the change of formula entry ``u`` in sample ``k`` is ``δ = value[u, k] - base[u]``.
    Entry ``in_at[e]`` inside the foreground adds its change at ``(in_row[e], in_col[e])``;
    entry ``out_at[e]`` outside adds its change times ``out_coef[e]`` to column
    ``out_col[e]`` of the scoring rows. ``m_idx[m_ptr[r]:m_ptr[r + 1]]`` are the columns, in
    increasing order, where row ``r`` of any sample's matrix can be nonzero (the nonzeros of
    ``a_ff`` and the entries inside). ``worst[k]`` receives the relative residual
    ``‖f − M s‖∞ / ‖|M| |s| + |f|‖∞`` of sample ``k``. Samples in contiguous ranges on
    threads (:func:`lcasolve._parallel.split`). A pattern with no loop is solved by
    substitution (see the module documentation), any other by elimination.
    """
    order = substitution_order(m_ptr, m_idx)
    if order is None:
        split(
            _foreground_scores, int(h.shape[0]), a_ff, w, f, value, base, in_at, in_row,
            in_col, out_at, out_col, out_coef, m_ptr, m_idx, h, worst,
        )  # fmt: skip
        return
    nf = a_ff.shape[0]
    rows = np.repeat(np.arange(nf, dtype=np.int64), np.diff(m_ptr))
    m_val = np.ascontiguousarray(a_ff[rows, m_idx], dtype=np.float64)
    # the position of each inside entry among the nonzeros (rows, then columns, ascending)
    in_slot = np.searchsorted(rows * nf + m_idx, in_row * nf + in_col).astype(np.int64)
    split(
        _substitution_scores, int(h.shape[0]), order, m_ptr, m_idx, m_val, in_slot, w, f,
        value, base, in_at, out_at, out_col, out_coef, h, worst,
    )  # fmt: skip


def substitution_order(m_ptr: np.ndarray, m_idx: np.ndarray) -> np.ndarray | None:
    """An order of the rows that makes the pattern triangular, or None when there is none.

    Row ``r``'s unknown can be solved once the unknowns of its other nonzero columns are:
    the order exists when every row has its diagonal and the pattern has no cycle.

    Parameters
    ----------
    m_ptr, m_idx : numpy.ndarray
        The pattern by rows, as for :func:`foreground_scores`.

    Returns
    -------
    numpy.ndarray or None
        Rows in the order to solve them.
    """
    graph: dict[int, list[int]] = {}
    for r in range(m_ptr.shape[0] - 1):
        cols = m_idx[m_ptr[r] : m_ptr[r + 1]].tolist()
        if r not in cols:
            return None  # structurally singular: left to the elimination's checks
        graph[r] = [j for j in cols if j != r]
    try:
        return np.fromiter(TopologicalSorter(graph).static_order(), dtype=np.int64)
    except CycleError:
        return None


@njit(cache=True, nogil=True, error_model="numpy")
def _substitution_scores(
    order, m_ptr, m_idx, m_val, in_slot, w, f, value, base, in_at, out_at, out_col, out_coef,
    h, worst, first, stop,
):  # pragma: no cover - compiled  # fmt: skip
    """:func:`foreground_scores` of the samples ``first`` to ``stop - 1`` for a loop-free pattern.

    ``m_val`` holds the deterministic matrix at the nonzeros ``m_idx``; inside entry ``e``
    changes nonzero ``in_slot[e]``; rows are solved in ``order``.
    """
    nf = f.shape[0]
    vals = np.empty_like(m_val)
    s = np.empty_like(f)
    for k in range(first, stop):
        for i in range(m_val.shape[0]):
            vals[i] = m_val[i]
        for e in range(in_slot.shape[0]):
            u = in_at[e]
            vals[in_slot[e]] += value[u, k] - base[u]
        finite = True
        for t in range(nf):
            r = order[t]
            acc = f[r]
            d = 0.0
            for i in range(m_ptr[r], m_ptr[r + 1]):
                j = m_idx[i]
                if j == r:
                    d = vals[i]
                else:
                    acc -= vals[i] * s[j]
            s[r] = acc / d
            if not math.isfinite(s[r]):
                finite = False
        residual = 0.0
        scale = 0.0
        for r in range(nf):
            acc = -f[r]
            size = abs(f[r])
            for i in range(m_ptr[r], m_ptr[r + 1]):
                j = m_idx[i]
                acc += vals[i] * s[j]
                size += abs(vals[i]) * abs(s[j])
            if not abs(acc) <= residual:  # NaN too
                residual = abs(acc)
            if not size <= scale:
                scale = size
        worst[k] = _relative(residual, scale, finite)
        _score(w, value, base, out_at, out_col, out_coef, s, h, k)


@njit(cache=True, nogil=True, error_model="numpy")
def _foreground_scores(
    a_ff, w, f, value, base, in_at, in_row, in_col, out_at, out_col, out_coef, m_ptr, m_idx,
    h, worst, first, stop,
):  # pragma: no cover - compiled  # fmt: skip
    """:func:`foreground_scores` of the samples ``first`` to ``stop - 1``."""
    nf = a_ff.shape[0]
    m = np.empty_like(a_ff)
    lu = np.empty_like(a_ff)
    s = np.empty_like(f)
    pat = np.empty((nf, nf), dtype=np.int64)
    cnt = np.empty(nf, dtype=np.int64)
    for k in range(first, stop):
        _solve_one(a_ff, w, f, value, base, in_at, in_row, in_col, out_at, out_col, out_coef,
                   m_ptr, m_idx, h, worst, k, m, lu, s, pat, cnt)  # fmt: skip


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _solve_one(
    a_ff, w, f, value, base, in_at, in_row, in_col, out_at, out_col, out_coef, m_ptr, m_idx,
    h, worst, k, m, lu, s, pat, cnt,
):  # pragma: no cover - compiled  # fmt: skip
    """Sample ``k`` of :func:`foreground_scores`, in the scratch arrays ``m``, ``lu``, ``s``.

    ``pat[c, :cnt[c]]`` receives the nonzero columns beyond ``c`` of pivot row ``c``.
    """
    nf = a_ff.shape[0]
    for r in range(nf):  # explicit loops: cheaper than slice assignment at this size
        for j in range(nf):
            m[r, j] = a_ff[r, j]
    for e in range(in_row.shape[0]):
        u = in_at[e]
        m[in_row[e], in_col[e]] += value[u, k] - base[u]
    for r in range(nf):
        s[r] = f[r]
        for j in range(nf):
            lu[r, j] = m[r, j]
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
        n_nz = 0
        for j in range(c + 1, nf):
            if lu[c, j] != 0.0:
                pat[c, n_nz] = j
                n_nz += 1
        # a zero or non-finite pivot: every column, as the dense elimination does
        dense = not (d != 0.0 and math.isfinite(d))
        if dense:
            n_nz = 0
            for j in range(c + 1, nf):
                pat[c, n_nz] = j
                n_nz += 1
        cnt[c] = n_nz
        for r in range(c + 1, nf):
            x = lu[r, c]
            if x == 0.0 and not dense:
                continue  # 0 / d: no update
            factor = x / d
            if factor != 0.0:
                if math.isfinite(factor):
                    for i in range(n_nz):
                        j = pat[c, i]
                        lu[r, j] -= factor * lu[c, j]
                else:
                    for j in range(c + 1, nf):
                        lu[r, j] -= factor * lu[c, j]
                s[r] -= factor * s[c]
    finite = True
    for c in range(nf - 1, -1, -1):
        acc = s[c]
        if finite:
            for i in range(cnt[c]):
                j = pat[c, i]
                acc -= lu[c, j] * s[j]
        else:
            for j in range(c + 1, nf):
                acc -= lu[c, j] * s[j]
        s[c] = acc / lu[c, c]
        if not math.isfinite(s[c]):
            finite = False  # 0 · s[j] is no longer 0 in the rows above
    residual = 0.0
    scale = 0.0
    for r in range(nf):
        acc = -f[r]
        size = abs(f[r])
        if finite:
            for i in range(m_ptr[r], m_ptr[r + 1]):
                j = m_idx[i]
                acc += m[r, j] * s[j]
                size += abs(m[r, j]) * abs(s[j])
        else:
            for j in range(nf):
                acc += m[r, j] * s[j]
                size += abs(m[r, j]) * abs(s[j])
        if not abs(acc) <= residual:  # NaN too
            residual = abs(acc)
        if not size <= scale:
            scale = size
    worst[k] = _relative(residual, scale, finite)
    _score(w, value, base, out_at, out_col, out_coef, s, h, k)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _relative(residual, scale, finite):  # pragma: no cover - compiled
    """The relative residual ``residual / scale``; infinite for a supply that is not finite.

    A non-finite supply (a singular matrix, a production drawn to zero) fails every tolerance.
    """
    ratio = residual / scale if scale > 0.0 else residual
    return ratio if finite and math.isfinite(ratio) else np.inf


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _score(w, value, base, out_at, out_col, out_coef, s, h, k):  # pragma: no cover - compiled
    """``h[k] = (W + Σ_e δ_ek c_e e_jᵀ) s`` for the supply ``s`` of sample ``k``."""
    for q in range(w.shape[0]):
        # summed in a register, in the order h = w s, then entry by entry (h[k, q] in memory
        # would chain every addition through a store and a load)
        acc = 0.0
        for j in range(w.shape[1]):
            acc += w[q, j] * s[j]
        for e in range(out_col.shape[0]):
            u = out_at[e]
            acc += ((value[u, k] - base[u]) * s[out_col[e]]) * out_coef[e, q]
        h[k, q] = acc
