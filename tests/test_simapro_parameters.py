"""SimaPro CSV parameters and formulas through lcasolve.parameters, and waste scenario shares.

Expected values come from the fixtures' own text (data README §7), computed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lcasolve

pytestmark = pytest.mark.data
pytest.importorskip("bw_simapro_csv")


@pytest.fixture
def simapro(shared_data) -> Path:
    return shared_data / "simapro"


def _line(path: Path, number: int) -> list[str]:
    return path.read_text(encoding="latin-1").splitlines()[number - 1].split(";")


def test_project_parameter_drives_the_formula(simapro):
    """Squash (abc456) takes 4.8*variable_name/((7*0.9)-3) Watermelon (abc123)."""
    system = lcasolve.load(simapro / "project_params.csv")
    frame = system.parameters.to_frame()
    assert frame["name"].tolist() == ["variable_name"]
    assert frame["value"].tolist() == [1.0]
    ids = system.activities["id"].tolist()
    i, j = ids.index("abc123"), ids.index("abc456")
    for value in (1.0, 2.0, 0.25):
        changed = system.with_parameters({"variable_name": value})
        assert changed.A.toarray()[i, j] == pytest.approx(-4.8 * value / ((7 * 0.9) - 3), rel=1e-12)


def test_process_and_database_parameters(simapro):
    """process.csv: calc_param = input_param ** 2 (process scope), db and project parameters."""
    system = lcasolve.load(simapro / "process.csv")
    frame = system.parameters.to_frame().set_index("name")
    assert frame.loc["input_param", "value"] == 23.4
    assert frame.loc["calc_param", "scope"] == system.activities["id"].iloc[0]
    values = {
        k[-1] if isinstance(k, tuple) else k: v for k, v in system.parameters.evaluate().items()
    }
    assert float(values["calc_param"]) == pytest.approx(23.4**2)
    assert float(values["db_calc_param"]) == pytest.approx(3.0 * 1.0)
    again = system.parameters.with_values({"db_input_param": 5.0}).evaluate()
    again = {k[-1] if isinstance(k, tuple) else k: v for k, v in again.items()}
    assert float(again["db_calc_param"]) == pytest.approx(15.0)
    assert float(again["proj_calc_param"]) == pytest.approx(20.0)


def test_decimal_comma_formula(simapro):
    """waste.csv declares a decimal comma; its treated-waste amount is 1034*0,6684*0,59*0,03."""
    path = simapro / "waste.csv"
    cells = _line(path, 126)
    assert cells[2] == "1034*0,6684*0,59*0,03"
    expected = float(np.prod([float(x.replace(",", ".")) for x in cells[2].split("*")]))
    system = lcasolve.load(path)
    assert system.A.diagonal().tolist() == pytest.approx([expected], rel=1e-12)
    assert system.with_parameters({}).A.diagonal().tolist() == pytest.approx([expected], rel=1e-12)


def test_waste_scenario_shares(simapro):
    """The scenario sends 90 % to treatment 1 (1.5 kg CO2/kg), the rest to 2 (-0.8 kg/kg)."""
    path = simapro / "waste_scenario.csv"
    assert _line(path, 74)[:3] == ["test waste treatment 1", "All waste types", "90"]
    assert _line(path, 77)[:3] == ["test waste treatment 2", "", "100"]
    system = lcasolve.load(path)
    ids = system.activities["id"].tolist()
    scenario = ids[system.activities["name"].tolist().index("test waste scenario")]
    r = lcasolve.LCA(system).calculate({scenario: 1.0})
    assert r.inventory.tolist() == pytest.approx([0.9 * 1.5 + 0.1 * -0.8])
    # both fractions are for all waste types: nothing left out, nothing untreated
    assert list(system.metadata["link_report"]) == []


def _scenario_variant(simapro: Path, tmp_path: Path, lines: dict[int, list[str]]) -> Path:
    """waste_scenario.csv with the given line numbers replaced by the given lines."""
    text = (simapro / "waste_scenario.csv").read_text(encoding="latin-1").splitlines()
    assert text[66] == "test waste scenario;kg;1;All waste types;Others"
    out: list[str] = []
    for number, line in enumerate(text, start=1):
        out += lines.get(number, [line])
    path = tmp_path / "scenario.csv"
    path.write_text("\n".join(out) + "\n", encoding="latin-1")
    return path


def _scenario_result(path: Path) -> tuple[float, list[dict]]:
    system = lcasolve.load(path)
    ids = system.activities["id"].tolist()
    scenario = ids[system.activities["name"].tolist().index("test waste scenario")]
    inventory = lcasolve.LCA(system).calculate({scenario: 1.0}).inventory.tolist()
    return inventory[0], list(system.metadata["link_report"])


# SimaPro applies to a waste the fractions of a section that match it best: those of its own
# name, else of its waste type, else those for all waste types; a waste of no specific type
# ("All waste types") is separated by the all-types fractions only. Treatment 1 emits 1.5 kg
# CO2 per kg, treatment 2 -0.8.


def test_waste_scenario_fraction_of_another_type_is_left_out(simapro, tmp_path):
    """5 % Paper to treatment 1 does not apply to untyped waste: 90 % / 10 % as before."""
    path = _scenario_variant(
        simapro,
        tmp_path,
        {74: ["test waste treatment 1;All waste types;90;", "test waste treatment 1;Paper;5;"]},
    )
    co2, report = _scenario_result(path)
    assert co2 == pytest.approx(0.9 * 1.5 + 0.1 * -0.8, rel=1e-12)  # not 0.95 * 1.5 + 0.05 * -0.8
    (left,) = [e for e in report if e["issue"] == "waste type not matched"]
    assert left["action"] == "left out" and left["flow"] == "test waste treatment 1"
    assert left["exchange"] == "line 75" and "'Paper'" in left["detail"]
    assert not [e for e in report if e["issue"] == "waste not treated"]


def test_waste_scenario_typed_waste_takes_its_own_fractions(simapro, tmp_path):
    """Paper waste: the Paper fraction (30 %) is separated, the all-types 90 % is not; the rest
    (70 %) goes by the all-types remaining fraction to treatment 2."""
    path = _scenario_variant(
        simapro,
        tmp_path,
        {
            67: ["test waste scenario;kg;1;Paper;Others"],
            74: ["test waste treatment 1;All waste types;90;", "test waste treatment 2;Paper;30;"],
        },
    )
    co2, report = _scenario_result(path)
    assert co2 == pytest.approx((0.3 + 0.7) * -0.8, rel=1e-12)
    (left,) = [e for e in report if e["issue"] == "waste type not matched"]
    assert left["flow"] == "test waste treatment 1" and left["amount"] == 90.0


def test_waste_scenario_untreated_share_is_reported(simapro, tmp_path):
    """A remaining fraction for Glass only: the 10 % left of untyped waste is not treated."""
    path = _scenario_variant(simapro, tmp_path, {77: ["test waste treatment 2;Glass;100"]})
    co2, report = _scenario_result(path)
    assert co2 == pytest.approx(0.9 * 1.5, rel=1e-12)
    (untreated,) = [e for e in report if e["issue"] == "waste not treated"]
    assert untreated["action"] == "cut off"
    assert untreated["amount"] == pytest.approx(0.1, rel=1e-12)
    assert [e["flow"] for e in report if e["issue"] == "waste type not matched"] == [
        "test waste treatment 2"
    ]


def test_stages_scenario_type_fraction_and_self_loop(simapro):
    """stages.csv's scenario: 85 % of 'Packaking plastic' (line 841) does not apply to its
    untyped waste, so the remaining 100 % (line 844) is the whole waste sent back to the
    scenario itself: strict reading stops there, lenient reading cuts it off and reports both."""
    path = simapro / "stages.csv"
    assert _line(path, 830)[:4] == ["waste scenario 1", "kg", "1", "All waste types"]
    assert _line(path, 841)[:3] == ["waste treatment 1", "Packaking plastic", "85"]
    assert _line(path, 844)[:3] == ["waste scenario 1", "", "100"]
    from lcasolve.errors import InvalidProductionError

    with pytest.raises(InvalidProductionError, match=r"stages.csv .*line 844 .*takes in 1.0"):
        lcasolve.load(path)
    system = lcasolve.load(path, strict=False)
    assert system.n_activities == 7
    (left,) = [e for e in system.metadata["link_report"] if e["issue"] == "waste type not matched"]
    assert left["exchange"] == "line 841" and left["flow"] == "waste treatment 1"
    assert [p for p in system.metadata["problems"] if "line 844" in p]


def test_method_file_gives_categories(simapro, tmp_path):
    """A method export read with a process export: its impact categories become categories.

    Built from method_end.csv with factors for process.csv's emissions (lines 108, 111): one
    for the sub-compartment (Air, low. pop.), one '(unspecified)' for Water in g (the flow is in
    kg: factor x 1000), and one for a compartment the process does not use.
    """
    lines = (simapro / "method_end.csv").read_text(encoding="latin-1").splitlines()
    start = lines.index("Substances") + 1
    cfs = [
        "Air;low. pop.;(+-)-Citronellol;;2.5;kg",
        "Water;(unspecified);(1r,4r)-(+)-Camphor;;0.003;g",
        "Soil;(unspecified);(+-)-Citronellol;;99;kg",
    ]
    method = tmp_path / "method.csv"
    method.write_text("\n".join(lines[:start] + cfs + lines[start:]), encoding="latin-1")
    alone = simapro / "process.csv"
    system = lcasolve.load(alone, method)
    noise = "some method | Noise"
    assert system.categories["name"].tolist() == [noise]
    flows = system.flows["name"].tolist()
    C = system.C.toarray()[0]  # noqa: N806
    assert C[flows.index("(+-)-Citronellol")] == pytest.approx(2.5)
    assert C[flows.index("(1r,4r)-(+)-Camphor")] == pytest.approx(3.0)
    assert np.count_nonzero(C) == 2
    # the method alone is no system: named
    with pytest.raises(lcasolve.errors.DataFileError, match="method.csv: no process.*'methods'"):
        lcasolve.load(method)


def test_units_of_one_product_are_converted_or_refused(simapro, tmp_path):
    """allocation.csv has no Units block: an input in g of a product made in kg is converted
    to kg (771 g = 0.771 kg, line 107); one in a unit of another dimension is refused where
    the product meets it again (line 209)."""
    text = (simapro / "allocation.csv").read_text(encoding="latin-1")
    old = "Rice straw, at farm (WFLDB 3.0)/IN U;kg;0.771;"
    assert old in text
    base = lcasolve.load(simapro / "allocation.csv")
    grams = tmp_path / "grams.csv"
    grams.write_text(text.replace(old, old.replace(";kg;0.771;", ";g;771;")), encoding="latin-1")
    conv = lcasolve.load(grams)
    consumer = "ReCenter000033915300046"
    # the activity levels of the supply chain do not depend on the unit the input was given in
    levels = []
    for system in (base, conv):
        supply = lcasolve.LCA(system).calculate({consumer: 1.0}).supply
        levels.append(dict(zip(system.activities["id"], np.asarray(supply), strict=True)))
    assert levels[0].keys() == levels[1].keys()
    for k, v in levels[0].items():
        assert levels[1][k] == pytest.approx(v, rel=1e-12), k
    assert any(v != 0 for k, v in levels[0].items() if k != consumer)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(text.replace(old, old.replace(";kg;", ";kWh;")), encoding="latin-1")
    with pytest.raises(
        lcasolve.errors.DataFileError, match=r"wrong.csv:209 .*'kg' here but in 'kWh' elsewhere"
    ):
        lcasolve.load(wrong)
