"""``lcasolve scenarios``: every scenario of a file solved as one batch, per demand."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    emit,
    load_system,
)

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``scenarios`` sub-command."""
    p = sub.add_parser(
        "scenarios",
        help="scores of every scenario (parameter sets or a scenario difference file)",
        description="Solve every scenario as one batch. FILE is a scenario difference file "
        "(.csv/.xlsx: 'from key', 'to key', 'flow type' and one column per scenario, as the "
        "Activity Browser and premise write them) or a JSON object {scenario: {parameter: "
        "value}}; 'product-systems' uses the parameter sets of the inputs' openLCA product "
        "systems; 'arrays' uses the columns of the inputs' bw_processing array resources "
        "(presamples, one scenario per column). Each --demand is solved as its own functional "
        "unit.",
    )
    add_input_arguments(p)
    add_accuracy_argument(p)
    add_demand_arguments(p, top=None, each=True)
    p.add_argument("--scenarios", required=True, metavar="FILE", help="the scenarios")


def _parameter_scenarios(path: str, system: Any) -> dict[str, Any]:
    from lcasolve.errors import DataFileError

    if path == "product-systems":
        sets = dict(system.metadata.get("parameter_sets") or {})
        if not sets:
            raise DataFileError("the inputs have no product system with parameter sets")
        return sets
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot be read as JSON scenarios ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise DataFileError(f"{path}: expected an object {{scenario: {{parameter: value}}}}")
    return data


def run(args: argparse.Namespace) -> int:
    """Load, read the scenarios, solve them and print scenarios x demands x categories."""
    import pandas as pd

    from lcasolve.cli._common import parse_demand
    from lcasolve.errors import InputError
    from lcasolve.parameters import ParameterBatch, solve_scenarios
    from lcasolve.parameters.scenario_file import array_scenarios, read_scenario_file

    if not args.demand:
        raise InputError("give at least one --demand ID=AMOUNT")
    demands = {item: parse_demand([item]) for item in args.demand}
    system = load_system(args)
    allow = args.allow_ill_conditioned
    start = time.perf_counter()
    exchange_file = Path(args.scenarios).suffix.lower() in (".csv", ".xlsx", ".xls", ".tsv")
    if args.scenarios == "arrays" or exchange_file:
        scenarios = (
            read_scenario_file(args.scenarios, system) if exchange_file else array_scenarios(system)
        )
        categories = [str(c) for c in system.categories["name"]]
        blocks = []
        for label, demand in demands.items():
            batch = ParameterBatch(system, demand, allow_ill_conditioned=allow)
            h = batch.entry_scores(scenarios.entries)
            index = pd.MultiIndex.from_product([scenarios.names, [label]])
            blocks.append(pd.DataFrame(h, index=index, columns=categories))
        order = pd.MultiIndex.from_product(
            [scenarios.names, list(demands)], names=["scenario", "demand"]
        )
        frame = pd.concat(blocks).reindex(order)
    else:
        frame = solve_scenarios(
            system,
            _parameter_scenarios(args.scenarios, system),
            demands,
            allow_ill_conditioned=allow,
        ).to_frame()
    seconds = time.perf_counter() - start
    payload = {
        "scores": [
            {"scenario": s, "demand": d, **{c: float(v) for c, v in row.items()}}
            for (s, d), row in frame.iterrows()
        ],
        "seconds": seconds,
    }
    text = frame.to_string() + f"\n\n{len(frame)} scenario x demand results in {seconds:.3f} s"
    emit(args, payload, text)
    return 0
