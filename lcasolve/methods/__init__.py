"""Impact assessment methods: shipped IPCC GWPs matched to named elementary flows.

::

    from lcasolve.methods import available, match_flows, with_methods

    available()                                  # ["IPCC AR6 GWP100", "IPCC AR6 GWP20", ...]
    report = match_flows(system.flows, "IPCC AR5 GWP100")
    report.matched, report.unmatched             # DataFrames
    system = with_methods(system, ["IPCC AR6 GWP100", "IPCC AR6 GWP20"])

Conventions (IPCC 2021 / ecoinvent): non-fossil CO2 = 0, CO2 uptake = 0, fossil and land-use CO2
= 1; fossil methane and methane from soil or biomass stock take the fossil value, non-fossil
methane its own AR6 value; only emissions to air are characterized. See
:mod:`lcasolve.methods.flowmatch`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import UnknownCategoryError, format_ids
from lcasolve.methods.flowmatch import MatchReport, match_flows
from lcasolve.methods.ipcc import DEFAULT_METHOD, UNIT, GWPMethod, available, get_method, gwp_table
from lcasolve.model import Entries, System

__all__ = [
    "DEFAULT_METHOD",
    "UNIT",
    "GWPMethod",
    "MatchReport",
    "available",
    "characterization_entries",
    "get_method",
    "gwp_table",
    "match_flows",
    "with_methods",
]


def characterization_entries(
    system: System, names: Sequence[str]
) -> tuple[Entries, pd.DataFrame, dict[str, MatchReport]]:
    """Characterization rows for shipped methods, matched to a system's flows.

    Parameters
    ----------
    system : System
    names : sequence of str
        Shipped method names (see :func:`available`).

    Returns
    -------
    entries : Entries
        ``len(names) x n_flows``, one row per method in the given order, nonzero factors only.
    categories : pandas.DataFrame
        ``id`` (= name), ``name``, ``unit``.
    reports : dict
        ``{method name: MatchReport}``.
    """
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    reports: dict[str, MatchReport] = {}
    flow_index = system.flow_index
    for k, name in enumerate(names):
        report = match_flows(system.flows, get_method(name))
        reports[name] = report
        factors = report.factors
        col = np.fromiter((flow_index[f] for f in factors), dtype=np.int64, count=len(factors))
        rows.append(np.full(col.shape[0], k, dtype=np.int64))
        cols.append(col)
        vals.append(np.fromiter(factors.values(), dtype=np.float64, count=len(factors)))
    entries = Entries.create(
        (len(names), system.n_flows),
        np.concatenate(rows) if rows else np.zeros(0, np.int64),
        np.concatenate(cols) if cols else np.zeros(0, np.int64),
        np.concatenate(vals) if vals else np.zeros(0),
        name="characterization",
    )
    categories = pd.DataFrame(
        {"id": pd.Series(list(names), dtype=object), "name": list(names), "unit": UNIT}
    )
    return entries, categories, reports


def with_methods(system: System, names: Sequence[str] | None = None) -> System:
    """Return the system with the requested impact categories.

    Parameters
    ----------
    system : System
    names : sequence of str or None
        ``None``: the system unchanged if it has categories, else the default method
        ``"IPCC AR6 GWP100"`` by flow matching. A list: the system's own categories of those
        names (kept with their factors and uncertainty) plus shipped methods (see
        :func:`available`) for the others, in the given order.

    Returns
    -------
    System
        A new system (``dataclasses.replace``); ``metadata["method_match"]`` holds, for each
        shipped method applied, its :class:`MatchReport` as plain records
        (``MatchReport.from_dict`` rebuilds it).

    Raises
    ------
    UnknownCategoryError
        If a name is neither one of the system's categories nor a shipped method (the message
        lists both).
    """
    if names is None:
        if system.n_categories > 0:
            return system
        names = [DEFAULT_METHOD]
    names = list(dict.fromkeys(str(n) for n in names))
    if not names:
        raise UnknownCategoryError("no impact method named; give at least one")
    own_names = system.categories["name"].astype(str).tolist()
    own_ids = [str(c) for c in system.categories["id"].tolist()]
    shipped = set(available())
    plan: list[tuple[str, Hashable]] = []  # ("own", row) or ("shipped", name)
    for name in names:
        if name in own_names:
            plan.append(("own", own_names.index(name)))
        elif name in own_ids:
            plan.append(("own", own_ids.index(name)))
        elif name in shipped:
            plan.append(("shipped", name))
        else:
            raise UnknownCategoryError(
                f"unknown impact method {name!r}; the system has: "
                f"{format_ids(own_names) or 'no categories'}; shipped methods: "
                f"{format_ids(available(), 20)}"
            )
    if all(kind == "own" for kind, _ in plan) and [r for _, r in plan] == list(
        range(system.n_categories)
    ):
        return system

    shipped_names = [str(n) for kind, n in plan if kind == "shipped"]
    new_entries, new_cats, reports = characterization_entries(system, shipped_names)
    own = system.characterization
    parts: list[Entries] = []
    cat_rows: list[dict[str, Any]] = []
    k = len(plan)
    shape = (k, system.n_flows)
    for pos, (kind, ref) in enumerate(plan):
        if kind == "own":
            sel = own.select(own.row == int(ref))  # type: ignore[call-overload]
            parts.append(
                Entries(
                    shape,
                    np.full(len(sel), pos, dtype=np.int64),
                    sel.col,
                    sel.value,
                    sel.uncertainty,
                    sel.flip,
                )
            )
            cat_rows.append(system.categories.iloc[int(ref)].to_dict())  # type: ignore[call-overload]
        else:
            j = shipped_names.index(str(ref))
            sel = new_entries.select(new_entries.row == j)
            parts.append(
                Entries(
                    shape,
                    np.full(len(sel), pos, dtype=np.int64),
                    sel.col,
                    sel.value,
                    sel.uncertainty,
                    sel.flip,
                )
            )
            cat_rows.append(new_cats.iloc[j].to_dict())
    characterization = Entries.concatenate(parts)
    categories = pd.DataFrame(cat_rows).reset_index(drop=True)
    for col in system.categories.columns:
        if col not in categories.columns:
            categories[col] = ""
    metadata = dict(system.metadata)
    match = dict(metadata.get("method_match", {}))
    match.update({name: rep.to_dict() for name, rep in reports.items()})
    metadata["method_match"] = match
    return dataclasses.replace(
        system, characterization=characterization, categories=categories, metadata=metadata
    )
