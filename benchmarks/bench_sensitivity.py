"""Sensitivity benchmarks: local sensitivities of one score to every entry; Spearman/SRC.

pytest-benchmark (small case)::

    python -m pytest benchmarks/bench_sensitivity.py --benchmark-only

Whole-run figures on eco20k (``lcasolve.synthetic.generate(20000, seed=42)``)::

    python -m benchmarks.bench_sensitivity --processes 20000 --iterations 10000 \
        --json benchmarks/results/sensitivity.json

Local: sensitivities and elasticities of the GWP100 score to all A, B and C entries (one adjoint
solve with the factorization of the supply solve), timed cold (factorization included) and warm
(factorization reused), plus the ranked table with ids and names. Global: screening with the
local importance, a Monte Carlo run of ``--iterations`` that records the screened inputs, then
Spearman and SRC (with R²) on iterations × screened set.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from lcasolve.lca import LCA
from lcasolve.sensitivity import global_sensitivities, local_sensitivities, screen, spearman, src


def make_system(n: int, seed: int = 42):
    from lcasolve.synthetic import generate

    return generate(n, seed=seed)


def demand_of(system) -> dict:
    """One unit of the most connected product (as in bench_mc)."""
    from benchmarks.bench_mc import demand_of as most_connected

    return most_connected(system)


@pytest.fixture(scope="module")
def small():
    return make_system(2000)


def test_local_all_entries(benchmark, small):
    lca = LCA(small)
    lca.factorization  # noqa: B018 - factorize outside the timing
    demand = demand_of(small)
    res = benchmark(lambda: local_sensitivities(lca, demand).to_frame())
    assert len(res) > 0


def test_spearman_src_10k(benchmark):
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(10000, 200))
    y = X @ rng.uniform(size=200)
    benchmark(lambda: (spearman(X, y), src(X, y)))


def main(argv: list[str] | None = None) -> dict:
    from lcasolve.montecarlo import MonteCarlo

    p = argparse.ArgumentParser()
    p.add_argument("--processes", type=int, default=20000)
    p.add_argument("--iterations", type=int, default=10000)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    load_before = os.getloadavg()
    system = make_system(args.processes)
    demand = demand_of(system)
    category = system.categories["id"].iloc[0]
    local_sensitivities(make_system(500), {1: 1.0})  # imports and caches outside the timing
    spearman(np.arange(6.0).reshape(3, 2), np.arange(3.0))
    t0 = time.perf_counter()
    local = local_sensitivities(system, demand, category)  # cold: factorizes
    t_cold = time.perf_counter() - t0
    lca = LCA(system)
    lca.calculate(demand)
    t0 = time.perf_counter()
    local = local_sensitivities(lca, demand, category)  # warm: factorization reused
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = local.to_frame()
    t_frame = time.perf_counter() - t0
    t0 = time.perf_counter()
    chosen = screen(local)
    t_screen = time.perf_counter() - t0
    mc = MonteCarlo(system, demand, categories=[category])
    mc.run(64, seed=99)  # warm
    t0 = time.perf_counter()
    res = mc.run(args.iterations, seed=1, record=chosen.record)
    t_mc = time.perf_counter() - t0
    t0 = time.perf_counter()
    gsa = global_sensitivities(res, chosen)
    t_gsa = time.perf_counter() - t0
    out = {
        "processes": args.processes,
        "technosphere_entries": len(system.technosphere),
        "biosphere_entries": len(system.biosphere),
        "characterization_entries": len(system.characterization),
        "local_cold_s": t_cold,
        "local_warm_s": t_warm,
        "local_to_frame_s": t_frame,
        "rows_with_nonzero_sensitivity": len(frame),
        "residual": local.residual,
        "screen_s": t_screen,
        "screened": chosen.n_kept,
        "uncertain_with_nonzero_first_order": chosen.n_uncertain,
        "screened_first_order_share": chosen.explained,
        "iterations": args.iterations,
        "mc_with_record_s": t_mc,
        "spearman_src_s": t_gsa,
        "src_r2": gsa.r2,
        "top_inputs": gsa.top(5).to_dict("records"),
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }
    print(json.dumps(out, indent=2, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
