"""UMFPACK backend (``scikit-umfpack``, optional; it does not build on every platform).

:class:`UmfpackLU` holds the numeric LU of one matrix in a ``scikits.umfpack.UmfpackContext``;
``A x = b`` and ``Aᵀ x = b`` are both solved from it (UMFPACK's ``UMFPACK_A`` and
``UMFPACK_At`` systems), so the matrix is factorized once. It serves the ``"umfpack"`` backend
(:class:`UmfpackFactorization`, the whole matrix) and the cyclic blocks of the block-triangular
factorization (:mod:`lcasolve.solve.btf`). UMFPACK reports a singular matrix with a
``UmfpackWarning`` instead of an exception; here it becomes a ``RuntimeError`` as SuperLU's, and
the factorizations turn it into :class:`~lcasolve.errors.SingularSystemError` naming the
activities; no warning reaches the caller. The context keeps one shared ``info`` array that
every solve writes, so solves on one factorization are serialized by a lock (the wrapper holds
the GIL during UMFPACK calls anyway).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import MissingExtraError
from lcasolve.solve._base import Factorization
from lcasolve.solve._checks import check_structure, confirm_singular, diagnose_numerical

__all__ = ["UmfpackFactorization", "UmfpackLU", "umfpack_available"]

_INT32_MAX = np.iinfo(np.int32).max


def umfpack_available() -> bool:
    """Whether ``scikit-umfpack`` can be imported."""
    try:
        import scikits.umfpack  # noqa: F401
    except ImportError:
        return False
    return True


class UmfpackLU:
    """UMFPACK LU of a square sparse matrix, solved as SuperLU's ``solve(b, trans)``.

    Parameters
    ----------
    A : scipy.sparse matrix
        Square matrix (not modified; copied when UMFPACK needs other arrays).

    Attributes
    ----------
    rcond : float
        UMFPACK's reciprocal condition estimate, ``min |Uᵢᵢ| / max |Uᵢᵢ|`` of the scaled and
        permuted matrix.
    nnz : int
        Entries in L and U (UMFPACK's ``LNZ + UNZ``, both counting their diagonal).

    Raises
    ------
    MissingExtraError
        If ``scikit-umfpack`` is not installed.
    RuntimeError
        On a zero pivot (the matrix is singular), with UMFPACK's count of nonzero pivots.
    """

    def __init__(self, A: sp.spmatrix) -> None:  # noqa: N803
        try:
            import scikits.umfpack as um
        except ImportError:
            raise MissingExtraError(
                "scikit-umfpack", "umfpack", "the UMFPACK solver backend"
            ) from None
        self._systems: tuple[int, int] = (int(um.UMFPACK_A), int(um.UMFPACK_At))
        self._lock = threading.Lock()
        self._csc = _umfpack_matrix(sp.csc_matrix(A))
        family = "di" if self._csc.indices.dtype == np.int32 else "dl"
        ctx = um.UmfpackContext(family)
        # lcasolve checks every solve by its residual (and refines once) instead of UMFPACK's
        # condition-estimate warning and its own refinement steps, which would repeat that work
        ctx.maxCond = np.inf
        ctx.control[um.UMFPACK_IRSTEP] = 0
        with warnings.catch_warnings():
            # the only UmfpackWarning of a first numeric() is "Singular matrix"; its status
            # stays in ctx.info and is checked below
            warnings.simplefilter("ignore", um.UmfpackWarning)
            ctx.numeric(self._csc)
        self._ctx: Any = ctx
        info = ctx.info
        if int(info[um.UMFPACK_STATUS]) == um.UMFPACK_WARNING_singular_matrix:
            raise RuntimeError(
                f"UMFPACK: zero pivot, {int(info[um.UMFPACK_UDIAG_NZ])} of {A.shape[0]} "
                f"diagonal entries of U are nonzero"
            )
        self.rcond = float(info[um.UMFPACK_RCOND])
        self.nnz = int(info[um.UMFPACK_LNZ] + info[um.UMFPACK_UNZ])

    def solve(self, b: np.ndarray, trans: str = "N") -> np.ndarray:
        """``A⁻¹ b`` (``trans="N"``) or ``A⁻ᵀ b`` (``trans="T"``) for a vector or a block."""
        system = self._systems[trans == "T"]
        # columns contiguous (the context rejects strided arrays) and in float64
        cols = np.asfortranarray(b[:, None] if b.ndim == 1 else b, dtype=np.float64)
        x = np.empty(cols.shape, dtype=np.float64, order="F")
        # errstate: the context divides by its rcond estimate after every solve
        with self._lock, np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            for j in range(cols.shape[1]):
                x[:, j] = self._ctx.solve(system, self._csc, cols[:, j])
        return x[:, 0] if b.ndim == 1 else x


class UmfpackFactorization(Factorization):
    """UMFPACK LU of ``A``; transposed solves use UMFPACK's ``Aᵀ`` system on the same factors.

    Parameters
    ----------
    A : scipy.sparse matrix
        Square matrix.
    labels : sequence, optional
        Names of the columns (activity ids) used in error messages.

    Attributes
    ----------
    rcond : float
        UMFPACK's reciprocal condition estimate (see :class:`UmfpackLU`).

    Raises
    ------
    MissingExtraError
        If ``scikit-umfpack`` is not installed.
    SingularSystemError
        If ``A`` is structurally or numerically singular.
    """

    backend = "umfpack"

    def __init__(self, A: sp.spmatrix, labels: Sequence[object] | None = None) -> None:  # noqa: N803
        super().__init__(A, labels)
        check_structure(self.A, self.labels)
        try:
            self._lu = UmfpackLU(self.A)
        except RuntimeError as exc:
            diagnose_numerical(self.A, self.labels, str(exc))
            raise
        self.rcond = self._lu.rcond
        if not self.rcond > np.finfo(np.float64).eps:  # a tiny pivot, or NaN
            # UMFPACK factorized but a pivot is at rounding level
            confirm_singular(self.A, self.AT, self.labels, f"UMFPACK pivot ratio {self.rcond:.3g}")

    @property
    def factor_nnz(self) -> int:
        """Entries in L and U (UMFPACK's ``LNZ + UNZ``, both counting their diagonal)."""
        return self._lu.nnz

    def _solve(self, b: np.ndarray, transposed: bool) -> np.ndarray:
        return self._lu.solve(b, "T" if transposed else "N")


def _umfpack_matrix(A: sp.csc_matrix) -> sp.csc_matrix:  # noqa: N803
    """``A`` as UMFPACK needs it: sorted, no duplicates, float64, one integer index type.

    ``A`` itself is used when it already qualifies; otherwise a copy, so that UMFPACK's
    in-place index sorting never touches the caller's arrays.
    """
    small = max(A.nnz, A.shape[0] + 1) <= _INT32_MAX
    itype = np.int32 if small else np.int64
    arrays = (A.data, A.indices, A.indptr)
    if (
        A.has_canonical_format
        and A.data.dtype == np.float64
        and A.indices.dtype == itype
        and A.indptr.dtype == itype
        and all(a.flags.writeable and a.flags.c_contiguous for a in arrays)
    ):  # the wrapper takes only writeable C arrays (a frozen system's are read-only)
        return A
    csc = sp.csc_matrix(
        (
            A.data.astype(np.float64, copy=True),
            A.indices.astype(itype, copy=True),
            A.indptr.astype(itype, copy=True),
        ),
        shape=A.shape,
    )
    csc.sum_duplicates()  # also sorts the row indices
    return csc
