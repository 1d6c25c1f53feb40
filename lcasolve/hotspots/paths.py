"""Structural paths: the supply chains from the functional unit whose own emissions weigh most.

A path's contribution is the direct score of the activity at its end, scaled by the amounts
along the path (``c B_j`` times the product of ``−A[i, j] / A[i, i]`` factors times ``f``): the
direct score of the tree node the path leads to. Paths are read off an upstream tree, so a path
under a branch the cut-off hides is not listed; its score is in that branch's rest.
"""

from __future__ import annotations

import html
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.hotspots._basis import Basis, check_max_nodes
from lcasolve.hotspots._grow import VIRTUAL
from lcasolve.hotspots._render import jsonable
from lcasolve.hotspots.tree import SupplyTree, build_tree

__all__ = ["StructuralPaths", "structural_paths"]


@dataclass(frozen=True, eq=False)
class StructuralPaths:
    """The ``top`` paths of a tree ranked by ``|contribution|`` (immutable).

    Attributes
    ----------
    tree : SupplyTree
        The tree the paths were read from (its cut-off bounds which paths exist).
    top : int
        How many paths were asked for.
    nodes : numpy.ndarray
        Tree nodes at the ends of the ranked paths, largest ``|contribution|`` first.
    """

    tree: SupplyTree
    top: int
    nodes: np.ndarray

    def __len__(self) -> int:
        return int(self.nodes.size)

    @property
    def contributions(self) -> np.ndarray:
        """Contribution of each path (direct score of its last activity), ranked."""
        return self.tree.direct[self.nodes, self.tree.k]

    @property
    def coverage(self) -> float:
        """Share of the net total that the listed paths explain."""
        net = self.tree.totals.net
        return float(self.contributions.sum() / net) if net else float("nan")

    def chain(self, i: int) -> list[int]:
        """Node indices from the root to the end of the ``i``-th path."""
        out = []
        node = int(self.nodes[i])
        while node >= 0:
            out.append(node)
            node = int(self.tree.parent[node])
        return out[::-1]

    def to_frame(self) -> pd.DataFrame:
        """One row per path: rank, path id, depth, the chain of names, amounts and scores."""
        t = self.tree
        acts = t.basis.system.activities
        names = acts["name"].to_numpy(dtype=object)
        nodes = self.nodes
        act = t.activity[nodes]
        chains = [
            " > ".join(str(names[t.activity[n]]) for n in self.chain(i) if t.activity[n] != VIRTUAL)
            for i in range(nodes.size)
        ]
        value = self.contributions
        return pd.DataFrame(
            {
                "rank": np.arange(1, nodes.size + 1),
                "path": t.path_ids(nodes),
                "depth": t.depth[nodes].astype(np.int64),
                "chain": chains,
                "activity_id": acts["id"].to_numpy(dtype=object)[act],
                "name": names[act],
                "location": acts["location"].to_numpy(dtype=object)[act],
                "amount": t.amount[nodes],
                "unit": acts["unit"].to_numpy(dtype=object)[act],
                "contribution": value,
                "share": t.totals.share(value),
                "cumulative": t.cumulative[nodes, t.k],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and the ranked paths."""
        t = self.tree
        return jsonable(
            {
                "demand": t.demand,
                "category": t.category,
                "unit": t.unit,
                "score": t.score,
                "cutoff": t.cutoff,
                "coverage": self.coverage,
                "paths": self.to_frame().to_dict(orient="records"),
            }
        )

    def to_text(self) -> str:
        """Ranked paths, one per line, as the CLI prints them."""
        t = self.tree
        lines = [
            f"{t.category}: {t.score:.6g} {t.unit}; top {len(self)} paths explain "
            f"{self.coverage:.1%} (cut-off {t.cutoff:g} of the gross total)",
            "",
        ]
        lines.extend(
            f"{row.rank:>4}. {row.contribution:>12.4g} {t.unit} ({row.share:+.1%})  "
            f"depth {row.depth}: {row.chain}"
            for row in self.to_frame().itertuples(index=False)
        )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        t = self.tree
        cols = ["rank", "contribution", "share", "depth", "chain"]
        return (
            f"<p>Structural paths of {html.escape(repr(t.demand))}: {t.score:.6g} "
            f"{html.escape(t.unit)}; the top {len(self)} explain {self.coverage:.1%}</p>"
            + self.to_frame()[cols].to_html(index=False)
        )


def structural_paths(
    basis: Basis,
    demand: dict[Hashable, float],
    f: np.ndarray,
    supply: np.ndarray,
    score: float,
    *,
    category: Hashable | None = None,
    top: int = 20,
    cutoff: float = 0.001,
    max_depth: int | None = None,
    max_nodes: int = 100_000,
) -> StructuralPaths:
    """The ``top`` structural paths by ``|contribution|``.

    Parameters
    ----------
    basis, demand, f, supply, score, category
        As for :func:`lcasolve.hotspots.build_tree`.
    top : int
        How many paths (>= 1).
    cutoff : float
        Branches whose ``|cumulative|`` is below ``cutoff ×`` the gross total are not followed.
    max_depth : int, optional
        Longest path (edges from the root).
    max_nodes : int
        Node budget of the tree the paths are read from.

    Returns
    -------
    StructuralPaths
    """
    check_max_nodes(top, "top")
    tree = build_tree(
        basis, demand, f, supply, score, category=category, cutoff=cutoff,
        max_depth=max_depth, max_nodes=max_nodes,
    )  # fmt: skip
    value = np.abs(tree.direct[:, tree.k])
    real = np.flatnonzero((tree.activity != VIRTUAL) & (value > 0))
    ranked = real[np.argsort(-value[real], kind="stable")][: int(top)]
    return StructuralPaths(tree=tree, top=int(top), nodes=ranked)
