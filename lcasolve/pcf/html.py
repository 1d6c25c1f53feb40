"""Self-contained HTML PCF report (figures embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve.pcf import plots
from lcasolve.pcf.footprint import Footprint, write_text_atomic

__all__ = ["figure_png", "render_html", "write_html"]

_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 8px}"
    "img{max-width:100%;display:block;margin:1em 0}.bad{color:#b00}.ok{color:#070}"
)


def figure_png(fig: Any) -> str:
    """A matplotlib figure as base64-encoded PNG text."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(
    fp: Footprint,
    *,
    report: Mapping[str, Any] | None = None,
    samples: np.ndarray | None = None,
    thresholds: Mapping[str, float] | None = None,
    title: str = "Product carbon footprint",
) -> str:
    """The report as one HTML document with embedded figures.

    Parameters
    ----------
    fp : Footprint
    report : mapping, optional
        Extra JSON-ready sections (cut-off check, thresholds, cost), shown as tables.
    samples : array, optional
        Monte Carlo samples of the total (adds the histogram).
    thresholds : mapping, optional
        ``{name: limit}`` marked on the histogram.
    """
    esc = html.escape
    fu = ", ".join(f"{v:g} × {k}" for k, v in fp.demand.items())
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Functional unit: {esc(fu)}; system boundary: {esc(fp.boundary)}; "
        f"method: {esc(fp.category)}</p>",
        f"<h2>{fp.total:.6g} {esc(fp.unit)}</h2>",
    ]
    figs = [("Contribution by activity", plots.waterfall(fp))]
    for tag in fp.tags:
        parts.append(f"<h3>By {esc(tag)}</h3>" + fp.by_tag(tag).to_html(float_format="%.4g"))
        figs.append((f"Breakdown by {tag}", plots.stage_bars(fp, tag)))
    parts.append("<h3>Top activities</h3>" + fp.by_activity(10).to_html(float_format="%.4g"))
    parts.append("<h3>Top flows</h3>" + fp.by_flow(10).to_html(float_format="%.4g"))
    if samples is not None:
        figs.append(
            (
                "Monte Carlo distribution",
                plots.histogram(samples, thresholds, unit=fp.unit, deterministic=fp.total),
            )
        )
    for key, value in (report or {}).items():
        parts.append(f"<h3>{esc(_TITLES.get(str(key), str(key)))}</h3>" + _section(value))
    images = [
        f"<h3>{esc(name)}</h3><img alt='{esc(name)}' src='data:image/png;base64,{figure_png(fig)}'>"
        for name, fig in figs
    ]
    parts[5:5] = images  # figures right after the headline total
    parts.append("</body></html>")
    return "\n".join(parts)


#: headings of the known report sections (others are shown under their own key)
_TITLES = {
    "cutoff": "Cut-off check (PAS 2050: each excluded input < 1 %, all ≤ 5 %)",
    "monte_carlo": "Monte Carlo",
    "thresholds": "Limits",
    "rating": "Rating against the benchmark",
    "external_cost": "External cost",
}


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "<span class='ok'>yes</span>" if value else "<span class='bad'>no</span>"
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "–"
    return html.escape(str(value))


def _section(value: Any) -> str:
    """A report section as HTML: key/value tables, row tables for lists of records."""
    if isinstance(value, Mapping):
        scalars = {k: v for k, v in value.items() if not isinstance(v, (list, tuple, Mapping))}
        out = []
        if scalars:
            rows = "".join(
                f"<tr><th>{html.escape(str(k))}</th><td>{_cell(v)}</td></tr>"
                for k, v in scalars.items()
            )
            out.append(f"<table>{rows}</table>")
        for k, v in value.items():
            if k in scalars or (isinstance(v, (list, tuple)) and not v):
                continue
            out.append(f"<p>{html.escape(str(k))}</p>" + _section(v))
        return "".join(out)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            head = "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)
            body = "".join(
                "<tr>" + "".join(f"<td>{_cell(v.get(k))}</td>" for k in keys) + "</tr>"
                for v in value
            )
            return f"<table><tr>{head}</tr>{body}</table>"
        return "<ul>" + "".join(f"<li>{_cell(v)}</li>" for v in value) + "</ul>"
    return f"<p>{_cell(value)}</p>"


def write_html(path: str | Path, fp: Footprint, **options: Any) -> Path:
    """Write :func:`render_html` to ``path`` atomically; returns the path."""
    path = Path(path)
    write_text_atomic(path, render_html(fp, **options))
    return path
