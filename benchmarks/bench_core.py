"""Core benchmarks: factorization, solves and all-activity scores, lcasolve beside bw2calc.

pytest-benchmark, same datapackage for both tools (5k activities by default, set
``LCASOLVE_BENCH_N=20000`` for eco20k)::

    python -m pytest benchmarks/bench_core.py --benchmark-only

The full side-by-side run (each tool in its own process, peak memory, ratios) is
``lcasolve bench --processes 5000,20000,50000`` (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import lcasolve
from lcasolve.io import datapackage
from lcasolve.solve import available_backends, factorize
from lcasolve.synthetic import generate

N = int(os.environ.get("LCASOLVE_BENCH_N", "5000"))


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    system = generate(N, seed=42)
    path = tmp_path_factory.mktemp("bench") / f"eco{N}.zip"
    datapackage.write(system, path)
    return system, path


@pytest.fixture(scope="module")
def demand_ids():
    rng = np.random.default_rng(0)
    return [int(i) + 1 for i in rng.choice(N, size=20, replace=False)]


def test_lcasolve_load(benchmark, package):
    _, path = package
    system = benchmark(lcasolve.load, path)
    assert system.n_activities == N


def test_lcasolve_factorize(benchmark, package):
    system, _ = package
    A = system.A  # noqa: N806
    factorize(A[:10, :10] + 0)  # imports and compiled kernels loaded outside the timing
    fact = benchmark(factorize, A)
    benchmark.extra_info["factor_nnz"] = fact.factor_nnz
    assert fact.backend == ("klu" if "klu" in available_backends() else "btf")


def test_lcasolve_further_demand(benchmark, package, demand_ids):
    system, _ = package
    lca = lcasolve.LCA(system)
    lca.calculate({demand_ids[0]: 1.0})
    it = iter(demand_ids * 1000)
    result = benchmark(lambda: lca.calculate({next(it): 1.0}))
    assert result.residual <= 1e-10


def test_lcasolve_all_activity_scores(benchmark, package):
    system, _ = package
    lca = lcasolve.LCA(system)
    _ = lca.factorization
    scores = benchmark(lca.activity_scores)
    assert scores.lam.shape == (N, system.n_categories)


def _bw2calc_lca(path, demand):
    bc = pytest.importorskip("bw2calc")
    import bw_processing as bwp
    from fsspec.implementations.zip import ZipFileSystem

    dp = bwp.load_datapackage(ZipFileSystem(str(path)))
    method = tuple(dp.get_resource("characterization-0.indices")[1]["identifier"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lca = bc.LCA({demand: 1.0}, data_objs=[dp], method=method)
        lca.load_lci_data()
        lca.load_lcia_data()
        lca.build_demand_array()
    return bc, lca


def test_bw2calc_first_demand(benchmark, package, demand_ids):
    """bw2calc's default solver (pypardiso when installed): factorize and solve, loaded before."""
    _, path = package

    def setup():
        return (_bw2calc_lca(path, demand_ids[0])[1],), {}

    def first(lca):
        lca.lci_calculation()
        lca.lcia_calculation()
        return lca.score

    benchmark.pedantic(first, setup=setup, rounds=3, iterations=1)


def test_lcasolve_first_demand(benchmark, package, demand_ids):
    system, _ = package
    factorize(system.A[:10, :10] + 0)

    def first():
        return lcasolve.LCA(system).calculate({demand_ids[0]: 1.0}).scores.iloc[0]

    benchmark.pedantic(first, rounds=3, iterations=1)


def test_bw2calc_further_demand(benchmark, package, demand_ids):
    _, path = package
    _, lca = _bw2calc_lca(path, demand_ids[0])
    lca.lci_calculation()
    it = iter(demand_ids * 1000)

    def further():
        lca.build_demand_array({next(it): 1.0})
        lca.lci_calculation()
        lca.lcia_calculation()
        return lca.score

    benchmark(further)
