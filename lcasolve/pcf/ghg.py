"""Fossil, biogenic and land-use-change parts of a footprint (ISO 14067 / GHG Protocol split)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lcasolve.lca import LCA
from lcasolve.pcf.footprint import Footprint

__all__ = ["GhgSplit", "ghg_split"]

_BIOGENIC = re.compile(r"non-?fossil|biogenic|biotic", re.IGNORECASE)
_LAND = re.compile(r"land (?:use|transformation)|soil or biomass stock", re.IGNORECASE)
_CO2 = re.compile(r"^\s*carbon dioxide\b", re.IGNORECASE)
_UPTAKE = re.compile(r"\bin air\b|resource", re.IGNORECASE)


@dataclass(frozen=True)
class GhgSplit:
    """Parts of a footprint by origin of the gas (kg CO2-eq per functional unit).

    Attributes
    ----------
    fossil, land_use_change, biogenic_in_total : float
        Characterized scores of fossil (and unspecified-origin) flows, of land-use-change flows
        and of biogenic flows; they sum to ``total``.
    biogenic_co2_emissions, biogenic_co2_removals : float
        Biogenic CO2 released (>= 0) and taken up (<= 0) in kg CO2, reported beside the total
        whatever the method's factors for them are (0/0 convention: not in the total).
    total : float
    """

    fossil: float
    land_use_change: float
    biogenic_in_total: float
    biogenic_co2_emissions: float
    biogenic_co2_removals: float
    total: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready parts."""
        return {k: float(v) for k, v in self.__dict__.items()}


def ghg_split(lca: LCA, fp: Footprint) -> GhgSplit:
    """Split a footprint by the origin named in each elementary flow's name.

    Parameters
    ----------
    lca : LCA
        The calculation the footprint came from (for the inventory).
    fp : Footprint

    Returns
    -------
    GhgSplit
        ``fossil + land_use_change + biogenic_in_total == total`` (a partition of the flows).
    """
    flows = fp.system.flows
    names = flows["name"].astype(str)
    comp = flows["compartment"].astype(str) if "compartment" in flows else names.map(lambda _: "")
    bio = names.str.contains(_BIOGENIC).to_numpy()
    land = names.str.contains(_LAND).to_numpy() & ~bio
    co2 = names.str.contains(_CO2).to_numpy()
    uptake = co2 & (comp.str.contains(_UPTAKE).to_numpy() | names.str.contains(_UPTAKE).to_numpy())
    g = lca.calculate(fp.demand).inventory
    v = fp.flow_values
    fossil = ~(bio | land | uptake)
    return GhgSplit(
        fossil=float(v[fossil].sum()),
        land_use_change=float(v[land].sum()),
        biogenic_in_total=float(v[bio | uptake].sum() - v[land & uptake].sum()),
        biogenic_co2_emissions=float(np.sum(g[bio & co2 & ~uptake])),
        biogenic_co2_removals=0.0 - float(np.sum(np.abs(g[uptake]))),
        total=float(fp.total),
    )
