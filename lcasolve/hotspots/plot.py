"""Drawings of a supply graph: an interactive Sankey (plotly) and a static image (matplotlib).

Credits (negative scores) are drawn by their size in red; hover texts and labels carry the sign.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import MissingExtraError
from lcasolve.hotspots.graph import FUNCTIONAL_UNIT, OTHER

if TYPE_CHECKING:
    from lcasolve.hotspots.graph import SupplyGraph

__all__ = ["layers", "sankey_figure", "static_figure"]

POSITIVE = "rgba(60, 110, 180, 0.45)"
NEGATIVE = "rgba(200, 40, 40, 0.55)"
OTHER_COLOR = "rgba(150, 150, 150, 0.35)"


def _ends(graph: SupplyGraph) -> tuple[np.ndarray, np.ndarray]:
    """Link ends as node positions: ``n`` is "other upstream", ``n + 1`` the functional unit."""
    n = graph.n_nodes
    src = np.where(graph.source == OTHER, n, graph.source)
    tgt = np.where(graph.target == FUNCTIONAL_UNIT, n + 1, graph.target)
    return src, tgt


def sankey_figure(graph: SupplyGraph, **layout: Any) -> Any:
    """A plotly Sankey of the graph (cycles drawn as links back).

    Parameters
    ----------
    graph : SupplyGraph
    **layout
        Passed to ``Figure.update_layout`` (``width``, ``height``, ``title_text``, ...).

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    MissingExtraError
        If plotly is not installed (extra ``plot``).
    """
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise MissingExtraError("plotly", "plot", "The interactive Sankey") from None
    src, tgt = _ends(graph)
    value = graph.link_value
    keep = value != 0
    unit = graph.unit
    labels = [*graph.labels(), "(other upstream)", "(functional unit)"]
    node_value = np.concatenate([graph.value, [np.nan, graph.totals.net]])
    node_share = graph.totals.share(node_value)
    link_share = graph.totals.share(value)
    colors = np.where(value < 0, NEGATIVE, POSITIVE).astype(object)
    colors[graph.source == OTHER] = OTHER_COLOR
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=".4g",
            node={
                "label": [label[:60] for label in labels],
                "pad": 12,
                "thickness": 14,
                "customdata": np.column_stack([node_value, node_share]),
                "hovertemplate": "%{label}<br>total %{customdata[0]:.4g} "
                + unit
                + " (%{customdata[1]:.1%})<extra></extra>",
            },
            link={
                "source": src[keep],
                "target": tgt[keep],
                "value": np.abs(value[keep]),
                "color": colors[keep].tolist(),
                "customdata": np.column_stack([value[keep], link_share[keep]]),
                "hovertemplate": "%{source.label} → %{target.label}<br>%{customdata[0]:.4g} "
                + unit
                + " (%{customdata[1]:.1%})<extra></extra>",
            },
        )
    )
    fig.update_layout(
        title_text=f"{graph.category}: {graph.totals.net:.4g} {unit} "
        f"({graph.n_nodes} activities, coverage {graph.coverage:.1%})",
        font_size=11,
        **layout,
    )
    return fig


def layers(graph: SupplyGraph) -> np.ndarray:
    """Layer of each node: fewest links to the functional unit (unreached nodes go last)."""
    n = graph.n_nodes
    src, tgt = _ends(graph)
    into: list[list[int]] = [[] for _ in range(n + 2)]
    for s, t in zip(src.tolist(), tgt.tolist(), strict=True):
        if s < n:
            into[t].append(s)
    layer = np.full(n, -1, dtype=np.int64)
    queue: deque[tuple[int, int]] = deque((s, 1) for s in into[n + 1])
    while queue:
        node, d = queue.popleft()
        if layer[node] >= 0:
            continue
        layer[node] = d
        queue.extend((s, d + 1) for s in into[node] if layer[s] < 0)
    if (layer < 0).any():
        layer[layer < 0] = (layer.max() if (layer >= 0).any() else 0) + 1
    return layer


def static_figure(graph: SupplyGraph, ax: Any = None) -> Any:
    """A static Sankey-style drawing: layers right to left, band widths by ``|score|``.

    Parameters
    ----------
    graph : SupplyGraph
    ax : matplotlib Axes, optional
        Where to draw (a new figure when omitted).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    layer = layers(graph)
    n = graph.n_nodes
    depth = int(layer.max()) if n else 0
    per_layer = np.bincount(layer, minlength=depth + 1) if n else np.zeros(1, dtype=np.int64)
    if ax is None:
        # not registered with pyplot: a report that draws it leaves no open figure behind (which
        # Jupyter's inline backend would show at the end of the cell)
        fig = Figure(figsize=(3.2 * (depth + 1) + 2, max(4.0, 0.45 * per_layer.max())))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    scale = abs(graph.totals.gross) or 1.0
    pos = np.zeros((n + 2, 2))
    pos[n + 1] = (0.0, 0.5)
    pos[n] = (-(depth + 1.0), 0.5)
    for d in range(1, depth + 1):
        members = np.flatnonzero(layer == d)
        members = members[np.argsort(-np.abs(graph.value[members]), kind="stable")]
        ys = np.linspace(0.95, 0.05, members.size) if members.size > 1 else np.array([0.5])
        pos[members, 0] = -float(d)
        pos[members, 1] = ys
    src, tgt = _ends(graph)
    widest = 24.0
    for s, t, v, o in zip(src, tgt, graph.link_value, graph.source == OTHER, strict=True):
        if v == 0 or (o and abs(v) < 1e-3 * scale):
            continue
        (x0, y0), (x1, y1) = pos[s] + (0.08, 0), pos[t] - (0.08, 0)
        back = x0 >= x1
        bend = 0.35 if back else (x1 - x0) / 2
        verts = [(x0, y0), (x0 + bend, y0 + (0.08 if back else 0)), (x1 - bend, y1), (x1, y1)]
        color = "0.6" if o else ("#c82828" if v < 0 else "#3c6eb4")
        path = Path(verts, [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
        ax.add_patch(
            PathPatch(
                path,
                facecolor="none",
                edgecolor=color,
                alpha=0.45,
                lw=max(0.4, widest * abs(v) / scale),
                linestyle="--" if back else "-",
                capstyle="butt",
            )
        )
    labels = [*graph.labels(), "(other upstream)", "(functional unit)"]
    values = np.concatenate([graph.value, [np.nan, graph.totals.net]])
    for i in range(n + 2):
        if i == n and not (graph.source == OTHER).any():
            continue
        x, y = pos[i]
        ax.add_patch(Rectangle((x - 0.08, y - 0.012), 0.16, 0.024, color="0.25"))
        text = labels[i][:38] + ("" if np.isnan(values[i]) else f"\n{values[i]:.3g} {graph.unit}")
        ax.text(x, y + 0.02, text, ha="center", va="bottom", fontsize=7)
    ax.set_xlim(-(depth + 1.6), 0.6)
    ax.set_ylim(0.0, 1.05)
    ax.axis("off")
    ax.set_title(
        f"{graph.category}: {graph.totals.net:.4g} {graph.unit}; {graph.n_nodes} activities, "
        f"coverage {graph.coverage:.1%} (dashed: links back in a loop; red: credits)",
        fontsize=9,
    )
    return fig
