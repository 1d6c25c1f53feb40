"""JSON-LD parameters: global and process parameters, amountFormula, product-system sets."""

from __future__ import annotations

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import FormulaSyntaxError, UnknownParameterError
from tests.test_jsonld import _ex, _flow, _process, _ref_files, _write_zip


def _files(formula="dist*frac*3", half="k/2"):
    q_input = _ex("Q", 6.0, is_input=True, provider="make")
    q_input["amountFormula"] = formula
    co2 = _ex("CO2", 0.5)
    co2["amountFormula"] = "half"
    params = [
        {"name": "dist", "value": 10.0, "isInputParameter": True},
        {
            "name": "frac",
            "value": 0.2,
            "isInputParameter": True,
            "uncertainty": {
                "distributionType": "UNIFORM_DISTRIBUTION",
                "minimum": 0.1,
                "maximum": 0.3,
            },
        },
        {"name": "half", "value": 0.5, "formula": half, "isInputParameter": "FALSE"},
    ]
    return {
        **_ref_files(),
        "flows/P.json": _flow("P"),
        "flows/Q.json": _flow("Q"),
        "flows/CO2.json": _flow("CO2", "ELEMENTARY_FLOW", name="Carbon dioxide"),
        "processes/use.json": _process("use", _ex("P", 1.0, ref=True), q_input, co2,
                                       parameters=params),
        "processes/make.json": _process("make", _ex("Q", 1.0, ref=True), _ex("CO2", 2.0)),
        "parameters/k.json": {"@type": "Parameter", "@id": "k", "name": "k", "value": 1.0,
                              "isInputParameter": True},
        "product_systems/ps.json": {
            "@type": "ProductSystem",
            "@id": "ps",
            "name": "system",
            "parameterSets": [
                {
                    "name": "long",
                    "parameters": [
                        {"name": "dist", "value": 20.0,
                         "context": {"@type": "Process", "@id": "use"}},
                        {"name": "k", "value": 2.0},
                    ],
                }
            ],
        },
    }  # fmt: skip


def _co2(system):
    supply = lcasolve.LCA(system).calculate({"use": 1.0}).supply
    return float((system.B @ supply)[system.flow_index["CO2"]])


def test_parameters_formulas_and_parameter_sets(tmp_path):
    system = lcasolve.load(_write_zip(tmp_path / "p.zip", _files()))
    params = system.parameters
    assert len(params) == 4 and len(params.entries) == 2
    assert params.get("k").scope is None
    frac = params.get("frac", "use")
    assert frac.is_uncertain and int(frac.uncertainty["uncertainty_type"]) == 4
    assert float(frac.uncertainty["minimum"]) == 0.1
    assert _co2(system) == pytest.approx(0.5 + 6.0 * 2.0, rel=1e-12)
    sets = system.metadata["parameter_sets"]
    assert sets == {"system: long": {"use/dist": 20.0, "k": 2.0}}
    long = system.with_parameters(sets["system: long"])
    # Q = 20 * 0.2 * 3 = 12 kg, CO2 = k/2 + 2 * 12
    assert _co2(long) == pytest.approx(1.0 + 24.0, rel=1e-12)
    values = params.evaluate({"use/frac": np.array([0.1, 0.3])})
    _, tech = params.entry_values(values)["technosphere"]
    np.testing.assert_allclose(tech, [[-3.0, -9.0]])


def test_bad_formulas_name_the_exchange_or_parameter(tmp_path):
    with pytest.raises(FormulaSyntaxError, match=r"exchange Q-6.0-True.*at position 6"):
        lcasolve.load(_write_zip(tmp_path / "a.zip", _files(formula="dist*")))
    with pytest.raises(UnknownParameterError, match=r"parameter 'half'.*unknown parameter 'kk'"):
        lcasolve.load(_write_zip(tmp_path / "b.zip", _files(half="kk/2")))
    # lenient: the broken formula is listed, its exchange keeps the stored amount
    system = lcasolve.load(_write_zip(tmp_path / "c.zip", _files(formula="dist*")), strict=False)
    assert any("syntax error" in p for p in system.metadata["problems"])
    assert len(system.parameters.entries) == 1
    assert _co2(system) == pytest.approx(12.5, rel=1e-12)
