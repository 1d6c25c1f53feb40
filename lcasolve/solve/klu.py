"""KLU backend (SuiteSparse KLU from the ``kvxopt`` binary wheels).

KLU is made for matrices like an LCA technosphere: it permutes the matrix to block triangular
form itself, orders each diagonal block with AMD and factorizes it with a left-looking LU with
partial pivoting. Its symbolic phase (block-triangular form and orderings, a property of the
pattern alone) and its numeric phase are separate, so :meth:`KLUFactorization.refactorize`
with new values on the same pattern runs only the numeric phase again, and both ``A x = b`` and
``Aᵀ x = b`` are solved from one factorization.

Chosen by measurement (``benchmarks/bench_solvers.py``, eco20k, ``results/solvers.json``): KLU
of the whole matrix (same fill-in, 0.96 M entries, in either orientation) against UMFPACK from
the same wheel (on ``A`` 1.2 s with 3.4× the fill-in; on ``Aᵀ`` 0.07–0.10 s but 8–13 ms a
solve) and lcasolve's own block-triangular order with KLU, SuperLU or UMFPACK on the cyclic
blocks (KLU there saves a little numeric time but needs the Numba kernels of the substitution,
whose load costs more on a first solve). Orientation: KLU of ``Aᵀ``, whose solves in both
directions are 25–45 % faster than those of KLU of ``A`` (eco20k: 1.5 vs 2.8 ms unloaded, 2.3
vs 3.1 ms loaded), at the price of a slower numeric phase (0.08 vs 0.06 s unloaded): a further
demand is all solve, and what the target of 2 ms needs. Ordering: kvxopt's module runs AMD
on each block with its default dense-row threshold, slow on the popular suppliers' rows; where
kvxopt's wheel ships the KLU library, :mod:`lcasolve.solve._libklu` calls it directly with AMD
at a lower threshold (eco20k: symbolic phase 0.024 vs 0.106 s of CPU, 5 % more fill-in, solves
within 5 %).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import MissingExtraError
from lcasolve.solve import _libklu
from lcasolve.solve._base import Factorization
from lcasolve.solve._checks import check_structure, diagnose_numerical

__all__ = ["KLUFactorization", "klu_available"]


def klu_available() -> bool:
    """Whether ``kvxopt`` (with its KLU module) can be imported."""
    try:
        import kvxopt.klu  # noqa: F401
    except ImportError:
        return False
    return True


def _kvxopt() -> tuple[Any, Any]:
    try:
        import kvxopt
        import kvxopt.klu
    except ImportError:
        raise MissingExtraError("kvxopt", "klu", "the KLU solver backend") from None
    return kvxopt, kvxopt.klu


def kvxopt_matrix(A: sp.csc_matrix) -> Any:  # noqa: N803
    """A canonical CSC matrix as a ``kvxopt.spmatrix`` whose values are in ``A.data``'s order."""
    kvxopt, _ = _kvxopt()
    n_rows, n_cols = A.shape
    cols = np.repeat(np.arange(n_cols, dtype=np.int64), np.diff(A.indptr))
    return kvxopt.spmatrix(
        kvxopt.matrix(np.ascontiguousarray(A.data, dtype=np.float64)),
        kvxopt.matrix(A.indices.astype(np.int64)),
        kvxopt.matrix(cols),
        (int(n_rows), int(n_cols)),
    )


class _TransposedPattern:
    """``Aᵀ`` in CSC (``A``'s CSR) as KLU reads it, shared by refactorizations of one pattern.

    ``order`` maps ``A.data`` (CSC, sorted) to ``Aᵀ``'s values: ``values_t = A.data[order]``.
    """

    def __init__(self, A: sp.csc_matrix) -> None:  # noqa: N803
        n = A.shape[0]
        # A in CSR is Aᵀ in CSC; the positions ride along as values
        positions = sp.csc_matrix(
            (np.arange(A.nnz, dtype=np.float64), A.indices, A.indptr), shape=(n, n)
        ).tocsr()
        self.indptr = positions.indptr.astype(np.int64)
        self.indices = positions.indices.astype(np.int64)
        self.order = positions.data.astype(np.int64)
        self.symbolic: _libklu.Symbolic | None = None


class KLUFactorization(Factorization):
    """KLU of ``Aᵀ``; ``A x = b`` is KLU's transposed solve, ``Aᵀ x = b`` its plain one.

    KLU is called directly in kvxopt's library where it ships one (its Linux and macOS
    wheels; :mod:`lcasolve.solve._libklu`: faster ordering of the blocks, solves in place),
    else through kvxopt's module.

    Parameters
    ----------
    A : scipy.sparse matrix
        Square matrix.
    labels : sequence, optional
        Names of the columns (activity ids) used in error messages.

    Raises
    ------
    MissingExtraError
        If ``kvxopt`` is not installed.
    SingularSystemError
        If ``A`` is structurally or numerically singular (named activities).
    """

    backend = "klu"

    def __init__(
        self,
        A: sp.spmatrix,  # noqa: N803
        labels: Sequence[object] | None = None,
        *,
        _shared: Any = None,
    ) -> None:
        super().__init__(A, labels)
        kvxopt, klu = _kvxopt()
        self._kvx = kvxopt
        self._klu = klu
        lib = _libklu.load()
        try:
            if lib is not None:
                self._init_direct(lib, _shared)
            else:
                self._init_kvxopt(_shared)
        except (ArithmeticError, ValueError) as exc:
            # KLU reports structural and numerical singularity alike; name the activities
            check_structure(self.A, self.labels)
            diagnose_numerical(self.A, self.labels, f"KLU: {exc}")
            raise
        # the factors are read-only, but KLU's solve uses a workspace inside the numeric
        # object: one solve at a time
        self._lock = threading.Lock()
        self._nnz: int | None = None

    def _init_direct(self, lib: Any, shared: _TransposedPattern | None) -> None:
        pattern = shared if shared is not None else _TransposedPattern(self.A)
        if pattern.symbolic is None:
            pattern.symbolic = _libklu.Symbolic(lib, pattern.indptr, pattern.indices)
        values = np.ascontiguousarray(self.A.data[pattern.order], dtype=np.float64)
        # Aᵀ in CSC is A in CSR: the residual's product reads the same arrays (no second tocsr)
        self._A_csr = sp.csr_matrix((values, pattern.indices, pattern.indptr), shape=self.shape)
        self._shared = pattern
        self._direct: _libklu.Numeric | None = _libklu.Numeric(
            pattern.symbolic, pattern.indptr, pattern.indices, values
        )

    def _init_kvxopt(self, shared: Any) -> None:
        self._direct = None
        # KLU of Aᵀ (built as the transpose of A's kvxopt matrix: kvxopt's triplet constructor
        # is slow on Aᵀ's long columns, the popular suppliers' rows); A x = b is its 'T' solve
        self._K = kvxopt_matrix(self.A).T
        self._shared = self._klu.symbolic(self._K) if shared is None else shared
        self._numeric = self._klu.numeric(self._K, self._shared)

    def _refactorize(self, A: sp.csc_matrix) -> KLUFactorization:  # noqa: N803
        """Numeric phase only: the symbolic analysis of the pattern is shared."""
        return KLUFactorization(A, self.labels, _shared=self._shared)

    @property
    def factor_nnz(self) -> int:
        """Entries in L and U (and the off-diagonal blocks of the block-triangular form)."""
        if self._nnz is None:
            if self._direct is not None:
                self._nnz = self._direct.nnz
            else:
                L, U, *_, F, _r = self._klu.get_numeric(self._K, self._shared, self._numeric)  # noqa: N806
                self._nnz = int(len(L) + len(U) + len(F))
        return self._nnz

    def _solve(self, b: np.ndarray, transposed: bool) -> np.ndarray:
        # the factors are those of Aᵀ: A x = b is KLU's transposed solve
        if self._direct is not None:
            x = np.array(b, dtype=np.float64, order="F")  # a copy, solved in place
            with self._lock:
                self._direct.solve(x, transposed=not transposed)
            return x
        B = self._kvx.matrix(np.asfortranarray(b, dtype=np.float64))  # noqa: N806 - a copy
        with self._lock:
            self._klu.solve(self._K, self._shared, self._numeric, B, "N" if transposed else "T")
        return np.asarray(B).reshape(b.shape)
