"""Exchange formats: PACT v3 ProductFootprint JSON (validated with jsonschema) and Excel."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest

from lcasolve.errors import InputError
from lcasolve.examples import example_path, load_example
from lcasolve.lca import LCA
from lcasolve.pcf.pact import decimal, pact_schema, to_pact, validate_pact
from lcasolve.pcf.report import build_report

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def cement():
    system, demand = load_example("cement")
    lca = LCA(system)
    return lca, demand, build_report(lca, demand, reference_year=2024)


def test_pact_footprint_validates_and_carries_the_split(cement):
    lca, demand, report = cement
    doc = to_pact(report, company_name="Example Cement AG", footprint_id=None)
    jsonschema.Draft202012Validator(pact_schema()).validate(doc)  # raises on any error
    validate_pact(doc)
    pcf = doc["pcf"]
    total = lca.calculate(demand).score("IPCC AR6 GWP100")  # kg CO2-eq per t
    # per declared unit (1 kg) of the 1000 kg functional unit
    assert pcf["declaredUnitOfMeasurement"] == "kilogram"
    assert Decimal(pcf["declaredUnitAmount"]) == 1000
    assert float(pcf["pcfExcludingBiogenicUptake"]) == pytest.approx(total / 1000, rel=1e-12)
    assert float(pcf["fossilGhgEmissions"]) == pytest.approx(total / 1000, rel=1e-12)
    assert pcf["biogenicCO2Uptake"] == "0" and pcf["landUseChangeGhgEmissions"] == "0"
    assert pcf["ipccCharacterizationFactors"] == ["AR6"]
    assert pcf["referencePeriodStart"] == "2024-01-01T00:00:00Z"
    assert doc["specVersion"] == "3.0.0"
    for key, value in pcf.items():  # decimals are strings without exponent
        if isinstance(value, str) and value[:1].isdigit():
            assert "e" not in value.lower(), key


def test_schema_rejects_what_pact_forbids(cement):
    _, _, report = cement
    doc = to_pact(report, company_name="X")
    bad = json.loads(json.dumps(doc))
    bad["pcf"]["fossilGhgEmissions"] = "7.7e-1"
    with pytest.raises(InputError, match="pcf/fossilGhgEmissions"):
        validate_pact(bad)
    bad = json.loads(json.dumps(doc))
    bad["pcf"]["biogenicCO2Uptake"] = "0.5"  # uptake is <= 0
    with pytest.raises(InputError, match="biogenicCO2Uptake"):
        validate_pact(bad)
    bad = json.loads(json.dumps(doc))
    del bad["pcf"]["referencePeriodStart"]
    with pytest.raises(InputError, match="referencePeriodStart"):
        validate_pact(bad)
    assert decimal(1e-20) == "0.00000000000000000001" and decimal(-0.0) == "0"
    with pytest.raises(InputError, match="reference period"):
        to_pact(build_report(*cement[:2]), company_name="X")


def test_cli_writes_pact_and_excel(tmp_path):
    import openpyxl

    pact, xlsx = tmp_path / "cement.json", tmp_path / "cement.xlsx"
    argv = [
        "lcasolve",
        "report",
        str(example_path("cement")),
        "--demand",
        "cement=1",
        "--iterations",
        "40",
        "--threshold",
        "816",
        "--pact",
        str(pact),
        "--xlsx",
        str(xlsx),
        "--company",
        "Example Cement AG",
        "--reference-year",
        "2024",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    validate_pact(json.loads(pact.read_text()))
    book = openpyxl.load_workbook(xlsx, read_only=True)
    for sheet in (
        "Summary",
        "By activity",
        "By flow",
        "By stage",
        "By scope",
        "Study",
        "By origin",
        "Disclosures assumptions",
        "Monte Carlo",
        "Limits",
        "External cost",
        "Cut-off check",
    ):
        assert sheet in book.sheetnames, book.sheetnames
    rows = list(book["By activity"].iter_rows(values_only=True))
    assert rows[0][:4] == ("id", "name", "score", "share")
    system, _ = load_example("cement")
    total = LCA(system).calculate({"cement": 1.0}).score("IPCC AR6 GWP100")
    assert sum(r[2] for r in rows[1:]) == pytest.approx(total, rel=1e-9)
    # refused before any computation: no --company; an existing file without --overwrite
    again = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert again.returncode == 1 and "exists" in again.stderr
    no_company = [a for a in argv if a not in ("--company", "Example Cement AG")]
    no_company[no_company.index(str(pact))] = str(tmp_path / "other.json")
    no_company[no_company.index(str(xlsx))] = str(tmp_path / "other.xlsx")
    proc = subprocess.run(no_company, capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "--company" in proc.stderr  # a usage error
    assert not (tmp_path / "other.xlsx").exists()


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ((), "--company NAME and --reference-year YEAR"),
        (("--company", "X AG"), "--reference-year YEAR"),
        (("--reference-year", "2024"), "--company NAME"),
    ],
)
def test_cli_pact_without_company_or_year_is_a_usage_error_before_reading(tmp_path, given, missing):
    # the input does not exist: reading it would be a data error (exit 1), so exit 2 shows
    # the options were checked first
    argv = ["lcasolve", "report", str(tmp_path / "absent.zip"), "--demand", "x=1"]
    argv += ["--iterations", "0", "--pact", str(tmp_path / "p.json"), *given]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert f"--pact needs {missing} " in line and "Traceback" not in proc.stderr
    assert not (tmp_path / "p.json").exists()
