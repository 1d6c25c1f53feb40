"""The CLI as a practitioner meets it, through the installed console script (issue 16)."""

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lcasolve.io.distributions import bounded

CEMENT = "62993671-574c-3fc5-b66a-6be3bb21ad3d"  # "Portland cement, at plant" in USLCI JSON-LD


def cli(*argv, cwd=None):
    """Run the console script; returns (exit code, stdout, stderr)."""
    exe = shutil.which("lcasolve")
    assert exe, "the lcasolve console script is not installed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [exe, *map(str, argv)], capture_output=True, text=True, check=False, env=env, cwd=cwd
    )
    return proc.returncode, proc.stdout, proc.stderr


def _invalid_triangles(path):
    """Triangular distributions of the JSON-LD zip outside ``min <= mode <= max`` (plain scan)."""
    out = []
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if not (n.startswith("processes/") and n.endswith(".json")):
                continue
            for ex in json.loads(z.read(n)).get("exchanges", []):
                u = ex.get("uncertainty") or {}
                if u.get("distributionType") == "TRIANGLE_DISTRIBUTION":
                    lo, m, hi = u["minimum"], u["mode"], u["maximum"]
                    if not (lo < hi and lo <= m <= hi):
                        out.append((n, lo, m, hi))
    return out


@pytest.fixture(scope="module")
def uslci(shared_data):
    return shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"


# --- item 3: invalid distributions ------------------------------------------------------------


def test_mode_one_ulp_below_the_minimum_is_on_the_minimum():
    rec = bounded(0.37, "triangular", 0.37, 0.382, 0.3699999999999999)
    assert rec["loc"] == 0.37 and rec["minimum"] == 0.37
    with pytest.raises(ValueError, match="mode 0.36"):
        bounded(0.37, "triangular", 0.37, 0.382, 0.369)


@pytest.mark.data
def test_deterministic_commands_load_uslci_with_a_warning(uslci, tmp_path):
    bad = _invalid_triangles(uslci)
    # 27 in the data, one of them only one ulp below its minimum (accepted)
    assert len(bad) == 27
    expected = len(bad) - sum(1 for _, lo, m, _hi in bad if 0 < lo - m < 1e-15)
    code, out, err = cli("calc", uslci, "--demand", f"{CEMENT}=1", "--json")
    assert code == 0, err
    assert f"warning: {expected} invalid distributions" in err
    assert "TRIANGLE_DISTRIBUTION" in err and "and 23 more" in err
    assert json.loads(out)["scores"]
    code, out, err = cli("convert", uslci, tmp_path / "u.h5", "--json")
    assert code == 0, err
    assert f"{expected} invalid distributions" in err
    import lcasolve

    stored = lcasolve.load(tmp_path / "u.h5")
    assert len(stored.metadata["invalid_distributions"]) == expected


@pytest.mark.data
def test_sampling_commands_refuse_invalid_distributions_unless_lenient(uslci):
    code, _, err = cli("mc", uslci, "--demand", f"{CEMENT}=1", "--iterations", "4")
    assert code == 1
    assert "cannot sample 26 invalid distributions" in err and "--lenient" in err
    assert "Traceback" not in err
    code, _, err = cli("report", uslci, "--demand", f"{CEMENT}=1", "--iterations", "4")
    assert code == 1 and "cannot sample" in err
    code, out, err = cli(
        "mc", uslci, "--demand", f"{CEMENT}=1", "--iterations", "4", "--lenient", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["iterations"] == 4
    assert "26 invalid distributions" in err and "sampled without them" in err


@pytest.mark.data
def test_ecospold2_strict_message_has_the_lenient_hint(shared_data):
    import lcasolve
    from lcasolve.errors import InvalidUncertaintyError

    path = shared_data / "uslci" / "uslci_fy18_q1_01_olca1_5_ecospold2.zip"
    with pytest.raises(InvalidUncertaintyError, match=r"strict=False, or --lenient"):
        lcasolve.load(path)


# --- item 4: usage errors exit 2, no tracebacks, outputs checked first -------------------------


@pytest.fixture(scope="module")
def basic(shared_data):
    return shared_data / "bw2calc-fixtures" / "basic_fixture.zip"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("calc", "{db}"), "give at least one --demand"),
        (("calc", "{db}", "--demand", "1"), "expected ID=AMOUNT"),
        (("calc", "{db}", "--demand", "1=abc"), "'abc' is not a number"),
        (("calc", "{db}", "--demand", "1=1", "--top", "0"), "positive integer, got 0"),
        (("calc", "{db}", "--demand", "1=1", "--top", "-1"), "positive integer, got -1"),
        (("mc", "{db}", "--demand", "1=1", "--iterations", "0"), "positive integer, got 0"),
        (("mc", "{db}", "--demand", "1=1", "--batch-size", "0"), "positive integer, got 0"),
        (("mc", "{db}", "--demand", "1=1", "--threads", "0"), "positive integer, got 0"),
        (("mc", "{db}", "--demand", "1=1", "--resume"), "--resume continues the run in --out"),
        (
            ("mc", "{db}", "--demand", "1=1", "--out", "/nonexistent/dir/x.h5"),
            "folder /nonexistent/dir does not exist",
        ),
        (
            (
                "report",
                "{db}",
                "--demand",
                "1=1",
                "--iterations",
                "0",
                "--html",
                "/nonexistent/x.html",
            ),
            "folder /nonexistent does not exist",
        ),
        (("convert", "{db}", "{tmp}", "--overwrite"), "is a folder"),
        (("generate", "{tmp}", "--overwrite"), "is a folder"),
    ],
)
def test_usage_errors_exit_2_with_one_line(basic, tmp_path, argv, words):
    code, out, err = cli(*(a.format(db=basic, tmp=tmp_path) for a in argv))
    assert code == 2, err
    assert words in err and "Traceback" not in err
    assert out == ""


def test_outputs_are_checked_before_the_inputs_are_read(tmp_path):
    # the input does not exist: a wrong output folder is reported first, nothing is read
    missing = tmp_path / "absent.zip"
    code, _, err = cli("mc", missing, "--demand", "1=1", "--out", tmp_path / "no" / "run.h5")
    assert code == 2 and "does not exist" in err and "absent.zip" not in err


def test_mismatched_resume_is_a_usage_error(basic, tmp_path):
    run = tmp_path / "run.h5"
    base = ("mc", basic, "--demand", "1=1", "--out", run, "--no-progress")
    code, _, err = cli(*base, "--iterations", "8")
    assert code == 0, err
    code, _, err = cli(*base, "--iterations", "8", "--seed", "5", "--resume")
    assert code == 2 and "cannot resume" in err and "seed" in err


def test_ctrl_c_names_the_partial_file_and_resume(tmp_path):
    import signal
    import time

    db = tmp_path / "g.zip"
    assert cli("generate", db, "--processes", "3000")[0] == 0
    run = tmp_path / "run.h5"
    exe = shutil.which("lcasolve")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    argv = [exe, "mc", db, "--demand", "1=1", "--iterations", "1000000", "--out", run]
    proc = subprocess.Popen(
        [*map(str, argv), "--no-progress"], stderr=subprocess.PIPE, text=True, env=env
    )
    part = tmp_path / "run.h5.partial"
    deadline = time.monotonic() + 120
    while not part.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert str(part.name) in err and "--resume" in err


# --- item 1: find a product by name ----------------------------------------------------------

CEMENT_FLOW = "277959d5-1a12-33d4-9d7f-1604f2227c09"  # its reference product flow (plain scan)


def _cement_flow(path):
    with zipfile.ZipFile(path) as z:
        data = json.loads(z.read(f"processes/{CEMENT}.json"))
    return next(e["flow"]["@id"] for e in data["exchanges"] if e.get("quantitativeReference"))


@pytest.mark.data
def test_system_search_ranks_portland_cement_first(uslci):
    import lcasolve

    system = lcasolve.load(uslci, strict=False)
    found = system.search("portland cement")
    assert list(found.columns) == [
        "position",
        "id",
        "name",
        "product",
        "location",
        "category",
        "score",
    ]
    assert found["id"].iloc[0] == CEMENT and found["name"].iloc[0] == "Portland cement, at plant"
    assert found["score"].is_monotonic_decreasing
    # a location narrows electricity down; a typo still finds the cement
    grid = system.search("electricity grid RNA", limit=5)
    assert len(grid) == 5 and all("Electricity" in n for n in grid["name"])
    assert system.search("portlnd cement")["id"].iloc[0] == CEMENT


@pytest.mark.data
def test_demand_by_name_product_flow_or_id_gives_one_score(uslci):
    assert _cement_flow(uslci) == CEMENT_FLOW
    scores = []
    for key in (CEMENT, "Portland cement, at plant", CEMENT_FLOW):
        code, out, err = cli("calc", uslci, "--demand", f"{key}=1000", "--json")
        assert code == 0, err
        scores.append(json.loads(out)["scores"])
    assert scores[0] == scores[1] == scores[2]


@pytest.mark.data
def test_search_command_and_unknown_demand_suggests_names(uslci):
    code, out, err = cli("search", uslci, "portland cement", "--json")
    assert code == 0, err
    assert json.loads(out)["matches"][0]["id"] == CEMENT
    code, out, _ = cli("search", uslci, "portland cement")
    assert CEMENT in out and "Portland cement, at plant" in out
    code, _, err = cli("calc", uslci, "--demand", "portland cemnt=1")
    assert code == 1
    assert "closest: 'Portland cement, at plant'" in err and CEMENT in err


# --- item 5: a method that characterizes nothing ---------------------------------------------


def test_method_matching_no_flow_is_an_error_not_a_zero(tmp_path):
    db = tmp_path / "s.zip"
    assert cli("generate", db, "--processes", "50")[0] == 0
    code, out, err = cli("calc", db, "--demand", "1=1", "--method", "IPCC AR6 GWP100")
    assert code == 1 and out == ""
    assert "nothing is characterized" in err and "'IPCC AR6 GWP100'" in err
    code, out, err = cli("calc", db, "--demand", "1=1")  # its own synthetic GWP100 matches
    assert code == 0 and "characterize" not in err


def test_method_matching_no_flow_beside_one_that_does_is_a_warning(tmp_path):
    db = tmp_path / "s.zip"
    assert cli("generate", db, "--processes", "50")[0] == 0
    code, out, err = cli(
        "calc",
        db,
        "--demand",
        "1=1",
        "--method",
        "IPCC AR6 GWP100",
        "--method",
        "GWP100 (synthetic)",
        "--json",
    )
    assert code == 0, err
    (line,) = err.strip().splitlines()
    assert line.startswith("lcasolve calc: warning: 'IPCC AR6 GWP100' characterizes none of")
    assert "(score 0)" in line and "synthetic" not in line
    payload = json.loads(out)
    assert payload["scores"]["IPCC AR6 GWP100"] == 0.0
    assert payload["scores"]["GWP100 (synthetic)"] > 0
    code, out, err = cli(
        "calc",
        db,
        "--demand",
        "1=1",
        "--method",
        "IPCC AR6 GWP100",
        "--method",
        "GWP100 (synthetic)",
    )
    assert code == 0 and "warning: 'IPCC AR6 GWP100'" in err
    assert "no activity contributes to IPCC AR6 GWP100" in out and "Empty DataFrame" not in out


# --- item 6: calc --json names the demand, the method and the top contributions ---------------


def test_calc_json_has_demand_names_method_and_top(shared_data):
    fx = shared_data / "bw2calc-fixtures"
    code, out, err = cli(
        "calc", fx / "bw2io_example_db.zip", fx / "ipcc_simple.zip", "--demand", "1=1", "--json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["demand"] == [
        {
            "id": 1,
            "amount": 1.0,
            "name": "Driving an electric car",
            "product": "Driving an electric car",
            "unit": "",
            "location": "",
        }
    ]
    (category,) = payload["categories"]
    total = payload["scores"][category]
    assert total == pytest.approx(0.18248161259647164, rel=1e-12)  # test_calc_bw2io_example_db
    top = payload["top"][category]
    assert [r["name"] for r in top] == ["Electricity", "Steel"]
    assert sum(r["score"] for r in top) == pytest.approx(total, rel=1e-12)
    assert all(r["share"] == pytest.approx(r["score"] / total) for r in top)
    code, out, _ = cli(
        "calc", fx / "bw2io_example_db.zip", fx / "ipcc_simple.zip", "--demand", "1=1"
    )
    assert "92.1%" in out and "0.920" not in out  # shares as percentages in the text


# --- item 6: sensitivity --json names what it ranks, by what, the score and the demand -------


def test_sensitivity_json_names_entries_rank_key_score_and_demand():
    from lcasolve.examples import example_path

    cement = example_path("cement")
    code, out, err = cli(
        "sensitivity", cement, "--demand", "cement=2", "--top", "5", "--rank-by", "importance",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    (fu,) = payload["demand"]
    assert fu["id"] == "cement" and fu["amount"] == 2.0 and fu["unit"] == "t"
    assert fu["name"] == "Portland cement production, grinding and blending"
    assert payload["ranked"] == "matrix entries" and payload["rank_by"] == "importance"
    assert "importance" in payload["rank_key"] and payload["method"] is None
    (category,) = payload["categories"]
    code, calc_out, _ = cli("calc", cement, "--demand", "cement=2", "--json")
    assert category["score"] == pytest.approx(json.loads(calc_out)["scores"][category["name"]])
    assert category["unit"] == "kg CO2-eq"
    rows = category["rows"]
    assert len(rows) == 5
    imp = [r["importance"] for r in rows]
    assert imp == sorted(imp, reverse=True) and imp[0] > 0
    import lcasolve

    system = lcasolve.load(cement)
    flows = dict(zip(system.flows["id"], system.flows["name"], strict=True))
    acts = dict(zip(system.activities["id"], system.activities["name"], strict=True))
    for r in rows:
        assert r["importance"] == pytest.approx(abs(r["sensitivity"]) * r["std"], rel=1e-12)
        assert r["col_name"] == acts.get(r["col_id"], flows.get(r["col_id"]))
        if r["matrix"] == "biosphere":
            assert r["row_name"] == flows[r["row_id"]] and r["unit"] == "kg"
        # elasticity = sensitivity * value / score
        el = r["sensitivity"] * r["value"] / category["score"]
        assert r["elasticity"] == pytest.approx(el, rel=1e-12)


# --- item 7: readable plots, repr, flow names with compartments, no floating noise -----------


@pytest.mark.data
def test_sensitivity_plots_of_uslci_keep_their_plot_area(uslci):
    import warnings

    import lcasolve
    from lcasolve.methods import with_methods
    from lcasolve.sensitivity import local_sensitivities
    from lcasolve.sensitivity.plots import ranked_bar, tornado

    system = with_methods(lcasolve.load(uslci, strict=False))
    local = local_sensitivities(system, {CEMENT: 1.0})
    for draw in (lambda: tornado(local, 10), lambda: ranked_bar(local, "elasticity", 15)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # constrained_layout's "axes sizes collapsed" too
            ax = draw()
            fig = ax.figure
            fig.canvas.draw()
        width, height = fig.get_size_inches()
        box = ax.get_position()
        # the bars keep at least 4 in and more than half of the figure's width
        assert box.width * width >= 4.0 and box.width > 0.5 and box.height > 0.6
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert all(len(line) <= 40 for t in labels for line in t.split("\n"))
        assert all(t.count("\n") <= 1 for t in labels)
        assert any("…" in t for t in labels)  # the long USLCI names are cut, not squeezed


def test_lca_result_repr_is_a_short_summary(shared_data):
    import lcasolve

    fx = shared_data / "bw2calc-fixtures"
    system = lcasolve.load(fx / "bw2io_example_db.zip", fx / "ipcc_simple.zip")
    result = lcasolve.LCA(system).calculate({1: 1.0})
    text = repr(result)
    lines = text.splitlines()
    assert lines[0] == "LCAResult: 1 (Driving an electric car) = 1"
    (category,) = system.categories["name"]
    assert lines[1].startswith(f"  {category}: 0.182482")  # test_calc_bw2io_example_db
    assert "relative residual" in lines[-1] and len(lines) == 3
    assert "array" not in text and "[" not in text
    assert "Driving an electric car" in result._repr_html_()


def test_flow_contributions_name_the_compartment():
    import pandas as pd

    import lcasolve
    from lcasolve.model import build_system

    flows = pd.DataFrame(
        {
            "id": ["co2_air", "co2_urban", "ch4"],
            "name": ["Carbon dioxide, fossil", "Carbon dioxide, fossil", "Methane"],
            "compartment": ["air/rural", "air/urban", ""],
            "unit": "kg",
        }
    )
    system = build_system(
        [("p", "p", 1.0)],
        [("co2_air", "p", 2.0), ("co2_urban", "p", 1.0), ("ch4", "p", 0.1)],
        {"GWP": {"co2_air": 1.0, "co2_urban": 1.0, "ch4": 30.0}},
        flows=flows,
    )
    table = lcasolve.LCA(system).calculate({"p": 1.0}).contributions(by="flow", top=None)
    assert table["name"].tolist() == [
        "Methane",  # 3.0, no compartment given
        "Carbon dioxide, fossil (air/rural)",
        "Carbon dioxide, fossil (air/urban)",
    ]
    assert table["score"].tolist() == pytest.approx([3.0, 2.0, 1.0], rel=1e-12)


def test_rounding_noise_of_a_fixed_quantity_is_a_zero_std():
    import numpy as np

    from lcasolve.montecarlo.noise import sample_std
    from lcasolve.pcf.report import MonteCarloSection

    # a footprint no uncertain entry reaches: equal up to a few ulps in every iteration
    fixed = 1374.36 * (1 + np.array([0, 1, -1, 2, 0, -2, 1, 0]) * np.finfo(float).eps)
    assert np.std(fixed, ddof=1) > 0  # what numpy says
    assert float(sample_std(fixed)) == 0.0
    assert MonteCarloSection.from_samples(fixed).std == 0.0
    # a real spread, however small, is kept exactly
    real = np.array([1.0, 1.0 + 1e-9, 1.0 - 1e-9])
    assert float(sample_std(real)) == pytest.approx(np.std(real, ddof=1), rel=1e-12)
    assert float(sample_std(np.array([1.0, 2.0, 3.0]))) == 1.0
    # per column, each against its own mean; a zero mean keeps an exact zero only
    both = np.column_stack([fixed, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]])
    std = sample_std(both, axis=0)
    assert std[0] == 0.0 and std[1] == pytest.approx(np.std(both[:, 1], ddof=1))
