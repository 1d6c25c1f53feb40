"""Build a :class:`~lcasolve.model.System` from entries addressed by source ids."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import (
    InvalidProductionError,
    ShapeMismatchError,
    format_ids,
)
from lcasolve.model.entries import Entries
from lcasolve.model.system import ACTIVITY_COLUMNS, CATEGORY_COLUMNS, FLOW_COLUMNS, System
from lcasolve.model.table import TableSource
from lcasolve.model.table import column as _col
from lcasolve.model.table import has_column as _has

if TYPE_CHECKING:
    import pandas as pd

#: a table given to :func:`build_system`: a DataFrame, or its columns (name -> values)
TableLike = Any

__all__ = ["IdEntries", "build_system", "match_products"]


@dataclass(frozen=True, eq=False)
class IdEntries:
    """Matrix entries addressed by source ids instead of positions.

    Attributes
    ----------
    row_ids, col_ids : numpy.ndarray
        Object or integer arrays of ids (product/flow/category ids for rows; activity/flow ids for
        columns).
    value : numpy.ndarray
        Signed values as they enter the matrix.
    uncertainty : numpy.ndarray or None
        stats_arrays records (source sign), one per entry.
    flip : numpy.ndarray or None
        Where True, ``value`` is the negated source amount.
    """

    row_ids: np.ndarray
    col_ids: np.ndarray
    value: np.ndarray
    uncertainty: np.ndarray | None = None
    flip: np.ndarray | None = None

    @classmethod
    def from_triplets(cls, triplets: Sequence[tuple[Hashable, Hashable, float]]) -> IdEntries:
        """Entries from ``(row id, column id, value)`` tuples, without uncertainty."""
        rows, cols, vals = zip(*triplets, strict=True) if triplets else ((), (), ())
        return cls(_id_array(rows), _id_array(cols), np.asarray(vals, dtype=np.float64))

    def __len__(self) -> int:
        return int(np.asarray(self.value).shape[0])

    def to_entries(
        self,
        row_index: Mapping[Hashable, int],
        col_index: Mapping[Hashable, int],
        shape: tuple[int, int],
        *,
        name: str,
    ) -> Entries:
        """Translate ids to positions and validate."""
        row = _positions(self.row_ids, row_index, f"{name} row")
        col = _positions(self.col_ids, col_index, f"{name} column")
        return Entries.create(
            shape, row, col, self.value, uncertainty=self.uncertainty, flip=self.flip, name=name
        )


def _id_array(ids: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    out = np.empty(len(ids), dtype=object)
    out[:] = list(ids)
    return out


def _positions(ids: np.ndarray, index: Mapping[Hashable, int], what: str) -> np.ndarray:
    ids = np.asarray(ids)
    if (
        ids.dtype.kind in "iu"
        and index
        and all(issubclass(t, (int, np.integer)) for t in set(map(type, index)))
    ):
        keys = np.fromiter(index.keys(), dtype=np.int64, count=len(index))
        vals = np.fromiter(index.values(), dtype=np.int64, count=len(index))
        order = np.argsort(keys)
        keys, vals = keys[order], vals[order]
        ids = ids.astype(np.int64, copy=False)
        if keys[-1] - keys[0] == keys.shape[0] - 1:  # consecutive ids (1..n): no search
            pos = np.clip(ids - keys[0], 0, keys.shape[0] - 1)
        else:
            pos = np.searchsorted(keys, ids)
        pos = np.minimum(pos, keys.shape[0] - 1)
        found = keys[pos] == ids
        if not found.all():
            missing = np.unique(ids[~found])
            raise ShapeMismatchError(f"{what} ids not in the tables: {format_ids(missing)}")
        return vals[pos]
    out = np.empty(ids.shape[0], dtype=np.int64)
    missing_ids = []
    for i, x in enumerate(ids.tolist()):
        j = index.get(x)
        if j is None:
            missing_ids.append(x)
        else:
            out[i] = j
    if missing_ids:
        raise ShapeMismatchError(
            f"{what} ids not in the tables: {format_ids(sorted(set(map(str, missing_ids))))}"
        )
    return out


def _sorted_unique(ids: np.ndarray) -> list[Hashable]:
    ids = np.asarray(ids)
    if ids.dtype.kind == "i" and ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo < 4 * ids.size:  # dense ids (1..n): mark them instead of sorting
            seen = np.zeros(hi - lo + 1, dtype=bool)
            seen[ids - lo] = True
            marked: list[Hashable] = [*(np.flatnonzero(seen) + lo).tolist()]
            return marked
    if ids.dtype.kind in "iu":
        return np.unique(ids).tolist()
    uniq = list(dict.fromkeys(ids.tolist()))
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def match_products(
    product_ids: Sequence[Hashable], activity_ids: Sequence[Hashable], technosphere: IdEntries
) -> list[Hashable]:
    """Find the reference product of each activity so that production lands on the diagonal.

    When product ids and activity ids are the same set (brightway's usual layout), product ``j``
    is activity ``j``. Otherwise each activity is matched to a product it produces (a positive
    entry) by maximum bipartite matching.

    Parameters
    ----------
    product_ids, activity_ids : sequence
        The distinct ids; their counts must be equal.
    technosphere : IdEntries
        Technosphere entries (production positive).

    Returns
    -------
    list
        The product id of each activity, in ``activity_ids`` order.

    Raises
    ------
    ShapeMismatchError
        If there are not as many products as activities.
    InvalidProductionError
        If some activities cannot be matched to a product they produce (names them).
    """
    if len(product_ids) != len(activity_ids):
        raise ShapeMismatchError(
            f"the technosphere is not square: {len(product_ids)} products and "
            f"{len(activity_ids)} activities"
        )
    if set(product_ids) == set(activity_ids):
        return list(activity_ids)
    p_index = {p: i for i, p in enumerate(product_ids)}
    a_index = {a: j for j, a in enumerate(activity_ids)}
    rows = _positions(technosphere.row_ids, p_index, "technosphere row")
    cols = _positions(technosphere.col_ids, a_index, "technosphere column")
    n = len(activity_ids)
    prod = sp.csc_matrix((np.asarray(technosphere.value, dtype=float), (rows, cols)), shape=(n, n))
    prod.sum_duplicates()
    prod.data[prod.data <= 0] = 0
    prod.eliminate_zeros()
    # For each activity (column), the product (row) it is matched to.
    from scipy.sparse.csgraph import maximum_bipartite_matching  # 0.1 s import

    match = maximum_bipartite_matching(prod.tocsr(), perm_type="row")
    unmatched = np.flatnonzero(match < 0)
    if unmatched.size:
        raise InvalidProductionError(
            f"{unmatched.size} activities cannot be matched to a product they produce (no "
            f"positive technosphere entry left for them): "
            f"{format_ids([activity_ids[int(j)] for j in unmatched])}"
        )
    return [product_ids[i] for i in match]


def _is_frame(table: Any) -> bool:
    return hasattr(table, "iloc")


def _set(table: Any, name: str, values: list[Any], *, ids: bool = False) -> None:
    """Set a column of a DataFrame or a :class:`TableSource` (``ids``: object dtype)."""
    if isinstance(table, TableSource):
        table.columns[name] = values
        if ids and name not in table.object_columns:
            table.object_columns = (*table.object_columns, name)
        return
    import pandas as pd

    table[name] = pd.Series(values, dtype=object) if ids else values


def _table(
    table: TableLike | None, ids: list[Hashable], columns: Sequence[str], what: str
) -> pd.DataFrame | TableSource:
    """The table of ``ids`` with every required column.

    A DataFrame when one is given, else a :class:`TableSource` (built into a DataFrame when
    the system's attribute is first read).
    """
    if table is None:
        source = TableSource({"id": list(ids)})
    elif _is_frame(table):
        source = None
        table = table.reset_index(drop=True).copy()
    else:
        source = TableSource({k: list(v) for k, v in table.items()})
    if table is not None:  # (its 'id' column is checked by build_system)
        given = _col(table, "id")
        known = set(given)
        missing = [x for x in ids if x not in known]
        if missing:
            raise ShapeMismatchError(
                f"ids used in the matrices are missing from the {what} table: {format_ids(missing)}"
            )
        if len(known) < len(given):
            seen: set[Hashable] = set()
            dup = [x for x in given if x in seen or seen.add(x)]  # type: ignore[func-returns-value]
            raise ShapeMismatchError(f"duplicate ids in the {what} table: {format_ids(dup)}")
    out = source if source is not None else table
    for col in columns:
        if not _has(out, col):
            _set(out, col, [str(x) for x in _col(out, "id")] if col == "name" else [""] * len(ids))
    return out


def build_system(
    technosphere: IdEntries | Sequence[tuple[Hashable, Hashable, float]],
    biosphere: IdEntries | Sequence[tuple[Hashable, Hashable, float]] = (),
    characterization: IdEntries | Mapping[Hashable, Mapping[Hashable, float]] | None = None,
    *,
    activities: TableLike | None = None,
    flows: TableLike | None = None,
    categories: TableLike | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> System:
    """Build a system from entries addressed by ids.

    Parameters
    ----------
    technosphere : IdEntries or sequence of (product id, activity id, value)
        Technosphere entries as they enter ``A`` (production positive, inputs negative).
        Duplicates are summed.
    biosphere : IdEntries or sequence of (flow id, activity id, value)
        Biosphere entries.
    characterization : IdEntries or mapping, optional
        ``{category: {flow id: factor}}``, or entries with category ids as rows and flow ids as
        columns.
    activities, flows, categories : pandas.DataFrame or mapping, optional
        Tables with an ``id`` column, as DataFrames or as ``{column: values}``; their order
        defines positions. When omitted, the ids found in the entries, sorted, are used. Tables
        not given as DataFrames become DataFrames when the system's attribute is first read.
    metadata : mapping, optional
        Stored on the system.

    Returns
    -------
    System

    Examples
    --------
    >>> from lcasolve.model import build_system
    >>> system = build_system(
    ...     [(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5)],
    ...     [("CO2", 1, 1.0), ("CO2", 2, 2.0)],
    ...     {"GWP100": {"CO2": 1.0}},
    ... )
    >>> system.n_activities
    2
    """
    tech = (
        technosphere
        if isinstance(technosphere, IdEntries)
        else IdEntries.from_triplets(list(technosphere))
    )
    bio = (
        biosphere if isinstance(biosphere, IdEntries) else IdEntries.from_triplets(list(biosphere))
    )
    if characterization is None:
        char = IdEntries.from_triplets([])
    elif isinstance(characterization, IdEntries):
        char = characterization
    else:
        char = IdEntries.from_triplets(
            [(cat, flow, cf) for cat, cfs in characterization.items() for flow, cf in cfs.items()]
        )

    for table, what in ((activities, "activity"), (flows, "flow"), (categories, "category")):
        if table is not None and not _has(table, "id"):
            raise ShapeMismatchError(f"the {what} table needs an 'id' column")
    if activities is not None:
        activity_ids = _col(activities, "id")
    else:
        activity_ids = _sorted_unique(tech.col_ids)
    product_ids = _sorted_unique(tech.row_ids)
    if activities is not None and _has(activities, "product_id"):
        matched = _col(activities, "product_id")
        if sorted(map(str, matched)) != sorted(map(str, product_ids)):
            unknown = set(map(str, product_ids)) - set(map(str, matched))
            raise ShapeMismatchError(
                f"the activity table's product_id column does not list the technosphere's "
                f"products; not listed: {format_ids(sorted(unknown))}"
            )
    else:
        matched = match_products(product_ids, activity_ids, tech)

    act_table = _table(activities, activity_ids, ACTIVITY_COLUMNS, "activity")
    _set(act_table, "product_id", list(matched), ids=True)
    if activities is None or not _has(activities, "product"):
        _set(act_table, "product", _col(act_table, "name"))

    flow_ids = (
        _col(flows, "id")
        if flows is not None
        else _sorted_unique(np.concatenate([_id_array(bio.row_ids), _id_array(char.col_ids)]))
        if len(bio) + len(char)
        else []
    )
    flow_table = _table(flows, flow_ids, FLOW_COLUMNS, "flow")
    cat_ids = _col(categories, "id") if categories is not None else _sorted_unique(char.row_ids)
    cat_table = _table(categories, cat_ids, CATEGORY_COLUMNS, "category")
    if categories is None:
        _set(cat_table, "name", [_category_name(c) for c in cat_ids])

    n, m, k = len(activity_ids), len(flow_table), len(cat_table)
    p_index = {p: i for i, p in enumerate(matched)}
    a_index = {a: j for j, a in enumerate(_col(act_table, "id"))}
    f_index = {f: i for i, f in enumerate(_col(flow_table, "id"))}
    c_index = {c: i for i, c in enumerate(_col(cat_table, "id"))}
    return System(
        technosphere=tech.to_entries(p_index, a_index, (n, n), name="technosphere"),
        biosphere=bio.to_entries(f_index, a_index, (m, n), name="biosphere"),
        characterization=char.to_entries(c_index, f_index, (k, m), name="characterization"),
        activities=act_table,
        flows=flow_table,
        categories=cat_table,
        metadata=dict(metadata or {}),
    )


def _category_name(category: Hashable) -> str:
    if isinstance(category, tuple):
        return " | ".join(str(x) for x in category)
    return str(category)
