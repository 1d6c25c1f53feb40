"""``lcasolve bench``: lcasolve and bw2calc side by side on the synthetic database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lcasolve.cli._common import emit
from lcasolve.errors import InputError

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``bench`` sub-command."""
    p = sub.add_parser(
        "bench",
        help="benchmark lcasolve against bw2calc on the synthetic database",
        description="For each size, generate the synthetic database, write it as a "
        "datapackage and measure load, first functional unit (factorization included), further "
        "functional units, all products' scores and peak memory, each tool in its own process: "
        "lcasolve, and bw2calc with SuperLU, UMFPACK (when scikit-umfpack is installed) and "
        "pypardiso.",
    )
    p.add_argument(
        "--processes",
        default="5000,20000",
        metavar="N[,N...]",
        help="sizes, comma-separated (default 5000,20000; 20000 is eco20k)",
    )
    p.add_argument("--peer", choices=("bw2calc", "bw2calc-umfpack", "none"), default="bw2calc")
    p.add_argument(
        "--timeout",
        type=float,
        default=1800,
        metavar="S",
        help="seconds one tool may take on one size before it is stopped (default 1800)",
    )
    p.add_argument("--demands", type=int, default=21, help="functional units per tool")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", metavar="FILE.json", help="also write the full results as JSON")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print a markdown table (or JSON)."""
    from lcasolve.benchmark import run as run_bench
    from lcasolve.benchmark import to_markdown

    try:
        sizes = [int(x) for x in args.processes.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--processes {args.processes!r}: expected N[,N...]") from None
    if not sizes or min(sizes) < 10:
        raise InputError(f"--processes {args.processes!r}: sizes must be at least 10")
    if args.demands < 2:
        raise InputError("--demands must be at least 2 (a first and a further one)")
    progress = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    report = run_bench(
        sizes,
        peer=args.peer,
        n_demands=args.demands,
        seed=args.seed,
        progress=progress,
        timeout=args.timeout,
    )
    if args.out:
        out = Path(args.out)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2))
        tmp.replace(out)
    emit(args, report, to_markdown(report))
    failed = [r for r in report["results"] if "error" in r and r["tool"] == "lcasolve"]
    return 1 if failed else 0
