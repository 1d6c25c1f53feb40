"""Hotspot benchmarks: upstream tree and Sankey, lcasolve beside bw_graph_tools, same datapackage.

Each tool runs in its own process (peak memory is its own; bw2calc gets one solver by hiding
the others). The case is eco20k (``lcasolve generate --processes 20000``, seed 42), one
downstream product whose supply chain reaches the big cycle, cut-off 0.005, 1,000 nodes::

    python benchmarks/bench_hotspots.py --processes 20000 --out benchmarks/results/hotspots.json
    python benchmarks/bench_hotspots.py --processes 200000 --peer none   # the large case

lcasolve: *tree* is ``LCA.tree`` once factorized — the first call includes the adjoint solve
for every product's score (``λ``) and the functional unit's supply; *tree again* reuses ``λ``.
bw_graph_tools: ``NewNodeEachVisitGraphTraversal(cutoff=0.005, max_calc=1000)`` after
``lci()``/``lcia()`` with that solver (factorization done before the timing).
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
import warnings
from pathlib import Path
from typing import Any

import numpy as np

#: (cut-off, node budget): the case of the issue, and a deeper one that fills the budget
CASES = ((0.005, 1000), (0.0001, 1000))
MAX_NODES = 1000
SANKEY_NODES = 200


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def product_of(system: Any) -> int:
    """The first downstream product (its chain enters the big cycle) of a generated database."""
    acts = system.activities
    return int(acts.loc[acts["role"] == "downstream", "product_id"].iloc[0])


def measure_lcasolve(path: Path, product: int, cutoff: float) -> dict[str, Any]:
    import lcasolve
    import lcasolve.hotspots  # noqa: F401 - imported before the timings, as bw's modules are

    # the one-off loading of the Numba kernel from its cache, measured on its own (as bw2calc's
    # imports happen before its timings)
    t = time.perf_counter()
    tiny = lcasolve.build_system(
        [(1, 1, 1.0), (2, 1, -0.5), (2, 2, 1.0)], [("x", 2, 1.0)], {"c": {"x": 1.0}}
    )
    lcasolve.LCA(tiny).tree({1: 1.0})
    out: dict[str, Any] = {"warmup_s": time.perf_counter() - t}
    t0 = time.perf_counter()
    system = lcasolve.load(path)
    out["load_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    lca = lcasolve.LCA(system)
    lca.factorization  # noqa: B018 - factorize now, to time it on its own
    out["factorize_s"] = time.perf_counter() - t
    demand = {product: 1.0}
    t = time.perf_counter()
    lca.calculate(demand).score()  # the counterpart of bw2calc's lci() + lcia()
    out["calculate_ms"] = 1e3 * (time.perf_counter() - t)
    t = time.perf_counter()
    tree = lca.tree(demand, cutoff=cutoff, max_nodes=MAX_NODES)
    out["tree_first_ms"] = 1e3 * (time.perf_counter() - t)
    again = []
    for _ in range(5):
        t = time.perf_counter()
        tree = lca.tree(demand, cutoff=cutoff, max_nodes=MAX_NODES)
        again.append(time.perf_counter() - t)
    out["tree_again_ms"] = 1e3 * float(np.median(again))
    sankey = []
    for _ in range(5):
        t = time.perf_counter()
        graph = lca.graph(demand, min_share=1e-6, max_nodes=SANKEY_NODES)
        sankey.append(time.perf_counter() - t)
    out["sankey_ms"] = 1e3 * float(np.median(sankey))
    out["sankey_nodes"] = graph.n_nodes
    out["sankey_links"] = int(graph.source.size)
    out["total_s"] = time.perf_counter() - t0
    out["nodes"] = len(tree)
    out["coverage"] = tree.coverage
    out["truncated"] = tree.truncated
    out["score"] = tree.score
    out["peak_mb"] = peak_mb()
    ids = system.activities["id"].to_numpy()
    out["paths"] = {
        "/".join(str(ids[int(x)]) for x in p.split("/")): float(tree.cumulative[i, tree.k])
        for i, p in enumerate(tree.paths)
    }
    return out


def measure_bw(path: Path, product: int, solver: str, cutoff: float) -> dict[str, Any]:
    if solver != "pardiso":
        sys.modules["pypardiso"] = None  # type: ignore[assignment]
    if solver == "superlu":
        sys.modules["scikits.umfpack"] = None  # type: ignore[assignment]
    warnings.simplefilter("ignore")
    import bw2calc as bc
    import bw_processing as bwp
    from bw_graph_tools import NewNodeEachVisitGraphTraversal
    from bw_graph_tools.graph_traversal.settings import GraphTraversalSettings
    from fsspec.implementations.zip import ZipFileSystem

    used = "pardiso" if bc.PYPARDISO else "umfpack" if bc.UMFPACK else "superlu"
    if used != solver:
        raise RuntimeError(f"bw2calc solver {solver!r} not available (it would use {used!r})")
    out: dict[str, Any] = {}
    t = time.perf_counter()
    dp = bwp.load_datapackage(ZipFileSystem(str(path)))
    lca = bc.LCA({product: 1.0}, data_objs=[dp])
    lca.lci()
    lca.lcia()
    if solver != "pardiso":
        lca.decompose_technosphere()
    out["lci_s"] = time.perf_counter() - t
    t = time.perf_counter()
    settings = GraphTraversalSettings(
        cutoff=cutoff, max_calc=MAX_NODES, separate_biosphere_flows=False
    )
    traversal = NewNodeEachVisitGraphTraversal(lca, settings)
    traversal.traverse()
    out["tree_first_ms"] = 1e3 * (time.perf_counter() - t)
    out["nodes"] = len(traversal.nodes) - 1
    out["calculations"] = traversal.calculation_count
    out["score"] = float(lca.score)
    out["peak_mb"] = peak_mb()
    parent = {e.producer_unique_id: e.consumer_unique_id for e in traversal.edges}
    paths = {}
    for uid, node in traversal.nodes.items():
        if uid == -1:
            continue
        chain, u = [], uid
        while u != -1:
            chain.append(str(traversal.nodes[u].activity_datapackage_id))
            u = parent[u]
        paths["/".join(reversed(chain))] = float(node.cumulative_score)
    out["paths"] = paths
    return out


def child(tool: str, path: str, product: int, cutoff: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", tool, "--path", path, "--product", str(product)]
    cmd += ["--cutoff", repr(cutoff)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(ours: dict[str, float], theirs: dict[str, float]) -> dict[str, Any]:
    common = set(ours) & set(theirs)
    diff = max(
        (abs(ours[p] - theirs[p]) / max(abs(theirs[p]), 1e-300) for p in common), default=0.0
    )
    return {"common_nodes": len(common), "max_rel_diff": diff}


def report(name: str, case: dict[str, Any]) -> None:
    ours = case["lcasolve"]
    if "error" in ours:
        print(f"{name}: lcasolve: {ours['error']}")
        return
    print(
        f"{name}: lcasolve: load {ours['load_s']:.2f} s, factorize {ours['factorize_s']:.2f} s, "
        f"calculate {ours['calculate_ms']:.1f} ms, tree {ours['tree_first_ms']:.1f} ms "
        f"(again {ours['tree_again_ms']:.1f} ms; {ours['nodes']} nodes, coverage "
        f"{ours['coverage']:.1%}), Sankey {ours['sankey_ms']:.1f} ms ({ours['sankey_nodes']} "
        f"nodes); total {ours['total_s']:.1f} s, peak {ours['peak_mb']:.0f} MB"
    )
    for key, res in case.items():
        if key == "lcasolve":
            continue
        if "error" in res:
            print(f"  {key}: {res['error']}")
            continue
        res["check"] = compare(ours["paths"], res["paths"])
        print(
            f"  {key}: tree {res['tree_first_ms']:.0f} ms ({res['nodes']} nodes), "
            f"{res['tree_first_ms'] / ours['tree_first_ms']:.0f}x lcasolve's first tree; "
            f"{res['check']['common_nodes']} nodes in both, max rel. diff of cumulative scores "
            f"{res['check']['max_rel_diff']:.1e}; peak {res['peak_mb']:.0f} MB"
        )
    for res in case.values():
        res.pop("paths", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=20000)
    parser.add_argument("--peer", choices=("bw_graph_tools", "none"), default="bw_graph_tools")
    parser.add_argument("--solvers", default="umfpack,pardiso,superlu")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", default=None)
    parser.add_argument("--path", default=None)
    parser.add_argument("--product", type=int, default=None)
    parser.add_argument("--cutoff", type=float, default=None, help="one case only")
    args = parser.parse_args(argv)
    if args.child:
        path = Path(args.path)
        if args.child == "lcasolve":
            res = measure_lcasolve(path, args.product, args.cutoff)
        else:
            res = measure_bw(path, args.product, args.child.split("-", 1)[1], args.cutoff)
        print(json.dumps(res))
        return 0

    from lcasolve.io import datapackage
    from lcasolve.synthetic import generate

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"eco{args.processes}.zip"
        t = time.perf_counter()
        system = generate(args.processes, seed=42)
        datapackage.write(system, path)
        gen_s = time.perf_counter() - t
        product = product_of(system)
        del system
        results: dict[str, Any] = {
            "processes": args.processes,
            "product": product,
            "generate_and_write_s": gen_s,
            "load": os.getloadavg(),
        }
        cases = [c for c in CASES if args.cutoff is None or c[0] == args.cutoff]
        for cutoff, _ in cases:
            case: dict[str, Any] = {"lcasolve": child("lcasolve", str(path), product, cutoff)}
            if args.peer != "none":
                for solver in args.solvers.split(","):
                    key = f"bw_graph_tools-{solver}"
                    case[key] = child(f"bw-{solver}", str(path), product, cutoff)
            results[f"cutoff {cutoff:g}"] = case
    print(f"eco{args.processes}, product {product}, load average {results['load']}")
    for name, case in results.items():
        if name.startswith("cutoff "):
            report(name, case)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
