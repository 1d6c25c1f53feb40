"""SimaPro CSV through bw_simapro_csv: every fixture of data README §7 loads or fails naming
its file (and line where the parser points at one); allocation, waste treatment, name linking
and formulas are checked against values read from the files here."""

from __future__ import annotations

from pathlib import Path

import pytest

import lcasolve
from lcasolve.errors import DataFileError, InputError

pytest.importorskip("bw_simapro_csv")

LOADS = {
    "allocation.csv": 3,
    "cas_missing_check_number.csv": 1,
    "external_documents_and_literature_references.csv": 1,
    "inventory.csv": 1,
    "process.csv": 1,
    "process_identifiers.csv": 3,
    "process_with_invalid_lognormal_scale.csv": 1,
    "project_params.csv": 2,
    "python_builtin_as_unit_name.csv": 1,
    "waste.csv": 1,
    "waste_scenario.csv": 3,
    "weird_units.csv": 1,
}
# files without processes (methods, bare headers), broken files and fragments of files that
# bw_simapro_csv's own tests parse block by block: (pattern of the error)
FAILS = {
    "damagecategory.txt": r"damagecategory.txt: no process",
    "header.csv": r"header.csv: no process in this SimaPro CSV file \(kind 'methods'\)",
    "header_translations.csv": r"header_translations.csv: no process",
    "method_end.csv": r"method_end.csv: no process",
    "minimal_header.csv": r"minimal_header.csv: no process",
    "method.csv": r"method.csv:18: not a readable SimaPro CSV",
    "missing-project.csv": r"missing-project.csv:1: not a readable SimaPro CSV",
    "comments.txt": r"comments.txt: not a format",
    "empty.txt": r"empty.txt: not a format",
    "invalid.txt": r"invalid.txt: not a format",
    "metadata.txt": r"metadata.txt: not a format",
    "missing.txt": r"missing.txt: not a format",
    "multioutput.txt": r"multioutput.txt: not a format",
    "simple.txt": r"simple.txt: not a format",
    "literature.csv": r"literature.csv: a table file must be named",
    "new-order.csv": r"new-order.csv: a table file must be named",
    # its waste scenario separates 85 % 'Packaking plastic' (no match for its untyped waste) and
    # sends the remaining 100 % to itself (lenient reading cuts it off: test_simapro_parameters)
    "stages.csv": r"stages.csv \(process Dev99229000009390500006\), line 844 \(Remaining waste\)",
}


@pytest.fixture
def simapro(shared_data) -> Path:
    return shared_data / "simapro"


def test_every_fixture_loads_or_fails_by_name(simapro):
    names = {p.name for p in simapro.iterdir() if p.suffix in (".csv", ".txt")}
    assert names == set(LOADS) | set(FAILS)
    for name, n in LOADS.items():
        assert lcasolve.load(simapro / name).n_activities == n, name
    for name, pattern in FAILS.items():
        with pytest.raises(InputError, match=pattern):
            lcasolve.load(simapro / name)


def test_multi_output_allocation_and_name_links(simapro):
    system = lcasolve.load(simapro / "allocation.csv")
    ids = system.activities["id"].tolist()
    rice = "ReCenter000033915302504"
    straw = f"{rice}/Rice straw, at farm (WFLDB 3.0)/IN U"
    residues = "ReCenter000033915300046"
    assert ids == [residues, rice, straw]
    A = system.A.toarray()  # noqa: N806
    # Products block: rice 6250 kg (95.8 %), straw 3125 kg (4.2 %); the residues process takes
    # 0.388 kg rice and 0.771 kg straw (lines of allocation.csv), linked by SimaPro name
    assert A[1, 1] == 6250.0
    assert A[2, 2] == 3125.0
    assert A[1, 0] == pytest.approx(-0.388)
    assert A[2, 0] == pytest.approx(-0.771)
    report = lcasolve.io.ImportReport.from_system(system)
    assert report.allocation == {rice: "physical allocation"}


def test_waste_treatment_links_by_name(simapro):
    system = lcasolve.load(simapro / "waste_scenario.csv")
    acts = system.activities.set_index("id")
    assert acts.loc["Dev99229000009369600013", "product"] == "test waste treatment 1"
    co2 = system.B.toarray()[0]
    # Emissions to air: Carbon dioxide 1.5 and -0.8 kg per kg treated
    assert sorted(co2[co2 != 0].tolist()) == [-0.8, 1.5]


def test_parameters_evaluate_the_formulas(simapro):
    """Squash takes Watermelon by formula 4.8*variable_name/((7*0.9)-3) (line 154) with the
    project input parameter variable_name = 1 (line 222); evaluated here by lcasolve's own
    formula engine from the file's text."""
    from lcasolve.parameters import Formula

    lines = (simapro / "project_params.csv").read_text(encoding="latin-1").splitlines()
    formula = lines[153].split(",")[2]
    assert formula == "4.8*variable_name/((7*0.9)-3)"
    name, value = lines[221].split(",")[:2]
    expected = float(Formula.parse(formula).evaluate({name: float(value)}))
    system = lcasolve.load(simapro / "project_params.csv")
    ids = system.activities["id"].tolist()
    A = system.A.toarray()  # noqa: N806
    assert A[ids.index("abc123"), ids.index("abc456")] == pytest.approx(-expected, rel=1e-12)
    (entry,) = system.metadata["formulas"]
    assert entry["process"] == "abc456"
    assert entry["line"] == 154


def test_uncertainty_and_elementary_flows(simapro):
    system = lcasolve.load(simapro / "process.csv")
    flows = system.flows.set_index("name")
    assert flows.loc["(+-)-Citronellol", "compartment"] == "Emissions to air/low. pop."
    assert flows.loc["Acids", "direction"] == "input"
    unc = system.biosphere.uncertainty
    assert sorted(set(unc["uncertainty_type"].tolist())) == [0, 2, 3, 4, 5]


def test_duplicate_process_identifier(simapro, tmp_path):
    text = (simapro / "process.csv").read_text(encoding="latin-1")
    copy = tmp_path / "copy.csv"
    copy.write_text(text, encoding="latin-1")
    with pytest.raises(DataFileError, match="process identifier 'DefaultX25250700002' is also"):
        lcasolve.load(simapro / "process.csv", copy)
