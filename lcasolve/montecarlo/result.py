"""Monte Carlo results: scores of every iteration, statistics, exceedance, paired comparisons."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import (
    InputError,
    NonFiniteValueError,
    UnknownCategoryError,
    UnknownDemandError,
    format_ids,
)
from lcasolve.montecarlo.noise import denoised, sample_std

__all__ = ["PERCENTILES", "Comparison", "MonteCarloResult", "StreamingStatistics", "p_less"]

#: percentiles reported by :meth:`MonteCarloResult.statistics`
PERCENTILES = (2.5, 5.0, 25.0, 75.0, 95.0, 97.5)


def p_less(xa: np.ndarray, xb: np.ndarray, what: str = "P(a < b)") -> tuple[float, int]:
    """``P(a < b)`` over the paired iterations where both scores are finite.

    A pair with a NaN or infinite score says nothing about which is lower: it is left out of
    both the count of ``a < b`` and the number of pairs, and reported.

    Parameters
    ----------
    xa, xb : numpy.ndarray
        The scores of ``a`` and ``b`` per iteration (same length, paired).
    what : str, optional
        The probability as the error message names it (e.g. ``"P(steel < alu) in 'GWP'"``).

    Returns
    -------
    (float, int)
        The probability and the number of pairs left out.

    Raises
    ------
    NonFiniteValueError
        If no pair has two finite scores (or there are no pairs).
    """
    xa, xb = np.asarray(xa, dtype=np.float64), np.asarray(xb, dtype=np.float64)
    if xa.shape != xb.shape:
        raise InputError(f"{what}: {xa.shape[0]} scores of a but {xb.shape[0]} of b")
    finite = np.isfinite(xa) & np.isfinite(xb)
    used = int(np.count_nonzero(finite))
    if used == 0:
        raise NonFiniteValueError(
            f"{what}: none of the {xa.size} paired iterations has finite scores of both "
            f"alternatives; nothing to compare"
        )
    return float(np.count_nonzero(xa[finite] < xb[finite]) / used), xa.size - used


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
        Fraction of iterations with ``score(a) < score(b)``: P(a < b), over the iterations
        where both scores are finite (see :func:`p_less`).
    excluded : int
        Iterations left out of ``p_less`` because a score is NaN or infinite.
    """

    a: str
    b: str
    category: str
    difference: np.ndarray
    ratio: np.ndarray
    p_less: float
    excluded: int = 0

    def summary(self) -> pd.DataFrame:
        """Mean, std, median and 2.5/97.5 percentiles of the difference and the ratio."""
        rows = {}
        for name, v in (("difference", self.difference), ("ratio", self.ratio)):
            v = v[np.isfinite(v)]
            rows[name] = {
                "mean": v.mean() if v.size else np.nan,
                "std": float(sample_std(v)) if v.size > 1 else np.nan,
                "median": np.median(v) if v.size else np.nan,
                "2.5%": np.percentile(v, 2.5) if v.size else np.nan,
                "97.5%": np.percentile(v, 97.5) if v.size else np.nan,
            }
        return pd.DataFrame(rows).T

    def __repr__(self) -> str:
        left = f", {self.excluded} non-finite left out" if self.excluded else ""
        return (
            f"<Comparison {self.a} vs {self.b} ({self.category}), {self.difference.size} "
            f"paired iterations{left}: P(a < b) = {self.p_less:.3f}>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p>{self.a} vs {self.b} ({self.category}): P(a &lt; b) = {self.p_less:.3f}</p>"
            + self.summary().to_html()
        )


class StreamingStatistics:
    """Mean, standard deviation, extremes and exceedance counts, updated chunk by chunk.

    Chunks are merged with the pairwise update of Chan, Golub and LeVeque, so the statistics of
    a run are known while it goes on (the progress bar shows them) without keeping the samples.

    Parameters
    ----------
    shape : tuple of int
        Shape of one iteration's scores, ``(demands, categories)``.
    thresholds : sequence of float
        Values whose exceedance ``P(score > threshold)`` is counted.
    """

    def __init__(self, shape: tuple[int, ...], thresholds: Sequence[float] = ()) -> None:
        self.shape = tuple(int(x) for x in shape)
        self.thresholds = tuple(float(x) for x in thresholds)
        self.count = 0
        self.mean = np.zeros(self.shape)
        self._m2 = np.zeros(self.shape)
        self.minimum = np.full(self.shape, np.inf)
        self.maximum = np.full(self.shape, -np.inf)
        self._exceed = np.zeros((len(self.thresholds), *self.shape), dtype=np.int64)

    def update(self, scores: np.ndarray) -> None:
        """Add a chunk of scores ``(K, *shape)``."""
        x = np.asarray(scores, dtype=np.float64)
        k = x.shape[0]
        if k == 0:
            return
        mean_b = x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        n = self.count + k
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (k / n)
        self._m2 = self._m2 + m2_b + delta**2 * (self.count * k / n)
        self.count = n
        self.minimum = np.minimum(self.minimum, x.min(axis=0))
        self.maximum = np.maximum(self.maximum, x.max(axis=0))
        for i, t in enumerate(self.thresholds):
            self._exceed[i] += (x > t).sum(axis=0)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation (``ddof=1``; NaN before two iterations)."""
        if self.count < 2:
            return np.full(self.shape, np.nan)
        return np.sqrt(self._m2 / (self.count - 1))

    @property
    def p_exceed(self) -> np.ndarray:
        """``(thresholds, *shape)``: fraction of iterations so far above each threshold."""
        if self.count == 0:
            return np.full(self._exceed.shape, np.nan)
        return self._exceed / self.count

    def __repr__(self) -> str:
        return f"<StreamingStatistics {self.count} iterations, shape {self.shape}>"


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
    contributions : sparse.COO or None
        Per-activity contributions ``(iterations, demands, categories, activities)`` for the
        activities of ``contribution_activities`` (pydata ``sparse``: mostly zeros), when asked.
    contribution_activities : list or None
        Activity ids of the last axis of ``contributions``.
    inventory : numpy.ndarray
        ``(iterations, demands, flows)`` inventories of the flows of ``inventory_flows``.
    inventory_flows : list
        Flow ids of the last axis of ``inventory`` (empty when none were asked for).
    running : StreamingStatistics or None
        Statistics accumulated chunk by chunk during the run (with the exceedance counts of the
        run's ``thresholds``).
    invalid : numpy.ndarray or None
        Per-iteration flags ``(iterations,)`` of samples without meaning (bit 1: a production
        amount drawn ≤ 0, bit 2: a loop drawn unproductive, see
        :mod:`lcasolve.montecarlo._validity`); 0 for a valid sample.
    dropped : int
        Samples left out by :meth:`drop_invalid` (``run(invalid="drop")``).
    dropped_counts : dict
        Those samples by reason (as :meth:`invalid_counts`).
    condition : float
        Skeel's condition of the deterministic technosphere (NaN if not computed), see
        :mod:`lcasolve.solve.conditioning`.
    error_bound : float
        Bound of the relative forward error of the deterministic supplies (worst demand).
    redone : list of (int, int)
        First and last iteration of each chunk that a resumed run found corrupt in its file
        and computed again (with a :class:`~lcasolve.errors.CorruptChunkWarning`).
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
    contributions: Any = None
    contribution_activities: list[Any] | None = None
    inventory: np.ndarray | None = None
    inventory_flows: list[Any] = field(default_factory=list)
    running: StreamingStatistics | None = None
    invalid: np.ndarray | None = None
    dropped: int = 0
    dropped_counts: dict[str, int] = field(default_factory=dict)
    condition: float = float("nan")
    error_bound: float = float("nan")
    redone: list[tuple[int, int]] = field(default_factory=list)

    @property
    def iterations(self) -> int:
        """Number of iterations."""
        return int(self.scores.shape[0])

    @property
    def n_invalid(self) -> int:
        """Samples flagged as without meaning (0 after :meth:`drop_invalid`)."""
        return 0 if self.invalid is None else int(np.count_nonzero(self.invalid))

    def invalid_counts(self) -> dict[str, int]:
        """Flagged samples by reason, kept and dropped (a sample may count for both)."""
        from lcasolve.montecarlo._validity import count_kinds

        kept = count_kinds(np.zeros(0, np.uint8) if self.invalid is None else self.invalid)
        return {k: v + self.dropped_counts.get(k, 0) for k, v in kept.items()}

    def drop_invalid(self) -> MonteCarloResult:
        """A new result without the flagged samples; :attr:`dropped` says how many.

        Scores, recorded inputs, inventories and contributions keep the valid iterations, in
        order (contributions are renumbered); the streaming statistics are recomputed.
        """
        if not self.n_invalid:
            return self
        assert self.invalid is not None
        keep = self.invalid == 0
        new_index = np.cumsum(keep) - 1
        contributions = self.contributions
        if contributions is not None:
            import sparse

            coords = contributions.coords
            sel = keep[coords[0]]
            coords = coords[:, sel].copy()
            coords[0] = new_index[coords[0]]
            contributions = sparse.COO(
                coords,
                contributions.data[sel],
                shape=(int(keep.sum()), *contributions.shape[1:]),
            )
        running = None
        if self.running is not None:
            running = StreamingStatistics(self.running.shape, self.running.thresholds)
            running.update(self.scores[keep])
        return dataclasses.replace(
            self,
            scores=self.scores[keep],
            inputs={k: v[keep] for k, v in self.inputs.items()},
            inventory=None if self.inventory is None else self.inventory[keep],
            contributions=contributions,
            running=running,
            invalid=np.zeros(int(keep.sum()), np.uint8),
            dropped=self.dropped + self.n_invalid,
            dropped_counts=self.invalid_counts(),
        )

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
            "std": sample_std(s, axis=0).ravel() if s.shape[0] > 1 else np.full(s[0].size, np.nan),
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
            Differences and ratios per iteration, and P(a < b) over the iterations where both
            scores are finite (how many were left out: ``excluded``).

        Raises
        ------
        NonFiniteValueError
            If no iteration has finite scores of both.
        """
        i, j, k = self._demand(a), self._demand(b), self._category(category)
        xa, xb = self.scores[:, i, k], self.scores[:, j, k]
        na, nb, cat = self.demand_names[i], self.demand_names[j], self.category_names[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(xb != 0, xa / np.where(xb != 0, xb, 1.0), np.nan)
            difference = xa - xb
        p, excluded = p_less(xa, xb, f"P({na} < {nb}) in {cat!r}")
        return Comparison(na, nb, cat, difference, ratio, p, excluded)

    def activity_contributions(
        self, demand: Hashable | None = None, category: Hashable | None = None
    ) -> pd.DataFrame:
        """Statistics of each kept activity's contribution to one score.

        Returns
        -------
        pandas.DataFrame
            Indexed by activity id: ``mean``, ``std`` (``ddof=1``) and ``share`` (mean
            contribution / mean score), largest ``|mean|`` first.

        Raises
        ------
        InputError
            The run kept no contributions (``run(contributions=...)``).
        """
        if self.contributions is None or self.contribution_activities is None:
            raise InputError("this run kept no contributions; run it with contributions=...")
        d, k = self._demand(demand), self._category(category)
        part = self.contributions[:, d, k, :]  # (iterations, activities), sparse
        n = self.iterations
        total = np.asarray(part.sum(axis=0).todense(), dtype=np.float64)
        squares = np.asarray((part**2).sum(axis=0).todense(), dtype=np.float64)
        mean = total / n
        var = (squares - n * mean**2) / (n - 1) if n > 1 else np.full(mean.shape, np.nan)
        score = float(self.scores[:, d, k].mean())
        out = pd.DataFrame(
            {
                "mean": mean,
                "std": denoised(np.sqrt(np.maximum(var, 0.0)), mean),
                "share": mean / score if score != 0 else np.nan,
            },
            index=pd.Index(self.contribution_activities, name="activity"),
        )
        order = np.argsort(-np.abs(mean), kind="stable")
        return out.iloc[order]

    def inventories(self, demand: Hashable | None = None) -> pd.DataFrame:
        """Inventories of the kept flows for one demand: one column per flow, one row per iteration.

        Raises
        ------
        InputError
            The run kept no inventories (``run(inventory=[flow ids])``).
        """
        if self.inventory is None or not self.inventory_flows:
            raise InputError("this run kept no inventories; run it with inventory=[flow ids]")
        d = self._demand(demand)
        return pd.DataFrame(
            self.inventory[:, d, :], columns=pd.Index(self.inventory_flows, name="flow")
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
            f"{self.n_fallback} direct fallbacks, {self.seconds:.2f} s; technosphere "
            f"condition {self.condition:.3g}, error bound {self.error_bound:.2g}</p>"
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
