"""IPCC global warming potentials (AR4, AR5, AR6) shipped as LCIA methods.

The values come from the U.S. EPA's LCIA formatter table ``data/IPCC_GWP_values.csv`` (MIT
license), plus the AR6 values of fossil and non-fossil methane (``data/methane_by_origin.csv``,
IPCC AR6 WGI Table 7.15), which the EPA table does not carry.

Names differ across the reports ("Sulphur hexafluoride" in AR4/AR5, "Sulfur hexafluoride" in
AR6; AR6 uses chemical names with the HFC code as acronym), so substances are found by CAS number,
acronym, name or formula, never by name alone (see :mod:`lcasolve.methods.flowmatch`).

Conventions (IPCC 2021 / ecoinvent):

- carbon dioxide: fossil, unspecified and land-use (from soil or biomass stock, land
  transformation) CO2 = 1; non-fossil (biogenic) CO2 = 0; CO2 uptake from air (a resource) = 0;
- methane: fossil methane and methane from soil or biomass stock take the fossil value (AR6 29.8
  for GWP100, AR5 30, AR4 25), non-fossil (biogenic) methane its own value (AR6 27.0, AR5 28,
  AR4 25), and methane of unspecified origin the report's single methane value (AR6 27.9, AR5 28,
  AR4 25).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from lcasolve.errors import UnknownCategoryError, format_ids

__all__ = [
    "DEFAULT_METHOD",
    "UNIT",
    "GWPMethod",
    "available",
    "get_method",
    "gwp_table",
]

#: The method applied when a system carries no characterization.
DEFAULT_METHOD = "IPCC AR6 GWP100"
#: Unit of every shipped method (per kg of gas emitted).
UNIT = "kg CO2-eq"

_REPORTS = ("AR6", "AR5", "AR4")
_HORIZONS = ("GWP100", "GWP20", "GWP500")
_NAME_RE = re.compile(r"^IPCC (AR[456]) (GWP(?:20|100|500))$")
_NO_DATA = "(no data)"


def _data_text(name: str) -> str:
    return resources.files("lcasolve.methods").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _wide_table() -> pd.DataFrame:
    from io import StringIO

    raw = pd.read_csv(StringIO(_data_text("IPCC_GWP_values.csv")), dtype=str, keep_default_na=False)
    raw = raw.apply(lambda col: col.str.strip())
    # AR5 group headings ("Hydrofluorocarbons", ...) carry formula "0" and value 0: not gases.
    raw = raw[raw["Formula"] != "0"]
    values = pd.to_numeric(raw["Value"].where(raw["Value"] != _NO_DATA), errors="raise")
    raw = raw.assign(Value=values.astype(float))
    keys = ["AR", "Name", "CAS", "Acronym", "Formula"]
    wide = raw.pivot_table(index=keys, columns="Parameter", values="Value", aggfunc="first")
    wide = wide.reindex(columns=list(_HORIZONS)).reset_index()
    for col in ("CAS", "Acronym"):
        wide[col] = wide[col].where(wide[col] != _NO_DATA, "")
    wide = wide.rename(
        columns={
            "AR": "report",
            "Name": "name",
            "CAS": "cas",
            "Acronym": "acronym",
            "Formula": "formula",
            "GWP100": "gwp100",
            "GWP20": "gwp20",
            "GWP500": "gwp500",
        }
    )
    order = {r: i for i, r in enumerate(_REPORTS)}
    wide = wide.sort_values(
        ["report", "name"], key=lambda s: s.map(order) if s.name == "report" else s
    )
    return wide.reset_index(drop=True)


def gwp_table() -> pd.DataFrame:
    """The shipped IPCC table, one row per report and substance.

    Returns
    -------
    pandas.DataFrame
        Columns ``report`` (AR4/AR5/AR6), ``name``, ``cas``, ``acronym``, ``formula`` (empty
        strings where the source says "(no data)"), ``gwp100``, ``gwp20``, ``gwp500`` (floats,
        NaN where the report gives no value). A copy: changing it changes nothing else.
    """
    return _wide_table().copy()


@lru_cache(maxsize=1)
def _methane_by_origin() -> pd.DataFrame:
    from io import StringIO

    return pd.read_csv(StringIO(_data_text("methane_by_origin.csv")))


@dataclass(frozen=True, eq=False)
class GWPMethod:
    """One shipped IPCC method: a report and a time horizon.

    Attributes
    ----------
    name : str
        For example ``"IPCC AR6 GWP100"``.
    report : str
        ``"AR4"``, ``"AR5"`` or ``"AR6"``.
    horizon : str
        ``"GWP20"``, ``"GWP100"`` or ``"GWP500"``.
    unit : str
        ``"kg CO2-eq"`` (per kg emitted).
    substances : pandas.DataFrame
        The report's gases with a value for this horizon: ``name``, ``cas``, ``acronym``,
        ``formula``, ``gwp``.
    methane : dict
        GWP of methane by origin: ``"fossil"``, ``"non-fossil"`` and ``"unspecified"``.
    """

    name: str
    report: str
    horizon: str
    unit: str
    substances: pd.DataFrame = field(repr=False)
    methane: dict[str, float] = field(repr=False)

    def gwp(self, substance: str) -> float:
        """GWP of a substance given by formula, acronym, CAS or name (exact, as in the table).

        Raises
        ------
        KeyError
            If the report has no value for the substance.
        """
        subs = self.substances
        for col in ("formula", "acronym", "cas", "name"):
            hit = subs.loc[subs[col] == substance, "gwp"]
            if len(hit):
                return float(hit.iloc[0])
        raise KeyError(f"{self.name} has no value for {substance!r}")


def available() -> list[str]:
    """Names of the shipped methods, the default first.

    Returns
    -------
    list of str
        ``"IPCC AR6 GWP100"``, ``"IPCC AR6 GWP20"``, ... for every report and horizon with data
        (AR5 publishes no GWP500).
    """
    table = _wide_table()
    return [
        f"IPCC {report} {horizon}"
        for report in _REPORTS
        for horizon in _HORIZONS
        if table.loc[table["report"] == report, horizon.lower()].notna().any()
    ]


@lru_cache(maxsize=16)
def get_method(name: str = DEFAULT_METHOD) -> GWPMethod:
    """A shipped method by name.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    GWPMethod

    Raises
    ------
    UnknownCategoryError
        If no shipped method has that name (the message lists them).
    """
    m = _NAME_RE.match(str(name).strip())
    if m is None or name not in available():
        raise UnknownCategoryError(
            f"no shipped method named {name!r}; shipped methods: {format_ids(available(), 20)}"
        )
    report, horizon = m.group(1), m.group(2)
    col = horizon.lower()
    rows = _wide_table()
    rows = rows[(rows["report"] == report) & rows[col].notna()]
    subs = rows[["name", "cas", "acronym", "formula", col]].rename(columns={col: "gwp"})
    subs = subs.reset_index(drop=True)

    ch4 = subs[subs["formula"] == "CH4"]
    generic = ch4[ch4["name"].str.lower() == "methane"]
    fossil_row = ch4[ch4["name"].str.lower() == "fossil methane"]
    unspecified = float(generic["gwp"].iloc[0]) if len(generic) else np.nan
    methane = {"unspecified": unspecified, "fossil": unspecified, "non-fossil": unspecified}
    if len(fossil_row):
        methane["fossil"] = float(fossil_row["gwp"].iloc[0])
    extra = _methane_by_origin()
    for _, row in extra[extra["report"] == report].iterrows():
        value = float(row[horizon])
        if np.isfinite(value):
            methane[str(row["origin"])] = value
    # The generic methane row stands for unspecified origin only; matching handles origins.
    subs = subs[~((subs["formula"] == "CH4") & (subs["name"].str.lower() == "fossil methane"))]
    return GWPMethod(
        name=name,
        report=report,
        horizon=horizon,
        unit=UNIT,
        substances=subs.reset_index(drop=True),
        methane=methane,
    )
