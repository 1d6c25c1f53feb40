"""Hypothesis properties of the solvers on random productive systems with cyclic blocks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lcasolve.errors import PatternChangedError
from lcasolve.solve import available_backends, factorize


def productive(n: int, density: float, seed: int, blocks: int) -> sp.csc_matrix:
    """``diag(p) (I − T)``: T ≥ 0 with off-diagonal column sums < 1 and ``blocks`` rings."""
    rng = np.random.default_rng(seed)
    T = sp.random(n, n, density=density, random_state=rng, format="lil")  # noqa: N806
    for grp in np.array_split(rng.permutation(n), blocks):
        for a, b in zip(grp, np.roll(grp, 1), strict=True):
            if a != b:
                T[a, b] = rng.uniform(0.05, 0.5)
    T = sp.csc_matrix(T)  # noqa: N806
    T.setdiag(0)
    T.eliminate_zeros()
    colsum = np.asarray(T.sum(axis=0)).ravel()
    scale = np.where(colsum > 0, rng.uniform(0.2, 0.95, n) / np.maximum(colsum, 1e-300), 1.0)
    prod = rng.uniform(0.5, 2.0, n)
    return sp.csc_matrix(sp.diags(prod) - (T @ sp.diags(scale)) @ sp.diags(prod))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 80),
    density=st.floats(0.0, 0.2),
    seed=st.integers(0, 2**31),
    blocks=st.integers(1, 6),
    k=st.integers(1, 5),
    transposed=st.booleans(),
)
def test_random_productive_systems(
    n: int, density: float, seed: int, blocks: int, k: int, transposed: bool
) -> None:
    A = productive(n, density, seed, min(blocks, n))  # noqa: N806
    D = A.toarray().T if transposed else A.toarray()  # noqa: N806
    rng = np.random.default_rng(seed + 1)
    B = rng.uniform(-1, 1, (n, k))  # noqa: N806
    ref = np.linalg.solve(D, B)
    x_super = None
    for backend in available_backends():
        fact = factorize(A, backend)
        r = fact.solve(B, transposed=transposed)
        assert r.residual <= 1e-12
        np.testing.assert_allclose(r.x, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
        r1 = fact.solve(B[:, 0], transposed=transposed)
        assert r1.x.shape == (n,)
        np.testing.assert_allclose(r1.x, r.x[:, 0], rtol=1e-12, atol=1e-14)
        if x_super is None:
            x_super = r.x
        else:
            np.testing.assert_allclose(r.x, x_super, rtol=1e-10, atol=1e-13 * np.abs(ref).max())


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(2, 60),
    density=st.floats(0.0, 0.2),
    seed=st.integers(0, 2**31),
    blocks=st.integers(1, 5),
    backend=st.sampled_from(available_backends()),
)
def test_adjoint_scores_equal_one_by_one_scores(
    n: int, density: float, seed: int, blocks: int, backend: str
) -> None:
    from lcasolve import LCA, build_system

    A = sp.coo_matrix(productive(n, density, seed, min(blocks, n)))  # noqa: N806
    rng = np.random.default_rng(seed + 2)
    flows = rng.integers(0, 3, 2 * n)
    system = build_system(
        technosphere=list(zip(A.row.tolist(), A.col.tolist(), A.data.tolist(), strict=True)),
        biosphere=[
            (f"f{int(k)}", j, float(v))
            for k, j, v in zip(
                flows, np.repeat(np.arange(n), 2), rng.uniform(0, 2, 2 * n), strict=True
            )
        ],
        characterization={"c0": {"f0": 1.0, "f1": 25.0}, "c1": {"f2": 1.0, "f1": -3.0}},
    )
    lca = LCA(system, backend=backend)
    all_scores = lca.activity_scores()
    assert all_scores.residual <= 1e-12
    for pid in system.activities["product_id"].tolist():
        one = lca.calculate({pid: 1.0})
        assert one.residual <= 1e-12
        for cat in ("c0", "c1"):
            expected = one.score(cat)
            got = all_scores.score(pid, cat)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12 * max(1.0, abs(expected)))


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 60),
    density=st.floats(0.0, 0.2),
    seed=st.integers(0, 2**31),
    blocks=st.integers(1, 5),
    as_matrix=st.booleans(),
)
def test_refactorized_systems_agree_with_dense_solves(
    n: int, density: float, seed: int, blocks: int, as_matrix: bool
) -> None:
    """New values on the same pattern: both orientations match a dense solve of the new matrix."""
    A = productive(n, density, seed, min(blocks, n))  # noqa: N806
    rng = np.random.default_rng(seed + 3)
    # the same pattern, new values: production scaled, inputs scaled (still productive)
    new = A.copy()
    diag = new.diagonal()
    new.data *= rng.uniform(0.5, 1.0, new.nnz)
    new.setdiag(diag * rng.uniform(1.0, 1.5, n))
    B = rng.uniform(-1, 1, (n, 3))  # noqa: N806
    ref = np.linalg.solve(new.toarray(), B)
    ref_t = np.linalg.solve(new.toarray().T, B)
    for backend in available_backends():
        fact = factorize(A, backend)
        again = fact.refactorize(new if as_matrix else new.data)
        assert again.backend == fact.backend
        for transposed, expected in ((False, ref), (True, ref_t)):
            r = again.solve(B, transposed=transposed)
            assert r.residual <= 1e-12
            np.testing.assert_allclose(
                r.x, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max()
            )
        # the original factorization is untouched
        np.testing.assert_allclose(
            fact.solve(B).x, np.linalg.solve(A.toarray(), B), rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("backend", available_backends())
def test_refactorization_with_a_changed_pattern_is_refused(backend: str) -> None:
    A = productive(12, 0.1, 7, 2)  # noqa: N806
    fact = factorize(A, backend, labels=[f"act{j}" for j in range(12)])
    dense = A.toarray()
    zero = np.argwhere(dense == 0)[0]
    dense[tuple(zero)] = -0.01  # one more input
    with pytest.raises(PatternChangedError, match=f"act{zero[1]}"):
        fact.refactorize(sp.csc_matrix(dense))
    with pytest.raises(PatternChangedError, match="values given"):
        fact.refactorize(A.data[:-1])
    with pytest.raises(PatternChangedError, match="cannot replace"):
        fact.refactorize(sp.eye(13, format="csc"))
