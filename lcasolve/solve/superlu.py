"""SuperLU backend (always available, from scipy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from lcasolve.solve._base import Factorization
from lcasolve.solve._checks import check_structure, diagnose_numerical

__all__ = ["SuperLUFactorization"]


class SuperLUFactorization(Factorization):
    """SuperLU of ``Aᵀ`` (far less fill-in than ``A`` on LCA matrices); solves use ``trans``."""

    backend = "superlu"

    def __init__(self, A: sp.spmatrix, labels: Sequence[object] | None = None) -> None:  # noqa: N803
        super().__init__(A, labels)
        check_structure(self.A, self.labels)
        try:
            self._lu = splu(self.AT, permc_spec="COLAMD")
        except RuntimeError as exc:
            diagnose_numerical(self.A, self.labels, f"SuperLU: {exc}")
            raise

    @property
    def factor_nnz(self) -> int:
        """Entries in L and U."""
        return int(self._lu.L.nnz + self._lu.U.nnz)

    def _solve(self, b: np.ndarray, transposed: bool) -> np.ndarray:
        # The factors are of Aᵀ: A x = b is the transposed solve of those factors.
        return self._lu.solve(b, trans="N" if transposed else "T")
