"""Sensitivity benchmarks: local sensitivities of one score to every entry; Spearman/SRC.

pytest-benchmark (small case)::

    python -m pytest benchmarks/bench_sensitivity.py --benchmark-only

Whole-run figures on eco20k (``lcasolve.synthetic.generate(20000)``, or the stand-in of
``benchmarks/bench_mc.py`` while the generator is not installed)::

    python -m benchmarks.bench_sensitivity --processes 20000 --iterations 10000

The local figure is compared with one plain LCA calculation in the same run (factorization and
one solve), since the adjoint costs one more solve with the same factors.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pytest

from lcasolve.lca import LCA
from lcasolve.model import System
from lcasolve.sensitivity import local_sensitivities, screen, spearman, src


def make_system(n: int, seed: int = 42) -> System:
    try:
        from lcasolve.synthetic import generate
    except ImportError:
        from benchmarks.bench_mc import standin

        return standin(n, seed)
    return generate(n, seed=seed)


def demand_of(system: System) -> dict:
    return {system.activities["product_id"].iloc[0]: 1.0}


@pytest.fixture(scope="module")
def small() -> System:
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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--processes", type=int, default=20000)
    p.add_argument("--iterations", type=int, default=10000)
    args = p.parse_args()
    t0 = time.perf_counter()
    system = make_system(args.processes)
    t_gen = time.perf_counter() - t0
    demand = demand_of(system)
    t0 = time.perf_counter()
    LCA(system).calculate(demand)
    t_lca = time.perf_counter() - t0
    t0 = time.perf_counter()
    local = local_sensitivities(system, demand)
    t_local = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = local.to_frame()
    t_frame = time.perf_counter() - t0
    t0 = time.perf_counter()
    chosen = screen(local)
    t_screen = time.perf_counter() - t0
    # Spearman/SRC on iterations x the screened set: inputs drawn from the screened entries'
    # spread, output their linearized score (the arrays a MonteCarlo record= run hands over).
    rng = np.random.default_rng(1)
    cols, sens = [], []
    for m, idx in chosen.record.items():
        if len(idx):
            e = getattr(system, m)
            std = np.sqrt(chosen.share[m]) + 1e-12
            cols.append(e.value[idx] + rng.standard_normal((args.iterations, len(idx))) * std)
            sens.append(local.sensitivity(m)[idx])
    X = np.hstack(cols)
    y = X @ np.concatenate(sens) + rng.standard_normal(args.iterations) * 1e-3 * np.abs(X).mean()
    t0 = time.perf_counter()
    rho = spearman(X, y)
    beta, r2 = src(X, y)
    t_gsa = time.perf_counter() - t0
    out = {
        "processes": args.processes,
        "technosphere_entries": len(system.technosphere),
        "biosphere_entries": len(system.biosphere),
        "generate_s": t_gen,
        "lca_first_demand_s": t_lca,
        "local_all_entries_s": t_local,
        "local_to_frame_s": t_frame,
        "local_over_lca": t_local / t_lca,
        "rows_with_nonzero_sensitivity": len(frame),
        "screen_s": t_screen,
        "screened": chosen.n_kept,
        "uncertain": chosen.n_uncertain,
        "screened_first_order_share": chosen.explained,
        "iterations": args.iterations,
        "spearman_src_s": t_gsa,
        "src_r2": r2,
        "max_abs_spearman": float(np.abs(rho).max()),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
