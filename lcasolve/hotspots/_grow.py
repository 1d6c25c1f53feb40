"""Growing an upstream tree importance-first, on plain arrays (no solve, only column walks).

A node is one visit of an activity on one path from the root. Expanding node ``p`` (activity
``j``, product amount ``a_p``, supply ``s_p = a_p / A[j, j]``) looks at column ``j`` of ``A``:
each input ``i`` gets the product amount ``a_i = −A[i, j] s_p`` and the cumulative score
``a_i λ_i``. A child is kept when ``|a_i λ_i| ≥ threshold``; nodes are expanded largest
``|cumulative|`` first until the node budget is spent, so the tree holds the biggest branches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lcasolve.hotspots._basis import Basis

__all__ = ["Buffer", "grow"]

#: activity of the virtual root that stands for a functional unit of several products
VIRTUAL = -1


@dataclass
class Buffer:
    """Preallocated node arrays filled while growing; ``n`` nodes are in use."""

    parent: np.ndarray
    activity: np.ndarray
    depth: np.ndarray
    amount: np.ndarray
    cumulative: np.ndarray
    expanded: np.ndarray
    n: int = 0

    @classmethod
    def empty(cls, capacity: int, k: int) -> Buffer:
        """Room for ``capacity`` nodes and ``k`` categories."""
        return cls(
            parent=np.full(capacity, -1, dtype=np.int64),
            activity=np.full(capacity, VIRTUAL, dtype=np.int64),
            depth=np.zeros(capacity, dtype=np.int32),
            amount=np.zeros(capacity),
            cumulative=np.zeros((capacity, k)),
            expanded=np.zeros(capacity, dtype=bool),
        )

    @classmethod
    def from_arrays(
        cls,
        capacity: int,
        parent: np.ndarray,
        activity: np.ndarray,
        depth: np.ndarray,
        amount: np.ndarray,
        cumulative: np.ndarray,
        expanded: np.ndarray,
    ) -> Buffer:
        """A buffer holding existing nodes, with room for ``capacity`` in total."""
        buf = cls.empty(capacity, cumulative.shape[1])
        n = parent.size
        buf.parent[:n] = parent
        buf.activity[:n] = activity
        buf.depth[:n] = depth
        buf.amount[:n] = amount
        buf.cumulative[:n] = cumulative
        buf.expanded[:n] = expanded
        buf.n = n
        return buf

    def add(
        self, parent: int, activity: np.ndarray, depth: int, amount: np.ndarray, cum: np.ndarray
    ) -> range:
        """Append children of ``parent``; returns their node indices."""
        lo, hi = self.n, self.n + activity.size
        self.parent[lo:hi] = parent
        self.activity[lo:hi] = activity
        self.depth[lo:hi] = depth
        self.amount[lo:hi] = amount
        self.cumulative[lo:hi] = cum
        self.n = hi
        return range(lo, hi)

    @property
    def capacity(self) -> int:
        """How many nodes fit."""
        return int(self.parent.size)


def select(
    basis: Basis, rows: np.ndarray, amount: np.ndarray, k: int, threshold: float
) -> np.ndarray:
    """Positions of the inputs kept (``|a_i λ_ik| ≥ threshold`` and nonzero), largest first."""
    score = np.abs(amount * basis.lam[rows, k])
    keep = np.flatnonzero((score >= threshold) & (score > 0))
    if keep.size > 1:
        keep = keep[np.argsort(-score[keep], kind="stable")]
    return keep


def grow(
    basis: Basis,
    buf: Buffer,
    start: list[int],
    *,
    k: int,
    threshold: float,
    depth_limit: int | None,
) -> bool:
    """Expand from the ``start`` nodes, largest ``|cumulative|`` first, until done or full.

    Parameters
    ----------
    basis : Basis
    buf : Buffer
        Nodes so far; children are appended.
    start : list of int
        Unexpanded nodes to grow from (each is expanded if the depth limit allows).
    k : int
        Category that decides the order and the cut-off.
    threshold : float
        An input is kept when ``|cumulative| ≥ threshold``.
    depth_limit : int or None
        Nodes at this depth are not expanded.

    Returns
    -------
    bool
        True when the node budget ran out before every branch above the threshold was shown.
    """
    from lcasolve.hotspots._kernels import grow_kernel

    n, full = grow_kernel(
        basis.indptr,
        basis.indices,
        basis.data,
        basis.diag,
        basis.lam,
        basis.n_inputs,
        int(k),
        float(threshold),
        -1 if depth_limit is None else int(depth_limit),
        buf.parent,
        buf.activity,
        buf.depth,
        buf.amount,
        buf.cumulative,
        buf.expanded,
        int(buf.n),
        np.asarray(start, dtype=np.int64),
    )
    buf.n = int(n)
    return bool(full)
