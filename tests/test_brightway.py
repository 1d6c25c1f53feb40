"""Brightway projects read directly, and mapping files naming a bare datapackage.

The project is built in the test, in a temporary bw2data directory, from bw2io's example
database ("Mobility example", the source of the ``bw2io_example_db`` fixture); scores are
compared with bw2calc's on the same project and with the fixture's values in the data README.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError, InputError
from lcasolve.io.brightway import parse_url, read_mapping

bd = pytest.importorskip("bw2data")
bc = pytest.importorskip("bw2calc")
bi = pytest.importorskip("bw2io")

PROJECT = "lcasolve test/mobility"  # a slash in the name: spelled %2F in the address
DATABASE = "Mobility example"
METHOD = ("IPCC", "simple")
# data README §5: demand 1 "Driving an electric car" -> 0.18248161259647164 kg CO2 (the
# fixture stores float32; the project's amounts are float64, hence rtol 1e-6)
ELECTRIC_CAR_KM = 0.18248161259647164
COMBUSTION_CAR_KM = 0.15490749959371897


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("brightway")
    old_base = Path(bd.projects._base_data_dir)
    old_logs = Path(bd.projects._base_logs_dir)
    old_project = bd.projects.current
    bd.projects.change_base_directories(base, project_name=PROJECT, update=False)
    try:
        with warnings.catch_warnings():
            # openpyxl: "Unknown extension is not supported" on bw2io's example workbook
            warnings.simplefilter("ignore")
            bi.add_example_database()
        bd.projects.set_current("default", update=False)  # reading must not need it current
        yield base
    finally:
        bd.projects.change_base_directories(
            old_base, old_logs, project_name=old_project, update=False
        )


def _bw2calc_scores() -> dict[str, float]:
    """Node code -> bw2calc's score of one unit of its product (one LCA, redone per demand)."""
    bd.projects.set_current(PROJECT, update=False)
    try:
        nodes = [n for n in bd.Database(DATABASE) if n["type"] != "emission"]
        fu, data_objs, _ = bd.prepare_lca_inputs({nodes[0]: 1}, method=METHOD)
        lca = bc.LCA(fu, data_objs=data_objs)
        lca.lci()
        lca.lcia()
        out = {}
        for node in nodes:
            lca.lcia(demand={node.id: 1})
            out[node["code"]] = float(lca.score)
        return out
    finally:
        bd.projects.set_current("default", update=False)


def test_parse_url():
    assert parse_url("bw://p/db") == ("p", "db")
    assert parse_url("bw://lcasolve test%2Fmobility/Mobility example") == (PROJECT, DATABASE)
    with pytest.raises(InputError, match="PROJECT/DATABASE"):
        parse_url("bw://only-a-project")


def test_project_reads_back_with_names_and_bw2calc_scores(project):
    url = "bw://lcasolve test%2Fmobility/Mobility example"
    system = lcasolve.load(url)
    assert bd.projects.current == "default"  # switched back
    acts = system.activities.set_index("name")
    assert set(acts.index) == {
        "Driving an electric car",
        "Electric car",
        "Electric car battery",
        "Steel",
        "Electricity",
        "Lithium",
        "Driving an combustion car",
        "Combustion car",
    }
    assert acts.loc["Driving an electric car", "unit"] == "kilometer"
    assert acts.loc["Driving an electric car", "location"] == "Europe"
    assert acts.loc["Electricity", "unit"] == "kilowatt hour"
    assert acts.loc["Electricity", "product"] == "Electricity"
    assert set(acts["database"]) == {DATABASE}
    assert system.flows["name"].tolist() == ["CO2"]
    assert system.flows["unit"].tolist() == ["kilogram"]
    assert system.categories["name"].tolist() == ["IPCC | simple"]
    assert system.metadata["project"] == PROJECT
    assert system.metadata["methods"] == [list(METHOD)]

    lca = lcasolve.LCA(system)
    for name, reference in (
        ("Driving an electric car", ELECTRIC_CAR_KM),
        ("Driving an combustion car", COMBUSTION_CAR_KM),
    ):
        result = lca.calculate({int(acts.loc[name, "product_id"]): 1.0})
        assert result.scores.iloc[0] == pytest.approx(reference, rel=1e-6)
    # every activity against bw2calc on the same project
    theirs = _bw2calc_scores()
    assert set(theirs) == set(system.activities["code"])
    for _, row in system.activities.iterrows():
        ours = lca.calculate({row["product_id"]: 1.0}).scores.iloc[0]
        assert ours == pytest.approx(theirs[row["code"]], rel=1e-12, abs=1e-15), row["name"]
    top = lca.calculate({int(acts.loc["Driving an electric car", "product_id"]): 1.0})
    table = top.contributions("IPCC | simple", by="activity", top=2)
    assert table["name"].tolist() == ["Electricity", "Steel"]


def test_read_project_function_and_errors(project):
    from lcasolve.io.brightway import read_project

    system = read_project(PROJECT, DATABASE, methods=[METHOD])
    assert system.n_activities == 8
    with pytest.raises(DataFileError, match="no database 'nope'.*Mobility example"):
        read_project(PROJECT, "nope")
    with pytest.raises(DataFileError, match="project 'nope' not found"):
        read_project("nope", DATABASE)
    with pytest.raises(DataFileError, match="no method"):
        read_project(PROJECT, DATABASE, methods=[("no", "such")])
    assert "nope" not in {p.name for p in bd.projects}  # lookups do not create projects


def test_cli_reads_a_brightway_address(project):
    row = read_mapping_free_demand(project)
    env = {**os.environ, "BRIGHTWAY2_DIR": str(project)}
    out = subprocess.run(
        [
            "lcasolve",
            "calc",
            "bw://lcasolve test%2Fmobility/Mobility example",
            "--demand",
            f"{row}=1",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "0.18248" in out.stdout
    bad = subprocess.run(
        ["lcasolve", "calc", "bw://nope/db", "--demand", "1=1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 1
    assert "project 'nope' not found" in bad.stderr
    assert "Traceback" not in bad.stderr


def read_mapping_free_demand(base: Path) -> int:
    bd.projects.set_current(PROJECT, update=False)
    try:
        return int(bd.get_node(database=DATABASE, name="Driving an electric car").id)
    finally:
        bd.projects.set_current("default", update=False)


def test_datapackage_names_from_mapping(shared_data):
    d = shared_data / "bw2calc-fixtures"
    system = lcasolve.load(d / "bw2io_example_db.zip", d / "ipcc_simple.zip")
    names = dict(zip(system.activities["id"], system.activities["name"], strict=True))
    assert names[1] == "Driving an electric car"
    assert names[5] == "Electricity"
    assert system.flows["name"].tolist() == ["CO2"]
    assert system.metadata["names"]["unnamed activities"] == 0
    result = lcasolve.LCA(system).calculate({1: 1.0})
    assert result.scores.iloc[0] == pytest.approx(ELECTRIC_CAR_KM, rel=1e-6)
    top = result.contributions(system.categories["name"].iloc[0], by="activity", top=2)
    assert top["name"].tolist() == ["Electricity", "Steel"]
    np.testing.assert_allclose(top["score"], [0.16800001296144934, 0.014481599635022317], 1e-4)


def test_mapping_option_and_bad_mapping(shared_data, tmp_path):
    d = shared_data / "bw2calc-fixtures"
    renamed = tmp_path / "names.json"
    renamed.write_text('{"1": "EV km", "9": "carbon dioxide"}')
    system = lcasolve.load(d / "bw2io_example_db.zip", mapping=renamed)
    assert system.activities["name"].iloc[0] == "EV km"
    assert system.flows["name"].tolist() == ["carbon dioxide"]
    assert system.metadata["names"]["unnamed activities"] == 7
    assert read_mapping(d / "bw2io_example_db_mapping.json")[9] == "CO2"
    broken = tmp_path / "broken.json"
    broken.write_text('[["a", "x"]]')
    with pytest.raises(DataFileError, match="broken.json: entry 0"):
        read_mapping(broken)
    broken.write_text("{")
    with pytest.raises(DataFileError, match="broken.json: not a readable JSON"):
        read_mapping(broken)


def test_missing_bw2data_names_the_extra(monkeypatch):
    from lcasolve.errors import MissingExtraError
    from lcasolve.io import brightway

    monkeypatch.setitem(sys.modules, "bw2data", None)
    with pytest.raises(MissingExtraError, match=r"lcasolve\[brightway\]"):
        brightway.read_project(PROJECT, DATABASE)


def test_pedigree_dicts_of_exchanges_are_kept(project):
    """Exchanges' ``pedigree`` dicts (bw2io's keys) reach ``metadata['pedigree']``."""
    bd.projects.set_current(PROJECT, update=False)
    try:
        (car,) = [a for a in bd.Database(DATABASE) if a["name"] == "Driving an electric car"]
        given = {}
        for i, exc in enumerate(e for e in car.exchanges() if e["type"] != "production"):
            scores = (1 + i % 5, 2, 3, 1, 4 - i % 3)
            exc["pedigree"] = {
                "reliability": scores[0],
                "completeness": scores[1],
                "temporal correlation": scores[2],
                "geographical correlation": scores[3],
                "further technological correlation": scores[4],
            }
            exc.save()
            sign = -1.0 if exc["type"] == "technosphere" else 1.0
            kind = "technosphere" if exc["type"] == "technosphere" else "biosphere"
            given[(kind, exc.input.id)] = (sign * exc["amount"], list(scores))
        car_id = car.id
    finally:
        bd.projects.set_current("default", update=False)
    assert given
    system = lcasolve.load(f"bw://{PROJECT.replace('/', '%2F')}/{DATABASE.replace(' ', '%20')}")
    table = system.metadata["pedigree"]
    assert set(table["col"]) == {car_id}
    kept = {
        (m, r): (v, s)
        for m, r, v, s in zip(
            table["matrix"], table["row"], table["value"], table["scores"], strict=True
        )
    }
    assert kept == given
