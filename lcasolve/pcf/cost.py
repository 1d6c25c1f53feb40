"""External cost of greenhouse-gas emissions: CO2e × carbon price."""

from __future__ import annotations

from typing import Any

import numpy as np

from lcasolve.errors import InputError
from lcasolve.montecarlo.noise import sample_std

__all__ = ["DEFAULT_CARBON_PRICE", "external_cost"]

#: EUR per tonne CO2e
DEFAULT_CARBON_PRICE = 90.0

_KG_PER = {"kg": 1.0, "t": 1000.0, "g": 1e-3}


def external_cost(
    co2e: float | np.ndarray,
    *,
    price: float = DEFAULT_CARBON_PRICE,
    unit: str = "kg",
    currency: str = "EUR",
) -> dict[str, Any]:
    """External cost of a footprint, with uncertainty when given samples.

    Parameters
    ----------
    co2e : float or array
        Footprint (a value, or Monte Carlo samples).
    price : float
        Carbon price per tonne CO2e (default 90 EUR/t).
    unit : {"kg", "t", "g"}
        Mass unit of ``co2e`` (from a category unit such as ``"kg CO2-eq"``, the first word).
    currency : str

    Returns
    -------
    dict
        ``cost``, ``price``, ``currency`` and, for samples, ``mean``, ``std``, ``2.5%``,
        ``97.5%`` of the cost.
    """
    unit = unit.split()[0] if unit.strip() else "kg"
    if unit not in _KG_PER:
        raise InputError(f"unit of the footprint must be kg, t or g CO2e, not {unit!r}")
    if not np.isfinite(price) or price < 0:
        raise InputError(f"carbon price must be a non-negative number, not {price!r}")
    tonnes = np.asarray(co2e, dtype=float) * _KG_PER[unit] / 1000.0
    cost = tonnes * price
    out: dict[str, Any] = {"price": float(price), "currency": currency, "per": "t CO2e"}
    if cost.ndim == 0:
        out["cost"] = float(cost)
    else:
        out.update(
            cost=float(np.mean(cost)),
            mean=float(np.mean(cost)),
            std=float(sample_std(cost)) if cost.size > 1 else None,
            **{"2.5%": float(np.percentile(cost, 2.5)), "97.5%": float(np.percentile(cost, 97.5))},
        )
    return out
