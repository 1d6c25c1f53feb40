"""Singularity diagnosis: name the activities that make a technosphere matrix singular."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import SingularSystemError, format_ids

__all__ = ["check_structure", "diagnose_numerical"]

#: largest matrix for which a dense SVD null vector names the dependent set exactly
DENSE_SVD_LIMIT = 2000


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
