"""Screening with local importance: which entries can matter for the variance of a score.

The first-order (linearized) variance of ``h`` is ``Σ_x (∂h/∂x · σ_x)²`` over every uncertain
entry ``x``; each entry's share of it is its estimated contribution to variance. Screening keeps
the entries that together explain ``coverage`` of that sum plus every entry above ``min_share``,
so that a global analysis on a 20k-activity database records only a few hundred inputs.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lcasolve.errors import InputError
from lcasolve.sensitivity.local import MATRICES, LocalSensitivity

__all__ = ["Screening", "screen"]


@dataclass(frozen=True, eq=False)
class Screening:
    """Entries kept by :func:`screen`.

    Attributes
    ----------
    record : dict
        ``{matrix: entry indices}``, ready for ``MonteCarlo.run(record=...)``.
    share : dict
        ``{matrix: first-order variance share of each kept entry}`` (same order as ``record``).
    explained : float
        First-order share of variance the kept entries explain (Σ of ``share``).
    n_uncertain : int
        Entries with a nonzero first-order contribution before screening.
    table : pandas.DataFrame
        The kept entries with ids, names, sensitivities and shares, largest share first.
    """

    record: dict[str, np.ndarray]
    share: dict[str, np.ndarray]
    explained: float
    n_uncertain: int
    table: pd.DataFrame

    @property
    def n_kept(self) -> int:
        """Number of kept entries."""
        return int(sum(len(v) for v in self.record.values()))

    def _repr_html_(self) -> str:
        return (
            f"<p>{self.n_kept} of {self.n_uncertain} uncertain entries kept, explaining "
            f"{self.explained:.2%} of the first-order variance</p>" + self.table.head(20).to_html()
        )


def screen(
    local: LocalSensitivity,
    category: Hashable | None = None,
    *,
    coverage: float = 0.999,
    min_share: float = 1e-3,
    max_inputs: int | None = None,
) -> Screening:
    """Keep the entries whose first-order variance share can matter.

    Parameters
    ----------
    local : LocalSensitivity
        From :func:`~lcasolve.sensitivity.local_sensitivities`.
    category : id or name, optional
        Default: the first category of ``local``.
    coverage : float
        Keep the largest contributors until they explain this share of the first-order variance.
    min_share : float
        Also keep every entry whose share is at least this.
    max_inputs : int, optional
        Cap on the number kept (largest first).

    Returns
    -------
    Screening
    """
    if not 0.0 < coverage <= 1.0:
        raise InputError(f"coverage must be in (0, 1], got {coverage}")
    if min_share < 0:
        raise InputError(f"min_share must be >= 0, got {min_share}")
    shares = local.variance_share(category)
    mat = np.concatenate([np.full(len(shares[m]), i) for i, m in enumerate(MATRICES)])
    ent = np.concatenate([np.arange(len(shares[m])) for m in MATRICES])
    val = np.concatenate([shares[m] for m in MATRICES])
    nz = np.flatnonzero(val > 0)
    order = nz[np.argsort(-val[nz], kind="stable")]
    cum = np.cumsum(val[order])
    n_cov = int(np.searchsorted(cum, coverage * (cum[-1] if len(cum) else 0.0)) + 1)
    n_min = int(np.count_nonzero(val[order] >= min_share))
    n = min(max(n_cov, n_min), len(order))
    if max_inputs is not None:
        n = min(n, int(max_inputs))
    kept = order[:n]
    record, share = {}, {}
    for i, m in enumerate(MATRICES):
        sel = kept[mat[kept] == i]
        sel = sel[np.argsort(ent[sel], kind="stable")]
        record[m] = ent[sel].astype(np.int64)
        share[m] = val[sel]
    frame = local.to_frame(category, rank_by="importance")
    keys = set(zip(np.asarray(MATRICES)[mat[kept]].tolist(), ent[kept].tolist(), strict=True))
    mask = [
        (m, e) in keys
        for m, e in zip(frame["matrix"].tolist(), frame["entry"].tolist(), strict=True)
    ]
    return Screening(
        record=record,
        share=share,
        explained=float(val[kept].sum()),
        n_uncertain=len(order),
        table=frame[mask].reset_index(drop=True),
    )
