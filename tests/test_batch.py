"""The batched engine: many variants of one technosphere pattern against dense solves."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lcasolve.batch import Baseline, BatchSettings, Pattern, solve_batch
from lcasolve.errors import InputError, PatternChangedError, ShapeMismatchError


def cyclic_matrix(n: int = 60, seed: int = 0) -> sp.csr_matrix:
    """Production 1 on the diagonal, four suppliers per activity (loops), column sums < 1/2."""
    rng = np.random.default_rng(seed)
    rows, cols, vals = list(range(n)), list(range(n)), [1.0] * n
    for j in range(n):
        for i in rng.choice(np.delete(np.arange(n), j), size=4, replace=False):
            rows.append(int(i))
            cols.append(j)
            vals.append(-rng.uniform(0.01, 0.12))
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def variants(base: Baseline, K: int, sigma: float, seed: int = 1) -> np.ndarray:
    """Off-diagonal values scaled by lognormal factors, per variant (the diagonal fixed)."""
    rng = np.random.default_rng(seed)
    data = np.repeat(base.values[:, None], K, axis=1)
    off = np.flatnonzero(~np.isin(np.arange(base.pattern.nnz), base.diag_pos))
    data[off] *= np.exp(sigma * rng.standard_normal((off.size, K)))
    return data


@pytest.fixture(scope="module")
def base() -> Baseline:
    A = cyclic_matrix()  # noqa: N806
    F = np.zeros((60, 2))  # noqa: N806
    F[3, 0] = 1.0
    F[[7, 11], 1] = (2.0, -0.5)
    return Baseline.build(A, F, [f"act{i}" for i in range(60)])


def dense_supplies(base: Baseline, data: np.ndarray, demand: int) -> np.ndarray:
    f = base.demands[:, demand]
    return np.column_stack(
        [
            np.linalg.solve(base.pattern.matrix(data[:, k]).toarray(), f)
            for k in range(data.shape[1])
        ]
    )


def test_baseline_is_the_deterministic_solve_in_sweep_order(base):
    A = cyclic_matrix().toarray()  # noqa: N806
    F = base.demands[base.position]  # noqa: N806 - back in the caller's order
    np.testing.assert_allclose(base.supply[base.position], np.linalg.solve(A, F), rtol=1e-12)
    # the pattern in sweep order is A permuted symmetrically
    M = base.pattern.matrix(base.values).toarray()  # noqa: N806
    np.testing.assert_array_equal(M, A[np.ix_(base.order, base.order)])


@pytest.mark.parametrize(
    "settings",
    [
        BatchSettings(),
        BatchSettings(preconditioner="lu"),
        BatchSettings(method="exact"),
        BatchSettings(max_iter=2),  # most variants go to the fallback
    ],
)
@pytest.mark.parametrize("demand", [0, 1])
def test_every_variant_equals_its_own_dense_solve(base, settings, demand):
    data = variants(base, 9, sigma=0.6)
    sol = solve_batch(base, settings, data, demand)
    ref = dense_supplies(base, data, demand)
    # the residual check is normwise: errors are small against each variant's largest supply
    scale = np.abs(ref).max(axis=0)
    assert (np.abs(sol.supply - ref) <= 1e-8 * scale).all()
    if settings.max_iter == 2:
        assert sol.fallback.size > 0


def test_variants_do_not_depend_on_the_batch(base):
    data = variants(base, 12, sigma=0.4)
    whole = solve_batch(base, BatchSettings(), data).supply
    parts = np.hstack(
        [solve_batch(base, BatchSettings(), data[:, k : k + 5]).supply for k in (0, 5, 10)]
    )
    assert np.array_equal(whole, parts)


def test_baseline_rate_is_the_spectral_radius_of_the_gauss_seidel_iteration(base):
    """``Baseline.rate``: the residual ratio per sweep tends to ρ((D + L)⁻¹ U) in sweep order."""
    c0, c1 = base.cycles
    assert c1 - c0 > 50  # one loop over nearly every activity
    # the sweeps after the first cover the loop's rows, in sweep order: row i after c0 … i - 1
    a = base.pattern.matrix(base.values).toarray()[c0:c1, c0:c1]
    gs = np.linalg.solve(np.tril(a), -np.triu(a, 1))
    rho = np.abs(np.linalg.eigvals(gs)).max()
    assert 0.05 < rho < 0.95
    # measured over sweeps 6 to 12, before the other eigenvalues have quite died out
    assert base.rate == pytest.approx(rho, rel=0.02)
    two = Baseline.build(
        sp.csr_matrix([[1.0, -0.3], [-0.5, 1.0]]), np.array([1.0, 0.0]), ["a", "b"]
    )
    assert two.rate == pytest.approx(0.3 * 0.5, rel=1e-5)  # 2 × 2: ρ = a₁₂ a₂₁
    acyclic = Baseline.build(
        sp.csr_matrix([[1.0, 0.0], [-0.5, 1.0]]), np.array([1.0, 0.0]), ["a", "b"]
    )
    assert np.isnan(acyclic.rate)  # one sweep is exact: no rate to predict with


def test_baseline_pickles_without_its_factorization(base):
    data = variants(base, 3, sigma=0.3)
    base.factorization  # noqa: B018 - built once
    copy = pickle.loads(pickle.dumps(base))
    assert copy._lu == []
    np.testing.assert_array_equal(
        solve_batch(copy, BatchSettings(method="exact"), data).supply,
        solve_batch(base, BatchSettings(method="exact"), data).supply,
    )


def test_pattern_locates_slots_and_refuses_positions_it_does_not_store(base):
    p = base.pattern
    rows = np.repeat(np.arange(p.shape[0]), np.diff(p.indptr))
    np.testing.assert_array_equal(p.locate(rows, p.indices), np.arange(p.nnz))
    dense = p.matrix(base.values).toarray()
    i, j = np.argwhere(dense == 0)[0]
    with pytest.raises(PatternChangedError, match="not in the pattern"):
        p.locate(np.array([i]), np.array([j]))


def test_pattern_from_entries_sums_duplicates_into_one_slot():
    pattern, slot = Pattern.from_entries(np.array([1, 0, 1]), np.array([2, 0, 2]), (2, 3))
    assert pattern.nnz == 2 and slot.tolist() == [1, 0, 1]
    data = np.bincount(slot, weights=[1.0, 2.0, 3.0])[:, None]
    np.testing.assert_array_equal(pattern.multiply(data, np.ones((3, 1)))[:, 0], [2.0, 4.0])


def test_bad_batches_and_settings_are_refused(base):
    with pytest.raises(ShapeMismatchError, match="nnz, variants"):
        solve_batch(base, BatchSettings(), np.ones((3, 2)))
    with pytest.raises(InputError, match="preconditioner"):
        BatchSettings(preconditioner="jacobi")
    with pytest.raises(InputError, match="method"):
        BatchSettings(method="fast")


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40),
    density=st.floats(0.0, 0.3),
    seed=st.integers(0, 2**31),
    ties=st.booleans(),
)
def test_greedy_order_kernel_equals_the_heapq_reference(
    n: int, density: float, seed: int, ties: bool
) -> None:
    from lcasolve.batch._kernels import greedy_order
    from tests import naive

    rng = np.random.default_rng(seed)
    m = sp.random(n, n, density=density, random_state=rng, format="coo")
    keep = m.row != m.col
    u, v = m.col[keep], m.row[keep]
    w = np.ones(u.size) if ties else rng.uniform(0.1, 2.0, u.size)  # equal weights: many ties
    by_src = sp.csr_matrix((w, (u, v)), shape=(n, n))
    by_dst = sp.csr_matrix((w, (v, u)), shape=(n, n))
    for mat in (by_src, by_dst):
        mat.sum_duplicates()
        mat.sort_indices()
    got = greedy_order(
        n,
        by_src.indptr.astype(np.int64),
        by_src.indices.astype(np.int64),
        by_src.data,
        by_dst.indptr.astype(np.int64),
        by_dst.indices.astype(np.int64),
        by_dst.data,
    )
    coo = by_src.tocoo()
    edges = list(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    assert got.tolist() == naive.greedy_order(n, edges)
    assert sorted(got.tolist()) == list(range(n))
