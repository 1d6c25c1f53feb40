"""What a PCF is used for in green finance and procurement, with Monte Carlo probabilities.

- :func:`rank`: a product against an industry benchmark distribution (the footprints of peer
  products): its percentile (share of peers with a lower footprint) and, from the samples, the
  percentile's 95 % interval and the probability of being better than the peers' median.
- :func:`pcf_linked_rate`: PCF-linked pricing as in sustainability-linked loans: a base rate plus
  a spread per performance class (upper footprint bounds), the class probabilities and the
  expected rate.
- :func:`life_cycle_cost`: procurement life-cycle cost: purchase + discounted running costs +
  external CO2 cost of the footprint at a carbon price, with its interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lcasolve.errors import InputError
from lcasolve.pcf.cost import DEFAULT_CARBON_PRICE

__all__ = ["LifeCycleCost", "Pricing", "Ranking", "life_cycle_cost", "pcf_linked_rate", "rank"]

_KG_PER = {"kg": 1.0, "t": 1000.0, "g": 1e-3}


def _samples(samples: np.ndarray | None) -> np.ndarray | None:
    if samples is None:
        return None
    s = np.asarray(samples, dtype=float).ravel()
    if s.size == 0 or not np.all(np.isfinite(s)):
        raise InputError("Monte Carlo samples must be a non-empty array of finite numbers")
    return s


@dataclass(frozen=True)
class Ranking:
    """A footprint's place in a benchmark distribution.

    Attributes
    ----------
    value : float
        The deterministic footprint.
    peers : int
        Number of benchmark footprints.
    median : float
        Median of the benchmark.
    percentile : float
        Share of the benchmark below ``value`` (0: best of all, 1: worst), in [0, 1].
    lo, hi : float, optional
        95 % interval of the percentile over the Monte Carlo samples.
    p_better_than_median : float, optional
        Share of the samples below the benchmark median.
    """

    value: float
    peers: int
    median: float
    percentile: float
    lo: float | None = None
    hi: float | None = None
    p_better_than_median: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return dict(self.__dict__)


def rank(
    value: float, benchmark: Sequence[float] | np.ndarray, samples: np.ndarray | None = None
) -> Ranking:
    """Percentile of a footprint among benchmark footprints.

    Parameters
    ----------
    value : float
    benchmark : array
        Footprints of peer products (same functional unit and unit), e.g. an industry survey.
    samples : array, optional
        Monte Carlo samples of the footprint.

    Returns
    -------
    Ranking
        ``percentile = mean(benchmark < value) + mean(benchmark == value) / 2``.
    """
    b = np.sort(np.asarray(benchmark, dtype=float).ravel())
    if b.size < 2 or not np.all(np.isfinite(b)):
        raise InputError("a benchmark distribution needs at least 2 finite footprints")
    s = _samples(samples)

    def pct(x: np.ndarray) -> np.ndarray:
        below = np.searchsorted(b, x, side="left")
        equal = np.searchsorted(b, x, side="right") - below
        return (below + equal / 2) / b.size

    median = float(np.median(b))
    out = Ranking(
        value=float(value),
        peers=int(b.size),
        median=median,
        percentile=float(pct(np.array([value]))[0]),
    )
    if s is None:
        return out
    p = pct(s)
    return Ranking(
        value=out.value,
        peers=out.peers,
        median=median,
        percentile=out.percentile,
        lo=float(np.percentile(p, 2.5)),
        hi=float(np.percentile(p, 97.5)),
        p_better_than_median=float(np.mean(s < median)),
    )


@dataclass(frozen=True)
class Pricing:
    """A PCF-linked rate.

    Attributes
    ----------
    base_rate : float
        Rate before the spread (e.g. percent per year).
    bounds, spreads : dict
        Upper footprint bound and spread per class, in class order.
    performance_class : str or None
        Class of the deterministic footprint (None: above every bound).
    rate : float, optional
        ``base_rate + spread`` of that class (None above every bound).
    probabilities : dict, optional
        Share of the Monte Carlo samples in each class (``"(above all)"`` too).
    expected_rate : float, optional
        Rate averaged over the samples (None when some fall above every bound).
    """

    base_rate: float
    bounds: dict[str, float]
    spreads: dict[str, float]
    performance_class: str | None
    rate: float | None
    probabilities: dict[str, float] | None = None
    expected_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return dict(self.__dict__)


def pcf_linked_rate(
    value: float,
    *,
    base_rate: float,
    classes: Mapping[str, tuple[float, float]],
    samples: np.ndarray | None = None,
) -> Pricing:
    """Rate of a PCF-linked loan or price: base rate ± the spread of the footprint's class.

    Parameters
    ----------
    value : float
        Deterministic footprint.
    base_rate : float
    classes : mapping
        ``{class: (upper footprint bound, spread)}`` with increasing bounds, e.g.
        ``{"A": (700, -0.25), "B": (800, 0.0), "C": (inf, +0.25)}`` (spreads in the unit of the
        rate, e.g. percentage points).
    samples : array, optional
        Monte Carlo samples of the footprint.

    Returns
    -------
    Pricing
    """
    if not classes:
        raise InputError("give at least one performance class")
    names = [str(k) for k in classes]
    bounds = np.array([float(v[0]) for v in classes.values()])
    spreads = [float(v[1]) for v in classes.values()]
    if np.any(np.diff(bounds) <= 0) or np.any(np.isnan(bounds)):
        raise InputError(
            f"class bounds must increase: {dict(zip(names, bounds.tolist(), strict=True))}"
        )

    def which(x: np.ndarray) -> np.ndarray:
        return np.searchsorted(bounds, x, side="left")

    k = int(which(np.array([value]))[0])
    out: dict[str, Any] = {
        "base_rate": float(base_rate),
        "bounds": dict(zip(names, bounds.tolist(), strict=True)),
        "spreads": dict(zip(names, spreads, strict=True)),
        "performance_class": names[k] if k < len(names) else None,
        "rate": float(base_rate + spreads[k]) if k < len(names) else None,
    }
    s = _samples(samples)
    if s is not None:
        idx = which(s)
        probs = {n: float(np.mean(idx == i)) for i, n in enumerate(names)}
        probs["(above all)"] = float(np.mean(idx == len(names)))
        out["probabilities"] = probs
        if probs["(above all)"] == 0:
            out["expected_rate"] = float(
                base_rate
                + sum(p * sp for p, sp in zip((probs[n] for n in names), spreads, strict=True))
            )
    return Pricing(**out)


@dataclass(frozen=True)
class LifeCycleCost:
    """Life-cycle cost of one functional unit with its external CO2 cost.

    Attributes
    ----------
    purchase, running, co2_cost, total : float
        Purchase price, present value of the running costs, external CO2 cost of the
        deterministic footprint, and their sum.
    carbon_price, discount_rate : float
    years : int
    currency : str
    lo, hi, mean : float, optional
        95 % interval and mean of the total over the Monte Carlo samples.
    p_above : float, optional
        Share of the samples whose total exceeds ``budget`` (when a budget is given).
    budget : float, optional
    """

    purchase: float
    running: float
    co2_cost: float
    total: float
    carbon_price: float
    discount_rate: float
    years: int
    currency: str
    mean: float | None = None
    lo: float | None = None
    hi: float | None = None
    budget: float | None = None
    p_above: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return dict(self.__dict__)


def life_cycle_cost(
    footprint: float,
    *,
    purchase: float,
    annual_cost: float = 0.0,
    years: int = 0,
    discount_rate: float = 0.0,
    carbon_price: float = DEFAULT_CARBON_PRICE,
    unit: str = "kg",
    currency: str = "EUR",
    budget: float | None = None,
    samples: np.ndarray | None = None,
) -> LifeCycleCost:
    """Procurement life-cycle cost: purchase + discounted running costs + external CO2 cost.

    ``total = purchase + Σ_{t=1..years} annual_cost / (1 + r)^t + footprint [t] × carbon_price``

    Parameters
    ----------
    footprint : float
        Footprint of the functional unit (in ``unit`` CO2e).
    purchase, annual_cost : float
        Purchase price and running cost per year.
    years : int
    discount_rate : float
        Per year, as a fraction (0.03 = 3 %).
    carbon_price : float
        Per t CO2e.
    unit : {"kg", "t", "g"}
        Mass unit of the footprint (the first word of e.g. ``"kg CO2-eq"``).
    currency : str
    budget : float, optional
        Adds the probability that the total exceeds it.
    samples : array, optional
        Monte Carlo samples of the footprint.

    Returns
    -------
    LifeCycleCost
    """
    u = unit.split()[0] if unit.strip() else "kg"
    if u not in _KG_PER:
        raise InputError(f"unit of the footprint must be kg, t or g CO2e, not {unit!r}")
    if years < 0 or discount_rate <= -1 or carbon_price < 0:
        raise InputError("years must be >= 0, the discount rate > -1 and the carbon price >= 0")
    t = np.arange(1, int(years) + 1)
    running = float(np.sum(annual_cost / (1.0 + discount_rate) ** t))
    per_kg = carbon_price * _KG_PER[u] / 1000.0
    co2 = float(footprint) * per_kg
    total = purchase + running + co2
    out: dict[str, Any] = {
        "purchase": float(purchase),
        "running": running,
        "co2_cost": co2,
        "total": float(total),
        "carbon_price": float(carbon_price),
        "discount_rate": float(discount_rate),
        "years": int(years),
        "currency": currency,
        "budget": None if budget is None else float(budget),
    }
    s = _samples(samples)
    if s is not None:
        totals = purchase + running + s * per_kg
        out.update(
            mean=float(np.mean(totals)),
            lo=float(np.percentile(totals, 2.5)),
            hi=float(np.percentile(totals, 97.5)),
        )
        if budget is not None:
            out["p_above"] = float(np.mean(totals > budget))
    return LifeCycleCost(**out)
