"""Productivity: a block of activities that only take inputs from each other must converge.

Write ``A = D − M`` with ``D`` the production on the diagonal. In a strongly connected block
whose off-diagonal entries are all inputs (``M_bb ≥ 0``, no avoided products or credits), the
supply of a non-negative demand is non-negative exactly when the block is productive: the
spectral radius of its technical coefficients ``M_bb D_bb⁻¹`` is below 1 (``A_bb`` is then a
non-singular M-matrix, ``A_bb⁻¹ ≥ 0``). Otherwise the loop amplifies instead of converging and
the solve returns negative supplies — numbers without meaning (TianGong's CEEIO sectors,
written with inputs up to 1e5 times their output).

The test of a block is the M-matrix criterion: solve ``A_bb y = 1``; the block is productive
exactly when every ``y > 0`` (irreducible Z-matrix). It runs only when a supply comes out
negative for a non-negative demand; negative supplies caused by avoided products or credits
(blocks with positive off-diagonal entries, or no block at all) stay allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import NotProductiveError, format_ids

__all__ = ["check_productive", "unproductive_blocks"]

#: a supply below ``-NEGATIVE × max |s|`` counts as negative
NEGATIVE = 1e-9


def unproductive_blocks(
    A: sp.spmatrix,  # noqa: N803 - the symbol of the equations
    reached: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The cyclic all-input blocks of ``A`` that are not productive.

    Parameters
    ----------
    A : sparse matrix
        Technosphere matrix (production positive on the diagonal, inputs negative).
    reached : numpy.ndarray of bool, optional
        Only blocks with at least one of these activities are tested (default: all).

    Returns
    -------
    list of numpy.ndarray
        The activity positions of each unproductive block.
    """
    from scipy.sparse.csgraph import connected_components

    from lcasolve.errors import SingularSystemError
    from lcasolve.solve import factorize

    A = sp.csc_matrix(A)  # noqa: N806
    off = A - sp.diags(A.diagonal())
    off.eliminate_zeros()
    n_blocks, label = connected_components(off, directed=True, connection="strong")
    sizes = np.bincount(label, minlength=n_blocks)
    out: list[np.ndarray] = []
    for b in np.flatnonzero(sizes > 1):
        idx = np.flatnonzero(label == b)
        if reached is not None and not reached[idx].any():
            continue
        sub = sp.csc_matrix(A[idx][:, idx])
        inner = sub - sp.diags(sub.diagonal())
        if (inner.data > 0).any():
            continue  # avoided products or credits inside: negative supplies may be right
        try:  # the default backend (KLU): SuperLU took 72 s on eco20k's 15,000-activity loop
            y = factorize(sub).solve(np.ones(idx.size), check=False).x
        except SingularSystemError:  # exactly singular: spectral radius 1
            out.append(idx)
            continue
        if not np.all(np.isfinite(y)) or (y <= 0).any():
            out.append(idx)
    return out


def check_productive(
    A: sp.spmatrix,  # noqa: N803
    f: np.ndarray,
    s: np.ndarray,
    labels: Sequence[object],
    names: Sequence[object] | None = None,
) -> None:
    """Raise :class:`~lcasolve.errors.NotProductiveError` for a meaningless supply.

    Parameters
    ----------
    A : sparse matrix
        Technosphere matrix.
    f, s : numpy.ndarray
        Demand and supply, shape ``(n,)`` or ``(n, d)``; demands with a negative entry are
        not checked (their negative supplies may be intended).
    labels : sequence
        Activity id of each column.
    names : sequence, optional
        Activity names for the message.

    Raises
    ------
    NotProductiveError
        When a non-negative demand gives a negative supply and a block it reaches whose
        technical coefficients are all inputs is not productive.
    """
    F = f.reshape(len(f), -1)  # noqa: N806
    S = s.reshape(len(s), -1)  # noqa: N806
    checked = (F >= 0).all(axis=0)
    if not checked.any():
        return
    S = S[:, checked]  # noqa: N806
    scale = np.abs(S).max(axis=0)
    negative = -NEGATIVE * scale > S
    if not negative.any():
        return
    reached = (S != 0).any(axis=1)
    blocks = unproductive_blocks(A, reached)
    if not blocks:
        return
    idx = max(blocks, key=len)
    ids = [labels[int(i)] for i in idx]
    shown = [
        f"{labels[int(i)]!s} ({names[int(i)]!s})"
        if names is not None and str(names[int(i)]) != str(labels[int(i)])
        else str(labels[int(i)])
        for i in idx
    ]
    more = f" (and {len(blocks) - 1} more such blocks)" if len(blocks) > 1 else ""
    worst = int(np.argmin(S.min(axis=1)))
    raise NotProductiveError(
        f"the technosphere is not productive: a block of {idx.size} activities that take "
        f"inputs only from each other needs more of their products than it makes (the spectral "
        f"radius of its technical coefficients is at least 1), so the supply of a non-negative "
        f"demand comes out negative (e.g. {labels[worst]!s}: {S[worst].min():.3g}); the block: "
        f"{format_ids(shown, 5)}{more}. Check the units and reference amounts of these "
        f"activities (inputs far larger than the output), or pass allow_unproductive=True to "
        f"LCA to compute anyway",
        ids,
    )
