"""``--param`` on the commands and ``lcasolve sensitivity --parameters``, via the console script."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.test_jsonld import _write_zip
from tests.test_jsonld_parameters import _files

GWP = "IPCC AR6 GWP100"


def _lcasolve(*argv):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    cmd = ["lcasolve", *map(str, argv)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)


@pytest.fixture
def model(tmp_path):
    return _write_zip(tmp_path / "model.zip", _files())


def _assert_param_scores(path):
    """12.5 as stored; with use/dist=20 and k=2, Q = 20 * 0.2 * 3 kg of 'make' (2 kg CO2 each)
    + k/2 = 25."""
    base = _lcasolve("calc", path, "--demand", "use=1", "--method", GWP, "--json")
    assert base.returncode == 0, base.stderr
    assert json.loads(base.stdout)["scores"][GWP] == pytest.approx(12.5, rel=1e-12)
    changed = _lcasolve(
        "calc", path, "--demand", "use=1", "--method", GWP, "--json",
        "--param", "use/dist=20", "--param", "k=2",
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["scores"][GWP] == pytest.approx(25.0, rel=1e-12)


def test_param_changes_the_score(model):
    _assert_param_scores(model)


def test_convert_keeps_the_parameters(model, tmp_path):
    out = tmp_path / "model.h5"
    conv = _lcasolve("convert", model, out, "--json")
    assert conv.returncode == 0, conv.stderr
    payload = json.loads(conv.stdout)
    assert (payload["parameters"], payload["formula_entries"]) == (4, 2)
    _assert_param_scores(out)  # as from the JSON-LD zip


def test_param_errors(model):
    unknown = _lcasolve("calc", model, "--demand", "use=1", "--param", "dist=20")
    assert unknown.returncode == 1
    assert "unknown parameter 'dist'" in unknown.stderr and "use/dist" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    usage = _lcasolve("calc", model, "--demand", "use=1", "--param", "dist=x")
    assert usage.returncode == 2 and "not a number" in usage.stderr
    usage = _lcasolve("calc", model, "--demand", "use=1", "--param", "=3")
    assert usage.returncode == 2


def test_sensitivity_ranks_the_parameters(model):
    proc = _lcasolve(
        "sensitivity", model, "--demand", "use=1", "--method", GWP, "--parameters", "--json",
        "--top", "3", "--rank-by", "sensitivity",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["ranked"] == "parameters" and payload["rank_by"] == "sensitivity"
    (category,) = payload["categories"]
    assert category["name"] == GWP and category["score"] == pytest.approx(12.5, rel=1e-12)
    rows = category["rows"]
    # h = k/2 + 2 * 3 * dist * frac: dh/dfrac = 60, dh/ddist = 1.2, dh/dk = 0.5
    assert [r["parameter"] for r in rows] == ["use/frac", "use/dist", "k"]
    assert [r["sensitivity"] for r in rows] == pytest.approx([60.0, 1.2, 0.5], rel=1e-12)
