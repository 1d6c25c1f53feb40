"""Scenario benchmark: 100 scenarios on eco20k, each changing ~1 % of the technosphere entries.

lcasolve solves all scenarios as one batch (:class:`lcasolve.parameters.ParameterBatch`,
``entry_scores``, which gives scenarios that change few entries to
:func:`lcasolve.batch.solve_changes`); bw2calc solves them one after another with each of its
solvers named in ``--peers`` (``umfpack``, its fastest here, with pypardiso hidden from it;
``pardiso``, its default), each in its own process: the scenario's technosphere matrix,
``decompose_technosphere`` (not with pardiso, which factorizes inside its solve),
``lci_calculation``, ``lcia_calculation``. Both read the same datapackage; scores are
compared. Wall and CPU seconds (``process_time``, all threads) are reported: on a shared
machine the CPU ratio is the steadier one.

    python -m benchmarks.bench_params --processes 20000 --scenarios 100 \\
        --json benchmarks/results/params.json

The lca_algebraic comparison is ``benchmarks/bench_lcaa.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def scenarios(system: Any, count: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Entry indices and values ``(n, count)``: each scenario scales ``share`` of the inputs."""
    tech = system.technosphere
    inputs = np.flatnonzero(tech.row != tech.col)
    rng = np.random.default_rng(seed)
    values = np.repeat(tech.value[inputs][:, None], count, axis=1)
    for k in range(count):
        pick = rng.choice(inputs.size, size=max(1, int(share * inputs.size)), replace=False)
        values[pick, k] *= rng.uniform(0.5, 1.5, size=pick.size)
    return inputs, values


def peer(folder: Path, solver: str) -> dict[str, Any]:
    """bw2calc with ``solver`` on the scenarios stored in ``folder`` (run in its own process)."""
    if solver != "pardiso":  # bw2calc then takes UMFPACK (scikit-umfpack), else SuperLU
        sys.modules["pypardiso"] = None  # type: ignore[assignment]
    warnings.simplefilter("ignore")
    import bw2calc as bc
    import bw_processing as bwp
    import scipy.sparse as sp
    from fsspec.implementations.zip import ZipFileSystem

    import lcasolve

    used = "pardiso" if bc.PYPARDISO else "umfpack" if bc.UMFPACK else "superlu"
    if used != solver:
        raise RuntimeError(f"bw2calc solver {solver!r} not available (it would use {used!r})")
    path = folder / "eco.zip"
    data = np.load(folder / "scenarios.npz")
    index, values, pid = data["index"], data["values"], int(data["product"])
    system = lcasolve.load(path)  # only for the entries' ids (not timed)
    dp = bwp.load_datapackage(ZipFileSystem(str(path)))
    method = tuple(dp.get_resource("characterization-0.indices")[1]["identifier"])
    lca = bc.LCA({pid: 1.0}, data_objs=[dp], method=method)
    lca.lci()
    lca.lcia()
    tech, act = system.technosphere, system.activities
    rows = np.array([lca.dicts.product[int(act["product_id"].iloc[r])] for r in tech.row])
    cols = np.array([lca.dicts.activity[int(act["id"].iloc[c])] for c in tech.col])
    shape = lca.technosphere_matrix.shape
    scores, times = [], []
    cpu = time.process_time()
    for k in range(values.shape[1]):
        value = tech.value.copy()
        value[index] = values[:, k]
        t = time.perf_counter()
        lca.technosphere_matrix = sp.csr_matrix((value, (rows, cols)), shape=shape)
        if solver != "pardiso":
            lca.decompose_technosphere()
        lca.lci_calculation()
        lca.lcia_calculation()
        times.append(time.perf_counter() - t)
        scores.append(float(lca.score))
    cpu = time.process_time() - cpu
    return {"solver": solver, "seconds": float(np.sum(times)), "cpu_s": cpu, "scores": scores}


def run(processes: int, count: int, share: float, seed: int, peers: list[str]) -> dict[str, Any]:
    """Time lcasolve (one batch) and bw2calc (one by one, each solver in its own process)."""
    import lcasolve
    from lcasolve.io.datapackage import write
    from lcasolve.parameters import ParameterBatch
    from lcasolve.synthetic import generate

    out: dict[str, Any] = {"processes": processes, "scenarios": count, "share": share}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write(generate(processes, seed=42), folder / "eco.zip")
        system = lcasolve.load(path)
        j = int(np.argmax(np.diff(system.A.indptr)))
        pid = system.activities["product_id"].iloc[j]
        index, values = scenarios(system, count, share, seed)
        out["changed_per_scenario"] = int(max(1, int(share * index.size)))
        out["technosphere_entries"] = int(system.technosphere.value.size)
        np.savez(folder / "scenarios.npz", index=index, values=values, product=int(pid))
        t = time.perf_counter()
        batch = ParameterBatch(system, {pid: 1.0})
        batch.entry_scores({"technosphere": (index, values[:, :1])})  # factorization, kernels
        out["lcasolve_setup_s"] = time.perf_counter() - t
        t, cpu = time.perf_counter(), time.process_time()
        h = batch.entry_scores({"technosphere": (index, values)})[:, 0]
        out["lcasolve_s"] = time.perf_counter() - t
        out["lcasolve_cpu_s"] = time.process_time() - cpu
        for solver in peers:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_params", "--peer", solver, str(folder)],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            theirs = np.asarray(result["scores"])
            out[f"bw2calc_{solver}_s"] = result["seconds"]
            out[f"bw2calc_{solver}_cpu_s"] = result["cpu_s"]
            out[f"cpu_ratio_vs_{solver}"] = result["cpu_s"] / out["lcasolve_cpu_s"]
            out[f"speedup_vs_{solver}"] = result["seconds"] / out["lcasolve_s"]
            out[f"speedup_vs_{solver}_with_setup"] = result["seconds"] / (
                out["lcasolve_s"] + out["lcasolve_setup_s"]
            )
            out[f"max_relative_difference_{solver}"] = float(
                np.max(np.abs(h - theirs) / np.abs(theirs))
            )
    out["load"] = os.getloadavg()
    return out


def main() -> None:
    """Command line: run once and print (and optionally store) the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=20000)
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peers", default="umfpack", help="bw2calc solvers, comma-separated")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--peer", nargs=2, metavar=("SOLVER", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(peer(Path(args.peer[1]), args.peer[0])))
        return
    peers = [p for p in args.peers.split(",") if p]
    result = run(args.processes, args.scenarios, args.share, args.seed, peers)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
