"""The forward-error check of LCA on the sensitivity and parameter-batch paths.

``local_sensitivities``, ``parameter_sensitivities`` and ``ParameterBatch`` (parameter Monte
Carlo, Sobol, scenarios) solve with the technosphere's factorization too: an ill-conditioned
loop is refused there (or warned about) as ``LCA.calculate`` refuses it. The loop and its exact
score are those of tests.test_conditioning.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import IllConditionedError, IllConditionedWarning
from lcasolve.examples import example_path
from lcasolve.parameters import (
    Formula,
    FormulaEntry,
    Parameter,
    ParameterBatch,
    ParameterSet,
    parameter_sensitivities,
    solve_scenarios,
)
from lcasolve.sensitivity import local_sensitivities
from tests.test_conditioning import A_BAD, B_BAD, exact_score, loop_system
from tests.test_reliability_numeric import cli

#: gain 1 − 1e-11: a bound between the warning level (1e-6) and the limit (1e-2)
A_MID, B_MID = 0.5, (1 - 1e-11) / 0.5


def param_loop(a: float, b: float) -> lcasolve.System:
    """:func:`loop_system` whose entry ``(2, 3) = −b`` is the formula ``gain`` (scope 3)."""
    system = loop_system(a, b)
    tech = system.technosphere
    at = int(np.flatnonzero((tech.row == 1) & (tech.col == 2))[0])  # product 2 into 3
    params = ParameterSet(
        (Parameter("gain", b, scope=3),),
        (FormulaEntry("technosphere", at, 1, 2, Formula.parse("gain"), -1.0, 3),),
    )
    return dataclasses.replace(system, parameters=params)


def recorded(fn):
    """Run ``fn``; return its result and the IllConditionedWarnings it issued (all of them)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [w for w in caught if issubclass(w.category, IllConditionedWarning)]


def test_local_sensitivities_refuse_a_near_unit_loop():
    system = loop_system(A_BAD, B_BAD)
    with pytest.raises(IllConditionedError, match="ill-conditioned") as info:
        local_sensitivities(system, {1: 1.0})
    assert {2, 3} <= set(info.value.activities) and info.value.error_bound > 1e-2
    with pytest.raises(IllConditionedError):  # an LCA given brings its own setting
        local_sensitivities(lcasolve.LCA(system), {1: 1.0})
    local, caught = recorded(
        lambda: local_sensitivities(system, {1: 1.0}, allow_ill_conditioned=True)
    )
    assert len(caught) == 2  # the supply's solve and the adjoint's
    exact = exact_score(A_BAD, B_BAD)
    off = abs(local.scores[0] - exact) / exact
    assert off > 0.05 and local.error_bound >= off  # really wrong, and the bound says so


def test_local_sensitivities_of_a_moderate_loop_warn_and_their_bound_holds():
    system = loop_system(A_MID, B_MID)
    local, caught = recorded(lambda: local_sensitivities(system, {1: 1.0}))
    assert len(caught) == 2
    assert 1e-6 < local.error_bound <= 1e-2
    exact = exact_score(A_MID, B_MID)
    assert abs(local.scores[0] - exact) / exact <= local.error_bound
    # λ of product 1 is its score per unit: exact a / (1 − ab) as well
    assert abs(local.lam[0, 0] - exact) / exact <= local.error_bound
    # the bound is the larger one of the supply (calculate) and the adjoint (activity_scores)
    lca = lcasolve.LCA(system)
    (supply, adjoint), _ = recorded(lambda: (lca.calculate({1: 1.0}), lca.activity_scores()))
    assert local.error_bound == max(supply.error_bound, adjoint.error_bound)


def test_local_sensitivities_of_a_well_conditioned_loop_carry_a_small_bound():
    local = local_sensitivities(loop_system(0.5, 0.5), {1: 1.0})  # warnings are errors here
    assert local.error_bound < 1e-13
    assert local.scores[0] == pytest.approx(exact_score(0.5, 0.5), rel=1e-14)


def test_parameter_sensitivities_refuse_a_near_unit_loop():
    system = param_loop(A_BAD, B_BAD)
    with pytest.raises(IllConditionedError, match="ill-conditioned"):
        parameter_sensitivities(system, {1: 1.0})
    result, caught = recorded(
        lambda: parameter_sensitivities(system, {1: 1.0}, allow_ill_conditioned=True)
    )
    assert len(caught) == 2 and result.error_bound > 1e-2


def test_parameter_sensitivity_of_a_moderate_loop_is_within_its_bound():
    system = param_loop(A_MID, B_MID)
    result, caught = recorded(lambda: parameter_sensitivities(system, {1: 1.0}))
    assert len(caught) == 2 and 1e-6 < result.error_bound <= 1e-2
    # h = a / (1 − a·gain): dh/dgain = a² / (1 − a·gain)², relative error ≤ about 2× the bound
    gain = 1 - A_MID * B_MID
    exact = A_MID**2 / gain**2
    assert abs(result.derivative[0, 0] - exact) / exact <= 4 * result.error_bound


@pytest.mark.parametrize(("method", "solves"), [("full", 1), ("partitioned", 2)])
def test_parameter_batch_refuses_a_near_unit_loop(method, solves):
    system = param_loop(A_BAD, B_BAD)
    batch = ParameterBatch(system, {1: 1.0})
    assert batch.foreground is not None  # {1, 2, 3}: the partition applies
    with pytest.raises(IllConditionedError, match="ill-conditioned") as info:
        batch.scores({"3/gain": np.array([0.2, 0.25])}, method)
    assert {2, 3} <= set(info.value.activities)
    allowed = ParameterBatch(system, {1: 1.0}, allow_ill_conditioned=True)
    h, caught = recorded(lambda: allowed.scores({"3/gain": np.array([0.2, 0.25])}, method))
    # the deterministic supply, and for the partition its adjoint λ
    assert len(caught) == solves
    # the samples themselves are well-conditioned (gain 0.6 and 0.75): exact scores
    np.testing.assert_allclose(h[:, 0], [exact_score(A_BAD, 0.2), exact_score(A_BAD, 0.25)])


def test_scenarios_warn_about_a_moderate_loop():
    system = param_loop(A_MID, B_MID)
    result, caught = recorded(
        lambda: solve_scenarios(system, {"low": {"3/gain": 0.5}}, {"one": {1: 1.0}})
    )
    assert len(caught) == 2  # the partition applies: the deterministic supply and λ
    assert result.scores.iloc[0, 0] == pytest.approx(exact_score(A_MID, 0.5), rel=1e-12)
    with lcasolve.set_options(error_bound_limit=1e-8), pytest.raises(IllConditionedError):
        solve_scenarios(system, {"low": {"3/gain": 0.5}}, {"one": {1: 1.0}})


def param_loop_tables(tmp_path, gain_text):
    """The cement tables with a loop: petcoke takes 0.5 kWh of wind power per t, wind power
    takes ``gain`` t of petcoke per kWh, ``gain`` a parameter (parameters.csv), uniform on
    ``[1, gain]``."""
    folder = tmp_path / "cement"
    shutil.copytree(example_path("cement"), folder)
    path = folder / "exchanges.csv"
    lines = path.read_text().strip().splitlines()
    rows = [lines[0] + ",formula"] + [line + "," for line in lines[1:]]
    rows += [
        "petcoke,technosphere,el_wind,,0.5,kWh,,,,,,,,loop,",
        "el_wind,technosphere,petcoke,,,t,,,,,,,,loop,gain",
    ]
    path.write_text("\n".join(rows) + "\n")
    (folder / "parameters.csv").write_text(
        f"name,value,distribution,min,max\ngain,{gain_text},uniform,1.0,{gain_text}\n"
    )
    return folder


@pytest.mark.parametrize(
    "command",
    [
        ["sensitivity", "--parameters"],
        ["scenarios", "--scenarios", "{scenarios}"],
        ["sensitivity", "--parameters", "--sobol", "8", "--fixed-background"],
    ],
)
def test_commands_refuse_and_then_allow_the_loop(tmp_path, command):
    # 0.5 × 1.9999999999999993 = 1 − 3.3e-16 in floating point: tests.test_conditioning's loop
    folder = param_loop_tables(tmp_path, "1.9999999999999993")
    scenarios = tmp_path / "s.json"
    scenarios.write_text(json.dumps({"short": {"gain": 1.0}}))
    argv = [c.format(scenarios=scenarios) for c in command]
    refused = cli(argv[0], folder, "--demand", "cement=1", *argv[1:], "--json")
    assert refused.returncode == 1, refused.stderr
    assert "ill-conditioned" in refused.stderr and "--allow-ill-conditioned" in refused.stderr
    assert "'petcoke'" in refused.stderr and "'el_wind'" in refused.stderr
    allowed = cli(
        argv[0], folder, "--demand", "cement=1", *argv[1:], "--json", "--allow-ill-conditioned"
    )
    assert allowed.returncode == 0, allowed.stderr
    lines = [x for x in allowed.stderr.strip().splitlines() if ": note: read " not in x]
    assert lines and all(
        x.startswith(f"lcasolve {argv[0]}: warning: the technosphere is ill-cond") for x in lines
    )
    assert len(set(lines)) == len(lines)  # each warning once, however many steps issue it
    assert json.loads(allowed.stdout)


def test_mc_parameters_and_a_plain_run_take_the_option(tmp_path):
    folder = param_loop_tables(tmp_path, "1.9999999999999993")
    base = ["mc", folder, "--demand", "cement=1", "--iterations", "8", "--json", "--no-progress"]
    refused = cli(*base, "--parameters", "--fixed-background")
    assert refused.returncode == 1 and "--allow-ill-conditioned" in refused.stderr
    allowed = cli(*base, "--parameters", "--fixed-background", "--allow-ill-conditioned")
    assert allowed.returncode == 0, allowed.stderr
    assert "warning: the technosphere is ill-cond" in allowed.stderr
    # the plain run checks its deterministic supplies the same way (MonteCarlo)
    plain = cli(*base)
    assert plain.returncode == 1 and "--allow-ill-conditioned" in plain.stderr
    plain = cli(*base, "--allow-ill-conditioned")
    assert plain.returncode == 0, plain.stderr
    assert "warning: the technosphere is ill-cond" in plain.stderr
