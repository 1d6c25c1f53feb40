"""Kill a real Monte Carlo subprocess, resume the run, compare with an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

BUILD = textwrap.dedent(
    """
    import numpy as np, pandas as pd
    from lcasolve.model import System
    from lcasolve.model.entries import UNCERTAINTY_DTYPE, Entries

    def build(n=300, seed=1):
        rng = np.random.default_rng(seed)
        rows = np.concatenate([rng.choice(np.delete(np.arange(n), j), 4, replace=False)
                               for j in range(n)])
        cols = np.repeat(np.arange(n), 4)
        amount = rng.uniform(0.01, 0.2, rows.size)
        unc = np.zeros(n + rows.size, dtype=UNCERTAINTY_DTYPE)
        unc[:] = (0, 1.0, np.nan, np.nan, np.nan, np.nan, False)
        unc["uncertainty_type"][n:] = 2
        unc["loc"][n:] = np.log(amount)
        unc["scale"][n:] = 0.3
        flip = np.r_[np.zeros(n, bool), np.ones(rows.size, bool)]
        tech = Entries.create((n, n), np.r_[np.arange(n), rows], np.r_[np.arange(n), cols],
                              np.r_[np.ones(n), -amount], uncertainty=unc, flip=flip)
        b = rng.uniform(0.5, 2.0, n)
        bu = np.zeros(n, dtype=UNCERTAINTY_DTYPE)
        bu[:] = (2, 0.0, 0.2, np.nan, np.nan, np.nan, False)
        bu["loc"] = np.log(b)
        bio = Entries.create((1, n), np.zeros(n, int), np.arange(n), b, uncertainty=bu)
        char = Entries.create((1, 1), [0], [0], [1.0])
        acts = pd.DataFrame({"id": np.arange(n), "name": "a", "product_id": np.arange(n),
                             "product": "p", "unit": "kg", "location": "GLO"})
        flows = pd.DataFrame({"id": [0], "name": ["CO2"], "compartment": ["air"],
                              "unit": ["kg"]})
        cats = pd.DataFrame({"id": ["GWP"], "name": ["GWP"], "unit": ["kg"]})
        return System(tech, bio, char, acts, flows, cats)
    """
)

RUN = BUILD + textwrap.dedent(
    """
    import sys
    from lcasolve.montecarlo import MonteCarlo
    mc = MonteCarlo(build(), {0: 1.0, 5: 2.0}, method="exact", batch_size=10)
    mc.run(int(sys.argv[2]), seed=11, out=sys.argv[1], resume=True, progress=False,
           record={"technosphere": [400, 401]})
    """
)

ITERATIONS = 3000


def _namespace() -> dict:
    ns: dict = {}
    exec(BUILD, ns)  # the same system as the subprocess builds
    return ns


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_run_resumes_to_identical_arrays(tmp_path):
    from lcasolve.montecarlo import MonteCarlo

    out = tmp_path / "run.h5"
    partial = tmp_path / "run.h5.partial"
    script = tmp_path / "run_mc.py"
    script.write_text(RUN)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out), str(ITERATIONS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if partial.exists():
                with h5py.File(partial, "r") as h5:  # readable at every point
                    done = h5["done"][...]
                    scores = h5["scores"][...]
                assert np.isfinite(scores[np.repeat(done, 10)[:ITERATIONS]]).all()
                seen.append(int(done.sum()))
                if 0 < done.sum() < done.size // 2:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    with h5py.File(partial, "r") as h5:
        done_before = int(h5["done"][...].sum())
        assert not h5.attrs["complete"]
        assert 0 < done_before < h5["done"].shape[0]

    system = _namespace()["build"]()
    mc = MonteCarlo(system, {0: 1.0, 5: 2.0}, method="exact", batch_size=10)
    record = {"technosphere": [400, 401]}
    with pytest.raises(Exception, match="exists"):
        mc.run(ITERATIONS, seed=11, out=out, record=record)  # neither resume nor overwrite
    resumed = mc.run(ITERATIONS, seed=11, out=out, resume=True, record=record)
    assert out.exists() and not partial.exists()
    full = mc.run(ITERATIONS, seed=11, out=tmp_path / "full.h5", record=record)
    assert np.array_equal(resumed.scores, full.scores)
    assert np.array_equal(resumed.inputs["technosphere"], full.inputs["technosphere"])
    with h5py.File(out, "r") as a, h5py.File(tmp_path / "full.h5", "r") as b:
        assert a.attrs["complete"] and b.attrs["complete"]
        for name in ("scores", "done", "deterministic", "inputs/technosphere"):
            assert np.array_equal(a[name][...], b[name][...])
        assert a.attrs["database_hash"] == b.attrs["database_hash"]
    # a finished file resumes to itself; other parameters are refused
    again = mc.run(ITERATIONS, seed=11, out=out, resume=True, record=record)
    assert np.array_equal(again.scores, full.scores)
    with pytest.raises(Exception, match="seed"):
        mc.run(ITERATIONS, seed=12, out=out, resume=True, record=record)
