"""The GHG split of the cement example: biogenic CO2 reported beside the total, parts add up."""

from __future__ import annotations

import pytest

from lcasolve.examples import load_example
from lcasolve.lca import LCA
from lcasolve.pcf import footprint
from lcasolve.pcf.ghg import ghg_split


def test_cement_biogenic_co2_is_reported_and_parts_add_up():
    system, demand = load_example("cement", methods=["IPCC AR6 GWP100"])
    lca = LCA(system)
    fp = footprint(lca, demand)
    split = ghg_split(lca, fp)
    k = list(system.flows["id"]).index("co2_nonfossil")
    g = lca.calculate(demand).inventory
    assert g[k] > 0
    assert split.biogenic_co2_emissions == pytest.approx(g[k], rel=1e-12)
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
