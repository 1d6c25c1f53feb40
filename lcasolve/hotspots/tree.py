"""The upstream (supply-chain) tree of a functional unit: one node per visit of an activity.

Every node's cumulative score is its product amount times ``λ`` of that product (one adjoint
solve for all activities); a node's cumulative equals its direct score plus its children plus a
*rest* for the branches the cut-off, depth limit or node budget hides, so nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InvalidParameterError
from lcasolve.hotspots import _render
from lcasolve.hotspots._basis import (
    Basis,
    Totals,
    check_cutoff,
    check_max_depth,
    check_max_nodes,
)
from lcasolve.hotspots._grow import VIRTUAL, Buffer, grow, select

__all__ = ["SupplyTree", "build_tree"]


@dataclass(frozen=True, eq=False)
class SupplyTree:
    """An upstream tree with cut-off, rest entries and coverage (immutable).

    Node ``0`` is the root: the demanded product, or a virtual "functional unit" node when the
    demand names several products. Nodes are stored as arrays (one entry per node); children
    follow their parent. A node's *path* (``"301/45/12"``) lists the technosphere positions of
    the activities from the root to it; it is the same in every run on the same system.

    Attributes
    ----------
    demand : dict
        ``{product id: amount}``.
    category : str
        The impact category whose scores chose the branches (names of all: ``categories``).
    categories : tuple of str
        Every category; ``direct``, ``cumulative`` and ``rest`` have one column per category.
    unit : str
        Unit of the ``category`` score.
    cutoff : float
        A branch is shown when ``|cumulative| ≥ cutoff × totals.gross``.
    max_depth : int or None
        Depth limit of the first build (the root has depth 0).
    max_nodes : int
        Node budget of the first build.
    totals : Totals
        Net score (``LCAResult.score``), positive and negative contributions, gross total.
    truncated : bool
        True when the node budget ran out before every branch above the cut-off was shown.
    parent, activity, depth : numpy.ndarray
        Per node: parent node (-1 for the root), technosphere position (-1 for a virtual
        root) and depth.
    amount, supply : numpy.ndarray
        Per node: amount of the activity's product (in its unit) and the activity's scaling.
    direct, cumulative, rest : numpy.ndarray
        ``(nodes, categories)``: own emissions' score, whole upstream's score, and what hidden
        branches hold: ``cumulative = direct + Σ children's cumulative + rest``.
    expanded : numpy.ndarray
        Per node: whether its inputs were looked at (else its whole upstream is in ``rest``).
    hidden : numpy.ndarray
        Per node: how many of its inputs are not shown as children.
    """

    demand: dict[Hashable, float]
    category: str
    categories: tuple[str, ...]
    unit: str
    cutoff: float
    max_depth: int | None
    max_nodes: int
    totals: Totals
    truncated: bool
    parent: np.ndarray
    activity: np.ndarray
    depth: np.ndarray
    amount: np.ndarray
    supply: np.ndarray
    direct: np.ndarray
    cumulative: np.ndarray
    rest: np.ndarray
    expanded: np.ndarray
    hidden: np.ndarray
    basis: Basis = field(repr=False)

    # ------------------------------------------------------------------ structure
    @property
    def n_nodes(self) -> int:
        """Number of nodes (the root included)."""
        return int(self.parent.size)

    def __len__(self) -> int:
        return self.n_nodes

    @property
    def k(self) -> int:
        """Column of ``category`` in ``direct``, ``cumulative`` and ``rest``."""
        return self.categories.index(self.category)

    @cached_property
    def _children(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.parent[1:], kind="stable") + 1
        counts = np.bincount(self.parent[1:], minlength=self.n_nodes)
        return np.concatenate([[0], np.cumsum(counts)]), order

    def children(self, node: int) -> np.ndarray:
        """Node indices of the children of ``node``, largest ``|cumulative|`` first."""
        indptr, order = self._children
        return order[indptr[node] : indptr[node + 1]]

    @cached_property
    def preorder(self) -> np.ndarray:
        """Node indices depth-first, children largest first (the order of ``to_frame``)."""
        indptr, order = self._children
        out = np.empty(self.n_nodes, dtype=np.int64)
        stack = [0]
        pos = 0
        while stack:
            p = stack.pop()
            out[pos] = p
            pos += 1
            stack.extend(reversed(order[indptr[p] : indptr[p + 1]].tolist()))
        return out

    @cached_property
    def paths(self) -> np.ndarray:
        """Path id of every node: technosphere positions from the root, joined by ``/``."""
        step = np.array([str(int(a)) for a in self.activity], dtype=object)
        out = np.empty(self.n_nodes, dtype=object)
        out[0] = "" if self.activity[0] == VIRTUAL else step[0]
        for d in range(1, int(self.depth.max()) + 1 if self.n_nodes > 1 else 1):
            at = np.flatnonzero(self.depth == d)
            up = out[self.parent[at]]
            out[at] = np.where(up == "", step[at], up + "/" + step[at])
        return out

    def path_ids(self, nodes: np.ndarray | Sequence[int]) -> np.ndarray:
        """The path ids (as :attr:`paths`) of some nodes only, walking up from each.

        :attr:`paths` builds every node's id, which costs the sum of all depths: quadratic for
        the deep trees of a loop with a gain near 1 (a chain of ``max_nodes``).
        """
        out = np.empty(len(nodes), dtype=object)
        for i, node in enumerate(np.asarray(nodes, dtype=np.int64).tolist()):
            steps = []
            while node >= 0:
                parent = int(self.parent[node])
                if parent >= 0 or self.activity[node] != VIRTUAL:  # a virtual root has no step
                    steps.append(str(int(self.activity[node])))
                node = parent
            out[i] = "/".join(reversed(steps))
        return out

    @cached_property
    def _index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.paths.tolist())}

    def node(self, path: str | int) -> int:
        """Node index of a path id (an int is taken as a node index and checked).

        Raises
        ------
        InvalidParameterError
            If no node has that path.
        """
        if isinstance(path, (int, np.integer)) and not isinstance(path, bool):
            if 0 <= path < self.n_nodes:
                return int(path)
            raise InvalidParameterError(f"node {path} is not in the tree ({self.n_nodes} nodes)")
        try:
            return self._index[str(path).strip("/")]
        except KeyError:
            raise InvalidParameterError(f"no node of the tree has the path {path!r}") from None

    # ------------------------------------------------------------------ numbers
    @property
    def score(self) -> float:
        """The root's cumulative score in ``category`` (equals ``LCAResult.score``)."""
        return float(self.cumulative[0, self.k])

    @property
    def share(self) -> np.ndarray:
        """Per node: signed share of the net total, ``cumulative / totals.net``."""
        return self.totals.share(self.cumulative[:, self.k])

    @property
    def coverage(self) -> float:
        """Share of the net total explained by the direct scores of the nodes shown."""
        if self.totals.net == 0:
            return float("nan")
        return float(self.direct[:, self.k].sum() / self.totals.net)

    # ------------------------------------------------------------------ growing
    def expand(
        self,
        path: str | int,
        *,
        cutoff: float | None = None,
        max_depth: int | None = None,
        max_nodes: int | None = None,
    ) -> SupplyTree:
        """A new tree with the branch at ``path`` grown again, without any further solve.

        The branch below the node is rebuilt with the given rule; the rest of the tree is kept.

        Parameters
        ----------
        path : str or int
            Path id (or node index) of the node to grow from.
        cutoff : float, optional
            Cut-off for this branch, as a share of the gross total (default: the tree's).
        max_depth : int, optional
            Depth limit *below the node* (default: none; the cut-off and budget bound it).
        max_nodes : int, optional
            How many nodes the branch may add (default: the tree's ``max_nodes``).

        Returns
        -------
        SupplyTree
        """
        p = self.node(path)
        cut = self.cutoff if cutoff is None else check_cutoff(cutoff)
        depth = check_max_depth(max_depth)
        budget = self.max_nodes if max_nodes is None else check_max_nodes(max_nodes)
        if self.activity[p] == VIRTUAL:
            return build_from(
                self.basis, self.demand, _f(self), self.totals, k=self.k, cutoff=cut,
                max_depth=depth, max_nodes=budget, categories=self.categories, unit=self.unit,
            )  # fmt: skip
        keep = ~self._below(p)
        remap = np.cumsum(keep) - 1
        parent = np.where(self.parent[keep] >= 0, remap[self.parent[keep]], -1)
        expanded = self.expanded[keep].copy()
        q = int(remap[p])
        expanded[q] = False
        buf = Buffer.from_arrays(
            int(keep.sum()) + budget,
            parent,
            self.activity[keep],
            self.depth[keep],
            self.amount[keep],
            self.cumulative[keep],
            expanded,
        )
        limit = None if depth is None else int(self.depth[p]) + depth
        full = grow(
            self.basis, buf, [q], k=self.k, threshold=cut * self.totals.gross, depth_limit=limit
        )
        return finish(self.basis, buf, self, truncated=self.truncated or full)

    def _below(self, p: int) -> np.ndarray:
        """Mask of the strict descendants of node ``p``."""
        mask = np.zeros(self.n_nodes, dtype=bool)
        inside = np.zeros(self.n_nodes, dtype=bool)
        inside[p] = True
        for i in range(p + 1, self.n_nodes):  # children always follow their parent
            if inside[self.parent[i]]:
                inside[i] = mask[i] = True
        return mask

    # ------------------------------------------------------------------ output
    def to_frame(self, *, rest: bool = True, unlinked: bool = True) -> pd.DataFrame:
        """One row per node, depth-first, with rest and unlinked-input rows.

        Parameters
        ----------
        rest : bool
            Add a ``rest`` row under each node whose hidden branches hold a nonzero score.
        unlinked : bool
            Add an ``unlinked`` row for each input the linker cut off (no provider in the data);
            their scores are NaN: the system holds no data for them.

        Returns
        -------
        pandas.DataFrame
            Columns ``path``, ``depth``, ``kind`` (``activity``, ``rest``, ``unlinked``),
            ``activity_id``, ``name``, ``location``, ``amount``, ``unit``, ``supply``,
            ``direct``, ``cumulative``, ``rest``, ``share`` and ``hidden``.
        """
        return _render.frame(self, rest=rest, unlinked=unlinked)

    def unlinked_inputs(self) -> pd.DataFrame:
        """Every cut-off input of every node shown: path, activity, flow, amount, issue."""
        return _render.unlinked_frame(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and the nodes (rest and unlinked entries inside each node)."""
        return _render.tree_dict(self)

    def to_text(self, *, max_rows: int | None = None) -> str:
        """A readable indented tree (as the CLI prints it)."""
        return _render.tree_text(self, max_rows=max_rows)

    def _repr_html_(self) -> str:
        return _render.tree_html(self)


def _f(tree: SupplyTree) -> np.ndarray:
    f = np.zeros(tree.basis.system.n_activities)
    for pid, amount in tree.demand.items():
        f[tree.basis.system.product_position(pid)] += float(amount)
    return f


def build_tree(
    basis: Basis,
    demand: dict[Hashable, float],
    f: np.ndarray,
    supply: np.ndarray,
    score: float,
    *,
    category: Hashable | None = None,
    cutoff: float = 0.005,
    max_depth: int | None = None,
    max_nodes: int = 1000,
) -> SupplyTree:
    """Grow the upstream tree of a functional unit.

    Parameters
    ----------
    basis : Basis
        ``A`` by columns and ``λ`` of the system (see :meth:`lcasolve.LCA.tree`).
    demand : dict
        ``{product id: amount}``.
    f, supply : numpy.ndarray
        Final demand and supply ``s`` of that functional unit (``A s = f``).
    score : float
        Its score in ``category`` (``LCAResult.score``).
    category : id or name, optional
        Category that chooses the branches (the only one when omitted).
    cutoff : float
        A branch is shown when ``|cumulative| ≥ cutoff ×`` the gross total (sum of absolute
        contributions), so credits count by their size; in (0, 1).
    max_depth : int, optional
        Nodes at this depth are not expanded (the root has depth 0).
    max_nodes : int
        At most this many nodes (root included), the largest branches first.

    Returns
    -------
    SupplyTree
    """
    cut = check_cutoff(cutoff)
    depth = check_max_depth(max_depth)
    budget = check_max_nodes(max_nodes)
    k = basis.category(category)
    totals = Totals.from_supply(basis, supply, k, score)
    cats = tuple(str(c) for c in basis.system.categories["name"].tolist())
    unit = str(basis.system.categories["unit"].iloc[k])
    return build_from(
        basis, dict(demand), f, totals, k=k, cutoff=cut, max_depth=depth, max_nodes=budget,
        categories=cats, unit=unit,
    )  # fmt: skip


def build_from(
    basis: Basis,
    demand: dict[Hashable, float],
    f: np.ndarray,
    totals: Totals,
    *,
    k: int,
    cutoff: float,
    max_depth: int | None,
    max_nodes: int,
    categories: tuple[str, ...],
    unit: str,
) -> SupplyTree:
    """Build a tree from checked settings (shared by :func:`build_tree` and ``expand``)."""
    threshold = cutoff * totals.gross
    buf = Buffer.empty(max_nodes, basis.n_categories)
    demanded = np.flatnonzero(f)
    full = False
    if demanded.size == 1:
        j = int(demanded[0])
        buf.add(-1, np.array([j]), 0, f[demanded], f[demanded, None] * basis.lam[demanded])
        start = [0]
    else:
        buf.add(-1, np.array([VIRTUAL]), 0, np.array([np.nan]), (f @ basis.lam)[None, :])
        keep = select(basis, demanded, f[demanded], k, threshold)
        if threshold <= 0:
            keep = keep[:0]
        full = keep.size > max_nodes - 1
        keep = keep[: max_nodes - 1]
        rows = demanded[keep]
        buf.expanded[0] = True
        start = list(buf.add(0, rows, 1, f[rows], f[rows, None] * basis.lam[rows]))
    if threshold > 0 and not full:
        full = grow(basis, buf, start, k=k, threshold=threshold, depth_limit=max_depth)
    skeleton = _Skeleton(demand, categories[k], categories, unit, cutoff, max_depth, max_nodes)
    return finish(basis, buf, skeleton, truncated=full, totals=totals)


@dataclass(frozen=True)
class _Skeleton:
    demand: dict[Hashable, float]
    category: str
    categories: tuple[str, ...]
    unit: str
    cutoff: float
    max_depth: int | None
    max_nodes: int


def finish(
    basis: Basis,
    buf: Buffer,
    like: SupplyTree | _Skeleton,
    *,
    truncated: bool,
    totals: Totals | None = None,
) -> SupplyTree:
    """Trim the buffer and derive supply, direct scores, rests and hidden counts."""
    n = buf.n
    parent = buf.parent[:n].copy()
    activity = buf.activity[:n].copy()
    real = activity != VIRTUAL
    act = np.where(real, activity, 0)
    supply = np.where(real, buf.amount[:n] / basis.diag[act], np.nan)
    direct = np.where(real[:, None], np.nan_to_num(supply)[:, None] * basis.unit_direct[act], 0.0)
    cumulative = buf.cumulative[:n].copy()
    below = np.zeros_like(cumulative)
    np.add.at(below, parent[1:], cumulative[1:])
    rest = cumulative - direct - below
    n_children = np.bincount(parent[1:], minlength=n)
    possible = np.where(real, basis.n_inputs[act], 0)
    if not real[0]:
        possible[0] = len(like.demand)
    hidden = possible - n_children
    for arr in (parent, activity, supply, direct, cumulative, rest, hidden):
        arr.setflags(write=False)
    return SupplyTree(
        demand=dict(like.demand),
        category=like.category,
        categories=like.categories,
        unit=like.unit,
        cutoff=like.cutoff,
        max_depth=like.max_depth,
        max_nodes=like.max_nodes,
        totals=totals if totals is not None else like.totals,  # type: ignore[union-attr]
        truncated=truncated,
        parent=parent,
        activity=activity,
        depth=buf.depth[:n].copy(),
        amount=buf.amount[:n].copy(),
        supply=supply,
        direct=direct,
        cumulative=cumulative,
        rest=rest,
        expanded=buf.expanded[:n].copy(),
        hidden=hidden,
        basis=basis,
    )
