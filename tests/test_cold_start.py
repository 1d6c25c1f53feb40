"""Nothing slow on the path of one calculation: which modules a fresh interpreter imports.

No timings here (those belong in benchmarks/): the test checks, in a fresh interpreter, that
``import lcasolve`` and ``lcasolve calc --help`` import none of the heavy libraries, and that a
whole ``lcasolve calc`` imports neither Numba nor h5py nor pydata/sparse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numba", "pandas", "h5py", "sparse", "scipy", "numpy", "matplotlib", "bw_processing")

REPORT = """
import json, sys
print("@@" + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
print("##" + json.dumps(sorted(m for m in sys.modules if m.startswith("lcasolve."))))
"""


def _modules(code: str, *, lcasolve_modules: bool = False) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code + REPORT],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    mark = "##" if lcasolve_modules else "@@"
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(mark))
    return set(json.loads(line[2:]))


def test_import_lcasolve_loads_no_heavy_library() -> None:
    loaded = _modules("import lcasolve\nassert lcasolve.__version__")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_calc_help_loads_no_heavy_library() -> None:
    code = (
        "import contextlib, io\n"
        "from lcasolve.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['calc', '--help'])\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0\n"
    )
    loaded = _modules(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_lazy_public_names_resolve() -> None:
    import lcasolve

    for name in lcasolve.__all__:
        assert getattr(lcasolve, name) is not None
    assert set(lcasolve.__all__) <= set(dir(lcasolve))


def test_one_calculation_loads_no_numba_h5py_sparse_or_pandas(tmp_path: Path) -> None:
    pytest.importorskip("kvxopt", reason="without KLU the fallback solver runs Numba kernels")
    from lcasolve.io import datapackage
    from lcasolve.synthetic import generate

    path = tmp_path / "eco300.zip"
    datapackage.write(generate(300, seed=3), path)
    code = (
        "import contextlib, io\n"
        "from lcasolve.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['calc', {str(path)!r}, '--demand', '1=1', '--json']) == 0\n"
    )
    loaded = _modules(code)
    # nor pandas: the system's tables stay columns (lcasolve.model.table) until a DataFrame is
    # asked for, and the JSON is built from them
    assert not loaded & {"numba", "h5py", "sparse", "matplotlib", "llvmlite", "pandas"}
    # nor lcasolve's own modules for other formats' linking and for methods (the datapackage
    # brings its characterization)
    ours = _modules(code, lcasolve_modules=True)
    assert "lcasolve.io.datapackage" in ours
    assert not ours & {"lcasolve.io.linking", "lcasolve.io.allocation", "lcasolve.methods"}
