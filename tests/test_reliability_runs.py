"""Issue 17 items 3 and 6: one writer per run file; --overwrite keeps the finished run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from lcasolve.examples import example_path


def lcasolve_cmd(*argv):
    exe = shutil.which("lcasolve") or sys.exit("the lcasolve console script is not installed")
    return [exe, *map(str, argv)]


def mc_args(out, seed, iterations=400):
    return lcasolve_cmd(
        "mc", example_path("cement"), "--demand", "cement=1", "--iterations", iterations,
        "--seed", seed, "--out", out, "--batch-size", 4, "--no-progress", "--json", "--exact",
    )  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl lock")
def test_second_writer_of_one_run_file_is_refused(tmp_path):
    out = tmp_path / "run.h5"
    lock = tmp_path / "run.h5.lock"
    log = tmp_path / "first.err"
    with log.open("w") as err:
        first = subprocess.Popen(
            mc_args(out, 1, iterations=20000), stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.monotonic() + 120
        while not lock.exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert first.poll() is None and lock.exists(), log.read_text()
        second = subprocess.run(
            [*mc_args(out, 2, iterations=20000)[:-3], "--resume", "--exact", "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert second.returncode == 1, second.stderr
        assert "Traceback" not in second.stderr
        lines = [ln for ln in second.stderr.strip().splitlines() if ": note: " not in ln]
        assert len(lines) == 1, second.stderr
        assert "being written by pid" in second.stderr and str(first.pid) in second.stderr
    finally:
        first.kill()
        first.wait(timeout=60)
    # the killed holder's lock file is stale: the OS released the lock, a new run takes it over
    assert lock.exists()
    done = subprocess.run(
        [*mc_args(out, 1, iterations=40)[:-3], "--overwrite", "--exact", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not lock.exists()
    with h5py.File(out, "r") as h5:
        assert h5.attrs["complete"] and int(h5.attrs["seed"]) == 1
        assert h5["scores"].shape[0] == 40


def test_overwrite_keeps_the_finished_run_until_the_new_one_is_complete(tmp_path):
    out = tmp_path / "run.h5"
    proc = subprocess.run(mc_args(out, 1, iterations=40), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out, "r") as h5:
        old = h5["scores"][...]
    # a new run that fails (bad --batch-size reaches the engine) leaves the old run intact
    bad = [*mc_args(out, 2, iterations=40)[:-3], "--overwrite", "--json"]
    bad[bad.index("--batch-size") + 1] = "0"
    proc = subprocess.run(bad, capture_output=True, text=True)
    assert proc.returncode != 0
    with h5py.File(out, "r") as h5:
        assert np.array_equal(h5["scores"][...], old) and h5.attrs["complete"]
    proc = subprocess.run(
        [*mc_args(out, 2, iterations=40)[:-3], "--overwrite", "--exact", "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["iterations"] == 40
    with h5py.File(out, "r") as h5:
        assert int(h5.attrs["seed"]) == 2 and not np.array_equal(h5["scores"][...], old)
    assert not (tmp_path / "run.h5.partial").exists()
    assert sorted(os.listdir(tmp_path)) == ["run.h5"]


def test_outputs_honour_umask_and_stale_temps_are_removed(tmp_path):
    out = tmp_path / "cement.h5"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".cement.h5.{dead.pid}.abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".cement.h5.{os.getpid()}.def456.tmp"
    live.write_bytes(b"y")
    exe = shutil.which("lcasolve")
    script = f"umask 027 && '{exe}' convert '{example_path('cement')}' '{out}'"
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (out.stat().st_mode & 0o777) == 0o640
    assert not stale.exists() and live.exists()
    proc = subprocess.run(
        ["sh", "-c", f"umask 022 && '{exe}' report '{example_path('cement')}' --demand cement=1 "
         f"--iterations 0 --html '{tmp_path / 'r.html'}'"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert ((tmp_path / "r.html").stat().st_mode & 0o777) == 0o644
    again = subprocess.run(
        lcasolve_cmd("report", example_path("cement"), "--demand", "cement=1", "--iterations",
                     0, "--html", tmp_path / "r.html"),
        capture_output=True, text=True,
    )  # fmt: skip
    assert again.returncode == 1 and "--overwrite" in again.stderr
