"""``lcasolve sensitivity``: ranked local sensitivities of the scores of one functional unit."""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from lcasolve.cli._common import (
    add_demand_arguments,
    add_input_arguments,
    emit,
    load_with_demand,
)

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``sensitivity`` sub-command."""
    p = sub.add_parser(
        "sensitivity",
        help="ranked sensitivities and elasticities of each score to every matrix entry",
    )
    add_input_arguments(p)
    add_demand_arguments(p)
    p.add_argument(
        "--rank-by",
        choices=("elasticity", "sensitivity", "importance"),
        default="elasticity",
        help="sort key (absolute value; importance = |sensitivity| x standard deviation)",
    )
    p.add_argument(
        "--parameters",
        action="store_true",
        help="rank the input parameters (exact derivatives through the formulas) instead of "
        "the matrix entries",
    )


def _plain(x: Any) -> Any:
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run(args: argparse.Namespace) -> int:
    """Load, take local sensitivities and print the top ``--top`` entries per category."""
    from lcasolve.errors import InputError
    from lcasolve.sensitivity import local_sensitivities

    if args.top is not None and args.top < 1:
        raise InputError(f"--top must be a positive integer, got {args.top}")
    system, demand = load_with_demand(args)
    if args.parameters:
        return _run_parameters(args, system, demand)
    start = time.perf_counter()
    local = local_sensitivities(system, demand)
    seconds = time.perf_counter() - start
    payload: dict[str, list[dict[str, Any]]] = {}
    lines: list[str] = []
    for q, k in enumerate(local.categories):
        name = str(system.categories["name"].iloc[k])
        top = local.top(args.top, system.categories["id"].iloc[k], rank_by=args.rank_by)
        payload[name] = [
            {
                "matrix": r.matrix,
                "row": _plain(r.row_id),
                "col": _plain(r.col_id),
                "value": _plain(r.value),
                "sensitivity": _plain(r.sensitivity),
                "elasticity": _plain(r.elasticity),
            }
            for r in top.itertuples()
        ]
        lines.append(f"{name}: score {local.scores[q]:.6g}; top {len(top)} by |{args.rank_by}|")
        show = top[["matrix", "row_name", "col_name", "value", "sensitivity", "elasticity"]]
        lines.append(show.to_string(index=False))
        lines.append("")
    lines.append(f"relative residual {local.residual:.2e}, computed in {seconds:.3f} s")
    emit(args, payload, "\n".join(lines))
    return 0


def _run_parameters(args: argparse.Namespace, system: Any, demand: Any) -> int:
    """Rank the input parameters by their exact local derivatives."""
    from lcasolve.parameters import parameter_sensitivities

    start = time.perf_counter()
    result = parameter_sensitivities(system, demand)
    seconds = time.perf_counter() - start
    payload: dict[str, list[dict[str, Any]]] = {}
    lines: list[str] = []
    columns = ["parameter", "value", "sensitivity", "elasticity", "importance"]
    for q, name in enumerate(result.categories):
        top = result.top(args.top, name, rank_by=args.rank_by)
        payload[name] = [{c: _plain(row[c]) for c in columns} for _, row in top.iterrows()]
        lines.append(
            f"{name}: score {result.scores[q]:.6g}; top {len(top)} parameters by |{args.rank_by}|"
        )
        lines.append(top[columns].to_string(index=False))
        lines.append("")
    lines.append(f"relative residual {result.residual:.2e}, computed in {seconds:.3f} s")
    emit(args, payload, "\n".join(lines))
    return 0
