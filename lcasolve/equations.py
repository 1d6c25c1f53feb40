"""The equations of DESIGN §1 as pure functions on matrices and vectors.

``A s = f`` (supply), ``g = B s`` (inventory), ``h = C g`` (scores) and the adjoint
``Aᵀ λ = Bᵀ c`` whose solution gives every activity's score per unit of its product.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lcasolve.solve import Factorization, SolveResult, factorize

__all__ = ["adjoint", "inventory", "scores", "supply"]


def supply(A: sp.spmatrix | Factorization, f: np.ndarray) -> SolveResult:  # noqa: N803
    """Supply ``s`` from ``A s = f``.

    Parameters
    ----------
    A : sparse matrix or Factorization
        Technosphere matrix, or its factorization (reused).
    f : numpy.ndarray
        Final demand, shape ``(n,)`` or ``(n, d)`` for ``d`` demands.

    Returns
    -------
    SolveResult
        ``x`` is ``s``; ``residual`` is the relative residual of the solve.
    """
    fact = A if isinstance(A, Factorization) else factorize(A)
    return fact.solve(f)


def inventory(B: sp.spmatrix, s: np.ndarray) -> np.ndarray:  # noqa: N803
    """Inventory ``g = B s``."""
    return np.asarray(B @ s)


def scores(C: sp.spmatrix, g: np.ndarray) -> np.ndarray:  # noqa: N803
    """Scores ``h = C g``, one per impact category (row of ``C``).

    Also ``h = (C B) s`` with ``C B`` in place of ``C`` and the supply in place of ``g``.
    """
    return np.asarray(C @ g)


def adjoint(A: sp.spmatrix | Factorization, cB: np.ndarray) -> SolveResult:  # noqa: N803
    """Adjoint ``λ`` from ``Aᵀ λ = (C B)ᵀ``: the score of one unit of each product.

    Parameters
    ----------
    A : sparse matrix or Factorization
        Technosphere matrix or its factorization.
    cB : numpy.ndarray
        Direct impacts per unit of activity, ``(C B)ᵀ``: shape ``(n,)`` for one category or
        ``(n, k)`` for ``k`` categories.

    Returns
    -------
    SolveResult
        ``x`` is ``λ``: ``λ_j`` is the score of the demand ``f = e_j``.
    """
    fact = A if isinstance(A, Factorization) else factorize(A)
    return fact.solve(cB, transposed=True)
