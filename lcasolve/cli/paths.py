"""``lcasolve paths``: the structural paths of a functional unit, ranked by contribution."""

from __future__ import annotations

import argparse
import time

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    emit,
    load_with_demand,
)
from lcasolve.cli.tree import add_hotspot_arguments, category_of

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``paths`` sub-command."""
    p = sub.add_parser(
        "paths",
        help="structural paths of a functional unit ranked by |contribution|",
        description="The supply chains whose own emissions weigh most, from the upstream tree.",
    )
    add_input_arguments(p)
    add_demand_arguments(p, top=20)
    add_hotspot_arguments(p, cutoff=0.001)
    add_accuracy_argument(p)


def run(args: argparse.Namespace) -> int:
    """Load, rank the paths and print them."""
    from lcasolve.lca import LCA

    system, demand = load_with_demand(args)
    start = time.perf_counter()
    paths = LCA(system, allow_ill_conditioned=args.allow_ill_conditioned).paths(
        demand,
        category=category_of(system, args.category),
        top=args.top,
        cutoff=args.cutoff,
        max_depth=args.max_depth,
    )
    seconds = time.perf_counter() - start
    emit(args, {**paths.to_dict(), "seconds": seconds}, paths.to_text())
    return 0
