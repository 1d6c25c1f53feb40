"""The LCA facade: one factorization, many demands, all-activity scores, contributions."""

from __future__ import annotations

import html
import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve import equations
from lcasolve.errors import InputError, LcasolveError, NonFiniteValueError, format_ids
from lcasolve.model import System
from lcasolve.solve import Factorization, factorize

if TYPE_CHECKING:
    import pandas as pd

    from lcasolve.hotspots import Basis, StructuralPaths, SupplyGraph, SupplyTree
    from lcasolve.solve import SolveResult

__all__ = ["LCA", "ActivityScores", "LCAResult", "MultiLCAResult"]

#: categories listed one by one in ``repr(LCAResult)``
_REPR_CATEGORIES = 5

Demand = Mapping[Hashable, float]


class LCA:
    """Calculate a :class:`~lcasolve.model.System` for any number of demands.

    The technosphere is factorized once, on first use, and shared by every calculation; an
    ``LCA`` may be used from several threads at once.

    Parameters
    ----------
    system : System
        The product system.
    backend : str, optional
        Solver backend (see :func:`lcasolve.solve.factorize`).
    allow_unproductive : bool, optional
        Return the supplies of a non-negative demand even when they come out negative because
        a block of activities that only take inputs from each other is not productive (by
        default :class:`~lcasolve.errors.NotProductiveError`, see
        :mod:`lcasolve.solve.productivity`). Negative supplies caused by avoided products or
        credits are always allowed.
    allow_ill_conditioned : bool, optional
        Return a result whose forward-error bound is above the limit (by default
        :class:`~lcasolve.errors.IllConditionedError`; see
        :mod:`lcasolve.solve.conditioning`) with an
        :class:`~lcasolve.errors.IllConditionedWarning` instead.

    Examples
    --------
    >>> import lcasolve
    >>> system = lcasolve.build_system(
    ...     [(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5)],
    ...     [("CO2", 1, 1.0), ("CO2", 2, 2.0)],
    ...     {"GWP100": {"CO2": 1.0}},
    ... )
    >>> result = lcasolve.LCA(system).calculate({1: 1.0})
    >>> float(result.score("GWP100"))
    2.0
    """

    def __init__(
        self,
        system: System,
        *,
        backend: str | None = None,
        allow_unproductive: bool = False,
        allow_ill_conditioned: bool = False,
    ) -> None:
        self.system = system
        self.backend = backend
        self.allow_unproductive = allow_unproductive
        self.allow_ill_conditioned = allow_ill_conditioned
        self._lock = threading.Lock()
        self._factorization: Factorization | None = None
        self._basis: Basis | None = None

    @property
    def factorization(self) -> Factorization:
        """The factorization of ``A`` (computed once, thread-safe)."""
        if self._factorization is None:
            with self._lock:
                if self._factorization is None:
                    self._factorization = factorize(
                        self.system.A, self.backend, labels=self._labels
                    )
        return self._factorization

    @cached_property
    def _labels(self) -> list[Hashable]:
        """Activity ids by position (for error messages), listed once."""
        return self.system.column("activities", "id")

    @cached_property
    def _names(self) -> list[Hashable] | None:
        """Activity names by position (for error messages), listed once."""
        has = self.system.has_column("activities", "name")
        return self.system.column("activities", "name") if has else None

    def calculate(self, demand: Demand) -> LCAResult:
        """Supply, inventory and scores for one functional unit.

        Parameters
        ----------
        demand : mapping
            ``{product id: amount}``; all entries together form one functional unit.

        Returns
        -------
        LCAResult
        """
        f = self.system.demand_vector(demand)
        sol = equations.supply(self.factorization, f)
        self._check_productive(f, sol.x)
        condition, bound = self._accuracy(f, sol)
        result = LCAResult(self.system, dict(demand), f, sol.x, sol.residual, condition, bound)
        _check_finite_scores(self.system, result.score_array, sol.x)
        return result

    def calculate_many(self, demands: Mapping[str, Demand] | Sequence[Demand]) -> MultiLCAResult:
        """Solve several functional units with one block of right-hand sides.

        Parameters
        ----------
        demands : mapping of name to demand, or sequence of demands
            Each demand is ``{product id: amount}``.

        Returns
        -------
        MultiLCAResult
        """
        if isinstance(demands, Mapping):
            names = [str(k) for k in demands]
            items = list(demands.values())
        else:
            items = list(demands)
            names = [str(i) for i in range(len(items))]
        if not items:
            raise InputError("no demands given")
        F = np.column_stack([self.system.demand_vector(d) for d in items])  # noqa: N806
        sol = equations.supply(self.factorization, F)
        self._check_productive(F, sol.x)
        condition, bound = self._accuracy(F, sol)
        result = MultiLCAResult(self.system, names, F, sol.x, sol.residual, condition, bound)
        _check_finite_scores(self.system, result.scores.to_numpy().T, sol.x)
        return result

    def _check_productive(self, f: np.ndarray, s: np.ndarray) -> None:
        """Raise for negative supplies from an unproductive block, unless allowed."""
        if self.allow_unproductive:
            return
        from lcasolve.solve.productivity import check_productive

        check_productive(self.system.A, f, s, self._labels, self._names)

    def _accuracy(self, f: np.ndarray, sol: SolveResult) -> tuple[float, float]:
        """Condition and forward-error bound of a supply; warn or refuse when it is large."""
        from lcasolve.solve.conditioning import solution_accuracy

        return solution_accuracy(
            self.factorization,
            sol.x,
            f,
            residuals=sol.residuals,
            allow=self.allow_ill_conditioned,
        )

    def _accuracy_transposed(
        self, b: np.ndarray, lam: np.ndarray, residuals: np.ndarray | None = None
    ) -> tuple[float, float]:
        """Condition and forward-error bound of an adjoint ``Aᵀ λ = b``; warn or refuse."""
        from lcasolve.solve.conditioning import solution_accuracy

        return solution_accuracy(
            self.factorization,
            lam,
            b,
            transposed=True,
            residuals=residuals,
            allow=self.allow_ill_conditioned,
        )

    def activity_scores(self) -> ActivityScores:
        """Every product's score per unit, for every category, from one adjoint solve.

        Returns
        -------
        ActivityScores
            ``λ`` with ``λ[j, k]`` = score in category ``k`` of one unit of product ``j``.
        """
        if not self.allow_unproductive:
            # one unit of every product: negative supplies only from credits or unproductive
            # blocks, whose adjoint scores would be as meaningless as their supplies
            ones = np.ones(self.system.n_activities)
            self._check_productive(ones, equations.supply(self.factorization, ones).x)
        cB = self.system.CB.T.toarray()  # noqa: N806 - (n, k)
        sol = equations.adjoint(self.factorization, cB)
        condition, bound = self._accuracy_transposed(cB, sol.x, sol.residuals)
        return ActivityScores(self.system, sol.x, sol.residual, condition, bound)

    @property
    def hotspot_basis(self) -> Basis:
        """``A`` by columns and ``λ`` for trees, graphs and paths (one adjoint solve, cached)."""
        if self._basis is None:
            from lcasolve.hotspots import Basis

            lam = self.activity_scores().lam
            with self._lock:
                if self._basis is None:
                    self._basis = Basis.build(self.system, lam)
        return self._basis

    def tree(
        self,
        demand: Demand,
        *,
        category: Hashable | None = None,
        cutoff: float = 0.005,
        max_depth: int | None = None,
        max_nodes: int = 1000,
    ) -> SupplyTree:
        """The upstream tree of a functional unit (see :func:`lcasolve.hotspots.build_tree`).

        A branch is shown when ``|cumulative| ≥ cutoff ×`` the gross total; each node's
        cumulative = direct + children + rest, and the root equals :meth:`LCAResult.score`.
        """
        from lcasolve.hotspots import build_tree, check_settings

        check_settings(cutoff=cutoff, max_depth=max_depth, max_nodes=max_nodes)
        basis, result, score = self._hotspot_inputs(demand, category)
        return build_tree(
            basis, result.demand, result.f, result.supply, score, category=category,
            cutoff=cutoff, max_depth=max_depth, max_nodes=max_nodes,
        )  # fmt: skip

    def graph(
        self,
        demand: Demand,
        *,
        category: Hashable | None = None,
        min_share: float = 0.005,
        max_nodes: int = 200,
    ) -> SupplyGraph:
        """The Sankey graph of a functional unit (see :func:`lcasolve.hotspots.build_graph`)."""
        from lcasolve.hotspots import build_graph, check_settings

        check_settings(min_share=min_share, max_nodes=max_nodes)
        basis, result, score = self._hotspot_inputs(demand, category)
        return build_graph(
            basis, result.demand, result.f, result.supply, score, category=category,
            min_share=min_share, max_nodes=max_nodes,
        )  # fmt: skip

    def paths(
        self,
        demand: Demand,
        *,
        category: Hashable | None = None,
        top: int = 20,
        cutoff: float = 0.001,
        max_depth: int | None = None,
    ) -> StructuralPaths:
        """Structural paths ranked by ``|contribution|`` (see :mod:`lcasolve.hotspots.paths`)."""
        from lcasolve.hotspots import check_settings, structural_paths

        check_settings(cutoff=cutoff, max_depth=max_depth, top=top)
        basis, result, score = self._hotspot_inputs(demand, category)
        return structural_paths(
            basis, result.demand, result.f, result.supply, score, category=category,
            top=top, cutoff=cutoff, max_depth=max_depth,
        )  # fmt: skip

    def _hotspot_inputs(
        self, demand: Demand, category: Hashable | None
    ) -> tuple[Basis, LCAResult, float]:
        result = self.calculate(demand)
        score = result.score(category)  # checks the category before any work
        return self.hotspot_basis, result, score


def _check_finite_scores(system: System, h: np.ndarray, s: np.ndarray) -> None:
    """Raise :class:`NonFiniteValueError` if a score overflowed although the supply is finite.

    Names the categories and the activities whose direct contribution ``(C B)_kj s_j`` is not
    finite or, when only the sum overflows, the activities with the largest contributions.
    """
    h = np.asarray(h, dtype=np.float64)
    if np.isfinite(h).all():
        return
    k = int(np.flatnonzero(~np.isfinite(h.reshape(h.shape[0], -1)).all(axis=1))[0])
    with np.errstate(over="ignore", invalid="ignore"):
        col = s if s.ndim == 1 else s[:, np.flatnonzero(~np.isfinite(h[k]))[0]]
        contrib = np.abs(system.CB.getrow(k).toarray().ravel() * col)
    bad = np.flatnonzero(~np.isfinite(contrib))
    if not bad.size:
        bad = np.argsort(contrib)[::-1][:3]
    all_ids = system.column("activities", "id")
    ids = [all_ids[j] for j in bad]
    name = system.column("categories", "name")[k]
    raise NonFiniteValueError(
        f"the score of {name!r} overflows (not a finite number); largest contributions come "
        f"from activities {format_ids(ids)}"
    )


@dataclass(frozen=True, eq=False)
class LCAResult:
    """Result of one functional unit.

    Attributes
    ----------
    system : System
    demand : dict
        ``{product id: amount}`` as given.
    f, supply : numpy.ndarray
        Final demand and supply ``s`` (per activity).
    residual : float
        Relative residual of ``A s = f``.
    condition : float
        Skeel's condition ``‖ |A⁻¹| |A| ‖∞`` of the technosphere (estimate; NaN if not
        computed), see :mod:`lcasolve.solve.conditioning`.
    error_bound : float
        Bound of the relative error ``‖ŝ − s‖∞ / ‖ŝ‖∞`` of the supply (NaN if not computed).
    """

    system: System
    demand: dict[Hashable, float]
    f: np.ndarray
    supply: np.ndarray
    residual: float
    condition: float = float("nan")
    error_bound: float = float("nan")

    @cached_property
    def inventory(self) -> np.ndarray:
        """Inventory ``g = B s`` (per flow)."""
        with np.errstate(over="ignore", invalid="ignore"):  # checked by LCA.calculate
            return equations.inventory(self.system.B, self.supply)

    @cached_property
    def score_array(self) -> np.ndarray:
        """Score per impact category as an array, in the order of ``system.categories``.

        ``h = C g = (C B) s``: computed from the supply with ``C B`` (one row per category),
        which does not need the inventory of every flow.
        """
        with np.errstate(over="ignore", invalid="ignore"):  # checked by LCA.calculate
            return equations.scores(self.system.CB, self.supply)

    @cached_property
    def scores(self) -> pd.Series:
        """Score per impact category, indexed by category name."""
        import pandas as pd

        return pd.Series(self.score_array, index=self.system.category_names)

    def score(self, category: Hashable | None = None) -> float:
        """Score of one category (id or name; the only one if omitted)."""
        return float(self.score_array[self._category(category)])

    def _category(self, category: Hashable | None) -> int:
        if category is None:
            if self.system.n_categories != 1:
                raise InputError(
                    f"the system has {self.system.n_categories} categories; name one of "
                    f"{self.system.column('categories', 'name')}"
                )
            return 0
        return self.system.category_position(category)

    def characterized_inventory(self, category: Hashable | None = None) -> np.ndarray:
        """Per-flow contribution ``c_k g_k`` to one category's score."""
        k = self._category(category)
        c = self.system.C.getrow(k).toarray().ravel()
        return c * self.inventory

    def contributions(
        self,
        category: Hashable | None = None,
        *,
        by: str = "activity",
        top: int | None = 10,
    ) -> pd.DataFrame:
        """Contributions to one score by activity (``(cᵀB)_j s_j``) or by flow (``c_k g_k``).

        Parameters
        ----------
        category : id or name, optional
            Impact category (the only one if omitted).
        by : {"activity", "flow"}
            What to break the score down by.
        top : int or None
            Keep the ``top`` largest by absolute value and add a ``(rest)`` row; ``None`` keeps
            all nonzero contributions.

        Returns
        -------
        pandas.DataFrame
            Columns ``id``, ``name``, ``score``, ``share`` (of the total), sorted by ``|score|``.
        """
        import pandas as pd

        rows = self.contribution_records(category, by=by, top=top)
        return pd.DataFrame(rows, columns=list(CONTRIBUTION_COLUMNS))

    def contribution_records(
        self, category: Hashable | None = None, *, by: str = "activity", top: int | None = 10
    ) -> list[dict[str, Any]]:
        """The rows of :meth:`contributions` as ``{id, name, score, share}`` dicts.

        For JSON and services: built from the system's table columns, without pandas.
        """
        k = self._category(category)
        if by == "activity":
            values = self.system.CB.getrow(k).toarray().ravel() * self.supply
            table = "activities"
        elif by == "flow":
            values = self.system.C.getrow(k).toarray().ravel() * self.inventory
            table = "flows"
        else:
            raise InputError(f"by must be 'activity' or 'flow', not {by!r}")
        system = self.system
        compartments = (
            system.column(table, "compartment") if system.has_column(table, "compartment") else None
        )
        labels = row_labels(system.column(table, "name"), compartments)
        return contribution_records(values, system.column(table, "id"), labels, top)

    def to_frame(self) -> pd.DataFrame:
        """Scores with units, one row per category."""
        import pandas as pd

        return pd.DataFrame(
            {"score": self.scores.to_numpy(), "unit": self.system.categories["unit"].to_numpy()},
            index=self.scores.index,
        )

    def _demand_label(self) -> str:
        """``'id' (name) = amount`` per demanded product, names from the activity table."""
        acts = self.system.activities
        parts = []
        for pid, amount in self.demand.items():
            try:
                name = str(acts["name"].iloc[self.system.product_position(pid)])
            except LcasolveError:
                name = ""
            unit = ""
            if "unit" in acts:
                unit = str(acts["unit"].iloc[self.system.product_position(pid)]).strip()
            shown = f"{pid!r}" + (f" ({name})" if name and name != str(pid) else "")
            parts.append(f"{shown} = {amount:g}" + (f" {unit}" if unit else ""))
        return ", ".join(parts)

    def __repr__(self) -> str:
        """One line per category (the first 5), the demand and the residual; no arrays."""
        scores = self.scores
        units = self.system.categories["unit"].astype(str).tolist()
        lines = [f"LCAResult: {self._demand_label()}"]
        lines += [
            f"  {name}: {value:.6g} {units[k]}".rstrip()
            for k, (name, value) in enumerate(scores.iloc[:_REPR_CATEGORIES].items())
        ]
        if len(scores) > _REPR_CATEGORIES:
            lines.append(f"  ... and {len(scores) - _REPR_CATEGORIES} more categories")
        lines.append(
            f"  {self.system.n_activities} activities, {self.system.n_flows} flows; "
            f"relative residual {self.residual:.2e}"
        )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (
            f"<p>LCA result for {html.escape(self._demand_label())} "
            f"(relative residual {self.residual:.2e})</p>" + self.to_frame().to_html()
        )


#: the columns of a contribution table (:meth:`LCAResult.contributions`), in order
CONTRIBUTION_COLUMNS = ("id", "name", "score", "share")


def contribution_records(
    values: np.ndarray, ids: Sequence[Hashable], labels: Sequence[object], top: int | None
) -> list[dict[str, Any]]:
    """Nonzero ``values`` ranked by magnitude as ``{id, name, score, share}`` rows.

    With ``top``, the ``top`` largest and a ``(rest)`` row summing the others. ``share`` is of
    the total of all values (NaN when the total is 0). The rows of :func:`contribution_table`,
    without pandas.
    """
    total = float(values.sum())
    nz = np.flatnonzero(values)
    order = nz[np.argsort(-np.abs(values[nz]), kind="stable")]
    keep = order if top is None else order[:top]
    rows: list[dict[str, Any]] = [
        {"id": ids[j], "name": labels[j], "score": float(values[j])} for j in keep.tolist()
    ]
    if top is not None and order.size > top:
        rest = float(values[order[top:]].sum())
        rows.append({"id": "(rest)", "name": f"{order.size - top} others", "score": rest})
    for row in rows:
        row["share"] = row["score"] / total if total != 0 else float("nan")
    return rows


def contribution_table(values: np.ndarray, table: pd.DataFrame, top: int | None) -> pd.DataFrame:
    """Rank nonzero ``values`` by magnitude with ids and names from ``table``; add a rest row.

    A flow table's names carry their compartment, ``"Carbon dioxide, fossil (air/urban)"``, so
    that a flow emitted to several compartments is told apart.
    """
    import pandas as pd

    compartments = table["compartment"].tolist() if "compartment" in table.columns else None
    labels = row_labels(table["name"].tolist(), compartments)
    rows = contribution_records(values, table["id"].tolist(), labels, top)
    return pd.DataFrame(rows, columns=list(CONTRIBUTION_COLUMNS))


def row_labels(names: Sequence[object], compartments: Sequence[object] | None) -> list[object]:
    """Names, with ``(compartment)`` appended where a flow has a nonempty compartment."""
    if compartments is None:
        return list(names)
    out: list[object] = []
    for name, comp in zip(names, compartments, strict=True):
        text = "" if comp is None or (isinstance(comp, float) and comp != comp) else str(comp)
        out.append(f"{str(name).strip()} ({text.strip()})" if text.strip() else name)
    return out


@dataclass(frozen=True, eq=False)
class MultiLCAResult:
    """Results of several functional units solved together.

    Attributes
    ----------
    names : list of str
    F, supply : numpy.ndarray
        ``(n, d)`` demands and supplies, one column per functional unit.
    residual : float
        Worst relative residual over the functional units.
    condition : float
        Skeel's condition of the technosphere (estimate; NaN if not computed).
    error_bound : float
        Worst bound of the relative error of a supply (NaN if not computed).
    """

    system: System
    names: list[str]
    F: np.ndarray
    supply: np.ndarray
    residual: float
    condition: float = float("nan")
    error_bound: float = float("nan")

    @cached_property
    def inventory(self) -> np.ndarray:
        """``(m, d)`` inventories."""
        with np.errstate(over="ignore", invalid="ignore"):  # checked by LCA.calculate_many
            return np.asarray(self.system.B @ self.supply)

    @cached_property
    def scores(self) -> pd.DataFrame:
        """Scores, one row per functional unit and one column per category."""
        import pandas as pd

        with np.errstate(over="ignore", invalid="ignore"):  # checked by LCA.calculate_many
            h = equations.scores(self.system.CB, self.supply)  # (C B) S = C G
        return pd.DataFrame(
            h.T, index=pd.Index(self.names, name="demand"), columns=self.system.categories["name"]
        )

    def _repr_html_(self) -> str:
        return self.scores.to_html()


@dataclass(frozen=True, eq=False)
class ActivityScores:
    """Score per unit of every product (cradle-to-gate emission factors), from the adjoint.

    Attributes
    ----------
    lam : numpy.ndarray
        ``(n, k)``: ``lam[j, k]`` is the category-``k`` score of one unit of product ``j``.
    residual : float
        Relative residual of the transposed solve.
    condition : float
        Skeel's condition of ``Aᵀ`` (estimate; NaN if not computed).
    error_bound : float
        Worst bound of the relative error of a column of ``lam`` (NaN if not computed).
    """

    system: System
    lam: np.ndarray
    residual: float
    condition: float = float("nan")
    error_bound: float = float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per product with ids, names, unit and a column per category."""
        import pandas as pd

        acts = self.system.activities
        df = pd.DataFrame(
            self.lam, columns=self.system.categories["name"].tolist(), index=acts.index
        )
        head = acts[["product_id", "product", "id", "name", "unit", "location"]]
        return pd.concat([head, df], axis=1)

    def score(self, product_id: Hashable, category: Hashable | None = None) -> float:
        """Score of one unit of a product."""
        k = 0 if category is None else self.system.category_position(category)
        return float(self.lam[self.system.product_position(product_id), k])
