"""Scenario benchmark: 100 scenarios on eco20k, each changing ~1 % of the technosphere entries.

lcasolve solves all scenarios as one batch (:class:`lcasolve.parameters.ParameterBatch`,
``entry_scores``); bw2calc solves them one after another with its fastest solver here (UMFPACK
when scikit-umfpack is installed): the scenario's matrix set, ``decompose_technosphere``,
``lci_calculation``, ``lcia_calculation``. Both read the same datapackage; scores are compared.

    python -m benchmarks.bench_params --processes 20000 --scenarios 100 \
        --json benchmarks/results/params.json

Not measured here (see the report): the lca_algebraic 1.4 comparison.
"""

from __future__ import annotations

import argparse
import json
import os
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


def run(processes: int, count: int, share: float, seed: int) -> dict[str, Any]:
    """Time lcasolve (one batch) and bw2calc (one by one) on the same scenarios."""
    import scipy.sparse as sp

    import lcasolve
    from lcasolve.io.datapackage import write
    from lcasolve.parameters import ParameterBatch
    from lcasolve.synthetic import generate

    out: dict[str, Any] = {"processes": processes, "scenarios": count, "share": share}
    with tempfile.TemporaryDirectory() as tmp:
        path = write(generate(processes, seed=42), Path(tmp) / "eco.zip")
        system = lcasolve.load(path)
        j = int(np.argmax(np.diff(system.A.indptr)))
        demand = {system.activities["product_id"].iloc[j]: 1.0}
        index, values = scenarios(system, count, share, seed)
        batch = ParameterBatch(system, demand)
        batch.entry_scores({"technosphere": (index, values[:, :2])})  # kernels, baseline
        t = time.perf_counter()
        h = batch.entry_scores({"technosphere": (index, values)})[:, 0]
        out["lcasolve_s"] = time.perf_counter() - t

        warnings.simplefilter("ignore")
        import bw2calc as bc
        import bw_processing as bwp
        from fsspec.implementations.zip import ZipFileSystem

        out["bw2calc_solver"] = (
            "pardiso" if bc.PYPARDISO else "umfpack" if bc.UMFPACK else "superlu"
        )
        dp = bwp.load_datapackage(ZipFileSystem(str(path)))
        method = tuple(dp.get_resource("characterization-0.indices")[1]["identifier"])
        pid = int(next(iter(demand)))
        lca = bc.LCA({pid: 1.0}, data_objs=[dp], method=method)
        lca.lci()
        lca.lcia()
        tech = system.technosphere
        act = system.activities
        rows = np.array([lca.dicts.product[int(act["product_id"].iloc[r])] for r in tech.row])
        cols = np.array([lca.dicts.activity[int(act["id"].iloc[c])] for c in tech.col])
        shape = lca.technosphere_matrix.shape
        scores, times = [], []
        for k in range(count):
            value = tech.value.copy()
            value[index] = values[:, k]
            t = time.perf_counter()
            lca.technosphere_matrix = sp.csr_matrix((value, (rows, cols)), shape=shape)
            if out["bw2calc_solver"] != "pardiso":
                lca.decompose_technosphere()
            lca.lci_calculation()
            lca.lcia_calculation()
            times.append(time.perf_counter() - t)
            scores.append(float(lca.score))
        out["bw2calc_s"] = float(np.sum(times))
        out["speedup"] = out["bw2calc_s"] / out["lcasolve_s"]
        out["max_relative_difference"] = float(
            np.max(np.abs(h - np.asarray(scores)) / np.abs(np.asarray(scores)))
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
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.processes, args.scenarios, args.share, args.seed)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
