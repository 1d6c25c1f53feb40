"""What every hotspot analysis of one system reads: ``A`` by columns, ``λ``, direct scores per unit.

Built once per :class:`~lcasolve.lca.LCA` from the all-activity scores ``λ`` of one adjoint solve
(``Aᵀ λ = (C B)ᵀ``); trees, graphs and paths then only walk sparse columns of ``A``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import InputError, InvalidParameterError
from lcasolve.model import System

__all__ = [
    "Basis",
    "Totals",
    "check_cutoff",
    "check_max_depth",
    "check_max_nodes",
    "check_settings",
]

#: link-report issues whose exchanges were cut off as inputs (co-product outputs are not inputs)
UNLINKED_ISSUES = frozenset({"unlinked", "provider outside data", "ambiguous"})


@dataclass(frozen=True, eq=False)
class Basis:
    """``A`` in canonical CSC form, ``λ`` and ``(C B)ᵀ`` for one system (read-only).

    Attributes
    ----------
    system : System
    lam : numpy.ndarray
        ``(n, k)``: score per unit of each product, per category.
    unit_direct : numpy.ndarray
        ``(n, k)``: direct score of one unit of each activity, ``(C B)ᵀ``.
    indptr, indices, data : numpy.ndarray
        CSC arrays of ``A`` (duplicates summed, rows sorted within each column).
    diag : numpy.ndarray
        Production of each activity's reference product, ``A[j, j]``.
    """

    system: System
    lam: np.ndarray
    unit_direct: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    diag: np.ndarray

    @classmethod
    def build(cls, system: System, lam: np.ndarray) -> Basis:
        """Prepare a system and its all-activity scores ``λ`` (``(n, k)`` or ``(n,)``)."""
        lam = np.asarray(lam, dtype=np.float64)
        if lam.ndim == 1:
            lam = lam[:, None]
        lam = np.ascontiguousarray(lam)
        A = sp.csc_matrix(system.A, copy=True)  # noqa: N806
        A.sum_duplicates()
        A.sort_indices()
        unit_direct = np.ascontiguousarray(system.CB.T.toarray(), dtype=np.float64)
        if lam.shape != unit_direct.shape:
            raise InputError(
                f"activity scores have shape {lam.shape}; the system needs "
                f"{unit_direct.shape} (activities x categories)"
            )
        for arr in (lam, unit_direct):
            arr.setflags(write=False)
        return cls(
            system=system,
            lam=lam,
            unit_direct=unit_direct,
            indptr=A.indptr.astype(np.int64),
            indices=A.indices.astype(np.int64),
            data=A.data,
            diag=np.asarray(A.diagonal(), dtype=np.float64),
        )

    @property
    def n_categories(self) -> int:
        """Number of impact categories ``k``."""
        return int(self.lam.shape[1])

    def category(self, category: Hashable | None) -> int:
        """Row of ``C`` for a category id or name (the only one when ``None``)."""
        if category is None:
            if self.system.n_categories != 1:
                raise InputError(
                    f"the system has {self.system.n_categories} impact categories; name one of "
                    f"{self.system.categories['name'].tolist()}"
                )
            return 0
        return self.system.category_position(category)

    @cached_property
    def n_inputs(self) -> np.ndarray:
        """Number of nonzero off-diagonal entries (inputs, co-products) in each column."""
        col = np.repeat(np.arange(self.diag.size), np.diff(self.indptr))
        off = (self.indices != col) & (self.data != 0)
        return np.bincount(col[off], minlength=self.diag.size).astype(np.int64)

    @cached_property
    def unlinked(self) -> Unlinked:
        """The inputs each activity has that the linker cut off (from the link report)."""
        return Unlinked.from_system(self.system)


@dataclass(frozen=True, eq=False)
class Unlinked:
    """Cut-off inputs per activity (CSR-like): ``flow_name[indptr[j]:indptr[j+1]]`` for ``j``.

    ``amount`` is per unit of the activity's supply (the exchange as recorded, since the column
    of ``A`` is the process as recorded); it is NaN for a column of an allocated multi-output
    process, whose share of the exchange the link report does not give.
    """

    indptr: np.ndarray
    flow: np.ndarray
    flow_name: np.ndarray
    amount: np.ndarray
    issue: np.ndarray

    @classmethod
    def from_system(cls, system: System) -> Unlinked:
        """Read ``system.metadata["link_report"]`` (empty when the system has none)."""
        acts = system.activities
        key = "process_id" if "process_id" in acts.columns else "id"
        columns: dict[Hashable, list[int]] = defaultdict(list)
        for j, pid in enumerate(acts[key].tolist()):
            columns[pid].append(j)
        per: dict[int, list[tuple[str, str, float, str]]] = defaultdict(list)
        for entry in system.metadata.get("link_report", ()) or ():
            if entry.get("issue") not in UNLINKED_ISSUES or entry.get("action") != "cut off":
                continue
            cols = columns.get(entry.get("process"), [])
            amount = float(entry.get("amount", np.nan)) if len(cols) == 1 else np.nan
            for j in cols:
                per[j].append(
                    (
                        str(entry.get("flow", "")),
                        str(entry.get("flow_name", "")),
                        amount,
                        str(entry.get("issue", "")),
                    )
                )
        n = system.n_activities
        counts = np.zeros(n, dtype=np.int64)
        for j, items in per.items():
            counts[j] = len(items)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        rows = [item for j in sorted(per) for item in per[j]]
        flow = np.array([r[0] for r in rows], dtype=object)
        name = np.array([r[1] for r in rows], dtype=object)
        amounts = np.array([r[2] for r in rows], dtype=np.float64)
        issue = np.array([r[3] for r in rows], dtype=object)
        return cls(indptr, flow, name, amounts, issue)

    def count(self, j: int) -> int:
        """How many cut-off inputs activity ``j`` has."""
        return int(self.indptr[j + 1] - self.indptr[j])


@dataclass(frozen=True)
class Totals:
    """Net, positive and negative totals of one score, from the activities' direct scores.

    ``gross = positive - negative`` (the sum of absolute contributions) is the base of every
    cut-off, so that credits (negative contributions) are judged by their size.
    """

    net: float
    positive: float
    negative: float

    @property
    def gross(self) -> float:
        """Sum of the absolute contributions of all activities."""
        return self.positive - self.negative

    @classmethod
    def from_supply(cls, basis: Basis, supply: np.ndarray, k: int, net: float) -> Totals:
        """Split the score of a supply ``s`` into its positive and negative contributions."""
        contrib = basis.unit_direct[:, k] * supply
        return cls(
            net=float(net),
            positive=float(contrib[contrib > 0].sum()),
            negative=float(contrib[contrib < 0].sum()),
        )

    def share(self, values: np.ndarray) -> np.ndarray:
        """Signed shares of the net total (NaN when the net total is zero)."""
        if self.net == 0:
            return np.full(np.shape(values), np.nan)
        return np.asarray(values) / self.net


def check_cutoff(cutoff: float, name: str = "cutoff") -> float:
    """A cut-off must be a number in the open interval (0, 1)."""
    try:
        value = float(cutoff)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number in (0, 1), got {cutoff!r}") from None
    if not 0.0 < value < 1.0:
        raise InvalidParameterError(f"{name} must be in (0, 1), got {cutoff!r}")
    return value


def check_max_nodes(max_nodes: int, name: str = "max_nodes") -> int:
    """A node budget must be an integer >= 1."""
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)):
        raise InvalidParameterError(f"{name} must be an integer >= 1, got {max_nodes!r}")
    if max_nodes < 1:
        raise InvalidParameterError(f"{name} must be >= 1, got {max_nodes}")
    return int(max_nodes)


def check_max_depth(max_depth: int | None) -> int | None:
    """A depth limit is ``None`` (none) or an integer >= 0."""
    if max_depth is None:
        return None
    if isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer)):
        raise InvalidParameterError(f"max_depth must be None or an integer >= 0, got {max_depth!r}")
    if max_depth < 0:
        raise InvalidParameterError(f"max_depth must be >= 0, got {max_depth}")
    return int(max_depth)


def check_settings(
    *,
    cutoff: float | None = None,
    max_depth: int | None = None,
    max_nodes: int | None = None,
    min_share: float | None = None,
    top: int | None = None,
) -> None:
    """Check the settings of a hotspot analysis before any solve (``None``: not given).

    Raises
    ------
    InvalidParameterError
        Naming the first setting out of range.
    """
    if cutoff is not None:
        check_cutoff(cutoff)
    check_max_depth(max_depth)
    if max_nodes is not None:
        check_max_nodes(max_nodes)
    if min_share is not None:
        check_cutoff(min_share, "min_share")
    if top is not None:
        check_max_nodes(top, "top")
