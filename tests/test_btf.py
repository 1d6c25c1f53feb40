"""The block-triangular solver: the permutation, segments, and solves on mixed structures."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from lcasolve.errors import SingularSystemError
from lcasolve.solve import factorize
from lcasolve.solve.btf import MIN_TRIANGULAR_RUN, _segments, block_triangular_order
from lcasolve.synthetic import generate


def block_structured(sizes: list[int], seed: int, density: float = 0.3) -> sp.csc_matrix:
    """A productive matrix with strong components of the given sizes, randomly permuted.

    Blocks are placed in a DAG (block k may use products of any later block), each block of
    size > 1 is made strongly connected by a ring.
    """
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    start = np.concatenate([[0], np.cumsum(sizes)])
    T = np.zeros((n, n))  # noqa: N806
    for k, size in enumerate(sizes):
        lo, hi = start[k], start[k + 1]
        if size > 1:
            for i in range(size):
                T[lo + (i + 1) % size, lo + i] = rng.uniform(0.1, 0.5)
        # column j (in block k) uses products of later blocks (an acyclic coupling)
        if hi < n:
            mask = rng.random((n - hi, size)) < density / max(1, len(sizes) ** 0.5)
            T[hi:, lo:hi] += mask * rng.uniform(0.1, 1.0, mask.shape)
    np.fill_diagonal(T, 0.0)
    colsum = T.sum(axis=0)
    T *= np.where(colsum > 0, rng.uniform(0.3, 0.9, n) / np.maximum(colsum, 1e-300), 1.0)
    prod = 10.0 ** rng.uniform(-2, 2, n)  # badly scaled, as real databases are
    A = (np.eye(n) - T) * prod  # noqa: N806
    p = rng.permutation(n)
    return sp.csc_matrix(A[p][:, p])


def test_permutation_is_block_lower_triangular_with_strong_components() -> None:
    A = block_structured([1, 4, 1, 1, 3, 1, 6, 1, 1, 2], seed=3)  # noqa: N806
    perm, ptr = block_triangular_order(A)
    M = A.toarray()[perm][:, perm]  # noqa: N806
    block = np.repeat(np.arange(ptr.shape[0] - 1), np.diff(ptr))
    rows, cols = np.nonzero(M)
    assert np.all(block[cols] <= block[rows]), "an entry above the block diagonal"
    n_comp, labels = connected_components(A, directed=True, connection="strong")
    assert n_comp == ptr.shape[0] - 1
    # each block is exactly one strong component
    for k in range(n_comp):
        members = perm[ptr[k] : ptr[k + 1]]
        assert np.unique(labels[members]).size == 1
        assert (labels == labels[members[0]]).sum() == members.size
    assert sorted(np.diff(ptr).tolist()) == sorted([1, 4, 1, 1, 3, 1, 6, 1, 1, 2])


def test_segments_group_runs() -> None:
    short = [1] * (MIN_TRIANGULAR_RUN - 1)
    long = [1] * MIN_TRIANGULAR_RUN
    sizes = np.array([*long, 5, *short, 3, *long, 2])
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    segs = _segments(ptr)
    n_long, n_mid = len(long), 5 + len(short) + 3
    assert segs == [
        (0, n_long, False),
        (n_long, n_long + n_mid, True),  # the short run between two cycles joins their LU
        (n_long + n_mid, 2 * n_long + n_mid, False),
        (2 * n_long + n_mid, 2 * n_long + n_mid + 2, True),
    ]
    # leading and trailing short runs are substituted, not factorized
    ptr = np.concatenate([[0], np.cumsum([1, 1, 4, 1])])
    assert _segments(ptr) == [(0, 2, False), (2, 6, True), (6, 7, False)]
    assert _segments(np.array([0, 1, 2, 3])) == [(0, 3, False)]


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(
        st.one_of(st.just(1), st.just(1), st.integers(2, 9), st.integers(17, 40)),
        min_size=1,
        max_size=25,
    ),
    seed=st.integers(0, 2**31),
    k=st.integers(1, 4),
    transposed=st.booleans(),
)
def test_btf_matches_dense_and_superlu(sizes, seed, k, transposed) -> None:
    A = block_structured(sizes, seed)  # noqa: N806
    rng = np.random.default_rng(seed + 1)
    B = rng.uniform(-1, 1, (A.shape[0], k))  # noqa: N806
    D = A.toarray().T if transposed else A.toarray()  # noqa: N806
    ref = np.linalg.solve(D, B)
    btf = factorize(A, "btf")
    r = btf.solve(B, transposed=transposed)
    assert r.residual <= 1e-12
    np.testing.assert_allclose(r.x, ref, rtol=1e-8, atol=1e-12 * np.abs(ref).max())
    other = factorize(A, "superlu").solve(B, transposed=transposed).x
    np.testing.assert_allclose(r.x, other, rtol=1e-8, atol=1e-12 * np.abs(ref).max())


def test_synthetic_database_structure_and_fill() -> None:
    system = generate(2000, seed=5)
    btf = factorize(system.A, "btf")
    superlu = factorize(system.A, "superlu")
    # the generator's design: 75 % of the activities in one loop, the rest outside any loop
    assert btf.largest_block == 1500
    assert btf.n_blocks == 501
    assert btf.factor_nnz < superlu.factor_nnz
    b = np.zeros(2000)
    b[[3, 1999]] = 1.0
    for transposed in (False, True):
        x = btf.solve(b, transposed=transposed)
        y = superlu.solve(b, transposed=transposed)
        assert x.residual <= 1e-12
        np.testing.assert_allclose(x.x, y.x, rtol=1e-9, atol=1e-12 * np.abs(y.x).max())


def test_zero_production_outside_loops_is_named() -> None:
    A = sp.lil_matrix(np.eye(4))  # noqa: N806
    A[0, 1] = -0.5
    A[1, 1] = 0.0  # activity "b" produces nothing, and is in no loop
    A[2, 1] = -1.0
    with pytest.raises(SingularSystemError, match="'b'") as info:
        factorize(sp.csc_matrix(A), "btf", labels=list("abcd"))
    assert info.value.activities == ["b"]


@pytest.mark.parametrize("block_solver", ["superlu", "umfpack"])
def test_block_solvers_agree_with_dense_solves(block_solver: str) -> None:
    import lcasolve
    from lcasolve.solve.btf import BTFFactorization
    from lcasolve.solve.umfpack import umfpack_available

    if block_solver == "umfpack" and not umfpack_available():
        pytest.skip(
            "the UMFPACK block solver needs 'scikit-umfpack' (pip install 'lcasolve[umfpack]')"
        )
    A = block_structured([1, 5, 1, 3, 1, 8, 2, 1], seed=11)  # noqa: N806
    rng = np.random.default_rng(0)
    B = rng.uniform(-1, 1, (A.shape[0], 3))  # noqa: N806
    with lcasolve.set_options(block_solver=block_solver):
        fact = BTFFactorization(A)
    assert fact.block_solver == block_solver
    dense = A.toarray()
    for transposed, M in ((False, dense), (True, dense.T)):  # noqa: N806
        r = fact.solve(B, transposed=transposed)
        assert r.residual <= 1e-12
        np.testing.assert_allclose(r.x, np.linalg.solve(M, B), rtol=1e-10)
    assert BTFFactorization(A, block_solver=block_solver).factor_nnz == fact.factor_nnz


def test_unknown_block_solver_is_an_input_error() -> None:
    from lcasolve.errors import InputError
    from lcasolve.solve.btf import BTFFactorization

    with pytest.raises(InputError, match="block_solver"):
        BTFFactorization(block_structured([3], seed=1), block_solver="klu")


def test_refactorization_keeps_the_order_and_finds_a_zero_pivot() -> None:
    from lcasolve.solve.btf import BTFFactorization

    A = block_structured([1, 5, 1, 3, 1, 8, 2, 1], seed=11)  # noqa: N806
    fact = BTFFactorization(A, labels=[f"a{j}" for j in range(A.shape[0])])
    new = A.copy()
    new.data = new.data * np.random.default_rng(2).uniform(0.9, 1.1, new.nnz)
    again = fact.refactorize(new)
    assert again.perm is fact.perm and again.block_solver == fact.block_solver
    b = np.arange(1.0, A.shape[0] + 1)
    np.testing.assert_allclose(again.solve(b).x, np.linalg.solve(new.toarray(), b), rtol=1e-10)
    # a singleton block (in no loop) whose production becomes zero: named, not a wrong answer
    starts = np.concatenate([[0], np.cumsum(fact.block_sizes)])
    single = int(fact.perm[starts[int(np.flatnonzero(fact.block_sizes == 1)[0])]])
    zero = A.copy()
    zero[single, single] = 0.0  # stored explicitly: the pattern is unchanged
    assert zero.nnz == A.nnz
    with pytest.raises(SingularSystemError, match=f"a{single}"):
        fact.refactorize(zero.data)
