"""The bundled cement example and ``lcasolve demo``.

The footprint is checked against an independent hand calculation: the CSV files parsed with the
csv module, a dense ``A`` and ``B`` built here, ``numpy.linalg.solve``, and the IPCC AR6 GWP100
values written out (README §4 of ../shared/data; fossil methane 29.8 from AR6 WGI Table 7.15).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from lcasolve.cli.main import main
from lcasolve.examples import example_path, load_example
from lcasolve.lca import LCA

GWP100_AR6 = {  # by flow name, per kg
    "Carbon dioxide, fossil": 1.0,
    "Carbon dioxide, non-fossil": 0.0,
    "Methane, fossil": 29.8,
    "Dinitrogen monoxide": 273.0,
    "Sulfur hexafluoride": 25200.0,
}
TO_REFERENCE_UNIT = {("kg", "t"): 1e-3, ("t", "t"): 1.0, ("kWh", "kWh"): 1.0, ("tkm", "tkm"): 1.0}


def _read(name: str) -> list[dict[str, str]]:
    with open(example_path("cement") / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _hand_calculation() -> tuple[float, dict[str, float], np.ndarray]:
    acts = _read("activities")
    flows = {f["id"]: f for f in _read("flows")}
    ids = [a["id"] for a in acts]
    unit = {a["id"]: a["unit"] for a in acts}
    n = len(ids)
    A = np.diag([float(a["amount"]) for a in acts])  # noqa: N806
    direct = np.zeros(n)  # kg CO2-eq per unit of each activity
    for x in _read("exchanges"):
        j = ids.index(x["activity"])
        amount = float(x["amount"])
        if x["kind"] == "technosphere":
            i = ids.index(x["provider"])
            A[i, j] -= amount * TO_REFERENCE_UNIT[(x["unit"], unit[x["provider"]])]
        else:
            assert x["unit"] == flows[x["flow"]]["unit"] == "kg"
            direct[j] += amount * GWP100_AR6.get(flows[x["flow"]]["name"], 0.0)
    f = np.zeros(n)
    f[ids.index("cement")] = 1.0
    s = np.linalg.solve(A, f)
    contributions = direct * s
    stages: dict[str, float] = {}
    for a, c in zip(acts, contributions, strict=True):
        stages[a["stage"]] = stages.get(a["stage"], 0.0) + c
    return float(contributions.sum()), stages, s


def test_example_footprint_equals_hand_calculation() -> None:
    total, stages, s = _hand_calculation()
    system, demand = load_example("cement")
    assert demand == {"cement": 1.0}
    assert system.categories["name"].tolist() == ["IPCC AR6 GWP100"]
    result = LCA(system).calculate(demand)
    np.testing.assert_allclose(result.supply, s, rtol=1e-12)
    assert result.score() == pytest.approx(total, rel=1e-12)
    assert 600 < total < 900  # a grey cement: 0.6-0.9 t CO2-eq per t
    assert result.residual < 1e-12
    # the method matched every greenhouse gas of the example and nothing else
    match = system.metadata["method_match"]["IPCC AR6 GWP100"]
    assert {m["flow_name"] for m in match["matched"]} == set(GWP100_AR6)
    assert match["unmatched"] == []
    assert stages["A3"] / total > 0.85


def test_demo_cli_text_and_json(capsys) -> None:
    total, stages, _ = _hand_calculation()
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert f"Carbon footprint: {total:,.1f} kg CO2-eq per 1 t Portland cement" in out
    assert "A2 transport" in out and "scope 2 purchased electricity" in out
    assert "Clinker production" in out and "Relative residual" in out

    assert main(["demo", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == pytest.approx(total, rel=1e-12)
    assert data["unit"] == "kg CO2-eq"
    by_stage = {g["tag"]: g["score"] for g in data["by_stage"]}
    assert by_stage == pytest.approx(stages, rel=1e-12)
    assert sum(g["score"] for g in data["by_scope"]) == pytest.approx(total, rel=1e-12)
    assert sum(a["score"] for a in data["top_activities"]) == pytest.approx(total, rel=1e-12)
    assert data["top_activities"][0]["id"] == "clinker"
    assert data["residual"] < 1e-12


def test_demo_runs_as_a_subprocess() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "lcasolve", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Carbon footprint:" in proc.stdout


def test_example_monte_carlo_matches_dense_solves_of_the_drawn_values() -> None:
    """Every entry of the example is sampled; re-solving each iteration's drawn matrices densely
    gives the engine's scores (an independent check of signs, flips and unit conversions)."""
    montecarlo = pytest.importorskip("lcasolve.montecarlo")
    system, demand = load_example("cement")
    n_t, n_b = len(system.technosphere), len(system.biosphere)
    mc = montecarlo.MonteCarlo(system, demand)
    res = mc.run(
        40,
        seed=3,
        record={"technosphere": list(range(n_t)), "biosphere": list(range(n_b))},
        progress=False,
    )
    assert res.deterministic[0, 0] == pytest.approx(_hand_calculation()[0], rel=1e-12)
    tech, bio = system.technosphere, system.biosphere
    c = system.C.toarray()[0]
    f = system.demand_vector(demand)
    for it in range(40):
        A = np.zeros(tech.shape)  # noqa: N806
        np.add.at(A, (tech.row, tech.col), res.inputs["technosphere"][it])
        B = np.zeros(bio.shape)  # noqa: N806
        np.add.at(B, (bio.row, bio.col), res.inputs["biosphere"][it])
        expected = c @ B @ np.linalg.solve(A, f)
        assert res.scores[it, 0, 0] == pytest.approx(expected, rel=1e-9)
    # inputs with a distribution vary; the clinker ratio stays within its triangular bounds
    drawn = res.inputs["technosphere"]
    assert (drawn.std(axis=0)[tech.uncertain] > 0).all()
    k = int(np.flatnonzero(tech.uncertainty["uncertainty_type"] == 5)[0])
    assert (-drawn[:, k] >= 0.80).all() and (-drawn[:, k] <= 0.90).all()


def test_example_footprint_equals_bw2calc() -> None:
    """The peer: the same matrices as a bw_processing datapackage, solved by bw2calc."""
    bw2calc = pytest.importorskip("bw2calc")
    bwp = pytest.importorskip("bw_processing")
    system, demand = load_example("cement")
    t, b, c = system.technosphere, system.biosphere, system.characterization
    n = system.n_activities

    def idx(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return np.array(list(zip(rows.tolist(), cols.tolist(), strict=True)), bwp.INDICES_DTYPE)

    dp = bwp.create_datapackage()
    # technosphere inputs stored positive with flip=True, as brightway stores them
    dp.add_persistent_vector(
        matrix="technosphere_matrix",
        name="technosphere",
        indices_array=idx(t.row, t.col),
        data_array=t.amount,
        flip_array=t.flip,
    )
    dp.add_persistent_vector(
        matrix="biosphere_matrix",
        name="biosphere",
        indices_array=idx(b.row + n, b.col),
        data_array=b.amount,
    )
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        name="gwp100",
        indices_array=idx(c.col + n, np.zeros(len(c), dtype=np.int64)),
        data_array=c.value,
        global_index=0,
    )
    lca = bw2calc.LCA({system.product_position("cement"): 1.0}, data_objs=[dp])
    lca.lci()
    lca.lcia()
    assert LCA(system).calculate(demand).score() == pytest.approx(lca.score, rel=1e-12)
