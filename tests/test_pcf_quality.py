"""Pedigree (data-quality) scores kept on import and summarized in the PCF report (issue 14).

The summary is checked against an independent computation: the scores read straight from the
JSON-LD files, the supply from a dense solve, the weights ``|c_i · b_ij · s_j|`` by hand.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest

import lcasolve
from lcasolve.examples import load_example
from lcasolve.lca import LCA
from lcasolve.methods import with_methods
from lcasolve.pcf.footprint import footprint
from lcasolve.pcf.quality import INDICATORS, data_quality
from lcasolve.pcf.report import DataQualitySection, build_report

#: "Coal extraction; Underground mine" in USLCI JSON-LD: 14 elementary exchanges with pedigree
COAL = "4b4db9ff"


@pytest.fixture(scope="module")
def uslci(shared_data):
    path = shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"
    return path, with_methods(lcasolve.load(path, strict=False))


def _raw_pedigree(path):
    """``{(flow id, process id): [scores, ...]}`` of elementary exchanges, from the files."""
    out: dict[tuple[str, str], list[tuple[int, ...]]] = {}
    count = 0
    with zipfile.ZipFile(path) as z:
        flow_type = {}
        for n in z.namelist():
            if n.startswith("flows/") and n.endswith(".json"):
                d = json.loads(z.read(n))
                flow_type[d["@id"]] = d.get("flowType")
        for n in z.namelist():
            if not (n.startswith("processes/") and n.endswith(".json")):
                continue
            d = json.loads(z.read(n))
            for ex in d.get("exchanges", []):
                text = ex.get("pedigreeUncertainty") or ex.get("dqEntry")
                if not text:
                    continue
                count += 1
                if flow_type.get(ex["flow"]["@id"]) != "ELEMENTARY_FLOW":
                    continue
                scores = tuple(int(x) for x in re.findall(r"\d", text))
                out.setdefault((ex["flow"]["@id"], d["@id"]), []).append(scores)
    return out, count


@pytest.mark.data
def test_uslci_pedigree_scores_are_kept_per_exchange(uslci):
    path, system = uslci
    raw, count = _raw_pedigree(path)
    assert count == 478  # the data README: 478 exchanges carry a pedigreeUncertainty string
    table = system.metadata["pedigree"]
    kept = {}
    for m, r, c, s in zip(
        table["matrix"], table["row"], table["col"], table["scores"], strict=True
    ):
        if m == "biosphere":
            kept.setdefault((r, c), []).append(tuple(s))
    assert kept == raw  # 328 elementary exchanges, every score as in the files
    assert sum(len(v) for v in raw.values()) == 328


@pytest.mark.data
def test_uslci_coal_data_quality_by_an_independent_computation(uslci):
    path, system = uslci
    raw, _ = _raw_pedigree(path)
    (j,) = [i for i, a in enumerate(system.activities["id"]) if str(a).startswith(COAL)]
    pid = system.activities["product_id"].iloc[j]
    lca = LCA(system)
    fp = footprint(lca, {pid: 1.0})
    dq = data_quality(lca, fp)
    # independent: dense supply, dense B and the category's factors
    f = np.zeros(system.n_activities)
    f[system.product_position(pid)] = 1.0
    s = np.linalg.solve(system.A.toarray(), f)
    k = system.category_position(fp.category)
    c = system.C.toarray()[k]
    contrib = np.abs(c[:, None] * system.B.toarray() * s[None, :])
    flows = {fid: i for i, fid in enumerate(system.flows["id"])}
    acts = {aid: i for i, aid in enumerate(system.activities["id"])}
    weights, scores = [], []
    for (fid, proc), entries in raw.items():
        (one,) = entries  # one exchange per flow and process here: its B entry is the exchange
        w = contrib[flows[fid], acts[proc]]
        if w > 0:
            weights.append(w)
            scores.append(one)
    w = np.asarray(weights)
    expected = (w @ np.asarray(scores, dtype=float)) / w.sum()
    assert dq.exchanges == len(weights) == 14
    assert [dq.indicators[i] for i in INDICATORS] == pytest.approx(expected, rel=1e-9)
    assert dq.share_without == pytest.approx(1 - w.sum() / contrib.sum(), rel=1e-9)
    assert 0.1 < dq.share_without < 0.2  # 14.4 %: the methane and CO2 of the mine itself
    # the report carries it: typed section, dict, text and HTML
    report = build_report(lca, {pid: 1.0}, hotspots=False)
    section = report.section(DataQualitySection)
    assert section is not None and section.quality == dq
    d = report.to_dict()["data_quality"]
    assert d["share_without_pedigree"] == pytest.approx(dq.share_without)
    assert d["indicators"]["reliability"] == pytest.approx(expected[0], rel=1e-9)
    text = report.to_text()
    assert "data quality (pedigree):" in text
    assert f"{dq.share_without:.1%} has no pedigree data" in text
    html = report.to_html()
    assert "Data quality (pedigree)" in html and "completeness" in html


@pytest.mark.data
def test_uslci_cement_has_no_pedigree_data_and_says_so(uslci):
    _, system = uslci
    lca = LCA(system)
    fp = footprint(lca, {"62993671-574c-3fc5-b66a-6be3bb21ad3d": 1.0})
    dq = data_quality(lca, fp)
    assert dq.recorded and dq.exchanges == 0 and dq.share_without == 1.0
    assert all(np.isnan(v) for v in dq.indicators.values())
    lines = DataQualitySection(dq).lines()
    assert lines == [
        "No elementary exchange of the supply chain has pedigree scores: 100 % of the "
        "footprint has no pedigree data."
    ]
    assert DataQualitySection(dq).to_dict()["indicators"]["reliability"] is None


def test_tables_pedigree_column_is_kept():
    system, demand = load_example("cement")
    table = dict(system.metadata["pedigree"])
    # the entry's position in the technosphere: it addresses that exchange's A entry
    (e,) = table.pop("entry")
    tech = system.technosphere
    assert (tech.row[e], tech.col[e], tech.value[e]) == (
        system.product_position("electricity"),
        system.activity_index["cement"],
        -40.0,
    )
    # exchanges.csv: cement takes 40 kWh of electricity with pedigree (2,2,1,1,1)
    assert table == {
        "matrix": ["technosphere"],
        "row": ["electricity"],
        "col": ["cement"],
        "value": [-40.0],
        "scores": [[2, 2, 1, 1, 1]],
    }
    lca = LCA(system)
    dq = data_quality(lca, footprint(lca, demand))
    assert dq.technosphere == 1 and dq.exchanges == 0 and dq.share_without == 1.0


def test_ecospold2_pedigree_matrix_is_kept(shared_data):
    folder = shared_data / "ecospold2-ecoinvent"
    (path, *_) = sorted(folder.glob("*.spold"))
    ns = "{http://www.EcoInvent.org/EcoSpold02}"
    keys = (
        "reliability",
        "completeness",
        "temporalCorrelation",
        "geographicalCorrelation",
        "furtherTechnologyCorrelation",
    )
    root = ET.parse(path).getroot()
    expected = {}  # elementary flow id -> scores, read from the file
    for ex in root.iter(f"{ns}elementaryExchange"):
        pm = ex.find(f"{ns}uncertainty/{ns}pedigreeMatrix")
        if pm is not None:
            expected[ex.attrib["elementaryExchangeId"]] = [int(pm.attrib[k]) for k in keys]
    assert expected == {"075e433b-4be4-448e-9510-9a5029c1ce94": [2, 2, 5, 1, 1]}
    system = lcasolve.load(path)
    table = system.metadata["pedigree"]
    kept = {
        r: sc
        for m, r, sc in zip(table["matrix"], table["row"], table["scores"], strict=True)
        if m == "biosphere"
    }
    assert kept == expected


@pytest.mark.parametrize(("x", "share_without"), [(1.0, 0.5), (9.0, 0.1), (0.0, 1.0)])
def test_pedigree_weights_follow_parameters(tmp_path, x, share_without):
    """1 kg CO2 without pedigree beside x kg with pedigree (5,5,5,5,5): 1/(1+x) uncovered.

    The weight is the exchange's value after ``with_parameters``, not the one at import.
    """
    (tmp_path / "activities.csv").write_text("id,name,product,unit\nw,widget,widget,kg\n")
    (tmp_path / "flows.csv").write_text(
        'id,name,compartment,unit\nco2,"Carbon dioxide, fossil",air,kg\n'
    )
    (tmp_path / "exchanges.csv").write_text(
        "activity,kind,flow,amount,formula,unit,distribution,gsd,pedigree\n"
        'w,biosphere,co2,,x,kg,lognormal,1.1,"(5,5,5,5,5)"\n'
        "w,biosphere,co2,1,,kg,,,\n"
    )
    (tmp_path / "parameters.csv").write_text("name,value\nx,1\n")
    system = with_methods(lcasolve.load(tmp_path)).with_parameters({"x": x})
    lca = LCA(system)
    fp = footprint(lca, {"w": 1.0})
    assert fp.total == pytest.approx(1.0 + x)  # GWP100 of CO2 is 1
    dq = data_quality(lca, fp)
    assert dq.share_without == pytest.approx(share_without, rel=1e-12)
    assert dq.exchanges == (0 if x == 0 else 1)
    expected = np.nan if x == 0 else 5.0
    np.testing.assert_equal(dq.indicators["reliability"], expected)
