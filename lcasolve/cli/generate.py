"""``lcasolve generate OUT --processes N``: the synthetic ecoinvent-like database."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lcasolve.cli._common import emit
from lcasolve.cli._usage import check_output
from lcasolve.errors import InputError

if TYPE_CHECKING:
    from lcasolve.model import System

__all__ = ["register", "run"]

#: output format -> default suffix
FORMATS = {"datapackage": ".zip", "jsonld": ".zip", "ecospold2": ".zip", "hdf5": ".h5"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``generate`` sub-command."""
    p = sub.add_parser(
        "generate",
        help="write the synthetic ecoinvent-like database (benchmarks)",
        description="Generate the deterministic synthetic database (eco20k for 20000 "
        "processes: one large loop of 75 % of the activities, heavy-tailed supplier popularity, "
        "uncertainty on every entry, a GWP100-like characterization) and write it as a "
        "brightway datapackage (default), openLCA JSON-LD (v2), a zip of EcoSpold2 activity "
        "datasets (no characterization: EcoSpold2 has none) or an lcasolve HDF5 store.",
    )
    p.add_argument("out", metavar="OUT", help="output file")
    p.add_argument("--processes", type=int, default=20000, metavar="N", help="activities")
    p.add_argument("--seed", type=int, default=42, help="seed (same seed, same database)")
    p.add_argument("--format", choices=sorted(FORMATS), default="datapackage")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    """Generate and write the database; print its size."""
    from lcasolve.synthetic import generate

    out = Path(args.out)
    check_output(out, "OUT", overwrite=args.overwrite)
    if args.processes < 10:
        raise InputError(f"--processes must be at least 10, not {args.processes}")
    start = time.perf_counter()
    system = generate(args.processes, seed=args.seed)
    write: Callable[[System, Path], Path]
    if args.format == "datapackage":
        from lcasolve.io.datapackage import write
    elif args.format == "jsonld":
        from lcasolve.io.jsonld_write import write_jsonld as write
    elif args.format == "ecospold2":
        from lcasolve.io.ecospold2_write import write_ecospold2 as write
    else:
        from lcasolve.io.hdf5 import write
    write(system, out)
    seconds = time.perf_counter() - start
    payload = {
        "output": str(out),
        "format": args.format,
        "seed": args.seed,
        **system.describe(),
        "seconds": seconds,
    }
    emit(
        args,
        payload,
        f"wrote {out} ({args.format}): {system.n_activities} activities, "
        f"{len(system.technosphere)} technosphere and {len(system.biosphere)} biosphere "
        f"entries, {system.n_flows} flows, in {seconds:.2f} s",
    )
    return 0
