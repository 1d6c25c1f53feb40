"""The immutable matrix system: technosphere, biosphere, characterization, and their tables."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import (
    EmptySystemError,
    InvalidProductionError,
    ShapeMismatchError,
    UnknownCategoryError,
    UnknownDemandError,
    format_ids,
)
from lcasolve.model import table as _tables
from lcasolve.model.entries import Entries
from lcasolve.model.table import TableField

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["System"]

#: Columns every activity table has (others, such as tags, may follow).
ACTIVITY_COLUMNS = ("id", "name", "product_id", "product", "unit", "location")
#: Columns every flow table has.
FLOW_COLUMNS = ("id", "name", "compartment", "unit")
#: Columns every category table has.
CATEGORY_COLUMNS = ("id", "name", "unit")


@dataclass(frozen=True, eq=False)
class System:
    """A linear product system ``A s = f``, ``g = B s``, ``h = C g``; immutable.

    Positions follow the tables: technosphere column ``j`` is activity ``activities.iloc[j]``, and
    technosphere row ``j`` is that activity's reference product, so production sits on the diagonal.
    Build one with :func:`lcasolve.model.build_system` or a reader in :mod:`lcasolve.io`.

    Attributes
    ----------
    technosphere : Entries
        ``A``, n x n; production > 0 on the diagonal, inputs < 0.
    biosphere : Entries
        ``B``, m x n; elementary flows per unit of each activity.
    characterization : Entries
        ``C``, k x m; one row per impact category.
    activities : pandas.DataFrame
        n rows: ``id``, ``name``, ``product_id``, ``product``, ``unit``, ``location`` and any tags.
    flows : pandas.DataFrame
        m rows: ``id``, ``name``, ``compartment``, ``unit`` (and more, e.g. ``cas``).
    categories : pandas.DataFrame
        k rows: ``id``, ``name``, ``unit``.
    metadata : Mapping
        Source description (files, formats, link report, ...).
    parameters : ParameterSet or None
        Parameters and the matrix entries defined by formulas of them
        (:mod:`lcasolve.parameters`); None when the source has none.
    """

    technosphere: Entries
    biosphere: Entries
    characterization: Entries
    activities: pd.DataFrame = TableField()  # type: ignore[assignment]
    flows: pd.DataFrame = TableField()  # type: ignore[assignment]
    categories: pd.DataFrame = TableField()  # type: ignore[assignment]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    parameters: Any = None  # lcasolve.parameters.ParameterSet (not imported: import cost)

    def __post_init__(self) -> None:
        n = self.technosphere.shape[0]
        if n == 0:
            raise EmptySystemError("the technosphere has no activities")
        if self.technosphere.shape != (n, n):
            raise ShapeMismatchError(
                f"the technosphere must be square, got {self.technosphere.shape[0]} products x "
                f"{self.technosphere.shape[1]} activities"
            )
        m = self.biosphere.shape[0]
        k = self.characterization.shape[0]
        checks = [
            ("biosphere columns", self.biosphere.shape[1], "activities", n),
            ("characterization columns", self.characterization.shape[1], "biosphere flows", m),
            ("activity table rows", len(self._table("activities")), "technosphere columns", n),
            ("flow table rows", len(self._table("flows")), "biosphere rows", m),
            ("category table rows", len(self._table("categories")), "characterization rows", k),
        ]
        for what, got, other, expected in checks:
            if got != expected:
                raise ShapeMismatchError(f"{what} ({got}) do not match {other} ({expected})")
        for cols, name in (
            (ACTIVITY_COLUMNS, "activities"),
            (FLOW_COLUMNS, "flows"),
            (CATEGORY_COLUMNS, "categories"),
        ):
            missing = [c for c in cols if not self.has_column(name, c)]
            if missing:
                raise ShapeMismatchError(f"the {name} table lacks the columns {missing}")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        self._check_production()

    def _check_production(self) -> None:
        diag = self.A.diagonal()
        waste = (
            np.asarray(self.column("activities", "waste"), dtype=bool)
            if self.has_column("activities", "waste")
            else np.zeros(diag.shape[0], dtype=bool)
        )
        zero = np.flatnonzero(diag == 0)
        if zero.size:
            all_ids = self.column("activities", "id")
            ids = [all_ids[j] for j in zero]
            raise InvalidProductionError(
                f"{zero.size} activities produce none of their reference product (zero on the "
                f"technosphere diagonal): {format_ids(ids)}"
            )
        negative = np.flatnonzero((diag < 0) & ~waste)
        if negative.size:
            all_ids = self.column("activities", "id")
            ids = [all_ids[j] for j in negative]
            raise InvalidProductionError(
                f"{negative.size} activities have a negative production of their reference "
                f"product (mark waste treatments with a True 'waste' column): {format_ids(ids)}"
            )

    # ------------------------------------------------------------------ tables
    def _table(self, table: str) -> Any:
        if table not in ("activities", "flows", "categories"):
            raise KeyError(f"no table {table!r}: activities, flows or categories")
        return TableField.raw(self, table)

    def has_column(self, table: str, name: str) -> bool:
        """Whether the ``activities``, ``flows`` or ``categories`` table has a column."""
        return _tables.has_column(self._table(table), name)

    def column(self, table: str, name: str) -> list[Any]:
        """One column of the ``activities``, ``flows`` or ``categories`` table as a list.

        Reads the table's columns as the reader gave them when its DataFrame has not been built
        (a system from a datapackage builds it on first access of the attribute), so that a
        calculation does not need pandas.
        """
        return _tables.column(self._table(table), name)

    def with_parameters(self, values: Mapping[Any, object]) -> System:
        """Return a new system with parameters set and formula entries re-evaluated.

        Parameters
        ----------
        values : Mapping
            ``"NAME"`` (global or database parameter), ``"PROCESS_ID/NAME"`` (a process's own)
            or ``(scope, name)`` -> number.

        Returns
        -------
        System
            Same positions; the entries defined by formulas take their new values.
        """
        from lcasolve.parameters import apply_parameters

        return apply_parameters(self, values)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ matrices
    @property
    def A(self) -> sp.csc_matrix:  # noqa: N802 - the symbol of the equations
        """Technosphere matrix ``A`` (CSC, read-only data)."""
        return self.technosphere.matrix

    @property
    def B(self) -> sp.csc_matrix:  # noqa: N802
        """Biosphere matrix ``B`` (CSC)."""
        return self.biosphere.matrix

    @property
    def C(self) -> sp.csc_matrix:  # noqa: N802
        """Characterization matrix ``C`` (CSC), one row per category."""
        return self.characterization.matrix

    @cached_property
    def CB(self) -> sp.csr_matrix:  # noqa: N802
        """``C B``: direct impact of one unit of each activity, per category (CSR, k x n)."""
        C = self.C  # noqa: N806
        bio = self.biosphere
        if "matrix" in bio.__dict__:  # B already assembled
            return (C.tocsr() @ self.B).tocsr()
        # only the flows with a factor enter C B: assemble those rows of B (a method that
        # characterizes a few of thousands of flows need not wait for all of B)
        used = np.diff(C.indptr) > 0
        keep = used[bio.row]
        rows_of_B = sp.csc_matrix(  # noqa: N806 - duplicates summed as in B
            (bio.value[keep], (bio.row[keep], bio.col[keep])), shape=bio.shape
        )
        return (C.tocsr() @ rows_of_B).tocsr()

    @cached_property
    def category_names(self) -> pd.Index:
        """Category names as an index named ``category`` (of score series and tables)."""
        import pandas as pd

        return pd.Index(self.categories["name"], name="category")

    @property
    def n_activities(self) -> int:
        """Number of activities (and products), ``n``."""
        return int(self.technosphere.shape[0])

    @property
    def n_flows(self) -> int:
        """Number of elementary flows, ``m``."""
        return int(self.biosphere.shape[0])

    @property
    def n_categories(self) -> int:
        """Number of impact categories, ``k``."""
        return int(self.characterization.shape[0])

    # ------------------------------------------------------------------ indices
    @cached_property
    def product_index(self) -> Mapping[Hashable, int]:
        """Product id -> technosphere row."""
        return MappingProxyType(
            {pid: i for i, pid in enumerate(self.column("activities", "product_id"))}
        )

    @cached_property
    def activity_index(self) -> Mapping[Hashable, int]:
        """Activity id -> technosphere column."""
        return MappingProxyType({aid: i for i, aid in enumerate(self.column("activities", "id"))})

    @cached_property
    def flow_index(self) -> Mapping[Hashable, int]:
        """Flow id -> biosphere row."""
        return MappingProxyType({fid: i for i, fid in enumerate(self.column("flows", "id"))})

    @cached_property
    def category_index(self) -> Mapping[Hashable, int]:
        """Category id and name -> characterization row."""
        index: dict[Hashable, int] = {}
        for i, (cid, name) in enumerate(
            zip(self.column("categories", "id"), self.column("categories", "name"), strict=True)
        ):
            index.setdefault(name, i)
            index[cid] = i
        return MappingProxyType(index)

    def category_position(self, category: Hashable) -> int:
        """Row of ``C`` for a category id or name.

        Raises
        ------
        UnknownCategoryError
            If the system has no such category.
        """
        try:
            return self.category_index[category]
        except (KeyError, TypeError):
            names = self.column("categories", "name")
            raise UnknownCategoryError(
                f"unknown impact category {category!r}; the system has: {format_ids(names)}"
            ) from None

    def demand_vector(self, demand: Mapping[Hashable, float]) -> np.ndarray:
        """Final demand ``f`` for ``{product id: amount}`` (amounts of the same id add up).

        Raises
        ------
        UnknownDemandError
            If an id is not a product of the system (the message says when it is an activity).
        """
        f = np.zeros(self.n_activities)
        if not demand:
            raise UnknownDemandError("the demand is empty: name at least one product")
        for pid, amount in demand.items():
            f[self.product_position(pid)] += float(amount)
        if not np.isfinite(f).all():
            raise UnknownDemandError(f"the demand has a non-finite amount: {dict(demand)}")
        return f

    def product_position(self, product_id: Hashable) -> int:
        """Technosphere row of a product id (accepting ``str``/``int`` spellings of the same id)."""
        index = self.product_index
        if product_id in index:
            return index[product_id]
        alt = _alternative_id(product_id)
        if alt is not None and alt in index:
            return index[alt]
        if product_id in self.activity_index or (alt is not None and alt in self.activity_index):
            j = self.activity_index.get(product_id, self.activity_index.get(alt, -1))
            raise UnknownDemandError(
                f"demand id {product_id!r} is an activity, not a product; the product it "
                f"produces has id {self.column('activities', 'product_id')[j]!r}"
            )
        raise UnknownDemandError(f"demand id {product_id!r} is not a product of this system")

    def search(self, query: str, *, limit: int | None = 20) -> pd.DataFrame:
        """Activities ranked by how well they match ``query`` (see :func:`lcasolve.search.search`).

        Parameters
        ----------
        query : str
            Free text matched against name, product, location and category.
        limit : int or None, optional
            At most this many rows.

        Returns
        -------
        pandas.DataFrame
            ``position``, ``id``, ``name``, ``product``, ``location``, ``category``, ``score``.
        """
        from lcasolve.search import search

        return search(self, query, limit=limit)

    def describe(self) -> dict[str, int]:
        """Counts: activities, flows, categories, matrix entries and nonzeros."""
        return {
            "activities": self.n_activities,
            "flows": self.n_flows,
            "categories": self.n_categories,
            "technosphere_entries": len(self.technosphere),
            "technosphere_nnz": int(self.A.nnz),
            "biosphere_entries": len(self.biosphere),
            "biosphere_nnz": int(self.B.nnz),
            "characterization_nnz": int(self.C.nnz),
            "uncertain_entries": int(
                self.technosphere.uncertain.sum()
                + self.biosphere.uncertain.sum()
                + self.characterization.uncertain.sum()
            ),
        }

    def __repr__(self) -> str:
        d = self.describe()
        return (
            f"<System {d['activities']} activities, {d['flows']} flows, "
            f"{d['categories']} categories; A nnz {d['technosphere_nnz']}, "
            f"B nnz {d['biosphere_nnz']}>"
        )


def _alternative_id(x: Hashable) -> Hashable | None:
    """The other common spelling of an id: ``int`` for a numeric string, ``str`` for an int."""
    if isinstance(x, str):
        try:
            return int(x)
        except ValueError:
            return None
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return None
