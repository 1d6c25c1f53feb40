"""The core benchmark: lcasolve and bw2calc side by side on the same synthetic datapackage.

Each measurement runs in its own Python process, so that peak memory (``ru_maxrss``) belongs to
one tool and one database, and so that bw2calc can be run with each of its solvers in the same
run: SuperLU (pypardiso and scikit-umfpack hidden from it), UMFPACK (pypardiso hidden; when
scikit-umfpack is installed) and its default pypardiso. For every size the synthetic database
(:func:`lcasolve.synthetic.generate`) is written once as a bw_processing datapackage, which both
tools read.

Figures per tool and size:

``load_s``
    Reading the datapackage into matrices.
``first_s``
    Factorization and the first functional unit's scores. For lcasolve, importing the solver
    and loading its compiled Numba kernels is done before and reported as ``warmup_s``.
``further_ms``
    Median time of a further functional unit (another product) once factorized.
``all_scores_s``
    Every product's score (adjoint solve); lcasolve: once factorized; bw2calc:
    ``FastScoresOnlyMultiLCA`` in the adjoint direction (pypardiso and UMFPACK only), its
    factorization included since it factorizes inside.
``factor_nnz``
    Entries in the LU factors, where the solver reports them.
``peak_mb``
    Peak resident memory of the process.
``process_s``
    A whole process, as a script or service runs one calculation: start Python, import, load
    the datapackage, factorize, solve one functional unit and print its score. lcasolve:
    ``lcasolve calc PATH --demand ID=1 --json`` (the console script); bw2calc: a script that
    loads the same datapackage into ``bw2calc.LCA`` and runs ``lci()`` and ``lcia()`` with the
    tool's solver. Wall-clock time of the child process, the fastest of
    :data:`PROCESS_REPEAT` runs per tool; its score is checked against the in-process one.
    lcasolve's modules are byte-compiled first (as ``pip install`` does; the peers' are), so
    that an environment with ``PYTHONDONTWRITEBYTECODE`` does not time lcasolve's compilation.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PEERS", "TOOLS", "machine", "measure", "run", "to_markdown"]

#: whole-process runs per tool and size; the fastest counts (the machine may be shared)
PROCESS_REPEAT = 3

#: tools measured by :func:`measure`
TOOLS = ("lcasolve", "bw2calc-superlu", "bw2calc-umfpack", "bw2calc-pardiso")
#: peer name on the command line -> tools
PEERS = {
    "bw2calc": ("bw2calc-superlu", "bw2calc-umfpack", "bw2calc-pardiso"),
    "bw2calc-umfpack": ("bw2calc-umfpack",),  # the fastest of the three, for the growth runs
    "none": (),
}


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _demands(n: int, count: int, seed: int) -> list[int]:
    """Product ids (1-based, as the generator numbers them) of the functional units."""
    rng = np.random.default_rng(seed)
    return [int(i) + 1 for i in rng.choice(n, size=count, replace=False)]


def _measure_lcasolve(path: Path, demands: list[int]) -> dict[str, Any]:
    import scipy.sparse as sp

    import lcasolve
    from lcasolve.solve import factorize

    # Imports and loading the Numba kernels from their cache happen once per process (as
    # bw2calc's imports of pypardiso/MKL do before its timings); measured on their own.
    t = time.perf_counter()
    import lcasolve.io.datapackage
    import lcasolve.lca  # noqa: F401 - imported before the timings, as bw2calc's are

    factorize(sp.csc_matrix(np.array([[1.0, -0.5], [0.0, 1.0]]))).solve(np.ones(2))
    out: dict[str, Any] = {"warmup_s": time.perf_counter() - t}
    t = time.perf_counter()
    system = lcasolve.load(path)
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    lca = lcasolve.LCA(system)
    first = lca.calculate({demands[0]: 1.0})
    out["first_s"] = time.perf_counter() - t
    out["score"] = first.score()
    out["residual"] = first.residual
    times, scores = [], []
    for d in demands[1:]:
        t = time.perf_counter()
        r = lca.calculate({d: 1.0})
        times.append(time.perf_counter() - t)
        scores.append(r.score())
    out["further_ms"] = 1e3 * float(np.median(times))
    out["further_scores"] = scores
    t = time.perf_counter()
    act = lca.activity_scores()
    out["all_scores_s"] = time.perf_counter() - t
    out["all_scores_residual"] = act.residual
    pos = [system.product_position(d) for d in demands]
    out["all_scores_check"] = [float(v) for v in act.lam[pos, 0]]
    fact = lca.factorization
    out["factor_nnz"] = fact.factor_nnz
    out["backend"] = fact.backend
    out["block_solver"] = getattr(fact, "block_solver", None)
    out["largest_block"] = getattr(fact, "largest_block", None)
    return out


def _measure_bw2calc(path: Path, demands: list[int], solver: str) -> dict[str, Any]:
    import warnings

    if solver != "pardiso":  # bw2calc falls back to UMFPACK, else to SuperLU
        sys.modules["pypardiso"] = None  # type: ignore[assignment]
    if solver == "superlu":
        sys.modules["scikits.umfpack"] = None  # type: ignore[assignment]
    warnings.simplefilter("ignore")
    import bw2calc as bc
    import bw_processing as bwp
    from fsspec.implementations.zip import ZipFileSystem

    used = "pardiso" if bc.PYPARDISO else "umfpack" if bc.UMFPACK else "superlu"
    if used != solver:
        raise RuntimeError(f"bw2calc solver {solver!r} not available (it would use {used!r})")
    dp = bwp.load_datapackage(ZipFileSystem(str(path)))
    method = tuple(dp.get_resource("characterization-0.indices")[1]["identifier"])
    t = time.perf_counter()
    lca = bc.LCA({demands[0]: 1.0}, data_objs=[dp], method=method)
    lca.load_lci_data()
    lca.load_lcia_data()
    out: dict[str, Any] = {"load_s": time.perf_counter() - t}
    t = time.perf_counter()
    if solver != "pardiso":
        lca.decompose_technosphere()
    lca.build_demand_array()
    lca.lci_calculation()
    lca.lcia_calculation()
    out["first_s"] = time.perf_counter() - t
    out["score"] = float(lca.score)
    times, scores = [], []
    for d in demands[1:]:
        t = time.perf_counter()
        lca.build_demand_array({d: 1.0})
        lca.lci_calculation()
        lca.lcia_calculation()
        times.append(time.perf_counter() - t)
        scores.append(float(lca.score))
    out["further_ms"] = 1e3 * float(np.median(times))
    out["further_scores"] = scores
    if solver == "pardiso":
        iparm = getattr(lca._pardiso_solver, "iparm", None)  # noqa: SLF001
        out["factor_nnz"] = abs(int(iparm[17])) if iparm is not None else None
    else:
        cells = [c.cell_contents for c in lca.solver.__closure__ or ()]
        lu = next((c for c in cells if hasattr(c, "L")), None)
        out["factor_nnz"] = int(lu.L.nnz + lu.U.nnz) if lu is not None else None
    if solver != "superlu":
        all_ids = [int(i) for i in lca.dicts.product]
        multi = bc.FastScoresOnlyMultiLCA(
            demands={str(i): {i: 1.0} for i in all_ids},
            method_config={"impact_categories": [method]},
            data_objs=[dp],
            direction="adjoint",
        )
        multi._load_datapackages()  # noqa: SLF001 - loading is timed above, not here
        multi.build_precalculated()
        t = time.perf_counter()
        multi.calculate()
        out["all_scores_s"] = time.perf_counter() - t
        scores_all = dict(zip(all_ids, np.asarray(multi.product_scores).ravel(), strict=True))
        out["all_scores_check"] = [float(scores_all[d]) for d in demands]
    return out


#: the bw2calc script timed as a whole process (argv: path, solver, product id)
_BW2CALC_SCRIPT = """
import sys, warnings
path, solver, demand = sys.argv[1], sys.argv[2], int(sys.argv[3])
if solver != "pardiso":
    sys.modules["pypardiso"] = None
if solver == "superlu":
    sys.modules["scikits.umfpack"] = None
warnings.simplefilter("ignore")
import bw2calc as bc
import bw_processing as bwp
from fsspec.implementations.zip import ZipFileSystem

dp = bwp.load_datapackage(ZipFileSystem(path))
method = tuple(dp.get_resource("characterization-0.indices")[1]["identifier"])
lca = bc.LCA({demand: 1.0}, data_objs=[dp], method=method)
lca.lci()
lca.lcia()
print("@@", repr(float(lca.score)))
"""


def byte_compile_lcasolve() -> None:
    """Write the bytecode of the lcasolve package the child processes import (as an install).

    Child processes inherit this process's environment, so they import the same package.
    """
    import compileall

    import lcasolve

    compileall.compile_dir(str(Path(lcasolve.__file__).parent), quiet=2)


def whole_process(
    tool: str,
    path: str | os.PathLike[str],
    demand: int,
    *,
    timeout: float = 1800,
    repeat: int = PROCESS_REPEAT,
) -> dict[str, Any]:
    """Time one calculation as a whole process (see ``process_s`` in the module docstring).

    Returns
    -------
    dict
        ``{"process_s": fastest seconds, "process_runs_s": all, "process_score": score}`` or
        ``{"process_error": message}``.
    """
    runs: list[float] = []
    out: dict[str, Any] = {}
    for _ in range(max(1, repeat)):
        out = _one_process(tool, path, demand, timeout=timeout)
        if "process_error" in out:
            return out
        runs.append(out["process_s"])
    return {**out, "process_s": min(runs), "process_runs_s": runs}


def _one_process(
    tool: str, path: str | os.PathLike[str], demand: int, *, timeout: float
) -> dict[str, Any]:
    import shutil

    if tool == "lcasolve":
        script = shutil.which("lcasolve", path=str(Path(sys.executable).parent)) or shutil.which(
            "lcasolve"
        )
        head = [script] if script else [sys.executable, "-m", "lcasolve"]
        cmd = [*head, "calc", str(path), "--demand", f"{demand}=1", "--json"]
    else:
        solver = tool.split("-", 1)[1]
        cmd = [sys.executable, "-c", _BW2CALC_SCRIPT, str(path), solver, str(demand)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"process_error": f"timed out after {timeout:.0f} s"}
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"process_error": f"exit {proc.returncode}: {tail[0]}"}
    if tool == "lcasolve":
        score = float(next(iter(json.loads(proc.stdout)["scores"].values())))
    else:
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("@@"))
        score = float(line.split(None, 1)[1])
    return {"process_s": seconds, "process_score": score}


def _worker(tool: str, path: str, demands: list[int]) -> dict[str, Any]:
    """Measure one tool on one datapackage (runs in a child process)."""
    p = Path(path)
    if tool == "lcasolve":
        out = _measure_lcasolve(p, demands)
    elif tool.startswith("bw2calc-"):
        out = _measure_bw2calc(p, demands, tool.split("-", 1)[1])
    else:
        raise ValueError(f"unknown tool {tool!r}")
    out["peak_mb"] = _peak_mb()
    return out


def measure(
    tool: str, path: str | os.PathLike[str], demands: Sequence[int], *, timeout: float = 1800
) -> dict[str, Any]:
    """Run one tool on one datapackage in a fresh Python process.

    Parameters
    ----------
    tool : str
        One of :data:`TOOLS`.
    path : path-like
        The datapackage zip.
    demands : sequence of int
        Product ids: the first is the first functional unit, the rest further ones.
    timeout : float
        Seconds before the child is stopped.

    Returns
    -------
    dict
        The figures described in the module docstring, or ``{"error": message}``.
    """
    code = (
        "import json, sys; from lcasolve.benchmark import _worker; "
        "print('@@' + json.dumps(_worker(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, tool, str(path), json.dumps(list(demands))],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0]}"}
    return json.loads(lines[-1][2:])


def machine() -> dict[str, Any]:
    """CPU, cores, memory and versions of the machine the benchmark runs on."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if "model name" in ln), "")
        info["cpu"] = model
        with open("/proc/meminfo") as fh:
            kb = int(next(ln for ln in fh if ln.startswith("MemTotal")).split()[1])
        info["memory_gb"] = round(kb / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("lcasolve", "numpy", "scipy", "numba", "bw2calc", "pypardiso", "scikit-umfpack"):
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            info[pkg] = None
    return info


def run(
    sizes: Sequence[int] = (5000, 20000),
    *,
    peer: str = "bw2calc",
    n_demands: int = 21,
    seed: int = 42,
    workdir: str | os.PathLike[str] | None = None,
    progress: Any = None,
    timeout: float = 1800,
) -> dict[str, Any]:
    """Generate each size, write its datapackage, and measure lcasolve and the peer on it.

    Parameters
    ----------
    sizes : sequence of int
        Numbers of activities (20000 is ``eco20k``).
    peer : str
        ``"bw2calc"`` (SuperLU, UMFPACK when installed, and pypardiso), ``"bw2calc-umfpack"``
        or ``"none"``.
    n_demands : int
        Functional units per tool: the first and ``n_demands - 1`` further ones.
    seed : int
        Seed of the generator and of the demand choice.
    workdir : path-like, optional
        Where the datapackages are written (a temporary folder by default).
    progress : callable, optional
        Called with a line of text after each measurement.
    timeout : float
        Seconds each measurement of one tool may take before it is stopped (reported as an
        error row; the growth runs use 600).

    Returns
    -------
    dict
        ``{"machine": ..., "results": [{"n", "nnz", "tool", ...figures}, ...]}``; for each peer
        tool also ``ratio_first`` etc. (peer time / lcasolve time) and ``agree`` (the largest
        relative difference of the scores from lcasolve's).
    """
    from lcasolve.io import datapackage
    from lcasolve.synthetic import generate

    if peer not in PEERS:
        raise ValueError(f"unknown peer {peer!r}; known: {sorted(PEERS)}")
    from lcasolve.solve.umfpack import umfpack_available

    # bw2calc's UMFPACK path only where scikit-umfpack is installed
    tools = tuple(
        t for t in ("lcasolve", *PEERS[peer]) if t != "bw2calc-umfpack" or umfpack_available()
    )
    results: list[dict[str, Any]] = []
    byte_compile_lcasolve()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for n in sizes:
            t = time.perf_counter()
            system = generate(n, seed=seed)
            gen_s = time.perf_counter() - t
            path = Path(tmp) / f"eco{n}.zip"
            datapackage.write(system, path)
            nnz = len(system.technosphere)
            demands = _demands(n, n_demands, seed)
            del system
            base: dict[str, Any] | None = None
            for tool in tools:
                row = {"n": n, "nnz": nnz, "tool": tool, "generate_s": gen_s}
                row.update(measure(tool, path, demands, timeout=timeout))
                if "error" not in row:
                    row.update(whole_process(tool, path, demands[0], timeout=timeout))
                if tool == "lcasolve":
                    base = row
                elif base is not None and "error" not in row and "error" not in base:
                    _compare(row, base)
                results.append(row)
                if progress is not None:
                    progress(_line(row))
    return {"machine": machine(), "results": results}


def _compare(row: dict[str, Any], base: dict[str, Any]) -> None:
    for key in ("first_s", "further_ms", "all_scores_s", "load_s", "process_s"):
        if row.get(key) and base.get(key):
            row[f"ratio_{key.rsplit('_', 1)[0]}"] = row[key] / base[key]
    ours = np.array([base["score"], *base["further_scores"]])
    theirs = np.array([row["score"], *row["further_scores"]])
    if "process_score" in row and "process_score" in base:
        ours = np.append(ours, base["process_score"])
        theirs = np.append(theirs, row["process_score"])
    diff = np.abs(ours - theirs) / np.maximum(np.abs(ours), 1e-300)
    if "all_scores_check" in row:
        a, b = np.array(base["all_scores_check"]), np.array(row["all_scores_check"])
        diff = np.concatenate([diff, np.abs(a - b) / np.maximum(np.abs(a), 1e-300)])
    row["agree"] = float(diff.max())


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _line(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"n={row['n']:>6} {row['tool']:<16} error: {row['error']}"
    return (
        f"n={row['n']:>6} {row['tool']:<16} load {row['load_s']:6.2f} s  first "
        f"{row['first_s']:7.3f} s  further {row['further_ms']:7.2f} ms  all "
        f"{_fmt(row.get('all_scores_s'), '7.3f')} s  peak {row['peak_mb']:6.0f} MB  process "
        f"{_fmt(row.get('process_s'), '6.2f')} s"
    )


def to_markdown(report: dict[str, Any]) -> str:
    """The results of :func:`run` as a markdown table with ratios to lcasolve."""
    m = report["machine"]
    head = (
        f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory_gb', '?')} GB; "
        f"Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, bw2calc {m['bw2calc']}, "
        f"pypardiso {m['pypardiso']}, scikit-umfpack {m.get('scikit-umfpack', '–')}.\n\n"
        "| n | nnz(A) | tool | load s | first FU s | further FU ms | all products s | "
        "factor nnz | peak MB | whole process s | first: peer/ours | further: peer/ours | "
        "process: peer/ours | max rel. diff |\n"
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in report["results"]:
        if "error" in r:
            rows.append(f"| {r['n']} | {r['nnz']} | {r['tool']} | {r['error']} |||||||||||")
            continue
        nnz = r.get("factor_nnz")
        rows.append(
            f"| {r['n']} | {r['nnz']:,} | {r['tool']} | {r['load_s']:.2f} | {r['first_s']:.3f} | "
            f"{r['further_ms']:.2f} | {_fmt(r.get('all_scores_s'), '.3f')} | "
            f"{'–' if nnz is None else f'{nnz / 1e6:.1f} M'} | {r['peak_mb']:.0f} | "
            f"{_fmt(r.get('process_s'), '.2f')} | "
            f"{_fmt(r.get('ratio_first'), '.1f')} | {_fmt(r.get('ratio_further'), '.1f')} | "
            f"{_fmt(r.get('ratio_process'), '.1f')} | {_fmt(r.get('agree'), '.1e')} |"
        )
    return head + "\n".join(rows) + "\n"
