"""Shipped IPCC methods, flow matching and with_methods.

Reference values are the README §4 table of ../shared/data (IPCC reports as tabulated by the EPA),
and IPCC AR6 WGI Table 7.15 for fossil / non-fossil methane.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lcasolve.errors import UnknownCategoryError
from lcasolve.lca import LCA
from lcasolve.methods import (
    MatchReport,
    available,
    get_method,
    gwp_table,
    match_flows,
    with_methods,
)
from lcasolve.model import build_system

# README §4 of ../shared/data: gas -> {method: value}
README_TABLE = {
    "CO2": {"AR4 GWP100": 1, "AR5 GWP100": 1, "AR6 GWP100": 1, "AR6 GWP20": 1},
    "CH4": {"AR4 GWP100": 25, "AR5 GWP100": 28, "AR6 GWP100": 27.9, "AR6 GWP20": 81.2},
    "N2O": {"AR4 GWP100": 298, "AR5 GWP100": 265, "AR6 GWP100": 273, "AR6 GWP20": 273},
    "SF6": {"AR4 GWP100": 22800, "AR5 GWP100": 23500, "AR6 GWP100": 25200, "AR6 GWP20": 18300},
    "NF3": {"AR4 GWP100": 17200, "AR5 GWP100": 16100, "AR6 GWP100": 17400, "AR6 GWP20": 13400},
    "CH2FCF3": {"AR4 GWP100": 1430, "AR5 GWP100": 1300, "AR6 GWP100": 1530, "AR6 GWP20": 4140},
}
# names as ecoinvent / USLCI spell them
FLOW_NAMES = {
    "CO2": "Carbon dioxide, fossil",
    "CH4": "Methane",
    "N2O": "Dinitrogen monoxide",
    "SF6": "Sulphur hexafluoride",
    "NF3": "Nitrogen fluoride",
    "CH2FCF3": "Ethane, 1,1,1,2-tetrafluoro-, HFC-134a",
}


@pytest.mark.parametrize(
    ("gas", "method"), [(g, m) for g, vals in README_TABLE.items() for m in vals]
)
def test_gwp_values_equal_readme_table(gas: str, method: str) -> None:
    expected = README_TABLE[gas][method]
    assert get_method(f"IPCC {method}").gwp(gas) == expected
    flows = pd.DataFrame(
        {"id": ["f"], "name": [FLOW_NAMES[gas]], "compartment": ["air"], "unit": ["kg"]}
    )
    assert match_flows(flows, f"IPCC {method}").factors == {"f": expected}


def test_available_methods() -> None:
    names = available()
    assert names[0] == "IPCC AR6 GWP100"
    for required in (
        "IPCC AR6 GWP20",
        "IPCC AR5 GWP100",
        "IPCC AR5 GWP20",
        "IPCC AR4 GWP100",
        "IPCC AR4 GWP20",
        "IPCC AR6 GWP500",
        "IPCC AR4 GWP500",
    ):
        assert required in names
    # AR5 publishes no GWP500: every AR5 GWP500 cell is "(no data)"
    assert "IPCC AR5 GWP500" not in names
    with pytest.raises(UnknownCategoryError, match="IPCC AR6 GWP100"):
        get_method("IPCC AR5 GWP500")


def test_table_parsing() -> None:
    table = gwp_table()
    counts = table.groupby("report").size()
    # README §4: AR4 63 substances, AR5 214 rows minus 7 group headings (formula "0"), AR6 249
    assert counts["AR4"] == 63
    assert counts["AR5"] == 214 - 7
    assert counts["AR6"] == 249
    assert table.loc[table["report"] == "AR5", "gwp500"].isna().all()
    assert (table["cas"] != "(no data)").all()
    ar6 = table[table["report"] == "AR6"].set_index("acronym")
    assert ar6.loc["HFC-134a", "cas"] == "811-97-2"


def test_methane_by_origin() -> None:
    flows = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "name": [
                "Methane, fossil",
                "Methane, non-fossil",
                "Methane, biogenic",
                "Methane, from soil or biomass stock",
                "Methane",
            ],
            "compartment": ["air/urban air close to ground"] * 5,
            "unit": ["kg"] * 5,
        }
    )
    # AR6 WGI Table 7.15 (fossil 29.8, non-fossil 27.0), Table 7.SM.7 (27.9 unspecified)
    assert match_flows(flows, "IPCC AR6 GWP100").factors == {
        1: 29.8,
        2: 27.0,
        3: 27.0,
        4: 29.8,
        5: 27.9,
    }
    assert match_flows(flows, "IPCC AR6 GWP20").factors == {
        1: 82.5,
        2: 79.7,
        3: 79.7,
        4: 82.5,
        5: 81.2,
    }
    # AR5: "Fossil methane" 30, "Methane" 28 in the EPA table
    assert match_flows(flows, "IPCC AR5 GWP100").factors == {1: 30, 2: 28, 3: 28, 4: 30, 5: 28}
    assert set(match_flows(flows, "IPCC AR4 GWP100").factors.values()) == {25}


def test_carbon_dioxide_conventions_units_and_compartments() -> None:
    flows = pd.DataFrame(
        {
            "id": list("abcdefghij"),
            "name": [
                "Carbon dioxide, fossil",
                "Carbon dioxide, non-fossil",
                "Carbon dioxide, in air",
                "Carbon dioxide, from soil or biomass stock",
                "Carbon dioxide, fossil",
                "Carbon dioxide, fossil",
                "Sulfur hexafluoride",
                "Dinitrogen monoxide",
                "HFCs and HCFCs, unspecified",
                "Methane, fossil",
            ],
            "compartment": [
                "air",
                "air",
                "natural resource/in air",
                "air/non-urban air or from high stacks",
                "water/ocean",
                "air",
                "air",
                "",
                "air",
                "air",
            ],
            "unit": ["kg", "kg", "kg", "kg", "kg", "t", "g", "kg", "kg", "m3"],
        }
    )
    report = match_flows(flows, "IPCC AR6 GWP100")
    assert report.factors == {"a": 1.0, "d": 1.0, "f": 1000.0, "g": 25.2, "h": 273.0}
    zero = report.matched.set_index("flow_id").loc[["b", "c"], "factor"]
    assert (zero == 0).all()
    reasons = report.unmatched.set_index("flow_id")["reason"]
    assert "not an emission to air" in reasons["e"]
    assert "no AR6 GWP100 value" in reasons["i"]
    assert "not a unit of mass" in reasons["j"]
    rules = report.matched.set_index("flow_id")["rule"]
    assert "assumed air" in rules["h"]
    again = MatchReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.factors == report.factors


def _uslci_flows(path) -> pd.DataFrame:
    """Elementary flows of the USLCI JSON-LD zip, parsed directly (category paths resolved)."""
    with zipfile.ZipFile(path) as z:
        cats = {}
        for n in z.namelist():
            if n.startswith("categories/") and n.endswith(".json"):
                d = json.loads(z.read(n))
                cats[d["@id"]] = d
        rows = []
        for n in z.namelist():
            if not (n.startswith("flows/") and n.endswith(".json")):
                continue
            d = json.loads(z.read(n))
            if d.get("flowType") != "ELEMENTARY_FLOW":
                continue
            parts, c = [], cats.get(d.get("category", {}).get("@id"))
            while c is not None:
                parts.append(c["name"])
                c = cats.get((c.get("category") or {}).get("@id"))
            prop = d["flowProperties"][0]["flowProperty"]["name"]
            rows.append(
                {
                    "id": d["@id"],
                    "name": d["name"],
                    "compartment": "/".join(reversed(parts)),
                    "unit": "kg" if prop == "Mass" else prop,
                    "cas": d.get("cas") or "",
                    "formula": d.get("formula") or "",
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.data
def test_uslci_flow_matching(shared_data) -> None:
    flows = _uslci_flows(shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip")
    assert len(flows) == 2918  # README §1a: 2,918 ELEMENTARY_FLOW
    report = match_flows(flows, "IPCC AR6 GWP100")
    m = report.matched
    by_name = m.groupby("flow_name")["factor"].agg(set)
    assert by_name["Carbon dioxide, fossil"] == {1.0}
    assert by_name["Methane, fossil"] == {29.8}
    assert by_name["Dinitrogen monoxide"] == {273.0}
    assert by_name["Carbon dioxide, biogenic"] == {0.0}
    assert by_name["Methane, biogenic"] == {27.0}
    assert by_name["Sulfur hexafluoride"] == {25200.0}
    assert by_name["Methane, tetrafluoro-, CFC-14"] == {7380.0}
    assert by_name["Methane, chlorodifluoro-, HCFC-22"] == {1960.0}
    # every fossil CO2 / CH4 / N2O emission to air is characterized
    air = flows[flows["compartment"].str.startswith("air/")]
    for name in ("Carbon dioxide, fossil", "Methane, fossil", "Dinitrogen monoxide"):
        ids = set(air.loc[air["name"] == name, "id"])
        assert ids and ids <= set(m["flow_id"])
    # uptake from air is a resource: listed with factor 0, never positive
    uptake = m[m["flow_name"] == "Carbon dioxide, in air"]
    assert len(uptake) == 4 and (uptake["factor"] == 0).all()
    # unmatched greenhouse-gas-looking flows are listed, with a reason
    un = set(report.unmatched["flow_name"])
    assert {"HFCs and HCFCs, unspecified", "PFC (perfluorocarbons)"} <= un
    assert "Chlorothalonil" not in un and "4,4'-Diisocyanatodiphenylmethane" not in un
    # no flow outside the air/unknown compartments gets a nonzero factor
    comp = flows.set_index("id")["compartment"]
    nonzero = m.loc[m["factor"] != 0, "flow_id"]
    assert not comp[nonzero].str.contains("water|soil|resource").any()


def _small_system(with_category: bool):
    flows = pd.DataFrame(
        {
            "id": ["co2", "ch4", "bio", "n2o"],
            "name": [
                "Carbon dioxide, fossil",
                "Methane, fossil",
                "Carbon dioxide, non-fossil",
                "Dinitrogen monoxide",
            ],
            "compartment": ["air", "air", "air", "air"],
            "unit": ["kg", "kg", "kg", "g"],
        }
    )
    return build_system(
        [("p1", "a1", 1.0), ("p2", "a2", 1.0), ("p2", "a1", -0.5)],
        [("co2", "a1", 2.0), ("ch4", "a2", 0.1), ("bio", "a2", 3.0), ("n2o", "a1", 10.0)],
        {"own": {"co2": 1.0}} if with_category else None,
        flows=flows,
    )


def test_with_methods_default_and_names() -> None:
    bare = _small_system(False)
    assert bare.n_categories == 0
    gwp = with_methods(bare, None)
    assert gwp.categories["name"].tolist() == ["IPCC AR6 GWP100"]
    assert gwp.categories["unit"].tolist() == ["kg CO2-eq"]
    # hand calculation: s = (1, 0.5); CO2 2, CH4 0.05, N2O 10 g, biogenic CO2 1.5 (factor 0)
    expected = 2.0 * 1 + 0.05 * 29.8 + 0.010 * 273
    assert LCA(gwp).calculate({"p1": 1}).score() == pytest.approx(expected, rel=1e-12)
    report = MatchReport.from_dict(gwp.metadata["method_match"]["IPCC AR6 GWP100"])
    assert set(report.matched["flow_id"]) == {"co2", "ch4", "bio", "n2o"}

    own = _small_system(True)
    assert with_methods(own, None) is own
    both = with_methods(own, ["IPCC AR5 GWP100", "own"])
    assert both.categories["name"].tolist() == ["IPCC AR5 GWP100", "own"]
    scores = LCA(both).calculate({"p1": 1}).scores
    assert scores["own"] == pytest.approx(2.0)
    assert scores["IPCC AR5 GWP100"] == pytest.approx(2.0 + 0.05 * 30 + 0.010 * 265)
    assert np.isclose(both.C.sum(), 1 + 1 + 30 + 0.265)
    with pytest.raises(UnknownCategoryError, match="own.*IPCC AR6 GWP100"):
        with_methods(own, ["ReCiPe"])


def test_cas_only_flows_and_report_specific_names() -> None:
    flows = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "name": ["R134a refrigerant", "Cyclobutane, octafluoro-", "Propane, perfluoro-", "x"],
            "compartment": ["air"] * 4,
            "unit": ["kg"] * 4,
            "cas": ["0811-97-2", "", "", "2551-62-4"],
        }
    )
    # AR4/AR5 have no CAS column: the CAS is bridged through the AR6 entry (HFC-134a, SF6)
    assert match_flows(flows, "IPCC AR4 GWP100").factors == {1: 1430, 2: 10300, 3: 8830, 4: 22800}
    assert match_flows(flows, "IPCC AR5 GWP100").factors == {1: 1300, 2: 9540, 3: 8900, 4: 23500}
    assert match_flows(flows, "IPCC AR6 GWP100").factors == {
        1: 1530,
        2: 10200,
        3: 9290,
        4: 25200,
    }


@pytest.mark.data
def test_uslci_loaded_system_gets_ar6_gwp100(shared_data) -> None:
    import lcasolve

    # strict=False: USLCI holds 26 invalid triangular distributions, listed and dropped
    system = lcasolve.load(shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip", strict=False)
    gwp = with_methods(system, ["IPCC AR6 GWP100"])
    report = MatchReport.from_dict(gwp.metadata["method_match"]["IPCC AR6 GWP100"])
    factors = report.matched.groupby("flow_name")["factor"].agg(set)
    assert factors["Carbon dioxide, fossil"] == {1.0}
    assert factors["Methane, fossil"] == {29.8}
    assert factors["Dinitrogen monoxide"] == {273.0}
    # the footprint of every product from one adjoint solve is finite, and some are positive
    lam = LCA(gwp).activity_scores().lam[:, gwp.category_position("IPCC AR6 GWP100")]
    assert np.isfinite(lam).all() and (lam > 0).sum() > 100


_SPELLINGS = st.sampled_from(
    [
        ("Methane, fossil", 29.8),
        ("Dinitrogen monoxide", 273.0),
        ("Sulphur hexafluoride", 25200.0),
        ("Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", 1530.0),
        ("Methane, tetrafluoro-, R-14", 7380.0),
        ("Carbon dioxide, non-fossil", 0.0),
    ]
)


@settings(max_examples=60, deadline=None)
@given(_SPELLINGS, st.lists(st.booleans(), min_size=60, max_size=60), st.sampled_from(["", " "]))
def test_matching_ignores_case_and_spacing(spelling, upper, pad) -> None:
    name, factor = spelling
    mangled = (
        pad
        + "".join(
            c.upper() if up else c.lower()
            for c, up in zip(name, (upper + [False] * len(name))[: len(name)], strict=True)
        ).replace(", ", " ,  ")
        + pad
    )
    flows = pd.DataFrame(
        {"id": [0], "name": [mangled], "compartment": ["Air/Urban air"], "unit": ["KG"]}
    )
    report = match_flows(flows, "IPCC AR6 GWP100")
    assert report.matched["factor"].tolist() == [factor]
