"""``lcasolve calc``: scores of one functional unit."""

from __future__ import annotations

import argparse
import time

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    demand_rows,
    emit,
    load_with_demand,
)

__all__ = ["demand_rows", "register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``calc`` sub-command."""
    p = sub.add_parser("calc", help="scores of one functional unit")
    add_input_arguments(p)
    add_demand_arguments(p)
    add_accuracy_argument(p)


def run(args: argparse.Namespace) -> int:
    """Load, solve and print scores, units, residual, condition, error bound and seconds."""
    from lcasolve.lca import LCA

    system, demand = load_with_demand(args)
    start = time.perf_counter()
    result = LCA(system, allow_ill_conditioned=args.allow_ill_conditioned).calculate(demand)
    seconds = time.perf_counter() - start
    scores = result.scores
    units = dict(zip(system.categories["name"], system.categories["unit"], strict=True))
    top_n = args.top or 0
    tops = {
        str(k): result.contributions(k, top=top_n) if top_n else None
        for k in system.categories["name"]
    }
    payload = {
        "scores": {k: float(v) for k, v in scores.items()},
        "unit": units,
        "demand": demand_rows(system, demand),
        "method": list(args.method) if args.method else None,
        "categories": system.categories["name"].tolist(),
        "top": {
            k: frame.to_dict(orient="records") if frame is not None else []
            for k, frame in tops.items()
        },
        "residual": result.residual,
        "condition": result.condition,
        "error_bound": result.error_bound,
        "seconds": seconds,
    }
    lines = [f"{'category':<40} {'score':>16}  unit"]
    lines += [f"{k:<40} {v:>16.6g}  {units[k]}" for k, v in scores.items()]
    if top_n and system.n_categories:
        first = str(system.categories["name"].iloc[0])
        frame = tops[first]
        assert frame is not None  # top_n > 0
        if frame.empty:
            lines += ["", f"no activity contributes to {first} (score 0)"]
        else:
            table = frame.copy()
            table["share"] = [f"{100 * x:.1f}%" for x in table["share"]]
            lines += ["", f"top {top_n} activities for {first}:", table.to_string(index=False)]
    lines.append(
        f"\nrelative residual {result.residual:.2e}, condition {result.condition:.2e}, "
        f"error bound {result.error_bound:.2e}, solved in {seconds:.3f} s"
    )
    emit(args, payload, "\n".join(lines))
    return 0
