"""``lcasolve search``: find activities (products) by name, product, location or category."""

from __future__ import annotations

import argparse

from lcasolve.cli._common import add_input_arguments, emit, load_system
from lcasolve.cli._usage import positive_int

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``search`` sub-command."""
    p = sub.add_parser(
        "search",
        help="find products by name (the id column goes into --demand)",
        description="Rank the activities of INPUT... by how well they match QUERY.",
    )
    add_input_arguments(p)
    p.add_argument("query", metavar="QUERY", help="free text, e.g. 'portland cement'")
    p.add_argument("--limit", type=positive_int, default=10, metavar="N", help="rows (10)")


def run(args: argparse.Namespace) -> int:
    """Load and print the best matches."""
    system = load_system(args)
    found = system.search(args.query, limit=args.limit)
    payload = {"query": args.query, "matches": found.to_dict(orient="records")}
    if found.empty:
        text = f"no activity matches {args.query!r}"
    else:
        shown = found[["id", "name", "location", "score"]]
        text = shown.to_string(index=False)
    emit(args, payload, text)
    return 0
