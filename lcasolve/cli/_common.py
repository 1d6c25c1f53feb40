"""Arguments and helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Hashable
from typing import Any

from lcasolve.errors import InputError

__all__ = [
    "add_demand_arguments",
    "add_input_arguments",
    "emit",
    "load_options",
    "load_system",
    "parse_demand",
]


def add_input_arguments(parser: argparse.ArgumentParser, *, multiple: bool = True) -> None:
    """``INPUT...`` and the linking options every database-reading command takes."""
    parser.add_argument(
        "inputs",
        nargs="+" if multiple else 1,
        metavar="INPUT",
        help="database files or folders (datapackage zip, JSON-LD, EcoSpold2, tables, .h5)",
    )
    parser.add_argument(
        "--ambiguous",
        choices=("prefer", "cutoff", "error"),
        default="prefer",
        help="an input with several providers: pick one by the documented rules (default), "
        "cut it off, or stop",
    )
    parser.add_argument(
        "--unlinked",
        choices=("cutoff", "error"),
        default="cutoff",
        help="an input with no provider: cut it off and list it (default), or stop",
    )
    parser.add_argument(
        "--allocation",
        choices=("process", "physical", "economic", "causal", "none"),
        default="process",
        help="allocation of multi-output processes (default: each process's own default)",
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="collect problems (invalid distributions, broken exchanges) into the report and "
        "leave them out, instead of stopping at the first",
    )
    parser.add_argument(
        "--reference-data",
        action="append",
        default=[],
        metavar="FILE",
        help="JSON-LD file whose units, flow properties and flows are used, not its processes "
        "(e.g. the USLCI zip for openLCA reference units); repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword options of :func:`lcasolve.load` from the input arguments."""
    options: dict[str, Any] = {
        "ambiguous": args.ambiguous,
        "unlinked": args.unlinked,
        "allocation": args.allocation,
        "strict": not getattr(args, "lenient", False),
    }
    if getattr(args, "reference_data", None):
        options["reference_data"] = list(args.reference_data)
    return options


def add_demand_arguments(parser: argparse.ArgumentParser, *, top: int | None = 10) -> None:
    """``--demand``, ``--method`` and ``--top`` (its default; left out when ``top`` is None)."""
    parser.add_argument(
        "--demand",
        action="append",
        default=[],
        metavar="ID=AMOUNT",
        help="a product and its amount; repeat for several (together one functional unit)",
    )
    parser.add_argument(
        "--method",
        action="append",
        default=None,
        metavar="NAME",
        help="impact method to apply (repeatable; default: the inputs' own, else IPCC AR6 "
        "GWP100 by flow matching)",
    )
    if top is not None:
        parser.add_argument("--top", type=int, default=top, metavar="N", help="top contributors")


def _parse_id(text: str) -> Hashable:
    try:
        return int(text)
    except ValueError:
        return text


def parse_demand(items: list[str]) -> dict[Hashable, float]:
    """Parse ``ID=AMOUNT`` strings; amounts of the same id add up."""
    if not items:
        raise InputError("give at least one --demand ID=AMOUNT")
    demand: dict[Hashable, float] = {}
    for item in items:
        key, sep, amount = item.rpartition("=")
        if not sep or not key:
            raise InputError(f"--demand {item!r}: expected ID=AMOUNT")
        try:
            value = float(amount)
        except ValueError:
            raise InputError(f"--demand {item!r}: {amount!r} is not a number") from None
        pid = _parse_id(key)
        demand[pid] = demand.get(pid, 0.0) + value
    return demand


def load_system(args: argparse.Namespace) -> Any:
    """Load the inputs with the linking options, then apply the requested methods."""
    from lcasolve.io import load

    system = load(*args.inputs, **load_options(args))
    methods = getattr(args, "method", None)
    try:
        from lcasolve.methods import with_methods
    except ImportError:  # pragma: no cover - methods package always ships
        return system
    return with_methods(system, methods)


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """Print JSON with ``--json``, else the human-readable text."""
    if getattr(args, "json", False):
        json.dump(payload, sys.stdout, indent=2, default=_json_default)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
