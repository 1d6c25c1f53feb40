"""Matplotlib figures for PCF reports (built on ``matplotlib.figure.Figure``, no pyplot state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import MissingExtraError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lcasolve.pcf.footprint import Footprint

__all__ = ["comparison", "histogram", "stage_bars", "tornado", "waterfall"]


def _figure(size: tuple[float, float] = (6.4, 3.6)) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a dependency of the plots extra
        raise MissingExtraError("matplotlib", "plots", "PCF figures") from None
    return Figure(figsize=size, layout="constrained")


def waterfall(fp: Footprint, top: int = 8) -> Figure:
    """Contribution waterfall: the largest activities, the rest, and the total."""
    df = fp.by_activity(top)
    labels = [str(n)[:40] for n in df["name"]] + ["total"]
    values = df["score"].to_numpy()
    starts = np.concatenate([[0.0], np.cumsum(values)[:-1]])
    fig = _figure((6.4, 0.4 * len(labels) + 1.2))
    ax = fig.add_subplot()
    y = np.arange(len(labels))[::-1]
    colors = ["#c0504d" if v >= 0 else "#4f81bd" for v in values]
    ax.barh(y[:-1], values, left=starts, color=colors)
    ax.barh(y[-1], fp.total, color="#404040")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"{fp.category} [{fp.unit}]")
    ax.set_title("Contribution by activity")
    return fig


def stage_bars(fp: Footprint, tag: str = "stage") -> Figure:
    """Breakdown by a tag (stage, scope, ...) as horizontal bars with shares."""
    df = fp.by_tag(tag)
    fig = _figure()
    ax = fig.add_subplot()
    y = np.arange(len(df))[::-1]
    ax.barh(y, df["score"].to_numpy(), color="#9bbb59")
    ax.set_yticks(y, [str(i) for i in df.index])
    for yi, (v, s) in zip(y, zip(df["score"], df["share"], strict=True), strict=True):
        ax.annotate(f"{s:.1%}", (v, yi), xytext=(3, 0), textcoords="offset points", va="center")
    ax.set_xlabel(f"{fp.category} [{fp.unit}]")
    ax.set_title(f"Breakdown by {tag}")
    return fig


def histogram(
    samples: np.ndarray,
    thresholds: Mapping[str, float] | None = None,
    *,
    unit: str = "",
    deterministic: float | None = None,
) -> Figure:
    """Monte Carlo histogram with thresholds marked and their exceedance probabilities."""
    s = np.asarray(samples, dtype=float).ravel()
    fig = _figure()
    ax = fig.add_subplot()
    ax.hist(s, bins=max(10, min(60, s.size // 10)), color="#8064a2", alpha=0.8)
    for i, (name, limit) in enumerate((thresholds or {}).items()):
        p = float(np.mean(s > limit))
        label = f"limit {limit:g}" if name == f"{limit:g}" else f"{name} {limit:g}"
        ax.axvline(limit, color=f"C{i + 1}", ls="--", label=f"{label}: P(>) = {p:.2f}")
    if deterministic is not None:
        ax.axvline(deterministic, color="k", lw=1.5, label=f"deterministic {deterministic:.4g}")
    ax.set_xlabel(unit)
    ax.set_ylabel("iterations")
    ax.set_title(f"Monte Carlo, {s.size} iterations")
    if thresholds or deterministic is not None:
        ax.legend(fontsize=8)
    return fig


def comparison(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("A", "B")) -> Figure:
    """Paired comparison of two products: histogram of the differences ``a − b``."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    fig = _figure()
    ax = fig.add_subplot()
    ax.hist(d, bins=max(10, min(60, d.size // 10)), color="#4bacc6")
    ax.axvline(0.0, color="k")
    ax.set_title(f"{names[0]} − {names[1]}: P({names[0]} < {names[1]}) = {np.mean(d < 0):.2f}")
    ax.set_xlabel("paired difference")
    return fig


def tornado(sensitivities: Any, top: int = 10) -> Figure:
    """Tornado of a ranked table with columns ``name`` (or index) and ``elasticity``/``value``."""
    df = sensitivities.head(top)
    col = "elasticity" if "elasticity" in df.columns else df.select_dtypes("number").columns[-1]
    labels = [str(x)[:40] for x in (df["name"] if "name" in df.columns else df.index)]
    fig = _figure((6.4, 0.35 * len(df) + 1.2))
    ax = fig.add_subplot()
    y = np.arange(len(df))[::-1]
    vals = df[col].to_numpy(dtype=float)
    ax.barh(y, vals, color=["#c0504d" if v > 0 else "#4f81bd" for v in vals])
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_xlabel(col)
    return fig
