"""Local (adjoint) sensitivities of scores to every technosphere, biosphere and CF entry.

With ``A s = f``, ``g = B s``, ``h = C g`` and the adjoint ``Aᵀ λ = (c B)ᵀ`` of one category
(row ``c`` of ``C``), one extra solve gives the derivative of ``h`` to every matrix entry::

    ∂h/∂a_ij = −λ_i s_j        ∂h/∂b_rj = c_r s_j        ∂h/∂c_r = g_r

Elasticities are ``∂h/∂x · x / h``. Sensitivities are reported per entry index of
:class:`~lcasolve.model.Entries` (the stable parameter address); entries that share a matrix
position each get that position's derivative.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lcasolve import equations
from lcasolve.model import System

if TYPE_CHECKING:
    from lcasolve.lca import LCA

__all__ = ["LocalSensitivity", "local_sensitivities", "MATRICES"]

#: matrix names, in the order used everywhere in this package
MATRICES = ("technosphere", "biosphere", "characterization")


def entry_std(records: np.ndarray) -> np.ndarray:
    """Standard deviation of each stats_arrays record (0 where there is no distribution)."""
    from lcasolve.uncertainty import describe

    if len(records) == 0:
        return np.zeros(0)
    _, std = describe(records)
    std = np.asarray(std, dtype=np.float64)
    return np.where(np.isfinite(std), std, 0.0)


@dataclass(frozen=True, eq=False)
class LocalSensitivity:
    """Sensitivities of the scores of one functional unit to every matrix entry.

    Attributes
    ----------
    system : System
    demand : dict
        ``{product id: amount}`` as given.
    categories : list of int
        Rows of ``C`` covered.
    scores : numpy.ndarray
        ``h`` for those categories.
    supply, inventory : numpy.ndarray
        ``s`` and ``g``.
    lam : numpy.ndarray
        Adjoint ``λ``, shape ``(n, len(categories))``.
    residual : float
        Largest relative residual of the two solves.
    condition : float
        The larger Skeel condition of ``A`` and ``Aᵀ`` (the supply's and the adjoint's solve).
    error_bound : float
        The larger bound of the relative forward error of ``s`` and of ``λ``
        (:mod:`lcasolve.solve.conditioning`); both were checked as :class:`~lcasolve.lca.LCA`
        checks its results (warned about, or refused above the limit).
    """

    system: System
    demand: dict[Hashable, float]
    categories: list[int]
    scores: np.ndarray
    supply: np.ndarray
    inventory: np.ndarray
    lam: np.ndarray
    residual: float
    condition: float = float("nan")
    error_bound: float = float("nan")

    def sensitivity(self, matrix: str, category: Hashable | None = None) -> np.ndarray:
        """``∂h/∂x`` for every entry of one matrix (entry order), for one category.

        Parameters
        ----------
        matrix : {"technosphere", "biosphere", "characterization"}
        category : id or name, optional
            Defaults to the first category covered.
        """
        return self._sensitivity(matrix, self._column(category))

    def _sensitivity(self, matrix: str, q: int) -> np.ndarray:
        k = self.categories[q]
        sys = self.system
        if matrix == "technosphere":
            e = sys.technosphere
            return -self.lam[e.row, q] * self.supply[e.col]
        if matrix == "biosphere":
            e = sys.biosphere
            c = np.asarray(sys.C.getrow(k).toarray()).ravel()
            return c[e.row] * self.supply[e.col]
        if matrix == "characterization":
            e = sys.characterization
            return np.where(e.row == k, self.inventory[e.col], 0.0)
        raise ValueError(f"unknown matrix {matrix!r}; expected one of {MATRICES}")

    def _column(self, category: Hashable | None) -> int:
        if category is None:
            return 0
        k = self.system.category_position(category)
        if k not in self.categories:
            from lcasolve.errors import UnknownCategoryError

            raise UnknownCategoryError(f"category {category!r} was not part of this calculation")
        return self.categories.index(k)

    @cached_property
    def _std(self) -> dict[str, np.ndarray]:
        return {m: entry_std(getattr(self.system, m).uncertainty) for m in MATRICES}

    def arrays(self, category: Hashable | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Arrays per matrix of the entries with a nonzero sensitivity.

        Keys: ``entry``, ``value``, ``sensitivity``, ``elasticity``, ``std``, ``importance``.

        ``importance`` is ``|∂h/∂x| · std``,
        the first-order standard deviation of ``h`` caused by that entry alone.
        """
        q = self._column(category)
        h = float(self.scores[q])
        out: dict[str, dict[str, np.ndarray]] = {}
        for m in MATRICES:
            sens = self._sensitivity(m, q)
            idx = np.flatnonzero(sens)
            value = getattr(self.system, m).value[idx]
            sens = sens[idx]
            with np.errstate(divide="ignore", invalid="ignore"):
                elas = sens * value / h if h != 0 else np.full(len(idx), np.nan)
            std = self._std[m][idx]
            out[m] = {
                "entry": idx,
                "value": value,
                "sensitivity": sens,
                "elasticity": elas,
                "std": std,
                "importance": np.abs(sens) * std,
            }
        return out

    def to_frame(
        self, category: Hashable | None = None, *, rank_by: str = "elasticity"
    ) -> pd.DataFrame:
        """Ranked table of every entry with a nonzero sensitivity, for one category.

        Parameters
        ----------
        category : id or name, optional
            Defaults to the first category covered.
        rank_by : {"elasticity", "sensitivity", "importance"}
            Sort key (by absolute value, largest first).

        Returns
        -------
        pandas.DataFrame
            Columns ``matrix``, ``entry``, ``row``, ``col`` (positions), ``row_id``, ``col_id``,
            ``row_name``, ``col_name``, ``value``, ``sensitivity``, ``elasticity``, ``std``,
            ``importance`` and ``variance_share`` (first-order estimate
            ``importance² / Σ importance²``).
        """
        return self.top(None, category, rank_by=rank_by)

    def top(
        self, n: int | None = 10, category: Hashable | None = None, *, rank_by: str = "elasticity"
    ) -> pd.DataFrame:
        """The ``n`` largest entries by ``|rank_by|`` (all of them with ``n=None``).

        See :meth:`to_frame` for the columns.
        """
        if rank_by not in ("elasticity", "sensitivity", "importance"):
            raise ValueError(
                f"rank_by must be elasticity, sensitivity or importance, not {rank_by!r}"
            )
        parts = self.arrays(category)
        matrix = np.concatenate(
            [np.full(len(parts[m]["entry"]), i) for i, m in enumerate(MATRICES)]
        )
        cols = {k: np.concatenate([parts[m][k] for m in MATRICES]) for k in parts[MATRICES[0]]}
        imp2 = cols["importance"] ** 2
        total = imp2.sum()
        share = imp2 / total if total > 0 else np.zeros_like(imp2)
        key = (
            np.abs(cols["sensitivity"] * cols["value"])
            if rank_by == "elasticity"
            else np.abs(cols[rank_by])
        )
        order = np.argsort(-key, kind="stable")
        if n is not None:
            order = order[: max(int(n), 0)]
        mat = matrix[order]
        lab: dict[str, np.ndarray] = {}
        for i, m in enumerate(MATRICES):
            mask = mat == i
            if not mask.any():
                continue
            for k, v in self._labels(m, cols["entry"][order[mask]]).items():
                if k not in lab:
                    lab[k] = np.empty(
                        len(order), dtype=object if k.endswith(("id", "name")) else np.int64
                    )
                lab[k][mask] = v
        for k in ("row", "col"):
            lab.setdefault(k, np.zeros(len(order), dtype=np.int64))
        for k in ("row_id", "col_id", "row_name", "col_name"):
            lab.setdefault(k, np.empty(len(order), dtype=object))
        take = order
        return pd.DataFrame(
            {
                "matrix": np.asarray(MATRICES, dtype=object)[matrix[take]],
                "entry": cols["entry"][take],
                "row": lab["row"],
                "col": lab["col"],
                "row_id": lab["row_id"],
                "col_id": lab["col_id"],
                "row_name": lab["row_name"],
                "col_name": lab["col_name"],
                "value": cols["value"][take],
                "sensitivity": cols["sensitivity"][take],
                "elasticity": cols["elasticity"][take],
                "std": cols["std"][take],
                "importance": cols["importance"][take],
                "variance_share": share[take],
            }
        )

    def _labels(self, matrix: str, entry: np.ndarray) -> dict[str, np.ndarray]:
        sys = self.system
        e = getattr(sys, matrix)
        row, col = e.row[entry], e.col[entry]
        act, flows, cats = sys.activities, sys.flows, sys.categories
        if matrix == "technosphere":
            rt, rid, rname = act, "product_id", "product"
            ct, cid, cname = act, "id", "name"
        elif matrix == "biosphere":
            rt, rid, rname = flows, "id", "name"
            ct, cid, cname = act, "id", "name"
        else:
            rt, rid, rname = cats, "id", "name"
            ct, cid, cname = flows, "id", "name"

        def pick(table: pd.DataFrame, column: str, pos: np.ndarray) -> np.ndarray:
            if column not in table.columns:
                return np.full(len(pos), None, dtype=object)
            return np.asarray(table[column].to_numpy(dtype=object))[pos]

        return {
            "row": row,
            "col": col,
            "row_id": pick(rt, rid, row),
            "col_id": pick(ct, cid, col),
            "row_name": pick(rt, rname, row),
            "col_name": pick(ct, cname, col),
        }

    def variance_share(self, category: Hashable | None = None) -> dict[str, np.ndarray]:
        """First-order variance share of every entry, per matrix, in entry order (zeros kept)."""
        q = self._column(category)
        imp2 = {}
        for m in MATRICES:
            sens = self._sensitivity(m, q)
            imp2[m] = (sens * self._std[m]) ** 2
        total = sum(float(v.sum()) for v in imp2.values())
        return {m: (v / total if total > 0 else np.zeros_like(v)) for m, v in imp2.items()}

    def _repr_html_(self) -> str:
        return self.top(10).to_html(index=False)


def local_sensitivities(
    lca_or_system: LCA | System,
    demand: Mapping[Hashable, float],
    category: Hashable | None = None,
    *,
    backend: str | None = None,
    allow_ill_conditioned: bool = False,
) -> LocalSensitivity:
    """Sensitivities and elasticities of the scores to every A, B and C entry.

    One solve for the supply (:meth:`LCA.calculate <lcasolve.lca.LCA.calculate>`, with its
    checks) and one adjoint solve (one right-hand side per category) with the same
    factorization; the forward-error bound of each is checked as
    :meth:`~lcasolve.lca.LCA.calculate` checks it.

    Parameters
    ----------
    lca_or_system : LCA or System
        An :class:`~lcasolve.lca.LCA` (its factorization is reused) or a system.
    demand : mapping
        ``{product id: amount}``, one functional unit.
    category : id or name, optional
        One impact category; by default every category of the system.
    backend : str, optional
        Solver backend when a system is given.
    allow_ill_conditioned : bool, optional
        When a system is given: warn instead of refusing a supply or adjoint whose error bound
        is above the limit (an LCA given brings its own setting).

    Returns
    -------
    LocalSensitivity

    Raises
    ------
    UnknownCategoryError
        If ``category`` is not in the system, or the system has no category.
    IllConditionedError
        If the bound of the supply's or the adjoint's relative error is above
        ``set_options(error_bound_limit=...)`` and ill-conditioning is not allowed (above
        ``error_bound_warning`` an :class:`~lcasolve.errors.IllConditionedWarning`).
    """
    from lcasolve.errors import UnknownCategoryError
    from lcasolve.lca import LCA

    lca = (
        lca_or_system
        if isinstance(lca_or_system, LCA)
        else LCA(lca_or_system, backend=backend, allow_ill_conditioned=allow_ill_conditioned)
    )
    system = lca.system
    if system.n_categories == 0:
        raise UnknownCategoryError("the system has no impact category to take sensitivities of")
    ks = (
        list(range(system.n_categories))
        if category is None
        else [system.category_position(category)]
    )
    sol = lca.calculate(demand)  # productive, finite, its forward-error bound checked
    s = np.asarray(sol.supply, dtype=np.float64).ravel()
    g = equations.inventory(system.B, s)
    C = system.C[ks, :] if len(ks) < system.n_categories else system.C  # noqa: N806
    h = np.asarray(equations.scores(C, g)).ravel()
    cB = np.asarray((C @ system.B).T.toarray())  # noqa: N806 - (n, k)
    adj = equations.adjoint(lca.factorization, cB)
    condition, bound = lca._accuracy_transposed(cB, adj.x, adj.residuals)
    lam = np.asarray(adj.x, dtype=np.float64).reshape(system.n_activities, len(ks))
    return LocalSensitivity(
        system=system,
        demand=dict(demand),
        categories=ks,
        scores=h,
        supply=s,
        inventory=np.asarray(g).ravel(),
        lam=lam,
        residual=float(max(sol.residual, adj.residual)),
        condition=float(np.fmax(sol.condition, condition)),
        error_bound=float(np.fmax(sol.error_bound, bound)),
    )
