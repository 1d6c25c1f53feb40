"""A plain ``pip install .`` in a fresh virtual environment gets KLU, called directly.

The slow suite builds the venv (a minute or two from pip's cache); the fallback without the
wheel is checked in ``tests/test_solve_default.py`` by hiding the module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json
import lcasolve
from lcasolve.solve import _libklu, factorize

system = lcasolve.build_system(
    technosphere=[(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5), (1, 2, -0.2)],
    biosphere=[("CO2", 1, 1.0), ("CO2", 2, 2.0)],
    characterization={"GWP100": {"CO2": 1.0}},
)
fact = factorize(system.A)
print(json.dumps({
    "backend": fact.backend,
    "direct": fact._direct is not None,
    "library": _libklu.load() is not None,
    "score": lcasolve.LCA(system).calculate({1: 1.0}).score(),
}))
"""


@pytest.mark.slow
@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.uname().machine in ("x86_64", "aarch64")),
    reason="kvxopt's wheels with a callable libklu are checked on Linux x86_64/aarch64 here",
)
def test_plain_install_in_a_fresh_venv_gets_klu(tmp_path: Path) -> None:
    # a copy of the sources: the build writes build/ and *.egg-info beside them, and a stale
    # build/ of the checkout must not go into the wheel
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "bench-out", "tmp"
        ),
    )
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    probe = subprocess.run(
        [str(python), "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the checkout: the installed package is imported
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    out = json.loads(probe.stdout)
    assert out == {"backend": "klu", "direct": True, "library": True, "score": out["score"]}
    # s1 = 1 + 0.2 s2, s2 = 0.5 s1: s1 = 1/0.9, s2 = 0.5/0.9; score = s1 + 2 s2
    assert out["score"] == pytest.approx(1 / 0.9 + 2 * 0.5 / 0.9, rel=1e-12)
