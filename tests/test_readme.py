"""The README as written: its Python example runs, its paths exist, its command lines work.

The Python blocks run in a fresh interpreter whose working directory is the repository root, laid
out in a temporary folder (a link to each top-level entry of this checkout, ``../shared`` beside it)
so that the example's relative paths resolve as in a checkout while the files it writes
(``pcf.html``, ``pcf.json``) land in the temporary folder. The command lines run through the
installed console script in the same folder, their placeholders (``INPUT...``, ``ID=AMOUNT``, ``N``)
filled with the bundled cement example, the scenario file written here, or the shared data.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_ux import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SHARED = ROOT.parent / "shared"
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.S)

EXAMPLE = "lcasolve/examples/cement"
#: a scenario difference file for the example: the clinker-to-cement ratio at its bounds
SCENARIOS = "from id,to id,flow type,low,high\nclinker,cement,technosphere,0.80,0.90\n"
#: the README's placeholders, filled in
TOKENS = {
    "INPUT...": EXAMPLE,
    "ID=AMOUNT": "cement=1",
    "A=1": "cement=1",
    "B=1": "clinker=1",
    "QUERY": "clinker",
    "OUT": "generated",
    "OUT.h5": "out.h5",
    "OUT.html": "out.html",
    "OUT.json": "out.json",
    "OUT.xlsx": "out.xlsx",
}
#: placeholders that are an option's value
OPTION_VALUES = {
    "--iterations": "200",
    "--seed": "1",
    "--top": "5",
    "--processes": "40",
    "--cutoff": "0.01",
    "--max-depth": "3",
    "--threshold": "800",
    "--method": "IPCC AR6 GWP100",
    "--company": "ACME",
    "--reference-year": "2024",
    "--scenarios": "scenarios.csv",
    "--sobol": "8",
}
#: the example has no parameters: the parameter commands run on uslci-transport (its formulas)
#: with USLCI for the units, demanding a commodity transport process of uslci-transport
PARAMETRIC = [
    "../shared/data/uslci-transport/uslci-transport_v1.1_json_ld.zip",
    "../shared/data/uslci/uslci_olca1_5_0_json_ld.zip",
]
COMMODITY = "0001b273-4a23-3c9f-b790-840b628d1bf5=1"
#: commands that take 4-10 s each on a loaded 2-core machine: in the slow suite
SLOW = {"report", "mc", "compare", "scenarios", "generate", "convert"}
#: the README's benchmark sizes take minutes: the slow suite runs its bench lines at this size
BENCH_PROCESSES = "300"
PLACEHOLDER = re.compile(r"[A-Z]+(\.\.\.|=[A-Z0-9]+|\.[a-z0-9]+)?")


def _checkout(tmp_path: Path) -> Path:
    """A folder that reads as the repository root with ``../shared`` beside it."""
    root = tmp_path / "lcasolve"
    root.mkdir()
    for entry in ROOT.iterdir():
        if entry.name != ".git":
            (root / entry.name).symlink_to(entry)
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED)
    (root / "scenarios.csv").write_text(SCENARIOS, encoding="utf-8")
    return root


def _env() -> dict[str, str]:
    """This checkout's lcasolve first on the path (the working directory is not the checkout)."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


# ---------------------------------------------------------------------------- install lines


def test_every_extra_the_readmes_install_is_declared():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    texts = [README, (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")]
    used = {
        e for t in texts for group in re.findall(r"\.\[([\w,-]+)\]", t) for e in group.split(",")
    }
    assert {"test", "dev", "notebooks"} <= used
    assert not used - set(declared), (
        f"extras installed by a README but not declared: {used - set(declared)}"
    )
    # what scripts/check runs is installed by the dev extra, what the notebooks need by theirs
    assert {"mypy", "ruff"} <= {re.split(r"[<>=\[]", d)[0] for d in declared["dev"]}
    assert {"nbconvert", "ipykernel", "matplotlib"} <= {
        re.split(r"[<>=\[]", d)[0] for d in declared["notebooks"]
    }
    assert {"nbclient", "nbformat", "ipykernel"} <= {
        re.split(r"[<>=\[]", d)[0] for d in declared["test"]
    }


# ---------------------------------------------------------------------------- Python example


def _string_paths(block: str) -> list[str]:
    """The string literals of a block that name a file or folder by a relative path."""
    return [
        node.value
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "/" in node.value
        and " " not in node.value
    ]


def test_the_python_example_paths_exist(shared_data):
    paths = [p for block in PYTHON_BLOCKS for p in _string_paths(block)]
    assert "../shared/data/uslci/uslci_olca1_5_0_json_ld.zip" in paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"paths of the README's Python example that do not exist: {missing}"


def test_build_system_example_gives_its_stated_score():
    (block,) = [b for b in PYTHON_BLOCKS if "build_system(" in b]
    *body, last = ast.parse(block).body
    assert isinstance(last, ast.Expr)
    stated = re.search(r"#\s*([-0-9.eE]+)\s*$", block.strip().splitlines()[-1])
    assert stated, "the last line states its result in a comment"
    import lcasolve

    namespace = {"lcasolve": lcasolve}
    exec(compile(ast.Module(body=body, type_ignores=[]), "README.md", "exec"), namespace)
    value = eval(compile(ast.Expression(last.value), "README.md", "eval"), namespace)
    assert value == pytest.approx(float(stated.group(1)), rel=1e-12)


@pytest.mark.slow
def test_the_python_example_runs_as_written(shared_data, tmp_path):
    """Every ```python block of the README, in order, in one interpreter (~10 s of CPU)."""
    root = _checkout(tmp_path)
    script = "\n".join(PYTHON_BLOCKS)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "problems skipped" in done.stdout  # the printed import summary
    assert (root / "pcf.html").stat().st_size > 10_000
    assert (root / "pcf.json").stat().st_size > 500


# ------------------------------------------------------------------------------ command lines


def _table_lines() -> list[str]:
    """The command table's syntax lines (first column), optional parts included."""
    lines = re.findall(r"^\| `(lcasolve [^`]*)` \|", README, re.M)
    assert len(lines) >= 10
    return lines


def _bash_lines() -> list[str]:
    """``lcasolve ...`` commands of the README's bash blocks, as written."""
    parts = [
        part.strip()
        for block in BASH_BLOCKS
        for line in block.splitlines()
        for part in line.split("#")[0].split("&&")
    ]
    return [part for part in parts if part.startswith("lcasolve ")]


def expand(line: str) -> tuple[list[str], bool]:
    """``line`` as arguments with its placeholders filled; and whether it needs shared data."""
    tokens = line.replace("[", " ").replace("]", " ").split()[1:]
    parametric = "--parameters" in tokens
    args: list[str] = []
    for token in tokens:
        option = args[-1] if args else ""
        if PLACEHOLDER.fullmatch(token) and option in OPTION_VALUES:
            args.append(OPTION_VALUES[option])
        elif parametric and token == "INPUT...":
            args.extend(PARAMETRIC)
        elif parametric and token == "ID=AMOUNT":
            args.append(COMMODITY)
        elif token in TOKENS:
            args.append(TOKENS[token])
        else:
            assert not PLACEHOLDER.fullmatch(token), f"{line}: no value for {token}"
            args.append(token)
    return args, parametric


def _cases():
    for line in [*_table_lines(), *_bash_lines()]:
        command = line.split()[1]
        marks = []
        if command in SLOW or command == "bench" or "--parameters" in line:
            marks.append(pytest.mark.slow)
        yield pytest.param(line, marks=marks, id=line)


@pytest.mark.parametrize("line", list(_cases()))
def test_readme_command_line_runs(line, tmp_path):
    args, parametric = expand(line)
    if args[0] == "bench":  # the documented sizes, but small: the options are what is checked
        args[args.index("--processes") + 1] = BENCH_PROCESSES
    if parametric and (args[0] == "mc" or "--sobol" in args):
        # drawing parameters needs parameters with distributions, which uslci-transport's are
        # not: the tables widget of test_tables_parameters (a uniform transport distance)
        from tests.test_tables_parameters import _parametric

        widget = str(_parametric(tmp_path / "widget"))
        args = [widget if a == PARAMETRIC[0] else a for a in args if a != PARAMETRIC[1]]
        args = ["widget=1" if a == COMMODITY else a for a in args]
    elif parametric and not SHARED.is_dir():
        pytest.skip(f"{SHARED / 'data'} is absent (the example has no parameters)")
    code, out, err = cli(*args, cwd=_checkout(tmp_path))
    assert code == 0, f"lcasolve {' '.join(args)}: exit {code}: {err.strip()[-1000:]}"
    assert out.strip()


def test_the_mc_line_names_its_demand():
    """Without ``--demand`` the documented ``mc`` lines are usage errors (exit 2)."""
    lines = [ln for ln in _table_lines() if ln.split()[1] == "mc"]
    assert lines
    for line in lines:
        _mc_line_without_demand_exits_2(line)


def _mc_line_without_demand_exits_2(line):
    args, _ = expand(line)
    assert "--demand" in args
    at = args.index("--demand")
    code, _, err = cli(*(args[:at] + args[at + 2 :]), cwd=ROOT)
    assert code == 2 and "--demand" in err
