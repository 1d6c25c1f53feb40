"""Tornado and ranked-bar charts of sensitivity results (matplotlib, no pyplot state)."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ranked_bar", "tornado"]


#: label lines: characters per line, lines per label, font size (points)
_LABEL_WIDTH, _LABEL_LINES, _LABEL_SIZE = 38, 2, 8


def _wrap(text: str) -> str:
    """A label on at most two lines of 38 characters, cut with "…" beyond."""
    lines = textwrap.wrap(
        text, _LABEL_WIDTH, max_lines=_LABEL_LINES, placeholder=" …", break_long_words=True
    )
    return "\n".join(lines) or text


def _axes(ax: Any, labels: list[str]) -> Any:
    """``ax``, or a new constrained-layout figure sized to the (wrapped) labels and bars.

    The width adds the labels' width to a 4.5 in plot area, the height 0.17 in per label line,
    so long names never squeeze the bars.
    """
    if ax is not None:
        return ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    chars = max((len(line) for t in labels for line in t.split("\n")), default=0)
    lines = sum(t.count("\n") + 1 for t in labels)
    label_width = 0.6 * _LABEL_SIZE / 72 * chars  # average glyph ~0.6 em
    size = (4.5 + label_width + 0.3, max(3.0, 0.17 * lines + 0.12 * len(labels) + 1.2))
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def _labels(frame: pd.DataFrame) -> list[str]:
    if {"row_name", "col_name"} <= set(frame.columns):
        return [
            _wrap(f"{m[:4]}: {r} → {c}")
            for m, r, c in zip(frame["matrix"], frame["row_name"], frame["col_name"], strict=True)
        ]
    if "matrix" in frame.columns and "entry" in frame.columns:
        return [f"{m} #{e}" for m, e in zip(frame["matrix"], frame["entry"], strict=True)]
    return [_wrap(str(i)) for i in frame.index]


def _frame(result: Any, n: int, column: str) -> pd.DataFrame:
    if hasattr(result, "top") and hasattr(result, "to_frame") and hasattr(result, "lam"):
        rank = column if column in ("elasticity", "sensitivity", "importance") else "elasticity"
        return result.top(n, rank_by=rank)
    frame = result.table if hasattr(result, "table") else result
    if not isinstance(frame, pd.DataFrame) or column not in frame.columns:
        raise ValueError(f"expected a result or DataFrame with a {column!r} column")
    order = np.argsort(-np.abs(frame[column].to_numpy(dtype=float)), kind="stable")
    return frame.iloc[order[:n]]


def tornado(
    result: Any, n: int = 10, *, spread: float = 0.1, ax: Any = None, title: str | None = None
) -> Any:
    """Tornado chart: relative change of the score when each top entry moves by ±``spread``.

    For local results the bars are ``± elasticity × spread`` (first order); the entries are the
    ``n`` largest by ``|elasticity|``.

    Parameters
    ----------
    result : LocalSensitivity or DataFrame
        With ``elasticity`` (and ``matrix``, ``row_name``, ``col_name`` for labels).
    n : int
        Number of bars.
    spread : float
        Relative change of each parameter (0.1 = ±10 %).
    ax : matplotlib Axes, optional
        Drawn into; by default a new figure (not registered with pyplot).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = _frame(result, n, "elasticity")
    labels = _labels(frame)
    ax = _axes(ax, labels)
    el = frame["elasticity"].to_numpy(dtype=float) * spread * 100
    y = np.arange(len(frame))[::-1]
    ax.barh(y, el, color="tab:red", label=f"+{spread:.0%}")
    ax.barh(y, -el, color="tab:blue", label=f"-{spread:.0%}")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, labels, fontsize=_LABEL_SIZE)
    ax.set_xlabel("change of score (%)")
    ax.legend(loc="lower right")
    ax.set_title(title or f"parameter ±{spread:.0%}")
    return ax


def ranked_bar(
    result: Any, column: str = "src", n: int = 15, *, ax: Any = None, title: str | None = None
) -> Any:
    """Horizontal bars of ``column`` for the ``n`` largest ``|column|``, largest on top.

    Parameters
    ----------
    result : GlobalSensitivity, Screening, LocalSensitivity or DataFrame
        ``column`` may be ``src``, ``spearman``, ``contribution``, ``variance_share``,
        ``elasticity``, ``importance``, ...
    column : str
    n : int
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = _frame(result, n, column)
    labels = _labels(frame)
    ax = _axes(ax, labels)
    vals = frame[column].to_numpy(dtype=float)
    y = np.arange(len(frame))[::-1]
    ax.barh(y, vals, color=np.where(vals >= 0, "tab:red", "tab:blue"))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, labels, fontsize=_LABEL_SIZE)
    ax.set_xlabel(column)
    if title:
        ax.set_title(title)
    return ax
