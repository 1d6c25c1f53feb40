"""Monte Carlo benchmarks: ms per iteration, split, scaling, and bw2calc side by side.

pytest-benchmark (small cases)::

    python -m pytest benchmarks/bench_mc.py --benchmark-only

Whole-run figures with the bw2calc peer on the same datapackage::

    python -m benchmarks.bench_mc --processes 20000 --iterations 640 --peer bw2calc

The system is ``lcasolve.synthetic.generate(n)`` (eco20k for n = 20000) when that module is
installed; otherwise a stand-in with the same documented shape (one large strongly connected
component, heavy-tailed supplier popularity, ~12 technosphere and ~25 biosphere entries per
activity, lognormal uncertainty on every off-diagonal technosphere and every biosphere entry, one
GWP100-like category).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcasolve.model import System
from lcasolve.model.entries import UNCERTAINTY_DTYPE, Entries


def _lognormal(amount: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    r = np.zeros(amount.size, dtype=UNCERTAINTY_DTYPE)
    r["uncertainty_type"] = 2
    r["loc"] = np.log(np.abs(amount))
    r["scale"] = sigma
    r["shape"] = r["minimum"] = r["maximum"] = np.nan
    r["negative"] = amount < 0
    return r


def standin(n: int, seed: int = 42) -> System:
    """Ecoinvent-like stand-in used while ``lcasolve.synthetic`` is not installed."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n + 1) ** 0.9
    popularity = rng.permutation(popularity / popularity.sum())
    per = 12
    sup = rng.choice(n, size=(n, per), p=popularity)
    cols = np.repeat(np.arange(n), per)
    rows = sup.ravel()
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    amount = rng.lognormal(-3.5, 1.2, rows.size)
    colsum = np.bincount(cols, weights=amount, minlength=n)
    target = rng.uniform(0.3, 0.8, n)
    amount *= (target / np.maximum(colsum, 1e-12))[cols]
    t_row = np.r_[np.arange(n), rows]
    t_col = np.r_[np.arange(n), cols]
    flip = np.r_[np.zeros(n, bool), np.ones(rows.size, bool)]
    unc = np.r_[
        _lognormal(np.ones(n), np.full(n, 0.1)),
        _lognormal(amount, rng.uniform(0.05, 0.4, rows.size)),
    ]
    unc["uncertainty_type"][:n] = 0
    tech = Entries.create(
        (n, n), t_row, t_col, np.r_[np.ones(n), -amount], uncertainty=unc, flip=flip
    )
    m = 2000
    fpop = 1.0 / np.arange(1, m + 1) ** 1.1
    fpop /= fpop.sum()
    b_row = rng.choice(m, size=25 * n, p=fpop)
    b_col = np.repeat(np.arange(n), 25)
    b_val = rng.lognormal(-4.0, 2.0, b_row.size)
    bio = Entries.create(
        (m, n),
        b_row,
        b_col,
        b_val,
        uncertainty=_lognormal(b_val, rng.uniform(0.05, 0.5, b_val.size)),
    )
    cf_flows = np.arange(0, m, 13)
    char = Entries.create(
        (1, m), np.zeros(cf_flows.size, int), cf_flows, rng.uniform(0.5, 300, cf_flows.size)
    )
    acts = pd.DataFrame(
        {
            "id": np.arange(n),
            "name": "activity",
            "product_id": np.arange(n),
            "product": "product",
            "unit": "kg",
            "location": "GLO",
        }
    )
    flows = pd.DataFrame({"id": np.arange(m), "name": "flow", "compartment": "air", "unit": "kg"})
    cats = pd.DataFrame({"id": ["GWP100"], "name": ["GWP100"], "unit": ["kg CO2-eq"]})
    return System(tech, bio, char, acts, flows, cats)


def make_system(n: int, seed: int = 42) -> tuple[System, str]:
    """The benchmark system of ``n`` activities and where it came from."""
    try:
        from lcasolve.synthetic import generate
    except ImportError:
        return standin(n, seed), "stand-in (lcasolve.synthetic not installed)"
    return generate(n, seed=seed), "lcasolve.synthetic.generate"


def demand_of(system: System) -> dict:
    """A demand on the most connected product (reaches the big cycle)."""
    A = system.A  # noqa: N806
    j = int(np.argmax(np.diff(A.indptr)))
    return {system.activities["product_id"].iloc[j]: 1.0}


# ----------------------------------------------------------------------------- pytest-benchmark


@pytest.fixture(scope="module")
def sys5k():
    return make_system(5000)[0]


@pytest.mark.parametrize("batch", [16, 64])
def test_bench_mc_5k(benchmark, sys5k, batch):
    from lcasolve.montecarlo import MonteCarlo

    mc = MonteCarlo(sys5k, demand_of(sys5k), batch_size=batch)
    mc.run(batch, seed=0)  # compile and factorize
    res = benchmark(lambda: mc.run(4 * batch, seed=1))
    assert res.n_fallback == 0


# ----------------------------------------------------------------------------- script


def time_run(mc, iterations: int, seed: int = 1) -> dict:
    """Wall ms per iteration and the split of a run."""
    mc.run(min(iterations, mc.batch_size), seed=seed + 1000)  # warm: compile, factorize
    t = time.perf_counter()
    res = mc.run(iterations, seed=seed)
    wall = time.perf_counter() - t
    split = {k: 1000 * v / iterations for k, v in res.timing.items()}
    return {
        "ms_per_iteration": 1000 * wall / iterations,
        "split_ms": split,
        "n_fallback": res.n_fallback,
        "mean": float(res.scores.mean()),
    }


def write_datapackage(system: System, path: Path) -> Path:
    """The system as a bw_processing datapackage (via lcasolve.io.datapackage when installed)."""
    try:
        from lcasolve.io.datapackage import write

        return write(system, path)
    except Exception as exc:  # noqa: BLE001 - not installed or failing: write it here
        print(f"lcasolve.io.datapackage.write unusable ({exc!r}); writing with bw_processing")
    import bw_processing as bwp
    from fsspec.implementations.zip import ZipFileSystem

    dp = bwp.create_datapackage(fs=ZipFileSystem(str(path), mode="w"), name="bench")
    acts = system.activities
    for name, e, rows, cols in (
        (
            "technosphere_matrix",
            system.technosphere,
            acts["product_id"].to_numpy()[system.technosphere.row],
            acts["id"].to_numpy()[system.technosphere.col],
        ),
        (
            "biosphere_matrix",
            system.biosphere,
            system.flows["id"].to_numpy()[system.biosphere.row] + 10_000_000,
            acts["id"].to_numpy()[system.biosphere.col],
        ),
    ):
        idx = np.zeros(len(e), dtype=bwp.INDICES_DTYPE)
        idx["row"], idx["col"] = rows, cols
        dist = np.zeros(len(e), dtype=bwp.UNCERTAINTY_DTYPE)
        for f in UNCERTAINTY_DTYPE.names:
            dist[f] = e.uncertainty[f]
        dp.add_persistent_vector(
            matrix=name,
            name=name,
            indices_array=idx,
            data_array=e.amount,
            flip_array=e.flip if name == "technosphere_matrix" else None,
            distributions_array=dist,
        )
    c = system.characterization
    idx = np.zeros(len(c), dtype=bwp.INDICES_DTYPE)
    idx["row"] = system.flows["id"].to_numpy()[c.col] + 10_000_000
    idx["col"] = 0
    dp.add_persistent_vector(
        matrix="characterization_matrix", name="cf", indices_array=idx, data_array=c.value
    )
    dp.finalize_serialization()
    return path


def bw2calc_ms(path: Path, demand: dict, iterations: int, iterative: bool) -> dict:
    """bw2calc 3.x Monte Carlo ms per iteration on a datapackage."""
    import bw2calc
    from bw_processing import load_datapackage
    from fsspec.implementations.zip import ZipFileSystem

    dp = load_datapackage(ZipFileSystem(str(path)))
    cls = getattr(bw2calc, "IterativeLCA", None) if iterative else bw2calc.LCA
    if cls is None:
        return {"available": False}
    lca = cls(demand, data_objs=[dp], use_distributions=True, seed_override=1)
    t = time.perf_counter()
    lca.lci()
    lca.lcia()
    first = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(iterations):
        next(lca)
    return {"first_s": first, "ms_per_iteration": 1000 * (time.perf_counter() - t) / iterations}


def main(argv: list[str] | None = None) -> dict:
    """Print (and return) the Monte Carlo figures."""
    from lcasolve.montecarlo import MonteCarlo

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--processes", default="20000")
    p.add_argument("--iterations", type=int, default=640)
    p.add_argument("--batches", default="16,64")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--peer", default=None, choices=(None, "bw2calc"))
    p.add_argument("--peer-iterations", type=int, default=10)
    p.add_argument("--json", default=None, help="also write the figures here")
    args = p.parse_args(argv)
    out: dict = {}
    for n in [int(x) for x in args.processes.split(",")]:
        t = time.perf_counter()
        system, source = make_system(n)
        demand = demand_of(system)
        fig: dict = {"source": source, "build_s": time.perf_counter() - t, **system.describe()}
        for skip in (True, False):
            mc = MonteCarlo(system, demand, skip=skip, batch_size=64)
            fig[f"skip={skip}"] = time_run(mc, args.iterations)
        for k in [int(x) for x in args.batches.split(",")]:
            fig[f"K={k}"] = time_run(MonteCarlo(system, demand, batch_size=k), args.iterations)
        for th in [int(x) for x in args.threads.split(",")]:
            fig[f"threads={th}"] = time_run(MonteCarlo(system, demand, threads=th), args.iterations)
        if args.peer == "bw2calc":
            with tempfile.TemporaryDirectory() as tmp:
                path = write_datapackage(system, Path(tmp) / "bench.zip")
                bw_demand = {int(k): v for k, v in demand.items()}
                fig["bw2calc IterativeLCA"] = bw2calc_ms(
                    path, bw_demand, args.peer_iterations, True
                )
                fig["bw2calc LCA"] = bw2calc_ms(
                    path, bw_demand, max(2, args.peer_iterations // 5), False
                )
                ours = fig["skip=True"]["ms_per_iteration"]
                for peer in ("bw2calc IterativeLCA", "bw2calc LCA"):
                    if "ms_per_iteration" in fig[peer]:
                        fig[peer]["ratio_to_lcasolve"] = fig[peer]["ms_per_iteration"] / ours
        out[str(n)] = fig
        print(json.dumps({n: fig}, indent=2, default=float), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=float))
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
