"""Singularity diagnosis: name the activities that make a technosphere matrix singular."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import NonFiniteValueError, SingularSystemError, format_ids

__all__ = [
    "check_finite_solution",
    "column_max_abs",
    "check_structure",
    "diagnose_numerical",
    "relative_residual",
]

#: largest matrix for which a dense SVD null vector names the dependent set exactly
DENSE_SVD_LIMIT = 2000


def relative_residual(
    M: sp.spmatrix,  # noqa: N803
    x: np.ndarray,
    b: np.ndarray,
    norm_m: float | None = None,
    residuals: np.ndarray | None = None,
) -> float:
    """Normwise relative residual (backward error) of ``M x = b``, the worst column for 2-D ``b``.

    ``‖M x − b‖∞ / (‖M‖∞ ‖x‖∞ + ‖b‖∞)``, computed on ``x`` and ``b`` scaled by the larger of
    their norms so that ``‖M‖ ‖x‖`` cannot overflow to infinity (which would make any residual
    look like 0). A non-finite ``x`` or residual vector gives ``inf``, never 0; ``b = 0`` with
    ``x = 0`` gives 0.

    Parameters
    ----------
    M : sparse matrix
        The system matrix (already transposed for a transposed solve).
    x, b : numpy.ndarray
        Solution and right-hand side, ``(n,)`` or ``(n, k)``.
    norm_m : float, optional
        ``‖M‖∞`` if already known.
    residuals : numpy.ndarray, optional
        ``M x − b`` if already computed (same shape as ``x``).

    Returns
    -------
    float
    """
    if norm_m is None:
        norm_m = float(np.asarray(abs(sp.csr_matrix(M)).sum(axis=1)).max(initial=0.0))
    if not np.isfinite(norm_m):
        return float("inf")
    with np.errstate(over="ignore", invalid="ignore"):
        x_max = column_max_abs(x.reshape(x.shape[0], -1))  # NaN, inf propagate
        if not np.isfinite(x_max).all():
            return float("inf")
        b_max = column_max_abs(b.reshape(b.shape[0], -1))
        scale = np.maximum(x_max, b_max)
        scale = np.where(scale > 0, scale, 1.0)
        r = M @ x - b if residuals is None else residuals
        num = column_max_abs(r.reshape(x.shape[0], -1)) / scale
        if not np.isfinite(num).all():  # M x overflowed: the product of the scaled vectors
            r = M @ (x.reshape(x.shape[0], -1) / scale) - b.reshape(b.shape[0], -1) / scale
            num = np.abs(r).max(axis=0, initial=0.0)
            if not np.isfinite(num).all():
                return float("inf")
        denom = norm_m * (x_max / scale) + b_max / scale
    ratio = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
    return float(ratio.max(initial=0.0))


def column_max_abs(v: np.ndarray) -> np.ndarray:
    """``maxᵢ |vᵢⱼ|`` of each column of a 2-D array (0 for none), without a temporary ``|v|``.

    NaN and infinities propagate, as in ``np.abs(v).max(axis=0)``.
    """
    with np.errstate(invalid="ignore"):
        return np.maximum(v.max(axis=0, initial=-np.inf), -v.min(axis=0, initial=np.inf)).clip(0)


def check_finite_solution(x: np.ndarray, labels: Sequence[object], what: str) -> None:
    """Raise :class:`NonFiniteValueError` naming the activities whose solution is not finite.

    Parameters
    ----------
    x : numpy.ndarray
        Solution, ``(n,)`` or ``(n, k)``; row ``i`` belongs to activity ``labels[i]``.
    labels : sequence
        Activity id of each row.
    what : str
        What ``x`` is (``"supply"``, ``"score per unit"``), for the message.
    """
    bad_rows = ~np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)
    if not bad_rows.any():
        return
    idx = np.flatnonzero(bad_rows)
    ids = [labels[int(i)] for i in idx]
    raise NonFiniteValueError(
        f"the {what} of {idx.size} activities overflows or is not a number (NaN/infinite): "
        f"{format_ids(ids)}; an amount near the float limit (about 1e308), a production "
        f"amount near zero or a long chain of large factors can cause this"
    )


def check_structure(A: sp.csc_matrix, labels: Sequence[object]) -> None:  # noqa: N803
    """Raise :class:`SingularSystemError` if ``A`` is structurally singular.

    Empty columns/rows and a structural rank below ``n`` (maximum bipartite matching) are
    reported with the activity ids of the unmatched columns.

    Parameters
    ----------
    A : scipy.sparse.csc_matrix
        Square matrix.
    labels : sequence
        Activity id of each column.
    """
    n = A.shape[1]
    Az = sp.csc_matrix(A, copy=True)  # noqa: N806
    Az.eliminate_zeros()
    empty_cols = np.flatnonzero(np.diff(Az.indptr) == 0)
    if empty_cols.size:
        ids = [labels[int(i)] for i in empty_cols]
        raise SingularSystemError(
            f"the technosphere matrix is structurally singular: {empty_cols.size} activities "
            f"have an empty column: {format_ids(ids)}",
            ids,
        )
    empty_rows = np.flatnonzero(np.bincount(Az.indices, minlength=n) == 0)
    if empty_rows.size:
        ids = [labels[int(i)] for i in empty_rows]
        raise SingularSystemError(
            f"the technosphere matrix is structurally singular: {empty_rows.size} products "
            f"(reference products of activities {format_ids(ids)}) have an empty row",
            ids,
        )
    # perm_type="column": for each row, the column matched to it (-1 when unmatched)
    from scipy.sparse.csgraph import maximum_bipartite_matching  # 0.1 s import

    match = maximum_bipartite_matching(Az.tocsr(), perm_type="column")
    unmatched = np.flatnonzero(match < 0)
    if unmatched.size:
        matched_cols = np.zeros(n, dtype=bool)
        matched_cols[match[match >= 0]] = True
        ids = [labels[int(i)] for i in np.flatnonzero(~matched_cols)]
        raise SingularSystemError(
            f"the technosphere matrix is structurally singular (structural rank "
            f"{n - unmatched.size} < {n}); activities without a matched product: "
            f"{format_ids(ids)}",
            ids,
        )


def diagnose_numerical(A: sp.csc_matrix, labels: Sequence[object], reason: str) -> None:  # noqa: N803
    """Raise :class:`SingularSystemError` for a numerically singular ``A``, naming activities.

    Structural problems are reported first. For ``n`` up to :data:`DENSE_SVD_LIMIT` the right
    null vector of a dense SVD names exactly the activities in the dependent set (entries above
    ``1e-8`` of its largest); for larger matrices the message names the activities of the
    cyclic strongly connected components, where a numerical dependency can arise.

    Parameters
    ----------
    A : scipy.sparse.csc_matrix
        Square matrix that failed to factorize.
    labels : sequence
        Activity id of each column.
    reason : str
        What the backend reported.
    """
    check_structure(A, labels)
    n = A.shape[1]
    if n <= DENSE_SVD_LIMIT:
        _, s, vt = np.linalg.svd(A.toarray())
        v = np.abs(vt[-1])
        idx = np.flatnonzero(v > 1e-8 * v.max())
        ids = [labels[int(i)] for i in idx]
        raise SingularSystemError(
            f"the technosphere matrix is numerically singular ({reason}; smallest singular "
            f"value {s[-1]:.3g} vs largest {s[0]:.3g}); linearly dependent activities: "
            f"{format_ids(ids)}",
            ids,
        )
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components(A, directed=True, connection="strong")
    sizes = np.bincount(comp)
    idx = np.flatnonzero(sizes[comp] > 1)
    ids = [labels[int(i)] for i in idx]
    raise SingularSystemError(
        f"the technosphere matrix is numerically singular ({reason}); the dependent set lies in "
        f"the cyclic components of activities {format_ids(ids)}",
        ids,
    )


def confirm_singular(
    A: sp.csc_matrix,  # noqa: N803
    AT: sp.csc_matrix,  # noqa: N803
    labels: Sequence[object],
    reason: str,
) -> None:
    """Let SuperLU decide about a factorization that went through with a tiny pivot.

    Backends that perturb or accept tiny pivots (PARDISO, UMFPACK) call this: when SuperLU on
    ``AT`` (= ``Aᵀ``) fails too, :func:`diagnose_numerical` raises :class:`SingularSystemError`
    naming the activities, with ``reason`` and SuperLU's message; otherwise nothing happens
    and the residual check of every solve decides.
    """
    from scipy.sparse.linalg import splu

    try:
        splu(AT, permc_spec="COLAMD")
    except RuntimeError as exc:
        diagnose_numerical(A, labels, f"{reason}; SuperLU: {exc}")
        raise
