"""Cost of the condition estimate on the first functional unit (issue 17, item 2).

One process; each round factorizes anew and times (a) factorization + one checked solve, the
first functional unit before the estimate existed, and (b) the Skeel condition estimate of
that factorization (:attr:`lcasolve.solve.Factorization.conditioning`), plus the error bound of
one solution; the rounds interleave so that a loaded machine affects both alike::

    python benchmarks/bench_conditioning.py [n_processes] [rounds]   # default 20000 (eco20k), 7

Prints one JSON object: medians and the overhead in percent of (a), per backend.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from lcasolve.solve import factorize
from lcasolve.synthetic import generate


def main(n: int = 20000, rounds: int = 7) -> dict[str, object]:
    """Time factorize + solve against the condition estimate, for the auto and btf backends."""
    system = generate(n, seed=42)
    labels = system.activities["id"].tolist()
    f = system.demand_vector({labels[17]: 1.0})
    out: dict[str, object] = {"n": n, "rounds": rounds}
    for backend in ("auto", "btf"):
        factorize(system.A, backend, labels=labels).solve(f)  # warm-up: imports, kernels
        first, cond, bound = [], [], []
        for _ in range(rounds):
            t = time.perf_counter()
            fact = factorize(system.A, backend, labels=labels)
            x = fact.solve(f).x
            first.append(time.perf_counter() - t)
            t = time.perf_counter()
            c = fact.conditioning
            cond.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = fact.error_bound(x, f)
            bound.append(time.perf_counter() - t)
        med = statistics.median
        out[fact.backend] = {
            "first_fu_s": med(first),
            "condition_s": med(cond),
            "error_bound_s": med(bound),
            "overhead_pct": 100 * (med(cond) + med(bound)) / med(first),
            "condition": c.condition,
            "error_bound": b,
            "per_round_overhead_pct": [
                round(100 * (c_ + b_) / f_, 1)
                for c_, b_, f_ in zip(cond, bound, first, strict=True)
            ],
        }
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*args), indent=1, default=float))
