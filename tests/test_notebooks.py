"""The notebooks run as Jupyter runs them, and show their figures.

Jupyter starts a notebook's kernel in the notebook's own folder, and so does ``jupyter nbconvert
--execute``: each notebook is executed with nbclient in ``notebooks/`` (not the repository root),
must finish without an error output, and must hold one ``image/png`` output per figure it draws
(a figure shown as the text ``<Figure size ...>`` is not a figure).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
#: figures each notebook draws (counted from the notebooks' plotting cells)
FIGURES = {
    "quickstart_uslci": 2,  # waterfall, Monte Carlo histogram
    "pcf_report": 3,  # stage bars, waterfall, histogram against the limits
    "montecarlo_comparison": 1,  # paired comparison
    "sensitivity": 2,  # tornado, ranked SRC bars
}
#: notebooks that read ../shared/data
NEEDS_SHARED = {"quickstart_uslci"}
#: 25-110 s each on a loaded 2-core machine; quickstart stays in the default suite
SLOW = {"pcf_report", "montecarlo_comparison", "sensitivity"}


def test_every_notebook_is_listed():
    assert {p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")} == set(FIGURES)


def _kernel_env(monkeypatch):
    """The kernel imports this checkout's lcasolve (its working directory is ``notebooks/``)."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


def _outputs(nb):
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def check_outputs(name: str, nb) -> None:
    """No error output; one image/png per figure; no figure left as its text repr."""
    outputs = _outputs(nb)
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert not errors, errors
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == FIGURES[name]
    bare = [
        o["data"]["text/plain"]
        for o in outputs
        if "<Figure size" in "".join(o.get("data", {}).get("text/plain", ""))
        and "image/png" not in o["data"]
    ]
    assert not bare, bare


def _params():
    for name in sorted(FIGURES):
        marks = [pytest.mark.slow] if name in SLOW else []
        if name in NEEDS_SHARED:
            marks.append(pytest.mark.data)
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_notebook_runs_in_its_folder_with_inline_figures(name, monkeypatch, request):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if name in NEEDS_SHARED:
        request.getfixturevalue("shared_data")
    _kernel_env(monkeypatch)
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},  # Jupyter's working directory
    )
    client.execute()
    check_outputs(name, nb)


def _readme_nbconvert_command() -> list[str]:
    """The nbconvert command of notebooks/README.md (a ``bash`` block), as words."""
    text = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if "nbconvert" in ln and "--execute" in ln]
    assert len(lines) == 1, lines
    words = lines[0].split()
    if ">" in words:  # the shell redirection of --stdout
        words = words[: words.index(">")]
    assert words[:3] == ["python", "-m", "jupyter"]
    return [sys.executable, *words[1:]]


@pytest.mark.slow
@pytest.mark.data
def test_readme_nbconvert_command_from_the_repository_root(shared_data, monkeypatch, tmp_path):
    pytest.importorskip("nbconvert", reason="pip install '.[notebooks]'")
    _kernel_env(monkeypatch)
    command = _readme_nbconvert_command()
    assert "notebooks/quickstart_uslci.ipynb" in command and "--stdout" in command
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    check_outputs("quickstart_uslci", json.loads(done.stdout))
