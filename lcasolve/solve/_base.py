"""The factorization protocol shared by every sparse direct solver backend."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import scipy.sparse as sp

from lcasolve._options import get_options
from lcasolve.errors import (
    IllConditionedError,
    PatternChangedError,
    ShapeMismatchError,
    format_ids,
)
from lcasolve.solve._checks import check_finite_solution, relative_residual

if TYPE_CHECKING:
    from lcasolve.solve.conditioning import Conditioning

__all__ = ["Factorization", "SolveResult", "canonical_csc", "inf_norm", "relative_residual"]


class SolveResult(NamedTuple):
    """The solution of a linear solve and its check.

    Attributes
    ----------
    x : numpy.ndarray
        Solution, same shape as the right-hand side.
    residual : float
        Largest relative residual over the right-hand sides,
        ``‖M x − b‖∞ / (‖M‖∞ ‖x‖∞ + ‖b‖∞)`` (normwise backward error; 0 for ``b = 0``).
    residuals : numpy.ndarray or None
        The residual vectors ``M x − b`` of the check (``None`` for an unchecked solve), which
        :meth:`Factorization.error_bound` takes instead of forming them again.
    """

    x: np.ndarray
    residual: float
    residuals: np.ndarray | None = None


def inf_norm(M: sp.spmatrix) -> float:  # noqa: N803
    """``‖M‖∞``, the largest absolute row sum."""
    if not M.nnz:
        return 0.0
    csr = sp.csr_matrix(M)
    return float(np.add.reduceat(np.abs(csr.data), csr.indptr[:-1])[np.diff(csr.indptr) > 0].max())


def canonical_csc(A: sp.spmatrix) -> sp.csc_matrix:  # noqa: N803
    """``A`` as CSC with sorted row indices and no duplicates (a copy only when needed)."""
    csc = sp.csc_matrix(A)
    if not csc.has_canonical_format:
        csc = csc.copy()
        csc.sum_duplicates()
    return csc


class Factorization(ABC):
    """A factorized square sparse matrix ``A``: solve ``A x = b`` and ``Aᵀ x = b`` repeatedly.

    Subclasses implement :meth:`_solve`; :meth:`solve` adds the residual check, one step of
    iterative refinement when the residual is above the tolerance, and a clear error when even
    that fails. Instances are safe to share between threads for solving.

    Parameters
    ----------
    A : scipy.sparse matrix
        The matrix (kept for residual checks).
    labels : sequence, optional
        Names of the columns (activity ids) used in error messages.
    """

    #: Registry name of the backend.
    backend: str = "abstract"

    def __init__(self, A: sp.spmatrix, labels: Sequence[object] | None = None) -> None:  # noqa: N803
        self.A = canonical_csc(A)
        self.shape: tuple[int, int] = (int(self.A.shape[0]), int(self.A.shape[1]))
        self.labels = list(labels) if labels is not None else list(range(self.shape[1]))
        self._AT: sp.csc_matrix | None = None
        self._A_csr: sp.csr_matrix | None = None
        self._norms: dict[bool, float] = {}
        self._conditioning: Conditioning | None = None
        self._conditioning_t: Conditioning | None = None
        self._row_sums: dict[bool, np.ndarray] = {}

    @property
    def AT(self) -> sp.csc_matrix:  # noqa: N802
        """``Aᵀ`` (CSC), built once on first use."""
        if self._AT is None:
            self._AT = self.A.T.tocsc()
        return self._AT

    def _residual_matrix(self, transposed: bool) -> sp.csr_matrix:
        """``A`` or ``Aᵀ`` as CSR for the residual's product (a row-wise product is faster).

        ``Aᵀ`` in CSR is ``A``'s CSC arrays read the other way (no copy); ``A`` in CSR is built
        once.
        """
        if transposed:
            return self.A.T  # type: ignore[no-any-return]
        if self._A_csr is None:
            self._A_csr = self.A.tocsr()
        return self._A_csr

    @property
    def conditioning(self) -> Conditioning:
        """Skeel's condition of ``A`` and the activities most involved, estimated once.

        Two solves on first use when ``A⁻¹ ≥ 0``, a few more otherwise
        (:func:`lcasolve.solve.conditioning.skeel_condition`); cached for the life of the
        factorization.
        """
        if self._conditioning is None:
            from lcasolve.solve.conditioning import skeel_condition

            self._conditioning = skeel_condition(
                self.A,
                lambda b, transposed: self._solve(np.ascontiguousarray(b), transposed),
                self._abs_row_sums(False),
            )
        return self._conditioning

    @property
    def conditioning_transposed(self) -> Conditioning:
        """Skeel's condition of ``Aᵀ`` (the adjoint ``Aᵀ λ = c``), estimated once.

        ``‖ |A⁻ᵀ| |Aᵀ| ‖∞`` differs from that of ``A``; as :attr:`conditioning`, with the
        roles of the plain and transposed solves exchanged.
        """
        if self._conditioning_t is None:
            from lcasolve.solve.conditioning import skeel_condition

            self._conditioning_t = skeel_condition(
                self.AT,
                lambda b, transposed: self._solve(np.ascontiguousarray(b), not transposed),
                self._abs_row_sums(True),
            )
        return self._conditioning_t

    def _abs_row_sums(self, transposed: bool) -> np.ndarray:
        """``|A| e`` (or ``|Aᵀ| e``, the column sums of ``|A|``), computed once."""
        rows = self._row_sums.get(transposed)
        if rows is None:
            from lcasolve.solve.conditioning import abs_row_sums

            rows = self._row_sums.setdefault(
                transposed, abs_row_sums(self.A.T if transposed else self.A)
            )
        return rows

    def _abs_matrix(self, transposed: bool) -> sp.csr_matrix:
        """``|A|`` (or ``|Aᵀ|``) in CSR, for the componentwise bound only (not kept)."""
        M = self._residual_matrix(transposed)  # noqa: N806
        return sp.csr_matrix((np.abs(M.data), M.indices, M.indptr), M.shape)

    def error_bound(
        self,
        x: np.ndarray,
        b: np.ndarray,
        transposed: bool = False,
        *,
        residuals: np.ndarray | None = None,
    ) -> float:
        """Bound of the relative forward error of a solution of ``A x = b`` (worst column).

        Skeel's condition (:attr:`conditioning`) times
        :func:`lcasolve.solve.conditioning.residual_ratio`, from the estimate made once per
        factorization; when that exceeds ``set_options(error_bound_warning=...)``, the sharper
        :func:`lcasolve.solve.conditioning.componentwise_bound` of this solution (two more solves
        per column when ``A⁻¹ ≥ 0``) decides, so that a chain of large conversion factors,
        solved exactly, is neither warned about nor refused. With ``transposed``, of
        ``Aᵀ x = b`` (:attr:`conditioning_transposed`). ``residuals``, ``A x − b`` (or
        ``Aᵀ x − b``) when the solve's check has them (:attr:`SolveResult.residuals`), saves
        forming them again.
        """
        from lcasolve.solve.conditioning import (
            componentwise_bound,
            forward_error_bound,
            residual_ratio,
        )

        M = self._residual_matrix(transposed)  # noqa: N806
        cond = self.conditioning_transposed if transposed else self.conditioning
        ratio = residual_ratio(M, x, b, self._abs_row_sums(transposed), residuals=residuals)
        bound = forward_error_bound(cond.condition, ratio)
        if bound <= get_options().error_bound_warning or not np.isfinite(x).all():
            return bound
        sharp = componentwise_bound(
            M,
            x,
            b,
            lambda v, t: self._solve(np.ascontiguousarray(v), t != transposed),
            self._abs_matrix(transposed),
        )
        return min(bound, sharp)

    def refactorize(self, values: np.ndarray | sp.spmatrix) -> Factorization:
        """A new factorization of a matrix with the same sparsity pattern and new values.

        Backends that can reuse the analysis of the pattern (the KLU symbolic factorization,
        the block-triangular order) do so: only the numeric phase runs again. ``self`` is not
        changed and stays usable.

        Parameters
        ----------
        values : numpy.ndarray or scipy.sparse matrix
            The new matrix, or its ``nnz`` stored values in the order of ``self.A.data``
            (CSC with sorted row indices).

        Returns
        -------
        Factorization
            Of the same backend, with the same labels.

        Raises
        ------
        PatternChangedError
            The new matrix stores other positions than the factorized one.
        SingularSystemError
            The new matrix is singular.
        """
        return self._refactorize(self._same_pattern(values))

    def _refactorize(self, A: sp.csc_matrix) -> Factorization:  # noqa: N803
        """Factorize ``A`` (same pattern as ``self.A``); backends override to reuse analysis."""
        return type(self)(A, self.labels)

    def _same_pattern(self, values: np.ndarray | sp.spmatrix) -> sp.csc_matrix:
        """``values`` as a CSC matrix on exactly the pattern of ``self.A``, or an error."""
        if sp.issparse(values):
            new = canonical_csc(values)
            if new.shape != self.shape:
                raise PatternChangedError(
                    f"refactorize: a {new.shape} matrix cannot replace the {self.shape} one"
                )
            same = np.array_equal(new.indptr, self.A.indptr) and np.array_equal(
                new.indices, self.A.indices
            )
            if not same:
                per_col = np.diff(new.indptr) != np.diff(self.A.indptr)
                if not per_col.any():  # same counts, other rows: find the first column
                    rows_new = np.split(new.indices, new.indptr[1:-1])
                    rows_old = np.split(self.A.indices, self.A.indptr[1:-1])
                    per_col = np.array(
                        [not np.array_equal(a, b) for a, b in zip(rows_new, rows_old, strict=True)]
                    )
                cols = np.flatnonzero(per_col)
                raise PatternChangedError(
                    f"refactorize: the new matrix stores {new.nnz} entries where the factorized "
                    f"one stores {self.A.nnz}, and its pattern differs in {cols.size} columns "
                    f"(activities {format_ids([self.labels[int(j)] for j in cols])}); a changed "
                    f"pattern needs a new factorize()"
                )
            return new
        data = np.asarray(values, dtype=np.float64)
        if data.shape != (self.A.nnz,):
            raise PatternChangedError(
                f"refactorize: {data.shape} values given for a pattern of {self.A.nnz} entries"
            )
        return sp.csc_matrix((data.copy(), self.A.indices, self.A.indptr), shape=self.shape)

    @property
    @abstractmethod
    def factor_nnz(self) -> int:
        """Number of stored entries in the factors (fill-in measure)."""

    @abstractmethod
    def _solve(self, b: np.ndarray, transposed: bool) -> np.ndarray:
        """Solve without checks; ``b`` is float64 ``(n,)`` or ``(n, k)``, C- or F-contiguous."""

    def solve(self, b: np.ndarray, *, transposed: bool = False, check: bool = True) -> SolveResult:
        """Solve ``A x = b`` (or ``Aᵀ x = b``) for one or many right-hand sides.

        Parameters
        ----------
        b : numpy.ndarray
            Right-hand side(s), ``(n,)`` or ``(n, k)``.
        transposed : bool
            Solve with ``Aᵀ`` instead.
        check : bool
            Compute the relative residual, refine once if it is above the tolerance, and raise
            :class:`~lcasolve.errors.IllConditionedError` if it stays above.

        Returns
        -------
        SolveResult
        """
        b = np.asarray(b, dtype=np.float64)
        if b.shape[0] != self.shape[0] or b.ndim not in (1, 2):
            raise ShapeMismatchError(
                f"right-hand side of shape {b.shape} does not fit a {self.shape} matrix"
            )
        x = self._solve(b, transposed)
        if not np.isfinite(b).all():
            check_finite_solution(b, self.labels, "right-hand side")
        if not check:
            return SolveResult(x, float("nan"))
        M = self._residual_matrix(transposed)  # noqa: N806
        tol = get_options().residual_tolerance
        norm = self._norms.get(transposed)
        if norm is None:
            norm = self._norms[transposed] = inf_norm(M)
        check_finite_solution(x, self.labels, "score per unit" if transposed else "supply")
        r = M @ x - b
        res = relative_residual(M, x, b, norm, r)
        if not res <= tol:  # also catches NaN
            x = x - self._solve(r, transposed)
            r = M @ x - b
            res = relative_residual(M, x, b, norm, r)
            if not res <= tol:
                raise IllConditionedError(
                    f"{self.backend}: relative residual {res:.3g} of the "
                    f"{'transposed ' if transposed else ''}solve stays above the tolerance "
                    f"{tol:.3g} after refinement; the technosphere is (nearly) singular or badly "
                    f"scaled",
                    residual=res,
                )
        return SolveResult(x, res, r)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.shape[0]}x{self.shape[1]}, factor nnz {self.factor_nnz}>"
        )
