"""Arguments and helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from lcasolve._json import json_text
from lcasolve.cli._usage import demand_item, demand_text, positive_int
from lcasolve.errors import UsageError

__all__ = [
    "add_demand_arguments",
    "add_input_arguments",
    "demand_rows",
    "emit",
    "finite_float",
    "json_text",
    "load_options",
    "load_system",
    "parameter_item",
    "parse_demand",
    "printable",
]


def add_input_arguments(
    parser: argparse.ArgumentParser, *, multiple: bool = True, parameters: bool = True
) -> None:
    """``INPUT...``, the linking options and (with ``parameters``) ``--param NAME=VALUE``."""
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
    if parameters:
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            type=parameter_item,
            metavar="NAME=VALUE",
            help="set a parameter before solving: a global (or database) one by its name, a "
            "process's own as PROCESS_ID/NAME=VALUE; repeatable",
        )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def parameter_item(text: str) -> tuple[str, float]:
    """``argparse`` type of ``--param``: ``NAME=VALUE`` with a finite number."""
    name, sep, value = text.rpartition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE or PROCESS_ID/NAME=VALUE")
    return name.strip(), finite_float(value)


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword options of :func:`lcasolve.load` from the input arguments.

    The read is always lenient: :func:`lcasolve.cli._problems.check_problems` then warns about
    invalid distributions or stops at the first other problem, as ``--lenient`` says.
    """
    options: dict[str, Any] = {
        "ambiguous": args.ambiguous,
        "unlinked": args.unlinked,
        "allocation": args.allocation,
        "strict": False,
    }
    if getattr(args, "reference_data", None):
        options["reference_data"] = list(args.reference_data)
    return options


def add_demand_arguments(
    parser: argparse.ArgumentParser, *, top: int | None = 10, each: bool = False
) -> None:
    """``--demand``, ``--method`` and ``--top`` (its default; left out when ``top`` is None).

    ``each``: every ``--demand`` is its own functional unit (``compare``, ``scenarios``), not a
    part of one.
    """
    together = "each its own functional unit" if each else "together one functional unit"
    parser.add_argument(
        "--demand",
        action="append",
        default=[],
        type=demand_text,
        metavar="ID=AMOUNT",
        help="a product (activity id, product flow id or exact name) and its amount; repeat "
        f"for several ({together})",
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
        parser.add_argument(
            "--top", type=positive_int, default=top, metavar="N", help="top contributors"
        )


def add_accuracy_argument(parser: argparse.ArgumentParser) -> None:
    """``--allow-ill-conditioned``: warn instead of refusing a result with a large error bound."""
    parser.add_argument(
        "--allow-ill-conditioned",
        action="store_true",
        help="compute even when the technosphere is so ill-conditioned that the bound of the "
        "result's relative error is above 1e-2 (a warning instead of an error)",
    )


def add_invalid_argument(parser: argparse.ArgumentParser) -> None:
    """``--invalid {flag,refuse,drop}``: Monte Carlo samples with a production drawn ≤ 0 etc."""
    parser.add_argument(
        "--invalid",
        choices=("flag", "refuse", "drop"),
        default="flag",
        help="Monte Carlo samples without meaning (a production amount drawn <= 0, a loop "
        "drawn unproductive): keep them flagged with a warning (default), refuse the run "
        "(exit 1), or drop them and state how many",
    )


def finite_float(text: str) -> float:
    """``argparse`` type: a finite number (``nan`` and ``inf`` are usage errors, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _parse_id(text: str) -> Hashable:
    try:
        return int(text)
    except ValueError:
        return text


def parse_demand(items: Sequence[str | tuple[str, float]]) -> dict[Hashable, float]:
    """``--demand`` values (parsed ``(id, amount)`` pairs or ``ID=AMOUNT`` strings) as a demand.

    Amounts of the same id add up (one functional unit).

    Raises
    ------
    UsageError
        No demand, or a malformed one (exit 2).
    """
    if not items:
        raise UsageError("give at least one --demand ID=AMOUNT")
    demand: dict[Hashable, float] = {}
    for item in items:
        if isinstance(item, str):
            try:
                item = demand_item(item)
            except argparse.ArgumentTypeError as exc:
                raise UsageError(f"--demand {exc}") from None
        key, value = item
        pid = _parse_id(key)
        demand[pid] = demand.get(pid, 0.0) + value
    return demand


def load_system(args: argparse.Namespace, *, sampling: bool = False) -> Any:
    """Load the inputs with the linking options, then apply the requested methods.

    ``sampling``: the command samples the distributions (invalid ones then stop it unless
    ``--lenient``; otherwise they are a warning).
    """
    from lcasolve.cli._problems import check_characterized, check_problems, note_folders
    from lcasolve.io import load

    system = load(*args.inputs, **load_options(args))
    note_folders(system, args)
    check_problems(system, args, sampling=sampling)
    if getattr(args, "param", None):
        system = system.with_parameters(dict(args.param))
    methods = getattr(args, "method", None)
    if methods is not None or system.n_categories == 0:
        # (without --method, a system with its own categories is used as it is)
        from lcasolve.methods import with_methods

        system = with_methods(system, methods)
    check_characterized(system, args)
    return system


def load_with_demand(
    args: argparse.Namespace, *, sampling: bool = False
) -> tuple[Any, dict[Hashable, float]]:
    """Load the inputs (:func:`load_system`) and resolve ``--demand`` against them.

    A demand may name an activity id, a product flow id or an exact activity name
    (:func:`lcasolve.search.resolve_demand`); it is parsed before the inputs are read.
    """
    from lcasolve.search import resolve_demand

    demand = parse_demand(args.demand)
    system = load_system(args, sampling=sampling)
    return system, resolve_demand(system, demand)


def demand_rows(system: Any, demand: Mapping[Hashable, float]) -> list[dict[str, Any]]:
    """The functional unit for JSON: id, amount and the activity's name, product, unit, location."""
    columns = {
        c: system.column("activities", c)
        for c in ("name", "product", "unit", "location")
        if system.has_column("activities", c)
    }
    rows = []
    for pid, amount in demand.items():
        j = system.product_position(pid)
        row: dict[str, Any] = {"id": pid, "amount": float(amount)}
        row |= {c: str(values[j]) for c, values in columns.items()}
        rows.append(row)
    return rows


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """Print JSON with ``--json``, else the human-readable text."""
    if getattr(args, "json", False):
        sys.stdout.write(json_text(payload) + "\n")
    else:
        sys.stdout.write(printable(text.rstrip("\n")) + "\n")


#: C0/C1 control characters except tab and newline: ESC starts terminal escape sequences
_CONTROL = dict.fromkeys([*range(0, 9), *range(11, 32), 127, *range(128, 160)], "\ufffd")


def printable(text: str) -> str:
    """``text`` with control characters shown as U+FFFD.

    Terminal escape codes in names from the data can then not move the cursor, clear the
    screen or set the window title; tab and newline stay.
    """
    return text.translate(_CONTROL)
