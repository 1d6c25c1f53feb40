"""``lcasolve report`` with a stage table, errors, and the PCF plots on their own."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lcasolve.cli.main import main
from lcasolve.examples import example_path, load_example
from lcasolve.lca import LCA
from lcasolve.pcf import footprint, plots


def test_report_with_stage_rules(tmp_path, capsys):
    table = tmp_path / "stages.csv"
    table.write_text("id,pattern,stage\n,transport*,distribution\n,*,production\n")
    rc = main(
        [
            "report",
            str(example_path("cement")),
            "--demand",
            "cement=2",
            "--iterations",
            "0",
            "--stages",
            str(table),
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    system, _ = load_example("cement")
    reference = LCA(system).calculate({"cement": 2.0}).score("IPCC AR6 GWP100")
    assert out["total"] == pytest.approx(reference, rel=1e-12)
    stages = {r["stage"]: r["score"] for r in out["by_stage"]}
    assert set(stages) == {"distribution", "production"}
    assert sum(stages.values()) == pytest.approx(reference, rel=1e-9)
    acts = footprint(system, {"cement": 2.0}).to_frame()
    transport = acts[acts["name"].str.lower().str.startswith("transport")]["score"].sum()
    assert stages["distribution"] == pytest.approx(transport, rel=1e-12)
    assert "monte_carlo" not in out
    assert out["external_cost"]["cost"] == pytest.approx(reference * 0.09, rel=1e-12)


def test_report_keeps_its_monte_carlo_run(tmp_path, capsys):
    import h5py

    run = tmp_path / "run.h5"
    argv = [
        "report",
        str(example_path("cement")),
        "--demand",
        "cement=1",
        "--iterations",
        "150",
        "--seed",
        "2",
        "--threshold",
        "780",
        "--out",
        str(run),
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    with h5py.File(run) as h5:
        scores = h5["scores"][:, 0, 0]
        assert h5.attrs["complete"]
    assert out["monte_carlo"]["mean"] == pytest.approx(scores.mean(), rel=1e-12)
    assert out["thresholds"][0]["p_exceed"] == np.mean(scores > 780.0)
    assert main(argv) == 1  # the run file exists: refused without --resume/--overwrite
    assert "exists" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["monte_carlo"]["mean"] == out["monte_carlo"]["mean"]


def test_report_errors_name_the_problem(tmp_path, capsys):
    table = tmp_path / "bad.csv"
    table.write_text("id,stage\nno_such_activity,A1\n")
    rc = main(
        [
            "report",
            str(example_path("cement")),
            "--demand",
            "cement=1",
            "--iterations",
            "0",
            "--stages",
            str(table),
        ]
    )
    assert rc == 1
    assert "no_such_activity" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # a usage error: argparse exits 2
        main(["report", str(example_path("cement")), "--demand", "cement=1", "--iterations", "-1"])
    assert info.value.code == 2


def test_plots_draw_something():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    system, demand = load_example("cement")
    fp = footprint(system, demand)
    rng = np.random.default_rng(0)
    a = rng.normal(10, 1, 200)
    figs = [
        plots.waterfall(fp),
        plots.stage_bars(fp, "scope"),
        plots.histogram(a, {"limit": 11.0}, deterministic=10.0),
        plots.comparison(a, a + rng.normal(0.5, 0.2, 200), ("x", "y")),
        plots.tornado(fp.by_activity(None).rename(columns={"share": "elasticity"})),
    ]
    for fig in figs:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        img = np.asarray(canvas.buffer_rgba())[..., :3].astype(float)
        assert img.std() > 10
