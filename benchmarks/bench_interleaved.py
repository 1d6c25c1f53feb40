"""lcasolve and one bw2calc solver alternating on the same datapackage, minima of the rounds.

On a shared machine the load changes between the tool runs of ``lcasolve bench``; here each
round runs every tool once, in turn, and the fastest round of each tool counts, so that both
see the same states of the machine::

    python benchmarks/bench_interleaved.py [n_processes] [rounds] [peer]
    # defaults: 20000 (eco20k), 3, bw2calc-umfpack

Per tool: the in-process figures of :func:`lcasolve.benchmark.measure` (first and further
functional units) and the whole process of :func:`lcasolve.benchmark.whole_process`, each in
its own child process; printed as JSON with the peer/lcasolve ratios of the minima.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from lcasolve.benchmark import _demands, byte_compile_lcasolve, machine, measure, whole_process
from lcasolve.io import datapackage
from lcasolve.synthetic import generate


def main(n: int = 20000, rounds: int = 3, peer: str = "bw2calc-umfpack") -> dict[str, object]:
    """Alternate lcasolve and ``peer`` for ``rounds`` rounds; the minima and their ratios."""
    tools = ("lcasolve", peer)
    byte_compile_lcasolve()
    demands = _demands(n, 21, 42)
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in tools}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"eco{n}.zip"
        datapackage.write(generate(n, seed=42), path)
        for _ in range(rounds):
            for tool in tools:
                row = measure(tool, path, demands)
                row.update(whole_process(tool, path, demands[0], repeat=1))
                runs[tool].append(row)
                print(tool, {k: row.get(k) for k in ("first_s", "further_ms", "process_s")})
    best = {
        t: {k: min(r[k] for r in runs[t]) for k in ("first_s", "further_ms", "process_s")}
        for t in tools
    }
    ratios = {k: best[peer][k] / best["lcasolve"][k] for k in best["lcasolve"]}
    return {"machine": machine(), "n": n, "rounds": rounds, "best": best, "ratios": ratios}


if __name__ == "__main__":
    args = sys.argv[1:]
    report = main(
        int(args[0]) if args else 20000,
        int(args[1]) if len(args) > 1 else 3,
        args[2] if len(args) > 2 else "bw2calc-umfpack",
    )
    print(json.dumps(report, indent=1))
