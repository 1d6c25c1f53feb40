"""PARDISO backend (Intel MKL through ``pypardiso``, optional).

pypardiso keeps its solver state in the solver object; each factorization owns its own
``PyPardisoSolver`` and every call on it is serialized by a lock, so a factorization can be
shared between threads (calls then run one at a time).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import MissingExtraError
from lcasolve.solve._base import Factorization
from lcasolve.solve._checks import check_structure, confirm_singular, diagnose_numerical

__all__ = ["PardisoFactorization"]


class PardisoFactorization(Factorization):
    """PARDISO LU of ``A`` (CSR); transposed solves use PARDISO's ``iparm[11]=2``."""

    backend = "pardiso"

    def __init__(self, A: sp.spmatrix, labels: Sequence[object] | None = None) -> None:  # noqa: N803
        super().__init__(A, labels)
        try:
            from pypardiso import PyPardisoSolver
        except ImportError:
            raise MissingExtraError("pypardiso", "pardiso", "the PARDISO solver backend") from None
        check_structure(self.A, self.labels)
        self._lock = threading.Lock()
        self._csr = sp.csr_matrix(self.A)
        self._csr.sort_indices()
        self._solver = PyPardisoSolver(mtype=11)
        try:
            self._solver.factorize(self._csr)
        except Exception as exc:  # pypardiso raises PyPardisoError on a zero pivot
            diagnose_numerical(self.A, self.labels, f"PARDISO: {exc}")
            raise
        if int(self._solver.iparm[13]) > 0:
            # PARDISO perturbs tiny pivots instead of failing
            confirm_singular(
                self.A,
                self.AT,
                self.labels,
                f"PARDISO perturbed {int(self._solver.iparm[13])} pivots",
            )

    @property
    def factor_nnz(self) -> int:
        """Entries in L and U as PARDISO reports them (``iparm[17]``)."""
        return abs(int(self._solver.iparm[17]))

    def _solve(self, b: np.ndarray, transposed: bool) -> np.ndarray:
        with self._lock:
            if transposed:
                self._solver.set_iparm(12, 2)
            try:
                self._solver.set_phase(33)
                rhs = self._solver._check_b(self._csr, b)  # noqa: SLF001
                x = self._solver._call_pardiso(self._csr, rhs)  # noqa: SLF001
            finally:
                if transposed:
                    self._solver.set_iparm(12, 0)
        return np.asarray(x).reshape(b.shape)
