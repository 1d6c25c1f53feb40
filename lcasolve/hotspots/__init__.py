"""Supply-chain hotspots: upstream trees, Sankey graphs and structural paths.

All three read the all-activity scores ``λ`` of one adjoint solve and walk sparse columns of
``A``; none solves again. Use them through the facade::

    lca = lcasolve.LCA(system)
    tree = lca.tree({product: 1.0}, cutoff=0.005)      # SupplyTree
    graph = lca.graph({product: 1.0}, max_nodes=200)   # SupplyGraph (Sankey)
    paths = lca.paths({product: 1.0}, top=20)          # StructuralPaths
"""

from lcasolve.hotspots._basis import Basis, Totals, check_settings
from lcasolve.hotspots.graph import SupplyGraph, build_graph
from lcasolve.hotspots.paths import StructuralPaths, structural_paths
from lcasolve.hotspots.summary import HotspotSummary, hotspot_summary
from lcasolve.hotspots.tree import SupplyTree, build_tree

__all__ = [
    "Basis",
    "HotspotSummary",
    "StructuralPaths",
    "SupplyGraph",
    "SupplyTree",
    "Totals",
    "build_graph",
    "build_tree",
    "check_settings",
    "hotspot_summary",
    "structural_paths",
]
