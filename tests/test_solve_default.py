"""The default backend of a plain install (KLU from kvxopt's wheels) and the fallback without it.

Each case runs in a fresh interpreter, so that hiding ``kvxopt`` (``sys.modules["kvxopt"] = None``
or an import hook that refuses it, as on a platform without wheels) is seen by lcasolve's
first import of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: a cyclic 3-activity system solved by hand: s = A⁻¹ f (see the test below)
PROBE = """
import json
import lcasolve
from lcasolve.solve import available_backends, factorize

system = lcasolve.build_system(
    technosphere=[(1, 1, 1.0), (2, 2, 1.0), (3, 3, 1.0), (2, 1, -0.5), (1, 2, -0.2), (3, 2, -1.0)],
    biosphere=[("CO2", 1, 1.0), ("CO2", 2, 2.0), ("CO2", 3, 4.0)],
    characterization={"GWP100": {"CO2": 1.0}},
)
lca = lcasolve.LCA(system)
result = lca.calculate({1: 1.0})
out = {
    "backend": lca.factorization.backend,
    "auto": factorize(system.A).backend,
    "available": available_backends(),
    "score": result.score("GWP100"),
    "kvxopt_imported": "kvxopt" in __import__("sys").modules
    and __import__("sys").modules["kvxopt"] is not None,
}
try:
    factorize(system.A, "klu")
    out["explicit_klu"] = "ok"
except ImportError as exc:
    out["explicit_klu"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""

HIDE_BY_NONE = 'import sys\nsys.modules["kvxopt"] = None\n'

HIDE_BY_HOOK = """
import sys

class _NoKvxopt:
    def find_spec(self, name, path=None, target=None):
        if name == "kvxopt" or name.startswith("kvxopt."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, _NoKvxopt())
"""


def _run(prelude: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(PROBE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _expected_score() -> float:
    # s1 = 1 + 0.2 s2, s2 = 0.5 s1, s3 = s2  =>  s1 = 1 / 0.9, s2 = s3 = 0.5 / 0.9
    s1 = 1 / 0.9
    s2 = 0.5 * s1
    return 1.0 * s1 + 2.0 * s2 + 4.0 * s2


def test_default_backend_is_klu_where_kvxopt_is_installed() -> None:
    pytest.importorskip("kvxopt", reason="kvxopt has no wheel for this platform (see pyproject)")
    out = _run("")
    assert out["backend"] == "klu"
    assert out["auto"] == "klu"
    assert out["explicit_klu"] == "ok"
    assert out["score"] == pytest.approx(_expected_score(), rel=1e-12)


@pytest.mark.parametrize("prelude", [HIDE_BY_NONE, HIDE_BY_HOOK], ids=["sys.modules", "hook"])
def test_without_kvxopt_the_scipy_fallback_solves(prelude: str) -> None:
    out = _run(prelude)
    assert "klu" not in out["available"]
    assert out["backend"] == "btf"
    assert out["auto"] == "btf"
    assert out["score"] == pytest.approx(_expected_score(), rel=1e-12)
    assert not out["kvxopt_imported"]
    # asking for KLU explicitly names the extra to install
    assert out["explicit_klu"].startswith("MissingExtraError")
    assert "lcasolve[klu]" in out["explicit_klu"]
