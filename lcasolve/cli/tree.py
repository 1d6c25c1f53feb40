"""``lcasolve tree``: the upstream tree of a functional unit, as an indented tree or JSON."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    emit,
    load_with_demand,
)

__all__ = ["add_hotspot_arguments", "category_of", "register", "run"]


def _checked(check: Callable[[Any], Any], convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: convert, then check the range (a bad value is a usage error)."""
    from lcasolve.errors import InvalidParameterError

    def parse(text: str) -> Any:
        try:
            return check(convert(text))
        except (ValueError, InvalidParameterError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_hotspot_arguments(p: argparse.ArgumentParser, *, cutoff: float) -> None:
    """``--category``, ``--cutoff`` and ``--max-depth`` shared by ``tree`` and ``paths``."""
    from lcasolve.hotspots._basis import check_cutoff, check_max_depth

    p.add_argument(
        "--category",
        default=None,
        metavar="NAME",
        help="impact category that chooses the branches (default: the first)",
    )
    p.add_argument(
        "--cutoff",
        type=_checked(check_cutoff, float),
        default=cutoff,
        metavar="X",
        help=f"show a branch when |cumulative| >= X times the gross total (default {cutoff})",
    )
    p.add_argument(
        "--max-depth",
        type=_checked(check_max_depth, int),
        default=None,
        metavar="N",
        help="do not expand nodes at depth N (the product demanded has depth 0)",
    )


def category_of(system: Any, name: str | None) -> Any:
    """The category asked for, else the system's first (checked by the analysis)."""
    if name is not None:
        return name
    return system.categories["name"].iloc[0] if system.n_categories else None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``tree`` sub-command."""
    from lcasolve.hotspots._basis import check_max_nodes

    p = sub.add_parser(
        "tree",
        help="upstream supply-chain tree of a functional unit, with cut-off and rests",
        description="The upstream tree of a functional unit: every branch above the cut-off, "
        "a rest for what it hides, and the inputs the data left unlinked.",
    )
    add_input_arguments(p)
    add_demand_arguments(p, top=None)
    add_hotspot_arguments(p, cutoff=0.005)
    add_accuracy_argument(p)
    p.add_argument(
        "--max-nodes",
        type=_checked(check_max_nodes, int),
        default=1000,
        metavar="N",
        help="at most N nodes, the largest branches first (default 1000)",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=200,
        metavar="N",
        help="rows of the indented tree printed (default 200; --json has all)",
    )


def run(args: argparse.Namespace) -> int:
    """Load, grow the tree and print it."""
    from lcasolve.lca import LCA

    system, demand = load_with_demand(args)
    start = time.perf_counter()
    tree = LCA(system, allow_ill_conditioned=args.allow_ill_conditioned).tree(
        demand,
        category=category_of(system, args.category),
        cutoff=args.cutoff,
        max_depth=args.max_depth,
        max_nodes=args.max_nodes,
    )
    seconds = time.perf_counter() - start
    payload = {**tree.to_dict(), "seconds": seconds}
    emit(args, payload, tree.to_text(max_rows=max(args.max_rows, 1)))
    return 0
