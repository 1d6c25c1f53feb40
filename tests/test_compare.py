"""``lcasolve compare`` and :func:`lcasolve.compare` (issue 16, item 10).

Deterministic differences are checked against separate ``calc`` runs; the paired Monte Carlo
probabilities against closed forms on a hand-built system whose products' scores are single
normal or lognormal emissions (or a shared one, whose difference then does not vary).
"""

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import lcasolve
from lcasolve.errors import InputError

CEMENT_EXAMPLE = Path(lcasolve.__file__).parent / "examples" / "cement"
USLCI_CEMENT = "62993671-574c-3fc5-b66a-6be3bb21ad3d"  # Portland cement, at plant
USLCI_REBAR = "91150a40-c29d-4eff-891b-0e3fd56df1a4"  # Steel reinforcement bar, blast furnace


def cli(*argv):
    """Run the console script; returns (exit code, stdout, stderr)."""
    exe = shutil.which("lcasolve")
    assert exe, "the lcasolve console script is not installed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [exe, *map(str, argv)], capture_output=True, text=True, check=False, env=env
    )
    return proc.returncode, proc.stdout, proc.stderr


def strict_json(text):
    """Parse JSON refusing NaN and infinities."""

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _normal_cdf(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


#: activity -> (kg CO2 emitted, distribution columns) ; A and B share the uncertain X
EMISSIONS = {
    "X": (1.0, "normal,,0.3"),
    "B": (0.5, "none,,"),
    "N1": (1.0, "normal,,0.2"),
    "N2": (1.1, "normal,,0.3"),
    "L1": (1.0, "lognormal,1.5,"),
    "L2": (1.2, "lognormal,1.3,"),
    "S": (1.0, "lognormal,3,"),
    "T": (1.2, "none,,"),
    "E": (2.0, "none,,"),
    "F": (3.0, "none,,"),
}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A tables model: each product's score is its own emission (B adds 0.5 to a shared X)."""
    root = tmp_path_factory.mktemp("compare") / "toy"
    root.mkdir()
    ids = ["X", "A", "B", "N1", "N2", "L1", "L2", "S", "T", "E", "F", "Z"]
    (root / "activities.csv").write_text(
        "id,name,unit\n" + "".join(f"{i},product {i},kg\n" for i in ids)
    )
    rows = ["activity,kind,provider,flow,amount,distribution,gsd,sd"]
    rows += ["A,technosphere,X,,1,none,,", "B,technosphere,X,,1,none,,"]
    rows += [f"{a},biosphere,,co2,{v},{d}" for a, (v, d) in EMISSIONS.items()]
    (root / "exchanges.csv").write_text("\n".join(rows) + "\n")
    (root / "flows.csv").write_text("id,name,compartment,unit\nco2,CO2,air,kg\n")
    (root / "characterization.csv").write_text("category,flow,factor,unit\nGWP,co2,1,kg CO2-eq\n")
    return root


def _pair(payload, a, b, category=0):
    block = payload["categories"][category]
    return next(p for p in block["pairs"] if p["a"] == a and p["b"] == b)


def _calc_score(*argv):
    code, out, err = cli("calc", *argv, "--json")
    assert code == 0, err
    return strict_json(out)["scores"]


# --- deterministic: equal to two separate calc runs ---------------------------------------------


def test_deterministic_difference_equals_two_calc_runs_on_the_cement_example():
    code, out, err = cli(
        "compare", CEMENT_EXAMPLE, "--demand", "el_coal=1", "--demand", "el_gas=2", "--json"
    )
    assert code == 0, err
    payload = strict_json(out)
    coal = _calc_score(CEMENT_EXAMPLE, "--demand", "el_coal=1")
    gas = _calc_score(CEMENT_EXAMPLE, "--demand", "el_gas=2")
    assert payload["iterations"] == 0
    for block in payload["categories"]:
        name = block["name"]
        assert block["scores"]["el_coal=1"]["deterministic"] == pytest.approx(coal[name], rel=1e-12)
        assert block["scores"]["el_gas=2"]["deterministic"] == pytest.approx(gas[name], rel=1e-12)
        pair = _pair(payload, "el_coal=1", "el_gas=2", payload["categories"].index(block))
        assert pair["difference"] == pytest.approx(gas[name] - coal[name], rel=1e-12)
        assert pair["ratio"] == pytest.approx(gas[name] / coal[name], rel=1e-12)
        assert "p_a_less" not in pair
    assert payload["demands"]["el_gas=2"][0]["amount"] == 2.0
    assert payload["demands"]["el_gas=2"][0]["name"].startswith("Electricity production")


def test_text_output_deterministic_only_says_how_to_get_the_probability():
    code, out, err = cli("compare", CEMENT_EXAMPLE, "--demand", "el_coal=1", "--demand", "cement=1")
    assert code == 0, err
    assert "deterministic only (--iterations N" in out
    assert "cement=1 − el_coal=1:" in out
    assert "P(" not in out


@pytest.mark.data
@pytest.mark.slow
def test_deterministic_difference_on_uslci_equals_two_calc_runs(shared_data):
    uslci = shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"
    code, out, err = cli(
        "compare", uslci, "--demand", f"{USLCI_CEMENT}=1", "--demand", f"{USLCI_REBAR}=1", "--json"
    )
    assert code == 0, err
    assert "invalid distributions" in err  # a deterministic command warns, does not stop
    payload = strict_json(out)
    cement = _calc_score(uslci, "--demand", f"{USLCI_CEMENT}=1")
    rebar = _calc_score(uslci, "--demand", f"{USLCI_REBAR}=1")
    name = payload["categories"][0]["name"]
    pair = _pair(payload, f"{USLCI_CEMENT}=1", f"{USLCI_REBAR}=1")
    assert cement[name] > 0 and rebar[name] > 0
    assert pair["difference"] == pytest.approx(rebar[name] - cement[name], rel=1e-10)
    assert payload["demands"][f"{USLCI_CEMENT}=1"][0]["name"] == "Portland cement, at plant"


def test_zero_reference_score_gives_a_null_ratio(toy):
    code, out, err = cli("compare", toy, "--demand", "Z=1", "--demand", "E=1", "--json")
    assert code == 0, err
    pair = _pair(strict_json(out), "Z=1", "E=1")
    assert pair["difference"] == pytest.approx(2.0) and pair["ratio"] is None


# --- paired Monte Carlo against closed forms ----------------------------------------------------


@pytest.fixture(scope="module")
def paired(toy):
    """One paired run over every alternative of the toy model, every pair compared."""
    names = ["A", "B", "N1", "N2", "L1", "L2", "S", "T", "E", "F"]
    demands = [arg for n in names for arg in ("--demand", f"{n}=1")]
    code, out, err = cli(
        "compare", toy, *demands, "--iterations", "20000", "--seed", "7", "--pairs", "all",
        "--no-progress", "--json",
    )  # fmt: skip
    assert code == 0, err
    return strict_json(out)


#: 4.5 binomial standard errors at p = 1/2 over 20000 iterations
P_TOL = 4.5 * math.sqrt(0.25 / 20000)


def test_shared_uncertain_input_gives_a_deterministic_difference(paired):
    pair = _pair(paired, "A=1", "B=1")
    assert pair["p_a_less"] == 1.0
    assert pair["mean_difference"] == pytest.approx(0.5, rel=1e-8)
    assert pair["2.5%"] == pytest.approx(0.5, rel=1e-8)
    assert pair["97.5%"] == pytest.approx(0.5, rel=1e-8)
    assert any("the same in every draw" in n for n in pair["notes"])
    # the scores themselves vary (X is uncertain): normal(1, 0.3)
    assert paired["categories"][0]["scores"]["A=1"]["std"] == pytest.approx(0.3, rel=0.05)


def test_independent_normal_inputs_match_the_closed_form(paired):
    pair = _pair(paired, "N1=1", "N2=1")
    expected = _normal_cdf((1.1 - 1.0) / math.hypot(0.2, 0.3))
    assert pair["p_a_less"] == pytest.approx(expected, abs=P_TOL)
    assert pair["mean_difference"] == pytest.approx(0.1, abs=4.5 * math.hypot(0.2, 0.3) / 141)
    assert pair["notes"] == []


def test_independent_lognormal_inputs_match_the_closed_form(paired):
    pair = _pair(paired, "L1=1", "L2=1")
    expected = _normal_cdf(math.log(1.2) / math.hypot(math.log(1.5), math.log(1.3)))
    assert pair["p_a_less"] == pytest.approx(expected, abs=P_TOL)


def test_skewed_mean_contradicting_the_deterministic_sign_is_flagged(paired):
    pair = _pair(paired, "S=1", "T=1")
    sigma = math.log(3.0)
    assert pair["difference"] == pytest.approx(0.2)  # medians: 1.2 - 1
    mean_s = math.exp(sigma**2 / 2)  # 1.83: the lognormal mean is above its median
    sd_s = math.sqrt((math.exp(sigma**2) - 1) * math.exp(sigma**2))
    assert pair["mean_difference"] == pytest.approx(1.2 - mean_s, abs=4.5 * sd_s / 141)
    assert pair["p_a_less"] == pytest.approx(_normal_cdf(math.log(1.2) / sigma), abs=P_TOL)
    assert any("differ in sign" in n for n in pair["notes"])
    assert any("differ in sign" in n for n in paired["notes"])


def test_no_uncertain_entry_makes_the_probability_trivial(paired):
    pair = _pair(paired, "E=1", "F=1")
    assert pair["p_a_less"] == 1.0
    assert any("no uncertain entry reaches" in n for n in pair["notes"])
    scores = paired["categories"][0]["scores"]
    assert scores["E=1"]["uncertain_entries"] == 0
    assert scores["A=1"]["uncertain_entries"] == 1  # the emission of X
    assert scores["B=1"]["uncertain_entries"] == 1


def test_text_output_shows_probability_and_notes(toy):
    code, out, err = cli(
        "compare", toy, "--demand", "E=1", "--demand", "F=1", "--demand", "S=1",
        "--iterations", "200", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    assert "paired Monte Carlo: 200 iterations" in out
    assert "P(E=1 < F=1) = 1.0000" in out
    assert "note: no uncertain entry reaches E=1 or F=1" in out
    assert "S=1 − E=1:" in out and "F=1 − S=1" not in out  # pairs with the first only


# --- usage errors and the library ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--demand", "E=1"], "at least two --demand"),
        ([], "at least two --demand"),
        (["--demand", "E=1", "--demand", "E=1"], "given twice"),
        (["--demand", "E=1", "--demand", "F=abc"], "not a number"),
        (["--demand", "E=1", "--demand", "F=1", "--iterations", "-1"], "must be >= 0"),
        (["--demand", "E=1", "--demand", "F=1", "--pairs", "some"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(toy, argv, message):
    code, out, err = cli("compare", toy, *argv)
    assert code == 2, (out, err)
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("lcasolve compare: error: ")


def test_unknown_product_is_bad_data(toy):
    code, _, err = cli("compare", toy, "--demand", "E=1", "--demand", "nothing=1")
    assert code == 1 and "'nothing'" in err and "Traceback" not in err


def test_library_compare_takes_a_system_or_an_lca(toy):
    system = lcasolve.load(toy)
    by_system = lcasolve.compare(system, {"e": {"E": 1.0}, "f": {"F": 2.0, "E": 1.0}})
    by_lca = lcasolve.compare(lcasolve.LCA(system), [{"E": 1.0}, {"F": 2.0, "E": 1.0}])
    frame = by_system.to_frame()
    assert frame.loc[("GWP", "e", "f"), "difference"] == pytest.approx(6.0)
    assert by_lca.names == ["1 x E", "2 x F + 1 x E"]
    assert by_lca.deterministic.tolist() == by_system.deterministic.tolist()
    assert by_system.iterations == 0 and by_system.notes == []
    with pytest.raises(InputError, match="at least two"):
        lcasolve.compare(system, {"e": {"E": 1.0}})
    with pytest.raises(InputError, match="pairs"):
        lcasolve.compare(system, [{"E": 1.0}, {"F": 1.0}], pairs="some")


# --- non-finite samples ---------------------------------------------------------------------------


def _hand_made(a, b):
    """A comparison of 'a' and 'b' over hand-made paired scores (one category)."""
    import numpy as np

    from lcasolve.comparison import ComparisonResult
    from lcasolve.montecarlo import MonteCarloResult

    scores = np.stack([np.asarray(a, float), np.asarray(b, float)], axis=1)[:, :, None]
    mc = MonteCarloResult(scores, ["a", "b"], ["GWP"], ["kg"], np.array([[1.0, 2.0]]))
    return ComparisonResult(
        names=["a", "b"],
        demands=[{"a": 1.0}, {"b": 1.0}],
        categories=["GWP"],
        units=["kg"],
        deterministic=np.array([[1.0], [2.0]]),
        pairs=[(0, 1)],
        uncertain=np.array([[1], [1]]),
        monte_carlo=mc,
    )


def test_non_finite_pairs_are_left_out_of_the_probability_and_disclosed():
    from lcasolve.cli.compare import _text

    nan, inf = float("nan"), float("inf")
    # finite pairs: (1, 2) a < b, (2, 1) not, (1, 3) a < b -> 2 / 3; three pairs left out
    result = _hand_made([1, 2, nan, 4, inf, 1], [2, 1, 3, nan, 5, 3])
    row = result.to_frame().iloc[0]
    assert row["p_a_less"] == pytest.approx(2 / 3, rel=1e-15)  # not 2 / 6
    assert row["excluded_pairs"] == 3
    assert row["mean_difference"] == pytest.approx((1 - 1 + 2) / 3, rel=1e-15)
    note = "3 of 6 paired iterations have a non-finite score of a or b: left out of P(a < b)"
    assert any(n.startswith(note) for n in row["notes"])
    assert any(note in n for n in result.notes)
    (pair,) = result.to_dict()["categories"][0]["pairs"]
    assert pair["excluded_pairs"] == 3 and pair["p_a_less"] == pytest.approx(2 / 3)
    text = _text(result, 0, 0.0)
    assert "P(a < b) = 0.6667" in text and f"note: {note}" in text
    comparison = result.monte_carlo.compare("a", "b")
    assert (comparison.p_less, comparison.excluded) == (pytest.approx(2 / 3), 3)
    assert "3 non-finite left out" in repr(comparison)
    # all finite: nothing left out, no note
    clean = _hand_made([1, 2, 1], [2, 1, 3]).to_frame().iloc[0]
    assert clean["excluded_pairs"] == 0 and clean["p_a_less"] == pytest.approx(2 / 3)
    assert not any("non-finite" in n for n in clean["notes"])


def test_no_finite_pair_is_a_specific_error():
    from lcasolve.errors import NonFiniteValueError

    nan, inf = float("nan"), float("inf")
    result = _hand_made([nan, 1, -inf], [2, inf, 3])
    message = r"P\(a < b\) in 'GWP': none of the 3 paired iterations has finite scores of both"
    with pytest.raises(NonFiniteValueError, match=message):
        result.to_frame()
    with pytest.raises(NonFiniteValueError, match=message):
        result.monte_carlo.compare("a", "b")
