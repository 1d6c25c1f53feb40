"""Tables format: the linking options, the ``parameters`` table and ``formula`` columns."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lcasolve.errors import (
    DataFileError,
    FormulaEvaluationError,
    FormulaSyntaxError,
    LinkingError,
    ParameterCycleError,
    UnknownParameterError,
)
from lcasolve.io.tables import read
from lcasolve.lca import LCA
from lcasolve.parameters import parameter_monte_carlo

GWP = "own GWP"


def _write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def _lcasolve(*argv: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    cmd = ["lcasolve", *map(str, argv)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)


# ------------------------------------------------------------------------------ linking options
def _steel_model(folder: Path, exchange: list[str]) -> Path:
    """A widget made of steel that two activities (EU, CN) make under the same product name."""
    folder.mkdir()
    _write(
        folder / "activities.csv",
        [
            ["id", "name", "product", "unit", "location"],
            ["widget", "Widget assembly", "Widget", "p", "EU"],
            ["steel_eu", "Steel production, EU", "Steel", "kg", "EU"],
            ["steel_cn", "Steel production, CN", "Steel", "kg", "CN"],
        ],
    )
    _write(
        folder / "exchanges.csv",
        [
            ["activity", "kind", "provider", "product", "flow", "amount", "unit"],
            exchange,
            ["steel_eu", "biosphere", "", "", "co2", "2", "kg"],
            ["steel_cn", "biosphere", "", "", "co2", "3", "kg"],
        ],
    )
    _write(
        folder / "flows.csv", [["id", "name", "compartment", "unit"], ["co2", "CO2", "air", "kg"]]
    )
    _write(folder / "characterization.csv", [["category", "flow", "factor"], [GWP, "co2", "1"]])
    return folder


def _score(system, demand=None) -> float:
    return float(LCA(system).calculate(demand or {"widget": 1.0}).score(GWP))


def test_ambiguous_product_follows_the_policy(tmp_path: Path) -> None:
    folder = _steel_model(tmp_path / "m", ["widget", "technosphere", "", "Steel", "", "500", "g"])
    with pytest.raises(
        LinkingError, match=r"exchanges\.csv, line 2: .*'Steel'.*steel_cn, steel_eu"
    ):
        read(folder, ambiguous="error")
    # prefer: the provider in the consumer's location (EU): 0.5 kg x 2 kg CO2
    assert _score(read(folder)) == pytest.approx(1.0, rel=1e-12)
    cut = read(folder, ambiguous="cutoff")
    assert _score(cut) == 0.0
    (item,) = [e for e in cut.metadata["link_report"] if e["issue"] == "ambiguous"]
    assert (item["action"], item["process"], item["flow_name"]) == ("cut off", "widget", "Steel")
    assert "steel_cn, steel_eu" in item["detail"]
    # split: no provider in the consumer's tier beyond its own location -> EU alone; with the
    # widget in CH (no same location, no country, no global), equal shares of both
    split = read(folder, ambiguous="split")
    assert _score(split) == pytest.approx(1.0, rel=1e-12)
    rows = (folder / "activities.csv").read_text().replace("Widget,p,EU", "Widget,p,CH")
    (folder / "activities.csv").write_text(rows)
    both = read(folder, ambiguous="split")
    assert _score(both) == pytest.approx(0.5 * (0.5 * 2 + 0.5 * 3), rel=1e-12)


def test_naming_the_provider_is_never_ambiguous(tmp_path: Path) -> None:
    folder = _steel_model(tmp_path / "m", ["widget", "technosphere", "steel_cn", "", "", "2", ""])
    system = read(folder, ambiguous="error")
    assert _score(system) == pytest.approx(6.0, rel=1e-12)


def test_unknown_provider_follows_the_unlinked_policy(tmp_path: Path) -> None:
    folder = _steel_model(tmp_path / "m", ["widget", "technosphere", "iron", "", "", "2", ""])
    with pytest.raises(LinkingError, match=r"exchanges\.csv, line 2: provider 'iron' is not"):
        read(folder)  # the tables default: a table names its providers, so this is a typo
    system = read(folder, unlinked="cutoff")
    (item,) = [e for e in system.metadata["link_report"] if e["issue"] == "unlinked"]
    assert (item["action"], item["process"], item["flow_name"]) == ("cut off", "widget", "iron")
    assert _score(system) == 0.0
    # an unknown product name too
    folder = _steel_model(tmp_path / "n", ["widget", "technosphere", "", "Iron", "", "2", ""])
    with pytest.raises(LinkingError, match=r"line 2: product 'Iron' is made by no activity"):
        read(folder)
    assert read(folder, unlinked="cutoff").metadata["link_counts"]["unlinked"] == 1


def test_cli_passes_the_linking_options_to_tables(tmp_path: Path) -> None:
    folder = _steel_model(tmp_path / "m", ["widget", "technosphere", "", "Steel", "", "1", ""])
    bad = _lcasolve("calc", folder, "--demand", "widget=1", "--ambiguous", "error")
    assert bad.returncode == 1 and "'Steel'" in bad.stderr and "Traceback" not in bad.stderr


# ------------------------------------------------------------------------------ parameters
def _parametric(folder: Path, *, params: list[list[str]] | None = None, exchanges=None) -> Path:
    """A widget: mass (its own parameter) of steel-free stuff carried dist km by lorry.

    GWP of 1 widget = 1.5 mass (process CO2) + 0.1 kg CO2/tkm x dist x load + 0.01 kg CH4 x gwp_ch4,
    with load = mass / 1000 t.
    """
    folder.mkdir()
    _write(
        folder / "activities.csv",
        [
            ["id", "name", "unit"],
            ["widget", "Widget assembly", "p"],
            ["truck", "Transport, lorry", "tkm"],
        ],
    )
    _write(
        folder / "parameters.csv",
        params
        or [
            ["name", "value", "scope", "formula", "distribution", "min", "max", "description"],
            ["dist", "100", "", "", "uniform", "50", "150", "km to the customer"],
            ["gwp_ch4", "27", "", "", "", "", "", "GWP100 of methane"],
            ["mass", "2", "widget", "", "", "", "", "kg per widget"],
            ["load", "", "widget", "mass / 1000", "", "", "", "t carried"],
        ],
    )
    _write(
        folder / "exchanges.csv",
        exchanges
        or [
            ["activity", "kind", "provider", "flow", "amount", "unit", "formula"],
            ["widget", "technosphere", "truck", "", "", "tkm", "dist * load"],
            ["widget", "biosphere", "", "co2", "", "kg", "1.5 * mass"],
            ["widget", "biosphere", "", "ch4", "0.01", "kg", ""],
            ["truck", "biosphere", "", "co2", "100", "g", ""],
        ],
    )
    _write(
        folder / "flows.csv",
        [
            ["id", "name", "compartment", "unit"],
            ["co2", "Carbon dioxide, fossil", "air", "kg"],
            ["ch4", "Methane, fossil", "air", "kg"],
        ],
    )
    _write(
        folder / "characterization.csv",
        [
            ["category", "flow", "factor", "formula", "unit"],
            [GWP, "co2", "1", "", "kg CO2-eq"],
            [GWP, "ch4", "", "gwp_ch4", "kg CO2-eq"],
        ],
    )
    return folder


def _gwp(dist: float = 100, mass: float = 2, gwp_ch4: float = 27) -> float:
    return 1.5 * mass + 0.1 * dist * mass / 1000 + 0.01 * gwp_ch4


def test_formulas_evaluate_and_with_parameters_changes_the_score(tmp_path: Path) -> None:
    system = read(_parametric(tmp_path / "p"))
    params = system.parameters
    assert params is not None and len(params) == 4 and len(params.entries) == 3
    assert _score(system) == pytest.approx(_gwp(), rel=1e-12)
    assert _score(system.with_parameters({"dist": 250})) == pytest.approx(_gwp(dist=250), rel=1e-12)
    changed = system.with_parameters({"widget/mass": 5, "gwp_ch4": 30})
    assert _score(changed) == pytest.approx(_gwp(mass=5, gwp_ch4=30), rel=1e-12)
    # the transport entry is dist * load tkm: A[truck, widget] = -dist * mass / 1000
    idx = system.activity_index
    assert changed.A[idx["truck"], idx["widget"]] == pytest.approx(-100 * 5 / 1000, rel=1e-12)
    # the uniform distribution of dist is kept for parameter Monte Carlo
    (dist,) = params.uncertain
    assert dist.name == "dist" and int(dist.uncertainty["uncertainty_type"]) == 4


def test_parameter_monte_carlo_on_tables_is_linear_in_the_distance(tmp_path: Path) -> None:
    system = read(_parametric(tmp_path / "p"))
    mc = parameter_monte_carlo(system, {"widget": 1.0}, 64, seed=3)
    d = mc.samples["dist"].to_numpy()
    assert d.min() >= 50 and d.max() <= 150 and d.std() > 10
    np.testing.assert_allclose(mc.scores[GWP].to_numpy(), _gwp(dist=d), rtol=1e-12)


def test_cli_param_on_tables(tmp_path: Path) -> None:
    folder = _parametric(tmp_path / "p")
    base = ["calc", folder, "--demand", "widget=1", "--method", GWP, "--json"]
    out = _lcasolve(*base)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["scores"][GWP] == pytest.approx(_gwp(), rel=1e-12)
    out = _lcasolve(*base, "--param", "dist=300", "--param", "widget/mass=3")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["scores"][GWP] == pytest.approx(_gwp(300, 3), rel=1e-12)


_HEADER = ["activity", "kind", "provider", "flow", "amount", "unit", "formula"]


@pytest.mark.parametrize(
    ("exchange", "error", "message"),
    [
        (["widget", "biosphere", "", "co2", "", "kg", "1.5 * mas"], UnknownParameterError,
         r"exchanges\.csv, line 2 \(formula of amount\): unknown parameter 'mas'"),
        (["widget", "biosphere", "", "co2", "", "kg", "1.5 * (mass"], FormulaSyntaxError,
         r"exchanges\.csv, line 2 \(formula of amount\): syntax error"),
        (["widget", "biosphere", "", "co2", "", "kg", "mass / (dist - 100)"],
         FormulaEvaluationError, r"exchanges\.csv, line 2 \(formula of amount\).*division"),
        (["widget", "biosphere", "", "co2", "3.5", "kg", "1.5 * mass"], DataFileError,
         r"exchanges\.csv, line 2: amount 3\.5 differs from its formula '1\.5 \* mass' = 3"),
        (["truck", "biosphere", "", "co2", "", "kg", "mass"], UnknownParameterError,
         r"line 2 .*unknown parameter 'mass'"),  # mass belongs to the widget, not the truck
    ],
)  # fmt: skip
def test_formula_errors_name_table_line_and_name(tmp_path, exchange, error, message) -> None:
    folder = _parametric(tmp_path / "p", exchanges=[_HEADER, exchange])
    with pytest.raises(error, match=message):
        read(folder)


_P = ["name", "value", "scope", "formula"]


@pytest.mark.parametrize(
    ("rows", "error", "message"),
    [
        ([["a", "", "", "b + 1"], ["b", "", "", "2 * a"]], ParameterCycleError,
         r"parameters\.csv: parameters depend on each other in a cycle: a -> b -> a"),
        ([["a", "", "", "c + 1"]], UnknownParameterError,
         r"parameters\.csv, line 2 \(parameter 'a'\): unknown parameter 'c'"),
        ([["a", "1", "kiln", ""]], DataFileError, r"line 2: scope 'kiln' of parameter 'a'"),
        ([["dist km", "1", "", ""]], DataFileError, r"line 2: parameter name 'dist km'"),
        ([["a", "1", "", ""], ["A", "2", "", ""]], DataFileError,
         r"line 3: parameter 'A' is already defined on line 2"),
        ([["a", "x", "", ""]], DataFileError, r"parameters\.csv, line 2: value 'x' is not a"),
        ([["a", "", "", "1 +"]], FormulaSyntaxError, r"line 2 \(parameter 'a'\): syntax error"),
    ],
)  # fmt: skip
def test_parameter_table_errors(tmp_path, rows, error, message) -> None:
    exchanges = [_HEADER, ["widget", "biosphere", "", "co2", "1", "kg", ""]]
    folder = _parametric(tmp_path / "p", params=[_P, *rows], exchanges=exchanges)
    with pytest.raises(error, match=message):
        read(folder)


def test_formula_without_a_parameters_table_and_cli_error(tmp_path: Path) -> None:
    constant = ["widget", "biosphere", "", "co2", "", "kg", "2 * 3"]
    folder = _parametric(tmp_path / "p", exchanges=[_HEADER, constant])
    (folder / "parameters.csv").unlink()
    (folder / "characterization.csv").write_text(f"category,flow,factor\n{GWP},co2,1\n")
    assert _score(read(folder)) == pytest.approx(6.0, rel=1e-12)
    _write(folder / "exchanges.csv", [_HEADER, ["widget", "biosphere", "", "co2", "", "kg", "2*k"]])
    out = _lcasolve("calc", folder, "--demand", "widget=1")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "exchanges.csv, line 2" in out.stderr and "'k'" in out.stderr
