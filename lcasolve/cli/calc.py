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
    # the tables' columns, not their DataFrames: a datapackage's calc runs without pandas
    names = system.column("categories", "name")
    scores = dict(zip(names, result.score_array.tolist(), strict=True))
    units = dict(zip(names, system.column("categories", "unit"), strict=True))
    top_n = args.top or 0
    tops = {str(k): result.contribution_records(k, top=top_n) if top_n else [] for k in names}
    payload = {
        "scores": scores,
        "unit": units,
        "demand": demand_rows(system, demand),
        "method": list(args.method) if args.method else None,
        "categories": names,
        "top": tops,
        "residual": result.residual,
        "condition": result.condition,
        "error_bound": result.error_bound,
        "seconds": seconds,
    }
    if getattr(args, "json", False):
        emit(args, payload, "")
        return 0
    lines = [f"{'category':<40} {'score':>16}  unit"]
    lines += [f"{k:<40} {v:>16.6g}  {units[k]}" for k, v in scores.items()]
    if top_n and system.n_categories:
        first = str(names[0])
        records = tops[first]
        if not records:
            lines += ["", f"no activity contributes to {first} (score 0)"]
        else:
            import pandas as pd

            from lcasolve.lca import CONTRIBUTION_COLUMNS

            table = pd.DataFrame(records, columns=list(CONTRIBUTION_COLUMNS))
            table["share"] = [f"{100 * x:.1f}%" for x in table["share"]]
            lines += ["", f"top {top_n} activities for {first}:", table.to_string(index=False)]
    lines.append(
        f"\nrelative residual {result.residual:.2e}, condition {result.condition:.2e}, "
        f"error bound {result.error_bound:.2e}, solved in {seconds:.3f} s"
    )
    emit(args, payload, "\n".join(lines))
    return 0
