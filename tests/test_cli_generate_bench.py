"""``lcasolve generate`` and ``lcasolve bench`` (and the benchmark harness behind it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lcasolve
from lcasolve.cli.main import main
from lcasolve.synthetic import generate


def test_generate_datapackage_and_hdf5_round_trip(tmp_path, capsys):
    dp, h5 = tmp_path / "eco.zip", tmp_path / "eco.h5"
    assert main(["generate", str(dp), "--processes", "300", "--seed", "7", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["activities"] == 300
    assert main(["generate", str(h5), "--processes", "300", "--seed", "7", "--format", "hdf5"]) == 0
    ref = generate(300, seed=7)
    for path in (dp, h5):
        system = lcasolve.load(path)
        assert (system.A != ref.A).nnz == 0
        assert (system.B != ref.B).nnz == 0
        demand = {5: 1.0}
        got = lcasolve.LCA(system).calculate(demand).scores.iloc[0]
        assert got == pytest.approx(lcasolve.LCA(ref).calculate(demand).scores.iloc[0], rel=1e-12)
    # refuses to overwrite without --overwrite, exit status 1 and a one-line message
    assert main(["generate", str(dp), "--processes", "300"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_bench_agrees_with_bw2calc(tmp_path, capsys):
    pytest.importorskip("bw2calc")
    out = tmp_path / "bench.json"
    code = main(["bench", "--processes", "400", "--demands", "4", "--out", str(out), "--json"])
    assert code == 0
    report = json.loads(out.read_text())
    rows = {r["tool"]: r for r in report["results"]}
    from lcasolve.solve.umfpack import umfpack_available

    peers = ["bw2calc-superlu", "bw2calc-pardiso"] + (["bw2calc-umfpack"] * umfpack_available())
    assert set(rows) == {"lcasolve", *peers}
    assert "error" not in rows["lcasolve"], rows["lcasolve"]
    ours = rows["lcasolve"]
    assert ours["residual"] <= 1e-10 and ours["all_scores_residual"] <= 1e-10
    # the adjoint all-products scores equal the forward scores of the same products
    forward = np.array([ours["score"], *ours["further_scores"]])
    np.testing.assert_allclose(ours["all_scores_check"], forward, rtol=1e-9)
    # the whole-process run (console script) prints the in-process score
    assert "process_error" not in ours, ours.get("process_error")
    assert ours["process_score"] == pytest.approx(ours["score"], rel=1e-12)
    for peer in peers:
        assert "process_error" not in rows[peer], rows[peer]
        assert rows[peer]["ratio_process"] > 0
        assert "error" not in rows[peer], rows[peer]
        assert rows[peer]["agree"] <= 1e-8  # bw2calc computes the same scores
        assert rows[peer]["ratio_first"] > 0
    assert json.loads(capsys.readouterr().out)["machine"]["cores"] >= 1
