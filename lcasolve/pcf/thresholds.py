"""Limits, performance classes and benchmark ratings, with Monte Carlo exceedance probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError

__all__ = ["EU_ECOLABEL_CEMENT", "classify", "compare_thresholds", "rating"]

#: EU eco-label cement limits, kg CO2e per tonne (grey clinker / excellence)
EU_ECOLABEL_CEMENT: dict[str, float] = {"grey clinker limit": 816.0, "excellence": 751.0}


def compare_thresholds(
    value: float,
    thresholds: Mapping[str, float] | Sequence[float],
    samples: np.ndarray | None = None,
) -> pd.DataFrame:
    """Compare a footprint with limits.

    Parameters
    ----------
    value : float
        Deterministic footprint.
    thresholds : mapping or sequence
        ``{name: limit}`` or limits (named by their value).
    samples : array, optional
        Monte Carlo samples of the footprint; adds ``p_exceed`` = fraction of samples ``>`` limit.

    Returns
    -------
    pandas.DataFrame
        Indexed by name: ``limit``, ``exceeds``, ``distance`` (value − limit), ``relative``
        (distance / limit) and ``p_exceed``.
    """
    items = _items(thresholds)
    s = None if samples is None else np.asarray(samples, dtype=float).ravel()
    if s is not None and s.size == 0:
        raise InputError("no Monte Carlo samples given")
    rows = []
    for name, limit in items:
        rows.append(
            {
                "name": name,
                "limit": limit,
                "exceeds": bool(value > limit),
                "distance": value - limit,
                "relative": (value - limit) / limit if limit != 0 else np.nan,
                "p_exceed": float(np.mean(s > limit)) if s is not None else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("name")


def classify(
    value: float,
    classes: Mapping[str, float] | Sequence[tuple[str, float]],
    samples: np.ndarray | None = None,
) -> dict[str, Any]:
    """Performance class (battery-regulation style): the first class whose upper bound holds.

    Parameters
    ----------
    value : float
    classes : mapping or sequence of (label, upper bound)
        Upper bounds in increasing order, e.g. ``{"A": 50, "B": 80, "C": inf}``; a value above
        the last bound is in class ``None``.
    samples : array, optional
        Monte Carlo samples; adds the probability of each class.

    Returns
    -------
    dict
        ``class``, ``bounds`` and, with samples, ``probabilities`` ``{label: p}``.
    """
    items = _items(classes)
    bounds = np.array([b for _, b in items])
    if np.any(np.diff(bounds) <= 0):
        raise InputError(f"class bounds must increase: {dict(items)}")
    labels = [n for n, _ in items]
    pos = int(np.searchsorted(bounds, value, side="left"))
    out: dict[str, Any] = {
        "class": labels[pos] if pos < len(labels) else None,
        "bounds": dict(items),
    }
    if samples is not None:
        s = np.asarray(samples, dtype=float).ravel()
        idx = np.searchsorted(bounds, s, side="left")
        out["probabilities"] = {lab: float(np.mean(idx == i)) for i, lab in enumerate(labels)}
        out["probabilities"]["(above all)"] = float(np.mean(idx == len(labels)))
    return out


def rating(
    value: float,
    benchmark: float,
    classes: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
    samples: np.ndarray | None = None,
) -> dict[str, Any]:
    """Green-finance style rating against an industry average.

    Parameters
    ----------
    value : float
    benchmark : float
        Industry average (same unit).
    classes : optional
        Bounds on the ratio ``value / benchmark``; default ``{"A": 0.7, "B": 0.9, "C": 1.1,
        "D": 1.3, "E": inf}``.
    samples : array, optional
        Monte Carlo samples; adds ``p_better`` (share of samples below the benchmark).

    Returns
    -------
    dict
        ``class``, ``ratio``, ``distance`` (value − benchmark), ``relative`` and ``p_better``.
    """
    if not np.isfinite(benchmark) or benchmark <= 0:
        raise InputError(f"benchmark must be a positive number, not {benchmark!r}")
    if classes is None:
        classes = {"A": 0.7, "B": 0.9, "C": 1.1, "D": 1.3, "E": float("inf")}
    ratio = value / benchmark
    out = {
        "class": classify(ratio, classes)["class"],
        "benchmark": float(benchmark),
        "ratio": float(ratio),
        "distance": float(value - benchmark),
        "relative": float(ratio - 1.0),
    }
    if samples is not None:
        out["p_better"] = float(np.mean(np.asarray(samples, dtype=float) < benchmark))
    return out


def _items(spec: Mapping[str, float] | Sequence[Any]) -> list[tuple[str, float]]:
    if isinstance(spec, Mapping):
        items = [(str(k), float(v)) for k, v in spec.items()]
    else:
        items = [
            (str(x[0]), float(x[1])) if isinstance(x, tuple) else (f"{float(x):g}", float(x))
            for x in spec
        ]
    if not items:
        raise InputError("no thresholds given")
    bad = [n for n, v in items if np.isnan(v)]
    if bad:
        raise InputError(f"thresholds are not numbers: {bad}")
    return items
