"""Sparse direct solvers: dense references, backend agreement, singularity naming, USEEIO L."""

from __future__ import annotations

import gzip
import json
import threading

import numpy as np
import pytest
import scipy.sparse as sp

from lcasolve.errors import MissingExtraError, SingularSystemError
from lcasolve.solve import available_backends, factorize


def productive(n: int, density: float, seed: int, blocks: int = 3) -> sp.csc_matrix:
    """``I − T`` with nonnegative T, off-diagonal column sums < 1, several cyclic blocks."""
    rng = np.random.default_rng(seed)
    T = sp.random(n, n, density=density, random_state=rng, format="lil")  # noqa: N806
    # plant cycles: a ring inside each of `blocks` index ranges
    edges = np.array_split(rng.permutation(n), blocks)
    for grp in edges:
        for a, b in zip(grp, np.roll(grp, 1), strict=True):
            if a != b:
                T[a, b] = rng.uniform(0.05, 0.5)
    T = sp.csc_matrix(T)  # noqa: N806
    T.setdiag(0)
    T.eliminate_zeros()
    colsum = np.asarray(T.sum(axis=0)).ravel()
    scale = np.where(colsum > 0, rng.uniform(0.3, 0.95, n) / np.maximum(colsum, 1e-300), 1.0)
    T = T @ sp.diags(scale)  # noqa: N806
    prod = rng.uniform(0.5, 2.0, n)
    return sp.csc_matrix(sp.diags(prod) - T @ sp.diags(prod))


BACKENDS = ["btf", "superlu", "pardiso", "umfpack"]


def get(A, backend, labels=None):  # noqa: N803
    try:
        return factorize(A, backend, labels=labels)
    except MissingExtraError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_dense_reference(backend: str, seed: int) -> None:
    A = productive(120, 0.04, seed)  # noqa: N806
    D = A.toarray()  # noqa: N806
    rng = np.random.default_rng(seed + 10)
    b = rng.uniform(-1, 1, 120)
    B = rng.uniform(0, 1, (120, 7))  # noqa: N806
    fact = get(A, backend)
    r = fact.solve(b)
    assert r.residual <= 1e-12
    np.testing.assert_allclose(r.x, np.linalg.solve(D, b), rtol=1e-10, atol=1e-12)
    rt = fact.solve(b, transposed=True)
    assert rt.residual <= 1e-12
    np.testing.assert_allclose(rt.x, np.linalg.solve(D.T, b), rtol=1e-10, atol=1e-12)
    R = fact.solve(B)  # noqa: N806
    assert R.x.shape == (120, 7) and R.residual <= 1e-12
    np.testing.assert_allclose(R.x, np.linalg.solve(D, B), rtol=1e-10, atol=1e-12)
    RT = fact.solve(B, transposed=True)  # noqa: N806
    np.testing.assert_allclose(RT.x, np.linalg.solve(D.T, B), rtol=1e-10, atol=1e-12)
    assert fact.factor_nnz >= 120


@pytest.mark.parametrize("backend", BACKENDS)
def test_adjoint_scores_equal_one_by_one(backend: str) -> None:
    A = productive(200, 0.03, 5)  # noqa: N806
    rng = np.random.default_rng(3)
    cB = rng.uniform(0, 2, (200, 4))  # noqa: N806  characterized flows per activity, 4 categories
    fact = get(A, backend)
    adj = fact.solve(cB, transposed=True).x  # (n activities, categories): score per unit demand
    for j in rng.choice(200, 15, replace=False):
        e = np.zeros(200)
        e[j] = 1.0
        s = fact.solve(e).x
        np.testing.assert_allclose(adj[j], cB.T @ s, rtol=1e-11)


@pytest.mark.parametrize("backend", ["btf", "pardiso", "umfpack"])
def test_backends_agree_with_superlu(backend: str) -> None:
    A = productive(400, 0.01, 9, blocks=5)  # noqa: N806
    b = np.random.default_rng(1).uniform(0, 1, (400, 3))
    ref = factorize(A, "superlu").solve(b).x
    other = get(A, backend).solve(b).x
    np.testing.assert_allclose(other, ref, rtol=1e-11)


def test_available_and_auto() -> None:
    names = available_backends()
    assert "superlu" in names
    A = productive(30, 0.1, 4)  # noqa: N806
    b = np.ones(30)
    np.testing.assert_allclose(factorize(A).solve(b).x, np.linalg.solve(A.toarray(), b))


@pytest.mark.parametrize("backend", BACKENDS)
def test_structural_singularity_names_activities(backend: str) -> None:
    A = productive(20, 0.1, 7).tolil()  # noqa: N806
    A[:, 4] = 0  # activity "a4" has an empty column
    labels = [f"a{i}" for i in range(20)]
    with pytest.raises(SingularSystemError) as info:
        get(sp.csc_matrix(A), backend, labels)
    assert info.value.activities == ["a4"]
    assert "a4" in str(info.value)
    # structural rank deficiency without empty rows/columns: "v" and "w" both supply only
    # product row 0, and rows 1 and 2 are both made only by "u": structural rank 2 < 3
    M = sp.csc_matrix(np.array([[1.0, 1.0, 1.0], [-0.5, 0.0, 0.0], [-0.5, 0.0, 0.0]]))  # noqa: N806
    with pytest.raises(SingularSystemError, match="structural rank 2 < 3") as info:
        get(M, backend, list("uvw"))
    assert len(info.value.activities) == 1 and info.value.activities[0] in {"v", "w"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_numerical_singularity_names_dependent_set(backend: str) -> None:
    # activities 2 and 3 produce the same product mix: columns 2 and 3 are proportional
    D = np.eye(8)  # noqa: N806
    D[0, 1] = -0.2
    D[2, 2], D[3, 2] = 1.0, -1.0
    D[2, 3], D[3, 3] = -2.0, 2.0
    D[2, 5] = -0.3
    labels = [f"act{i}" for i in range(8)]
    with pytest.raises(SingularSystemError) as info:
        get(sp.csc_matrix(D), backend, labels)
    assert sorted(info.value.activities) == ["act2", "act3"]


def test_shared_between_threads() -> None:
    A = productive(300, 0.02, 11)  # noqa: N806
    B = np.random.default_rng(2).uniform(0, 1, (300, 16))  # noqa: N806
    ref = np.linalg.solve(A.toarray(), B)
    for backend in available_backends():
        fact = factorize(A, backend)
        out = np.empty_like(B)

        def work(cols: range, f=fact, o=out) -> None:
            for j in cols:
                o[:, j] = f.solve(B[:, j]).x

        ts = [threading.Thread(target=work, args=(range(k, 16, 4),)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        np.testing.assert_allclose(out, ref, rtol=1e-10)


@pytest.mark.parametrize("backend", ["btf", "superlu", "pardiso"])
def test_useeio_leontief_inverse(shared_data, backend: str) -> None:
    folder = shared_data / "useeio" / "USEEIO" / "matrix"
    with gzip.open(folder / "A.json.gz") as fh:
        A = np.array(json.load(fh))  # noqa: N806
    with gzip.open(folder / "L.json.gz") as fh:
        L = np.array(json.load(fh))  # noqa: N806
    n = A.shape[0]
    assert A.shape == L.shape == (388, 388)
    fact = get(sp.csc_matrix(np.eye(n) - A), backend)
    r = fact.solve(np.eye(n))
    assert r.residual <= 1e-12
    rel = np.abs(r.x - L).max(axis=0) / np.abs(L).max(axis=0)
    assert rel.max() <= 1e-9
