"""Monte Carlo results: scores of every iteration, statistics, exceedance, paired comparisons."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from lcasolve.errors import InputError, UnknownCategoryError, UnknownDemandError, format_ids

__all__ = ["Comparison", "MonteCarloResult", "PERCENTILES"]

#: percentiles reported by :meth:`MonteCarloResult.statistics`
PERCENTILES = (2.5, 5.0, 25.0, 75.0, 95.0, 97.5)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Paired comparison of two demands over the same draws.

    Attributes
    ----------
    a, b : str
        Demand names.
    category : str
    difference : numpy.ndarray
        ``score(a) − score(b)`` per iteration.
    ratio : numpy.ndarray
        ``score(a) / score(b)`` per iteration (NaN where ``b`` is 0).
    p_less : float
        Fraction of iterations with ``score(a) < score(b)``: P(a < b).
    """

    a: str
    b: str
    category: str
    difference: np.ndarray
    ratio: np.ndarray
    p_less: float

    def summary(self) -> pd.DataFrame:
        """Mean, std, median and 2.5/97.5 percentiles of the difference and the ratio."""
        rows = {}
        for name, v in (("difference", self.difference), ("ratio", self.ratio)):
            v = v[np.isfinite(v)]
            rows[name] = {
                "mean": v.mean() if v.size else np.nan,
                "std": v.std(ddof=1) if v.size > 1 else np.nan,
                "median": np.median(v) if v.size else np.nan,
                "2.5%": np.percentile(v, 2.5) if v.size else np.nan,
                "97.5%": np.percentile(v, 97.5) if v.size else np.nan,
            }
        return pd.DataFrame(rows).T

    def _repr_html_(self) -> str:
        return (
            f"<p>{self.a} vs {self.b} ({self.category}): P(a &lt; b) = {self.p_less:.3f}</p>"
            + self.summary().to_html()
        )


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """Scores of a Monte Carlo run; all demands and categories share the draws (paired).

    Attributes
    ----------
    scores : numpy.ndarray
        ``(iterations, n_demands, n_categories)``.
    demand_names, category_names, category_units : list of str
    deterministic : numpy.ndarray
        ``(n_demands, n_categories)`` scores with every entry at its deterministic value.
    inputs : dict
        Recorded matrix values ``{matrix: (iterations, len(indices))}`` as they enter the matrix.
    n_fallback : int
        Samples the iterative solver handed to a direct factorization.
    seed : int
    seconds : float
        Wall time of the run (this process; 0 when loaded from a finished file).
    timing : dict
        Seconds spent sampling, solving and in the rest, summed over chunks.
    path : pathlib.Path or None
        The HDF5 file holding the run.
    """

    scores: np.ndarray
    demand_names: list[str]
    category_names: list[str]
    category_units: list[str]
    deterministic: np.ndarray
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    n_fallback: int = 0
    seed: int = 0
    seconds: float = 0.0
    timing: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    @property
    def iterations(self) -> int:
        """Number of iterations."""
        return int(self.scores.shape[0])

    def _demand(self, demand: Hashable | None) -> int:
        return _position(demand, self.demand_names, "demand", UnknownDemandError)

    def _category(self, category: Hashable | None) -> int:
        return _position(category, self.category_names, "category", UnknownCategoryError)

    def values(
        self, demand: Hashable | None = None, category: Hashable | None = None
    ) -> np.ndarray:
        """Scores of one demand and category over the iterations."""
        return self.scores[:, self._demand(demand), self._category(category)]

    @cached_property
    def _stats(self) -> pd.DataFrame:
        s = self.scores
        q = np.percentile(s, [50.0, *PERCENTILES], axis=0)
        data = {
            "deterministic": self.deterministic.ravel(),
            "mean": s.mean(axis=0).ravel(),
            "std": s.std(axis=0, ddof=1).ravel() if s.shape[0] > 1 else np.full(s[0].size, np.nan),
            "median": q[0].ravel(),
        }
        for p, v in zip(PERCENTILES, q[1:], strict=True):
            data[f"{p:g}%"] = v.ravel()
        index = pd.MultiIndex.from_product(
            [self.demand_names, self.category_names], names=["demand", "category"]
        )
        out = pd.DataFrame(data, index=index)
        out["unit"] = np.tile(np.asarray(self.category_units, dtype=object), len(self.demand_names))
        return out

    def statistics(self) -> pd.DataFrame:
        """Deterministic score, mean, std, median and percentiles 2.5/5/25/75/95/97.5.

        Returns
        -------
        pandas.DataFrame
            One row per (demand, category).
        """
        return self._stats.copy()

    def p_exceed(
        self,
        threshold: float,
        demand: Hashable | None = None,
        category: Hashable | None = None,
    ) -> float | pd.DataFrame:
        """Probability that a score exceeds ``threshold`` (fraction of iterations with ``>``).

        Parameters
        ----------
        threshold : float
        demand, category : name or position, optional
            When both are given (or there is only one), a float; otherwise a DataFrame of
            demands x categories for those not given.

        Returns
        -------
        float or pandas.DataFrame
        """
        exceed = (self.scores > float(threshold)).mean(axis=0)
        single_d = demand is not None or len(self.demand_names) == 1
        single_c = category is not None or len(self.category_names) == 1
        if single_d and single_c:
            return float(exceed[self._demand(demand), self._category(category)])
        df = pd.DataFrame(exceed, index=self.demand_names, columns=self.category_names)
        if demand is not None:
            return df.iloc[[self._demand(demand)]]
        if category is not None:
            return df.iloc[:, [self._category(category)]]
        return df

    def compare(self, a: Hashable, b: Hashable, category: Hashable | None = None) -> Comparison:
        """Paired comparison of demands ``a`` and ``b`` in one category.

        Returns
        -------
        Comparison
            Differences and ratios per iteration, and P(a < b).
        """
        i, j, k = self._demand(a), self._demand(b), self._category(category)
        xa, xb = self.scores[:, i, k], self.scores[:, j, k]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(xb != 0, xa / np.where(xb != 0, xb, 1.0), np.nan)
        return Comparison(
            self.demand_names[i],
            self.demand_names[j],
            self.category_names[k],
            xa - xb,
            ratio,
            float((xa < xb).mean()),
        )

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``iteration``, ``demand``, ``category``, ``score``."""
        n, d, c = self.scores.shape
        return pd.DataFrame(
            {
                "iteration": np.repeat(np.arange(n), d * c),
                "demand": np.tile(np.repeat(np.asarray(self.demand_names, dtype=object), c), n),
                "category": np.tile(np.asarray(self.category_names, dtype=object), n * d),
                "score": self.scores.ravel(),
            }
        )

    def _repr_html_(self) -> str:
        return (
            f"<p>Monte Carlo: {self.iterations} iterations, seed {self.seed}, "
            f"{self.n_fallback} direct fallbacks, {self.seconds:.2f} s</p>"
            + self.statistics().to_html()
        )

    def __repr__(self) -> str:
        return (
            f"<MonteCarloResult {self.iterations} iterations x {len(self.demand_names)} demands x "
            f"{len(self.category_names)} categories>"
        )


def _position(key: Hashable | None, names: list[str], what: str, error: type[Exception]) -> int:
    if key is None:
        if len(names) != 1:
            raise InputError(f"there are {len(names)} {what} names; choose one of {names}")
        return 0
    if isinstance(key, str) and key in names:
        return names.index(key)
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < len(names):
        return int(key)
    if str(key) in names:
        return names.index(str(key))
    raise error(f"unknown {what} {key!r}; the run has: {format_ids(names)}")
