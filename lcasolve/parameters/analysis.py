"""Monte Carlo, Sobol indices and scenarios over parameters, all solved as batches.

Draws are keyed by parameter and iteration with the counter-based streams of
:mod:`lcasolve.uncertainty`: draw ``k`` of a parameter depends only on ``(seed, parameter,
k)``, so two runs (e.g. two scenarios) with the same seed see the same draws of every parameter
they share — paired comparisons such as "scenario B beats A with probability p" are meaningful.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError, UnknownParameterError
from lcasolve.parameters.batch import ParameterBatch, cached_batch
from lcasolve.parameters.parameter_set import DATABASE, Key, Parameter, ParameterSet

__all__ = [
    "BACKGROUND",
    "ParameterMonteCarlo",
    "ScenarioResult",
    "beats",
    "draw_parameters",
    "parameter_key",
    "parameter_monte_carlo",
    "parameter_sobol",
    "solve_scenarios",
]


def _spelling(p: Parameter) -> str:
    return p.name.strip() if p.scope in (None, DATABASE) else f"{p.scope}/{p.name.strip()}"


def parameter_key(p: Parameter) -> np.uint64:
    """The stream key of a parameter: a hash of its scope and case-folded name."""
    text = f"{p.scope!r}\x00{p.key[1]}".encode()
    return np.uint64(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little"))


def draw_parameters(
    params: ParameterSet, iterations: int | np.ndarray, seed: int
) -> dict[Key, np.ndarray]:
    """Draws of every uncertain input parameter, keyed by parameter and iteration.

    Parameters
    ----------
    params : ParameterSet
    iterations : int or array of int
        How many draws (iterations ``0 .. n-1``) or which iteration numbers.
    seed : int
        Non-negative seed.

    Returns
    -------
    dict
        ``(scope, name)`` -> draws.
    """
    from lcasolve.uncertainty import sample_records, validate

    its = np.asarray(iterations) if np.ndim(iterations) else np.arange(int(iterations))
    uncertain = params.uncertain
    if not uncertain:
        return {}
    # a set is immutable: its records, once valid, and their stream keys hold for every call
    plan = params.__dict__.get("_draw_plan")
    if plan is None:
        records = np.array([p.uncertainty for p in uncertain])
        validate(records, [_spelling(p) for p in uncertain])
        keys = np.array([parameter_key(p) for p in uncertain], dtype=np.uint64)
        plan = params.__dict__["_draw_plan"] = (records, keys)
    records, keys = plan
    draws = sample_records(records, its, seed, entry_keys=keys)
    return {p.key: draws[i] for i, p in enumerate(uncertain)}


@dataclass(frozen=True, eq=False)
class ParameterMonteCarlo:
    """Scores for Monte Carlo draws of the uncertain parameters.

    Attributes
    ----------
    samples : pandas.DataFrame
        One column per uncertain parameter (``--param`` spelling), one row per iteration.
    scores : pandas.DataFrame
        One column per category.
    """

    samples: pd.DataFrame
    scores: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Mean, standard deviation and 2.5/50/97.5 % quantiles per category."""
        s = self.scores
        return pd.DataFrame(
            {
                "mean": s.mean(),
                "std": s.std(ddof=1),
                "q2.5": s.quantile(0.025),
                "median": s.median(),
                "q97.5": s.quantile(0.975),
            }
        )

    def spearman(self, category: Hashable | None = None) -> pd.Series:
        """Spearman rank correlation of each parameter with the score."""
        from lcasolve.sensitivity.gsa import spearman

        y = self.scores.iloc[:, 0] if category is None else self.scores[category]
        return pd.Series(spearman(self.samples.to_numpy(), y.to_numpy()), self.samples.columns)

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html())


def _categories(system: Any) -> list[str]:
    return [str(x) for x in system.categories["name"]]


def parameter_monte_carlo(
    system: Any,
    demand: Mapping[Hashable, float],
    iterations: int,
    seed: int = 0,
    *,
    fixed: Mapping[Hashable, object] | None = None,
    method: str = "auto",
    background: bool = False,
    allow_ill_conditioned: bool = False,
) -> ParameterMonteCarlo:
    """Monte Carlo over the uncertain parameters, and with ``background`` every uncertain entry.

    Parameters
    ----------
    system : System
        A system with parameters.
    demand : Mapping
        ``{product id: amount}``.
    iterations : int
        Number of draws.
    seed : int
        Seed of the keyed streams.
    fixed : Mapping, optional
        Parameters held at given values (e.g. a scenario); they are not drawn.
    method : {"auto", "full", "partitioned"}
        See :class:`~lcasolve.parameters.batch.ParameterBatch` (``background`` needs "full").
    background : bool
        Also draw every uncertain matrix entry (technosphere, biosphere, characterization) from
        the same keyed streams as :mod:`lcasolve.montecarlo` (same seed, same draws); an entry
        defined by a formula takes the formula's value instead.
    allow_ill_conditioned : bool
        Warn instead of refusing when the deterministic solve's forward-error bound is above
        the limit (see :class:`~lcasolve.parameters.batch.ParameterBatch`).

    Returns
    -------
    ParameterMonteCarlo
    """
    if iterations < 1:
        raise InputError(f"iterations must be positive, got {iterations}")
    params = system.parameters
    if params is None:
        raise InputError("the system has no parameters")
    fixed_keys = {params.resolve(k): v for k, v in (fixed or {}).items()}
    draws = {k: v for k, v in draw_parameters(params, iterations, seed).items()
             if k not in fixed_keys}  # fmt: skip
    if not draws and not background:
        raise InputError("no parameter has a distribution: nothing to draw")
    values: dict[Hashable, object] = dict(draws)
    values.update(fixed_keys)
    h = _sample_scores(
        system, cached_batch(system, demand, allow_ill_conditioned=allow_ill_conditioned),
        values, np.arange(iterations), seed,
        background=background, method=method,
    )  # fmt: skip
    columns = [_spelling(params._by_key[k]) for k in draws]
    samples = pd.DataFrame(
        np.column_stack(list(draws.values())) if draws else np.empty((iterations, 0)),
        columns=columns,
    )
    return ParameterMonteCarlo(samples, pd.DataFrame(h, columns=_categories(system)))


def _sample_scores(
    system: Any,
    batch: ParameterBatch,
    values: Mapping[Hashable, object],
    its: np.ndarray,
    seed: int,
    *,
    background: bool,
    method: str,
) -> np.ndarray:
    """Scores ``(K, categories)`` of K parameter samples, with the background drawn or not.

    ``values`` maps parameters to K samples (or numbers); with ``background`` sample ``k`` also
    takes every uncertain matrix entry's draw number ``its[k]`` of the keyed streams: the
    samples go through the Monte Carlo engine (:meth:`lcasolve.montecarlo.MonteCarlo.scores`),
    which draws only the entries that can change the scores and imposes the formula entries'
    values as its design.
    """
    if not background:
        return batch.scores(values, method)
    if method == "partitioned":
        raise InputError(
            "the partitioned method solves the background once: it cannot draw the background"
        )
    if not any(getattr(system, m).uncertain.any() for m in _MATRICES):
        raise InputError("no matrix entry has a distribution: there is no background to draw")
    from lcasolve.montecarlo import MonteCarlo

    k = len(its)
    params = system.parameters
    formulas = params.entry_values(params.evaluate(values))
    design = {
        m: (index, np.broadcast_to(v.reshape(len(index), -1), (len(index), k)).T)
        for m, (index, v) in formulas.items()
    }
    mc = MonteCarlo(
        system,
        dict(batch.demand),
        tolerance=batch.tolerance,
        allow_ill_conditioned=batch.allow_ill_conditioned,
    )
    return mc.scores(its, seed=seed, design=design)[:, 0, :]


_MATRICES = ("technosphere", "biosphere", "characterization")


def _inverse_cdf(record: np.ndarray, u: np.ndarray, name: str) -> np.ndarray:
    from scipy import stats

    kind = int(record["uncertainty_type"])
    loc, scale = float(record["loc"]), float(record["scale"])
    lo, hi = float(record["minimum"]), float(record["maximum"])
    sign = -1.0 if bool(record["negative"]) else 1.0
    u = np.clip(u, 1e-12, 1 - 1e-12)
    if kind == 2:
        return sign * np.exp(loc + scale * stats.norm.ppf(u))
    if kind == 3:
        return np.asarray(stats.norm.ppf(u, loc, scale))
    if kind == 4:
        return lo + u * (hi - lo)
    if kind == 5:
        return np.asarray(stats.triang.ppf(u, (loc - lo) / (hi - lo), lo, hi - lo))
    raise InputError(
        f"parameter {name!r}: Sobol indices over parameters support lognormal, normal, uniform "
        f"and triangular distributions (stats_arrays 2-5), not type {kind}"
    )


#: the factor name of the uncertain matrix entries in :func:`parameter_sobol` with ``background``
BACKGROUND = "background"


def parameter_sobol(
    system: Any,
    demand: Mapping[Hashable, float],
    n: int = 1024,
    seed: int = 0,
    *,
    category: Hashable | None = None,
    method: str = "auto",
    background: bool = False,
    allow_ill_conditioned: bool = False,
) -> pd.DataFrame:
    """Sobol first-order and total indices of the uncertain parameters (SALib).

    A Saltelli design on the unit cube is mapped to each parameter's distribution by its
    inverse CDF; all ``n (p + 2)`` model runs are solved as one batch.

    With ``background`` every uncertain matrix entry (technosphere, biosphere,
    characterization; an entry defined by a formula takes the formula's value) varies too,
    as **one grouped factor** named :data:`BACKGROUND`: its indices are those of all
    uncertain entries together. The design gets one more column for that factor; its two
    base samples (Saltelli's ``A`` and ``B``) for base point ``i`` are two independent draws
    of every entry from the keyed streams of :mod:`lcasolve.montecarlo` (draw numbers
    ``0 .. 2n-1``, any distribution of the stats_arrays family), and every design row that
    takes the background from ``A`` (or ``B``) sees the same draws. The design's
    ``n (p + 3)`` runs are solved in chunks of the batched engine.

    Parameters
    ----------
    system : System
        A system with parameters.
    demand : Mapping
        ``{product id: amount}``.
    n : int
        Base sample size (a power of 2).
    seed : int
        Seed of the design, of the background draws and of SALib's bootstrap.
    category : name, optional
        Which impact category (default the first).
    method : {"auto", "full", "partitioned"}
        See :class:`~lcasolve.parameters.batch.ParameterBatch` (``background`` needs a full
        batch: "auto" or "full").
    background : bool
        Also vary the uncertain matrix entries, as the grouped factor ``"background"``.
    allow_ill_conditioned : bool
        Warn instead of refusing when the deterministic solve's forward-error bound is above
        the limit (see :class:`~lcasolve.parameters.batch.ParameterBatch`).

    Returns
    -------
    pandas.DataFrame
        Index the parameters (and ``"background"``); columns ``S1``, ``S1_conf``, ``ST``,
        ``ST_conf``.

    Raises
    ------
    InvalidParameterError
        If ``n`` is not a power of 2, naming the nearest ones (before any work).
    InputError
        If no parameter has a distribution, or one is named ``"background"`` with
        ``background``.
    """
    from lcasolve.sensitivity.gsa import check_sobol_size, sobol, sobol_design

    n = check_sobol_size(n)

    params = system.parameters
    if params is None or not params.uncertain:
        raise InputError("no parameter has a distribution: no Sobol indices")
    uncertain = params.uncertain
    names = [_spelling(p) for p in uncertain]
    factors = [*names, BACKGROUND] if background else names
    if background and BACKGROUND in names:
        raise InputError(f"a parameter is named {BACKGROUND!r}, the name of the background factor")
    design, problem = sobol_design([(0.0, 1.0)] * len(factors), n, names=factors, seed=seed)
    values: dict[Hashable, object] = {
        p.key: _inverse_cdf(np.asarray(p.uncertainty), design[:, i], names[i])
        for i, p in enumerate(uncertain)
    }
    # the background column only says which rows share a draw: equal value, same draw number
    its = np.unique(design[:, -1], return_inverse=True)[1] if background else np.zeros(0)
    batch = cached_batch(system, demand, allow_ill_conditioned=allow_ill_conditioned)
    h = _sample_scores(system, batch, values, its, seed, background=background, method=method)
    q = 0 if category is None else _categories(system).index(str(category))
    return sobol(problem, h[:, q], seed=seed)


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """Scores of scenarios x demands x categories.

    Attributes
    ----------
    scores : pandas.DataFrame
        Index ``(scenario, demand)``, one column per category.
    """

    scores: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The scores table."""
        return self.scores

    def plot(self, category: Hashable | None = None, ax: Any = None) -> Any:
        """Bar chart of one category: scenarios on the x axis, one bar per demand."""
        import matplotlib.pyplot as plt

        column = self.scores.columns[0] if category is None else category
        table = self.scores[column].unstack("demand")
        if ax is None:
            _, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(table) + 2), 3.5))
        table.plot.bar(ax=ax, rot=0)
        ax.set_ylabel(str(column))
        ax.set_xlabel("scenario")
        return ax

    def _repr_html_(self) -> str:
        return str(self.scores.to_html())


def solve_scenarios(
    system: Any,
    scenarios: Mapping[str, Mapping[Hashable, float]],
    demands: Mapping[str, Mapping[Hashable, float]],
    *,
    method: str = "auto",
    allow_ill_conditioned: bool = False,
) -> ScenarioResult:
    """Solve every scenario (a named set of parameter values) as one batch per demand.

    Parameters
    ----------
    system : System
        A system with parameters.
    scenarios : Mapping
        Scenario name -> {parameter: value}; parameters not named keep their values.
    demands : Mapping
        Demand name -> {product id: amount}.
    method : {"auto", "full", "partitioned"}
        See :class:`~lcasolve.parameters.batch.ParameterBatch`.
    allow_ill_conditioned : bool
        Warn instead of refusing when the deterministic solve's forward-error bound is above
        the limit (see :class:`~lcasolve.parameters.batch.ParameterBatch`).

    Returns
    -------
    ScenarioResult
    """
    params = system.parameters
    if params is None:
        raise InputError("the system has no parameters")
    if not scenarios or not demands:
        raise InputError("give at least one scenario and one demand")
    names = list(scenarios)
    resolved: dict[str, dict[Key, float]] = {}
    for name in names:
        try:
            resolved[name] = {params.resolve(p): float(v) for p, v in scenarios[name].items()}
        except UnknownParameterError as exc:
            raise UnknownParameterError(exc.name, where=f"scenario {name!r}") from None
    current = params.evaluate()
    used = {key for given in resolved.values() for key in given}
    columns: dict[Hashable, object] = {
        key: np.asarray([resolved[name].get(key, current[key]) for name in names]) for key in used
    }
    if not columns:  # scenarios that change nothing: one batch of the current values
        columns = {params.inputs[0].key: np.full(len(names), params.inputs[0].value)}
    blocks = []
    for label, demand in demands.items():
        batch = cached_batch(system, demand, allow_ill_conditioned=allow_ill_conditioned)
        h = batch.scores(columns, method)
        index = pd.MultiIndex.from_product([names, [label]], names=["scenario", "demand"])
        blocks.append(pd.DataFrame(h, index=index, columns=_categories(system)))
    order = pd.MultiIndex.from_product([names, list(demands)], names=["scenario", "demand"])
    return ScenarioResult(pd.concat(blocks).reindex(order))


def beats(
    system: Any,
    demand: Mapping[Hashable, float],
    scenarios: Mapping[str, Mapping[Hashable, float]],
    iterations: int,
    seed: int = 0,
    category: Hashable | None = None,
) -> pd.DataFrame:
    """Paired Monte Carlo per scenario: ``P(score of row < score of column)``.

    Every scenario sees the same draws of the uncertain parameters it does not fix.

    Returns
    -------
    pandas.DataFrame
        Scenarios x scenarios; entry ``[b, a]`` is the probability that ``b`` scores lower.
    """
    runs = {
        name: parameter_monte_carlo(system, demand, iterations, seed, fixed=values)
        for name, values in scenarios.items()
    }
    q = 0 if category is None else _categories(system).index(str(category))
    scores = {name: run.scores.iloc[:, q].to_numpy() for name, run in runs.items()}
    names: Sequence[str] = list(scores)
    table = [[float(np.mean(scores[b] < scores[a])) for a in names] for b in names]
    return pd.DataFrame(table, index=names, columns=names)
