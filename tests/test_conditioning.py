"""Issue 17 item 2: an ill-conditioned technosphere is reported with an error bound, refused.

The reference values are independent of the code under test: exact rational arithmetic for the
loop cases, a dense ``|A⁻¹| |A|`` from numpy for the condition.
"""

from __future__ import annotations

import json
import shutil
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

import lcasolve
from lcasolve.errors import IllConditionedError, IllConditionedWarning
from lcasolve.examples import example_path
from lcasolve.solve import factorize
from lcasolve.solve.conditioning import onenorm_estimate, skeel_condition
from tests.test_reliability_numeric import cli


def loop_system(a: float, b: float) -> lcasolve.System:
    """1 needs 1 unit of 2; 2 and 3 feed each other (gain ``a b``); 3 needs 1 unit of 4 (CO2)."""
    tech = [
        (1, 1, 1.0), (2, 2, 1.0), (3, 3, 1.0), (4, 4, 1.0),
        (2, 1, -1.0), (3, 2, -a), (2, 3, -b), (4, 3, -1.0),
    ]  # fmt: skip
    return lcasolve.build_system(tech, [("CO2", 4, 1.0)], {"GWP": {"CO2": 1.0}})


def exact_score(a: float, b: float) -> float:
    """Score of one unit of 1 in exact arithmetic: ``s4 = s3 = a s2``, ``s2 = 1 / (1 − a b)``."""
    gain = Fraction(a) * Fraction(b)
    return float(Fraction(a) / (1 - gain))


def dense_skeel(A) -> float:  # noqa: N803
    """``‖ |A⁻¹| |A| ‖∞`` from a dense inverse."""
    dense = A.toarray()
    return float((np.abs(np.linalg.inv(dense)) @ np.abs(dense)).sum(axis=1).max())


# gain 1 − 3.9e-16: the case of the issue (score tens of percent off, residual at rounding)
A_BAD, B_BAD = 3.0, (1 - 3e-16) / 3.0


def test_near_unit_loop_is_refused_naming_the_loop():
    system = loop_system(A_BAD, B_BAD)
    with pytest.raises(IllConditionedError, match="ill-conditioned") as info:
        lcasolve.LCA(system).calculate({1: 1.0})
    err = info.value
    assert {2, 3} <= set(err.activities)
    assert 4 not in err.activities  # outside the loop
    assert err.condition == pytest.approx(dense_skeel(system.A), rel=1e-6)
    assert err.error_bound > 1e-2


def test_near_unit_loop_allowed_is_really_wrong_and_the_bound_says_so():
    system = loop_system(A_BAD, B_BAD)
    with pytest.warns(IllConditionedWarning, match="activities most involved: 3, 2"):
        result = lcasolve.LCA(system, allow_ill_conditioned=True).calculate({1: 1.0})
    exact = exact_score(A_BAD, B_BAD)
    off = abs(result.score() - exact) / exact
    assert off > 0.05  # the residual check alone lets this through
    assert result.residual < 1e-15
    assert result.error_bound >= off


def test_moderate_loop_warns_and_its_bound_holds():
    # gain 1 − 1e-11: condition ~ 4e11, a bound between the warning level and the limit
    a, b = 0.5, (1 - 1e-11) / 0.5
    system = loop_system(a, b)
    with pytest.warns(IllConditionedWarning, match="may be off by up to"):
        result = lcasolve.LCA(system).calculate({1: 1.0})
    exact = exact_score(a, b)
    assert 1e-6 < result.error_bound <= 1e-2
    assert abs(result.score() - exact) / exact <= result.error_bound


def test_limits_are_options():
    system = loop_system(0.5, (1 - 1e-11) / 0.5)
    with lcasolve.set_options(error_bound_limit=1e-8), pytest.raises(IllConditionedError):
        lcasolve.LCA(system).calculate({1: 1.0})
    with lcasolve.set_options(error_bound_warning=1.0), warnings.catch_warnings():
        warnings.simplefilter("error")
        lcasolve.LCA(system).calculate({1: 1.0})


def test_cement_is_well_conditioned_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = lcasolve.LCA(lcasolve.load(example_path("cement"))).calculate({"cement": 1})
    assert result.condition == pytest.approx(dense_skeel(result.system.A), rel=1e-9)
    assert result.error_bound < 1e-12


@pytest.mark.data
@pytest.mark.slow
def test_uslci_condition_equals_dense_and_bounds_are_small(shared_data):
    system = lcasolve.load(
        shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip",
        ambiguous="cutoff",
        allocation="none",
        strict=False,
    )
    lca = lcasolve.LCA(system)
    # the normwise condition is huge from the mixed units (README: 2-norm 1.26e15); Skeel's is not
    assert np.linalg.cond(system.A.toarray(), 1) > 1e14
    assert lca.factorization.conditioning.condition == pytest.approx(
        dense_skeel(system.A), rel=1e-9
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        many = lca.calculate_many([{pid: 1.0} for pid in system.activities["id"][::25]])
    assert many.error_bound < 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_estimator_is_a_tight_lower_bound_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    n = 60
    dense = np.eye(n) * rng.uniform(0.5, 5, n) - sp.random(n, n, 0.08, random_state=seed).toarray()
    A = sp.csc_matrix(dense)  # noqa: N806
    fact = factorize(A)
    est = skeel_condition(A, lambda v, t: fact._solve(np.ascontiguousarray(v), t)).condition
    exact = dense_skeel(A)
    assert exact / 3 <= est <= exact * (1 + 1e-12)
    # the 1-norm estimator on an explicit matrix
    M = rng.normal(size=(n, n))  # noqa: N806
    est1, col, y = onenorm_estimate(lambda v: M @ v, lambda v: M.T @ v, n)
    assert np.abs(M).sum(axis=0).max() / 3 <= est1 <= np.abs(M).sum(axis=0).max() * (1 + 1e-12)


def test_calc_json_reports_condition_and_bound():
    proc = cli("calc", example_path("cement"), "--demand", "cement=1", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["condition"] == pytest.approx(427.03, rel=1e-3)  # dense value, cement
    assert 0 < payload["error_bound"] < 1e-12
    assert "warning" not in proc.stderr


def loop_tables(tmp_path, amount_text):
    """The cement tables with a loop: petcoke takes 0.5 kWh of wind power per t, wind power
    takes ``amount_text`` t of petcoke per kWh (neither has other technosphere inputs)."""
    folder = tmp_path / "cement"
    shutil.copytree(example_path("cement"), folder)
    path = folder / "exchanges.csv"
    path.write_text(
        path.read_text()
        + "petcoke,technosphere,el_wind,,0.5,kWh,,,,,,,,loop\n"
        + f"el_wind,technosphere,petcoke,,{amount_text},t,,,,,,,,loop\n"
    )
    return folder


def problems(stderr):
    """The stderr lines other than the note on the folder read."""
    return [line for line in stderr.strip().splitlines() if ": note: read " not in line]


def test_calc_refuses_ill_conditioned_tables_in_one_line(tmp_path):
    # 0.5 × 1.9999999999999993 = 1 − 3.3e-16 in floating point
    folder = loop_tables(tmp_path, "1.9999999999999993")
    proc = cli("calc", folder, "--demand", "cement=1", "--json")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and len(problems(proc.stderr)) == 1
    assert "ill-conditioned" in proc.stderr
    assert "'petcoke'" in proc.stderr and "'el_wind'" in proc.stderr
    assert proc.stdout == ""
    allowed = cli("calc", folder, "--demand", "cement=1", "--json", "--allow-ill-conditioned")
    assert allowed.returncode == 0, allowed.stderr
    (line,) = problems(allowed.stderr)
    assert line.startswith("lcasolve calc: warning: the technosphere is ill-cond")
    assert json.loads(allowed.stdout)["error_bound"] > 1e-2


@pytest.mark.parametrize("command", ["tree", "paths", "sensitivity", "compare"])
def test_commands_take_the_option_their_refusal_names(tmp_path, command):
    """The refusal says --allow-ill-conditioned: the commands accept it and then compute."""
    folder = loop_tables(tmp_path, "1.9999999999999993")
    demand = ["--demand", "cement=1"] + (["--demand", "el_wind=1"] if command == "compare" else [])
    refused = cli(command, folder, *demand, "--json")
    assert refused.returncode == 1 and "--allow-ill-conditioned" in refused.stderr
    allowed = cli(command, folder, *demand, "--json", "--allow-ill-conditioned")
    assert allowed.returncode == 0, allowed.stderr
    lines = problems(allowed.stderr)  # the supply's solve, and the tree's adjoint one
    assert lines and all(
        x.startswith(f"lcasolve {command}: warning: the technosphere is ill-cond") for x in lines
    )
    assert json.loads(allowed.stdout)


def test_report_json_metadata_states_the_bound(tmp_path):
    out = tmp_path / "r.json"
    proc = cli("report", example_path("cement"), "--demand", "cement=1", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    meta = payload["sections"]["metadata"] if "sections" in payload else payload["metadata"]
    assert 0 < meta["error_bound"] < 1e-12
    assert meta["condition"] == pytest.approx(427.03, rel=1e-3)
    del out


def test_activity_scores_of_a_near_unit_loop_are_refused():
    """The adjoint λ of the issue's loop is as far off as the supply (exact: a / (1 − ab))."""
    system = loop_system(A_BAD, B_BAD)
    with pytest.raises(IllConditionedError, match="ill-conditioned") as info:
        lcasolve.LCA(system).activity_scores()
    assert {2, 3} <= set(info.value.activities)
    assert info.value.condition > 1e15  # a dense inverse is itself inaccurate here
    with pytest.warns(IllConditionedWarning):
        scores = lcasolve.LCA(system, allow_ill_conditioned=True).activity_scores()
    exact = exact_score(A_BAD, B_BAD)
    # the bound covers the real error of product 1's score
    assert abs(scores.lam[0, 0] - exact) / abs(scores.lam).max() <= scores.error_bound


def test_activity_scores_of_a_well_conditioned_system_carry_their_bound():
    system = loop_system(0.5, 0.5)
    scores = lcasolve.LCA(system).activity_scores()
    assert scores.condition == pytest.approx(dense_skeel(system.A.T), rel=1e-9)
    assert scores.error_bound < 1e-13
    assert scores.lam[0, 0] == pytest.approx(exact_score(0.5, 0.5), rel=1e-14)


def chain_system(steps: int, factor: float) -> lcasolve.System:
    """1 needs ``factor`` units of 2, 2 needs ``factor`` of 3, …; the last emits 1 CO2 per unit."""
    n = steps + 1
    tech = [(i, i, 1.0) for i in range(1, n + 1)]
    tech += [(i + 1, i, -factor) for i in range(1, n)]
    return lcasolve.build_system(tech, [("CO2", n, 1.0)], {"GWP": {"CO2": 1.0}})


@pytest.mark.parametrize(("steps", "factor"), [(7, 1e3), (17, 10.0), (10, 1e12), (3, 1e12)])
def test_chains_of_large_factors_are_exact_and_not_warned_about(steps, factor):
    """Skeel's condition of such a chain is huge (1e18 for 7 × 1e3), the answer exact."""
    system = chain_system(steps, factor)
    assert dense_skeel(system.A) > 1e8  # cond · ρ alone would warn or refuse
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = lcasolve.LCA(system).calculate({1: 1.0})
    exact = float(Fraction(factor) ** steps)  # every step multiplies by the factor exactly
    assert abs(result.score() - exact) / exact <= max(result.error_bound, 1e-15)
    assert result.error_bound < 1e-12


def test_componentwise_bound_holds_on_random_chains_with_loops():
    """The sharper bound still covers the real error (exact rational solve of a small system)."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = 6
        A = np.eye(n)  # noqa: N806
        for i in range(1, n):
            A[i, i - 1] = -(10.0 ** rng.uniform(0, 4))  # a chain of big factors
        A[0, n - 1] = -rng.uniform(0.5, 1.0) / abs(np.prod(np.diag(A, -1)))  # a loop, gain < 1
        exact = np.array(
            [float(v) for v in _rational_solve(A, [Fraction(1)] + [Fraction(0)] * (n - 1))]
        )
        fact = factorize(sp.csc_matrix(A))
        x = fact.solve(np.eye(n)[:, 0]).x
        bound = fact.error_bound(x, np.eye(n)[:, 0])
        with lcasolve.set_options(error_bound_warning=0.0):  # force the sharper bound
            sharp = fact.error_bound(x, np.eye(n)[:, 0])
        err = np.abs(x - exact).max() / np.abs(x).max()
        assert err <= sharp * (1 + 1e-9) + 1e-300
        assert sharp <= bound * (1 + 1e-12)


def _rational_solve(A, b):  # noqa: N803
    """Gaussian elimination in exact rationals (the entries of ``A`` as the floats they are)."""
    n = len(b)
    M = [[Fraction(float(A[i, j])) for j in range(n)] + [b[i]] for i in range(n)]  # noqa: N806
    for c in range(n):
        p = next(r for r in range(c, n) if M[r][c] != 0)
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * m for a, m in zip(M[r], M[c], strict=True)]
    return [M[i][n] / M[i][i] for i in range(n)]


# --- Monte Carlo: its deterministic part passes the same check, once ----------------------------


def test_monte_carlo_refuses_the_near_unit_loop_as_lca_does():
    from lcasolve.montecarlo import MonteCarlo

    system = loop_system(A_BAD, B_BAD)
    with pytest.raises(IllConditionedError) as lca_err:
        lcasolve.LCA(system).calculate({1: 1.0})
    with pytest.raises(IllConditionedError, match="ill-conditioned") as info:
        MonteCarlo(system, {1: 1.0}).run(4, seed=1)
    err = info.value
    assert str(err) == str(lca_err.value)
    assert err.activities == lca_err.value.activities and {2, 3} <= set(err.activities)
    assert err.condition == pytest.approx(dense_skeel(system.A), rel=1e-6)
    assert err.error_bound > 1e-2
    assert "MonteCarlo" in str(err)  # the option it names exists there


def test_monte_carlo_allowed_discloses_a_bound_that_covers_its_real_error():
    from lcasolve.montecarlo import MonteCarlo

    system = loop_system(A_BAD, B_BAD)
    with pytest.warns(IllConditionedWarning, match="activities most involved: 3, 2") as caught:
        res = MonteCarlo(system, {1: 1.0}, allow_ill_conditioned=True).run(4, seed=1)
    assert caught[0].filename == __file__  # points at the caller of run()
    exact = exact_score(A_BAD, B_BAD)
    off = abs(res.deterministic[0, 0] - exact) / exact
    assert off > 0.05  # really wrong, and the residual check alone lets it through
    assert res.condition == pytest.approx(dense_skeel(system.A), rel=1e-6)
    assert res.error_bound >= off
    assert f"condition {res.condition:.3g}" in res._repr_html_()


def test_monte_carlo_warns_once_per_analysis_and_its_bound_holds():
    from lcasolve.montecarlo import MonteCarlo

    a, b = 0.5, (1 - 1e-11) / 0.5  # condition ~ 8e11, a bound between warning and limit
    mc = MonteCarlo(loop_system(a, b), {1: 1.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = mc.run(4, seed=1)
        second = mc.run(3, seed=2)
        mc.scores(np.arange(3))
    assert [w.category for w in caught] == [IllConditionedWarning]
    assert "may be off by up to" in str(caught[0].message)
    exact = exact_score(a, b)
    assert 1e-6 < first.error_bound <= 1e-2
    assert abs(first.deterministic[0, 0] - exact) / exact <= first.error_bound
    assert second.condition == first.condition == pytest.approx(dense_skeel(mc.system.A), rel=1e-6)
    with lcasolve.set_options(error_bound_limit=1e-8), pytest.raises(IllConditionedError):
        MonteCarlo(loop_system(a, b), {1: 1.0}).run(2)


def test_monte_carlo_of_a_well_conditioned_loop_is_silent_and_states_its_condition():
    from lcasolve.montecarlo import MonteCarlo

    system = loop_system(0.5, 0.5)
    res = MonteCarlo(system, {1: 1.0}).run(4, seed=1)  # warnings are errors here
    assert res.condition == pytest.approx(dense_skeel(system.A), rel=1e-9)
    assert 0 < res.error_bound < 1e-13
    assert res.deterministic[0, 0] == pytest.approx(exact_score(0.5, 0.5), rel=1e-14)


def test_mc_command_refuses_ill_conditioned_tables_and_takes_the_option(tmp_path):
    folder = loop_tables(tmp_path, "1.9999999999999993")
    argv = ("mc", folder, "--demand", "cement=1", "--iterations", 8, "--no-progress", "--json")
    refused = cli(*argv)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    (line,) = problems(refused.stderr)
    assert "ill-conditioned" in line and "--allow-ill-conditioned" in line
    assert "'petcoke'" in line and "'el_wind'" in line
    allowed = cli(*argv, "--allow-ill-conditioned")
    assert allowed.returncode == 0, allowed.stderr
    warned = [x for x in problems(allowed.stderr) if "ill-cond" in x]
    assert warned and all(x.startswith("lcasolve mc: warning: the technosphere") for x in warned)
    payload = json.loads(allowed.stdout)
    assert payload["error_bound"] > 1e-2 and payload["condition"] > 1e15


def test_mc_json_states_the_condition_of_cement():
    proc = cli(
        "mc", example_path("cement"), "--demand", "cement=1", "--iterations", 8,
        "--no-progress", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["condition"] == pytest.approx(427.03, rel=1e-3)  # dense value, cement
    assert 0 < payload["error_bound"] < 1e-12
