"""PAS 2050 style cut-off check: each excluded input < 1 %, all excluded <= 5 % of the total."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError
from lcasolve.lca import LCA
from lcasolve.model import System
from lcasolve.pcf.footprint import _category

__all__ = ["CutoffCheck", "cutoff_check"]


@dataclass(frozen=True, eq=False)
class CutoffCheck:
    """Result of a cut-off check.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per input of the checked activities: ``consumer``, ``input`` (product id),
        ``name``, ``amount`` (per unit of the consumer, source sign), ``score`` (its cradle-to-gate
        contribution to the total, ``-a_ij s_j λ_i``), ``share``, ``below_each`` (``|share|`` under
        the per-input limit) and ``excluded``.
    total : float
    each, overall : float
        Limits as fractions (PAS 2050: 0.01 and 0.05).
    """

    table: pd.DataFrame
    total: float
    each: float
    overall: float

    @property
    def flagged(self) -> pd.DataFrame:
        """Inputs whose share is below the per-input limit (candidates for exclusion)."""
        return self.table[self.table["below_each"]]

    @property
    def excluded(self) -> pd.DataFrame:
        """Inputs that are excluded (given, or by default the flagged ones)."""
        return self.table[self.table["excluded"]]

    @property
    def excluded_share(self) -> float:
        """Sum of the absolute shares of the excluded inputs."""
        return float(self.excluded["share"].abs().sum())

    @property
    def violations(self) -> list[str]:
        """Human-readable reasons the exclusions fail the rules (empty when they pass)."""
        out = [
            f"input {r.input} ({r.name}) of {r.consumer}: {abs(r.share):.2%} >= {self.each:.0%}"
            for r in self.excluded.itertuples(index=False)
            if not r.below_each
        ]
        if self.excluded_share > self.overall:
            out.append(f"all excluded inputs: {self.excluded_share:.2%} > {self.overall:.0%}")
        return out

    @property
    def passes(self) -> bool:
        """True when every excluded input is below ``each`` and together they are <= ``overall``."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "each": self.each,
            "overall": self.overall,
            "passes": self.passes,
            "excluded_share": self.excluded_share,
            "violations": self.violations,
            "excluded": [
                {
                    "consumer": str(r.consumer),
                    "input": str(r.input),
                    "name": str(r.name),
                    "score": float(r.score),
                    "share": float(r.share),
                }
                for r in self.excluded.itertuples(index=False)
            ],
        }

    def _repr_html_(self) -> str:
        status = "passes" if self.passes else "fails: " + "; ".join(self.violations)
        return f"<p>Cut-off check {status}</p>" + self.table.to_html(float_format="%.4g")


def cutoff_check(
    lca_or_system: LCA | System,
    demand: Mapping[Hashable, float],
    category: Hashable | None = None,
    *,
    activities: Iterable[Hashable] | None = None,
    excluded: Iterable[tuple[Hashable, Hashable] | Hashable] | None = None,
    each: float = 0.01,
    overall: float = 0.05,
) -> CutoffCheck:
    """Check which inputs could be cut off, or whether given exclusions meet the rules.

    The contribution of input ``i`` of activity ``j`` is its cradle-to-gate score
    ``-a_ij s_j λ_i`` (``λ`` = all-activity scores), the first-order change of the total when the
    input is removed.

    Parameters
    ----------
    lca_or_system : LCA or System
    demand : mapping
        Functional unit ``{product id: amount}``.
    category : id or name, optional
    activities : iterable of activity ids, optional
        Activities whose inputs are checked (default: the providers of the demanded products).
    excluded : iterable, optional
        Inputs to check as excluded: input product ids, or ``(consumer activity id, input
        product id)`` pairs. Default: every input below ``each``.
    each, overall : float
        Per-input and overall limits as fractions of the total (PAS 2050: 1 % and 5 %).

    Returns
    -------
    CutoffCheck
    """
    if not (0 < each <= 1 and 0 < overall <= 1):
        raise InputError(f"limits must be in (0, 1]; got each={each}, overall={overall}")
    lca = lca_or_system if isinstance(lca_or_system, LCA) else LCA(lca_or_system)
    system = lca.system
    k = _category(system, category)
    res = lca.calculate(demand)
    lam = lca.activity_scores().lam[:, k]
    total = float(system.C.getrow(k).toarray().ravel() @ res.inventory)
    if total == 0:
        raise InputError("the footprint is zero; shares of a cut-off check are undefined")
    acts = system.activities
    if activities is None:
        cols = sorted({system.product_position(p) for p in demand})
    else:
        index = system.activity_index
        missing = [a for a in activities if a not in index]
        if missing:
            raise InputError(f"activities not in the system: {missing[:10]}")
        cols = sorted({index[a] for a in activities})
    te = system.technosphere
    row, col, val = np.asarray(te.row), np.asarray(te.col), np.asarray(te.value)
    mask = np.isin(col, cols) & (row != col) & (val != 0)
    r, c, v = row[mask], col[mask], val[mask]
    score = -v * res.supply[c] * lam[r]
    share = score / total
    ids = acts["id"].to_numpy()
    table = pd.DataFrame(
        {
            "consumer": ids[c],
            "input": acts["product_id"].to_numpy()[r],
            "name": acts["product"].to_numpy()[r]
            if "product" in acts
            else acts["name"].to_numpy()[r],
            "amount": -v,
            "score": score,
            "share": share,
            "below_each": np.abs(share) < each,
        }
    )
    table = table.groupby(["consumer", "input"], sort=False, as_index=False).agg(
        name=("name", "first"),
        amount=("amount", "sum"),
        score=("score", "sum"),
        share=("share", "sum"),
    )
    table["below_each"] = table["share"].abs() < each
    if excluded is None:
        table["excluded"] = table["below_each"]
    else:
        marks = np.zeros(len(table), dtype=bool)
        unknown = []
        for item in excluded:
            if isinstance(item, tuple):
                hit = (table["consumer"] == item[0]) & (table["input"] == item[1])
            else:
                hit = table["input"] == item
            if not hit.any():
                unknown.append(item)
            marks |= hit.to_numpy()
        if unknown:
            raise InputError(f"excluded inputs not among the checked inputs: {unknown[:10]}")
        table["excluded"] = marks
    order = np.argsort(-table["share"].abs().to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    return CutoffCheck(table=table, total=total, each=each, overall=overall)
