"""Self-contained HTML PCF report (figures embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.pcf import plots
from lcasolve.pcf.footprint import Footprint, write_text_atomic
from lcasolve.pcf.plots import format_number, format_share

__all__ = ["figure_png", "render_html", "write_html"]

_STYLE = (
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

#: headings of the known report sections (others are shown under their own key)
_TITLES = {
    "cutoff": "Cut-off check (PAS 2050: each excluded input < 1 %, all ≤ 5 %)",
    "monte_carlo": "Monte Carlo",
    "thresholds": "Limits",
    "rating": "Rating against the benchmark",
    "external_cost": "External cost",
}

#: order of the known sections in the page; unknown sections follow in their own order
_ORDER = ("monte_carlo", "thresholds", "rating", "external_cost", "cutoff")

#: readable names of report keys (used for sections without a renderer of their own)
_LABELS = {
    "each": "Limit per excluded input",
    "overall": "Limit for all excluded inputs together",
    "passes": "Passes",
    "excluded_share": "Share of all excluded inputs",
    "violations": "Violations",
    "excluded": "Excluded inputs",
    "iterations": "Iterations",
    "seed": "Seed",
    "mean": "Mean",
    "std": "Standard deviation",
    "2.5%": "2.5 % percentile",
    "97.5%": "97.5 % percentile",
    "n_fallback": "Iterations solved by the direct fallback solver",
    "out": "Run file",
    "limit": "Limit",
    "exceeds": "Footprint exceeds the limit",
    "distance": "Distance",
    "relative": "Relative distance",
    "p_exceed": "P(footprint > limit), Monte Carlo",
    "p_better": "P(footprint < benchmark), Monte Carlo",
    "class": "Class",
    "benchmark": "Benchmark",
    "ratio": "Ratio footprint / benchmark",
    "price": "Carbon price",
    "currency": "Currency",
    "per": "Price per",
    "cost": "Cost",
    "deterministic": "Deterministic",
    "consumer": "Consumer activity",
    "input": "Input (product id)",
    "name": "Name",
    "score": "Score",
    "share": "Share",
}

#: keys whose values are fractions, shown as percentages
_SHARES = {"each", "overall", "excluded_share", "share", "relative", "p_exceed", "p_better"}


def figure_png(fig: Any) -> str:
    """A matplotlib figure as base64-encoded PNG text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
        The PNG (at 96 dpi, so that it shows at its natural size) in base64.
    """
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
    top: int = 10,
) -> str:
    """The report as one HTML document with embedded figures.

    Parameters
    ----------
    fp : Footprint
    report : mapping, optional
        Extra JSON-ready sections as made by ``lcasolve report`` (``cutoff``, ``monte_carlo``,
        ``thresholds``, ``rating``, ``external_cost``; others are shown as generic tables).
    samples : array, optional
        Monte Carlo samples of the total (adds the histogram and the 95 % interval of the
        headline).
    thresholds : mapping, optional
        ``{name: limit}`` marked on the histogram.
    title : str
        Page title and heading.
    top : int
        Activities and flows listed one by one (the rest is summed in one row); the activity
        chart shows the same rows as its table.

    Returns
    -------
    str
        The HTML document.
    """
    esc = html.escape
    report = dict(report or {})
    unit = fp.unit
    s = None if samples is None else np.asarray(samples, dtype=float).ravel()
    mc = report.get("monte_carlo")
    if not isinstance(mc, Mapping):
        mc = _statistics(s) if s is not None and s.size else None
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Functional unit: <b>{esc(fp.functional_unit_label)}</b>; "
        f"system boundary: {esc(fp.boundary)}; method: {esc(fp.category)}</p>",
    ]
    headline = f"{esc(format_number(fp.total))} {esc(unit)}"
    sub = [f"per {esc(fp.functional_unit_label)}, deterministic result"]
    if mc is not None and "2.5%" in mc and "97.5%" in mc:
        headline += (
            f" <span class='interval'>(95 % interval "
            f"{esc(_range(mc['2.5%'], mc['97.5%'], unit))})</span>"
        )
        n = mc.get("iterations")
        sub.append(f"interval from a Monte Carlo run of {esc(_cell(n))} iterations")
    parts.append(f"<p class='headline'>{headline}</p>")
    cost = report.get("external_cost")
    if isinstance(cost, Mapping) and "cost" in cost:
        value, interval = _cost_headline(cost)
        sub.append(f"external cost {value}" + (f" (95 % interval {interval})" if interval else ""))
    parts.append(f"<p class='sub'>{'; '.join(sub)}</p>")

    # contributions: each chart with the table of the same numbers under it
    parts.append("<h2>Contribution by activity</h2>")
    parts.append(_img("Contribution by activity", plots.waterfall(fp, top, title=None)))
    parts.append(_contribution_table(fp.by_activity(top), "Activity", unit, fp.total))
    for tag in fp.tags:
        heading = f"Breakdown by {tag}"
        parts.append(f"<h2>{esc(heading)}</h2>")
        parts.append(_img(heading, plots.stage_bars(fp, tag, title=None)))
        parts.append(_tag_table(fp, tag))
    parts.append("<h2>Contribution by elementary flow</h2>")
    parts.append(_contribution_table(fp.by_flow(top), "Flow", unit, fp.total))

    if s is not None:
        parts.append(f"<h2>{esc(_TITLES['monte_carlo'])}</h2>")
        fig = plots.histogram(
            s,
            thresholds,
            unit=unit,
            deterministic=fp.total,
            title=None,
            xlabel=f"{fp.category} [{unit}]" if unit else fp.category,
        )
        parts.append(_img("Monte Carlo distribution", fig))
        if mc is not None:
            parts.append(_monte_carlo(mc, unit))
        report.pop("monte_carlo", None)
    keys = [k for k in _ORDER if k in report] + [k for k in report if k not in _ORDER]
    for key in keys:
        value = report[key]
        renderer = _RENDERERS.get(str(key))
        body = (
            renderer(value, unit, fp.total) if renderer and isinstance(value, _KINDS[key]) else ""
        )
        if not body:
            body = _section(value)
        heading = _TITLES.get(str(key), _label(str(key)))
        if key == "cutoff" and isinstance(value, Mapping) and {"each", "overall"} <= set(value):
            heading = (
                f"Cut-off check (PAS 2050: each excluded input < {_rule(value['each'])}, "
                f"all ≤ {_rule(value['overall'])})"
            )
        parts.append(f"<h2>{esc(heading)}</h2>" + body)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: str | Path, fp: Footprint, **options: Any) -> Path:
    """Write :func:`render_html` to ``path`` atomically; returns the path.

    Parameters
    ----------
    path : str or Path
    fp : Footprint
    **options
        Keyword arguments of :func:`render_html`.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    write_text_atomic(path, render_html(fp, **options))
    return path


# ---------------------------------------------------------------------------------------------
# building blocks


def _img(name: str, fig: Any) -> str:
    esc = html.escape
    return f"<img alt='{esc(name)}' src='data:image/png;base64,{figure_png(fig)}'>"


def _with_unit(label: str, unit: str) -> str:
    return f"{label} [{unit}]" if unit else label


def _interval_row(label: str, unit: str, stats: Mapping[str, Any]) -> tuple[str, str, bool]:
    """A table row ``(label [unit], "2.5 % – 97.5 %", numeric)`` of a Monte Carlo interval."""
    return _with_unit(label, unit), html.escape(_range(stats["2.5%"], stats["97.5%"])), True


def _range(lo: Any, hi: Any, unit: str = "") -> str:
    text = f"{format_number(lo)} – {format_number(hi)}"
    return f"{text} {unit}" if unit else text


def _statistics(s: np.ndarray) -> dict[str, Any]:
    """Mean, standard deviation and 95 % interval of samples (when no report section has them)."""
    return {
        "iterations": int(s.size),
        "mean": float(np.mean(s)),
        "std": float(np.std(s, ddof=1)) if s.size > 1 else None,
        "2.5%": float(np.percentile(s, 2.5)),
        "97.5%": float(np.percentile(s, 97.5)),
    }


def _table(
    header: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[str]],
    classes: Sequence[str] | None = None,
) -> str:
    """An HTML table; ``header`` is ``(label, numeric)``, cells are ready-made HTML."""
    head = "".join(f"<th{' class=num' if num else ''}>{html.escape(h)}</th>" for h, num in header)
    body = []
    for i, row in enumerate(rows):
        cls = f" class='{classes[i]}'" if classes and classes[i] else ""
        cells = "".join(
            f"<td{' class=num' if num else ''}>{cell}</td>"
            for cell, (_, num) in zip(row, header, strict=True)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _pairs(rows: Sequence[tuple[str, str, bool]]) -> str:
    """A two-column key/value table: ``(label, value HTML, numeric)``."""
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td{' class=num' if num else ''}>{v}</td></tr>"
        for k, v, num in rows
    )
    return f"<table>{body}</table>"


def _yes_no(value: Any, *, good: bool) -> str:
    """``yes``/``no`` coloured green when it is the ``good`` answer, red when not."""
    if value is None:
        return "–"
    flag = bool(value)
    cls = "ok" if flag == good else "bad"
    return f"<span class='{cls}'>{'yes' if flag else 'no'}</span>"


def _num(value: Any, unit: str = "", *, sign: bool = False) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        text = str(int(value))
    else:
        text = format_number(value, sign=sign) if _is_number(value) else _cell(value)
    return html.escape(f"{text} {unit}" if unit and text != "–" else text)


def _rule(value: Any) -> str:
    """A rule's limit (a fraction) as a plain percentage: ``0.01`` -> ``1 %``."""
    if not _is_number(value) or not np.isfinite(value):
        return "–"
    return f"{100.0 * float(value):.4g} %"


def _signed_share(value: Any) -> str:
    """A signed fraction as a percentage, ``+`` for positive values."""
    if not _is_number(value) or not np.isfinite(value):
        return "–"
    return ("+" if value > 0 else "") + format_share(float(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _contribution_table(df: pd.DataFrame, what: str, unit: str, total: float) -> str:
    """Ranked contributions (``id``, ``name``, ``score``, ``share``) with a rest and total row."""
    esc = html.escape
    rows, classes = [], []
    for r in df.itertuples(index=False):
        rest = str(r.id) == "(rest)"
        rows.append(
            [
                esc(str(r.name)),
                "" if rest else esc(str(r.id)),
                _num(r.score),
                esc(format_share(r.share)),
            ]
        )
        classes.append("rest" if rest else "")
    rows.append(["Total", "", _num(total), esc(format_share(1.0 if total else np.nan))])
    classes.append("total")
    header = [(what, False), ("ID", False), (_with_unit("Score", unit), True), ("Share", True)]
    return _table(header, rows, classes)


def _tag_table(fp: Footprint, tag: str) -> str:
    esc = html.escape
    df = fp.by_tag(tag)
    names = fp.labels(tag)
    rows = [
        [esc(names.get(str(i), str(i))), _num(r.score), esc(format_share(r.share))]
        for i, r in df.iterrows()
    ]
    rows.append(["Total", _num(fp.total), esc(format_share(1.0 if fp.total else np.nan))])
    header = [(tag.capitalize(), False), (_with_unit("Score", fp.unit), True), ("Share", True)]
    return _table(header, rows, [""] * (len(rows) - 1) + ["total"])


def _monte_carlo(mc: Mapping[str, Any], unit: str, total: float | None = None) -> str:
    rows: list[tuple[str, str, bool]] = []
    done = {"iterations", "seed", "mean", "std", "2.5%", "97.5%", "n_fallback", "out"}
    if "iterations" in mc:
        rows.append(("Iterations", _num(mc["iterations"]), True))
    if "seed" in mc:
        rows.append(("Seed", _num(mc["seed"]), True))
    if "mean" in mc:
        rows.append((_with_unit("Mean", unit), _num(mc["mean"]), True))
    if "std" in mc:
        rows.append((_with_unit("Standard deviation", unit), _num(mc["std"]), True))
    if "2.5%" in mc and "97.5%" in mc:
        rows.append(_interval_row("95 % interval (2.5 % – 97.5 % percentiles)", unit, mc))
    if "n_fallback" in mc:
        rows.append((_LABELS["n_fallback"], _num(mc["n_fallback"]), True))
    if "out" in mc:
        rows.append((_LABELS["out"], html.escape(str(mc["out"])), False))
    rows += [(_label(k), _cell(v), _is_number(v)) for k, v in mc.items() if k not in done]
    return _pairs(rows)


def _thresholds(value: Sequence[Mapping[str, Any]], unit: str, total: float) -> str:
    esc = html.escape
    records = [dict(r) for r in value]
    named = any("name" in r and str(r["name"]) != f"{float(r['limit']):g}" for r in records)
    known = {"name", "limit", "exceeds", "distance", "relative", "p_exceed"}
    extra = list(dict.fromkeys(k for r in records for k in r if k not in known))
    has_p = any(_is_number(r.get("p_exceed")) and np.isfinite(r["p_exceed"]) for r in records)
    header: list[tuple[str, bool]] = [("Name", False)] if named else []
    header += [
        (_with_unit("Limit", unit), True),
        ("Exceeded", False),
        (_with_unit("Footprint − limit", unit), True),
        ("(Footprint − limit) / limit", True),
    ]
    if has_p:
        header.append(("P(footprint > limit)", True))
    header += [(_label(k), False) for k in extra]
    rows = []
    for r in records:
        limit = float(r["limit"])
        distance = r.get("distance", total - limit)
        relative = r.get("relative", distance / limit if limit else np.nan)
        row = [esc(str(r.get("name", "")))] if named else []
        row += [
            _num(limit),
            _yes_no(r.get("exceeds", total > limit), good=False),
            _num(distance, sign=True),
            esc(_signed_share(relative)),
        ]
        if has_p:
            row.append(esc(format_share(r.get("p_exceed"))))
        row += [_cell(r.get(k)) for k in extra]
        rows.append(row)
    note = (
        "<p class='note'>“Exceeded” compares the deterministic footprint with the limit. The "
        "distance is footprint − limit: positive (red “yes”) is by how much the limit is "
        "exceeded, negative (green “no”) the margin left. "
        + (
            "P(footprint > limit) is the share of the Monte Carlo iterations above the limit."
            if has_p
            else ""
        )
        + "</p>"
    )
    return _table(header, rows) + note


def _rating(value: Mapping[str, Any], unit: str, total: float) -> str:
    rows: list[tuple[str, str, bool]] = []
    done = {"class", "benchmark", "ratio", "distance", "relative", "p_better"}
    if "class" in value:
        rows.append(("Class", _cell(value["class"]), False))
    if "benchmark" in value:
        rows.append(
            (_with_unit("Benchmark (industry average)", unit), _num(value["benchmark"]), True)
        )
    if "ratio" in value:
        rows.append(("Ratio footprint / benchmark", _num(value["ratio"]), True))
    if "distance" in value:
        rows.append(
            (
                _with_unit("Distance = footprint − benchmark", unit),
                _num(value["distance"], sign=True),
                True,
            )
        )
    if "relative" in value:
        rows.append(("Relative distance", html.escape(_signed_share(value["relative"])), True))
    if "p_better" in value:
        rows.append((_LABELS["p_better"], html.escape(format_share(value["p_better"])), True))
    rows += [(_label(k), _cell(v), _is_number(v)) for k, v in value.items() if k not in done]
    return _pairs(rows)


def _cost_headline(cost: Mapping[str, Any]) -> tuple[str, str]:
    """The deterministic external cost (MC mean when that is all there is) and its interval."""
    currency = str(cost.get("currency", ""))
    has_mc = "2.5%" in cost and "97.5%" in cost
    if "deterministic" in cost:
        value = f"{format_number(cost['deterministic'])} {currency}"
    elif "mean" in cost:
        value = f"{format_number(cost['mean'])} {currency} (Monte Carlo mean)"
    else:
        value = f"{format_number(cost['cost'])} {currency}"
    interval = _range(cost["2.5%"], cost["97.5%"], currency) if has_mc else ""
    return value.strip(), interval


def _external_cost(value: Mapping[str, Any], unit: str, total: float) -> str:
    currency = str(value.get("currency", ""))
    per = str(value.get("per", "t CO2e"))
    rows: list[tuple[str, str, bool]] = []
    deterministic = value.get("deterministic")
    mc = "mean" in value
    if deterministic is not None:
        rows.append(
            (_with_unit("Cost of the deterministic footprint", currency), _num(deterministic), True)
        )
    elif not mc and "cost" in value:
        rows.append((_with_unit("Cost of the footprint", currency), _num(value["cost"]), True))
    if "2.5%" in value and "97.5%" in value:
        rows.append(_interval_row("95 % interval, Monte Carlo", currency, value))
    if mc:
        rows.append((_with_unit("Monte Carlo mean", currency), _num(value["mean"]), True))
        if value.get("std") is not None:
            rows.append(
                (_with_unit("Monte Carlo standard deviation", currency), _num(value["std"]), True)
            )
    if "price" in value:
        rows.append((f"Carbon price [{currency} per {per}]", _num(value["price"]), True))
    done = {"cost", "deterministic", "mean", "std", "2.5%", "97.5%", "price", "currency", "per"}
    rows += [(_label(k), _cell(v), _is_number(v)) for k, v in value.items() if k not in done]
    note = (
        "<p class='note'>External cost = footprint in t CO2e × carbon price. "
        + (
            "The headline is the cost of the deterministic footprint; the Monte Carlo rows "
            "give the spread over the iterations (the report's JSON field <code>cost</code> "
            "is the Monte Carlo mean)."
            if mc
            else ""
        )
        + "</p>"
    )
    return _pairs(rows) + note


def _cutoff(value: Mapping[str, Any], unit: str, total: float) -> str:
    esc = html.escape
    each, overall = value.get("each"), value.get("overall")
    share = value.get("excluded_share")
    excluded = list(value.get("excluded") or [])
    rows: list[tuple[str, str, bool]] = [
        ("Passes", _yes_no(value.get("passes"), good=True), False),
        (_LABELS["each"], esc(_rule(each)), True),
        (_LABELS["overall"], esc(_rule(overall)), True),
        ("Number of excluded inputs", _num(len(excluded)), True),
        (_LABELS["excluded_share"], esc(format_share(share)), True),
    ]
    done = {"each", "overall", "passes", "excluded_share", "violations", "excluded"}
    rows += [(_label(k), _cell(v), _is_number(v)) for k, v in value.items() if k not in done]
    text = (
        "<p class='note'>Cut-off rule: an input may be left out of a study when it contributes "
        f"less than {esc(_rule(each))} of the footprint, as long as all left-out inputs "
        f"together stay at or below {esc(_rule(overall))}. <b>Excluded</b> inputs are the "
        "inputs of the activities supplying the functional unit that would be excluded under "
        "this rule (each below the per-input limit, unless exclusions were given explicitly); "
        "they are <i>still included</i> in the footprint above, and their share shows how much "
        f"of it they carry (together {esc(format_share(share))}).</p>"
    )
    out = [text, _pairs(rows)]
    violations = list(value.get("violations") or [])
    if violations:
        out.append(
            "<p class='bad'>Violations:</p><ul>"
            + "".join(f"<li>{esc(str(v))}</li>" for v in violations)
            + "</ul>"
        )
    if excluded:
        known = ["consumer", "input", "name", "score", "share"]
        extra = list(dict.fromkeys(k for r in excluded for k in r if k not in known))
        header = [
            (_LABELS["consumer"], False),
            (_LABELS["input"], False),
            ("Product", False),
            (_with_unit("Score", unit), True),
            ("Share", True),
        ] + [(_label(k), False) for k in extra]
        body = [
            [
                esc(str(r.get("consumer", ""))),
                esc(str(r.get("input", ""))),
                esc(str(r.get("name", ""))),
                _num(r.get("score")),
                esc(format_share(r.get("share"))),
            ]
            + [_cell(r.get(k)) for k in extra]
            for r in excluded
        ]
        out.append("<p>Excluded inputs:</p>" + _table(header, body))
    return "".join(out)


#: renderers of the known sections and the JSON kind they expect
_RENDERERS: dict[str, Callable[[Any, str, float], str]] = {
    "monte_carlo": _monte_carlo,
    "thresholds": _thresholds,
    "rating": _rating,
    "external_cost": _external_cost,
    "cutoff": _cutoff,
}
_KINDS: dict[str, type | tuple[type, ...]] = {
    "monte_carlo": Mapping,
    "thresholds": (list, tuple),
    "rating": Mapping,
    "external_cost": Mapping,
    "cutoff": Mapping,
}


# ---------------------------------------------------------------------------------------------
# generic sections (report keys without a renderer of their own)


def _label(key: str) -> str:
    """A readable name of a report key (``excluded_share`` -> ``Excluded share``)."""
    if key in _LABELS:
        return _LABELS[key]
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _cell(value: Any, key: str = "") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "–"
    if _is_number(value):
        if key in _SHARES:
            return html.escape(format_share(float(value)))
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        return html.escape(format_number(float(value)))
    return html.escape(str(value))


def _section(value: Any) -> str:
    """A report section as HTML: key/value tables, row tables for lists of records."""
    if isinstance(value, Mapping):
        scalars = {k: v for k, v in value.items() if not isinstance(v, (list, tuple, Mapping))}
        out = []
        if scalars:
            out.append(
                _pairs(
                    [(_label(str(k)), _cell(v, str(k)), _is_number(v)) for k, v in scalars.items()]
                )
            )
        for k, v in value.items():
            if k in scalars or (isinstance(v, (list, tuple)) and not v):
                continue
            out.append(f"<p>{html.escape(_label(str(k)))}</p>" + _section(v))
        return "".join(out)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            numeric = [all(_is_number(v.get(k)) or v.get(k) is None for v in value) for k in keys]
            header = [(_label(str(k)), num) for k, num in zip(keys, numeric, strict=True)]
            rows = [[_cell(v.get(k), str(k)) for k in keys] for v in value]
            return _table(header, rows)
        return "<ul>" + "".join(f"<li>{_cell(v)}</li>" for v in value) + "</ul>"
    return f"<p>{_cell(value)}</p>"
