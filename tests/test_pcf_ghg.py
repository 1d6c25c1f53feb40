"""The GHG split of the cement example: biogenic CO2 reported beside the total, parts add up."""

from __future__ import annotations

import csv

import pytest

from lcasolve.errors import InputError
from lcasolve.examples import example_path, load_example
from lcasolve.lca import LCA
from lcasolve.pcf import footprint
from lcasolve.pcf.ghg import ghg_split


def _biogenic_co2_per_t_cement_from_the_data() -> float:
    """Biogenic CO2 per t of cement read from the example's CSV files, not through lcasolve.

    The example's README says "biogenic CO2 22 kg/t": that is per tonne of *clinker*; a tonne of
    cement takes 0.85 t of clinker, so the footprint's functional unit carries 22 × 0.85 kg.
    """
    folder = example_path("cement")
    with open(folder / "exchanges.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(folder / "activities.csv", newline="") as fh:
        produced = {r["id"]: float(r["amount"]) for r in csv.DictReader(fh)}
    emitters = [r for r in rows if r["kind"] == "biosphere" and r["flow"] == "co2_nonfossil"]
    assert [r["activity"] for r in emitters] == ["clinker"]
    clinker_users = [r for r in rows if r["kind"] == "technosphere" and r["provider"] == "clinker"]
    assert [r["activity"] for r in clinker_users] == ["cement"]  # nothing else takes clinker
    per_t_clinker = float(emitters[0]["amount"]) / produced["clinker"]
    assert per_t_clinker == 22.0
    clinker_per_t_cement = float(clinker_users[0]["amount"]) / produced["cement"]
    assert clinker_per_t_cement == 0.85
    return per_t_clinker * clinker_per_t_cement


def test_cement_biogenic_co2_is_reported_and_parts_add_up():
    system, demand = load_example("cement", methods=["IPCC AR6 GWP100"])
    assert demand == {"cement": 1.0}
    lca = LCA(system)
    fp = footprint(lca, demand)
    split = ghg_split(lca, fp)
    expected = _biogenic_co2_per_t_cement_from_the_data()
    assert expected == pytest.approx(18.7, rel=1e-12)
    assert split.biogenic_co2_emissions == pytest.approx(expected, rel=1e-12)
    assert split.biogenic_co2_removals == 0.0
    assert split.fossil + split.land_use_change + split.biogenic_in_total == pytest.approx(
        fp.total, rel=1e-12
    )
    assert split.biogenic_in_total == 0.0  # 0/0 convention: biogenic CO2 has factor 0


def test_demo_shows_the_split(tmp_path):
    import json
    import os
    import subprocess

    out = subprocess.run(
        ["lcasolve", "demo", "--json"], capture_output=True, text=True, check=True, env=os.environ
    )
    payload = json.loads(out.stdout)
    s = payload["ghg_split"]
    (a,) = payload["disclosures"]["assumptions"]
    assert a["rule"] == "non-fossil (biogenic) CO2 = 0"
    assert a["amount_kg"] == pytest.approx(_biogenic_co2_per_t_cement_from_the_data(), rel=1e-12)
    assert s["biogenic_co2_emissions"] > 0
    assert s["fossil"] + s["land_use_change"] + s["biogenic_in_total"] == pytest.approx(
        s["total"], rel=1e-12
    )
    text = subprocess.run(["lcasolve", "demo"], capture_output=True, text=True, check=True).stdout
    assert "biogenic CO2 out" in text
    assert "Assumptions made by flow matching:" in text and "Data gaps:" in text


@pytest.mark.parametrize("convention", ["0/0", "-1/+1"])
def test_cement_parts_add_up_under_each_convention(convention):
    system, demand = load_example("cement", methods=["IPCC AR6 GWP100"])
    lca = LCA(system)
    fp = footprint(lca, demand)
    split = ghg_split(lca, fp, convention=convention)
    assert sum(split.parts().values()) == pytest.approx(split.total_convention, rel=1e-12)
    biogenic = _biogenic_co2_per_t_cement_from_the_data()
    if convention == "0/0":
        assert split.total_convention == fp.total
    else:  # +1 for the 18.7 kg emitted, nothing taken up in this example
        assert split.total_convention == pytest.approx(fp.total + biogenic, rel=1e-12)
        assert split.parts()["biogenic_co2_emissions"] == pytest.approx(biogenic, rel=1e-12)
    assert split.aircraft == 0.0  # no air transport in the example


def test_removals_and_dluc_and_aircraft_by_flow_and_activity_names():
    import pandas as pd

    from lcasolve.methods import with_methods
    from lcasolve.model import build_system

    flows = pd.DataFrame(
        {
            "id": ["fos", "bio", "air", "luc", "ch4b"],
            "name": [
                "Carbon dioxide, fossil",
                "Carbon dioxide, non-fossil",
                "Carbon dioxide, in air",
                "Carbon dioxide, from soil or biomass stock",
                "Methane, non-fossil",
            ],
            "compartment": ["air", "air", "natural resource/in air", "air", "air"],
            "unit": "kg",
        }
    )
    acts = pd.DataFrame(
        {"id": ["wood", "plane"], "name": ["Board making", "Transport, aircraft, freight"]}
    )
    system = with_methods(
        build_system(
            [("wood", "wood", 1.0), ("plane", "plane", 1.0), ("plane", "wood", -2.0)],
            [
                ("fos", "wood", 3.0),
                ("bio", "wood", 5.0),
                ("air", "wood", 7.0),
                ("luc", "wood", 0.5),
                ("ch4b", "wood", 0.01),
                ("fos", "plane", 0.25),
            ],
            activities=acts,
            flows=flows,
        ),
        ["IPCC AR6 GWP100"],
    )
    lca = LCA(system)
    fp = footprint(lca, {"wood": 1.0})
    s = ghg_split(lca, fp, convention="-1/+1")
    ch4 = 27.0  # AR6 GWP100 of non-fossil methane (IPCC AR6 WGI table 7.15)
    assert s.fossil == pytest.approx(3.0 + 2 * 0.25, rel=1e-12)
    assert s.land_use_change == pytest.approx(0.5, rel=1e-12)  # counted as fossil CO2 at 1
    assert s.biogenic_in_total == pytest.approx(0.01 * ch4, rel=1e-12)
    assert s.biogenic_co2_emissions == 5.0 and s.biogenic_co2_removals == -7.0
    assert s.aircraft == pytest.approx(0.5, rel=1e-12)
    assert s.total_convention == pytest.approx(3.5 + 0.5 + 0.27 + 5.0 - 7.0, rel=1e-12)
    assert sum(s.parts().values()) == pytest.approx(s.total_convention, rel=1e-12)
    assert s.total == pytest.approx(fp.total, rel=1e-12)


def test_method_subcategories_are_used_as_such():
    import pandas as pd

    from lcasolve.model import build_system

    cats = pd.DataFrame(
        {
            "id": ["cc", "f", "b", "l"],
            "name": [
                "Climate change",
                "Climate change - Fossil",
                "Climate change - Biogenic",
                "Climate change - Land use and land use change",
            ],
            "unit": "kg CO2-eq",
        }
    )
    system = build_system(
        [("a", "a", 1.0)],
        [("x", "a", 1.0), ("y", "a", 2.0), ("z", "a", 4.0)],
        {
            "cc": {"x": 1.0, "y": 1.0, "z": 1.0},
            "f": {"x": 1.0},
            "b": {"y": 1.0},
            "l": {"z": 1.0},
        },
        categories=cats,
    )
    lca = LCA(system)
    fp = footprint(lca, {"a": 1.0}, "Climate change")
    s = ghg_split(lca, fp)
    assert (s.fossil, s.biogenic_in_total, s.land_use_change) == (1.0, 2.0, 4.0)
    assert s.total == fp.total == 7.0
    assert s.basis.startswith("method sub-categories: Climate change - Fossil")
    with pytest.raises(InputError, match="convention"):
        ghg_split(lca, fp, convention="1/1")
