"""Matplotlib figures for PCF reports (built on ``matplotlib.figure.Figure``, no pyplot state)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import MissingExtraError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

    from lcasolve.pcf.footprint import Footprint

__all__ = [
    "comparison",
    "format_number",
    "format_share",
    "histogram",
    "shorten",
    "stage_bars",
    "tornado",
    "waterfall",
]

#: colours: positive and negative contributions, total, breakdowns, limits met / exceeded
POSITIVE, NEGATIVE, TOTAL, BREAKDOWN = "#c0504d", "#4f81bd", "#404040", "#9bbb59"
MET, EXCEEDED = "#2e7d32", "#c62828"

#: default width of the report figures in inches (at 96 dpi: 720 px)
_WIDTH = 7.5


def format_number(x: float | None, sig: int = 4, *, sign: bool = False) -> str:
    """A number with ``sig`` significant digits, in positional notation where sensible.

    Parameters
    ----------
    x : float or None
    sig : int
        Significant digits (integer digits are never rounded away: 12346, not 1.235e4).
    sign : bool
        Prefix positive numbers with ``+`` (for signed distances).

    Returns
    -------
    str
        e.g. ``"777.3"``, ``"0.2783"``, ``"−38.65"`` (with a minus sign), ``"816"`` for a whole
        number, ``"–"`` for None/NaN.
    """
    if x is None or not np.isfinite(x):
        return "–"
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e9:
        text = f"{x:.0f}"  # counts, limits and prices given as whole numbers
        return ("+" + text if sign and x > 0 else text).replace("-", "−")
    e = math.floor(math.log10(abs(x)))
    positional = -4 <= e < 9
    text = f"{x:.{max(0, sig - 1 - e)}f}" if positional else f"{x:.{sig - 1}e}"
    if sign and x > 0:
        text = "+" + text
    return text.replace("-", "−")


def format_share(x: float | None) -> str:
    """A fraction as a percentage: one decimal from 1 %, two significant digits below.

    Parameters
    ----------
    x : float or None
        The fraction (``0.913`` for 91.3 %).

    Returns
    -------
    str
        e.g. ``"91.3 %"``, ``"0.38 %"``, ``"0.0023 %"``; ``"–"`` for None/NaN.
    """
    if x is None or not np.isfinite(x):
        return "–"
    v = 100.0 * float(x)
    if v == 0:
        return "0 %"
    decimals = 1 if abs(v) >= 1 else 1 - math.floor(math.log10(abs(v)))
    text = f"{v:.{decimals}f}"
    return text.replace("-", "−") + " %"


def shorten(text: object, width: int = 40) -> str:
    """``text`` cut to at most ``width`` characters, ending in an ellipsis "…" when cut."""
    s = str(text)
    return s if len(s) <= width else s[: width - 1].rstrip(" ,;-") + "…"


def _figure(size: tuple[float, float] = (_WIDTH, 3.6)) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a dependency of the plots extra
        raise MissingExtraError("matplotlib", "plots", "PCF figures") from None
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _bar_labels(ax: Axes, ends: np.ndarray, y: np.ndarray, texts: Sequence[str]) -> list[Any]:
    """Value labels right of the bar ends (left of them for bars ending below zero)."""
    out = []
    for x, yi, text in zip(ends, y, texts, strict=True):
        right = x >= 0
        out.append(
            ax.annotate(
                text,
                (x, yi),
                xytext=(4 if right else -4, 0),
                textcoords="offset points",
                va="center",
                ha="left" if right else "right",
                fontsize=8,
            )
        )
    return out


def _fit_labels(fig: Figure, ax: Axes, labels: Sequence[Annotation], pad: float = 6.0) -> None:
    """Widen the x range so that every annotation lies inside the axes frame.

    The figure is drawn (which runs the constrained layout) and the range is widened until the
    labels' pixel extents fit; labels keep their size, the bars shrink.
    """
    if not labels:
        return
    for _ in range(4):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        box = ax.get_window_extent(renderer)
        lo, hi = ax.get_xlim()
        width = box.width
        new_lo, new_hi = lo, hi
        for label in labels:
            x = float(label.xy[0])
            px = box.x0 + (x - lo) / (hi - lo) * width
            bb = label.get_window_extent(renderer)
            right, left = bb.x1 - px, px - bb.x0  # pixel extent right/left of the anchor
            if bb.x1 > box.x1 - pad and width - pad - right > 0:
                new_hi = max(new_hi, lo + (x - lo) * width / (width - pad - right))
            if bb.x0 < box.x0 + pad and width - pad - left > 0:
                new_lo = min(new_lo, hi - (hi - x) * width / (width - pad - left))
        if new_lo == lo and new_hi == hi:
            return
        ax.set_xlim(new_lo, new_hi)


def waterfall(
    fp: Footprint, top: int = 8, *, title: str | None = "Contribution by activity"
) -> Figure:
    """Contribution waterfall: the largest activities, the rest, and the total.

    Each bar starts where the previous one ends, so that the bars add up to the total bar; every
    bar carries its value and share (a contribution too small to show as a bar still shows as a
    hairline and its label).

    Parameters
    ----------
    fp : Footprint
    top : int
        Activities shown one by one (the same rows as ``fp.by_activity(top)``); the others are
        summed in one bar.
    title : str, optional
        Axes title (None for none, e.g. under a heading of its own).

    Returns
    -------
    matplotlib.figure.Figure
    """
    df = fp.by_activity(top)
    labels = [shorten(n) for n in df["name"]] + ["total"]
    values = df["score"].to_numpy(dtype=float)
    shares = df["share"].to_numpy(dtype=float)
    starts = np.concatenate([[0.0], np.cumsum(values)[:-1]])
    fig = _figure((_WIDTH, 0.32 * len(labels) + 1.0))
    ax = fig.add_subplot()
    y = np.arange(len(labels))[::-1].astype(float)
    colors = [POSITIVE if v >= 0 else NEGATIVE for v in values]
    # same-coloured edges keep sub-pixel bars visible (the fill alone snaps to zero pixels)
    ax.barh(y[:-1], values, left=starts, color=colors, edgecolor=colors, linewidth=0.8)
    ax.barh(y[-1], fp.total, color=TOTAL, edgecolor=TOTAL, linewidth=0.8)
    ends = np.append(np.maximum(starts, starts + values), max(fp.total, 0.0))
    texts = [f"{format_number(v)} ({format_share(s)})" for v, s in zip(values, shares, strict=True)]
    texts.append(f"{format_number(fp.total)} ({format_share(1.0 if fp.total else np.nan)})")
    labs = _bar_labels(ax, ends, y, texts)
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.set_xlabel(f"{fp.category} [{fp.unit}]" if fp.unit else fp.category)
    ax.margins(y=0.02)
    if title:
        ax.set_title(title)
    _fit_labels(fig, ax, labs)
    return fig


def stage_bars(
    fp: Footprint, tag: str = "stage", *, title: str | None = "Breakdown by {tag}"
) -> Figure:
    """Breakdown by a tag (stage, scope, ...) as horizontal bars with values and shares.

    Parameters
    ----------
    fp : Footprint
    tag : str
        Tag name; the bars are labelled with :meth:`Footprint.labels` (code and name).
    title : str, optional
        Axes title, ``{tag}`` replaced by the tag name (None for none).

    Returns
    -------
    matplotlib.figure.Figure
    """
    df = fp.by_tag(tag)
    names = fp.labels(tag)
    fig = _figure((_WIDTH, max(2.2, 0.45 * len(df) + 1.0)))
    ax = fig.add_subplot()
    y = np.arange(len(df))[::-1].astype(float)
    values = df["score"].to_numpy(dtype=float)
    colors = [BREAKDOWN if v >= 0 else NEGATIVE for v in values]
    ax.barh(y, values, color=colors, edgecolor=colors, linewidth=0.8, height=0.6)
    ax.set_yticks(y, [shorten(names.get(str(i), str(i))) for i in df.index], fontsize=9)
    texts = [
        f"{format_number(v)} ({format_share(s)})"
        for v, s in zip(values, df["share"].to_numpy(dtype=float), strict=True)
    ]
    labs = _bar_labels(ax, values, y, texts)
    if (values < 0).any():
        ax.axvline(0.0, color="k", lw=0.8)
    ax.set_xlabel(f"{fp.category} [{fp.unit}]" if fp.unit else fp.category)
    if title:
        ax.set_title(title.format(tag=tag))
    _fit_labels(fig, ax, labs)
    return fig


def histogram(
    samples: np.ndarray,
    thresholds: Mapping[str, float] | None = None,
    *,
    unit: str = "",
    deterministic: float | None = None,
    title: str | None = "Monte Carlo, {n} iterations",
    xlabel: str | None = None,
) -> Figure:
    """Monte Carlo histogram with thresholds marked and their exceedance probabilities.

    Parameters
    ----------
    samples : array
        Monte Carlo samples of the footprint.
    thresholds : mapping, optional
        ``{name: limit}``; each limit is a dashed line, red when the deterministic footprint
        (the sample median without one) exceeds it, green when not, with ``P(> limit)`` in the
        legend.
    unit : str
        Unit of the samples (x-axis label).
    deterministic : float, optional
        The deterministic footprint, drawn as a solid black line.
    title : str, optional
        Axes title, ``{n}`` replaced by the number of samples (None for none).
    xlabel : str, optional
        X-axis label; default ``unit``.

    Returns
    -------
    matplotlib.figure.Figure
        The legend sits below the axes, so that it never covers a line or a bar.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    s = np.asarray(samples, dtype=float).ravel()
    fig = _figure()
    ax = fig.add_subplot()
    ax.hist(s, bins=max(10, min(60, s.size // 10)), color="#8064a2", alpha=0.8)
    reference = deterministic if deterministic is not None else float(np.median(s))
    handles: list[Any] = []
    for name, limit in (thresholds or {}).items():
        p = float(np.mean(s > limit))
        exceeded = reference > limit
        color = EXCEEDED if exceeded else MET
        label = f"limit {limit:g}" if name == f"{limit:g}" else f"{name} {limit:g}"
        state = "exceeded" if exceeded else "met"
        ax.axvline(limit, color=color, ls="--", lw=1.5)
        handles.append(
            Line2D(
                [],
                [],
                color=color,
                ls="--",
                lw=1.5,
                label=f"{label} ({state}): P(> limit) = {format_share(p)}",
            )
        )
    if deterministic is not None:
        ax.axvline(deterministic, color="k", lw=1.5)
        handles.append(
            Line2D([], [], color="k", lw=1.5, label=f"deterministic {format_number(deterministic)}")
        )
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel if xlabel is not None else unit)
    ax.set_ylabel("iterations")
    if title:
        ax.set_title(title.format(n=s.size))
    if handles:
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=2 if len(handles) > 1 else 1,
            fontsize=8,
            framealpha=1.0,
        )
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
    labels = [shorten(x, 40) for x in (df["name"] if "name" in df.columns else df.index)]
    fig = _figure((6.4, 0.35 * len(df) + 1.2))
    ax = fig.add_subplot()
    y = np.arange(len(df))[::-1]
    vals = df[col].to_numpy(dtype=float)
    ax.barh(y, vals, color=[POSITIVE if v > 0 else NEGATIVE for v in vals])
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_xlabel(col)
    return fig
