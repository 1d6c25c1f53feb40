"""UMFPACK backend (``scikit-umfpack``, optional; it does not build on every platform)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import MissingExtraError
from lcasolve.solve._base import Factorization
from lcasolve.solve._checks import check_structure, diagnose_numerical

__all__ = ["UmfpackFactorization"]


class UmfpackFactorization(Factorization):
    """UMFPACK LU of ``A``; transposed solves use UMFPACK's ``Aᵀ`` system."""

    backend = "umfpack"

    def __init__(self, A: sp.spmatrix, labels: Sequence[object] | None = None) -> None:  # noqa: N803
        super().__init__(A, labels)
        try:
            from scikits.umfpack import splu as umf_splu
        except ImportError:
            raise MissingExtraError(
                "scikit-umfpack", "umfpack", "the UMFPACK solver backend"
            ) from None
        check_structure(self.A, self.labels)
        try:
            self._lu = umf_splu(self.A)
        except RuntimeError as exc:
            diagnose_numerical(self.A, self.labels, f"UMFPACK: {exc}")
            raise

    @property
    def factor_nnz(self) -> int:
        """Entries in L and U."""
        return int(self._lu.nnz)

    def _solve(self, b: np.ndarray, transposed: bool) -> np.ndarray:
        trans = "T" if transposed else "N"
        if b.ndim == 1:
            return self._lu.solve(b, trans)
        return np.column_stack([self._lu.solve(b[:, j], trans) for j in range(b.shape[1])])
