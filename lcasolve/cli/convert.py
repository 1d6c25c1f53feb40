"""``lcasolve convert INPUT... OUT.h5``: read any supported database into the native HDF5 store."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

from lcasolve.cli._common import add_input_arguments, emit, load_options
from lcasolve.cli._problems import check_problems, note_folders
from lcasolve.cli._usage import check_output
from lcasolve.errors import InputError

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``convert`` sub-command."""
    p = sub.add_parser(
        "convert",
        help="convert databases to the native HDF5 store",
        description="Read INPUT... (any supported format, linked with the options below) and "
        "write the system to OUT (the last argument, an lcasolve .h5 store).",
    )
    add_input_arguments(p, parameters=False)
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar while writing OUT (shown on stderr when it is a terminal)",
    )


def _summary(report: list[dict[str, Any]]) -> dict[str, Any]:
    issues = Counter(str(r.get("issue", "")) for r in report)
    actions = Counter(str(r.get("action", "")) for r in report)
    return {"entries": len(report), "issues": dict(issues), "actions": dict(actions)}


def run(args: argparse.Namespace) -> int:
    """Load the inputs, write the store, print counts and the link report summary."""
    from lcasolve.io import load, save

    if len(args.inputs) < 2:
        raise InputError("convert needs at least one INPUT and the OUT.h5 file")
    *inputs, out_name = args.inputs
    out = Path(out_name)
    check_output(out, "OUT", overwrite=args.overwrite)
    if out.suffix.lower() not in {".h5", ".hdf5"}:
        raise InputError(f"{out}: the output must be an .h5 file (lcasolve HDF5 store)")
    start = time.perf_counter()
    system = load(*inputs, **load_options(args))
    note_folders(system, args)
    check_problems(system, args)
    save(system, out, progress=False if args.no_progress else None)
    seconds = time.perf_counter() - start
    report = list(system.metadata.get("link_report", []) or [])
    problems = list(system.metadata.get("problems", []) or [])
    summary = _summary(report)
    params = system.parameters
    n_params = 0 if params is None else len(params)
    n_formulas = 0 if params is None else len(params.entries)
    payload = {
        "output": str(out),
        "activities": system.n_activities,
        "flows": system.n_flows,
        "categories": system.n_categories,
        "technosphere_entries": len(system.technosphere),
        "biosphere_entries": len(system.biosphere),
        "characterization_entries": len(system.characterization),
        "parameters": n_params,
        "formula_entries": n_formulas,
        "link_report": summary,
        "problems": len(problems),
        "input_files": [dict(x) for x in system.metadata.get("input_files") or ()],
        "seconds": seconds,
    }
    lines = [
        f"wrote {out}: {system.n_activities} activities, {system.n_flows} flows, "
        f"{system.n_categories} categories",
        f"entries: technosphere {len(system.technosphere)}, biosphere "
        f"{len(system.biosphere)}, characterization {len(system.characterization)}",
    ]
    if params is not None:
        lines.append(f"parameters: {n_params}, formula entries: {n_formulas} (stored)")
    if report:
        lines.append(f"link report: {len(report)} entries")
        lines += [f"  {issue}: {n}" for issue, n in summary["issues"].items()]
    else:
        lines.append("link report: nothing to report")
    if problems:
        lines.append(f"problems collected: {len(problems)}")
    lines.append(f"in {seconds:.2f} s")
    emit(args, payload, "\n".join(lines))
    return 0
