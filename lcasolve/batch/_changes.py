"""Variants that differ from the deterministic technosphere in a few entries (scenarios).

A scenario that changes 1 % of the entries does not need its own copy of all values: the
Gauss-Seidel sweeps of :func:`solve_changes` read the shared deterministic values once per row
for a whole tile of variants and add each variant's few changes, so the memory they stream is
that of one matrix, not of ``K``. Each variant is checked by its own relative residual at
fixed sweep counts (the first sweep, then every :data:`_GAP` sweeps), and keeps the iterate of
the first check it passes: its result depends on its own values only, whatever the batch. A
variant that has not converged after ``max_iter`` sweeps goes to the engine's fallback (GMRES
preconditioned with the deterministic factorization, else a refactorization reusing its
symbolic analysis).
"""

from __future__ import annotations

import numpy as np

from lcasolve.batch._engine import _AIM, Baseline, BatchSettings, BatchSolution, _fallback
from lcasolve.errors import ShapeMismatchError

__all__ = ["solve_changes"]

#: sweeps between two residual checks of the variants
_GAP = 3


def _tile(count: int) -> int:
    """Variants per thread task: one wide tile per thread (multiples of 8)."""
    import numba

    per_thread = -(-count // max(1, numba.get_num_threads()))
    return max(8, -(-per_thread // 8) * 8)


def solve_changes(
    base: Baseline,
    settings: BatchSettings,
    slots: np.ndarray,
    variants: np.ndarray,
    deltas: np.ndarray,
    count: int,
    demand: int = 0,
) -> BatchSolution:
    """Solve ``A_k x_k = f`` for ``count`` variants given as changes of the deterministic ``A``.

    Variant ``k``'s matrix is ``base.values`` plus ``deltas[e]`` at slot ``slots[e]`` for
    every ``e`` with ``variants[e] == k`` (changes of the same slot and variant add up).

    Parameters
    ----------
    base : Baseline
    settings : BatchSettings
        Tolerance and ``max_iter`` (the iteration is always Gauss-Seidel).
    slots, variants, deltas : numpy.ndarray
        One change per element: slot on ``base.pattern``, variant number, added value.
    count : int
        Number of variants ``K``.
    demand : int
        Column of ``base.demands``.

    Returns
    -------
    BatchSolution
        Supplies ``(n, K)`` in sweep order.
    """
    from lcasolve.batch import _kernels
    from lcasolve.uncertainty import numba_threads

    a = base.pattern
    n, nnz, K = base.n, a.nnz, int(count)
    slots = np.asarray(slots, dtype=np.int64)
    variants = np.asarray(variants, dtype=np.int64)
    deltas = np.asarray(deltas, dtype=np.float64)
    if not (slots.shape == variants.shape == deltas.shape and slots.ndim == 1):
        raise ShapeMismatchError("slots, variants and deltas must be 1-d arrays of one length")
    if slots.size and (slots.min() < 0 or slots.max() >= nnz or variants.min() < 0
                       or variants.max() >= K):  # fmt: skip
        raise ShapeMismatchError(f"a change names a slot outside 0..{nnz - 1} or a variant "
                                 f"outside 0..{K - 1}")  # fmt: skip
    key, inverse = np.unique(variants * nnz + slots, return_inverse=True)
    merged = np.bincount(inverse, weights=deltas, minlength=key.size)
    slot, var = key % nnz, key // nnz
    keep = merged != 0.0
    slot, var, merged = slot[keep], var[keep], merged[keep]
    rows = np.repeat(np.arange(n), np.diff(a.indptr))[slot]
    on_diag = base.diag_pos[rows] == slot
    diag = np.repeat(base.values[base.diag_pos][:, None], K, axis=1)
    np.add.at(diag, (rows[on_diag], var[on_diag]), merged[on_diag])
    off = np.flatnonzero(~on_diag)
    off = off[np.argsort(rows[off], kind="stable")]
    dptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[off], minlength=n), out=dptr[1:])
    dcol = np.ascontiguousarray(a.indices[slot[off]], dtype=np.int64)
    dk = np.ascontiguousarray(var[off])
    dval = np.ascontiguousarray(merged[off])
    dbase = np.ascontiguousarray(base.values[slot[off]])
    f = np.ascontiguousarray(base.demands[:, demand])
    x0 = base.supply[:, demand]
    x = np.ascontiguousarray(np.repeat(x0[:, None], K, axis=1))
    c0, c1 = base.cycles
    changes = (dptr, dcol, dk, dval)
    with numba_threads(settings.threads):
        tile = _tile(K)
        sweep = _kernels.gauss_seidel_delta
        sweep(a.indptr, a.indices, base.values, base.diag_pos, 0, n, f, x, 1, *changes, diag, tile)
        out = np.empty_like(x)
        sweeps = 1
        r = np.empty(K)
        # no cycles: one sweep is exact, unless a variant's production became 0 (non-finite)
        done = np.isfinite(x).all(axis=0) if c0 >= c1 else np.zeros(K, dtype=bool)
        out[:, done] = x[:, done]
        while c0 < c1:
            if c1 < n:
                sweep(a.indptr, a.indices, base.values, base.diag_pos, c1, n, f, x, 1,
                      *changes, diag, tile)  # fmt: skip
            _kernels.relative_residuals_delta(
                a.indptr,
                a.indices,
                base.values,
                base.diag_pos,
                x,
                f,
                *changes,
                dbase,
                diag,
                r,
                tile,
            )
            new = ~done & (r <= _AIM * settings.tolerance)
            out[:, new] = x[:, new]
            done |= new
            if done.all() or sweeps + _GAP > settings.max_iter:
                break
            sweep(a.indptr, a.indices, base.values, base.diag_pos, c0, c1, f, x, _GAP,
                  *changes, diag, tile)  # fmt: skip
            sweeps += _GAP
        failed = np.flatnonzero(~done)
        if failed.size:
            data = np.repeat(base.values[:, None], failed.size, axis=1)
            where = np.full(K, -1, dtype=np.int64)
            where[failed] = np.arange(failed.size)
            mine = where[var] >= 0
            np.add.at(data, (slot[mine], where[var[mine]]), merged[mine])
            out[:, failed] = _fallback(
                base, settings, data, f, x0, np.arange(failed.size), numbers=failed
            )
    return BatchSolution(out, failed, sweeps)
