"""HTML building blocks of the report sections: tables, key/value pairs, numbers, figures."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from lcasolve.pcf.plots import format_number, format_share

__all__ = [
    "esc",
    "figure_png",
    "img",
    "interval_row",
    "note",
    "num",
    "pairs",
    "rule",
    "share",
    "signed_share",
    "span_range",
    "table",
    "warning",
    "with_unit",
    "yes_no",
]

esc = html.escape


def figure_png(fig: Any) -> str:
    """A matplotlib figure as base64-encoded PNG text (96 dpi: its natural size on screen).

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def img(name: str, fig: Any) -> str:
    """An ``<img>`` with the figure embedded."""
    return f"<img alt='{esc(name)}' src='data:image/png;base64,{figure_png(fig)}'>"


def with_unit(label: str, unit: str) -> str:
    """``label [unit]`` (just ``label`` without a unit)."""
    return f"{label} [{unit}]" if unit else label


def span_range(lo: Any, hi: Any, unit: str = "") -> str:
    """``lo – hi unit`` as text."""
    text = f"{format_number(lo)} – {format_number(hi)}"
    return f"{text} {unit}" if unit else text


def interval_row(label: str, unit: str, lo: float, hi: float) -> tuple[str, str, bool]:
    """A :func:`pairs` row of a Monte Carlo 95 % interval."""
    return with_unit(label, unit), esc(span_range(lo, hi)), True


def table(
    header: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[str]],
    classes: Sequence[str] | None = None,
) -> str:
    """An HTML table; ``header`` is ``(label, numeric)``, cells are ready-made HTML."""
    head = "".join(f"<th{' class=num' if n else ''}>{esc(h)}</th>" for h, n in header)
    body = []
    for i, row in enumerate(rows):
        cls = f" class='{classes[i]}'" if classes and classes[i] else ""
        cells = "".join(
            f"<td{' class=num' if n else ''}>{cell}</td>"
            for cell, (_, n) in zip(row, header, strict=True)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def pairs(rows: Sequence[tuple[str, str, bool]]) -> str:
    """A two-column key/value table: ``(label, value HTML, numeric)``."""
    body = "".join(
        f"<tr><th>{esc(k)}</th><td{' class=num' if n else ''}>{v}</td></tr>" for k, v, n in rows
    )
    return f"<table>{body}</table>"


def yes_no(value: bool | None, *, good: bool) -> str:
    """``yes``/``no``, green when it is the ``good`` answer, red when not."""
    if value is None:
        return "–"
    flag = bool(value)
    cls = "ok" if flag == good else "bad"
    return f"<span class='{cls}'>{'yes' if flag else 'no'}</span>"


def num(value: Any, unit: str = "", *, sign: bool = False) -> str:
    """A number as escaped text (integers as they are, floats to 4 significant digits)."""
    if value is None:
        text = "–"
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        text = str(int(value))
    else:
        text = format_number(value, sign=sign)
    return esc(f"{text} {unit}" if unit and text != "–" else text)


def share(value: float | None) -> str:
    """A fraction as an escaped percentage."""
    return esc(format_share(value))


def rule(value: float) -> str:
    """A rule's limit (a fraction) as a plain percentage: ``0.01`` -> ``1 %``."""
    if not np.isfinite(value):
        return "–"
    return f"{100.0 * float(value):.4g} %"


def signed_share(value: float | None) -> str:
    """A signed fraction as a percentage, ``+`` for positive values."""
    if value is None or not np.isfinite(value):
        return "–"
    return ("+" if value > 0 else "") + format_share(float(value))


def note(text_html: str) -> str:
    """An explanatory paragraph (``text_html`` is ready-made HTML)."""
    return f"<p class='note'>{text_html}</p>"


def warning(text_html: str) -> str:
    """A warning paragraph in red (``text_html`` is ready-made HTML)."""
    return f"<p class='bad warning'>⚠ {text_html}</p>"
