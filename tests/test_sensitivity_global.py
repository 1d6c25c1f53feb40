"""Global indices on analytic models (linear, Ishigami) and on Monte Carlo runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import InputError
from lcasolve.sensitivity import (
    delta,
    global_sensitivities,
    local_sensitivities,
    screen,
    sobol,
    sobol_design,
    spearman,
    src,
)
from lcasolve.sensitivity.gsa import table


def linear_model(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    coef = np.array([4.0, -2.0, 1.0, 0.5, 0.0])
    sd = np.array([1.0, 1.5, 2.0, 1.0, 3.0])
    X = rng.normal(10.0, sd, size=(n, 5))
    y = X @ coef
    share = (coef * sd) ** 2 / np.sum((coef * sd) ** 2)
    return X, y, coef, sd, share


def test_src_squared_is_the_variance_share_of_a_linear_model():
    X, y, coef, sd, share = linear_model(20000)
    beta, r2 = src(X, y)
    assert r2 == pytest.approx(1.0, abs=1e-12)
    # exact regression on a linear model: SRC_i = coef_i * sample std_i / sample std_y
    np.testing.assert_allclose(beta, coef * X.std(axis=0) / y.std(), rtol=1e-10, atol=1e-12)
    # and SRC² estimates the analytic variance share within sampling error (~1/sqrt(n))
    np.testing.assert_allclose(beta**2, share, atol=0.01)
    res = table(X, y)
    assert res.table["contribution"].sum() == pytest.approx(1.0)
    assert res.table["input"].iloc[0] == 0  # (4 * 1)² = 16 is the largest term


def test_src_r2_drops_with_noise_and_spearman_keeps_signs():
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, size=(5000, 3))
    noise = rng.normal(0, 1, 5000)
    y = 3 * X[:, 0] - 3 * X[:, 1] + noise * np.sqrt(1.5)  # explained 1.5 of 3.0 total
    _, r2 = src(X, y)
    assert r2 == pytest.approx(0.5, abs=0.03)
    rho = spearman(X, y)
    assert rho[0] > 0.3 and rho[1] < -0.3 and abs(rho[2]) < 0.05


def test_spearman_equals_scipy_and_is_rank_invariant():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(2)
    X = rng.lognormal(size=(300, 4))
    y = np.exp(X[:, 0]) - X[:, 2] ** 3 + rng.normal(size=300)
    rho = spearman(X, y)
    ref = [spearmanr(X[:, i], y).statistic for i in range(4)]
    np.testing.assert_allclose(rho, ref, rtol=1e-12)
    np.testing.assert_allclose(spearman(np.log(X), np.cbrt(y)), rho, rtol=1e-12)
    # constant column -> 0, not NaN
    Xc = np.column_stack([X, np.ones(300)])
    assert spearman(Xc, y)[-1] == 0.0


def test_bad_shapes_raise():
    with pytest.raises(InputError, match="one row per sample"):
        src(np.ones((5, 2)), np.ones(4))
    with pytest.raises(InputError, match="finite"):
        spearman(np.full((5, 2), np.nan), np.ones(5))


def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices(a=7.0, b=0.1):
    pi = np.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi**8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


@pytest.mark.parametrize(("p", "n", "second_order"), [(1, 4, False), (3, 8, False), (4, 16, True)])
def test_sobol_design_is_salibs_saltelli_design(p, n, second_order):
    """The vectorized design gives SALib's rows exactly (same sequence, same order)."""
    from SALib.sample import sobol as salib_sobol

    bounds = [(0.0, 1.0)] * (p - 1) + [(2.0, 5.0)]
    X, problem = sobol_design(bounds, n, second_order=second_order, seed=7)
    expected = salib_sobol.sample(problem, n, calc_second_order=second_order, seed=7)
    np.testing.assert_array_equal(X, expected)


def test_sobol_confidence_intervals_are_reproducible_with_seed_zero():
    X, problem = sobol_design([(-np.pi, np.pi)] * 3, 2**8, seed=0)
    y = ishigami(X)
    first = sobol(problem, y, seed=0)
    # before: SALib drew seed 0's bootstrap from numpy's global state, which the first advanced
    again = sobol(problem, y, seed=0)
    np.testing.assert_array_equal(first.to_numpy(), again.to_numpy())
    # a non-zero seed gives what SALib gives for that seed
    from SALib.analyze import sobol as salib_sobol

    ref = salib_sobol.analyze(problem, y, calc_second_order=False, seed=5)
    np.testing.assert_array_equal(sobol(problem, y, seed=5)["ST_conf"], ref["ST_conf"])


def test_sobol_on_ishigami_within_confidence_intervals():
    X, problem = sobol_design([(-np.pi, np.pi)] * 3, 2**13, seed=3)
    assert X.shape == (2**13 * 5, 3)
    res = sobol(problem, ishigami(X), seed=3)
    s1, st = ishigami_indices()
    assert np.all(np.abs(res["S1"].to_numpy() - s1) <= res["S1_conf"].to_numpy())
    assert np.all(np.abs(res["ST"].to_numpy() - st) <= res["ST_conf"].to_numpy())
    assert list(res.index) == ["x0", "x1", "x2"]


@pytest.mark.slow
def test_delta_ranks_the_linear_model_and_s1_matches_src_squared():
    X, y, coef, sd, share = linear_model(1000, seed=4)
    res = delta(X, y, names=list("abcde"), num_resamples=10)
    assert res["delta"].idxmax() == "a"
    # the two inputs with (almost) no variance share, d (0.9 %) and e (0), have the smallest
    # deltas; which of the two is smaller is within delta's estimation noise at n = 1000
    assert set(res["delta"].nsmallest(2).index) == {"d", "e"}
    # first-order Sobol S1 from the same sample equals the variance share within its CI (x2)
    err = np.abs(res["S1"].to_numpy() - share)
    assert np.all(err <= 2 * res["S1_conf"].to_numpy() + 0.02)


def uncertain_system():
    rng = np.random.default_rng(5)
    n, m = 15, 6
    tech = [(p, p, 1.0) for p in range(n)]
    tech += [
        (int(i), j, -float(rng.uniform(0.02, 0.2)))
        for j in range(n)
        for i in rng.choice(n, 2, replace=False)
        if i != j
    ]
    bio = [
        (f"f{r}", j, float(rng.uniform(0.5, 3)))
        for j in range(n)
        for r in rng.choice(m, 2, replace=False)
    ]
    system = lcasolve.build_system(tech, bio, {"GWP": {f"f{r}": 1.0 + r for r in range(m)}})
    b = system.biosphere
    rec = b.uncertainty.copy()
    rec["uncertainty_type"] = 3
    rec["loc"] = b.value
    rec["scale"] = 0.05 * np.abs(b.value) * rng.uniform(0.2, 3.0, len(b))
    return dataclasses.replace(system, biosphere=dataclasses.replace(b, uncertainty=rec))


def test_monte_carlo_src_on_screened_inputs_matches_first_order_shares():
    pytest.importorskip("lcasolve.montecarlo")
    from lcasolve.montecarlo import MonteCarlo

    system = uncertain_system()
    local = local_sensitivities(system, {0: 1.0})
    chosen = screen(local, coverage=0.95)
    mc = MonteCarlo(system, {0: 1.0}, method="exact")
    res = mc.run(3000, seed=1, record=chosen.record, progress=False)
    gs = global_sensitivities(res, chosen)
    assert len(gs.table) == chosen.n_kept
    # only biosphere is uncertain and h is linear in B: the regression explains exactly the share
    # of variance the screened set carries
    assert gs.r2 == pytest.approx(chosen.explained, abs=0.02)
    # SRC² of each entry estimates its first-order share (sampling error ~ 2/sqrt(N))
    est = dict(zip(gs.table["entry"], gs.table["src"] ** 2, strict=True))
    share = dict(zip(chosen.record["biosphere"], chosen.share["biosphere"], strict=True))
    for e, s in share.items():
        assert est[e] == pytest.approx(s, abs=0.03)
    # signs follow the local sensitivities (all positive: B and CF are positive)
    top = gs.table.iloc[0]
    assert top["spearman"] > 0 and top["src"] > 0
    # the screening's ids and names travel with the entries
    named = chosen.table.set_index(["matrix", "entry"])
    assert top["col_name"] == named.loc[(top["matrix"], top["entry"]), "col_name"]
    assert top["row_id"] == named.loc[(top["matrix"], top["entry"]), "row_id"]


def test_global_sensitivities_needs_recorded_inputs():
    pytest.importorskip("lcasolve.montecarlo")
    from lcasolve.montecarlo import MonteCarlo

    system = uncertain_system()
    res = MonteCarlo(system, {0: 1.0}, method="exact").run(10, seed=0, progress=False)
    with pytest.raises(InputError, match="record"):
        global_sensitivities(res, {"biosphere": [0, 1]})


def test_sobol_design_imposed_on_the_monte_carlo_engine_gives_analytic_indices():
    """h = b1 + a·b2 (two-process chain) with independent uniforms; a enters A as −a.

    a ~ U[0.2, 0.8], b1 ~ U[0.5, 1.5], b2 ~ U[1, 3]: V(b1) = 1/12, V_a = E[b2]² V(a) = 0.12,
    V_b2 = E[a]² V(b2) = 1/12, interaction V(a) V(b2) = 0.01; S1 = V_i / V, ST adds the interaction.
    """
    from lcasolve.montecarlo import MonteCarlo

    system = lcasolve.build_system(
        [(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5)],
        [("CO2", 1, 1.0), ("CO2", 2, 2.0)],
        {"GWP": {"CO2": 1.0}},
    )
    t, b = system.technosphere, system.biosphere
    (a_entry,) = np.flatnonzero((t.row == 1) & (t.col == 0))
    assert b.col.tolist() == [0, 1]  # entry 0 is b1 (activity 1), entry 1 is b2 (activity 2)
    X, problem = sobol_design([(0.2, 0.8), (0.5, 1.5), (1.0, 3.0)], 2**12, seed=2)
    design = {"technosphere": ([a_entry], -X[:, [0]]), "biosphere": ([0, 1], X[:, 1:])}
    mc = MonteCarlo(system, {1: 1.0}, batch_size=4096)
    res = mc.run(X.shape[0], seed=0, design=design, others="mean")
    y = res.values()
    np.testing.assert_allclose(y, X[:, 1] + X[:, 0] * X[:, 2], rtol=1e-12)
    out = sobol(problem, y, seed=2)
    va, vb1, vb2, vab = 4 * 0.03, 1 / 12, 0.25 / 3, 0.03 / 3
    v = va + vb1 + vb2 + vab
    s1 = np.array([va, vb1, vb2]) / v
    st = np.array([va + vab, vb1, vb2 + vab]) / v
    assert np.all(np.abs(out["S1"].to_numpy() - s1) <= out["S1_conf"].to_numpy())
    assert np.all(np.abs(out["ST"].to_numpy() - st) <= out["ST_conf"].to_numpy())
