"""Monte Carlo benchmarks: ms per iteration, split, scaling, memory, and bw2calc side by side.

pytest-benchmark (small case)::

    python -m pytest benchmarks/bench_mc.py --benchmark-only

Whole-run figures with the bw2calc peer on the same datapackage (eco20k, and 5k/50k for how the
cost grows)::

    python -m benchmarks.bench_mc --processes 5000,20000,50000 --detail 20000 \
        --iterations 512 --long 1000,10000 --peer bw2calc --json benchmarks/results/mc.json

The system is ``lcasolve.synthetic.generate(n, seed=42)``: uncertainty on every off-diagonal
technosphere entry and every biosphere entry, one GWP100 category. The demand is one unit of the
most connected product (it reaches the large cycle). ``--detail`` runs the batch-size, thread,
preconditioner and skipping variants on that size; ``--long`` runs whole runs of those numbers of
iterations in child processes, each reporting its wall time and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from lcasolve.model import System


def make_system(n: int, seed: int = 42) -> System:
    """The benchmark database of ``n`` activities (eco20k for n = 20000)."""
    from lcasolve.synthetic import generate

    return generate(n, seed=seed)


def demand_of(system: System) -> dict:
    """A demand on the most connected product (reaches the big cycle)."""
    A = system.A  # noqa: N806
    j = int(np.argmax(np.diff(A.indptr)))
    return {system.activities["product_id"].iloc[j]: 1.0}


def peak_mb() -> float:
    """Peak resident memory of this process (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` of this process from ``/proc/self/status`` (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Reset the peak resident memory (``VmHWM``) to the current one (Linux)."""
    Path("/proc/self/clear_refs").write_text("5")


# ----------------------------------------------------------------------------- pytest-benchmark


@pytest.fixture(scope="module")
def sys5k():
    return make_system(5000)


@pytest.mark.parametrize("batch", [16, 64])
def test_bench_mc_5k(benchmark, sys5k, batch):
    from lcasolve.montecarlo import MonteCarlo

    mc = MonteCarlo(sys5k, demand_of(sys5k), batch_size=batch)
    mc.run(batch, seed=0)  # compile and build the plan
    res = benchmark(lambda: mc.run(4 * batch, seed=1))
    assert np.isfinite(res.scores).all()


# ----------------------------------------------------------------------------- script


def time_run(mc, iterations: int, seed: int = 1) -> tuple[dict, np.ndarray]:
    """Wall ms per iteration and the split of a warm run; also its scores."""
    mc.run(min(iterations, 64), seed=seed + 1000)  # warm: compile, plan, caches
    t = time.perf_counter()
    res = mc.run(iterations, seed=seed)
    wall = time.perf_counter() - t
    return {
        "ms_per_iteration": 1000 * wall / iterations,
        "split_ms": {k: 1000 * v / iterations for k, v in res.timing.items()},
        "n_fallback": res.n_fallback,
        "mean": float(res.scores.mean()),
        "std": float(res.scores.std(ddof=1)),
    }, res.scores


def write_datapackage(system: System, path: Path) -> Path:
    """The system as a bw_processing datapackage that both tools read."""
    from lcasolve.io.datapackage import write

    return write(system, path)


def bw2calc_ms(path: Path, demand: dict, iterations: int, iterative: bool) -> dict:
    """bw2calc 3.x Monte Carlo ms per iteration on a datapackage (after its first lci/lcia)."""
    import bw2calc
    from bw_processing import load_datapackage
    from fsspec.implementations.zip import ZipFileSystem

    dp = load_datapackage(ZipFileSystem(str(path)))
    cls = bw2calc.IterativeLCA if iterative else bw2calc.LCA
    lca = cls(demand, data_objs=[dp], use_distributions=True, seed_override=1)
    t = time.perf_counter()
    lca.lci()
    lca.lcia()
    first = time.perf_counter() - t
    scores = []
    t = time.perf_counter()
    for _ in range(iterations):
        next(lca)
        scores.append(float(lca.score))
    return {
        "first_s": first,
        "iterations": iterations,
        "ms_per_iteration": 1000 * (time.perf_counter() - t) / iterations,
        "scores": scores,
        "solver_stats": dict(getattr(lca, "solver_stats", {}) or {}),
    }


def bw2calc_static(path: Path, demand: dict) -> float:
    """bw2calc's deterministic score of the same datapackage."""
    import bw2calc
    from bw_processing import load_datapackage
    from fsspec.implementations.zip import ZipFileSystem

    lca = bw2calc.LCA(demand, data_objs=[load_datapackage(ZipFileSystem(str(path)))])
    lca.lci()
    lca.lcia()
    return float(lca.score)


def child(n: int, iterations: int) -> dict:
    """One whole run in this process: wall time and peak memory (``--child``)."""
    import gc

    from lcasolve.montecarlo import MonteCarlo

    system = make_system(n)
    demand = demand_of(system)
    gc.collect()
    generate_peak = _status_mb("VmHWM")
    reset_peak()  # the run's own peak, not the generator's
    before = _status_mb("VmRSS")
    mc = MonteCarlo(system, demand)
    t = time.perf_counter()
    res = mc.run(iterations, seed=1)
    wall = time.perf_counter() - t
    return {
        "iterations": iterations,
        "wall_s": wall,
        "ms_per_iteration": 1000 * wall / iterations,
        "split_s": res.timing,
        "n_fallback": res.n_fallback,
        "generate_peak_mb": generate_peak,
        "rss_before_run_mb": before,
        "peak_during_run_mb": _status_mb("VmHWM"),
        "mean": float(res.scores.mean()),
    }


def run_child(n: int, iterations: int) -> dict:
    """:func:`child` in a fresh interpreter."""
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONWARNINGS="ignore")
    cmd = [sys.executable, "-m", "benchmarks.bench_mc", "--child", f"{n},{iterations}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=root, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def without_student_t(system: System) -> System:
    """The system with each Student-t record replaced by a normal one of the same loc and scale.

    stats_arrays 4.0, which bw2calc samples with, broadcasts the ``loc`` and ``scale`` of
    Student-t records along the wrong axis (``location + scale * standard_t(...).T``), so its
    draws of many Student-t entries at once are not those of the records; on eco20k that makes
    bw2calc's sampled matrices meaningless. The peer comparison runs both tools on this variant.
    """
    import dataclasses

    parts = {}
    for name in ("technosphere", "biosphere"):
        e = getattr(system, name)
        rec = e.uncertainty.copy()
        t = rec["uncertainty_type"] == 12
        rec["uncertainty_type"][t] = 3
        rec["shape"][t] = np.nan
        parts[name] = dataclasses.replace(e, uncertainty=rec)
    return dataclasses.replace(system, **parts)


def peer_figures(system: System, demand: dict, args: argparse.Namespace) -> dict:
    """bw2calc LCA and IterativeLCA Monte Carlo and lcasolve on the same datapackage."""
    from lcasolve.montecarlo import MonteCarlo

    peer = without_student_t(system)
    fig: dict = {}
    fig["lcasolve on the peer variant"], _ = time_run(MonteCarlo(peer, demand), args.iterations)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_datapackage(peer, Path(tmp) / "bench.zip")
        fig["bw2calc static score"] = bw2calc_static(path, demand)
        fig["lcasolve static score"] = float(
            MonteCarlo(peer, demand).run(1, seed=0).deterministic[0, 0]
        )
        fig["bw2calc IterativeLCA"] = bw2calc_ms(path, demand, args.peer_iterations, True)
        fig["bw2calc LCA"] = bw2calc_ms(path, demand, args.peer_lca_iterations, False)
    ours = fig["lcasolve on the peer variant"]["ms_per_iteration"]
    for name in ("bw2calc IterativeLCA", "bw2calc LCA"):
        fig[name]["ratio_to_lcasolve"] = fig[name]["ms_per_iteration"] / ours
    return fig


def figures(n: int, args: argparse.Namespace) -> dict:
    """Every figure for one database size."""
    from lcasolve.montecarlo import MonteCarlo

    t = time.perf_counter()
    system = make_system(n)
    demand = demand_of(system)
    fig: dict = {"build_s": time.perf_counter() - t, **system.describe(), "demand": str(demand)}
    its = args.iterations
    fig["default"], base = time_run(MonteCarlo(system, demand), its)
    fig["peak_mb"] = peak_mb()
    if n in args.detail:
        fig["no_skip"], full = time_run(MonteCarlo(system, demand, skip=False), its)
        fig["no_skip"]["identical_to_skip"] = bool(np.array_equal(base, full))
        for k in [int(x) for x in args.batches.split(",") if x]:
            fig[f"K={k}"], _ = time_run(MonteCarlo(system, demand, batch_size=k), its)
        fig["threads=1"], one = time_run(MonteCarlo(system, demand, threads=1), its)
        fig["threads=1"]["identical_to_2"] = bool(np.array_equal(base, one))
        fig["preconditioner=lu"], lu = time_run(
            MonteCarlo(system, demand, preconditioner="lu"), its
        )
        fig["preconditioner=lu"]["max_rel_diff"] = float(np.max(np.abs(lu / base - 1)))
        exact = MonteCarlo(system, demand, method="exact").run(32, seed=1)
        fig["iterative_vs_exact_max_rel_diff"] = float(np.max(np.abs(base[:32] / exact.scores - 1)))
        for long in args.long:
            fig[f"child run of {long}"] = run_child(n, long)
    if args.peer == "bw2calc" and n in args.peer_sizes:
        fig.update(peer_figures(system, demand, args))
    return fig


def main(argv: list[str] | None = None) -> dict:
    """Print (and return) the Monte Carlo figures."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--processes", default="20000")
    p.add_argument("--detail", default="20000", help="sizes with the variants")
    p.add_argument("--iterations", type=int, default=512)
    p.add_argument("--long", default="", help="iterations of whole runs in child processes")
    p.add_argument("--peer", default=None, choices=(None, "bw2calc"))
    p.add_argument("--peer-sizes", default="20000", help="sizes with the peer comparison")
    p.add_argument("--peer-iterations", type=int, default=10)
    p.add_argument("--peer-lca-iterations", type=int, default=2)
    p.add_argument("--json", default=None, help="also write the figures here")
    p.add_argument("--batches", default="8,32,64,128", help="batch sizes besides the default")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        n, its = (int(x) for x in args.child.split(","))
        res = child(n, its)
        print(json.dumps(res, default=float))
        return res
    args.detail = [int(x) for x in args.detail.split(",") if x]
    args.long = [int(x) for x in args.long.split(",") if x]
    args.peer_sizes = [int(x) for x in args.peer_sizes.split(",") if x]
    out: dict = {"load_before": os.getloadavg()}
    for n in [int(x) for x in args.processes.split(",")]:
        out[str(n)] = figures(n, args)
        print(json.dumps({n: out[str(n)]}, indent=2, default=float), flush=True)
    out["load_after"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=float))
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
