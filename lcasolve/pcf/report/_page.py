"""The report page: headline, contributions of the footprint, then each section in order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lcasolve.pcf import plots
from lcasolve.pcf.footprint import Footprint
from lcasolve.pcf.plots import format_number
from lcasolve.pcf.report import blocks as h
from lcasolve.pcf.report._base import PCFReport
from lcasolve.pcf.report._montecarlo import MonteCarloSection
from lcasolve.pcf.report._sections import ExternalCostSection

__all__ = ["body", "render", "text"]

STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222;"
    "line-height:1.35}"
    "h2{margin:1.6em 0 0.4em;padding-bottom:2px;border-bottom:1px solid #ddd;font-size:1.3em}"
    "table{border-collapse:collapse;margin:0.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px;vertical-align:top}"
    "th{background:#f3f3f3;text-align:left;font-weight:600}"
    ".num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    "tr.rest td{color:#555;font-style:italic}tr.total td{font-weight:600;border-top:2px solid #999}"
    "img{max-width:100%;display:block;margin:0.8em 0}"
    ".bad{color:#b00;font-weight:600}.ok{color:#070;font-weight:600}"
    ".headline{font-size:2em;font-weight:bold;margin:0.4em 0 0}"
    ".interval{font-size:0.55em;font-weight:normal;color:#333;white-space:nowrap}"
    ".sub{margin:0.2em 0 0.6em;color:#333}.note{color:#555;font-size:0.92em;max-width:50em}"
)


def render(report: PCFReport) -> str:
    """The whole HTML document."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{h.esc(report.title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{h.esc(report.title)}</h1>\n{body(report)}\n</body></html>"
    )


def body(report: PCFReport) -> str:
    """The page without its ``<html>`` frame (also the notebook view)."""
    fp = report.footprint
    unit = fp.unit
    mc = report.section(MonteCarloSection)
    cost = report.section(ExternalCostSection)
    parts = [
        f"<p>Functional unit: <b>{h.esc(fp.functional_unit_label)}</b>; "
        f"system boundary: {h.esc(fp.boundary)}; method: {h.esc(fp.category)}</p>"
    ]
    headline = f"{h.esc(format_number(fp.total))} {h.esc(unit)}"
    sub = [f"per {h.esc(fp.functional_unit_label)}, deterministic result"]
    if mc is not None:
        headline += (
            f" <span class='interval'>(95 % interval "
            f"{h.esc(h.span_range(mc.lo, mc.hi, unit))})</span>"
        )
        sub.append(f"interval from a Monte Carlo run of {mc.iterations} iterations")
        if mc.check is not None and mc.check.warnings:
            sub.append("<a class='bad' href='#monte_carlo'>⚠ see the Monte Carlo warnings</a>")
    if cost is not None:
        sub.append(h.esc(cost.headline()))
    parts.append(f"<p class='headline'>{headline}</p>")
    parts.append(f"<p class='sub'>{'; '.join(sub)}</p>")
    parts.append("<h2>Contribution by activity</h2>")
    parts.append(h.img("Contribution by activity", plots.waterfall(fp, report.top, title=None)))
    parts.append(_contribution_table(fp.by_activity(report.top), "Activity", unit, fp.total))
    for tag in fp.tags:
        heading = f"Breakdown by {tag}"
        parts.append(f"<h2>{h.esc(heading)}</h2>")
        parts.append(h.img(heading, plots.stage_bars(fp, tag, title=None)))
        parts.append(_tag_table(fp, tag))
    parts.append("<h2>Contribution by elementary flow</h2>")
    parts.append(_contribution_table(fp.by_flow(report.top), "Flow", unit, fp.total))
    parts.extend(
        f"<h2 id='{h.esc(s.key)}'>{h.esc(s.title)}</h2>" + s.to_html(report)
        for s in report.sections
    )
    return "\n".join(parts)


def text(report: PCFReport) -> str:
    """Plain-text summary: total, breakdowns, top activities, then each section's lines."""
    fp = report.footprint
    lines = [f"{fp.category}: {fp.total:.6g} {fp.unit} ({fp.boundary})"]
    for tag in fp.tags:
        lines.append(f"by {tag}:")
        lines += [
            f"  {i!s:<20} {r.score:>14.6g}  {(r.share if np.isfinite(r.share) else 0):7.2%}"
            for i, r in fp.by_tag(tag).iterrows()
        ]
    lines.append("top activities:")
    lines += [
        f"  {str(r.name)[:50]:<50} {r.score:>14.6g}"
        for r in fp.by_activity(report.top).itertuples(index=False)
    ]
    for s in report.sections:
        lines += s.to_text(report)
    return "\n".join(lines)


def _contribution_table(df: pd.DataFrame, what: str, unit: str, total: float) -> str:
    """Ranked contributions (``id``, ``name``, ``score``, ``share``) with a rest and total row."""
    rows, classes = [], []
    for r in df.itertuples(index=False):
        rest = str(r.id) == "(rest)"
        rows.append(
            [h.esc(str(r.name)), "" if rest else h.esc(str(r.id)), h.num(r.score), h.share(r.share)]
        )
        classes.append("rest" if rest else "")
    rows.append(["Total", "", h.num(total), h.share(1.0 if total else np.nan)])
    classes.append("total")
    header = [(what, False), ("ID", False), (h.with_unit("Score", unit), True), ("Share", True)]
    return h.table(header, rows, classes)


def _tag_table(fp: Footprint, tag: str) -> str:
    df = fp.by_tag(tag)
    names = fp.labels(tag)
    rows = [
        [h.esc(names.get(str(i), str(i))), h.num(r.score), h.share(r.share)]
        for i, r in df.iterrows()
    ]
    rows.append(["Total", h.num(fp.total), h.share(1.0 if fp.total else np.nan)])
    header = [(tag.capitalize(), False), (h.with_unit("Score", fp.unit), True), ("Share", True)]
    return h.table(header, rows, [""] * (len(rows) - 1) + ["total"])
