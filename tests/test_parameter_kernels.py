"""The partitioned batch's foreground kernel, and the batch kept on a system between analyses."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import IllConditionedError
from lcasolve.parameters import (
    Formula,
    FormulaEntry,
    Parameter,
    ParameterSet,
    _kernels,
    parameter_monte_carlo,
    parameter_sobol,
)
from lcasolve.parameters.batch import CACHED_BATCHES, cached_batch
from tests.test_parameter_analysis import _record


def _run(a_ff, w, f, value, base, in_at, in_row, in_col, out_at, out_col, out_coef):
    pattern = a_ff != 0.0
    pattern[in_row, in_col] = True
    m_ptr = np.concatenate(([0], np.cumsum(pattern.sum(axis=1)))).astype(np.int64)
    m_idx = np.nonzero(pattern)[1].astype(np.int64)
    k = value.shape[1]
    h, worst = np.empty((k, w.shape[0])), np.empty(k)
    _kernels.foreground_scores(
        a_ff, w, f, value, base, in_at, in_row, in_col, out_at, out_col, out_coef,
        m_ptr, m_idx, h, worst,
    )  # fmt: skip
    return h, worst


def _agrees_with_lapack(a, w, f, value, base, in_row, in_col, out_col, out_coef):
    """The kernel's scores and residuals against numpy's LAPACK solve of each sample."""
    e_in, e_out = in_row.size, out_col.size
    h, worst = _run(
        a, w, f, value, base, np.arange(e_in), in_row, in_col, e_in + np.arange(e_out),
        out_col, out_coef,
    )  # fmt: skip
    for j in range(value.shape[1]):
        delta = value[:, j] - base
        m = a.copy()
        np.add.at(m, (in_row, in_col), delta[:e_in])
        if np.linalg.cond(m) > 1e8:
            continue
        s = np.linalg.solve(m, f)
        wk = w.copy()
        for e in range(e_out):
            wk[:, out_col[e]] += delta[e_in + e] * out_coef[e]
        np.testing.assert_allclose(h[j], wk @ s, rtol=1e-9, atol=1e-9 * np.abs(wk @ s).max())
        assert worst[j] < 1e-13


@pytest.mark.parametrize("density", [0.1, 0.3, 1.0])
def test_foreground_kernel_matches_a_dense_solve_with_pivoting(density):
    """Sparse and dense foregrounds whose changes force row exchanges: numpy's LAPACK solve."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        nf, nq, e_in, e_out, k = int(rng.integers(2, 15)), 2, 6, 4, 40
        a = np.diag(rng.uniform(0.5, 2.0, nf))
        mask = rng.random((nf, nf)) < density
        a[mask] += rng.uniform(-1.5, 1.5, mask.sum())
        w = rng.normal(size=(nq, nf))
        f = rng.normal(size=nf)
        in_row, in_col = rng.integers(0, nf, e_in), rng.integers(0, nf, e_in)
        out_col, out_coef = rng.integers(0, nf, e_out), rng.normal(size=(e_out, nq))
        base = rng.normal(size=e_in + e_out)
        value = base[:, None] + rng.normal(scale=2.0, size=(e_in + e_out, k))
        _agrees_with_lapack(a, w, f, value, base, in_row, in_col, out_col, out_coef)


def test_loop_free_foregrounds_are_solved_by_substitution():
    """Permuted triangular foregrounds take the substitution, which agrees with LAPACK."""
    rng = np.random.default_rng(11)
    for trial in range(30):
        nf, nq, e_in, e_out, k = int(rng.integers(2, 15)), 2, 6, 4, 30
        lower = np.tril(rng.uniform(-1.5, 1.5, (nf, nf)) * (rng.random((nf, nf)) < 0.4), -1)
        a = np.diag(rng.uniform(0.5, 2.0, nf)) + lower
        perm = rng.permutation(nf)
        a = a[np.ix_(perm, perm)]  # a loop-free pattern in no particular order
        w, f = rng.normal(size=(nq, nf)), rng.normal(size=nf)
        inside = np.flatnonzero(a.ravel() != 0.0)
        at = rng.choice(inside, e_in)  # changes at existing nonzeros (diagonals included)
        in_row, in_col = at // nf, at % nf
        out_col, out_coef = rng.integers(0, nf, e_out), rng.normal(size=(e_out, nq))
        base = a.ravel()[at] if trial % 2 else rng.normal(size=e_in)
        base = np.concatenate([base, rng.normal(size=e_out)])
        value = base[:, None] + rng.normal(scale=0.3, size=(e_in + e_out, k))
        pattern = a != 0.0
        m_ptr = np.concatenate(([0], np.cumsum(pattern.sum(axis=1)))).astype(np.int64)
        order = _kernels.substitution_order(m_ptr, np.nonzero(pattern)[1].astype(np.int64))
        assert order is not None and sorted(order) == list(range(nf))
        _agrees_with_lapack(a, w, f, value, base, in_row, in_col, out_col, out_coef)


def test_substitution_order_needs_diagonals_and_no_loop():
    def order(dense):
        pattern = np.asarray(dense) != 0
        m_ptr = np.concatenate(([0], np.cumsum(pattern.sum(axis=1)))).astype(np.int64)
        return _kernels.substitution_order(m_ptr, np.nonzero(pattern)[1].astype(np.int64))

    # row r is solved after its other columns: 2 first, then 0, then 1
    assert order([[1, 0, 1], [1, 1, 0], [0, 0, 1]]).tolist() == [2, 0, 1]
    assert order([[1, 1], [1, 1]]) is None  # a loop
    assert order([[1, 1], [0, 0]]) is None  # no diagonal in row 1


def test_foreground_kernel_marks_a_singular_sample():
    """A change that empties a column: the supply is not finite and the residual check fails."""
    a = np.array([[1.0, -0.5], [0.0, 1.0]])
    value = np.array([[1.0, 0.0]])  # sample 1 sets a_11 (production of activity 1) to 0
    h, worst = _run(
        a, np.ones((1, 2)), np.array([0.0, 1.0]), value, np.array([1.0]),
        np.array([0]), np.array([1]), np.array([1]), np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64), np.zeros((0, 1)),
    )  # fmt: skip
    assert worst[0] < 1e-15 and h[0, 0] == pytest.approx(1.5)  # s = (0.5, 1)
    assert worst[1] == np.inf


def _system():
    """h = 1 + 2 a for one unit of product 1 (a uniform on [1, 3])."""
    system = lcasolve.build_system(
        technosphere=[(1, 1, 1.0), (10, 10, 1.0), (10, 1, -1.0)],
        biosphere=[("CO2", 1, 1.0), ("CO2", 10, 2.0)],
        characterization={"GWP100": {"CO2": 1.0}},
    )
    at = int(np.flatnonzero((system.technosphere.row == 1) & (system.technosphere.col == 0))[0])
    params = ParameterSet(
        (Parameter("a", 2.0, uncertainty=_record(4, loc=2.0, minimum=1.0, maximum=3.0)),),
        (FormulaEntry("technosphere", at, 1, 0, Formula.parse("a"), -1.0),),
    )
    return dataclasses.replace(system, parameters=params)


def test_analyses_of_one_system_share_one_batch():
    system = _system()
    mc = parameter_monte_carlo(system, {1: 1.0}, 200, seed=1)
    a = mc.samples.iloc[:, 0].to_numpy()
    np.testing.assert_allclose(mc.scores.iloc[:, 0], 1 + 2 * a, rtol=1e-12)
    batch = cached_batch(system, {1: 1.0})
    assert batch is cached_batch(system, {1: 1.0})  # the Monte Carlo's, kept
    assert "_lca" in batch.__dict__ and "_partition" in batch.__dict__  # solved once
    indices = parameter_sobol(system, {1: 1.0}, n=256, seed=1)
    assert indices.loc["a", "S1"] == pytest.approx(1.0, abs=0.05)
    assert cached_batch(system, {1: 1.0}) is batch
    # other demands, settings or options: another batch; other systems never share one
    assert cached_batch(system, {1: 2.0}) is not batch
    assert cached_batch(system, {1: 1.0}, allow_ill_conditioned=True) is not batch
    with lcasolve.set_options(error_bound_limit=1e-3):
        assert cached_batch(system, {1: 1.0}) is not batch
    assert cached_batch(_system(), {1: 1.0}) is not batch
    for amount in range(CACHED_BATCHES + 1):
        cached_batch(system, {1: float(amount + 10)})
    assert len(system.__dict__["_parameter_batches"]) == CACHED_BATCHES


def test_a_kept_batch_warns_on_every_call(monkeypatch):
    """The deterministic solve's warning is given by each analysis, not only the first."""
    from lcasolve.lca import LCA

    calculate = LCA.calculate

    def warning_calculate(self, *args, **kwargs):  # stands in for an ill-conditioned solve
        warnings.warn("ill-conditioned", lcasolve.errors.IllConditionedWarning, stacklevel=1)
        return calculate(self, *args, **kwargs)

    monkeypatch.setattr(LCA, "calculate", warning_calculate)
    system = _system()
    for method in ("full", "partitioned", "full"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parameter_monte_carlo(system, {1: 1.0}, 10, seed=0, method=method)
        assert [str(w.message) for w in caught] == ["ill-conditioned"]
    assert len(system.__dict__["_parameter_batches"]) == 1  # one solve for the three


def test_a_refused_system_is_refused_by_every_analysis():
    """A near-singular loop: the batch kept on the system refuses again (nothing is kept)."""
    system = lcasolve.build_system(
        technosphere=[(1, 1, 1.0), (2, 2, 1.0), (2, 1, -1.0), (1, 2, -(1 - 1e-13))],
        biosphere=[("CO2", 1, 1.0)],
        characterization={"GWP100": {"CO2": 1.0}},
    )
    at = int(np.flatnonzero((system.technosphere.row == 1) & (system.technosphere.col == 0))[0])
    params = ParameterSet(
        (Parameter("a", 1.0, uncertainty=_record(4, loc=1.0, minimum=0.9, maximum=1.1)),),
        (FormulaEntry("technosphere", at, 1, 0, Formula.parse("a"), -1.0),),
    )
    system = dataclasses.replace(system, parameters=params)
    # its forward-error bound is about 4e-3: refused under a limit of 1e-3
    with lcasolve.set_options(error_bound_limit=1e-3):
        for _ in range(2):
            with pytest.raises(IllConditionedError):
                parameter_monte_carlo(system, {1: 1.0}, 10, seed=0)


def test_draws_are_the_same_on_every_call():
    """The checked records are kept on the set: later draws are the same keyed draws."""
    from lcasolve.parameters import draw_parameters

    params = _system().parameters
    first = draw_parameters(params, 4000, 3)
    assert "_draw_plan" in params.__dict__
    again = draw_parameters(params, np.arange(2000, 4000), 3)
    a = first[(None, "a")]
    np.testing.assert_array_equal(again[(None, "a")], a[2000:])
    assert a.min() >= 1.0 and a.max() <= 3.0 and abs(a.mean() - 2.0) < 0.05


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_entry_scores_by_changes_and_by_full_copies_equal_each_variant_alone(monkeypatch, share):
    """A loop and a chain; five variants change some inputs (one changes none, one a production).

    ``SPARSE_SHARE`` 0 takes every batch through full copies of the values, 1 through the
    changes only; both equal each variant's system solved by numpy.
    """
    from lcasolve.parameters import batch as batch_module

    monkeypatch.setattr(batch_module, "SPARSE_SHARE", share)
    system = lcasolve.build_system(
        technosphere=[
            (1, 1, 1.0),
            (2, 2, 1.0),
            (3, 3, 2.0),
            (2, 1, -0.5),
            (1, 2, -0.3),
            (3, 2, -0.4),
            (3, 1, -0.1),
        ],
        biosphere=[("CO2", 1, 1.0), ("CO2", 2, 2.0), ("CO2", 3, 4.0)],
        characterization={"GWP100": {"CO2": 1.0}},
    )
    tech = system.technosphere
    index = np.arange(tech.value.size)
    values = np.repeat(tech.value[:, None], 5, axis=1)
    values[tech.row != tech.col, 1] *= 1.5
    values[(tech.row == 2) & (tech.col == 2), 2] = 3.0  # a production amount
    values[(tech.row == 0) & (tech.col == 1), 3] = -0.9
    values[:, 4] = values[:, 1]
    values[(tech.row == 0) & (tech.col == 1), 4] = -0.2
    h = batch_module.ParameterBatch(system, {1: 1.0}).entry_scores(
        {"technosphere": (index, values)}
    )[:, 0]
    c_b = (system.C @ system.B).toarray()[0]
    for k in range(5):
        a = np.zeros((3, 3))
        np.add.at(a, (tech.row, tech.col), values[:, k])
        s = np.linalg.solve(a, system.demand_vector({1: 1.0}))
        assert h[k] == pytest.approx(c_b @ s, rel=1e-10)
