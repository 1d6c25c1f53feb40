"""``lcasolve mc --parameters``: Monte Carlo over parameters and exchanges, via the console script.

The model (tests.test_jsonld_parameters._files): one unit of 'use' takes ``Q = dist*frac*3`` kg
of 'make' (x kg CO2 each, stored 2) and emits ``k/2`` kg CO2, so with dist = 10, k = 1:
``h = 0.5 + 30 frac x``, linear in the parameter ``frac ~ U(0.1, 0.3)``.
"""

from __future__ import annotations

import json

import pytest

from tests.test_cli_parameters import GWP, _lcasolve
from tests.test_jsonld import _write_zip
from tests.test_jsonld_parameters import _files

N = 4000


@pytest.fixture
def model(tmp_path):
    files = _files()
    make = files["processes/make.json"]
    co2 = next(e for e in make["exchanges"] if e["flow"]["@id"] == "CO2")
    co2["uncertainty"] = {"distributionType": "NORMAL_DISTRIBUTION", "mean": 2.0, "sd": 0.2}
    return _write_zip(tmp_path / "model.zip", files)


def _mc(model, *extra):
    proc = _lcasolve(
        "mc", model, "--demand", "use=1", "--method", GWP, "--json", "--no-progress",
        "--iterations", N, "--seed", "7", *extra,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _close(out, mean, var):
    """Sample mean within 4 standard errors; sample variance within 4 of its standard errors."""
    assert abs(out["mean"][GWP] - mean) < 4 * (var / N) ** 0.5
    assert out["std"][GWP] ** 2 == pytest.approx(var, rel=4 * (2 / N) ** 0.5)


def test_parameters_only_mean_and_variance_are_analytic(model):
    out = _mc(model, "--parameters", "--fixed-background")
    assert out["parameters"] == ["use/frac"] and out["background"] is False
    assert out["deterministic"][GWP] == pytest.approx(12.5, rel=1e-12)
    # h = 0.5 + 60 frac: mean 0.5 + 60 * 0.2, variance 60^2 * 0.2^2 / 12
    _close(out, 12.5, 3600 * 0.04 / 12)
    assert out["percentiles"][GWP]["2.5"] >= 0.5 + 60 * 0.1
    assert out["percentiles"][GWP]["97.5"] <= 0.5 + 60 * 0.3


def test_parameters_with_the_exchanges_drawn_paired_and_reproducible(model):
    out = _mc(model, "--parameters", "--threshold", "15")
    assert out["background"] is True
    # h = 0.5 + 30 frac x, frac ~ U(0.1, 0.3), x ~ N(2, 0.2) independent
    ef2, ex2 = 0.04 + 0.04 / 12, 4.0 + 0.04
    _close(out, 12.5, 900 * (ef2 * ex2 - (0.2 * 2.0) ** 2))
    assert _mc(model, "--parameters", "--threshold", "15") | {"seconds": 0} == out | {"seconds": 0}
    # frac held by --param: the exchanges take exactly the draws of the plain run
    held = _mc(model, "--parameters", "--param", "use/frac=0.2")
    plain = _mc(model)
    assert held["parameters"] == []
    assert held["mean"][GWP] == pytest.approx(plain["mean"][GWP], rel=1e-12)
    assert held["std"][GWP] == pytest.approx(plain["std"][GWP], rel=1e-9)


def test_usage_errors(model):
    # --invalid refuse/drop would be ignored: parameter samples are not flagged
    for extra in (["--fixed-background"], ["--parameters", "--exact"],
                  ["--parameters", "--invalid", "refuse"], ["--parameters", "--invalid", "drop"],
                  ["--parameters", "--overwrite"]):  # fmt: skip
        proc = _lcasolve("mc", model, "--demand", "use=1", "--method", GWP, *extra)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and extra[-1] in proc.stderr


def test_sensitivity_sobol_of_the_parameters_and_the_background(model):
    # h = 0.5 + 30 frac x: V = 900 (E f² E x² − (E f E x)²); S1_frac = 900 E[x]² V_f / V,
    # S1_x = 900 E[f]² V_x / V, the interaction 900 V_f V_x / V belongs to both totals
    proc = _lcasolve(
        "sensitivity", model, "--demand", "use=1", "--method", GWP, "--json",
        "--parameters", "--sobol", "2048", "--seed", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["background"] is True and payload["ranked"] == "parameters (Sobol)"
    (category,) = payload["categories"]
    rows = {r["factor"]: r for r in category["rows"]}
    assert list(rows) == ["use/frac", "background"]
    vf, vx = 0.04 / 12, 0.04
    var = 900 * ((0.04 + vf) * (4 + vx) - 0.16)
    expected = {
        "use/frac": (900 * 4 * vf / var, 900 * (4 * vf + vf * vx) / var),
        "background": (900 * 0.04 * vx / var, 900 * (0.04 * vx + vf * vx) / var),
    }
    for name, (s1, st) in expected.items():
        row = rows[name]
        assert abs(row["S1"] - s1) <= max(3 * row["S1_conf"], 0.02), name
        assert abs(row["ST"] - st) <= max(3 * row["ST_conf"], 0.02), name
    usage = _lcasolve("sensitivity", model, "--demand", "use=1", "--sobol", "64")
    assert usage.returncode == 2 and "--sobol needs --parameters" in usage.stderr
    # a negative seed is a usage error (exit 2, one line), not numpy's traceback
    seed = _lcasolve(
        "sensitivity", model, "--demand", "use=1", "--parameters", "--sobol", "64", "--seed", "-1"
    )
    assert seed.returncode == 2 and "--seed" in seed.stderr and "Traceback" not in seed.stderr


@pytest.mark.parametrize(
    ("n", "low", "high"), [("1000", 512, 1024), ("3", 2, 4), ("2049", 2048, 4096)]
)
def test_sensitivity_sobol_size_must_be_a_power_of_two(model, n, low, high):
    # Sobol' points balance only for 2**k of them: refused before anything is loaded or solved
    proc = _lcasolve(
        "sensitivity", model, "--demand", "use=1", "--method", GWP, "--parameters",
        "--sobol", n, "--json",
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line == (
        f"lcasolve sensitivity: error: --sobol {n} is not a power of 2, which Sobol' sampling "
        f"needs for its balance properties: use {low} or {high}"
    )
