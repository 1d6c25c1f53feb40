"""KLU called directly in kvxopt's library against kvxopt's own module and dense solves."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lcasolve.errors import SingularSystemError
from lcasolve.solve import _libklu
from lcasolve.solve.klu import KLUFactorization
from tests.test_solve_properties import productive

pytest.importorskip("kvxopt.klu", reason="kvxopt (the 'klu' extra) is not installed")

LIB = _libklu.load()
needs_lib = pytest.mark.skipif(LIB is None, reason="kvxopt ships no callable KLU library here")


def with_dense_rows(n: int, seed: int) -> sp.csc_matrix:
    """A productive system whose first activities supply most others (dense rows)."""
    A = productive(n, 0.05, seed, 2).tolil()  # noqa: N806
    rng = np.random.default_rng(seed)
    for j in range(3, n):
        for i in rng.choice(3, size=2, replace=False):
            A[i, j] = -0.01 * abs(A[j, j])
    return sp.csc_matrix(A)


def test_the_library_is_found_on_linux_wheels() -> None:
    import sys

    if sys.platform.startswith("linux"):
        assert LIB is not None, "kvxopt's wheel ships libklu here; the binding did not load it"


@needs_lib
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_direct_and_module_factorizations_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    A = with_dense_rows(150, seed)  # noqa: N806
    B = np.random.default_rng(seed).normal(size=(150, 3))  # noqa: N806
    # AMD with KLU's own dense threshold: the direct call orders exactly as kvxopt's module, so
    # the fill-in counts (read from the numeric object's layout) must be the same
    monkeypatch.setattr(_libklu, "AMD_DENSE", 10.0)
    direct = KLUFactorization(A)
    assert direct._direct is not None
    monkeypatch.setattr(_libklu, "load", lambda: None)
    module = KLUFactorization(A)
    assert module._direct is None
    assert direct.factor_nnz == module.factor_nnz
    dense = A.toarray()
    for transposed in (False, True):
        M = dense.T if transposed else dense  # noqa: N806
        x_ref = np.linalg.solve(M, B)
        for fact in (direct, module):
            x = fact.solve(B, transposed=transposed).x
            assert np.allclose(x, x_ref, rtol=1e-11, atol=1e-13)
        x1 = direct.solve(B[:, 0], transposed=transposed).x
        assert x1.shape == (150,)
        assert np.allclose(x1, x_ref[:, 0], rtol=1e-11, atol=1e-13)


@needs_lib
def test_lower_dense_threshold_keeps_the_solution() -> None:
    A = with_dense_rows(200, 7)  # noqa: N806
    b = np.arange(1.0, 201.0)
    fact = KLUFactorization(A)  # AMD_DENSE = 2
    x = fact.solve(b).x
    assert np.allclose(A @ x, b, rtol=1e-12)
    # every entry of A is in the factors' pattern at least once (L + U + off-diagonal blocks)
    assert fact.factor_nnz >= A.nnz


@needs_lib
def test_refactorization_shares_the_analysis() -> None:
    A = with_dense_rows(120, 4)  # noqa: N806
    fact = KLUFactorization(A)
    new = A.copy()
    new.data = new.data * np.random.default_rng(4).uniform(0.9, 1.1, new.nnz)
    again = fact.refactorize(new)
    assert again._shared is fact._shared
    b = np.ones(120)
    assert np.allclose(again.solve(b).x, np.linalg.solve(new.toarray(), b), rtol=1e-11)
    assert np.allclose(fact.solve(b).x, np.linalg.solve(A.toarray(), b), rtol=1e-11)


@needs_lib
def test_numerically_singular_matrix_names_activities() -> None:
    # activity "b" is a copy of activity "a": structurally fine, numerically singular
    A = sp.csc_matrix(np.array([[1.0, 1.0, 0.0], [-0.5, -0.5, 0.0], [0.0, -1.0, 1.0]]))  # noqa: N806
    with pytest.raises(SingularSystemError, match="'a'|'b'"):
        KLUFactorization(A, labels=["a", "b", "c"])


def test_module_fallback_when_no_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_libklu, "load", lambda: None)
    A = productive(60, 0.1, 11, 3)  # noqa: N806
    fact = KLUFactorization(A)
    b = np.linspace(1, 2, 60)
    assert np.allclose(fact.solve(b).x, np.linalg.solve(A.toarray(), b), rtol=1e-11)
    assert np.allclose(
        fact.solve(b, transposed=True).x, np.linalg.solve(A.toarray().T, b), rtol=1e-11
    )
