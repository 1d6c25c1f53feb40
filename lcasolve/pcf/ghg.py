"""Fossil, biogenic, land-use-change and aircraft parts of a footprint (ISO 14067 split).

ISO 14067, the GHG Protocol Product Standard, PAS 2050 and GB/T 24067 ask for fossil GHG
emissions, biogenic emissions and removals, direct land-use change (dLUC) and aircraft emissions
to be reported separately beside the total. :func:`ghg_split` finds them

- from the method's own sub-categories when the system has them (EF 3.1 "Climate change -
  Fossil", "- Biogenic", "- Land use and land use change"), used as they are; or
- from the origin named in each elementary flow (``fossil``, ``non-fossil``/``biogenic``, ``land
  use``/``soil or biomass stock``; unspecified origin counts as fossil, as the flow matching does).

Biogenic CO2 is counted by a stated convention: ``"0/0"`` (default; the shipped IPCC methods'
factors: emissions and removals both 0, reported beside the total) or ``"-1/+1"`` (removals −1,
emissions +1 kg CO2-eq per kg, as ISO 14067 allows when the carbon storage is reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from lcasolve.errors import InputError
from lcasolve.lca import LCA
from lcasolve.pcf.footprint import Footprint

__all__ = ["CONVENTIONS", "GhgSplit", "ghg_split"]

#: accepted biogenic-carbon conventions (removal factor / emission factor)
CONVENTIONS = ("0/0", "-1/+1")

_BIOGENIC = re.compile(r"non-?fossil|biogenic|biotic", re.IGNORECASE)
_LAND = re.compile(r"land (?:use|transformation)|soil or biomass stock", re.IGNORECASE)
_CO2 = re.compile(r"^\s*carbon dioxide\b", re.IGNORECASE)
_UPTAKE = re.compile(r"\bin air\b|resource", re.IGNORECASE)
_AIRCRAFT = re.compile(
    r"\b(?:aircraft|airplane|aeroplane|air freight|air transport|transport, air|jet fuel, burned)",
    re.IGNORECASE,
)
_SUB = {
    "fossil": re.compile(r"climate change\W+fossil", re.IGNORECASE),
    "biogenic": re.compile(r"climate change\W+biogenic", re.IGNORECASE),
    "land_use_change": re.compile(r"climate change\W+land use", re.IGNORECASE),
}


@dataclass(frozen=True)
class GhgSplit:
    """Parts of a footprint by origin of the gas (kg CO2-eq per functional unit).

    Attributes
    ----------
    fossil : float
        Fossil GHG emissions (and unspecified-origin flows) as characterized.
    land_use_change : float
        Direct land-use change (dLUC).
    biogenic_in_total : float
        Biogenic flows as the method characterizes them (non-CO2 biogenic gases such as
        non-fossil methane, plus biogenic CO2 at the method's factors).
    biogenic_co2_emissions, biogenic_co2_removals : float
        Biogenic CO2 released (>= 0) and taken up (<= 0), in kg CO2, whatever the factors.
    aircraft : float
        Direct emissions of air-transport activities (part of ``fossil``), reported beside.
    total : float
        The footprint at the method's factors: ``fossil + land_use_change + biogenic_in_total``.
    convention : str
        ``"0/0"`` or ``"-1/+1"`` (see :attr:`total_convention`).
    basis : str
        Where the split comes from (flow names, or the method's sub-categories).
    biogenic_co2_in_total : float
        The part of ``biogenic_in_total`` from biogenic CO2 flows (0 with the IPCC methods).
    """

    fossil: float
    land_use_change: float
    biogenic_in_total: float
    biogenic_co2_emissions: float
    biogenic_co2_removals: float
    total: float
    aircraft: float = 0.0
    convention: str = "0/0"
    basis: str = "flow names"
    biogenic_co2_in_total: float = 0.0

    @property
    def total_convention(self) -> float:
        """The total under :attr:`convention`.

        ``"0/0"``: the footprint as the method gives it. ``"-1/+1"``: biogenic CO2 counted at +1
        for emissions and −1 for removals instead of the method's factors for it.
        """
        if self.convention == "0/0":
            return self.total
        return (
            self.total
            - self.biogenic_co2_in_total
            + self.biogenic_co2_emissions
            + self.biogenic_co2_removals
        )

    def parts(self) -> dict[str, float]:
        """The parts that add up to :attr:`total_convention` (aircraft is inside ``fossil``)."""
        if self.convention == "0/0":
            return {
                "fossil": self.fossil,
                "land_use_change": self.land_use_change,
                "biogenic": self.biogenic_in_total,
            }
        return {
            "fossil": self.fossil,
            "land_use_change": self.land_use_change,
            "biogenic_other": self.biogenic_in_total - self.biogenic_co2_in_total,
            "biogenic_co2_emissions": self.biogenic_co2_emissions,
            "biogenic_co2_removals": self.biogenic_co2_removals,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parts, the convention and the total under it."""
        out: dict[str, Any] = {
            k: (float(v) if not isinstance(v, str) else v) for k, v in self.__dict__.items()
        }
        out["total_convention"] = self.total_convention
        out["parts"] = self.parts()
        return out


def ghg_split(lca: LCA, fp: Footprint, *, convention: str = "0/0") -> GhgSplit:
    """Split a footprint by origin of the gas.

    Parameters
    ----------
    lca : LCA
        The calculation the footprint came from (for the inventory).
    fp : Footprint
    convention : {"0/0", "-1/+1"}
        How biogenic CO2 counts in :attr:`GhgSplit.total_convention`.

    Returns
    -------
    GhgSplit
        ``fossil + land_use_change + biogenic_in_total == total``; ``sum(parts()) ==
        total_convention``.
    """
    if convention not in CONVENTIONS:
        raise InputError(f"biogenic convention must be one of {CONVENTIONS}, not {convention!r}")
    system = fp.system
    flows = system.flows
    names = flows["name"].astype(str)
    comp = flows["compartment"].astype(str) if "compartment" in flows else names.map(lambda _: "")
    bio = names.str.contains(_BIOGENIC).to_numpy()
    land = names.str.contains(_LAND).to_numpy() & ~bio
    co2 = names.str.contains(_CO2).to_numpy()
    uptake = co2 & (comp.str.contains(_UPTAKE).to_numpy() | names.str.contains(_UPTAKE).to_numpy())
    res = lca.calculate(fp.demand)
    g = res.inventory
    v = fp.flow_values
    emissions = float(np.sum(g[bio & co2 & ~uptake]))
    removals = 0.0 - float(np.sum(np.abs(g[uptake])))
    bio_co2_in_total = float(v[(bio & co2) | uptake].sum())
    acts = system.activities
    air = acts["name"].astype(str).str.contains(_AIRCRAFT).to_numpy()
    aircraft = float(fp.activity_values[air].sum())
    sub = _subcategories(system, fp.category)
    if sub is not None:
        scores = {part: float(res.scores.iloc[k]) for part, k in sub.items()}
        cats = system.categories["name"].astype(str)
        basis = "method sub-categories: " + "; ".join(cats.iloc[k] for k in sub.values())
        summed = scores["fossil"] + scores["land_use_change"] + scores["biogenic"]
        if abs(summed - fp.total) > 1e-9 * max(abs(fp.total), 1e-300):
            basis += f" (they sum to {summed:.6g}, the category {fp.category} gives {fp.total:.6g})"
        return GhgSplit(
            fossil=scores["fossil"],
            land_use_change=scores["land_use_change"],
            biogenic_in_total=scores["biogenic"],
            biogenic_co2_emissions=emissions,
            biogenic_co2_removals=removals,
            total=summed,
            aircraft=aircraft,
            convention=convention,
            basis=basis,
            biogenic_co2_in_total=bio_co2_in_total,
        )
    fossil = ~(bio | land | uptake)
    return GhgSplit(
        fossil=float(v[fossil].sum()),
        land_use_change=float(v[land].sum()),
        biogenic_in_total=float(v[bio | uptake].sum() - v[land & uptake].sum()),
        biogenic_co2_emissions=emissions,
        biogenic_co2_removals=removals,
        total=float(fp.total),
        aircraft=aircraft,
        convention=convention,
        basis="origin named in each elementary flow (unspecified origin counts as fossil)",
        biogenic_co2_in_total=bio_co2_in_total,
    )


def _subcategories(system: Any, category: str) -> dict[str, int] | None:
    """Positions of the fossil / biogenic / land-use sub-categories of a climate category."""
    cats = system.categories["name"].astype(str).tolist()
    if not re.search(r"climate change|global warming|gwp", category, re.IGNORECASE):
        return None
    found: dict[str, int] = {}
    for part, pattern in _SUB.items():
        hits = [k for k, name in enumerate(cats) if pattern.search(name) and name != category]
        if len(hits) != 1:
            return None
        found[part] = hits[0]
    return found
