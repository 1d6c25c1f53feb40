"""Conditioning: how far a solution with a tiny residual can still be from the exact one.

A small relative residual says that the computed ``x̂`` solves a slightly perturbed system; how
far ``x̂`` is from the exact ``x`` also depends on the condition of ``A``. A loop of activities
whose gain is close to 1 (``1 − ab ≈ 1e-15`` in a two-activity loop) makes ``A`` nearly
singular: the residual stays at rounding level while the supply is off by tens of percent.

The condition used is Skeel's, ``cond(A) = ‖ |A⁻¹| |A| ‖∞``, invariant under scaling the rows
of ``A`` (the units of the products). The normwise ``κ(A) = ‖A‖ ‖A⁻¹‖`` is not: USLCI, whose
solutions are accurate, has ``κ₁ ≈ 9e14`` from its mixed units but a Skeel condition of
``4e7``. The error of a computed ``x̂`` is ``x̂ − x = A⁻¹ r`` with ``r = A x̂ − b``; when
``|r| ≤ ρ |A| e`` (``ρ = maxᵢ |r|ᵢ / (|A| e)ᵢ``), then ``|x̂ − x| ≤ ρ |A⁻¹| |A| e`` and

    ‖x̂ − x‖∞ / ‖x̂‖∞ ≤ cond(A) · maxᵢ (|r|ᵢ + u (|A| |x̂| + |b|)ᵢ) / ((|A| e)ᵢ ‖x̂‖∞),

where the term in the unit roundoff ``u = 2⁻⁵³`` covers the rounding of ``r`` itself (as in
LAPACK's ``FERR``, Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §7.2 and
§15.4). The bound does not blame a row of tiny magnitude for an error that is tiny in absolute
terms (eco20k's supplies down to 1e-30), unlike the Oettli–Prager backward error times
``cond(A)``. ``‖ |A⁻¹| |A| ‖∞ = ‖ diag(|A| e) A⁻ᵀ ‖₁`` is estimated with Hager's method as
refined by Higham (LAPACK ``xLACN2``): two solves with the factorization when ``A⁻¹ ≥ 0``,
a few more otherwise; a lower bound that is exact in most cases.

``cond(A) · ρ`` charges every supply with the condition of the whole matrix, which a chain of
large conversion factors makes huge (seven steps of ×1e3: 1e18) although substitution solves
it to rounding. When it exceeds the warning level, the componentwise ``FERR`` of LAPACK's
``xGERFS``, ``‖ |A⁻¹| v ‖∞ / ‖x̂‖∞`` with ``v`` the residual and its rounding
(:func:`componentwise_bound`, two more solves per solution when ``A⁻¹ ≥ 0``), decides
instead; it is never larger, and a loop of gain close to 1 keeps it large.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import scipy.sparse as sp

from lcasolve._options import get_options
from lcasolve.errors import IllConditionedError, IllConditionedWarning, format_ids
from lcasolve.solve._checks import column_max_abs

if TYPE_CHECKING:
    from lcasolve.solve import Factorization

__all__ = [
    "Conditioning",
    "check_accuracy",
    "componentwise_bound",
    "forward_error_bound",
    "onenorm_estimate",
    "residual_ratio",
    "skeel_condition",
    "solution_accuracy",
]

#: unit roundoff of float64
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2
#: columns the estimator forms at most (LAPACK's ITMAX)
_MAX_ITERATIONS = 5
#: entries of the maximizing column within this factor of its largest name the activities
_INVOLVED = 1e-3


class Conditioning(NamedTuple):
    """Skeel's condition of a technosphere matrix and where it comes from.

    Attributes
    ----------
    condition : float
        Estimate of ``‖ |A⁻¹| |A| ‖∞`` (a lower bound, usually exact); ``inf`` if a solve
        overflows.
    sensitive : int
        Position of the most sensitive supply (the row of ``|A⁻¹| |A|`` with the largest sum).
    weights : numpy.ndarray
        That row's entries as the estimator found them: how much each product's equation
        weighs in that supply.
    """

    condition: float
    sensitive: int
    weights: np.ndarray

    def involved(self, A: sp.spmatrix) -> np.ndarray:  # noqa: N803
        """Positions of the activities most involved, the most sensitive one first.

        The loop (cyclic strongly connected block) of the most sensitive supply, ordered by
        :attr:`weights`; when that activity is in no loop, the activities whose equations
        weigh most in it (within a factor ``1e3`` of the largest).
        """
        from scipy.sparse.csgraph import connected_components

        j = self.sensitive
        _, label = connected_components(A, directed=True, connection="strong")
        block = np.flatnonzero(label == label[j])
        mag = np.abs(np.nan_to_num(self.weights, nan=0.0, posinf=1e308))
        if block.size == 1:
            top = mag.max(initial=0.0)
            block = np.flatnonzero(mag >= _INVOLVED * top) if top > 0 else block
        block = block[np.argsort(-mag[block], kind="stable")]
        return np.concatenate([[j], block[block != j]]).astype(np.intp)


def onenorm_estimate(
    apply: Callable[[np.ndarray], np.ndarray],
    apply_transposed: Callable[[np.ndarray], np.ndarray],
    n: int,
) -> tuple[float, int, np.ndarray]:
    """Estimate ``‖B‖₁`` from products with ``B`` and ``Bᵀ`` (Hager, Higham; LAPACK ``xLACN2``).

    The iteration starts from the sign vector ``e`` (all ones): ``‖Bᵀ e‖∞ ≤ ‖B‖₁`` is the
    first lower bound and exact when ``B ≥ 0``, the usual case for ``diag(|A| e) A⁻ᵀ`` of a
    technosphere (``A⁻¹ ≥ 0`` unless credits or avoided products enter). Then, as in
    ``xLACN2``, the column ``j`` of the largest gradient entry is formed and the signs of
    ``B e_j`` give the next gradient, until the signs or the column repeat (at most five
    columns). Higham's alternating test vector guards against a local maximum whenever a
    column with mixed signs was seen. For a non-negative ``B`` this costs two products.

    Parameters
    ----------
    apply, apply_transposed : callable
        ``v ↦ B v`` and ``v ↦ Bᵀ v`` for vectors of length ``n``.
    n : int
        Order of ``B``.

    Returns
    -------
    estimate : float
        A lower bound of ``‖B‖₁``, exact unless the iteration stops at a local maximum.
    column : int
        The column whose 1-norm is the estimate (``-1`` when Higham's test vector gave a
        larger value).
    y : numpy.ndarray
        That column, ``B e_column`` (or ``B`` times the test vector).
    """
    sign = np.ones(n)
    z = apply_transposed(sign)
    j = int(np.argmax(np.abs(z)))
    est = float(np.abs(z[j]))
    best_col, best_y = j, np.zeros(n)
    mixed = False
    for _ in range(_MAX_ITERATIONS):
        x = np.zeros(n)
        x[j] = 1.0
        y = apply(x)
        new = float(np.abs(y).sum())
        if new >= est or best_col == j:
            est, best_col, best_y = max(new, est), j, y
        new_sign = np.where(y >= 0, 1.0, -1.0)
        if np.array_equal(new_sign, sign) or not np.isfinite(new):
            break
        mixed = True
        sign = new_sign
        z = apply_transposed(sign)
        last, j = j, int(np.argmax(np.abs(z)))
        if abs(z[last]) >= abs(z[j]):  # the gradient points at the same column: a maximum
            break
    if mixed and n > 1:
        i = np.arange(n)
        x = np.where(i % 2, -1.0, 1.0) * (1.0 + i / (n - 1))
        y = apply(x)
        alt = 2.0 * float(np.abs(y).sum()) / (3.0 * n)
        if alt > est:
            est, best_col, best_y = alt, -1, y
    return est, best_col, best_y


def abs_row_sums(A: sp.spmatrix) -> np.ndarray:  # noqa: N803
    """``|A| e``, the absolute row sums of ``A``."""
    coo = A if sp.isspmatrix_csc(A) or sp.isspmatrix_csr(A) else sp.csc_matrix(A)
    if sp.isspmatrix_csr(coo):
        return np.asarray(abs(coo).sum(axis=1), dtype=np.float64).ravel()
    return np.bincount(coo.indices, weights=np.abs(coo.data), minlength=coo.shape[0])


def skeel_condition(
    A: sp.spmatrix,  # noqa: N803
    solve: Callable[[np.ndarray, bool], np.ndarray],
    row_sums: np.ndarray | None = None,
) -> Conditioning:
    """Estimate Skeel's condition ``‖ |A⁻¹| |A| ‖∞`` with a few solves.

    ``‖ |A⁻¹| |A| ‖∞ = ‖ A⁻¹ diag(w) ‖∞ = ‖ diag(w) A⁻ᵀ ‖₁`` with ``w = |A| e``, estimated by
    :func:`onenorm_estimate` (a solve and a transposed solve when ``A⁻¹ ≥ 0``).

    Parameters
    ----------
    A : sparse matrix
        The factorized matrix.
    solve : callable
        ``(b, transposed) ↦ A⁻¹ b`` (or ``A⁻ᵀ b``) without checks.
    row_sums : numpy.ndarray, optional
        ``|A| e`` if already known.

    Returns
    -------
    Conditioning
    """
    w = abs_row_sums(A) if row_sums is None else row_sums
    n = int(A.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        est, col, y = onenorm_estimate(
            lambda v: w * solve(v, True), lambda v: solve(w * v, False), n
        )
    if col < 0:  # Higham's test vector won: the largest entry marks the sensitive supply
        col = int(np.argmax(np.abs(np.nan_to_num(y, nan=0.0, posinf=1e308))))
    # column `col` of diag(w) A⁻ᵀ is row `col` of |A⁻¹| |A|
    return Conditioning(est if np.isfinite(est) else float("inf"), col, y)


def residual_ratio(
    A: sp.spmatrix,  # noqa: N803
    x: np.ndarray,
    b: np.ndarray,
    row_sums: np.ndarray | None = None,
    *,
    residuals: np.ndarray | None = None,
) -> float:
    """``maxᵢ (|A x − b|ᵢ + u ((|A| e)ᵢ ‖x‖∞ + |b|ᵢ)) / ((|A| e)ᵢ ‖x‖∞)``, the worst column.

    Times Skeel's condition this bounds the relative forward error (module docstring). The
    rounding of the residual, ``u (|A| |x| + |b|)ᵢ``, is bounded from above with
    ``(|A| |x|)ᵢ ≤ (|A| e)ᵢ ‖x‖∞``: a bound at most a small factor larger (the row of the
    largest supply has ``(|A| |x|)ᵢ ≥ |aᵢᵢ| ‖x‖∞``) and one sparse product cheaper. A
    non-finite ``x`` gives ``inf``; ``x = 0`` with ``b = 0`` gives 0.

    Parameters
    ----------
    A : sparse matrix
    x, b : numpy.ndarray
        Solution and right-hand side, ``(n,)`` or ``(n, k)``.
    row_sums : numpy.ndarray, optional
        ``|A| e`` if already known.
    residuals : numpy.ndarray, optional
        ``A x − b`` if already computed (by the residual check of the solve).

    Returns
    -------
    float
    """
    x2 = x.reshape(x.shape[0], -1)
    b2 = b.reshape(b.shape[0], -1)
    x_max = column_max_abs(x2)  # NaN and inf propagate
    if not np.isfinite(x_max).all():
        return float("inf")
    w = abs_row_sums(A) if row_sums is None else row_sums
    with np.errstate(over="ignore", invalid="ignore"):
        r = A @ x2 - b2 if residuals is None else residuals.reshape(x2.shape)
        # (|r|ᵢ + u |b|ᵢ) / (|A| e)ᵢ, whose largest over i, divided by ‖x‖∞, plus u is the ratio
        t = np.abs(r)
        t += UNIT_ROUNDOFF * np.abs(b2)
        empty = w <= 0
        if empty.any():  # an empty row: any residual there is infinitely large
            if (t[empty] > 0).any():
                return float("inf")
            w = np.where(empty, 1.0, w)
        t /= w[:, None]
        worst = t.max(axis=0, initial=0.0)
        ratio = np.where(x_max > 0, worst / np.where(x_max > 0, x_max, 1.0) + UNIT_ROUNDOFF, 0.0)
    ratio[(x_max <= 0) & (worst > 0)] = np.inf
    if not np.isfinite(ratio).all():
        return float("inf")
    return float(ratio.max(initial=0.0))


def forward_error_bound(condition: float, ratio: float) -> float:
    """``cond(A) · ρ``: a bound of ``‖x̂ − x‖∞ / ‖x̂‖∞`` (module docstring).

    Parameters
    ----------
    condition : float
        Skeel's condition of ``A``.
    ratio : float
        :func:`residual_ratio` of ``x̂``.

    Returns
    -------
    float
        ``inf`` when it overflows or is not a number.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        bound = float(condition) * float(ratio)
    return bound if np.isfinite(bound) else float("inf")


def componentwise_bound(
    A: sp.spmatrix,  # noqa: N803
    x: np.ndarray,
    b: np.ndarray,
    solve: Callable[[np.ndarray, bool], np.ndarray],
    abs_A: sp.spmatrix,  # noqa: N803
) -> float:
    """LAPACK's ``FERR`` of ``A x̂ = b``: ``‖ |A⁻¹| v ‖∞ / ‖x̂‖∞``, the worst column.

    ``v = |A x̂ − b| + (k + 1) u (|A| |x̂| + |b|)`` with ``k`` the most entries of a row of
    ``A`` bounds the residual and its rounding componentwise, so ``|x̂ − x| = |A⁻¹ r| ≤ |A⁻¹| v``
    (Higham, §7.2; LAPACK ``xGERFS``). Unlike ``cond(A) · ρ`` (:func:`forward_error_bound`) it
    does not charge every supply with the condition of the whole matrix: a chain whose steps
    multiply the amounts by 1e3 (grams to kilograms, seven times over) has a Skeel condition of
    1e18 and is solved to rounding by substitution, which this bound shows. ``‖ |A⁻¹| v ‖∞ =
    ‖ diag(v) A⁻ᵀ ‖₁`` is estimated as in :func:`skeel_condition` (two solves when
    ``A⁻¹ ≥ 0``), per column of ``x̂``.

    Parameters
    ----------
    A : sparse matrix
        The system matrix in CSR (already transposed for a transposed solve).
    x, b : numpy.ndarray
        Solution and right-hand side, ``(n,)`` or ``(n, k)``.
    solve : callable
        ``(v, transposed) ↦ A⁻¹ v`` (or ``A⁻ᵀ v``) for this ``A``, without checks.
    abs_A : sparse matrix
        ``|A|`` (CSR).

    Returns
    -------
    float
        ``inf`` for a non-finite ``x̂`` or when a solve overflows.
    """
    x2 = x.reshape(x.shape[0], -1)
    b2 = b.reshape(b.shape[0], -1)
    if not np.isfinite(x2).all():
        return float("inf")
    csr = sp.csr_matrix(abs_A)
    k = int(np.diff(csr.indptr).max(initial=0))
    n = int(A.shape[0])
    worst = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        v_all = np.abs(A @ x2 - b2) + (k + 1) * UNIT_ROUNDOFF * (abs_A @ np.abs(x2) + np.abs(b2))
        for col in range(x2.shape[1]):
            x_max = float(np.abs(x2[:, col]).max(initial=0.0))
            v = v_all[:, col]
            if not v.any():
                continue
            if x_max == 0.0 or not np.isfinite(v).all():
                return float("inf")
            est, _, _ = onenorm_estimate(_scaled(solve, v, True), _scaled(solve, v, False), n)
            bound = est / x_max
            if not np.isfinite(bound):
                return float("inf")
            worst = max(worst, bound)
    return worst


def _scaled(
    solve: Callable[[np.ndarray, bool], np.ndarray], v: np.ndarray, transposed: bool
) -> Callable[[np.ndarray], np.ndarray]:
    """``u ↦ diag(v) A⁻ᵀ u`` (``transposed``) or its transpose ``u ↦ A⁻¹ diag(v) u``."""
    if transposed:
        return lambda u: v * solve(u, True)
    return lambda u: solve(v * u, False)


def check_accuracy(
    conditioning: Conditioning,
    A: sp.spmatrix,  # noqa: N803
    bound: float,
    labels: Sequence[object],
    *,
    allow: bool = False,
    stacklevel: int = 3,
) -> None:
    """Warn or refuse when the forward-error bound is large.

    Above ``set_options(error_bound_warning=...)`` (default ``1e-6``) this warns with
    :class:`~lcasolve.errors.IllConditionedWarning`; above ``error_bound_limit`` (default
    ``1e-2``: not even the second digit is certain) it raises
    :class:`~lcasolve.errors.IllConditionedError` naming the activities most involved, unless
    ``allow`` (then it warns).

    Parameters
    ----------
    conditioning : Conditioning
    A : sparse matrix
        The matrix (to find the loop of the most sensitive supply).
    bound : float
        Forward-error bound of the solution.
    labels : sequence
        Activity id of each position.
    allow : bool
        Warn instead of raising above the limit.
    stacklevel : int
        Of the warning (3: the caller of the function that calls this one).
    """
    opts = get_options()
    if bound <= opts.error_bound_warning:
        return
    ids = [labels[int(i)] for i in conditioning.involved(A)]
    off = (
        f"the supply may be off by up to {bound:.3g} (relative)"
        if np.isfinite(bound)
        else "no digit of the supply is certain"
    )
    text = (
        f"the technosphere is ill-conditioned: condition {conditioning.condition:.3g}, so {off} "
        f"although the residual is small; activities most involved: {format_ids(ids, 5)}"
    )
    if bound > opts.error_bound_limit and not allow:
        raise IllConditionedError(
            f"{text}. A loop of activities that returns nearly all of its output to itself "
            f"(gain close to 1) does this: check those amounts, or pass "
            f"allow_ill_conditioned=True to LCA or MonteCarlo (--allow-ill-conditioned) to "
            f"compute anyway",
            condition=conditioning.condition,
            error_bound=bound,
            activities=ids,
        )
    warnings.warn(text, IllConditionedWarning, stacklevel=stacklevel)


def solution_accuracy(
    factorization: Factorization,
    x: np.ndarray,
    b: np.ndarray,
    *,
    transposed: bool = False,
    residuals: np.ndarray | None = None,
    allow: bool = False,
    stacklevel: int = 4,
) -> tuple[float, float]:
    """Condition and forward-error bound of a solution; warn or refuse when the bound is large.

    The check of every solve that returns supplies or scores: :class:`~lcasolve.LCA`'s and the
    deterministic part of a Monte Carlo run. Skeel's condition is the factorization's
    (estimated once, :attr:`~lcasolve.solve.Factorization.conditioning`), the bound
    :meth:`~lcasolve.solve.Factorization.error_bound` of ``x``, judged by
    :func:`check_accuracy`.

    Parameters
    ----------
    factorization : Factorization
        Of ``A``.
    x, b : numpy.ndarray
        Solution and right-hand side of ``A x = b`` (``Aᵀ x = b`` with ``transposed``),
        ``(n,)`` or ``(n, k)``.
    transposed : bool
        ``x`` solves the transposed system (the adjoint).
    residuals : numpy.ndarray, optional
        ``A x − b`` from the solve's check (:attr:`~lcasolve.solve.SolveResult.residuals`).
    allow : bool
        Warn instead of raising above the limit.
    stacklevel : int
        Of the warning (4: the caller of the function that calls this one).

    Returns
    -------
    condition : float
    error_bound : float

    Raises
    ------
    IllConditionedError
        The bound is above ``error_bound_limit`` and ``allow`` is not set.
    """
    fact = factorization
    cond = fact.conditioning_transposed if transposed else fact.conditioning
    bound = fact.error_bound(x, b, transposed=transposed, residuals=residuals)
    matrix = fact.AT if transposed else fact.A
    check_accuracy(cond, matrix, bound, fact.labels, allow=allow, stacklevel=stacklevel)
    return cond.condition, bound
