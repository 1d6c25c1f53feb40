"""``lcasolve calc`` on the brightway fixtures and ``lcasolve convert`` to the HDF5 store."""

import json
import subprocess
import sys

import pytest

import lcasolve
from lcasolve.cli.main import main


@pytest.fixture(scope="module")
def fx(shared_data):
    return shared_data / "bw2calc-fixtures"


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_calc_json_basic_fixture(capsys, fx):
    code, out, _ = run_cli(capsys, "calc", fx / "basic_fixture.zip", "--demand", "1=1", "--json")
    assert code == 0
    payload = json.loads(out)
    assert set(payload) >= {"scores", "unit", "residual", "seconds"}
    # basic fixture: supply [1, 0.5], B = [1, 0], C = [1] -> score 1
    assert list(payload["scores"].values()) == pytest.approx([1.0], rel=1e-15)
    assert payload["residual"] < 1e-12


@pytest.mark.parametrize(("demand", "score"), [(1, 0.18248161259647164), (7, 0.15490749959371897)])
def test_calc_bw2io_example_db(capsys, fx, demand, score):
    code, out, _ = run_cli(
        capsys,
        "calc",
        fx / "bw2io_example_db.zip",
        fx / "ipcc_simple.zip",
        "--demand",
        f"{demand}=1",
        "--json",
    )
    assert code == 0
    assert list(json.loads(out)["scores"].values()) == pytest.approx([score], rel=1e-12)


def test_calc_unknown_demand_and_corrupt_file(capsys, fx, tmp_path):
    code, out, err = run_cli(capsys, "calc", fx / "basic_fixture.zip", "--demand", "100=1")
    assert code == 1
    assert "100" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "calc", fx / "basic_fixture.zip", "--demand", "101=1")
    assert code == 1 and "activity" in err
    bad = tmp_path / "bad.zip"
    bad.write_bytes((fx / "basic_fixture.zip").read_bytes()[:200])
    code, _, err = run_cli(capsys, "calc", bad, "--demand", "1=1")
    assert code == 1 and "bad.zip" in err and len(err.strip().splitlines()) == 1


def test_calc_bad_usage_exits_2(fx):
    cmd = [sys.executable, "-m", "lcasolve", "calc", str(fx / "basic_fixture.zip"), "--top", "x"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    proc = subprocess.run(
        [sys.executable, "-m", "lcasolve", "convert", "--no-such-option"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2


def test_convert_then_calc_gives_the_same_scores(capsys, fx, tmp_path):
    out = tmp_path / "multi.h5"
    inputs = [fx / f"multi_lca_simple_{i}.zip" for i in range(1, 6)]
    code, text, _ = run_cli(capsys, "convert", *inputs, out, "--json")
    assert code == 0
    payload = json.loads(text)
    direct = lcasolve.load(*inputs)
    assert payload["activities"] == direct.n_activities
    assert payload["categories"] == direct.n_categories
    assert payload["technosphere_entries"] == len(direct.technosphere)
    assert payload["link_report"]["entries"] == len(direct.metadata.get("link_report", []))
    stored = lcasolve.load(out)
    for pid in direct.activities["product_id"]:
        a = lcasolve.LCA(direct).calculate({pid: 1}).scores
        b = lcasolve.LCA(stored).calculate({pid: 1}).scores
        assert dict(a) == dict(b)
    # refuses to overwrite unless asked
    code, _, err = run_cli(capsys, "convert", inputs[0], out)
    assert code == 1 and "--overwrite" in err
    code, text, _ = run_cli(capsys, "convert", inputs[0], out, "--overwrite")
    assert code == 0 and "wrote" in text
    assert lcasolve.load(out).n_categories == lcasolve.load(inputs[0]).n_categories


def test_convert_needs_an_output(capsys, fx):
    code, _, err = run_cli(capsys, "convert", fx / "basic_fixture.zip")
    assert code == 1 and "OUT" in err


@pytest.mark.data
def test_convert_json_ld_with_reference_data_and_lenient(shared_data, tmp_path, capsys):
    d = shared_data
    out = tmp_path / "transport.h5"
    code = main(
        [
            "convert",
            str(d / "uslci-transport" / "uslci-transport_v1.1_json_ld.zip"),
            str(d / "uslci-transport" / "uslci-rail_v1.0_json_ld.zip"),
            str(out),
            "--reference-data",
            str(d / "uslci" / "uslci_olca1_5_0_json_ld.zip"),
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["activities"] == 52
    assert payload["link_report"]["issues"] == {"provider outside data": 173}
    uslci = str(d / "uslci" / "uslci_olca1_5_0_json_ld.zip")
    # invalid distributions do not stop a deterministic command: a warning names them
    assert main(["convert", uslci, str(tmp_path / "u.h5")]) == 0
    err = capsys.readouterr().err
    assert "TRIANGLE_DISTRIBUTION" in err and "exchange" in err
    assert "26 invalid distributions" in err
    assert main(["convert", uslci, str(tmp_path / "v.h5"), "--lenient", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == 26
