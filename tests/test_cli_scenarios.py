"""``lcasolve scenarios`` with parameter sets and scenario difference files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError
from lcasolve.model.entries import Entries
from lcasolve.parameters import ParameterBatch
from lcasolve.parameters.scenario_file import read_scenario_file
from tests.test_cli_parameters import GWP, _lcasolve, model  # noqa: F401 - the fixture

SDF = """from activity name,from key,to activity name,to key,flow type,low,high
make,"('db', 'make')",use,"('db', 'use')",technosphere,3,12
CO2,CO2,make,make,biosphere,2,4
"""


def test_parameter_scenarios_and_product_systems(model, tmp_path):  # noqa: F811
    file = tmp_path / "s.json"
    file.write_text(json.dumps({"base": {}, "long": {"use/dist": 20, "k": 2}}))
    proc = _lcasolve(
        "scenarios", model, "--scenarios", file, "--demand", "use=1", "--demand", "use=2",
        "--method", GWP, "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = {(r["scenario"], r["demand"]): r[GWP] for r in json.loads(proc.stdout)["scores"]}
    assert got == pytest.approx(
        {("base", "use=1"): 12.5, ("base", "use=2"): 25.0, ("long", "use=1"): 25.0,
         ("long", "use=2"): 50.0}, rel=1e-12)  # fmt: skip
    proc = _lcasolve("scenarios", model, "--scenarios", "product-systems", "--demand", "use=1",
                     "--method", GWP, "--json")  # fmt: skip
    assert json.loads(proc.stdout)["scores"][0][GWP] == pytest.approx(25.0, rel=1e-12)


def test_scenario_difference_file_equals_each_scenario_alone(model, tmp_path):  # noqa: F811
    file = tmp_path / "sdf.csv"
    file.write_text(SDF)
    system = lcasolve.methods.with_methods(lcasolve.load(model), [GWP])
    scenarios = read_scenario_file(file, system)
    h = ParameterBatch(system, {"use": 1.0}).entry_scores(scenarios.entries)[:, 0]
    assert scenarios.names == ["low", "high"]
    for k in range(2):
        changed = system
        for matrix, (index, values) in scenarios.entries.items():
            entries: Entries = getattr(changed, matrix)
            value = entries.value.copy()
            value[index] = values[:, k]
            import dataclasses

            changed = dataclasses.replace(changed, **{matrix: entries.with_values(value)})
        alone = lcasolve.LCA(changed).calculate({"use": 1.0}).score(GWP)
        assert h[k] == pytest.approx(alone, rel=1e-10)
    np.testing.assert_allclose(h, [0.5 + 3 * 2, 0.5 + 12 * 4], rtol=1e-12)
    proc = _lcasolve("scenarios", model, "--scenarios", file, "--demand", "use=1",
                     "--method", GWP, "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r[GWP] for r in json.loads(proc.stdout)["scores"]] == pytest.approx([6.5, 48.5])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (SDF.replace("technosphere,3", "techno,3"), "line 2: flow type 'techno'"),
        (SDF.replace("'make')\",use", "'nope')\",use"), "line 2: 'from' 'nope'"),
        (
            SDF.replace("\"('db', 'make')\",use,\"('db', 'use')\"", "use,use,make,make"),
            "line 2: the system has no technosphere exchange",
        ),
        (SDF.replace(",3,12", ",x,12"), "line 2: a scenario amount is not a number"),
        ("a,b\n1,2\n", "needs the columns"),
    ],
)
def test_bad_scenario_files_name_the_line(model, tmp_path, text, words):  # noqa: F811
    file = tmp_path / "bad.csv"
    file.write_text(text)
    system = lcasolve.load(model)
    with pytest.raises(DataFileError, match=words):
        read_scenario_file(file, system)
    proc = _lcasolve("scenarios", model, "--scenarios", file, "--demand", "use=1")
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
