"""Report section of the supply-chain hotspots: top structural paths, the tree to depth 3."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from lcasolve.hotspots import HotspotSummary, hotspot_summary
from lcasolve.pcf.report import blocks as h

if TYPE_CHECKING:
    from lcasolve.lca import LCA
    from lcasolve.pcf.report._base import PCFReport

__all__ = ["HotspotsSection"]

#: paths listed in the plain-text summary
_TEXT_PATHS = 5


@dataclass(frozen=True, eq=False)
class HotspotsSection:
    """Where in the supply chain the footprint comes from (:mod:`lcasolve.hotspots`).

    Attributes
    ----------
    summary : HotspotSummary
        The tree to depth 3, the top structural paths and the supply graph.
    interactive : bool
        Also embed the interactive Sankey (plotly.js inline, ~4 MB; extra ``plot``).
    """

    key: ClassVar[str] = "hotspots"
    title: ClassVar[str] = "Supply-chain hotspots"

    summary: HotspotSummary
    interactive: bool = False

    @classmethod
    def build(
        cls,
        lca: LCA,
        demand: Mapping[Hashable, float],
        category: Hashable | None,
        *,
        interactive: bool = False,
    ) -> HotspotsSection:
        """Tree (cut-off 0.005, depth 3), top 10 paths and a 30-activity Sankey."""
        return cls(hotspot_summary(lca, demand, category), interactive=interactive)

    def to_dict(self) -> dict[str, Any]:
        """:meth:`HotspotSummary.to_dict`: settings, coverage, ranked paths, tree rows."""
        return self.summary.to_dict()

    def to_html(self, report: PCFReport) -> str:
        """Paths table, indented tree and the Sankey drawing."""
        png = h.figure_png(self.summary.figure())
        return self.summary.to_html(png, interactive=self.interactive)

    def to_text(self, report: PCFReport) -> list[str]:
        """The top paths and the tree's coverage."""
        s = self.summary
        frame = s.paths.to_frame().head(_TEXT_PATHS)
        lines = [
            f"top {len(frame)} supply-chain paths (of {len(s.paths)}; together "
            f"{s.paths.coverage:.1%}):"
        ]
        lines.extend(
            f"  {r.contribution:.4g} {s.tree.unit} ({r.share:+.1%}): {r.chain}"
            for r in frame.itertuples(index=False)
        )
        lines.append(
            f"upstream tree to depth {s.tree.max_depth}: {s.tree.n_nodes} nodes, direct scores "
            f"cover {s.tree.coverage:.1%}"
        )
        return lines
