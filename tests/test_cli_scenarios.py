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


def test_bw_processing_array_package_columns_are_scenarios(tmp_path):
    import bw_processing as bwp
    from fsspec.implementations.zip import ZipFileSystem

    from lcasolve.io.datapackage import write

    system = lcasolve.build_system(
        technosphere=[(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5)],
        biosphere=[(100, 1, 1.0), (100, 2, 2.0)],
        characterization={"GWP100": {100: 1.0}},
    )
    db = write(system, tmp_path / "db.zip")
    path = tmp_path / "arrays.zip"
    dp = bwp.create_datapackage(fs=ZipFileSystem(str(path), mode="w"), name="arrays")
    dp.add_persistent_array(
        matrix="technosphere_matrix",
        data_array=np.array([[0.5, 1.0, 2.0]]),
        indices_array=np.array([(2, 1)], dtype=bwp.INDICES_DTYPE),
        flip_array=np.array([True]),
        name="tech-array",
    )
    dp.finalize_serialization()
    proc = _lcasolve("scenarios", db, path, "--scenarios", "arrays", "--demand", "1=1", "--json")
    assert proc.returncode == 0, proc.stderr
    # score = 1 + 2 x (amount of product 2 per unit of product 1)
    got = [r["GWP100"] for r in json.loads(proc.stdout)["scores"]]
    assert got == pytest.approx([2.0, 3.0, 5.0], rel=1e-12)
    proc = _lcasolve("scenarios", db, "--scenarios", "arrays", "--demand", "1=1")
    assert proc.returncode == 1 and "no bw_processing array" in proc.stderr
