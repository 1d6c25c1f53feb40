"""openLCA JSON-LD import: USLCI (schema v1) and uslci-transport/rail (v2) against their README."""

from __future__ import annotations

import json
import zipfile
from collections import Counter

import numpy as np
import pytest

import lcasolve
from lcasolve.io import jsonld
from lcasolve.io.report import ImportReport, LinkReport

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def uslci_zip(shared_data):
    return shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"


@pytest.fixture(scope="module")
def uslci_readme_rules(uslci_zip):
    """Linked by the README's rules: unique provider only, no allocation (co-products cut off)."""
    return lcasolve.load(uslci_zip, ambiguous="cutoff", allocation="none", strict=False)


def test_uslci_counts_equal_the_readme(uslci_readme_rules):
    s = uslci_readme_rules
    assert s.metadata["counts"] == {
        "processes": 766,
        "flows": 4601,
        "exchanges": 32526,
        "elementary_exchanges": 24950,
        "unit_conversions": 3223,
    }
    links = s.metadata["link_counts"]
    assert links["reference"] == 766
    assert links["unique provider"] == 3590
    assert links["ambiguous"] == 135
    assert links["unlinked"] == 2441 + 388
    issues = Counter(r["issue"] for r in s.metadata["link_report"])
    assert issues == {"unlinked": 2829, "ambiguous": 135, "co-product cut off": 256}
    # every ambiguous input is one of the README's two flows
    amb = {r["flow_name"] for r in s.metadata["link_report"] if r["issue"] == "ambiguous"}
    assert amb == {"Harvesting, fresh fruit bunch, at farm", "Diesel, at refinery"}
    cutoff_named = [
        r
        for r in s.metadata["link_report"]
        if r["issue"] == "unlinked" and r["flow_name"].startswith("CUTOFF")
    ]
    assert len(cutoff_named) == 2441
    unlinked_other = Counter(
        r["flow_name"]
        for r in s.metadata["link_report"]
        if r["issue"] == "unlinked" and not r["flow_name"].startswith("CUTOFF")
    )
    assert len(unlinked_other) == 114
    assert unlinked_other["Gasoline, at refinery"] == 80
    assert unlinked_other["Sodium hydroxide, production mix, at plant"] == 25


def test_uslci_link_report_prints_as_counts_and_keeps_every_entry(uslci_readme_rules, tmp_path):
    """3,220 entries (the data README's counts) shown as counts, not as 3,220 dicts."""
    report = uslci_readme_rules.metadata["link_report"]
    assert isinstance(report, LinkReport) and len(report) == 2829 + 135 + 256
    text = repr(report)
    assert len(text) < 200 and "process_name" not in text
    for words in ("3220 entries", "2829 unlinked", "135 ambiguous", "256 co-product cut off"):
        assert words in text
    # the metadata as printed, and as IPython displays it, hold the counts, not the entries
    assert "process_name" not in repr(uslci_readme_rules.metadata)
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert "3220 entries" in pretty.pretty(uslci_readme_rules.metadata)
    html = report._repr_html_()
    assert "<td>unlinked</td><td>cut off</td>" in html and "process_name" not in html
    # the full data: a list of dicts, a table, JSON
    assert report.issues == {"unlinked": 2829, "ambiguous": 135, "co-product cut off": 256}
    assert sum(report.actions.values()) == len(report)
    assert report.to_frame().shape == (len(report), 9)
    assert json.loads(json.dumps(report)) == list(report)
    # the same after a round trip through the store
    back = lcasolve.load(lcasolve.save(uslci_readme_rules, tmp_path / "uslci.h5"))
    assert isinstance(back.metadata["link_report"], LinkReport)
    assert repr(back.metadata["link_report"]) == text


def test_uslci_matrices_equal_the_readme(uslci_readme_rules):
    s = uslci_readme_rules
    A = s.A  # noqa: N806
    assert A.shape == (766, 766)
    assert A.count_nonzero() == 4103  # 766 diagonal + 3,337 off-diagonal (2 sums cancel to 0)
    d = A.diagonal()
    assert d.min() == pytest.approx(0.000244, rel=1e-3) and d.max() == pytest.approx(26100)
    assert int((d != 1).sum()) == 237
    off = A - np.diag(d)
    assert int((off > 0).sum()) == 1  # one negative input amount
    assert np.abs(A).max() == pytest.approx(1.1929e8, rel=1e-4)
    assert s.B.shape == (2918, 766)
    # an input and an output of the same flow net out (6 pairs are equal and cancel, e.g. the
    # "Cooling water" paper mills take and return), as in the README's count
    assert s.B.count_nonzero() == 24116


def test_uslci_import_report(uslci_readme_rules):
    """Every unlinked and ambiguous input of the README's classes is a row of the report."""
    report = ImportReport.from_system(uslci_readme_rules)
    assert report.format == "jsonld"
    assert report.policies == {
        "ambiguous": "cutoff",
        "unlinked": "cutoff",
        "allocation": "none",
        "strict": False,
    }
    assert report.issues == {"unlinked": 2441 + 388, "ambiguous": 135, "co-product cut off": 256}
    frame = report.to_frame()
    assert len(frame) == 2441 + 388 + 135 + 256
    amb = frame[frame["issue"] == "ambiguous"]
    assert (
        amb["flow_name"].value_counts()["Diesel, at refinery"]
        + amb["flow_name"].value_counts()["Harvesting, fresh fruit bunch, at farm"]
        == 135
    )
    assert (amb["action"] == "cut off").all() and amb["detail"].str.startswith("providers: ").all()
    assert frame["exchange"].ne("").all() and frame["process"].ne("").all()
    text = str(report.summary())
    assert "766 processes" in text and "3223 unit conversions" in text and "135 ambiguous" in text
    assert json.loads(json.dumps(report.to_dict()))["issues"] == report.issues


def test_uslci_solves_and_lists_every_choice(uslci_zip):
    s = lcasolve.load(uslci_zip, strict=False)  # default policies: prefer, process allocation
    report = s.metadata["link_report"]
    chosen = [r for r in report if r["issue"] == "ambiguous"]
    assert len(chosen) == 135 and all(r["action"].startswith("linked to ") for r in chosen)
    assert all(r["detail"] for r in chosen)
    # the rule: a provider in the consumer's location, else the lowest id
    loc = dict(zip(s.activities["process_id"], s.activities["location"], strict=True))
    for r in chosen:
        pick = r["action"].removeprefix("linked to ")
        providers = r["detail"].split("providers: ")[1].split(", ")
        local = [q for q in providers if loc[q] == loc[r["process"]]]
        assert pick == min(local or providers)
    lca = lcasolve.LCA(s)
    for pid in s.activities["product_id"].iloc[::100]:
        assert lca.calculate({pid: 1.0}).residual <= 1e-10
    demand = {pid: 1.0 for pid in s.activities["product_id"].iloc[::50]}
    res = lca.calculate_many([{k: v} for k, v in demand.items()])
    assert res.residual <= 1e-10


def test_strict_read_names_the_invalid_distribution(uslci_zip):
    with pytest.raises(lcasolve.errors.InvalidUncertaintyError) as info:
        lcasolve.load(uslci_zip)
    msg = str(info.value)
    assert "uslci_olca1_5_0_json_ld.zip:processes/" in msg and "exchange" in msg
    assert "TRIANGLE_DISTRIBUTION" in msg


def test_uslci_uncertainty_mapping(uslci_readme_rules):
    s = uslci_readme_rules
    kinds = Counter(
        np.concatenate(
            [
                s.technosphere.uncertainty["uncertainty_type"],
                s.biosphere.uncertainty["uncertainty_type"],
            ]
        ).tolist()
    )
    # 27 triangles are invalid in the data (mode outside min..max); one is a mode one ulp below
    # its minimum (0.3699999999999999 vs 0.37), taken as on the bound; 26 are dropped and listed
    assert sum("TRIANGLE_DISTRIBUTION" in p for p in s.metadata["problems"]) == 26
    assert s.metadata["invalid_distributions"] == [
        p for p in s.metadata["problems"] if "TRIANGLE_DISTRIBUTION" in p
    ]
    assert kinds[5] > 0 and kinds[4] > 0 and kinds[2] > 0


def test_transport_and_rail_reproduce_the_readme_co2(shared_data):
    d = shared_data
    s = lcasolve.load(
        d / "uslci-transport" / "uslci-transport_v1.1_json_ld.zip",
        d / "uslci-transport" / "uslci-rail_v1.0_json_ld.zip",
        reference_data=d / "uslci" / "uslci_olca1_5_0_json_ld.zip",
    )
    assert s.n_activities == 52
    assert s.A.count_nonzero() == 87 and s.B.count_nonzero() == 110
    links = s.metadata["link_counts"]
    assert links["default provider"] == 35 and "ambiguous" not in links
    outside = [r for r in s.metadata["link_report"] if r["issue"] == "provider outside data"]
    assert len(outside) == 173
    result = lcasolve.LCA(s).calculate({"0001b273-4a23-3c9f-b790-840b628d1bf5": 1.0})
    rail = s.activities["name"].str.contains("rail").to_numpy()
    assert result.supply[rail].sum() == pytest.approx(0.03476775986755646, rel=1e-12)
    co2 = s.flows.index[s.flows["name"] == "Carbon dioxide"]
    g = s.B @ result.supply
    assert float(g[co2][0]) == pytest.approx(4.130301049177322e-4, rel=1e-9)


def _write_zip(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, json.dumps(data))
    return path


MASS = "93a60a56-a3c8-11da-a746-0800200b9a66"
KG = "20aadc24-a391-41cf-b340-3e4529f44bde"


def _ref_files():
    return {
        "unit_groups/g.json": {
            "@type": "UnitGroup",
            "@id": "g",
            "name": "mass",
            "units": [{"@id": KG, "name": "kg", "conversionFactor": 1.0, "referenceUnit": True}],
        },
        "flow_properties/m.json": {"@type": "FlowProperty", "@id": MASS, "unitGroup": {"@id": "g"}},
    }


def _flow(fid, kind="PRODUCT_FLOW", name=None, category="Elementary flows/emission/air"):
    return {
        "@type": "Flow",
        "@id": fid,
        "name": name or fid,
        "flowType": kind,
        "category": category if kind == "ELEMENTARY_FLOW" else "",
        "flowProperties": [
            {"flowProperty": {"@id": MASS}, "conversionFactor": 1.0, "referenceFlowProperty": True}
        ],
    }


def _ex(flow, amount, *, is_input=False, ref=False, provider=None, avoided=False):
    e = {
        "@id": f"{flow}-{amount}-{is_input}",
        "flow": {"@id": flow},
        "amount": amount,
        "isInput": is_input,
        "isQuantitativeReference": ref,
        "isAvoidedProduct": avoided,
        "unit": {"@id": KG},
        "flowProperty": {"@id": MASS},
    }
    if provider:
        e["defaultProvider"] = {"@id": provider}
    return e


def test_allocation_of_a_multi_output_process(tmp_path):
    """A refinery makes 0.6 kg petrol and 0.4 kg diesel from 1 kg crude (10 kg CO2 each).

    By hand: physical factors 0.6/0.4 give 1 kg petrol 0.6 × 10 / 0.6 = 10 kg CO2 per kg; economic
    factors 0.75/0.25 give petrol 0.75 × 10 / 0.6 = 12.5 and diesel 0.25 × 10 / 0.4 = 6.25.
    """
    refinery = {
        "@type": "Process",
        "@id": "refinery",
        "name": "refinery",
        "processType": "UNIT_PROCESS",
        "defaultAllocationMethod": "PHYSICAL_ALLOCATION",
        "exchanges": [
            _ex("petrol", 0.6, ref=True),
            _ex("diesel", 0.4),
            _ex("crude", 1.0, is_input=True),
            _ex("co2", 10.0),
        ],
        "allocationFactors": [
            {"allocationType": "PHYSICAL_ALLOCATION", "product": {"@id": "petrol"}, "value": 0.6},
            {"allocationType": "PHYSICAL_ALLOCATION", "product": {"@id": "diesel"}, "value": 0.4},
            {"allocationType": "ECONOMIC_ALLOCATION", "product": {"@id": "petrol"}, "value": 0.75},
            {"allocationType": "ECONOMIC_ALLOCATION", "product": {"@id": "diesel"}, "value": 0.25},
        ],
    }
    crude = {
        "@type": "Process",
        "@id": "crude-oil",
        "name": "crude",
        "processType": "UNIT_PROCESS",
        "exchanges": [_ex("crude", 1.0, ref=True)],
    }
    files = {
        **_ref_files(),
        "flows/petrol.json": _flow("petrol"),
        "flows/diesel.json": _flow("diesel"),
        "flows/crude.json": _flow("crude"),
        "flows/co2.json": _flow("co2", "ELEMENTARY_FLOW"),
        "processes/refinery.json": refinery,
        "processes/crude.json": crude,
    }
    path = _write_zip(tmp_path / "refinery.zip", files)
    for method, petrol, diesel in (("physical", 10.0, 10.0), ("economic", 12.5, 6.25)):
        s = jsonld.read([path], allocation=method)
        assert s.n_activities == 3
        lca = lcasolve.LCA(s)
        g_p = s.B @ lca.calculate({"refinery": 1.0}).supply
        g_d = s.B @ lca.calculate({"refinery/diesel": 1.0}).supply
        assert g_p.sum() == pytest.approx(petrol, rel=1e-12)
        assert g_d.sum() == pytest.approx(diesel, rel=1e-12)
    none = jsonld.read([path], allocation="none")
    assert none.n_activities == 2
    cut = [r for r in none.metadata["link_report"] if r["issue"] == "co-product cut off"]
    assert [(r["flow"], r["detail"]) for r in cut] == [("diesel", "allocation='none'")]
    # physical factors that do not add up to 1 are not used: the co-product is cut off
    refinery["allocationFactors"][1]["value"] = 0.3
    broken = jsonld.read([_write_zip(tmp_path / "bad.zip", files)], allocation="physical")
    cut = ImportReport.from_system(broken).select("co-product cut off")
    assert [(r["flow"], r["detail"]) for r in cut] == [
        ("diesel", "no usable physical allocation factors")
    ]
    # without allocation the petrol carries all 10 kg CO2 per 0.6 kg
    g = none.B @ lcasolve.LCA(none).calculate({"refinery": 1.0}).supply
    assert g.sum() == pytest.approx(10.0 / 0.6, rel=1e-12)


def _process(pid, *exchanges, **extra):
    return {
        "@type": "Process",
        "@id": pid,
        "name": pid,
        "processType": "UNIT_PROCESS",
        "exchanges": list(exchanges),
        **extra,
    }


def test_causal_allocation(tmp_path):
    """Causal factors per exchange: petrol takes 80 % of the CO2 and half the crude.

    By hand, per kg: petrol 0.8 × 10 / 0.6 = 13.33 kg CO2 plus 0.5 × 1 / 0.6 kg crude (1 kg CO2
    per kg crude); diesel 0.2 × 10 / 0.4 = 5 plus 0.5 × 1 / 0.4.
    """

    def causal(product, flow, value):
        return {
            "allocationType": "CAUSAL_ALLOCATION",
            "product": {"@id": product},
            "exchange": {"flow": {"@id": flow}},
            "value": value,
        }

    refinery = _process(
        "refinery",
        _ex("petrol", 0.6, ref=True),
        _ex("diesel", 0.4),
        _ex("crude", 1.0, is_input=True),
        _ex("co2", 10.0),
        defaultAllocationMethod="CAUSAL_ALLOCATION",
        allocationFactors=[
            causal("petrol", "crude", 0.5),
            causal("diesel", "crude", 0.5),
            causal("petrol", "co2", 0.8),
            causal("diesel", "co2", 0.2),
        ],
    )
    files = {
        **_ref_files(),
        **{f"flows/{f}.json": _flow(f) for f in ("petrol", "diesel", "crude")},
        "flows/co2.json": _flow("co2", "ELEMENTARY_FLOW"),
        "processes/refinery.json": refinery,
        "processes/crude.json": _process("crude-oil", _ex("crude", 1.0, ref=True), _ex("co2", 1.0)),
    }
    path = _write_zip(tmp_path / "causal.zip", files)
    s = jsonld.read([path])  # allocation="process": the process's own (causal) method
    lca = lcasolve.LCA(s)
    g_p = s.B @ lca.calculate({"refinery": 1.0}).supply
    g_d = s.B @ lca.calculate({"refinery/diesel": 1.0}).supply
    assert g_p.sum() == pytest.approx((8.0 + 0.5) / 0.6, rel=1e-12)
    assert g_d.sum() == pytest.approx((2.0 + 0.5) / 0.4, rel=1e-12)
    assert ImportReport.from_system(s).allocation == {"refinery": "causal allocation"}


def test_waste_treatment_avoided_product_and_elementary_directions(tmp_path):
    """A factory makes 1 kg widget from 2 kg steel, sends 0.5 kg scrap to a landfill and
    displaces 3 kg of heat from a boiler (avoided product).

    By hand for 1 kg widget: CO2 = 1 (own) + 2 × 2 (steel) − 3 × 0.07 (heat avoided) = 4.79 kg;
    CH4 = 0.5 × 0.1 = 0.05 kg from the landfill. The factory also takes 5 kg cooling water and
    returns it (nets to 0), takes 1.5 kg biogenic CO2 from the air as an input of an emission
    flow (enters negative) and 2 kg coal from the ground (a resource, positive).
    """
    elementary = {
        "co2": "Elementary flows/emission/air",
        "ch4": "Elementary flows/emission/air",
        "co2-bio": "Elementary flows/emission/air",
        "water": "Elementary flows/water/unspecified",
        "coal": "Elementary flows/resource/in ground",
    }
    files = {
        **_ref_files(),
        **{f"flows/{f}.json": _flow(f) for f in ("widget", "steel", "heat")},
        "flows/scrap.json": _flow("scrap", "WASTE_FLOW"),
        **{
            f"flows/{f}.json": _flow(f, "ELEMENTARY_FLOW", category=c)
            for f, c in elementary.items()
        },
        "processes/factory.json": _process(
            "factory",
            _ex("widget", 1.0, ref=True),
            _ex("steel", 2.0, is_input=True),
            _ex("scrap", 0.5),
            _ex("heat", 3.0, is_input=True, avoided=True),
            _ex("co2", 1.0),
            _ex("water", 5.0, is_input=True),
            _ex("water", 5.0),
            _ex("co2-bio", 1.5, is_input=True),
            _ex("coal", 2.0, is_input=True),
        ),
        "processes/steel.json": _process("steelmill", _ex("steel", 1.0, ref=True), _ex("co2", 2.0)),
        "processes/landfill.json": _process(
            "landfill", _ex("scrap", 1.0, is_input=True, ref=True), _ex("ch4", 0.1)
        ),
        "processes/boiler.json": _process("boiler", _ex("heat", 1.0, ref=True), _ex("co2", 0.07)),
    }
    s = jsonld.read([_write_zip(tmp_path / "factory.zip", files)])
    assert s.metadata["link_counts"]["unique provider"] == 3
    r = lcasolve.LCA(s).calculate({"factory": 1.0})
    assert r.residual <= 1e-12
    supply = dict(zip(s.activities["id"], r.supply, strict=True))
    assert supply == pytest.approx({"factory": 1, "steelmill": 2, "landfill": 0.5, "boiler": -3})
    g = dict(zip(s.flows["id"], s.B @ r.supply, strict=True))
    assert g["co2"] == pytest.approx(4.79, rel=1e-12)
    assert g["ch4"] == pytest.approx(0.05, rel=1e-12)
    assert g["water"] == 0.0
    assert g["co2-bio"] == -1.5 and g["coal"] == 2.0
    direction = dict(zip(s.flows["id"], s.flows["direction"], strict=True))
    assert direction["coal"] == "input" and direction["co2-bio"] == "output"
    # the negated entry keeps its source amount in the record and says so with flip
    bio = s.biosphere
    k = int(np.flatnonzero(bio.value == -1.5)[0])
    assert bool(bio.flip[k]) and bio.uncertainty["loc"][k] == 1.5


def test_round_trip_through_the_hdf5_store(uslci_readme_rules, tmp_path):
    """USLCI (with lognormal, triangular and uniform entries) and flow-matched GWP100."""
    s = lcasolve.methods.with_methods(uslci_readme_rules, ["IPCC AR6 GWP100"])
    path = lcasolve.save(s, tmp_path / "uslci.h5")
    back = lcasolve.load(path)
    for m in ("A", "B", "C"):
        assert getattr(s, m).shape == getattr(back, m).shape
        assert (getattr(s, m) != getattr(back, m)).nnz == 0
    for name in ("technosphere", "biosphere"):
        mine, theirs = getattr(s, name), getattr(back, name)
        np.testing.assert_array_equal(mine.flip, theirs.flip)
        for field in mine.uncertainty.dtype.names:
            np.testing.assert_array_equal(mine.uncertainty[field], theirs.uncertainty[field])
    assert set(s.technosphere.uncertainty["uncertainty_type"]) == {0, 2, 4, 5}
    assert back.activities["id"].tolist() == s.activities["id"].tolist()
    assert back.flows["direction"].tolist() == s.flows["direction"].tolist()
    assert ImportReport.from_system(back) == ImportReport.from_system(s)
    ids = s.activities["product_id"].iloc[::75].tolist()
    a = lcasolve.LCA(s).calculate_many([{i: 1.0} for i in ids])
    b = lcasolve.LCA(back).calculate_many([{i: 1.0} for i in ids])
    np.testing.assert_array_equal(np.asarray(a.scores), np.asarray(b.scores))
    assert np.count_nonzero(np.asarray(a.scores)) > 0
