"""Issue 17 item 2: Monte Carlo samples without meaning are counted, flagged, refusable.

The independent count comes from the draws themselves, read back with ``record=`` (the
matrix values as they entered ``A``): a production amount ``≤ 0``, or a loop gain ``≥ 1``.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from lcasolve.errors import InvalidSampleError, InvalidSampleWarning
from lcasolve.examples import example_path
from lcasolve.model import System
from lcasolve.model.entries import UNCERTAINTY_DTYPE, Entries
from lcasolve.montecarlo import MonteCarlo
from tests.test_montecarlo import tables
from tests.test_reliability_numeric import cli

nan = math.nan
FIXED = (0, nan, nan, nan, nan, nan, False)


def system(tech_rows, tech_cols, tech_values, tech_unc, flip):
    """Two activities; each emits one flow (1 and 2 kg), characterized by 1."""
    tech = Entries.create(
        (2, 2),
        np.array(tech_rows),
        np.array(tech_cols),
        np.array(tech_values),
        uncertainty=tech_unc,
        flip=np.array(flip),
    )
    bio = Entries.create((1, 2), np.array([0, 0]), np.array([0, 1]), np.array([1.0, 2.0]))
    char = Entries.create((1, 1), np.array([0]), np.array([0]), np.array([1.0]))
    return System(tech, bio, char, *tables(2, 1, 1))


def wide_production():
    """Activity 0 produces normal(1, 0.8) units (P(≤ 0) ≈ 11 %) and takes 0.5 of activity 1."""
    unc = np.zeros(3, dtype=UNCERTAINTY_DTYPE)
    unc[:] = FIXED
    unc[0] = (3, 1.0, 0.8, nan, nan, nan, False)
    return system([0, 1, 1], [0, 1, 0], [1.0, 1.0, -0.5], unc, [False, False, True])


def loop():
    """0 takes 0.9 of 1; 1 takes uniform(0.5, 1.5) of 0: gain 0.9 b ≥ 1 for b ≥ 1/0.9."""
    unc = np.zeros(4, dtype=UNCERTAINTY_DTYPE)
    unc[:] = FIXED
    unc[3] = (4, 1.0, nan, nan, 0.5, 1.5, False)
    return system(
        [0, 1, 1, 0], [0, 1, 0, 1], [1.0, 1.0, -0.9, -1.0], unc, [False, False, True, True]
    )


def test_negative_production_samples_are_counted_and_flagged():
    mc = MonteCarlo(wide_production(), {0: 1.0})
    with pytest.warns(InvalidSampleWarning, match="production amount drawn ≤ 0"):
        res = mc.run(500, seed=1, record={"technosphere": [0]})
    drawn = res.inputs["technosphere"][:, 0]  # the production of activity 0 as it entered A
    assert res.n_invalid == int((drawn <= 0).sum()) > 20
    np.testing.assert_array_equal(res.invalid != 0, drawn <= 0)
    assert res.invalid_counts() == {"nonpositive_production": res.n_invalid, "unproductive": 0}
    # those are exactly the samples whose score came out negative
    np.testing.assert_array_equal(res.scores[:, 0, 0] < 0, drawn < 0)


def waste_treatment(production):
    """Activity 0 sends 0.5 kg of waste to activity 1, a waste treatment (diagonal negative).

    ``production``: the uncertainty record of the treatment's diagonal (-1 in ``A``).
    """
    unc = np.zeros(3, dtype=UNCERTAINTY_DTYPE)
    unc[:] = FIXED
    unc[1] = production
    tech = Entries.create(
        (2, 2), np.array([0, 1, 1]), np.array([0, 1, 0]), np.array([1.0, -1.0, 0.5]),
        uncertainty=unc, flip=np.array([False, False, False]),
    )  # fmt: skip
    bio = Entries.create((1, 2), np.array([0, 0]), np.array([0, 1]), np.array([1.0, 2.0]))
    char = Entries.create((1, 1), np.array([0]), np.array([0]), np.array([1.0]))
    acts, *rest = tables(2, 1, 1)
    acts["waste"] = [False, True]
    return System(tech, bio, char, acts, *rest)


def test_waste_treatment_production_is_flagged_only_when_its_sign_flips():
    # a waste treatment's negative diagonal is its production, not a sample without meaning
    fixed = MonteCarlo(waste_treatment(FIXED), {0: 1.0})
    res = fixed.run(50, seed=1, design={"biosphere": ([0], np.full((50, 1), 1.5))})
    assert res.n_invalid == 0
    # normal(-1, 0.8): P(≥ 0) ≈ 11 %; those draws (as they entered A) and only those are flagged
    wide = MonteCarlo(waste_treatment((3, -1.0, 0.8, nan, nan, nan, False)), {0: 1.0})
    with pytest.warns(InvalidSampleWarning, match="production amount"):
        res = wide.run(400, seed=4, record={"technosphere": [1]})
    drawn = res.inputs["technosphere"][:, 0]
    np.testing.assert_array_equal(res.invalid != 0, drawn >= 0)
    assert 15 < res.n_invalid < 90


def test_refuse_and_drop():
    mc = MonteCarlo(wide_production(), {0: 1.0})
    with pytest.raises(InvalidSampleError, match=r"\d+ of 200 Monte Carlo samples") as info:
        mc.run(200, seed=3, invalid="refuse")
    with pytest.warns(InvalidSampleWarning):
        kept = mc.run(200, seed=3, record={"technosphere": [0]})
    bad = np.flatnonzero(kept.inputs["technosphere"][:, 0] <= 0)
    assert info.value.iterations == bad.tolist()
    with pytest.warns(InvalidSampleWarning, match="left out"):
        dropped = mc.run(200, seed=3, invalid="drop")
    assert dropped.dropped == bad.size and dropped.iterations == 200 - bad.size
    assert dropped.n_invalid == 0
    assert dropped.invalid_counts()["nonpositive_production"] == bad.size
    np.testing.assert_array_equal(dropped.scores, np.delete(kept.scores, bad, axis=0))
    assert (dropped.scores > 0).all()


def test_drop_refuses_when_every_sample_is_flagged():
    mc = MonteCarlo(wide_production(), {0: 1.0})
    # every production drawn ≤ 0 (imposed): no sample left to summarize
    design = {"technosphere": ([0], np.full((5, 1), -0.5))}
    with pytest.raises(InvalidSampleError, match="5 of 5 .* leaves no sample"):
        mc.run(5, seed=1, design=design, invalid="drop")


def test_unproductive_loop_samples_are_flagged():
    mc = MonteCarlo(loop(), {0: 1.0})
    with pytest.warns(InvalidSampleWarning, match="no longer converges"):
        res = mc.run(300, seed=5, record={"technosphere": [3]})
    b = -res.inputs["technosphere"][:, 0]  # entered A negative
    gain = 0.9 * b
    assert res.invalid_counts() == {"nonpositive_production": 0, "unproductive": res.n_invalid}
    np.testing.assert_array_equal(res.invalid != 0, gain >= 1)
    assert 60 < res.n_invalid < 180


def test_flags_survive_the_run_file(tmp_path):
    mc = MonteCarlo(wide_production(), {0: 1.0}, batch_size=7)
    out = tmp_path / "run.h5"
    with pytest.warns(InvalidSampleWarning):
        first = mc.run(100, seed=2, out=out)
    with pytest.warns(InvalidSampleWarning):
        again = mc.run(100, seed=2, out=out, resume=True)  # read back from the finished file
    np.testing.assert_array_equal(first.invalid, again.invalid)
    assert again.n_invalid > 0


def test_valid_run_has_no_flags():
    res = MonteCarlo(loop(), {0: 1.0}).run(
        50, seed=1, design={"technosphere": ([3], np.full((50, 1), -0.5))}
    )
    assert res.n_invalid == 0 and res.invalid is not None and not res.invalid.any()


def self_input_tables(tmp_path):
    """The cement tables; petcoke takes uniform(0.2, 1.4) t (amount 0.6) of its own product."""
    folder = tmp_path / "cement"
    shutil.copytree(example_path("cement"), folder)
    path = folder / "exchanges.csv"
    path.write_text(
        path.read_text() + "petcoke,technosphere,petcoke,,0.6,t,uniform,,,0.2,,1.4,,own use\n"
    )
    return folder


def test_cli_mc_counts_refuses_and_drops(tmp_path):
    folder = self_input_tables(tmp_path)
    args = ("mc", folder, "--demand", "cement=1", "--iterations", "64", "--json", "--no-progress")
    flagged = cli(*args)
    assert flagged.returncode == 0, flagged.stderr
    payload = json.loads(flagged.stdout)
    # production 1 − x with x ~ uniform(0.2, 1.4): about a third of the samples
    assert 8 < payload["n_invalid"] < 40
    assert payload["invalid"]["nonpositive_production"] == payload["n_invalid"]
    assert "warning: " in flagged.stderr and "Traceback" not in flagged.stderr
    refused = cli(*args, "--invalid", "refuse")
    assert refused.returncode == 1
    assert "Monte Carlo samples have no meaning" in refused.stderr
    dropped = cli(*args, "--invalid", "drop")
    assert dropped.returncode == 0, dropped.stderr
    d = json.loads(dropped.stdout)
    assert d["dropped"] == payload["n_invalid"]
    assert d["iterations"] == 64 - payload["n_invalid"]


def test_report_discloses_invalid_samples(tmp_path):
    folder = self_input_tables(tmp_path)
    proc = cli(
        "report", folder, "--demand", "cement=1", "--iterations", "64", "--json", "--no-progress"
    )
    assert proc.returncode == 0, proc.stderr
    sections = json.loads(proc.stdout)
    mc = (
        sections["monte_carlo"]
        if "monte_carlo" in sections
        else sections["sections"]["monte_carlo"]
    )
    assert mc["n_invalid"] > 0 and mc["dropped"] == 0
    assert mc["invalid"]["nonpositive_production"] == mc["n_invalid"]


def test_sample_flags_of_a_two_activity_loop():
    """Each kind of flag on a 2 × 2 loop ``[[p, -a], [-b, 1]]``, one sample per column."""
    import scipy.sparse as sp

    from lcasolve.batch import Pattern
    from lcasolve.montecarlo._validity import NONPOSITIVE_PRODUCTION, UNPRODUCTIVE, sample_flags

    pattern, _ = Pattern.of(sp.csr_matrix(np.array([[1.0, -0.5], [-0.5, 1.0]])))
    # CSR order of the pattern: (0,0), (0,1), (1,0), (1,1); samples: productive (gain 0.25),
    # unproductive (gain 4), production drawn negative, productive again
    p = np.array([1.0, 1.0, -1.0, 1.0])
    a = np.array([0.5, 2.0, 0.5, 0.5])
    b = np.array([0.5, 2.0, 0.5, 0.5])
    values = np.vstack([p, -a, -b, np.ones(4)])
    f = np.array([[1.0], [0.0]])
    x = np.empty((2, 4))
    for k in range(4):
        x[:, k] = np.linalg.solve(pattern.matrix(values[:, k]).toarray(), f[:, 0])
    x[1, 3] = -1e-12 * x[0, 3]  # a rounding-size negative supply is no sign of anything
    diag = np.array([0, 3])
    flags = sample_flags(values, diag, pattern, f, [x], np.array([1.0, 1.0]))
    assert flags.tolist() == [0, UNPRODUCTIVE, NONPOSITIVE_PRODUCTION, 0]
    # a non-finite supply counts as negative, and a productive matrix then is not flagged
    x[0, 0] = np.nan
    assert sample_flags(values, diag, pattern, f, [x], np.array([1.0, 1.0]))[0] == 0
    # a negative demand may give negative supplies: not checked
    assert sample_flags(values, diag, pattern, -f, [x], np.array([1.0, 1.0]))[1] == 0
