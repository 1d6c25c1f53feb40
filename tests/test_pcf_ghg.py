"""The GHG split of the cement example: biogenic CO2 reported beside the total, parts add up."""

from __future__ import annotations

import csv

import pytest

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
    s = json.loads(out.stdout)["ghg_split"]
    assert s["biogenic_co2_emissions"] > 0
    assert s["fossil"] + s["land_use_change"] + s["biogenic_in_total"] == pytest.approx(
        s["total"], rel=1e-12
    )
    text = subprocess.run(["lcasolve", "demo"], capture_output=True, text=True, check=True).stdout
    assert "biogenic CO2 out" in text
