"""Bad JSON-LD input: specific errors naming the file and the process/exchange; strict=False."""

from __future__ import annotations

import copy
import json
import math
import zipfile

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import (
    DataFileError,
    InvalidProductionError,
    InvalidUncertaintyError,
    MissingReferenceError,
)
from lcasolve.io import jsonld
from lcasolve.io.report import ImportReport
from lcasolve.uncertainty.pedigree import (
    lognormal_with_pedigree,
    parse_pedigree,
    pedigree_variance,
    total_sigma,
)

MASS, KG, G = "mass-prop", "kg-unit", "g-unit"


def base_files():
    """A 2-process JSON-LD database: bread needs 0.5 kg flour (given as 500 g) and emits CO2."""
    flow = lambda fid, kind="PRODUCT_FLOW": {  # noqa: E731
        "@type": "Flow",
        "@id": fid,
        "name": fid,
        "flowType": kind,
        "category": "Elementary flows/emission/air" if kind == "ELEMENTARY_FLOW" else "",
        "flowProperties": [
            {"flowProperty": {"@id": MASS}, "conversionFactor": 1.0, "referenceFlowProperty": True}
        ],
    }

    def ex(eid, fid, amount, unit=KG, **kw):
        return {
            "@id": eid,
            "flow": {"@id": fid},
            "amount": amount,
            "unit": {"@id": unit},
            "flowProperty": {"@id": MASS},
            **kw,
        }

    return {
        "unit_groups/mass.json": {
            "@type": "UnitGroup",
            "@id": "mass-group",
            "name": "mass",
            "units": [
                {"@id": KG, "name": "kg", "conversionFactor": 1.0, "referenceUnit": True},
                {"@id": G, "name": "g", "conversionFactor": 0.001},
            ],
        },
        "flow_properties/mass.json": {
            "@type": "FlowProperty",
            "@id": MASS,
            "unitGroup": {"@id": "mass-group"},
        },
        "flows/bread.json": flow("bread"),
        "flows/flour.json": flow("flour"),
        "flows/co2.json": flow("co2", "ELEMENTARY_FLOW"),
        "processes/bakery.json": {
            "@type": "Process",
            "@id": "bakery",
            "name": "bakery",
            "processType": "UNIT_PROCESS",
            "exchanges": [
                ex("e1", "bread", 1.0, isQuantitativeReference=True, isInput=False),
                ex(
                    "e2",
                    "flour",
                    500.0,
                    unit=G,
                    isInput=True,
                    uncertainty={
                        "distributionType": "NORMAL_DISTRIBUTION",
                        "mean": 500.0,
                        "sd": 20.0,
                    },
                ),
                ex(
                    "e3",
                    "co2",
                    0.2,
                    isInput=False,
                    uncertainty={
                        "distributionType": "LOG_NORMAL_DISTRIBUTION",
                        "geomMean": 0.2,
                        "geomSd": 1.2,
                    },
                    dqEntry="(2;2;1;1;3)",
                ),
            ],
        },
        "processes/mill.json": {
            "@type": "Process",
            "@id": "mill",
            "name": "mill",
            "processType": "UNIT_PROCESS",
            "exchanges": [
                ex("m1", "flour", 1.0, isQuantitativeReference=True, isInput=False),
                ex("m2", "co2", 0.1, isInput=False),
            ],
        },
    }


def write(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data if isinstance(data, str) else json.dumps(data))
    return path


def test_good_database_by_hand(tmp_path):
    s = jsonld.read([write(tmp_path / "ok.zip", base_files())])
    r = lcasolve.LCA(s).calculate({"bakery": 1.0})
    assert s.B.sum() == pytest.approx(0.3)
    assert (s.B @ r.supply).sum() == pytest.approx(0.2 + 0.5 * 0.1, rel=1e-14)
    # 500 g of flour is 0.5 kg; its normal sd of 20 g becomes 0.02 kg
    t = s.technosphere
    k = [i for i in range(len(t)) if t.row[i] != t.col[i]][0]
    assert t.value[k] == pytest.approx(-0.5) and t.flip[k]
    assert t.uncertainty["uncertainty_type"][k] == 3
    assert t.uncertainty["scale"][k] == pytest.approx(0.02)
    assert t.uncertainty["loc"][k] == pytest.approx(0.5)
    assert s.metadata["counts"]["unit_conversions"] == 1


def test_pedigree_widens_the_lognormal(tmp_path):
    path = write(tmp_path / "ok.zip", base_files())
    plain = jsonld.read([path]).biosphere.uncertainty
    wide = jsonld.read([path], pedigree=True).biosphere.uncertainty
    k = int((plain["uncertainty_type"] == 2).nonzero()[0][0])
    assert plain["scale"][k] == pytest.approx(math.log(1.2))
    # ecoinvent v3 factors: reliability 2 -> 0.0006, completeness 2 -> 0.0001, temporal 1 -> 0,
    # geography 1 -> 0, technology 3 -> 0.008
    assert wide["scale"][k] == pytest.approx(math.sqrt(math.log(1.2) ** 2 + 0.0087))
    assert pedigree_variance(parse_pedigree("(5;5;5;5;5)")) == pytest.approx(0.21)
    assert pedigree_variance(parse_pedigree("(n.a.;1;n.a.;1;1)")) == 0.0
    assert total_sigma(0.0, (1, 1, 1, 1, 1)) == 0.0
    with pytest.raises(InvalidUncertaintyError, match="five scores"):
        parse_pedigree("(1;2;3)", "x.zip")


def test_pedigree_without_a_distribution_uses_the_base_uncertainty(tmp_path):
    """openLCA's baseUncertainty is a geometric SD: ln(1.0)² = 0 adds nothing, 1.5 adds ln(1.5)²."""
    files = base_files()
    mill_co2 = files["processes/mill.json"]["exchanges"][1]
    mill_co2["pedigreeUncertainty"] = "(3;3;2;1;4)"  # 0.002 + 0.0006 + 0.0002 + 0 + 0.04
    s = jsonld.read([write(tmp_path / "a.zip", files)], pedigree=True)
    rec = s.biosphere.uncertainty[np.isclose(s.biosphere.value, 0.1)][0]
    assert rec["uncertainty_type"] == 2
    assert rec["loc"] == pytest.approx(math.log(0.1))
    assert rec["scale"] == pytest.approx(math.sqrt(0.0428))
    mill_co2["baseUncertainty"] = 1.0
    s = jsonld.read([write(tmp_path / "b.zip", files)], pedigree=True)
    rec = s.biosphere.uncertainty[np.isclose(s.biosphere.value, 0.1)][0]
    assert rec["scale"] == pytest.approx(math.sqrt(0.0428))
    mill_co2["baseUncertainty"] = 1.5
    s = jsonld.read([write(tmp_path / "c.zip", files)], pedigree=True)
    rec = s.biosphere.uncertainty[np.isclose(s.biosphere.value, 0.1)][0]
    assert rec["scale"] == pytest.approx(math.sqrt(math.log(1.5) ** 2 + 0.0428))
    # without pedigree=True the entry is ignored: no distribution
    plain = jsonld.read([write(tmp_path / "d.zip", files)])
    rec = plain.biosphere.uncertainty[np.isclose(plain.biosphere.value, 0.1)][0]
    assert rec["uncertainty_type"] == 0


def test_lognormal_with_pedigree_record():
    rec = lognormal_with_pedigree(-2.0, "(2;2;1;1;3)", basic_variance=0.01)
    assert rec["uncertainty_type"] == 2 and bool(rec["negative"])
    assert rec["loc"] == pytest.approx(math.log(2.0))
    assert rec["scale"] == pytest.approx(math.sqrt(0.01 + 0.0087))
    none = lognormal_with_pedigree(3.0, (1, 1, 1, 1, 1))
    assert none["uncertainty_type"] == 0 and none["loc"] == 3.0
    with pytest.raises(InvalidUncertaintyError, match="x.zip: basic variance -1"):
        lognormal_with_pedigree(1.0, "(1;1;1;1;1)", basic_variance=-1.0, where="x.zip")
    with pytest.raises(InvalidUncertaintyError, match="non-zero amount"):
        lognormal_with_pedigree(0.0, "(2;1;1;1;1)")


def test_folder_reads_like_the_zip(tmp_path):
    path = write(tmp_path / "ok.zip", base_files())
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as z:
        z.extractall(folder)
    a, b = jsonld.read([path]), lcasolve.load(folder)
    assert (a.A != b.A).nnz == 0 and (a.B != b.B).nnz == 0
    bad = folder / "processes" / "mill.json"
    bad.write_text("{not json")
    with pytest.raises(DataFileError, match=r"unzipped/processes/mill\.json: invalid JSON"):
        jsonld.read([folder])


def broken(mutate):
    files = copy.deepcopy(base_files())
    mutate(files)
    return files


def _bakery(files):
    return files["processes/bakery.json"]["exchanges"]


CASES = [
    (
        "invalid JSON",
        lambda f: f.__setitem__("processes/mill.json", "{not json"),
        DataFileError,
        r"ok\.zip:processes/mill\.json: invalid JSON",
    ),
    (
        "missing flow",
        lambda f: f.pop("flows/flour.json"),
        MissingReferenceError,
        r"ok\.zip:processes/bakery\.json \(process bakery, exchange e2\): the flow flour is not",
    ),
    (
        "missing unit",
        lambda f: _bakery(f)[1].__setitem__("unit", {"@id": "nope", "name": "lb"}),
        MissingReferenceError,
        r"ok\.zip:processes/bakery\.json \(process bakery, exchange e2\): unit 'lb' \(nope\) is",
    ),
    (
        "missing flow property",
        lambda f: f.pop("flow_properties/mass.json"),
        MissingReferenceError,
        r"bakery\.json \(process bakery, exchange e\d\): flow property mass-prop has no known",
    ),
    (
        "unknown unit group",
        lambda f: f["flow_properties/mass.json"].__setitem__("unitGroup", {"@id": "volume"}),
        MissingReferenceError,
        r"bakery\.json \(process bakery, exchange e\d\): flow property mass-prop refers to the "
        r"unit group volume, which no input defines",
    ),
    (
        "zero reference",
        lambda f: _bakery(f)[0].__setitem__("amount", 0.0),
        InvalidProductionError,
        r"bakery\.json \(process bakery, exchange e1\): process bakery .*reference amount of 0",
    ),
    (
        "no reference",
        lambda f: _bakery(f)[0].__setitem__("isQuantitativeReference", False),
        InvalidProductionError,
        r"bakery\.json \(process bakery\): process bakery \('bakery'\) has 0 quantitative",
    ),
    (
        "unknown distribution",
        lambda f: _bakery(f)[1]["uncertainty"].__setitem__("distributionType", "CAUCHY"),
        InvalidUncertaintyError,
        r"exchange e2\): unknown distributionType 'CAUCHY'",
    ),
    (
        "negative sd",
        lambda f: _bakery(f)[1]["uncertainty"].__setitem__("sd", -1.0),
        InvalidUncertaintyError,
        r"bakery\.json \(process bakery, exchange e2\): normal sd -1\.0 must be > 0",
    ),
    (
        "geometric sd below 1",
        lambda f: _bakery(f)[2]["uncertainty"].__setitem__("geomSd", 0.5),
        InvalidUncertaintyError,
        r"bakery\.json \(process bakery, exchange e3\): geomSd 0\.5 must be >= 1",
    ),
    (
        "triangle mode outside",
        lambda f: _bakery(f)[1].__setitem__(
            "uncertainty",
            {"distributionType": "TRIANGLE_DISTRIBUTION", "minimum": 1, "mode": 9, "maximum": 2},
        ),
        InvalidUncertaintyError,
        r"exchange e2\): TRIANGLE_DISTRIBUTION needs minimum < maximum \(and the mode between\)",
    ),
    (
        "bad pedigree",
        lambda f: _bakery(f)[2].__setitem__("dqEntry", "(1;2;7;1;1)"),
        InvalidUncertaintyError,
        r"exchange e3\): pedigree '\(1;2;7;1;1\)' must be five scores",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "error", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_names_file_and_exchange(tmp_path, case, mutate, error, pattern):
    path = write(tmp_path / "ok.zip", broken(mutate))
    with pytest.raises(error, match=pattern):
        jsonld.read([path], pedigree=True)


def test_truncated_zip(tmp_path):
    path = write(tmp_path / "ok.zip", base_files())
    cut = tmp_path / "cut.zip"
    cut.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataFileError, match=r"cut\.zip.*(truncated|corrupt)"):
        lcasolve.load(cut, format="jsonld")


def test_strict_false_collects_every_problem(tmp_path):
    def many(f):
        _bakery(f)[1]["uncertainty"]["sd"] = -1.0  # distribution dropped, exchange kept
        _bakery(f)[2]["flow"] = {"@id": "ghost", "name": "ghost"}  # exchange left out
        f["processes/mill.json"]["exchanges"][0]["amount"] = 0.0  # process left out

    path = write(tmp_path / "many.zip", broken(many))
    with pytest.raises(InvalidUncertaintyError):
        jsonld.read([path])
    s = jsonld.read([path], strict=False)
    problems = s.metadata["problems"]
    assert len(problems) == 3
    assert any("sd -1.0" in p and "dropped" in p for p in problems)
    assert any("ghost" in p for p in problems)
    assert any("process mill" in p and "reference amount" in p for p in problems)
    assert s.n_activities == 1
    unlinked = [r for r in s.metadata["link_report"] if r["issue"] == "unlinked"]
    assert [r["flow"] for r in unlinked] == ["flour"]  # its provider was left out
    report = ImportReport.from_system(s)
    assert report.problems == tuple(problems)
    assert report.policies["strict"] is False
    assert "problems skipped: 3" in str(report.summary())
    assert report.issues == {"unlinked": 1}


def test_strict_false_skips_unreadable_files(tmp_path):
    """An invalid process file is left out and listed; an invalid flow file too, and so are the
    exchanges that refer to that flow; an unreadable zip still stops the import."""
    files = base_files()
    files["processes/mill.json"] = "{not json"
    files["flows/co2.json"] = "[1, 2"
    path = write(tmp_path / "bad.zip", files)
    s = jsonld.read([path], strict=False)
    problems = s.metadata["problems"]
    assert len(problems) == 3
    assert problems[0].startswith(f"{path}:flows/co2.json: invalid JSON")
    assert any(p.startswith(f"{path}:processes/mill.json: invalid JSON") for p in problems)
    assert any("(process bakery, exchange e3): the flow co2 is not in the" in p for p in problems)
    assert s.n_activities == 1 and s.B.nnz == 0
    cut = tmp_path / "cut.zip"
    cut.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFileError, match=r"cut\.zip: not a readable zip file"):
        jsonld.read([cut], strict=False)


def test_progress_bar_on_request(tmp_path, capsys):
    path = write(tmp_path / "ok.zip", base_files())
    jsonld.read([path], progress=True)
    err = capsys.readouterr().err
    assert "processes" in err and "2/2" in err
    jsonld.read([path], progress=False)
    assert capsys.readouterr().err == ""


def test_unknown_option_and_policy(tmp_path):
    path = write(tmp_path / "ok.zip", base_files())
    with pytest.raises(lcasolve.errors.InputError, match="unknown option.*allocaton"):
        jsonld.read([path], allocaton="economic")
    with pytest.raises(lcasolve.errors.InputError, match="ambiguous='nearest'"):
        jsonld.read([path], ambiguous="nearest")
