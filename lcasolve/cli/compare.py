"""``lcasolve compare``: alternatives side by side, deterministic and paired Monte Carlo."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    demand_rows,
    emit,
    load_system,
    parse_demand,
)
from lcasolve.cli._usage import non_negative_int
from lcasolve.errors import UsageError

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``compare`` sub-command."""
    p = sub.add_parser(
        "compare",
        help="compare alternatives: differences and the paired probability that A < B",
        description="Score each --demand as its own alternative and compare every one with the "
        "first (or every pair with --pairs all): the deterministic difference B - A and ratio "
        "B / A per category, and with --iterations N a paired Monte Carlo (every alternative on "
        "the same draws): mean difference, its 95% interval and P(A < B).",
    )
    add_input_arguments(p)
    add_accuracy_argument(p)
    add_demand_arguments(p, top=None, each=True)
    p.add_argument(
        "--iterations",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="paired Monte Carlo iterations (default 0: deterministic only)",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="default 0")
    p.add_argument(
        "--pairs",
        choices=("first", "all"),
        default="first",
        help="compare each alternative with the first (default) or every pair",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Check the alternatives, load, compare and print per category."""
    from lcasolve.comparison import compare

    if len(args.demand) < 2:
        raise UsageError("compare needs at least two --demand ID=AMOUNT, one per alternative")
    seen: set[str] = set()
    for item in args.demand:
        if item in seen:
            raise UsageError(f"--demand {item!r} is given twice")
        seen.add(item)
    alternatives = {item: parse_demand([item]) for item in args.demand}
    system = load_system(args, sampling=args.iterations > 0)
    if args.iterations:
        from lcasolve.montecarlo import compile_kernels

        warm = compile_kernels("iterative")
        if warm.compiled and not args.json:
            print(f"compiling kernels once, ~{warm.seconds:.1f} s", file=sys.stderr, flush=True)
    start = time.perf_counter()
    from lcasolve.lca import LCA

    result = compare(
        LCA(system, allow_ill_conditioned=args.allow_ill_conditioned),
        alternatives,
        iterations=args.iterations,
        seed=args.seed,
        pairs=args.pairs,
        progress=False if args.no_progress else None,
    )
    seconds = time.perf_counter() - start
    payload = result.to_dict() | {
        "demands": {
            name: demand_rows(system, d)
            for name, d in zip(result.names, result.demands, strict=True)
        },
        "method": list(args.method) if args.method else None,
        "seconds": seconds,
    }
    emit(args, payload, _text(result, args.seed, seconds))
    return 0


def _number(x: float) -> str:
    return "n/a" if x != x else f"{x:.6g}"  # NaN: a ratio to a zero score


def _text(result: Any, seed: int, seconds: float) -> str:
    """Per category: each alternative's scores, then each pair's difference and probability."""
    n = len(result.names)
    mc = result.monte_carlo is not None
    head = f"{n} alternatives, each its own functional unit"
    head += (
        f"; paired Monte Carlo: {result.iterations} iterations, seed {seed}, the same draws for "
        "every alternative"
        if mc
        else "; deterministic only (--iterations N adds the paired Monte Carlo)"
    )
    lines = [head]
    scores = result.scores()
    pairs = result.to_frame()
    columns = ["deterministic", "mean", "2.5%", "97.5%"] if mc else ["deterministic"]
    for k, (category, unit) in enumerate(zip(result.categories, result.units, strict=True)):
        lines += ["", f"{category} [{unit}]"]
        block = scores.iloc[k * n : (k + 1) * n][columns].droplevel("category")
        block.index.name = None
        lines += ["  " + row for row in block.to_string(float_format=_number).splitlines()]
        rows = pairs.iloc[k * len(result.pairs) : (k + 1) * len(result.pairs)]
        for (_, a, b), row in rows.iterrows():
            line = f"  {b} − {a}: {_number(row['difference'])} (ratio {_number(row['ratio'])})"
            if mc:
                line += (
                    f"; Monte Carlo mean {_number(row['mean_difference'])}, 95% interval "
                    f"[{_number(row['2.5%'])}, {_number(row['97.5%'])}], "
                    f"P({a} < {b}) = {row['p_a_less']:.4f}"
                )
            lines.append(line)
            lines += [f"    note: {note}" for note in row["notes"]]
    lines.append(f"\ncompared in {seconds:.3f} s")
    return "\n".join(lines)
