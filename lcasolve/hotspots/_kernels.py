"""Numba kernel of the importance-first tree growth (private; see :mod:`lcasolve.hotspots._grow`).

Plain arrays in, plain arrays out: ``A`` in CSC form, ``λ`` (n, k), and the node arrays, which
are filled in place from position ``n`` on. The heap orders by ``(−|cumulative|, node)``, so
the largest branch is expanded first and ties go to the older node.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["grow_kernel"]


@njit(cache=True, nogil=True)
def _less(key_a: float, node_a: int, key_b: float, node_b: int) -> bool:
    return key_a < key_b or (key_a == key_b and node_a < node_b)


@njit(cache=True, nogil=True)
def _push(keys: np.ndarray, nodes: np.ndarray, size: int, key: float, node: int) -> int:
    i = size
    keys[i] = key
    nodes[i] = node
    while i > 0:
        up = (i - 1) // 2
        if _less(keys[i], nodes[i], keys[up], nodes[up]):
            keys[i], keys[up] = keys[up], keys[i]
            nodes[i], nodes[up] = nodes[up], nodes[i]
            i = up
        else:
            break
    return size + 1


@njit(cache=True, nogil=True)
def _pop(keys: np.ndarray, nodes: np.ndarray, size: int) -> int:
    """Remove the smallest entry (its node is returned in ``nodes[size - 1]``)."""
    last = size - 1
    keys[0], keys[last] = keys[last], keys[0]
    nodes[0], nodes[last] = nodes[last], nodes[0]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= last:
            break
        best = left
        right = left + 1
        if right < last and _less(keys[right], nodes[right], keys[left], nodes[left]):
            best = right
        if _less(keys[best], nodes[best], keys[i], nodes[i]):
            keys[i], keys[best] = keys[best], keys[i]
            nodes[i], nodes[best] = nodes[best], nodes[i]
            i = best
        else:
            break
    return last


@njit(cache=True, nogil=True)
def grow_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    diag: np.ndarray,
    lam: np.ndarray,
    n_inputs: np.ndarray,
    k: int,
    threshold: float,
    depth_limit: int,
    parent: np.ndarray,
    activity: np.ndarray,
    depth: np.ndarray,
    amount: np.ndarray,
    cumulative: np.ndarray,
    expanded: np.ndarray,
    n: int,
    start: np.ndarray,
) -> tuple[int, bool]:
    """Expand from ``start`` until no branch is left above ``threshold`` or the arrays are full.

    ``depth_limit < 0`` means no limit. Returns the new node count and whether the node budget
    (the arrays' length) ran out.
    """
    capacity = parent.size
    n_cat = lam.shape[1]
    keys = np.empty(capacity + start.size)
    nodes = np.empty(capacity + start.size, dtype=np.int64)
    size = 0
    for i in start:
        if depth_limit < 0 or depth[i] < depth_limit:
            size = _push(keys, nodes, size, -abs(cumulative[i, k]), i)
    full = False
    while size > 0:
        size = _pop(keys, nodes, size)
        p = nodes[size]
        j = activity[p]
        supply = amount[p] / diag[j]
        lo = indptr[j]
        hi = indptr[j + 1]
        rows = np.empty(hi - lo, dtype=np.int64)
        amt = np.empty(hi - lo)
        score = np.empty(hi - lo)
        m = 0
        for e in range(lo, hi):
            i = indices[e]
            if i == j or data[e] == 0.0:
                continue
            a = -data[e] * supply
            sc = abs(a * lam[i, k])
            if sc >= threshold and sc > 0.0:
                rows[m] = i
                amt[m] = a
                score[m] = sc
                m += 1
        order = np.argsort(-score[:m], kind="mergesort")
        room = capacity - n
        if m > room:
            full = True
            m = room
        expanded[p] = True
        d = depth[p] + 1
        deeper = depth_limit < 0 or d < depth_limit
        for q in range(m):
            idx = order[q]
            i = rows[idx]
            parent[n] = p
            activity[n] = i
            depth[n] = d
            amount[n] = amt[idx]
            for c in range(n_cat):
                cumulative[n, c] = amt[idx] * lam[i, c]
            if deeper and n_inputs[i] > 0:
                size = _push(keys, nodes, size, -score[idx], n)
            n += 1
        if full:
            break
    return n, full
