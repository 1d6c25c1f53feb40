"""The tables format: CSV folders, Excel workbooks, errors with file and line, linking."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcasolve.errors import DataFileError, InputError, InvalidUncertaintyError, LinkingError
from lcasolve.examples import example_path
from lcasolve.io import detect_format
from lcasolve.io.tables import TABLES, read
from lcasolve.lca import LCA
from lcasolve.methods import with_methods
from lcasolve.model import build_system

CEMENT = example_path("cement")


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def _copy_example(tmp_path: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(CEMENT, dst)
    return dst


def _workbook(folder: Path, target: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in TABLES:
        f = folder / f"{name}.csv"
        if not f.exists():
            continue
        sheet = book.create_sheet(name)
        for r, row in enumerate(_rows(f)):
            cells = []
            for cell in row:
                try:  # numbers as Excel numbers, as a practitioner's workbook holds them
                    cells.append(float(cell) if r and cell and cell[0] in "0123456789.-" else cell)
                except ValueError:
                    cells.append(cell)
            sheet.append(cells)
    book.save(target)
    return target


def test_detect_format() -> None:
    assert detect_format(CEMENT) == "tables"
    assert detect_format(CEMENT / "activities.csv") == "tables"


def test_example_structure_and_uncertainty() -> None:
    system = read(CEMENT)
    assert system.n_activities == 14 and system.n_flows == 8 and system.n_categories == 0
    acts = system.activities.set_index("id")
    assert acts.loc["cement", "stage"] == "A3" and acts.loc["electricity", "scope"] == "2"
    assert acts.loc["truck", "unit"] == "tkm" and not acts["waste"].any()
    assert system.metadata["format"] == "tables"
    tech = system.technosphere
    idx = system.activity_index
    pidx = system.product_index

    def entry(provider: str, consumer: str) -> int:
        (e,) = np.flatnonzero((tech.row == pidx[provider]) & (tech.col == idx[consumer]))
        return int(e)

    unc = tech.uncertainty
    # triangular clinker ratio: mode 0.85 in [0.80, 0.90], stored positive with flip
    e = entry("clinker", "cement")
    assert tech.value[e] == -0.85 and tech.flip[e]
    assert (unc[e]["uncertainty_type"], unc[e]["loc"]) == (5, 0.85)
    assert (unc[e]["minimum"], unc[e]["maximum"]) == (0.80, 0.90)
    # gypsum given as 50 kg, converted to 0.05 t; lognormal median moves with it
    e = entry("gypsum", "cement")
    assert tech.value[e] == pytest.approx(-0.05)
    assert unc[e]["loc"] == pytest.approx(math.log(0.05)) and unc[e]["scale"] == pytest.approx(
        math.log(1.1)
    )
    # pedigree (2,2,1,1,1): variance ln(1.1)^2 + 0.0006 + 0.0001 (ecoinvent v3 factors)
    e = entry("electricity", "cement")
    assert unc[e]["scale"] == pytest.approx(math.sqrt(math.log(1.1) ** 2 + 0.0007))
    # uniform transport distance
    e = entry("truck", "cement")
    assert (unc[e]["uncertainty_type"], unc[e]["minimum"], unc[e]["maximum"]) == (4, 5.0, 10.0)
    # production on the diagonal, no uncertainty
    assert np.allclose(system.A.diagonal(), 1.0)
    bio = system.biosphere
    calc = np.flatnonzero(
        (bio.row == system.flow_index["co2_fossil"]) & (bio.col == idx["clinker"])
    )
    kinds = sorted(int(bio.uncertainty[i]["uncertainty_type"]) for i in calc)
    assert kinds == [2, 3]  # calcination normal, fuel CO2 lognormal: kept as separate entries
    assert system.B[system.flow_index["co2_fossil"], idx["clinker"]] == pytest.approx(834.0)


def test_excel_and_csv_give_identical_systems(tmp_path: Path) -> None:
    book = _workbook(CEMENT, tmp_path / "cement.xlsx")
    assert detect_format(book) == "tables"
    a, b = read(CEMENT), read(book)
    for name in ("technosphere", "biosphere", "characterization"):
        ea, eb = getattr(a, name), getattr(b, name)
        assert ea.shape == eb.shape
        np.testing.assert_array_equal(ea.row, eb.row)
        np.testing.assert_array_equal(ea.col, eb.col)
        np.testing.assert_array_equal(ea.value, eb.value)
        np.testing.assert_array_equal(ea.flip, eb.flip)
        for field in ("uncertainty_type", "loc", "scale", "minimum", "maximum", "negative"):
            np.testing.assert_array_equal(ea.uncertainty[field], eb.uncertainty[field])
    pd.testing.assert_frame_equal(a.activities, b.activities)
    pd.testing.assert_frame_equal(a.flows, b.flows)
    # individual CSV files and a zip of the folder read the same too
    c = read([CEMENT / f"{t}.csv" for t in ("activities", "exchanges", "flows")])
    np.testing.assert_array_equal(a.A.toarray(), c.A.toarray())
    z = shutil.make_archive(str(tmp_path / "cement"), "zip", CEMENT)
    np.testing.assert_array_equal(a.B.toarray(), read(z).B.toarray())


def _edit(folder: Path, table: str, line: int, column: str, value: str) -> None:
    rows = _rows(folder / f"{table}.csv")
    rows[line - 1][rows[0].index(column)] = value
    _write_rows(folder / f"{table}.csv", rows)


@pytest.mark.parametrize(
    ("table", "line", "column", "value", "error", "message"),
    [
        ("exchanges", 7, "amount", "1,25", DataFileError, "amount '1,25' is not a number"),
        ("exchanges", 9, "provider", "charcoal", LinkingError, "provider 'charcoal'"),
        ("exchanges", 12, "activity", "kiln", DataFileError, "activity 'kiln' is not in"),
        ("exchanges", 16, "flow", "co2", DataFileError, "flow 'co2' is not in the flows"),
        ("exchanges", 3, "unit", "MJ", DataFileError, "unit 'MJ' cannot be converted to 't'"),
        ("exchanges", 2, "max", "0.84", InvalidUncertaintyError, "triangular"),
        ("exchanges", 8, "gsd", "0.5", InvalidUncertaintyError, "gsd 0.5 must be >= 1"),
        ("exchanges", 5, "pedigree", "(2,2,6,1,1)", InvalidUncertaintyError, "pedigree"),
        ("exchanges", 10, "distribution", "gamma", InvalidUncertaintyError, "unknown distrib"),
        ("exchanges", 4, "kind", "input", DataFileError, "kind 'input' must be"),
        ("activities", 4, "id", "clinker", DataFileError, "already used on line 3"),
        ("activities", 5, "amount", "-1", DataFileError, "must be > 0"),
        ("activities", 6, "location", "", None, ""),
        ("flows", 3, "id", "co2_fossil", DataFileError, "already used on line 2"),
    ],
)
def test_errors_name_file_and_line(tmp_path, table, line, column, value, error, message) -> None:
    folder = _copy_example(tmp_path)
    _edit(folder, table, line, column, value)
    if error is None:  # an empty optional cell is fine
        assert read(folder).activities["location"].iloc[line - 2] == ""
        return
    with pytest.raises(error, match=rf"{table}\.csv, line {line}: .*{message}"):
        read(folder)


def test_errors_in_workbooks_name_sheet_and_row(tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    _edit(folder, "exchanges", 9, "provider", "charcoal")
    book = _workbook(folder, tmp_path / "model.xlsx")
    with pytest.raises(LinkingError, match=r"model\.xlsx, sheet exchanges, line 9: provider"):
        read(book)


def test_structural_errors(tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows(folder / "flows.csv")
    _write_rows(folder / "flows.csv", [[c for c in r if c != "name"][:1] + r[2:] for r in rows])
    with pytest.raises(DataFileError, match=r"flows\.csv, line 1: missing required columns"):
        read(folder)
    (folder / "flows.csv").unlink()
    with pytest.raises(DataFileError, match="required table 'flows' is missing"):
        read(folder)
    with pytest.raises(InputError, match="unknown options"):
        read(CEMENT, background_db=None)
    with pytest.raises(DataFileError, match="no such file"):
        read(tmp_path / "absent")


def _tiny_tables(folder: Path, exchanges: list[list[str]]) -> Path:
    folder.mkdir()
    _write_rows(
        folder / "activities.csv",
        [
            ["id", "name", "unit", "amount", "waste", "stage"],
            ["widget", "Widget assembly", "kg", "2", "", "A3"],
            ["landfill", "Landfill of scrap", "kg", "1", "true", "C4"],
        ],
    )
    _write_rows(
        folder / "exchanges.csv",
        [["activity", "kind", "provider", "flow", "amount", "unit"], *exchanges],
    )
    _write_rows(
        folder / "flows.csv",
        [
            ["id", "name", "compartment", "unit"],
            ["ch4", "Methane, non-fossil", "air", "kg"],
        ],
    )
    _write_rows(
        folder / "characterization.csv",
        [["category", "flow", "factor", "unit"], ["own GWP", "ch4", "27", "kg CO2-eq"]],
    )
    return folder


def test_waste_treatment_and_own_characterization(tmp_path: Path) -> None:
    folder = _tiny_tables(
        tmp_path / "tiny",
        [
            ["widget", "biosphere", "", "ch4", "0.5", "kg"],
            ["widget", "technosphere", "landfill", "", "0.4", "kg"],
            ["landfill", "biosphere", "", "ch4", "30", "g"],
        ],
    )
    system = read(folder)
    assert system.categories["name"].tolist() == ["own GWP"]
    # A: widget produces 2 kg, sends 0.4 kg scrap to landfill (+0.4); landfill diagonal -1
    np.testing.assert_array_equal(system.A.toarray(), [[2.0, 0.0], [0.4, -1.0]])
    result = LCA(system).calculate({"widget": 1.0})
    # s_widget = 0.5, s_landfill = 0.2; CH4 = 0.5*0.5 + 0.2*0.03 = 0.256 kg
    np.testing.assert_allclose(result.supply, [0.5, 0.2])
    assert result.score("own GWP") == pytest.approx(0.256 * 27)
    both = with_methods(system, ["own GWP", "IPCC AR6 GWP100"])
    assert LCA(both).calculate({"widget": 1.0}).score("IPCC AR6 GWP100") == pytest.approx(
        0.256 * 27.0
    )


def test_background_linking(tmp_path: Path) -> None:
    background = build_system(
        [(1, 10, 1.0), (2, 20, 1.0), (1, 20, -0.25)],
        [("CO2", 10, 2.0), ("CO2", 20, 1.0)],
        {"bg GWP": {"CO2": 1.0}},
        flows=pd.DataFrame(
            {
                "id": ["CO2"],
                "name": ["Carbon dioxide, fossil"],
                "compartment": ["air"],
                "unit": ["kg"],
            }
        ),
        metadata={"format": "test"},
    )
    folder = _tiny_tables(
        tmp_path / "fg",
        [
            ["widget", "technosphere", "2", "", "3", ""],  # background product id 2
            ["widget", "biosphere", "", "CO2", "1", "kg"],  # background flow
            ["widget", "biosphere", "", "ch4", "0.1", "kg"],
            ["landfill", "technosphere", "1", "", "0.5", ""],
        ],
    )
    system = read(folder, background=background)
    assert system.n_activities == 4 and system.n_flows == 2
    assert system.activities["id"].tolist()[:2] == ["widget", "landfill"]
    assert system.categories["name"].tolist() == ["bg GWP", "own GWP"]
    assert system.metadata["format"] == "test"
    assert system.metadata["foreground"]["activities"] == 2
    # the merged link report is a LinkReport, as a reader without background gives it
    assert type(system.metadata["link_report"]).__name__ == "LinkReport"
    # dense reference: x = [widget, landfill, bg10, bg20]
    A = np.array(  # noqa: N806
        [[2.0, 0, 0, 0], [0, -1.0, 0, 0], [0, -0.5, 1.0, -0.25], [-3.0, 0, 0, 1.0]]
    )
    B = np.array([[1.0, 0, 2.0, 1.0], [0.1, 0, 0, 0]])  # noqa: N806  rows CO2, ch4
    s = np.linalg.solve(A, [1.0, 0, 0, 0])
    result = LCA(system).calculate({"widget": 1.0})
    np.testing.assert_allclose(result.supply, s, rtol=1e-13)
    g = B @ s
    assert result.score("bg GWP") == pytest.approx(g[0], rel=1e-13)
    assert result.score("own GWP") == pytest.approx(27 * g[1], rel=1e-13)
    with pytest.raises(LinkingError, match=r"exchanges\.csv, line 2: provider '7'.*background"):
        _edit(folder, "exchanges", 2, "provider", "7")
        read(folder, background=background)


@pytest.mark.data
def test_load_routes_tables_with_a_datapackage_background(tmp_path: Path, shared_data) -> None:
    pytest.importorskip("lcasolve.io.datapackage")
    import lcasolve

    folder = tmp_path / "fg"
    folder.mkdir()
    _write_rows(
        folder / "activities.csv",
        [["id", "name", "unit", "stage"], ["widget", "Widget assembly", "p", "A3"]],
    )
    _write_rows(
        folder / "exchanges.csv",
        [
            ["activity", "kind", "provider", "flow", "amount"],
            ["widget", "technosphere", "1", "", "2"],  # brightway product id 1
            ["widget", "biosphere", "", "1", "0.5"],  # brightway flow id 1
        ],
    )
    _write_rows(folder / "flows.csv", [["id", "name", "compartment", "unit"]])
    basic = shared_data / "bw2calc-fixtures" / "basic_fixture.zip"
    system = lcasolve.load(folder, basic)
    assert system.n_activities == 3
    # README §5: demand {1: 1} -> supply 101 = 1, 102 = 0.5, score 1 (CF of flow 1 = 1);
    # the widget needs 2 units of product 1 and emits 0.5 of flow 1 itself.
    result = LCA(system).calculate({"widget": 1.0})
    np.testing.assert_allclose(result.supply, [1.0, 2.0, 1.0], rtol=1e-12)
    assert result.scores.iloc[0] == pytest.approx(2 * 1.0 + 0.5, rel=1e-12)


def test_semicolon_csv_with_decimal_commas(tmp_path: Path) -> None:
    folder = tmp_path / "semicolon"
    folder.mkdir()
    for name in ("activities", "exchanges", "flows"):
        rows = _rows(CEMENT / f"{name}.csv")
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh, delimiter=";")
            for r in rows:
                writer.writerow([c.replace(".", ",") if _is_number(c) else c for c in r])
    a, b = read(CEMENT), read(folder)
    np.testing.assert_array_equal(a.A.toarray(), b.A.toarray())
    np.testing.assert_array_equal(a.B.toarray(), b.B.toarray())
    for field in ("uncertainty_type", "loc", "scale", "minimum", "maximum"):
        np.testing.assert_array_equal(
            a.technosphere.uncertainty[field], b.technosphere.uncertainty[field]
        )
    assert b.activities.columns.tolist() == a.activities.columns.tolist()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_example_uncertainty_is_valid_for_stats_arrays() -> None:
    sa = pytest.importorskip("stats_arrays")
    system = read(CEMENT)
    for entries in (system.technosphere, system.biosphere):
        u = entries.uncertainty
        params = sa.UncertaintyBase.from_dicts(
            *[
                {k: float(r[k]) for k in ("loc", "scale", "shape", "minimum", "maximum")}
                | {"negative": bool(r["negative"]), "uncertainty_type": int(r["uncertainty_type"])}
                for r in u
            ]
        )
        for t in np.unique(params["uncertainty_type"]):
            sub = params[params["uncertainty_type"] == t]
            sa.uncertainty_choices[int(t)].validate(sub)  # raises on invalid parameters
            rng = sa.RandomNumberGenerator(sa.uncertainty_choices[int(t)], sub, seed=7)
            draws = np.array([rng.next() for _ in range(400)])[:, :, 0]
            # draws sit around the deterministic amounts (source sign)
            amount = np.abs(entries.amount[u["uncertainty_type"] == t])
            assert np.all(np.abs(np.median(draws, axis=0) / amount - 1) < 0.15)


def test_example_uncertainty_passes_lcasolve_validation() -> None:
    uncertainty = pytest.importorskip("lcasolve.uncertainty")
    system = read(CEMENT)
    for entries in (system.technosphere, system.biosphere):
        uncertainty.validate(entries.uncertainty)  # raises InvalidUncertaintyError if invalid
        mean, std = uncertainty.describe(entries.uncertainty)
        uncertain = entries.uncertain
        assert uncertain.sum() > 0 and (std[uncertain] > 0).all()
        # symmetric distributions (normal, uniform) have the amount as mean
        sym = np.isin(entries.uncertainty["uncertainty_type"], (3, 4))
        np.testing.assert_allclose(mean[sym], entries.amount[sym], rtol=1e-12)
