"""Gauss-Seidel sweep order: consumers before suppliers, loops ordered by a feedback weight."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["sweep_order"]


def sweep_order(
    A: sp.spmatrix,  # noqa: N803
    supply: np.ndarray | None = None,
) -> tuple[np.ndarray, int, int]:
    """Activities ordered consumers before suppliers, and the range of the cyclic rows.

    Components (strongly connected) follow a topological order of the component graph, so a
    Gauss-Seidel sweep solves the acyclic part of ``A`` exactly; only the cycles need further
    sweeps. Inside each cycle the activities follow a greedy minimum-feedback order
    (:func:`~lcasolve.batch._kernels.greedy_order`) of the edges consumer ``j`` → supplier
    ``i`` weighted by ``|a_ij| s_j / (a_ii s_i)``, the share of ``i``'s output that ``j`` uses
    (with a supply ``s``, e.g. the deterministic one): the stale values a sweep reads then carry
    little weight, and sweeps converge faster.

    Returns
    -------
    order : numpy.ndarray
        Activity positions in sweep order.
    start, stop : int
        Positions in ``order`` of the first and one past the last activity in a cycle (equal
        when ``A`` has no cycles). Rows before ``start`` are exact after one sweep; rows from
        ``stop`` on are exact after one sweep that follows the cycles.
    """
    from scipy.sparse.csgraph import connected_components

    from lcasolve.batch._kernels import greedy_order

    A = sp.csr_matrix(A)  # noqa: N806
    n = A.shape[0]
    n_comp, label = connected_components(A, directed=True, connection="strong")
    coo = A.tocoo()
    # edge consumer (column) -> supplier (row) between different components
    src, dst = label[coo.col], label[coo.row]
    keep = src != dst
    cond = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (src[keep], dst[keep])), shape=(n_comp, n_comp)
    )
    cond.sum_duplicates()
    indeg = np.bincount(cond.indices, minlength=n_comp)
    stack = list(np.flatnonzero(indeg == 0))
    rank = np.empty(n_comp, dtype=np.int64)
    pos = 0
    indptr, indices = cond.indptr, cond.indices
    while stack:
        c = stack.pop()
        rank[c] = pos
        pos += 1
        for d in indices[indptr[c] : indptr[c + 1]]:
            indeg[d] -= 1
            if indeg[d] == 0:
                stack.append(d)
    inner = np.arange(n, dtype=np.int64)
    size = np.bincount(label, minlength=n_comp)
    cyclic = size[label] > 1
    if cyclic.any():
        s = np.ones(n) if supply is None else np.abs(np.asarray(supply, dtype=np.float64))
        s = np.where(s > 0, s, 0.0)
        within = (src == dst) & (coo.row != coo.col) & cyclic[coo.row]
        i, j = coo.row[within], coo.col[within]
        diag = np.abs(A.diagonal())
        den = diag[i] * s[i]
        w = np.divide(np.abs(coo.data[within]) * s[j], den, out=np.zeros(i.size), where=den > 0)
        by_src = sp.csr_matrix((w, (j, i)), shape=(n, n))  # u = consumer j -> v = supplier i
        by_dst = sp.csr_matrix((w, (i, j)), shape=(n, n))
        for m in (by_src, by_dst):
            m.sort_indices()
        inner[
            greedy_order(
                n,
                by_src.indptr.astype(np.int64),
                by_src.indices.astype(np.int64),
                by_src.data,
                by_dst.indptr.astype(np.int64),
                by_dst.indices.astype(np.int64),
                by_dst.data,
            )
        ] = np.arange(n)
    order = np.lexsort((inner, rank[label])).astype(np.int64)
    where = np.flatnonzero(cyclic[order])
    if not where.size:
        return order, n, n
    return order, int(where[0]), int(where[-1]) + 1
