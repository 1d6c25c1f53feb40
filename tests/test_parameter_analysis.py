"""Parameter Monte Carlo, Sobol indices, scenarios, and the partitioned batch."""

from __future__ import annotations

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import InputError, InvalidParameterError, UnknownParameterError
from lcasolve.model.entries import Entries, no_uncertainty
from lcasolve.parameters import (
    BACKGROUND,
    Formula,
    FormulaEntry,
    Parameter,
    ParameterBatch,
    ParameterSet,
    beats,
    draw_parameters,
    parameter_monte_carlo,
    parameter_sobol,
    solve_scenarios,
)
from lcasolve.sensitivity.gsa import check_sobol_size, sobol_design


def _record(kind, **fields):
    record = no_uncertainty(np.array([fields.pop("loc", 0.0)]))[0]
    record["uncertainty_type"] = kind
    for name, value in fields.items():
        record[name] = value
    return np.asarray(record)


def _system(b_sd=0.5):
    """h = 1.1 + 2.3 a + 0.5 b for one unit of product 1 (a, b foreground parameters)."""
    system = lcasolve.build_system(
        technosphere=[
            (1, 1, 1.0), (2, 2, 1.0), (10, 10, 1.0), (11, 11, 1.0),
            (2, 1, -0.5), (10, 1, -2.0), (11, 2, -0.2), (11, 10, -0.3),
        ],
        biosphere=[("CO2", 1, 1.0), ("CO2", 2, 5.0), ("CO2", 10, 2.0), ("CO2", 11, 1.0)],
        characterization={"GWP100": {"CO2": 1.0}},
    )  # fmt: skip
    tech, bio = system.technosphere, system.biosphere
    a_at = int(np.flatnonzero((tech.row == 2) & (tech.col == 0))[0])  # product 10 into 1
    b_at = int(np.flatnonzero(bio.col == 1)[0])  # CO2 of activity 2
    params = ParameterSet(
        (
            Parameter("a", 2.0, scope=1, uncertainty=_record(4, loc=2.0, minimum=1.0, maximum=3.0)),
            Parameter("b", 5.0, scope=2, uncertainty=_record(3, loc=5.0, scale=b_sd)),
            Parameter("unused", 1.0, uncertainty=_record(4, loc=1.0, minimum=0.0, maximum=2.0)),
        ),
        (
            FormulaEntry("technosphere", a_at, 2, 0, Formula.parse("a"), -1.0, 1),
            FormulaEntry("biosphere", b_at, 0, 1, Formula.parse("b"), 1.0, 2),
        ),
    )
    import dataclasses

    return dataclasses.replace(system, parameters=params)


def _h(a, b):
    return 1.1 + 2.3 * np.asarray(a) + 0.5 * np.asarray(b)


def test_partitioned_equals_full_and_one_by_one():
    system = _system()
    batch = ParameterBatch(system, {1: 1.0})
    assert batch.foreground is not None and set(batch.foreground) == {0, 1}
    a = np.linspace(0.5, 3.0, 7)
    b = np.linspace(2.0, 8.0, 7)
    values = {"1/a": a, "2/b": b}
    full = batch.scores(values, "full")[:, 0]
    part = batch.scores(values, "partitioned")[:, 0]
    np.testing.assert_allclose(part, full, rtol=1e-10, atol=0)
    np.testing.assert_allclose(full, _h(a, b), rtol=1e-12)
    for k in range(3):
        alone = system.with_parameters({"1/a": a[k], "2/b": b[k]})
        score = lcasolve.LCA(alone).calculate({1: 1.0}).score("GWP100")
        assert full[k] == pytest.approx(score, rel=1e-10)


def test_partitioned_with_a_formula_inside_the_foreground():
    """Product 2 into activity 1 (both foreground) as a formula ``c``: h = 5.6 + 5.2 c."""
    import dataclasses

    system = _system()
    tech = system.technosphere
    c_at = int(np.flatnonzero((tech.row == 1) & (tech.col == 0))[0])  # product 2 into 1
    params = ParameterSet(
        (Parameter("c", 0.5, uncertainty=_record(4, loc=0.5, minimum=0.1, maximum=0.9)),),
        (FormulaEntry("technosphere", c_at, 1, 0, Formula.parse("c"), -1.0),),
    )
    system = dataclasses.replace(system, parameters=params)
    c = np.linspace(0.1, 0.9, 9)
    batch = ParameterBatch(system, {1: 1.0})
    part = batch.scores({"c": c}, "partitioned")[:, 0]
    # activity 1: 1 CO2, c of product 2 (5 + 0.2 x 1 per unit), 2 of product 10 (2 + 0.3 x 1)
    expected = 1.0 + c * (5.0 + 0.2) + 2.0 * (2.0 + 0.3)
    np.testing.assert_allclose(part, expected, rtol=1e-12)
    np.testing.assert_allclose(batch.scores({"c": c}, "full")[:, 0], part, rtol=1e-10)


def test_monte_carlo_of_a_linear_model_is_analytic():
    system = _system()
    n = 20000
    run = parameter_monte_carlo(system, {1: 1.0}, n, seed=3)
    h = run.scores["GWP100"].to_numpy()
    mean = _h(2.0, 5.0)
    var = 2.3**2 * (2.0**2 / 12) + 0.5**2 * 0.5**2
    assert abs(h.mean() - mean) < 4 * np.sqrt(var / n)
    assert h.var(ddof=1) == pytest.approx(var, rel=4 * np.sqrt(2 / n))
    np.testing.assert_allclose(h, _h(run.samples["1/a"], run.samples["2/b"]), rtol=1e-12)
    # reproducible, and each parameter's draws depend only on (seed, parameter, iteration)
    again = parameter_monte_carlo(system, {1: 1.0}, 100, seed=3)
    np.testing.assert_array_equal(again.samples.to_numpy(), run.samples.to_numpy()[:100])
    other = _system(b_sd=2.0).parameters
    np.testing.assert_array_equal(
        draw_parameters(other, 100, 3)[(1, "a")], run.samples["1/a"].to_numpy()[:100]
    )
    assert run.spearman()["1/a"] > 0.9


def test_sobol_of_an_additive_model_equals_variance_shares():
    system = _system()
    indices = parameter_sobol(system, {1: 1.0}, n=2048, seed=1)
    va, vb = 2.3**2 * (2.0**2 / 12), 0.5**2 * 0.5**2
    shares = {"1/a": va / (va + vb), "2/b": vb / (va + vb), "unused": 0.0}
    for name, share in shares.items():
        for column in ("S1", "ST"):
            conf = indices.loc[name, f"{column}_conf"]
            assert abs(indices.loc[name, column] - share) <= max(2 * conf, 0.02), (name, column)


def test_scenarios_as_one_batch_equal_each_solved_alone():
    system = _system()
    scenarios = {"base": {}, "far": {"1/a": 3.0}, "clean": {"1/a": 1.0, "2/b": 1.0}}
    demands = {"one": {1: 1.0}, "two": {1: 2.0}}
    result = solve_scenarios(system, scenarios, demands)
    frame = result.to_frame()
    assert list(frame.index) == [(s, d) for s in scenarios for d in demands]
    for name, values in scenarios.items():
        lca = lcasolve.LCA(system.with_parameters(values))
        for label, demand in demands.items():
            alone = lca.calculate(demand).score("GWP100")
            assert frame.loc[(name, label), "GWP100"] == pytest.approx(alone, rel=1e-10)
    ax = result.plot()
    assert ax.get_ylabel() == "GWP100"
    with pytest.raises(UnknownParameterError, match="scenario 'bad'.*'nope'"):
        solve_scenarios(system, {"bad": {"nope": 1.0}}, demands)


def test_paired_scenarios_and_errors():
    system = _system()
    table = beats(system, {1: 1.0}, {"A": {}, "B": {"1/a": 1.0}}, 500, seed=2)
    # B fixes a at its minimum; with the same draws of b it always scores lower
    assert table.loc["B", "A"] == 1.0 and table.loc["A", "B"] == 0.0
    with pytest.raises(InputError, match="iterations"):
        parameter_monte_carlo(system, {1: 1.0}, 0)
    with pytest.raises(InputError, match="partitioned"):
        ParameterBatch(_wide(system), {1: 1.0}).scores({}, "partitioned")


def _wide(system):
    """The same model with a characterization factor defined by a formula (no partition)."""
    import dataclasses

    params = system.parameters
    cf = FormulaEntry("characterization", 0, 0, 0, Formula.parse("1 + 0*a"), 1.0, 1)
    return dataclasses.replace(system, parameters=ParameterSet(params.parameters, (
        *params.entries, cf)))  # fmt: skip


def test_monte_carlo_with_the_background_uncertain():
    import dataclasses

    system = _system()
    bio = system.biosphere
    at = int(np.flatnonzero(bio.col == 3)[0])  # CO2 of background activity 11: N(1, 0.1)
    unc = bio.uncertainty.copy()
    unc[at] = _record(3, loc=1.0, scale=0.1)
    system = dataclasses.replace(system, biosphere=Entries.create(
        bio.shape, bio.row, bio.col, bio.value, uncertainty=unc, flip=bio.flip))  # fmt: skip
    n = 20000
    run = parameter_monte_carlo(system, {1: 1.0}, n, seed=5, background=True)
    h = run.scores["GWP100"].to_numpy()
    # h = 1 + 0.5 b + 2 a + x (0.3 a + 0.1) with a ~ U(1, 3), b ~ N(5, 0.5), x ~ N(1, 0.1)
    ea, va, ex, vx = 2.0, 1 / 3, 1.0, 0.01
    ea2, ex2 = va + ea**2, vx + ex**2
    mean = 1 + 2.5 + 2 * ea + ex * (0.3 * ea + 0.1)
    ez2 = ea2 * (4 + 1.2 * ex + 0.09 * ex2) + 0.2 * ea * (2 * ex + 0.3 * ex2) + 0.01 * ex2
    var = 0.25 * 0.25 + ez2 - (mean - 3.5) ** 2
    assert abs(h.mean() - mean) < 4 * np.sqrt(var / n)
    assert h.var(ddof=1) == pytest.approx(var, rel=4 * np.sqrt(2 / n) + 0.01)
    # without the background draws the spread is smaller, and the parameter draws are the same
    only = parameter_monte_carlo(system, {1: 1.0}, n, seed=5)
    np.testing.assert_array_equal(only.samples.to_numpy(), run.samples.to_numpy())
    assert only.scores["GWP100"].var() < h.var()


def _with_uncertain(system, matrix, at, record):
    """The system with entry ``at`` of ``matrix`` given the distribution ``record``."""
    import dataclasses

    entries = getattr(system, matrix)
    unc = entries.uncertainty.copy()
    unc[at] = record
    replaced = Entries.create(
        entries.shape, entries.row, entries.col, entries.value, uncertainty=unc, flip=entries.flip
    )
    return dataclasses.replace(system, **{matrix: replaced})


def test_sobol_with_the_background_as_a_grouped_factor():
    # h = x + 0.1 + 2.3 a + 0.5 b with x the CO2 of activity 1 ~ N(1, 1) (supply 1, whatever
    # a and b): additive, so each factor's S1 = ST = its variance share
    system = _system()
    at = int(np.flatnonzero(system.biosphere.col == 0)[0])
    system = _with_uncertain(system, "biosphere", at, _record(3, loc=1.0, scale=1.0))
    indices = parameter_sobol(system, {1: 1.0}, n=2048, seed=2, background=True)
    va, vb, vx = 2.3**2 / 3, 0.5**2 * 0.5**2, 1.0
    total = va + vb + vx
    shares = {"1/a": va / total, "2/b": vb / total, "unused": 0.0, BACKGROUND: vx / total}
    assert list(indices.index) == ["1/a", "2/b", "unused", BACKGROUND]
    for name, share in shares.items():
        for column in ("S1", "ST"):
            conf = indices.loc[name, f"{column}_conf"]
            assert abs(indices.loc[name, column] - share) <= max(3 * conf, 0.02), (name, column)
    # without the background the parameters share all the variance among themselves
    alone = parameter_sobol(system, {1: 1.0}, n=1024, seed=2)
    assert BACKGROUND not in alone.index
    assert alone.loc["1/a", "S1"] == pytest.approx(va / (va + vb), abs=0.03)
    with pytest.raises(InputError, match="partitioned"):
        parameter_sobol(system, {1: 1.0}, n=64, background=True, method="partitioned")
    with pytest.raises(InputError, match="no matrix entry has a distribution"):
        parameter_sobol(_system(), {1: 1.0}, n=64, background=True)


def test_sobol_size_must_be_a_power_of_two():
    system = _system()
    nearest = r"^n 1000 is not a power of 2.*use 512 or 1024$"
    with pytest.raises(InvalidParameterError, match=nearest):
        parameter_sobol(system, {1: 1.0}, n=1000)
    with pytest.raises(InvalidParameterError, match=r"n 96 .*use 64 or 128"):
        sobol_design([(0.0, 1.0)] * 2, 96)
    for bad in (0, -4):
        with pytest.raises(InvalidParameterError, match=rf"power of 2 \(1, 2, 4, ...\), got {bad}"):
            sobol_design([(0.0, 1.0)], bad)
    with pytest.raises(InvalidParameterError, match="integer power of 2, got 64.0"):
        sobol_design([(0.0, 1.0)], 64.0)
    assert [check_sobol_size(2**k) for k in range(12)] == [2**k for k in range(12)]


def test_background_draws_are_the_monte_carlo_draws_in_chunks(monkeypatch):
    # the draws of a background entry are those of lcasolve.montecarlo (same seed, same
    # iteration), and solving in chunks changes nothing
    import dataclasses

    from lcasolve.montecarlo import MonteCarlo

    system = _system()
    at = int(np.flatnonzero(system.biosphere.col == 0)[0])
    system = _with_uncertain(system, "biosphere", at, _record(3, loc=1.0, scale=1.0))
    whole = parameter_monte_carlo(system, {1: 1.0}, 50, seed=4, background=True)
    monkeypatch.setattr(MonteCarlo, "batch_size", property(lambda self: 3))  # chunks of 3
    chunked = parameter_monte_carlo(system, {1: 1.0}, 50, seed=4, background=True)
    np.testing.assert_array_equal(chunked.scores.to_numpy(), whole.scores.to_numpy())
    fixed = system.with_parameters({"1/a": 2.0, "2/b": 5.0})
    fixed = dataclasses.replace(fixed, parameters=None)
    mc = MonteCarlo(fixed, {1: 1.0}).run(50, seed=4, progress=False)
    x = whole.scores["GWP100"].to_numpy() - _h(whole.samples["1/a"], whole.samples["2/b"]) + 1
    np.testing.assert_allclose(x, mc.values() - _h(2.0, 5.0) + 1, rtol=1e-9)
