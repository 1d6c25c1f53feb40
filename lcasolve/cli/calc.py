"""``lcasolve calc``: scores of one functional unit."""

from __future__ import annotations

import argparse
import time

from lcasolve.cli._common import (
    add_demand_arguments,
    add_input_arguments,
    emit,
    load_system,
    parse_demand,
)

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``calc`` sub-command."""
    p = sub.add_parser("calc", help="scores of one functional unit")
    add_input_arguments(p)
    add_demand_arguments(p)


def run(args: argparse.Namespace) -> int:
    """Load, solve and print scores, units, residual and seconds."""
    from lcasolve.lca import LCA

    demand = parse_demand(args.demand)
    system = load_system(args)
    from lcasolve.search import resolve_demand

    demand = resolve_demand(system, demand)
    start = time.perf_counter()
    result = LCA(system).calculate(demand)
    seconds = time.perf_counter() - start
    scores = result.scores
    units = dict(zip(system.categories["name"], system.categories["unit"], strict=True))
    payload = {
        "scores": {k: float(v) for k, v in scores.items()},
        "unit": units,
        "residual": result.residual,
        "seconds": seconds,
    }
    lines = [f"{'category':<40} {'score':>16}  unit"]
    lines += [f"{k:<40} {v:>16.6g}  {units[k]}" for k, v in scores.items()]
    if args.top and system.n_categories:
        first = system.categories["name"].iloc[0]
        top = result.contributions(first, top=args.top)
        lines += ["", f"top {args.top} activities for {first}:", top.to_string(index=False)]
    lines.append(f"\nrelative residual {result.residual:.2e}, solved in {seconds:.3f} s")
    emit(args, payload, "\n".join(lines))
    return 0
