"""Sparse direct solvers behind one small protocol: ``factorize(A) -> Factorization``.

Backends are registered by name and imported only when used.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence

import scipy.sparse as sp

from lcasolve._options import get_options
from lcasolve.errors import InputError
from lcasolve.solve._base import Factorization, SolveResult, relative_residual

__all__ = [
    "Factorization",
    "SolveResult",
    "available_backends",
    "factorize",
    "relative_residual",
]

#: name -> (module, class, optional package it needs)
_BACKENDS: dict[str, tuple[str, str, str | None]] = {
    "klu": ("lcasolve.solve.klu", "KLUFactorization", "kvxopt"),
    "btf": ("lcasolve.solve.btf", "BTFFactorization", None),
    "superlu": ("lcasolve.solve.superlu", "SuperLUFactorization", None),
    "pardiso": ("lcasolve.solve.pardiso", "PardisoFactorization", "pypardiso"),
    "umfpack": ("lcasolve.solve.umfpack", "UmfpackFactorization", "scikits.umfpack"),
}
#: order tried by ``backend="auto"``
_AUTO_ORDER = ("klu", "btf")


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # parent package missing
        return False


def available_backends() -> list[str]:
    """Names of the backends whose packages are installed."""
    out = []
    for name, (_, _, package) in _BACKENDS.items():
        if package is None or _has_module(package):
            out.append(name)
    return out


def factorize(
    A: sp.spmatrix,  # noqa: N803
    backend: str | None = None,
    *,
    labels: Sequence[object] | None = None,
) -> Factorization:
    """Factorize a square sparse matrix for repeated solves.

    Parameters
    ----------
    A : scipy.sparse matrix
        Square matrix.
    backend : str, optional
        ``"auto"`` (default, from :func:`lcasolve.set_options`), or a name from
        :func:`available_backends`.
    labels : sequence, optional
        Column names (activity ids) for error messages.

    Returns
    -------
    Factorization
    """
    name = backend or get_options().backend
    if name == "auto":
        name = next(b for b in _AUTO_ORDER if b in available_backends())
    if name not in _BACKENDS:
        raise InputError(f"unknown solver backend {name!r}; known: {sorted(_BACKENDS)}")
    module, cls, _ = _BACKENDS[name]
    factory = getattr(importlib.import_module(module), cls)
    return factory(A, labels=labels)
