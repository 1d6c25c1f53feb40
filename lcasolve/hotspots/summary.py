"""Hotspots of one footprint for a report: the top structural paths and the tree to depth 3."""

from __future__ import annotations

import html
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lcasolve.hotspots._render import jsonable, tree_table
from lcasolve.hotspots.graph import SupplyGraph
from lcasolve.hotspots.paths import StructuralPaths
from lcasolve.hotspots.tree import SupplyTree

if TYPE_CHECKING:
    from lcasolve.lca import LCA

__all__ = ["HotspotSummary", "hotspot_summary"]


@dataclass(frozen=True, eq=False)
class HotspotSummary:
    """Top paths, the upstream tree to a fixed depth and the Sankey graph of one footprint.

    Attributes
    ----------
    tree : SupplyTree
        Built with the section's cut-off and depth (its rests hold what lies deeper).
    paths : StructuralPaths
    graph : SupplyGraph
    """

    tree: SupplyTree
    paths: StructuralPaths
    graph: SupplyGraph

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, coverage, the ranked paths and the tree rows."""
        t = self.tree
        return jsonable(
            {
                "category": t.category,
                "unit": t.unit,
                "score": t.score,
                "cutoff": t.cutoff,
                "max_depth": t.max_depth,
                "coverage": t.coverage,
                "paths_coverage": self.paths.coverage,
                "paths": self.paths.to_frame().to_dict(orient="records"),
                "tree": t.to_frame().to_dict(orient="records"),
            }
        )

    def figure(self) -> Any:
        """The static Sankey drawing (matplotlib) for the printed report."""
        return self.graph.plot_static()

    def to_html(self, image_png: str | None = None, *, interactive: bool = False) -> str:
        """The section as HTML: paths table, indented tree, and the Sankey.

        Parameters
        ----------
        image_png : str, optional
            Base64 PNG of :meth:`figure` to embed.
        interactive : bool
            Also embed the interactive plotly Sankey (with plotly.js inline, ~4 MB; needs the
            ``plot`` extra).
        """
        t = self.tree
        unit = html.escape(t.unit)
        rows = [
            f"<tr><td class='num'>{r.rank}</td><td class='num'>{_num(r.contribution)}</td>"
            f"<td class='num'>{_pct(r.share)}</td><td class='num'>{r.depth}</td>"
            f"<td>{html.escape(r.chain)}</td></tr>"
            for r in self.paths.to_frame().itertuples(index=False)
        ]
        paths = (
            f"<p>The {len(self.paths)} supply chains whose own emissions weigh most explain "
            f"{_pct(self.paths.coverage, sign=False)} of the footprint (branches below "
            f"{self.paths.tree.cutoff:g} of the gross total not followed).</p>"
            f"<table><tr><th>#</th><th>{unit}</th><th>share</th><th>depth</th>"
            f"<th style='text-align:left'>path (from the product)</th></tr>{''.join(rows)}"
            "</table>"
        )
        tree = (
            f"<p>Upstream tree to depth {t.max_depth}: every branch of at least {t.cutoff:g} of "
            f"the gross total; a node's cumulative score is its direct score plus its children "
            f"plus the rest shown under it. The direct scores shown cover "
            f"{_pct(t.coverage, sign=False)} of the footprint.</p>" + tree_table(t)
        )
        sankey = ""
        if image_png:
            sankey = (
                f"<p>Supply graph ({self.graph.n_nodes} activities, one node each; loops drawn "
                "as dashed links back)</p>"
                f"<img alt='supply graph' src='data:image/png;base64,{image_png}'>"
            )
        if interactive:
            sankey += self.graph.plot().to_html(full_html=False, include_plotlyjs=True)
        return "<h3>Top structural paths</h3>" + paths + "<h3>Upstream tree</h3>" + tree + sankey


def hotspot_summary(
    lca: LCA,
    demand: Mapping[Hashable, float],
    category: Hashable | None = None,
    *,
    cutoff: float = 0.005,
    depth: int = 3,
    top: int = 10,
    sankey_nodes: int = 30,
) -> HotspotSummary:
    """The hotspot section of one footprint (no solve beyond the shared adjoint).

    Parameters
    ----------
    lca : LCA
    demand : mapping
        Functional unit.
    category : id or name, optional
    cutoff : float
        Cut-off of the tree and the graph, as a share of the gross total.
    depth : int
        Depth of the tree shown.
    top : int
        Number of structural paths.
    sankey_nodes : int
        Activities in the Sankey drawing.

    Returns
    -------
    HotspotSummary
    """
    demand = dict(demand)
    tree = lca.tree(demand, category=category, cutoff=cutoff, max_depth=depth)
    paths = lca.paths(demand, category=category, top=top, cutoff=min(cutoff, 0.001))
    graph = lca.graph(demand, category=category, min_share=cutoff, max_nodes=sankey_nodes)
    return HotspotSummary(tree=tree, paths=paths, graph=graph)


def _num(x: float) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:.4g}"


def _pct(x: float, *, sign: bool = True) -> str:
    if x is None or not math.isfinite(x):
        return ""
    return f"{x:+.1%}" if sign else f"{x:.1%}"
