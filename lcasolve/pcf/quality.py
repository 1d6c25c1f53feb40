"""Data quality of a footprint: the pedigree scores of the exchanges it is made of.

A pedigree entry scores an exchange from 1 (best) to 5 on five indicators (reliability,
completeness, temporal, geographical and technological correlation). The readers keep them where
the format has them (openLCA JSON-LD ``pedigreeUncertainty`` / ``dqEntry``, EcoSpold2
``pedigreeMatrix``, a ``pedigree`` column of the tables, the ``pedigree`` dict of a bw2data
project's exchanges) in ``system.metadata["pedigree"]``, one row per exchange. EcoSpold 1, bare
brightway datapackages (bw_processing) and SimaPro CSV carry no pedigree scores.

The footprint is the sum of the characterized elementary exchanges of its supply chain,
``h = Σ_e c_i(e) · b_e · s_j(e)``. :func:`data_quality` weighs each elementary exchange by the
absolute value of that contribution: for indicator ``k`` the mean score is
``Σ_e |h_e| · score_ek / Σ_e |h_e|`` over the exchanges with pedigree data, and the share of the
footprint without pedigree data is ``1 − Σ_{e with pedigree} |h_e| / Σ_e |h_e|`` (absolute
values, so that credits and removals count as much data as emissions). Pedigree scores of
technosphere inputs describe the input's amount, not an emission; they are counted but not
weighted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.lca import LCA
from lcasolve.pcf.footprint import Footprint

__all__ = ["INDICATORS", "DataQuality", "data_quality"]

#: the five pedigree indicators, in the order of the scores
INDICATORS = ("reliability", "completeness", "temporal", "geographical", "technological")


@dataclass(frozen=True)
class DataQuality:
    """Contribution-weighted pedigree scores of a footprint's elementary exchanges.

    Attributes
    ----------
    indicators : dict
        ``{indicator: mean score}`` (1 best, 5 worst) weighted by the exchanges' absolute
        contributions; NaN when no contributing exchange has pedigree data.
    share_without : float
        Share of the footprint (absolute contributions) from exchanges without pedigree data;
        NaN for a footprint of 0.
    covered : float
        Sum of the absolute contributions of the exchanges with pedigree data.
    gross : float
        Sum of the absolute contributions of all elementary exchanges.
    exchanges : int
        Elementary exchanges with pedigree data that contribute (nonzero).
    technosphere : int
        Technosphere inputs with pedigree data in processes the functional unit reaches.
    recorded : bool
        Whether the system records pedigree data at all (``metadata["pedigree"]``).
    """

    indicators: dict[str, float]
    share_without: float
    covered: float
    gross: float
    exchanges: int
    technosphere: int
    recorded: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN as None."""

        def plain(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x)

        return {
            "indicators": {k: plain(v) for k, v in self.indicators.items()},
            "share_without_pedigree": plain(self.share_without),
            "share_with_pedigree": plain(1.0 - self.share_without),
            "elementary_exchanges_with_pedigree": self.exchanges,
            "technosphere_inputs_with_pedigree": self.technosphere,
            "weighting": "absolute contribution of each elementary exchange to the footprint",
            "scale": "1 (best) to 5 (worst)",
            "recorded": self.recorded,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: ``indicator``, ``mean score``."""
        return pd.DataFrame(
            {"indicator": list(self.indicators), "mean score": list(self.indicators.values())}
        )


def data_quality(lca: LCA, fp: Footprint) -> DataQuality:
    """The pedigree summary of a footprint's supply chain (see the module docstring).

    Parameters
    ----------
    lca : LCA
        The calculation the footprint came from.
    fp : Footprint

    Returns
    -------
    DataQuality
    """
    system = fp.system
    table = system.metadata.get("pedigree") or {}
    s = lca.calculate(fp.demand).supply
    k = system.category_position(fp.category)
    c = np.asarray(system.C[[k], :].toarray()).ravel()
    bio = system.biosphere
    gross = float(np.abs(c[bio.row] * bio.value * s[bio.col]).sum())
    matrix = list(table.get("matrix", ()))
    weights: list[float] = []
    scores: list[list[int]] = []
    technosphere = 0
    acts, flows = system.activity_index, system.flow_index
    for i, m in enumerate(matrix):
        j = acts.get(table["col"][i])
        if j is None or s[j] == 0:
            continue
        if m != "biosphere":
            technosphere += 1
            continue
        row = flows.get(table["row"][i])
        if row is None:
            continue
        w = abs(c[row] * _current_value(bio, table, i, row, j) * s[j])
        if w > 0:
            weights.append(w)
            scores.append(table["scores"][i])
    covered = float(sum(weights))
    if weights:
        w = np.asarray(weights)
        means = (w @ np.asarray(scores, dtype=float)) / w.sum()
        indicators = dict(zip(INDICATORS, means.tolist(), strict=True))
    else:
        indicators = dict.fromkeys(INDICATORS, math.nan)
    share_without = 1.0 - min(covered / gross, 1.0) if gross > 0 else math.nan
    return DataQuality(
        indicators=indicators,
        share_without=share_without,
        covered=covered,
        gross=gross,
        exchanges=len(weights),
        technosphere=technosphere,
        recorded=bool(matrix),
    )


def _current_value(bio: Any, table: Mapping[str, Any], i: int, row: int, col: int) -> float:
    """The pedigree row ``i``'s biosphere entry as the system has it now.

    ``table["entry"]`` (the assembly's position of the entry) gives the value after
    :meth:`~lcasolve.model.system.System.with_parameters` re-evaluated its formula; the value
    recorded at import serves where there is no position or it points at another cell.
    """
    entries = table.get("entry")
    e = entries[i] if entries is not None and i < len(entries) else None
    if e is not None and 0 <= int(e) < len(bio.value):
        e = int(e)
        if int(bio.row[e]) == row and int(bio.col[e]) == col:
            return float(bio.value[e])
    return float(table["value"][i])
