"""Issue 17 item 1: overflow and NaN never pass the residual check or reach the output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import lcasolve
from lcasolve.errors import NonFiniteValueError
from lcasolve.examples import example_path
from lcasolve.solve import factorize, relative_residual


def cli(*argv, stdin=None):
    """Run the installed ``lcasolve`` console script."""
    exe = shutil.which("lcasolve") or sys.exit("the lcasolve console script is not installed")
    return subprocess.run(
        [exe, *map(str, argv)], capture_output=True, text=True, check=False, input=stdin
    )


def cement_copy(tmp_path, old, new):
    """The bundled cement tables with one line of exchanges.csv replaced."""
    folder = tmp_path / "cement"
    shutil.copytree(example_path("cement"), folder)
    path = folder / "exchanges.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return folder


CLINKER = "cement,technosphere,clinker,,0.85,t,triangular,,,0.80,0.85,0.90"


def assert_one_line_error(proc, *words):
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(error_lines(proc.stderr)) == 1, proc.stderr
    for w in words:
        assert w in proc.stderr


def error_lines(stderr):
    """stderr without the informational lines (the note on what a folder input held)."""
    return [ln for ln in stderr.strip().splitlines() if ": note: " not in ln]


def test_clinker_input_1e308_refused_naming_activities(tmp_path):
    folder = cement_copy(tmp_path, CLINKER, "cement,technosphere,clinker,,1e308,t,,,,,,")
    proc = cli("calc", folder, "--demand", "cement=1", "--json")
    assert_one_line_error(proc, "overflows", "'electricity'")
    assert "NaN" not in proc.stdout


def test_demand_1e308_refused(tmp_path):
    proc = cli("calc", example_path("cement"), "--demand", "cement=1e308", "--json")
    assert_one_line_error(proc, "overflows")
    assert proc.stdout == ""


def test_demand_nan_refused():
    proc = cli("calc", example_path("cement"), "--demand", "cement=nan")
    assert proc.returncode == 2 and "not a finite number" in proc.stderr  # a usage error


def test_production_1e_320_refused(tmp_path):
    # the cement activity's own production row: 1 t -> 1e-320 t (subnormal)
    folder = tmp_path / "cement"
    shutil.copytree(example_path("cement"), folder)
    acts = folder / "activities.csv"
    old = "Portland cement,t,EU,1,A3,"
    assert old in acts.read_text()
    acts.write_text(acts.read_text().replace(old, "Portland cement,t,EU,1e-320,A3,"))
    proc = cli("calc", folder, "--demand", "cement=1", "--json")
    assert_one_line_error(proc)
    assert "'cement'" in proc.stderr or "production" in proc.stderr


def test_score_overflow_with_finite_supply_names_category():
    # supply 1e300 is finite, but 1e300 * 1e10 kg CO2 overflows the score
    system = lcasolve.build_system([(1, 1, 1.0)], [("CO2", 1, 1e10)], {"GWP100": {"CO2": 1.0}})
    with pytest.raises(NonFiniteValueError, match=r"'GWP100'.*activities 1"):
        lcasolve.LCA(system).calculate({1: 1e300})


def test_chain_of_30_factors_1e12_overflows_with_names():
    n = 30
    tech = [(i, i, 1.0) for i in range(n)] + [(i + 1, i, -1e12) for i in range(n - 1)]
    system = lcasolve.build_system(tech, [("CO2", n - 1, 1.0)], {"GWP": {"CO2": 1.0}})
    with pytest.raises(NonFiniteValueError, match="supply of .* activities overflows") as info:
        lcasolve.LCA(system).calculate({0: 1.0})
    assert str(n - 1) in str(info.value)


def test_relative_residual_never_zero_for_nan_or_overflow():
    A = sp.csc_matrix(np.array([[1.0, 0.0], [-2.0, 1.0]]))  # noqa: N806
    b = np.array([1.0, 0.0])
    assert relative_residual(A, np.array([np.nan, 1.0]), b) == np.inf
    assert relative_residual(A, np.array([np.inf, 1.0]), b) == np.inf
    # ‖A‖‖x‖ overflows (1e308 * 3) but x is the exact solution: the residual is 0 by scaling,
    # and a wrong x of that size is not hidden behind an infinite denominator
    b = np.array([1e308, -1.5e308])
    assert relative_residual(A, np.array([1e308, 0.5e308]), b) == 0.0
    assert relative_residual(A, np.array([1e308, 1.5e308]), b) > 0.1


def test_factorization_refuses_nan_right_hand_side():
    fact = factorize(sp.identity(2, format="csc"), labels=["a", "b"])
    with pytest.raises(NonFiniteValueError, match="'b'"):
        fact.solve(np.array([1.0, np.nan]))


def test_json_output_is_strict_json():
    proc = cli("calc", example_path("cement"), "--demand", "cement=1", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert payload["scores"]["IPCC AR6 GWP100"] == pytest.approx(777.35, rel=1e-4)


def test_json_text_turns_non_finite_into_null():
    from lcasolve.cli._common import json_text

    text = json_text({"a": float("nan"), "b": [np.float64("inf"), 1.0], "c": np.array([np.nan])})
    assert json.loads(text) == {"a": None, "b": [None, 1.0], "c": [None]}


def test_threshold_nan_is_a_usage_error():
    proc = cli("mc", example_path("cement"), "--demand", "cement=1", "--threshold", "nan")
    assert proc.returncode == 2
    assert "not a finite number" in proc.stderr


def test_broken_pipe_is_quiet():
    exe = shutil.which("lcasolve")
    cmd = f"'{exe}' calc '{example_path('cement')}' --demand cement=1 --top 12 | head -c 10"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_terminal_escape_codes_in_names_are_not_printed(tmp_path):
    folder = tmp_path / "cement"
    shutil.copytree(example_path("cement"), folder)
    acts = folder / "activities.csv"
    old = "Clinker production, dry kiln"
    assert old in acts.read_text()
    acts.write_text(acts.read_text().replace(old, "Clinker \x1b]0;owned\x07\x1b[2J production"))
    proc = cli("calc", folder, "--demand", "cement=1")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "Clinker \ufffd]0;owned\ufffd\ufffd[2J production" in proc.stdout
    proc = cli("calc", folder, "--demand", "no\x1b[2Jsuch=1")
    assert proc.returncode == 1 and "\x1b" not in proc.stderr


def test_json_ld_amount_1e308_refused(tmp_path):
    import zipfile

    from lcasolve.examples import load_example
    from lcasolve.io.jsonld_write import _uid, write_jsonld

    system, _ = load_example()
    src = write_jsonld(system, tmp_path / "cement.zip")
    bad = tmp_path / "huge.zip"
    cement = f"processes/{_uid('process', 'cement')}.json"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(bad, "w") as b:
        for name in a.namelist():
            data = json.loads(a.read(name))
            if name == cement:
                data["exchanges"][1]["amount"] = 1e308  # the clinker input
            b.writestr(name, json.dumps(data))
    proc = cli("calc", bad, "--demand", f"{_uid('process', 'cement')}=1", "--json")
    assert_one_line_error(proc, "overflows")
    assert proc.stdout == ""


def test_chain_of_30_steps_1e12_through_the_cli(tmp_path):
    # a30 needs 1e12 of a29, ... : the supply of a0 is 1e12**29 = 1e348, beyond float64
    folder = tmp_path / "chain"
    folder.mkdir()
    acts = ["id,name,product,unit,location,amount"]
    exchanges = ["activity,kind,provider,flow,amount,unit"]
    for i in range(31):
        acts.append(f"a{i},step {i},p{i},kg,GLO,1")
        if i:
            exchanges.append(f"a{i},technosphere,a{i - 1},,1e12,kg")
    exchanges.append("a0,biosphere,,co2,1,kg")
    (folder / "activities.csv").write_text("\n".join(acts) + "\n")
    (folder / "exchanges.csv").write_text("\n".join(exchanges) + "\n")
    (folder / "flows.csv").write_text(
        'id,name,compartment,unit,cas\nco2,"Carbon dioxide, fossil",air,kg,124-38-9\n'
    )
    for flag in ((), ("--allow-ill-conditioned",)):
        proc = cli("calc", folder, "--demand", "a30=1", "--json", *flag)
        assert_one_line_error(proc, "overflows", "'a0'")
        assert proc.stdout == ""
    # 1e120 kg: large but finite, exact for this triangular chain, though the condition
    # estimate (about 1e120) refuses it unless asked
    proc = cli("calc", folder, "--demand", "a10=1", "--json", "--allow-ill-conditioned")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["scores"]["IPCC AR6 GWP100"] == pytest.approx(1e120, rel=1e-9)


def test_escape_codes_in_warning_lines_are_not_printed(tmp_path):
    # the lenient reader's warning quotes the file name: a name with ESC must not reach stderr
    import zipfile

    from lcasolve.examples import load_example
    from lcasolve.io.jsonld_write import _uid, write_jsonld

    system, _ = load_example()
    src = write_jsonld(system, tmp_path / "cement.zip")
    bad = tmp_path / "ce\x1b[2Jment.zip"
    cement = f"processes/{_uid('process', 'cement')}.json"
    wrong = {"distributionType": "TRIANGLE_DISTRIBUTION", "minimum": 0.9, "maximum": 0.8}
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(bad, "w") as b:
        for name in a.namelist():
            data = json.loads(a.read(name))
            if name == cement:
                data["exchanges"][1]["uncertainty"] = {**wrong, "mode": 0.85}
            b.writestr(name, json.dumps(data))
    proc = cli("calc", bad, "--demand", f"{_uid('process', 'cement')}=1")
    assert proc.returncode == 0, proc.stderr
    assert "warning: 1 invalid distribution" in proc.stderr
    assert "\x1b" not in proc.stderr and "ce\ufffd[2Jment.zip" in proc.stderr
