"""ParameterSet: scopes, dependent parameters, formula entries and System.with_parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import InputError, ParameterCycleError, UnknownParameterError
from lcasolve.model.entries import Entries, no_uncertainty
from lcasolve.parameters import DATABASE, Formula, FormulaEntry, Parameter, ParameterSet


def _system() -> lcasolve.System:
    # product 1 (truck transport user) needs x of product 2 (transport, 1 unit emits 2 CO2)
    return lcasolve.build_system(
        technosphere=[(1, 1, 1.0), (2, 2, 1.0), (2, 1, -30.0)],
        biosphere=[("CO2", 1, 1.0), ("CO2", 2, 2.0)],
        characterization={"GWP100": {"CO2": 1.0}},
    )


def _parameters(system: lcasolve.System) -> ParameterSet:
    tech = system.technosphere
    entry = int(np.flatnonzero((tech.row == 1) & (tech.col == 0))[0])
    bio = system.biosphere
    co2 = int(np.flatnonzero(bio.col == 0)[0])
    return ParameterSet(
        (
            Parameter("factor", 1.0),
            Parameter("dist", 100.0, scope=DATABASE),
            Parameter("Dist", 50.0, scope=1),  # the process's own shadows the database's
            Parameter("frac", 0.6, scope=1),
            Parameter("kgkm", formula=Formula.parse("dist*frac*factor"), scope=1),
            Parameter("direct", formula=Formula.parse("2*factor"), scope=DATABASE),
        ),
        (
            FormulaEntry("technosphere", entry, 1, 0, Formula.parse("kgkm"), -1.0, scope=1),
            FormulaEntry("biosphere", co2, 0, 0, Formula.parse("direct / 2"), 1.0, scope=1),
        ),
    )


def test_scopes_and_dependent_parameters() -> None:
    system = _system()
    params = _parameters(system)
    values = params.evaluate()
    assert values[(1, "kgkm")] == 50.0 * 0.6 * 1.0
    assert values[(DATABASE, "direct")] == 2.0
    frame = params.to_frame()
    assert frame.loc[frame["name"] == "kgkm", "value"].item() == 30.0
    assert "6 parameters (4 input, 0 uncertain), 2 formula entries" in repr(params)


def test_with_parameters_reevaluates_entries_and_scores() -> None:
    system = _system()
    system = dataclasses.replace(system, parameters=_parameters(system))
    base = lcasolve.LCA(system.with_parameters({})).calculate({1: 1.0}).score("GWP100")
    assert base == pytest.approx(1.0 + 2.0 * 30.0, rel=1e-12)
    # the score is linear in the distance: 1 + 2 * dist * frac
    changed = system.with_parameters({"1/dist": 80.0, "factor": 2.0})
    score = lcasolve.LCA(changed).calculate({1: 1.0}).score("GWP100")
    assert score == pytest.approx(2.0 + 2.0 * 80.0 * 0.6 * 2.0, rel=1e-12)
    assert changed.parameters.get("dist", 1).value == 80.0
    # the original is unchanged
    assert system.parameters.get("dist", 1).value == 50.0
    # overriding a dependent parameter fixes it
    fixed = system.with_parameters({(1, "kgkm"): 10.0})
    assert lcasolve.LCA(fixed).calculate({1: 1.0}).score("GWP100") == pytest.approx(21.0)


def test_vectorized_entry_values() -> None:
    system = _system()
    params = _parameters(system)
    values = params.evaluate({"1/frac": np.array([0.1, 0.2, 0.5])})
    updated = params.entry_values(values)
    index, tech = updated["technosphere"]
    np.testing.assert_allclose(tech, [[-5.0, -10.0, -25.0]])
    _, bio = updated["biosphere"]
    np.testing.assert_allclose(bio, [[1.0, 1.0, 1.0]])  # broadcast to the K samples


def test_override_names_are_resolved_or_explained() -> None:
    params = _parameters(_system())
    assert params.resolve("FACTOR") == (None, "factor")
    assert params.resolve("dist") == (DATABASE, "dist")  # no global one: the database's
    assert params.resolve("1/frac") == (1, "frac")
    with pytest.raises(UnknownParameterError, match="write 1/frac"):
        params.resolve("frac")
    with pytest.raises(UnknownParameterError, match="unknown parameter 'nope'"):
        params.resolve("nope")
    with pytest.raises(InputError, match="finite"):
        params.evaluate({"factor": float("nan")})


def test_errors_name_the_parameter_or_exchange() -> None:
    with pytest.raises(ParameterCycleError, match="process 1/a -> process 1/b -> process 1/a"):
        ParameterSet(
            (
                Parameter("a", formula=Formula.parse("b + 1"), scope=1),
                Parameter("b", formula=Formula.parse("a * 2"), scope=1),
            )
        )
    with pytest.raises(UnknownParameterError, match="exchange 'CO2'.*unknown parameter 'Mass'"):
        ParameterSet(
            (Parameter("x", 1.0, scope=1),),
            (
                FormulaEntry(
                    "biosphere", 0, 0, 0, Formula.parse("x*Mass", where="exchange 'CO2'"), 1.0, 1
                ),
            ),
        )
    # a global formula does not see process parameters
    with pytest.raises(UnknownParameterError, match="'x'"):
        ParameterSet((Parameter("x", 1.0, scope=1), Parameter("y", formula=Formula.parse("x"))))
    with pytest.raises(InputError, match="defined twice"):
        ParameterSet((Parameter("x", 1.0), Parameter("X", 2.0)))
    with pytest.raises(InputError, match="neither a finite value nor a formula"):
        Parameter("x")
    with pytest.raises(InputError, match="has no parameters"):
        _system().with_parameters({"x": 1})


def test_uncertainty_record_and_replaced_matrix_is_refused() -> None:
    record = no_uncertainty(np.array([3.0]))[0]
    record["uncertainty_type"] = 4
    record["minimum"], record["maximum"] = 2.0, 4.0
    p = Parameter("u", 3.0, uncertainty=np.asarray(record))
    assert p.is_uncertain
    with pytest.raises(InputError, match="only input"):
        Parameter("v", formula=Formula.parse("u"), uncertainty=np.asarray(record))
    system = _system()
    system = dataclasses.replace(system, parameters=_parameters(system))
    tech = system.technosphere
    reordered = Entries.create(tech.shape, tech.row[::-1], tech.col[::-1], tech.value[::-1])
    moved = dataclasses.replace(system, technosphere=reordered)
    with pytest.raises(InputError, match="no longer holds"):
        moved.with_parameters({"factor": 2.0})


def test_local_sensitivities_by_the_chain_rule() -> None:
    from lcasolve.parameters import parameter_sensitivities

    system = _system()
    system = dataclasses.replace(system, parameters=_parameters(system))
    result = parameter_sensitivities(system, {1: 1.0})
    frame = result.to_frame().set_index("parameter")
    # h = factor + 2 * dist * frac * factor (process 1's dist), by hand
    assert result.scores[0] == pytest.approx(61.0)
    assert frame.loc["factor", "sensitivity"] == pytest.approx(1 + 2 * 50 * 0.6, rel=1e-12)
    assert frame.loc["1/Dist", "sensitivity"] == pytest.approx(2 * 0.6, rel=1e-12)
    assert frame.loc["1/frac", "sensitivity"] == pytest.approx(2 * 50, rel=1e-12)
    assert frame.loc["dist", "sensitivity"] == 0.0  # the database's, shadowed by process 1's
    assert frame.loc["1/frac", "elasticity"] == pytest.approx(100 * 0.6 / 61, rel=1e-12)
    # equal elasticities keep the table order
    assert list(result.top(2)["parameter"]) == ["factor", "1/Dist"]
