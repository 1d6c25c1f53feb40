"""Numba kernels of the batched solver; values are laid out ``[entry, sample]``.

Every per-sample result is computed with the same operations in the same order whatever the
number of samples in a block or the number of threads: reductions run over entries inside one
sample, never across samples, so results are bit-identical for any batch size.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lcasolve._parallel import split

#: samples per thread task in the triangular solves
_TILE = 8


def _tiles(K: int) -> int:
    """Tiles of ``_TILE`` samples covering ``K`` samples."""
    return (K + _TILE - 1) // _TILE


def spmv(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray, y: np.ndarray
) -> None:
    """Batched CSR product ``y[:, k] = M_k x[:, k]`` with per-sample values ``data[:, k]``.

    Rows in contiguous ranges on threads (:func:`lcasolve._parallel.split`).
    """
    split(_spmv, int(indptr.shape[0] - 1), indptr, indices, data, x, y)


@njit(cache=True, nogil=True, error_model="numpy")
def _spmv(indptr, indices, data, x, y, lo, hi):  # pragma: no cover - compiled
    """:func:`spmv` of rows ``lo`` to ``hi - 1``."""
    K = x.shape[1]
    for i in range(lo, hi):
        for k in range(K):
            y[i, k] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            for k in range(K):
                y[i, k] += data[p, k] * x[j, k]


def residual(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray, f: np.ndarray,
    r: np.ndarray,
) -> None:  # fmt: skip
    """``r[:, k] = f - M_k x[:, k]``; rows in contiguous ranges on threads."""
    split(_residual, int(indptr.shape[0] - 1), indptr, indices, data, x, f, r)


@njit(cache=True, nogil=True, error_model="numpy")
def _residual(indptr, indices, data, x, f, r, lo, hi):  # pragma: no cover - compiled
    """:func:`residual` of rows ``lo`` to ``hi - 1``."""
    K = x.shape[1]
    for i in range(lo, hi):
        for k in range(K):
            r[i, k] = f[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            for k in range(K):
                r[i, k] -= data[p, k] * x[j, k]


def gauss_seidel(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    diag_pos: np.ndarray,
    r0: int,
    r1: int,
    f: np.ndarray,
    x: np.ndarray,
    sweeps: int,
) -> None:
    """``sweeps`` Gauss-Seidel sweeps over rows ``r0 … r1 - 1`` for every column ``k`` of ``x``.

    Rows are numbered in sweep order (consumers before their suppliers, so the acyclic part is
    solved exactly in one sweep) and visited in that order, reading ``data`` sequentially.
    Tiles of contiguous samples run on threads (:func:`lcasolve._parallel.split`); each
    sample's arithmetic is the same whatever the tile, so results do not depend on the block
    or the threads.
    """
    n_tiles = _tiles(int(x.shape[1]))
    args = (indptr, indices, data, diag_pos, int(r0), int(r1), f, x, int(sweeps))
    split(_gauss_seidel, n_tiles, *args)


@njit(cache=True, nogil=True, error_model="numpy")
def _gauss_seidel(
    indptr, indices, data, diag_pos, r0, r1, f, x, sweeps, lo, hi
):  # pragma: no cover - compiled
    """:func:`gauss_seidel` of the sample tiles ``lo`` to ``hi - 1``."""
    K = x.shape[1]
    for t in range(lo, hi):
        k0 = t * _TILE
        w = K - k0 if K - k0 < _TILE else _TILE
        acc = np.empty(_TILE)
        for _ in range(sweeps):
            for i in range(r0, r1):
                fi = f[i]
                for q in range(_TILE):
                    acc[q] = fi
                d = diag_pos[i]
                for p in range(indptr[i], indptr[i + 1]):
                    if p == d:
                        continue
                    j = indices[p]
                    if w == _TILE:  # full tile: a fixed trip count the compiler vectorizes
                        for q in range(_TILE):
                            acc[q] -= data[p, k0 + q] * x[j, k0 + q]
                    else:
                        for q in range(w):
                            acc[q] -= data[p, k0 + q] * x[j, k0 + q]
                for q in range(w):
                    x[i, k0 + q] = acc[q] / data[d, k0 + q]


@njit(cache=True, nogil=True)
def _heap_push(keys, verts, size, key, v):  # pragma: no cover - compiled
    """Push ``(key, v)`` on the binary min-heap ``keys[:size], verts[:size]``; new size.

    Entries compare as the tuples ``(key, v)`` (as :mod:`heapq` compares them), so the pops
    come in the same order as from a ``heapq`` list of tuples.
    """
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        pk = keys[parent]
        if pk < key or (pk == key and verts[parent] <= v):
            break
        keys[i] = pk
        verts[i] = verts[parent]
        i = parent
    keys[i] = key
    verts[i] = v
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(keys, verts, size):  # pragma: no cover - compiled
    """Remove the smallest ``(key, v)`` of the heap; returns ``(key, v, new size)``."""
    top_k = keys[0]
    top_v = verts[0]
    size -= 1
    last_k = keys[size]
    last_v = verts[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size:
            rk = keys[right]
            lk = keys[child]
            if rk < lk or (rk == lk and verts[right] < verts[child]):
                child = right
        ck = keys[child]
        if last_k < ck or (last_k == ck and last_v <= verts[child]):
            break
        keys[i] = ck
        verts[i] = verts[child]
        i = child
    if size > 0:
        keys[i] = last_k
        verts[i] = last_v
    return top_k, top_v, size


@njit(cache=True, nogil=True)
def greedy_order(n, out_ptr, out_idx, out_w, in_ptr, in_idx, in_w):  # pragma: no cover
    """A vertex order with little weight on backward edges (Eades-Lin-Smyth greedy heuristic).

    Edges ``u -> v`` ("``u`` should come before ``v``") are given twice in CSR form: by source
    (``out_*``) and by target (``in_*``), with weights. Repeatedly: a vertex without outgoing
    edges goes to the back, one without incoming edges to the front, otherwise the vertex with
    the largest outgoing minus incoming weight to the front. Ties go to the lowest index.

    The candidates wait in an array heap with lazy deletion (stale entries are skipped when
    popped); plain loops and arrays only, which compile in a fraction of the time of a
    ``heapq`` list of tuples and of slice assignments.
    """
    # np.empty of two dtypes only (each np.zeros, np.ones or dtype is one more compilation)
    w_out = np.empty(n)
    w_in = np.empty(n)
    n_out = np.empty(n, dtype=np.int64)
    n_in = np.empty(n, dtype=np.int64)
    alive = np.empty(n, dtype=np.int64)
    for u in range(n):
        w_out[u] = 0.0
        w_in[u] = 0.0
        n_out[u] = 0
        n_in[u] = 0
        alive[u] = 1
        for p in range(out_ptr[u], out_ptr[u + 1]):
            w_out[u] += out_w[p]
            n_out[u] += 1
        for p in range(in_ptr[u], in_ptr[u + 1]):
            w_in[u] += in_w[p]
            n_in[u] += 1
    front = np.empty(n, dtype=np.int64)
    back = np.empty(n, dtype=np.int64)
    sinks = np.empty(n, dtype=np.int64)
    sources = np.empty(n, dtype=np.int64)
    nf = nb = ns = nsrc = 0
    for u in range(n - 1, -1, -1):
        if n_out[u] == 0:
            sinks[ns] = u
            ns += 1
        elif n_in[u] == 0:
            sources[nsrc] = u
            nsrc += 1
    # every vertex once, then at most one push per edge end
    capacity = n + out_idx.shape[0] + in_idx.shape[0]
    heap_k = np.empty(capacity)
    heap_v = np.empty(capacity, dtype=np.int64)
    size = np.int64(0)
    for u in range(n):
        size = _heap_push(heap_k, heap_v, size, -(w_out[u] - w_in[u]), u)
    removed = 0
    while removed < n:
        u = -1
        to_front = True
        if ns > 0:
            ns -= 1
            u = sinks[ns]
            to_front = False
        elif nsrc > 0:
            nsrc -= 1
            u = sources[nsrc]
        else:
            while size > 0:
                key, v, size = _heap_pop(heap_k, heap_v, size)
                if alive[v] and key == -(w_out[v] - w_in[v]):
                    u = v
                    break
        if u < 0 or not alive[u]:
            continue
        alive[u] = 0
        removed += 1
        if to_front:
            front[nf] = u
            nf += 1
        else:
            back[nb] = u
            nb += 1
        for p in range(out_ptr[u], out_ptr[u + 1]):
            v = out_idx[p]
            if alive[v]:
                w_in[v] -= out_w[p]
                n_in[v] -= 1
                if n_in[v] == 0 and n_out[v] > 0:
                    sources[nsrc] = v
                    nsrc += 1
                size = _heap_push(heap_k, heap_v, size, -(w_out[v] - w_in[v]), v)
        for p in range(in_ptr[u], in_ptr[u + 1]):
            v = in_idx[p]
            if alive[v]:
                w_out[v] -= in_w[p]
                n_out[v] -= 1
                if n_out[v] == 0:
                    sinks[ns] = v
                    ns += 1
                size = _heap_push(heap_k, heap_v, size, -(w_out[v] - w_in[v]), v)
    out = np.empty(n, dtype=np.int64)
    for i in range(nf):
        out[i] = front[i]
    for i in range(nb):
        out[nf + i] = back[nb - 1 - i]
    return out


def block_relative_residuals(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    x: np.ndarray,
    f: np.ndarray,
    out: np.ndarray,
) -> None:
    """Relative residual of ``A_k x_k = f`` for every column ``k`` of contiguous ``data``, ``x``.

    ``out[k] = max_i |f_i − (A_k x_k)_i| / max_i (Σ_j |a_ij x_j| + |f_i|)``: entries of columns
    with zero supply do not count, so parts of the matrix the demand does not reach (sampled or
    not) cannot loosen the test. Tiles of samples run on threads
    (:func:`lcasolve._parallel.split`); each column's value is the same whatever the other
    columns (the same operations in the same order).
    """
    split(_block_relative_residuals, _tiles(int(x.shape[1])), indptr, indices, data, x, f, out)


@njit(cache=True, nogil=True, error_model="numpy")
def _block_relative_residuals(indptr, indices, data, x, f, out, lo, hi):  # pragma: no cover
    """:func:`block_relative_residuals` of the sample tiles ``lo`` to ``hi - 1``."""
    m = indptr.shape[0] - 1
    K = x.shape[1]
    r = np.empty(_TILE)
    a = np.empty(_TILE)
    worst = np.empty(_TILE)
    scale = np.empty(_TILE)
    for t in range(lo, hi):
        k0 = t * _TILE
        w = K - k0 if K - k0 < _TILE else _TILE
        for q in range(_TILE):
            worst[q] = 0.0
            scale[q] = 0.0
        for i in range(m):
            fi = f[i]
            for q in range(_TILE):
                r[q] = fi
                a[q] = abs(fi)
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if w == _TILE:  # full tile: a fixed trip count the compiler vectorizes
                    for q in range(_TILE):
                        v = data[p, k0 + q] * x[j, k0 + q]
                        r[q] -= v
                        a[q] += abs(v)
                else:
                    for q in range(w):
                        v = data[p, k0 + q] * x[j, k0 + q]
                        r[q] -= v
                        a[q] += abs(v)
            for q in range(w):
                ar = abs(r[q])
                if ar > worst[q] or ar != ar:
                    worst[q] = ar
                if a[q] > scale[q]:
                    scale[q] = a[q]
        for q in range(w):
            out[k0 + q] = worst[q] / scale[q] if scale[q] > 0 else worst[q]


@njit(cache=True, nogil=True, parallel=True)
def gauss_seidel_delta(
    indptr, indices, values, diag_pos, r0, r1, f, x, sweeps, dptr, dcol, dk, dval, diag, tile
):  # pragma: no cover - compiled
    """:func:`gauss_seidel` for variants that differ from ``values`` in a few entries.

    Variant ``k``'s matrix is the shared ``values`` plus, for each off-diagonal change ``e``
    of row ``i`` (``dptr[i] <= e < dptr[i + 1]``), ``dval[e]`` at column ``dcol[e]`` of
    variant ``dk[e]``; its diagonal is ``diag[:, k]``. The shared values are read once per row
    for a whole tile of ``tile`` variants, and wide tiles (one per thread) make each random
    access ``x[j, :]`` fetch many variants at once. A variant's arithmetic does not depend on
    the tile.
    """
    K = x.shape[1]
    n_tiles = (K + tile - 1) // tile
    for t in prange(n_tiles):
        k0 = t * tile
        w = min(K, k0 + tile) - k0
        acc = np.empty(tile)
        for _ in range(sweeps):
            for i in range(r0, r1):
                fi = f[i]
                for q in range(w):
                    acc[q] = fi
                d = diag_pos[i]
                for p in range(indptr[i], indptr[i + 1]):
                    if p == d:
                        continue
                    a = values[p]
                    j = indices[p]
                    for q in range(w):
                        acc[q] -= a * x[j, k0 + q]
                for e in range(dptr[i], dptr[i + 1]):
                    q = dk[e] - k0
                    if 0 <= q < w:
                        acc[q] -= dval[e] * x[dcol[e], dk[e]]
                for q in range(w):
                    x[i, k0 + q] = acc[q] / diag[i, k0 + q]


@njit(cache=True, nogil=True, parallel=True)
def relative_residuals_delta(
    indptr, indices, values, diag_pos, x, f, dptr, dcol, dk, dval, dbase, diag, out, tile
):  # pragma: no cover - compiled
    """:func:`block_relative_residuals` of the variants of :func:`gauss_seidel_delta`.

    ``dbase[e]`` is the shared value of the entry change ``e`` applies to (one change per
    entry and variant): the absolute sum ``Σ_j |a_ij x_j|`` swaps that entry's shared term for
    its own, so it is the one of the variant's matrix.
    """
    m = indptr.shape[0] - 1
    K = x.shape[1]
    n_tiles = (K + tile - 1) // tile
    for t in prange(n_tiles):
        k0 = t * tile
        w = min(K, k0 + tile) - k0
        r = np.empty(tile)
        a = np.empty(tile)
        worst = np.zeros(tile)
        scale = np.zeros(tile)
        for i in range(m):
            fi = f[i]
            for q in range(w):
                r[q] = fi
                a[q] = abs(fi)
            d = diag_pos[i]
            for q in range(w):
                v = diag[i, k0 + q] * x[i, k0 + q]
                r[q] -= v
                a[q] += abs(v)
            for p in range(indptr[i], indptr[i + 1]):
                if p == d:
                    continue
                j = indices[p]
                vp = values[p]
                for q in range(w):
                    v = vp * x[j, k0 + q]
                    r[q] -= v
                    a[q] += abs(v)
            for e in range(dptr[i], dptr[i + 1]):
                q = dk[e] - k0
                if 0 <= q < w:
                    xj = x[dcol[e], dk[e]]
                    r[q] -= dval[e] * xj
                    a[q] += abs((dbase[e] + dval[e]) * xj) - abs(dbase[e] * xj)
            for q in range(w):
                ar = abs(r[q])
                if ar > worst[q] or ar != ar:
                    worst[q] = ar
                if a[q] > scale[q]:
                    scale[q] = a[q]
        for q in range(w):
            out[k0 + q] = worst[q] / scale[q] if scale[q] > 0 else worst[q]
