"""Factor-based footprints: CF = Σ activity data × cradle-to-gate emission factors."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError, UnknownDemandError
from lcasolve.lca import LCA
from lcasolve.model import System
from lcasolve.montecarlo.noise import sample_std
from lcasolve.pcf.footprint import _category

__all__ = ["FactorFootprint", "factor_footprint"]


@dataclass(frozen=True, eq=False)
class FactorFootprint:
    """A footprint from activity data and emission factors.

    Attributes
    ----------
    table : pandas.DataFrame
        The activity data with ``factor`` (score per unit of the product, ``λ``) and ``score``
        (amount × factor) added.
    total : float
    category, unit : str
    samples : numpy.ndarray or None
        Monte Carlo samples of the total (paired draws of all factors), when requested.
    """

    table: pd.DataFrame
    total: float
    category: str
    unit: str
    samples: np.ndarray | None = None

    def by_tag(self, tag: str) -> pd.DataFrame:
        """Sum of the scores per value of a column of the activity data (e.g. ``stage``)."""
        if tag not in self.table.columns:
            raise InputError(f"the activity data has no {tag!r} column")
        return self.table.groupby(tag, sort=True)[["score"]].sum()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (with mean, std and 2.5/97.5 % percentiles when sampled)."""
        out: dict[str, Any] = {
            "category": self.category,
            "unit": self.unit,
            "total": float(self.total),
            "lines": [
                {
                    "product": str(r.product),
                    "amount": float(r.amount),
                    "factor": float(r.factor),
                    "score": float(r.score),
                }
                for r in self.table.itertuples(index=False)
            ],
        }
        if self.samples is not None:
            s = self.samples
            out["uncertainty"] = {
                "iterations": int(s.size),
                "mean": float(s.mean()),
                "std": float(sample_std(s)) if s.size > 1 else None,
                "2.5%": float(np.percentile(s, 2.5)),
                "97.5%": float(np.percentile(s, 97.5)),
            }
        return out

    def _repr_html_(self) -> str:
        return (
            f"<p>Factor-based footprint: {self.total:.6g} {self.unit} ({self.category})</p>"
            + self.table.to_html(float_format="%.4g")
        )


def factor_footprint(
    lca_or_system: LCA | System,
    activity_data: pd.DataFrame | dict[Hashable, float],
    category: Hashable | None = None,
    *,
    iterations: int = 0,
    seed: int = 0,
) -> FactorFootprint:
    """CF = Σ amountᵢ × EFᵢ with cradle-to-gate factors ``EF`` from one adjoint solve.

    Parameters
    ----------
    lca_or_system : LCA or System
        The background database.
    activity_data : DataFrame or mapping
        Columns ``product`` (a product id of the system) and ``amount``, plus any tag columns
        (stage, scope, ...); or ``{product id: amount}``.
    category : id or name, optional
    iterations : int
        When > 0, a Monte Carlo run of that size gives paired samples of every factor (one demand
        per product) and hence of the total.
    seed : int
        Monte Carlo seed.

    Returns
    -------
    FactorFootprint

    Raises
    ------
    UnknownDemandError
        A product of the activity data is not in the system.
    """
    lca = lca_or_system if isinstance(lca_or_system, LCA) else LCA(lca_or_system)
    system = lca.system
    k = _category(system, category)
    if isinstance(activity_data, dict):
        data = pd.DataFrame(
            {"product": list(activity_data.keys()), "amount": list(activity_data.values())}
        )
    else:
        data = activity_data.copy()
    for col in ("product", "amount"):
        if col not in data.columns:
            raise InputError(f"the activity data needs a {col!r} column")
    amounts = pd.to_numeric(data["amount"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(amounts)
    if bad.any():
        raise InputError(
            f"activity data: amounts not numbers for products {data['product'][bad].tolist()[:10]}"
        )
    positions = []
    for p in data["product"]:
        try:
            positions.append(system.product_position(p))
        except (KeyError, UnknownDemandError):
            raise UnknownDemandError(
                f"activity data: product {p!r} is not in the database"
            ) from None
    lam = lca.activity_scores().lam[:, k]
    data["amount"] = amounts
    data["factor"] = lam[positions]
    data["score"] = data["amount"] * data["factor"]
    samples = None
    if iterations:
        from lcasolve.montecarlo import MonteCarlo

        uniq = list(dict.fromkeys(data["product"].tolist()))
        demands: dict[Hashable, dict[Hashable, float]] = {
            f"p{i}": {p: 1.0} for i, p in enumerate(uniq)
        }
        mc = MonteCarlo(
            system,
            demands,
            categories=[system.categories["id"].iloc[k]],
            allow_ill_conditioned=lca.allow_ill_conditioned,
        )
        res = mc.run(int(iterations), seed=seed, progress=False)
        ef = res.scores[:, :, 0]  # (iterations, products)
        where = {p: i for i, p in enumerate(uniq)}
        cols = np.array([where[p] for p in data["product"]])
        samples = ef[:, cols] @ amounts
    cats = system.categories
    return FactorFootprint(
        table=data,
        total=float(data["score"].sum()),
        category=str(cats["name"].iloc[k]),
        unit=str(cats["unit"].iloc[k]),
        samples=samples,
    )
