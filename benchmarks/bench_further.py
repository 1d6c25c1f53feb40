"""A further demand on eco20k: ``LCA.calculate`` and KLU's solve alone, per KLU path.

One process; after a first demand, 59 other products one at a time (medians)::

    python benchmarks/bench_further.py [datapackage.zip]   # default /work/data/eco20k.zip

Paths: KLU called directly with AMD's dense-row threshold at 2√n (lcasolve's default) and at
10√n (AMD's default), and KLU through kvxopt's module (its own ordering, 10√n).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main(path: str) -> dict[str, dict[str, float]]:
    """Median ``calculate`` and raw-solve milliseconds per path."""
    import lcasolve
    from lcasolve.lca import LCA
    from lcasolve.solve import _libklu

    system = lcasolve.load(path)
    products = system.column("activities", "product_id")[100:160]
    found = _libklu.load
    saved = _libklu.AMD_DENSE
    out: dict[str, dict[str, float]] = {}
    try:
        for name, dense in (("direct 2", 2.0), ("direct 10", 10.0), ("kvxopt", 10.0)):
            _libklu.load = found if name.startswith("direct") else (lambda: None)  # type: ignore[assignment]
            _libklu.AMD_DENSE = dense
            lca = LCA(system)
            lca.calculate({products[0]: 1.0})
            fact = lca.factorization
            b = np.zeros(system.n_activities)
            calc, solve = [], []
            for pid in products[1:]:
                t = time.perf_counter()
                lca.calculate({pid: 1.0})
                calc.append(time.perf_counter() - t)
                b[:] = 0.0
                b[system.product_position(pid)] = 1.0
                t = time.perf_counter()
                fact._solve(b, False)
                solve.append(time.perf_counter() - t)
            out[name] = {
                "calculate_ms": 1e3 * float(np.median(calc)),
                "solve_ms": 1e3 * float(np.median(solve)),
                "factor_nnz": fact.factor_nnz,
            }
    finally:
        _libklu.load = found  # type: ignore[assignment]
        _libklu.AMD_DENSE = saved
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "/work/data/eco20k.zip"), indent=1))
