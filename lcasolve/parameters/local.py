"""Local sensitivity of scores to parameters: the chain rule through the formulas.

For an input parameter ``p``, every formula entry ``x_e = factor_e · φ_e(q)`` depends on ``p``
through the parameters ``q`` its formula uses, and dependent parameters through theirs. The total
derivatives ``dq/dp`` follow the dependency order (forward mode, one dense row per parameter)
from the exact partial derivatives of each formula (symbolic, :meth:`Formula.derivative`); then

    dh/dp = Σ_e ∂h/∂x_e · factor_e · dφ_e/dp

with ``∂h/∂x_e`` from one supply and one adjoint solve (:mod:`lcasolve.sensitivity.local`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError
from lcasolve.parameters.parameter_set import DATABASE, Key, ParameterSet, scope_label

if TYPE_CHECKING:
    from lcasolve.lca import LCA
    from lcasolve.model import System

__all__ = ["ParameterSensitivity", "entry_jacobian", "parameter_sensitivities"]


def entry_jacobian(
    params: ParameterSet, values: Mapping[Key, Any] | None = None
) -> tuple[list[Key], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Total derivatives of every formula entry's value by every input parameter.

    Parameters
    ----------
    params : ParameterSet
        The parameters.
    values : Mapping, optional
        The point (from :meth:`ParameterSet.evaluate`; default its own values).

    Returns
    -------
    (list, dict)
        The input parameters' keys (columns), and per matrix (entry indices, derivatives of
        shape ``(n_entries, n_inputs)``).
    """
    values = params.evaluate() if values is None else values
    inputs = [p.key for p in params.inputs]
    column = {key: i for i, key in enumerate(inputs)}
    rows: dict[Key, np.ndarray] = {}
    for key in inputs:
        row = np.zeros(len(inputs))
        row[column[key]] = 1.0
        rows[key] = row
    plan = params._plan
    for key in plan.order:
        formula = params._by_key[key].formula
        assert formula is not None  # dependent parameters have one
        rows[key] = _chain(formula, plan.bindings[key], values, rows, len(inputs))
    out: dict[str, tuple[list[int], list[np.ndarray]]] = {}
    for entry, binding in zip(params.entries, plan.entry_bindings, strict=True):
        index, derivs = out.setdefault(entry.matrix, ([], []))
        index.append(entry.entry)
        derivs.append(entry.factor * _chain(entry.formula, binding, values, rows, len(inputs)))
    return inputs, {m: (np.asarray(i, dtype=np.int64), np.vstack(d)) for m, (i, d) in out.items()}


def _chain(
    formula: Any,
    binding: Mapping[str, Key],
    values: Mapping[Key, Any],
    rows: Mapping[Key, np.ndarray],
    n: int,
) -> np.ndarray:
    env = {name: values[ref] for name, ref in binding.items()}
    total = np.zeros(n)
    for name, ref in binding.items():
        partial = float(formula.derivative(name).evaluate(env, prepared=True))
        if partial:
            total += partial * rows[ref]
    return total


@dataclass(frozen=True, eq=False)
class ParameterSensitivity:
    """Derivatives of the scores of one functional unit by each input parameter.

    Attributes
    ----------
    parameters : pandas.DataFrame
        One row per input parameter: ``parameter`` (as ``--param`` spells it), ``scope``,
        ``name``, ``value``, ``std`` (0 without a distribution).
    categories : list of str
        Category names (columns of ``derivative``).
    scores : numpy.ndarray
        The scores ``h``.
    derivative : numpy.ndarray
        ``dh/dp``, shape ``(n_parameters, n_categories)``.
    residual : float
        Largest relative residual of the solves.
    error_bound : float
        The larger bound of the relative forward error of the supply and of the adjoint
        (checked as :class:`~lcasolve.lca.LCA` checks its results).
    """

    parameters: pd.DataFrame
    categories: list[str]
    scores: np.ndarray
    derivative: np.ndarray
    residual: float
    error_bound: float = float("nan")

    def to_frame(self, category: Hashable | None = None) -> pd.DataFrame:
        """Sensitivity, elasticity (``dh/dp · p / h``) and importance (``|dh/dp| · std``).

        Parameters
        ----------
        category : str, optional
            A category name (default: the first).

        Returns
        -------
        pandas.DataFrame
            Sorted by absolute elasticity, largest first.
        """
        q = 0 if category is None else self.categories.index(str(category))
        frame = self.parameters.copy()
        frame["sensitivity"] = self.derivative[:, q]
        h = self.scores[q]
        with np.errstate(all="ignore"):
            frame["elasticity"] = np.where(h != 0, frame["sensitivity"] * frame["value"] / h, 0.0)
        frame["importance"] = np.abs(frame["sensitivity"]) * frame["std"]
        order = np.argsort(-np.abs(frame["elasticity"].to_numpy()), kind="stable")
        return frame.iloc[order].reset_index(drop=True)

    def top(self, n: int, category: Hashable | None = None, rank_by: str = "elasticity") -> Any:
        """The ``n`` parameters with the largest absolute ``rank_by`` value."""
        frame = self.to_frame(category)
        order = np.argsort(-np.abs(frame[rank_by].to_numpy()), kind="stable")
        return frame.iloc[order[:n]].reset_index(drop=True)

    def _repr_html_(self) -> str:
        return str(self.to_frame().head(20).to_html(index=False))


def parameter_sensitivities(
    lca_or_system: LCA | System,
    demand: Mapping[Hashable, float],
    *,
    allow_ill_conditioned: bool = False,
) -> ParameterSensitivity:
    """Exact local derivatives of every score by every input parameter.

    Parameters
    ----------
    lca_or_system : LCA or System
        A system with parameters (or its LCA).
    demand : Mapping
        ``{product id: amount}``.
    allow_ill_conditioned : bool, optional
        When a system is given: warn instead of refusing solves whose error bound is above the
        limit (see :func:`lcasolve.sensitivity.local_sensitivities`).

    Returns
    -------
    ParameterSensitivity

    Raises
    ------
    InputError
        If the system has no parameters.
    IllConditionedError
        If the supply's or the adjoint's error bound is above the limit (not allowed).
    """
    from lcasolve.sensitivity.local import entry_std, local_sensitivities

    system: Any = getattr(lca_or_system, "system", lca_or_system)
    params = system.parameters
    if params is None or not params.inputs:
        raise InputError("the system has no parameters to take sensitivities to")
    local = local_sensitivities(lca_or_system, demand, allow_ill_conditioned=allow_ill_conditioned)
    keys, jac = entry_jacobian(params)
    derivative = np.zeros((len(keys), len(local.categories)))
    for q in range(len(local.categories)):
        for matrix, (index, d) in jac.items():
            derivative[:, q] += local._sensitivity(matrix, q)[index] @ d
    inputs = params.inputs
    std = np.zeros(len(inputs))
    uncertain = [i for i, p in enumerate(inputs) if p.uncertainty is not None]
    if uncertain:
        records = np.array([inputs[i].uncertainty for i in uncertain])
        std[uncertain] = entry_std(records)
    table = pd.DataFrame(
        {
            "parameter": [
                p.name.strip() if p.scope in (None, DATABASE) else f"{p.scope}/{p.name.strip()}"
                for p in inputs
            ],
            "scope": [scope_label(p.scope) for p in inputs],
            "name": [p.name.strip() for p in inputs],
            "value": [p.value for p in inputs],
            "std": std,
        }
    )
    names = [str(system.categories["name"].iloc[k]) for k in local.categories]
    return ParameterSensitivity(
        table, names, local.scores, derivative, local.residual, local.error_bound
    )
