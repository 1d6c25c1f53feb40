"""EcoSpold 1 import: USLCI FY21.Q3 counts, solves, and the comparison with the JSON-LD release."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError, InvalidUncertaintyError
from lcasolve.io import detect_format, ecospold1
from lcasolve.methods import with_methods

POLICY = {"strict": False, "allocation": "none", "ambiguous": "prefer"}
ES1 = "uslci/uslci_fy21_q3_01_olca_10_3_ecospold2.zip"
JSONLD = "uslci/uslci_olca1_5_0_json_ld.zip"


@pytest.fixture(scope="module")
def both(shared_data):
    j = with_methods(lcasolve.load(shared_data / JSONLD, **POLICY), ["IPCC AR6 GWP100"])
    e = with_methods(lcasolve.load(shared_data / ES1, **POLICY), ["IPCC AR6 GWP100"])
    return j, e


@pytest.mark.data
def test_detected_and_counts_equal_the_readme(shared_data, both):
    assert detect_format(shared_data / ES1) == "ecospold1"
    _, e = both
    c = e.metadata["counts"]
    assert c["datasets"] == 639 == e.n_activities
    groups = ("outputGroup 0", "outputGroup 2", "outputGroup 3", "outputGroup 4")
    assert tuple(c[g] for g in groups) == (639, 187, 245, 31779)
    assert (c["inputGroup 5"], c["inputGroup 4"]) == (6954, 5852)
    assert sum(c[g] for g in groups) + c["inputGroup 5"] + c["inputGroup 4"] == 45656
    types = (c["uncertaintyType 1"], c["uncertaintyType 3"], c["uncertaintyType 4"])
    assert types == (5130, 393, 24)
    # "Water" is one flow number in m3 (resource) and kg (emission): two flows, not an error
    assert c["flows split by unit or compartment"] > 0
    # the problems: distributions whose bounds do not hold the amount (amounts kept), and one
    # process that takes in all it makes of its own product (the input is cut off)
    problems = e.metadata["problems"]
    assert all("dataset " in p and "exchange " in p for p in problems)
    other = [p for p in problems if "the distribution is dropped" not in p]
    assert len(problems) - len(other) == 34
    assert len(other) == 1 and "(dataset 89204), exchange 8520 'Aluminum, sheet, coated" in other[0]
    assert "takes in 5.8256312303985 of its own reference product" in other[0]


@pytest.mark.data
def test_solves(both):
    _, e = both
    assert lcasolve.LCA(e).activity_scores().residual <= 1e-10


def _key(system):
    return list(zip(system.activities["name"], system.activities["location"], strict=True))


def _own_data(system):
    """Per activity (name, location): direct GWP100 and linked inputs, per unit of product."""
    keys = _key(system)
    direct = (system.C @ system.B).toarray()[0]
    A = system.A.tocsc()
    diag = A.diagonal()
    out = {}
    for j, k in enumerate(keys):
        col: dict = {}
        for p in range(A.indptr[j], A.indptr[j + 1]):
            i = A.indices[p]
            if i != j:
                col[keys[i]] = col.get(keys[i], 0.0) + A.data[p] / diag[j]
        out[k] = (direct[j] / diag[j], col)
    return out


@pytest.mark.data
def test_gwp100_against_the_json_ld_release(both):
    """Products named alike in both releases (FY17.Q4 JSON-LD, FY21.Q3 EcoSpold 1).

    EcoSpold 1 has no UUIDs, so products are matched by (name, location), unique on both sides.
    The releases are four years apart, so most supply chains changed. Every product whose
    cradle-to-gate GWP100 differs by more than 1e-6 is explained, and the explanation is
    checked: its EcoSpold 1 supply chain holds an activity that has no unique counterpart in
    the JSON-LD release, or one whose own data changed (direct GWP100 per unit of product, or
    its linked inputs per unit of product). A product whose whole supply chain is unchanged
    must agree — that part checks the reader.
    """
    j, e = both
    kj, ke = _key(j), _key(e)
    nj, ne = Counter(kj), Counter(ke)
    lj = lcasolve.LCA(j).activity_scores().lam[:, 0]
    le = lcasolve.LCA(e).activity_scores().lam[:, 0]
    sj = {k: v for k, v in zip(kj, lj, strict=True) if nj[k] == 1}
    se = {k: v for k, v in zip(ke, le, strict=True) if ne[k] == 1}
    common = sorted(set(sj) & set(se))
    assert len(common) == 234
    rel = {k: abs(sj[k] - se[k]) / max(abs(sj[k]), 1e-300) for k in common}

    oj, oe = _own_data(j), _own_data(e)

    def same(k):
        if k not in sj:
            return False
        (dj, cj), (de, ce) = oj[k], oe[k]
        if not np.isclose(dj, de, rtol=1e-6, atol=1e-12):
            return False
        keys = set(cj) | set(ce)
        return all(np.isclose(cj.get(x, 0.0), ce.get(x, 0.0), rtol=1e-6) for x in keys)

    unmatched = [i for i, k in enumerate(ke) if k not in sj]
    changed = [i for i, k in enumerate(ke) if k in sj and not same(k)]
    lca = lcasolve.LCA(e)
    pos = {k: i for i, k in enumerate(ke)}
    reasons = Counter()
    for k in common:
        if rel[k] <= 1e-6:
            reasons["agrees"] += 1
            continue
        s = lca.calculate({e.activities["id"].iloc[pos[k]]: 1.0}).supply
        if np.any(s[changed] != 0):
            reasons["uses an activity whose own data changed between the releases"] += 1
        elif np.any(s[unmatched] != 0):
            reasons["uses an activity with no unique counterpart in the JSON-LD release"] += 1
        else:
            reasons["unexplained"] += 1
    assert reasons["unexplained"] == 0, reasons
    assert sum(reasons.values()) == len(common)
    assert reasons["agrees"] >= 15, reasons


XML = """<?xml version="1.0" encoding="UTF-8"?>
<ecoSpold xmlns="http://www.EcoInvent.org/EcoSpold01">
<dataset number="1"><metaInformation><processInformation>
<referenceFunction name="grid power" unit="kWh"/><geography location="US"/>
<dataSetInformation type="1"/></processInformation></metaInformation><flowData>
<exchange number="10" name="grid power" unit="kWh" meanValue="1">
<outputGroup>0</outputGroup></exchange>
<exchange number="20" name="Carbon dioxide" category="air" subCategory="unspecified" unit="kg"
 meanValue="0.5" uncertaintyType="1" standardDeviation95="1.21">
<outputGroup>4</outputGroup></exchange>
</flowData></dataset>
<dataset number="2"><metaInformation><processInformation>
<referenceFunction name="grid power" unit="kWh"/><geography location="CA"/>
</processInformation></metaInformation><flowData>
<exchange number="10" name="grid power" unit="kWh" meanValue="1">
<outputGroup>0</outputGroup></exchange>
<exchange number="20" name="Carbon dioxide" category="air" subCategory="unspecified"
 unit="kg" meanValue="0.1">
<outputGroup>4</outputGroup></exchange>
</flowData></dataset>
<dataset number="3"><metaInformation><processInformation>
<referenceFunction name="widget" unit="kg"/><geography location="CA"/>
</processInformation></metaInformation><flowData>
<exchange number="30" name="widget" unit="g" meanValue="1000">
<outputGroup>0</outputGroup></exchange>
<exchange number="10" name="grid power" location="CA" unit="MJ" meanValue="3.6"
 uncertaintyType="4" minValue="3" maxValue="4">
<inputGroup>5</inputGroup></exchange>
</flowData></dataset>
</ecoSpold>
"""


def test_synthetic_links_by_location_and_converts(tmp_path):
    f = tmp_path / "three.xml"
    f.write_text(XML)
    assert ecospold1.sniff(f)
    s = ecospold1.read([f], ambiguous="error")
    assert s.metadata["counts"]["providers by location"] == 1
    r = lcasolve.LCA(s).calculate({"3": 1.0})
    # 1 kg widget (1000 g) needs 3.6 MJ = 1 kWh from the CA grid, 0.1 kg CO2
    assert r.supply.tolist() == pytest.approx([0.0, 1.0, 1.0])
    assert r.inventory.tolist() == pytest.approx([0.1])
    # lognormal: standardDeviation95 is GSD², so sigma = ln(1.21) / 2
    unc = s.biosphere.uncertainty
    rec = unc[unc["uncertainty_type"] == 2]
    assert rec["scale"].tolist() == pytest.approx([np.log(1.21) / 2])


def test_bad_input(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text(XML[: len(XML) // 2])
    with pytest.raises(DataFileError, match="bad.xml.*invalid XML"):
        ecospold1.read([bad])
    unc = tmp_path / "unc.xml"
    unc.write_text(XML.replace('uncertaintyType="4"', 'uncertaintyType="7"'))
    with pytest.raises(InvalidUncertaintyError, match=r"unc.xml \(dataset 3\), exchange 10.*7"):
        ecospold1.read([unc])
    s = ecospold1.read([unc], strict=False)
    assert any("uncertaintyType '7'" in p for p in s.metadata["problems"])
    grp = tmp_path / "grp.xml"
    grp.write_text(XML.replace("<inputGroup>5</inputGroup>", "<inputGroup>0</inputGroup>"))
    with pytest.raises(DataFileError, match=r"grp.xml \(dataset 3\), exchange 10.*inputGroup"):
        ecospold1.read([grp])


ALLOCATED = """<?xml version="1.0" encoding="UTF-8"?>
<ecoSpold xmlns="http://www.EcoInvent.org/EcoSpold01">
<dataset number="7"><metaInformation><processInformation>
<referenceFunction name="milk" unit="kg"/><geography location="NZ"/>
<dataSetInformation type="5"/></processInformation></metaInformation><flowData>
<exchange number="1" name="milk" unit="kg" meanValue="10"><outputGroup>0</outputGroup></exchange>
<exchange number="2" name="meat" unit="kg" meanValue="1"><outputGroup>2</outputGroup></exchange>
<exchange number="3" name="Methane" category="air" unit="kg" meanValue="2">
<outputGroup>4</outputGroup></exchange>
<allocation referenceToCoProduct="1" allocationMethod="-1" fraction="80">
<referenceToInputOutput>3</referenceToInputOutput></allocation>
<allocation referenceToCoProduct="2" allocationMethod="-1" fraction="20">
<referenceToInputOutput>3</referenceToInputOutput></allocation>
</flowData></dataset>
</ecoSpold>
"""


def test_allocation_elements_give_causal_columns(tmp_path):
    f = tmp_path / "alloc.xml"
    f.write_text(ALLOCATED)
    s = ecospold1.read([f])
    assert s.activities["id"].tolist() == ["7", "7/2"]
    B = s.B.toarray()
    # 80 % of 2 kg methane to 10 kg milk, 20 % to 1 kg meat
    assert B[0].tolist() == pytest.approx([1.6, 0.4])
    assert s.A.diagonal().tolist() == pytest.approx([10.0, 1.0])
    none = ecospold1.read([f], allocation="none")
    assert none.n_activities == 1
