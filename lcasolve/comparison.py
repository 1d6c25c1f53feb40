"""Compare alternatives: deterministic differences and a paired Monte Carlo over the same draws.

>>> from lcasolve import compare
>>> result = compare(system, {"steel": {"steel": 1.0}, "alu": {"alu": 1.0}},
...                  iterations=1000, seed=1)  # doctest: +SKIP
>>> result.to_frame()  # doctest: +SKIP

Each alternative is its own functional unit. The deterministic scores of all alternatives come
from one factorization (:meth:`lcasolve.LCA.calculate_many`); with ``iterations > 0`` one
:class:`~lcasolve.montecarlo.MonteCarlo` run scores every alternative on the same draws of every
uncertain entry, so the difference ``B − A`` of one iteration is a paired difference and
``P(A < B)`` is the fraction of iterations where ``A`` scores lower
(:meth:`lcasolve.montecarlo.MonteCarloResult.compare`).

An iteration where either score is NaN or infinite says nothing about which is lower: it is
left out of the probability (numerator and denominator), and the pair reports how many were
(``excluded_pairs``, and a note); when none is left the comparison raises
:class:`~lcasolve.errors.NonFiniteValueError`.

Two cases make that probability say less than it seems, and the result says so in its notes:
no uncertain entry can change either alternative's score (every draw equals the deterministic
scores: the probability is 0 or 1 trivially), or the difference is the same in every draw (the
alternatives' uncertain inputs are shared and cancel). A third note flags a Monte Carlo mean
difference of the opposite sign to the deterministic difference (skewed distributions: the
deterministic values are not the means).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError
from lcasolve.model import System

if TYPE_CHECKING:
    from lcasolve.lca import LCA
    from lcasolve.montecarlo import MonteCarloResult

__all__ = ["ComparisonResult", "compare", "uncertain_entries"]

#: a difference (or its spread) below this fraction of the scores is solver noise
_NOISE = 1e-8
PAIRS = ("first", "all")


def uncertain_entries(
    system: System, demands: Sequence[Mapping[Hashable, float]], categories: Sequence[int]
) -> np.ndarray:
    """How many uncertain matrix entries can change each demand's score in each category.

    An entry counts when it has a distribution (stats_arrays type > 1) and lies on the
    demand's supply chain: a technosphere input of an activity the demand reaches (when the
    reached activities emit a flow the category characterizes), a biosphere exchange of a
    reached activity in a characterized flow, or a characterization factor of a flow the
    reached activities emit. Zero means every Monte Carlo draw gives the deterministic score.

    Parameters
    ----------
    system : System
    demands : sequence of mappings
        ``{product id: amount}`` per demand.
    categories : sequence of int
        Category positions (rows of ``C``).

    Returns
    -------
    numpy.ndarray
        ``(demands, categories)`` counts.
    """
    from lcasolve.montecarlo._plan import _reach

    tech, bio, char = system.technosphere, system.biosphere, system.characterization
    vary_tech = tech.uncertainty["uncertainty_type"] > 1
    vary_bio = bio.uncertainty["uncertainty_type"] > 1
    vary_char = char.uncertainty["uncertainty_type"] > 1
    C = system.C.tocsr()  # noqa: N806
    out = np.zeros((len(demands), len(categories)), dtype=np.int64)
    for i, demand in enumerate(demands):
        reach = _reach(system, system.demand_vector(demand)[:, None])
        on_chain = reach[bio.col]
        emitted = np.zeros(system.n_flows, dtype=bool)
        emitted[bio.row[on_chain]] = True
        n_tech = int(np.count_nonzero(vary_tech & reach[tech.col]))
        for k, q in enumerate(categories):
            characterized = np.zeros(system.n_flows, dtype=bool)
            characterized[C.indices[C.indptr[q] : C.indptr[q + 1]]] = True
            n_bio = np.count_nonzero(vary_bio & on_chain & characterized[bio.row])
            n_char = np.count_nonzero(vary_char & (char.row == q) & emitted[char.col])
            linked = bool(np.any(characterized & emitted))
            out[i, k] = (n_tech if linked else 0) + n_bio + n_char
    return out


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """Scores of several alternatives and their pairwise differences.

    Attributes
    ----------
    names : list of str
        The alternatives, in the order given; the first is the reference of ``pairs="first"``.
    demands : list of dict
        ``{product id: amount}`` of each alternative (ids resolved).
    categories, units : list of str
        The compared impact categories and their units.
    deterministic : numpy.ndarray
        ``(alternatives, categories)`` scores with every entry at its deterministic value.
    pairs : list of tuple of int
        ``(a, b)`` positions of the compared pairs; differences are ``b − a``.
    uncertain : numpy.ndarray
        ``(alternatives, categories)`` uncertain entries that can change each score
        (:func:`uncertain_entries`).
    monte_carlo : MonteCarloResult or None
        The paired run (every alternative on the same draws), when ``iterations > 0``.
    """

    names: list[str]
    demands: list[dict[Hashable, float]]
    categories: list[str]
    units: list[str]
    deterministic: np.ndarray
    pairs: list[tuple[int, int]]
    uncertain: np.ndarray
    monte_carlo: MonteCarloResult | None = None

    @property
    def iterations(self) -> int:
        """Monte Carlo iterations (0: deterministic only)."""
        return 0 if self.monte_carlo is None else self.monte_carlo.iterations

    def scores(self) -> pd.DataFrame:
        """One row per (category, alternative): unit, deterministic score and uncertain entries.

        With a Monte Carlo run also the mean, std and 2.5/97.5 percentiles of each score.
        """
        index = pd.MultiIndex.from_product(
            [self.categories, self.names], names=["category", "alternative"]
        )
        data: dict[str, Any] = {
            "unit": np.repeat(np.asarray(self.units, dtype=object), len(self.names)),
            "deterministic": self.deterministic.T.ravel(),
            "uncertain_entries": self.uncertain.T.ravel(),
        }
        if self.monte_carlo is not None:
            s = self.monte_carlo.scores  # (iterations, alternatives, categories)
            per = np.transpose(s, (0, 2, 1)).reshape(s.shape[0], -1)
            data["mean"] = per.mean(axis=0)
            data["std"] = per.std(axis=0, ddof=1) if per.shape[0] > 1 else np.nan
            data["2.5%"], data["97.5%"] = np.percentile(per, [2.5, 97.5], axis=0)
        return pd.DataFrame(data, index=index)

    @cached_property
    def _pair_rows(self) -> list[dict[str, Any]]:
        rows = []
        for k, (category, unit) in enumerate(zip(self.categories, self.units, strict=True)):
            for a, b in self.pairs:
                rows.append(self._pair_row(k, category, unit, a, b))
        return rows

    def _pair_row(self, k: int, category: str, unit: str, a: int, b: int) -> dict[str, Any]:
        da, db = float(self.deterministic[a, k]), float(self.deterministic[b, k])
        row: dict[str, Any] = {
            "category": category,
            "unit": unit,
            "a": self.names[a],
            "b": self.names[b],
            "score_a": da,
            "score_b": db,
            "difference": db - da,
            "ratio": db / da if da != 0 else np.nan,
        }
        notes: list[str] = []
        mc = self.monte_carlo
        if mc is not None:
            ab = mc.compare(a, b, k)  # P(a < b) over the pairs of finite scores
            ba = mc.compare(b, a, k)  # difference b − a and ratio b / a per iteration
            summary = ba.summary().loc["difference"]
            row |= {
                "mean_difference": float(summary["mean"]),
                "std_difference": float(summary["std"]),
                "2.5%": float(summary["2.5%"]),
                "97.5%": float(summary["97.5%"]),
                "p_a_less": ab.p_less,
                "excluded_pairs": ab.excluded,
            }
            notes = self._notes(k, a, b, row, ba.difference)
        row["notes"] = notes
        return row

    def _notes(
        self, k: int, a: int, b: int, row: dict[str, Any], difference: np.ndarray
    ) -> list[str]:
        """The caveats of one pair's probability (see the module docstring)."""
        na, nb = self.names[a], self.names[b]
        assert self.monte_carlo is not None
        drawn = self.monte_carlo.scores[:, [a, b], k]
        finite = np.isfinite(difference)
        scale = max(
            abs(row["score_a"]),
            abs(row["score_b"]),
            float(np.abs(drawn[np.isfinite(drawn)]).max(initial=0.0)),
        )
        noise = _NOISE * scale
        notes = []
        excluded = row["excluded_pairs"]
        if excluded:
            notes.append(
                f"{excluded} of {difference.size} paired iterations have a non-finite score of "
                f"{na} or {nb}: left out of P({na} < {nb}), computed over the other "
                f"{difference.size - excluded}"
            )
        difference = difference[finite]
        if self.uncertain[a, k] == 0 and self.uncertain[b, k] == 0:
            notes.append(
                f"no uncertain entry reaches {na} or {nb} in this category: every draw gives "
                f"the deterministic scores, so P({na} < {nb}) is 0 or 1 trivially"
            )
        elif float(np.ptp(difference)) <= noise:
            notes.append(
                f"{nb} − {na} is the same in every draw (their uncertain inputs are shared and "
                f"cancel): P({na} < {nb}) is 0 or 1 by construction"
            )
        d, m = row["difference"], row["mean_difference"]
        if d * m < 0 and abs(d) > noise and abs(m) > noise:
            notes.append(
                f"the Monte Carlo mean of {nb} − {na} ({m:.4g}) and the deterministic "
                f"difference ({d:.4g}) differ in sign: the distributions are skewed and the "
                "deterministic values are not the means; rank by the probability"
            )
        return notes

    def to_frame(self) -> pd.DataFrame:
        """One row per (category, pair): both deterministic scores, ``b − a``, ``b / a``.

        With a Monte Carlo run also ``mean_difference``, ``std_difference``, its 2.5/97.5
        percentiles, ``p_a_less`` (P(a < b) over the paired iterations with finite scores of
        both) and ``excluded_pairs`` (the iterations left out). ``notes`` lists the caveats of
        each row (see :attr:`notes`).
        """
        return pd.DataFrame(self._pair_rows).set_index(["category", "a", "b"])

    @property
    def notes(self) -> list[str]:
        """Every caveat, prefixed with its category."""
        return [f"{r['category']}: {n}" for r in self._pair_rows for n in r["notes"]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: per category, each alternative's scores and each pair."""
        mc = self.monte_carlo
        categories = []
        for k, (category, unit) in enumerate(zip(self.categories, self.units, strict=True)):
            per = {}
            for i, name in enumerate(self.names):
                item: dict[str, Any] = {
                    "deterministic": float(self.deterministic[i, k]),
                    "uncertain_entries": int(self.uncertain[i, k]),
                }
                if mc is not None:
                    v = mc.scores[:, i, k]
                    lo, hi = np.percentile(v, [2.5, 97.5])
                    std = float(v.std(ddof=1)) if v.size > 1 else np.nan
                    item |= {
                        "mean": float(v.mean()),
                        "std": std,
                        "2.5%": float(lo),
                        "97.5%": float(hi),
                    }
                per[name] = item
            rows = self._pair_rows[k * len(self.pairs) : (k + 1) * len(self.pairs)]
            pairs = [
                {key: v for key, v in r.items() if key not in ("category", "unit")} for r in rows
            ]
            categories.append({"name": category, "unit": unit, "scores": per, "pairs": pairs})
        return {
            "alternatives": list(self.names),
            "iterations": self.iterations,
            "seed": None if mc is None else mc.seed,
            "categories": categories,
            "notes": self.notes,
        }

    def __repr__(self) -> str:
        mc = f", {self.iterations} paired iterations" if self.monte_carlo is not None else ""
        return (
            f"<ComparisonResult {len(self.names)} alternatives x {len(self.categories)} "
            f"categories{mc}>"
        )

    def _repr_html_(self) -> str:
        return self.to_frame().to_html()


def _named(
    demands: Mapping[str, Mapping[Hashable, float]] | Sequence[Mapping[Hashable, float]],
) -> tuple[list[str], list[Mapping[Hashable, float]]]:
    if isinstance(demands, Mapping):
        names, items = [str(k) for k in demands], list(demands.values())
    else:
        items = list(demands)
        names = [" + ".join(f"{float(v):g} x {k}" for k, v in d.items()) for d in items]
    if len(items) < 2:
        raise InputError(f"compare needs at least two alternatives, got {len(items)}")
    if not all(isinstance(d, Mapping) for d in items):
        raise InputError("each alternative must be a demand {product id: amount}")
    if len(set(names)) != len(names):
        raise InputError(f"alternatives must have distinct names, got {names}")
    return names, items


def compare(
    model: System | LCA,
    demands: Mapping[str, Mapping[Hashable, float]] | Sequence[Mapping[Hashable, float]],
    *,
    categories: Sequence[Hashable] | None = None,
    iterations: int = 0,
    seed: int = 0,
    pairs: str = "first",
    progress: bool | None = None,
    monte_carlo: Mapping[str, Any] | None = None,
) -> ComparisonResult:
    """Compare alternatives, each its own functional unit, deterministically and paired.

    Parameters
    ----------
    model : System or LCA
        The product system (an :class:`~lcasolve.LCA` reuses its factorization).
    demands : mapping or sequence
        ``{name: {product id: amount}}``, or demands named by their contents. A product may be
        given as an activity id, a product flow id or an exact name
        (:func:`lcasolve.search.resolve_demand`).
    categories : sequence of ids or names, optional
        Categories to compare (default: all of the system's).
    iterations : int
        Paired Monte Carlo iterations; 0 compares the deterministic scores only.
    seed : int
        Seed of the Monte Carlo run.
    pairs : {"first", "all"}
        Compare every alternative with the first, or every pair ``(a, b)`` with ``a`` before
        ``b``.
    progress : bool, optional
        Progress bar of the Monte Carlo run (default: when stderr is a terminal).
    monte_carlo : mapping, optional
        Further keyword arguments of :class:`~lcasolve.montecarlo.MonteCarlo`
        (``method``, ``batch_size``, ``threads``...).

    Returns
    -------
    ComparisonResult

    Raises
    ------
    InputError
        Fewer than two alternatives, repeated names, an unknown ``pairs`` or bad iterations.
    UnknownDemandError
        A product that is not in the system.
    """
    from lcasolve.lca import LCA
    from lcasolve.search import resolve_demand

    if pairs not in PAIRS:
        raise InputError(f"pairs must be one of {PAIRS}, not {pairs!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)):
        raise InputError(f"iterations must be an integer >= 0, not {iterations!r}")
    if iterations < 0:
        raise InputError(f"iterations must be >= 0, got {iterations}")
    lca = model if isinstance(model, LCA) else LCA(model)
    system = lca.system
    names, items = _named(demands)
    resolved = [resolve_demand(system, d) for d in items]
    if categories is None:
        positions = list(range(system.n_categories))
    else:
        positions = [system.category_position(c) for c in categories]
    if not positions:
        raise InputError("the system has no impact categories to compare")
    det = lca.calculate_many(dict(zip(names, resolved, strict=True))).scores
    n = len(names)
    chosen = [(0, b) for b in range(1, n)]
    if pairs == "all":
        chosen = [(a, b) for a in range(n) for b in range(a + 1, n)]
    run = None
    if iterations > 0:
        from lcasolve.montecarlo import MonteCarlo

        mc = MonteCarlo(
            system,
            dict(zip(names, resolved, strict=True)),
            categories=categories,
            **{"allow_ill_conditioned": lca.allow_ill_conditioned, **dict(monte_carlo or {})},
        )
        run = mc.run(int(iterations), seed=seed, progress=progress)
    return ComparisonResult(
        names=names,
        demands=resolved,
        categories=[str(system.categories["name"].iloc[q]) for q in positions],
        units=[str(system.categories["unit"].iloc[q]) for q in positions],
        deterministic=det.to_numpy()[:, positions],
        pairs=chosen,
        uncertain=uncertain_entries(system, resolved, positions),
        monte_carlo=run,
    )
