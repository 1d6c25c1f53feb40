"""``lcasolve report``: product carbon footprint report (JSON, text and a self-contained HTML)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    add_invalid_argument,
    emit,
    finite_float,
    load_with_demand,
)
from lcasolve.cli._usage import check_output, check_run_file, non_negative_int

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``report`` sub-command."""
    p = sub.add_parser("report", help="product carbon footprint report")
    add_input_arguments(p)
    add_demand_arguments(p)
    add_accuracy_argument(p)
    add_invalid_argument(p)
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar for the Monte Carlo run"
    )
    p.add_argument(
        "--iterations",
        type=non_negative_int,
        default=1000,
        metavar="N",
        help="Monte Carlo iterations (default 1000; 0 for none)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="default 0")
    p.add_argument("--out", default=None, metavar="RUN.h5", help="HDF5 file of the Monte Carlo run")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--overwrite", action="store_true", help="replace --out and --html if they exist"
    )
    p.add_argument(
        "--threshold",
        type=finite_float,
        action="append",
        default=[],
        metavar="X",
        help="a limit to compare with, with P(footprint > X) (repeatable)",
    )
    p.add_argument("--html", default=None, metavar="OUT.html", help="write the HTML report")
    p.add_argument(
        "--pact",
        default=None,
        metavar="OUT.json",
        help="write a WBCSD PACT v3 ProductFootprint (needs --company and --reference-year)",
    )
    p.add_argument(
        "--xlsx", default=None, metavar="OUT.xlsx", help="write the tables as an Excel workbook"
    )
    p.add_argument("--company", default=None, metavar="NAME", help="company name for --pact")
    fin = p.add_argument_group("green finance and procurement")
    fin.add_argument(
        "--peers", default=None, metavar="FILE", help="benchmark footprints, one number per line"
    )
    fin.add_argument("--loan-rate", type=float, default=None, metavar="R", help="base rate")
    fin.add_argument(
        "--loan-class",
        action="append",
        default=[],
        metavar="NAME=BOUND:SPREAD",
        help="a performance class: upper footprint bound and spread of the rate (repeatable)",
    )
    fin.add_argument(
        "--purchase", type=float, default=None, help="purchase price (life-cycle cost)"
    )
    fin.add_argument("--annual-cost", type=float, default=0.0, help="running cost per year")
    fin.add_argument("--years", type=int, default=0, help="years of use")
    fin.add_argument("--discount", type=float, default=0.0, help="discount rate (0.03 = 3 %%)")
    fin.add_argument("--budget", type=float, default=None, help="adds P(life-cycle cost > budget)")
    p.add_argument(
        "--stages",
        default=None,
        metavar="TABLE",
        help="CSV with an id or pattern column and stage/scope columns",
    )
    p.add_argument("--price", type=finite_float, default=90.0, help="carbon price per t CO2e (90)")
    p.add_argument(
        "--benchmark", type=finite_float, default=None, help="industry average to rate against"
    )
    p.add_argument(
        "--biogenic",
        choices=("0/0", "-1/+1"),
        default="0/0",
        help="biogenic CO2 convention of the split by origin: 0/0 (default, beside the total) "
        "or -1/+1 (removals -1, emissions +1)",
    )
    p.add_argument("--reference-year", default=None, metavar="YEAR", help="year the data represent")
    p.add_argument(
        "--boundary",
        choices=("cradle-to-gate", "cradle-to-grave", "gate-to-gate"),
        default=None,
        help="system boundary (default: from the stages)",
    )


def run(args: argparse.Namespace) -> int:
    """Compute the footprint, cut-off check, thresholds, cost; print and write the report."""
    from lcasolve.errors import InputError
    from lcasolve.lca import LCA
    from lcasolve.pcf import read_tag_table
    from lcasolve.pcf.report import build_report

    if args.out and not args.iterations:
        raise InputError("--out keeps a Monte Carlo run: give --iterations > 0")
    _check_targets(args)
    start = time.perf_counter()
    system, demand = load_with_demand(args, sampling=args.iterations > 0)
    tags: dict[str, Any] = {t: None for t in ("stage", "scope") if t in system.activities}
    names: dict[str, dict[str, str]] = {}
    if args.stages:
        table = read_tag_table(args.stages)
        for t in table.columns:
            if t in ("id", "pattern"):
                continue
            if t.endswith("_name") and t[: -len("_name")] in table.columns:
                names[t[: -len("_name")]] = _names(table, t[: -len("_name")], t)
                continue  # display names of the tag values (e.g. stage_name), not a tag
            tags[t] = table
    report = build_report(
        LCA(system, allow_ill_conditioned=args.allow_ill_conditioned),
        demand,
        args.method[0] if args.method else None,
        tags=tags,
        boundary=args.boundary,
        tag_names=names,
        iterations=args.iterations,
        seed=args.seed,
        out=args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        thresholds={f"{x:g}": x for x in args.threshold} or None,
        benchmark=args.benchmark,
        price=args.price,
        top=args.top,
        biogenic=args.biogenic,
        reference_year=args.reference_year,
        invalid=args.invalid,
        progress=False if args.no_progress else None,
        **_finance(args),
    )
    payload = report.to_dict()
    lines = [report.to_text()]
    if args.html:
        report.write_html(args.html)
        payload["html"] = str(args.html)
        lines.append(f"HTML report: {args.html}")
    if args.pact:
        from lcasolve.pcf.pact import to_pact, write_pact

        write_pact(args.pact, to_pact(report, company_name=args.company))
        payload["pact"] = str(args.pact)
        lines.append(f"PACT footprint: {args.pact}")
    if args.xlsx:
        from lcasolve.pcf.excel import write_xlsx

        write_xlsx(report, args.xlsx)
        payload["xlsx"] = str(args.xlsx)
        lines.append(f"Excel workbook: {args.xlsx}")
    payload["seconds"] = time.perf_counter() - start
    emit(args, payload, "\n".join(lines))
    return 0


def _finance(args: argparse.Namespace) -> dict[str, Any]:
    """build_report's finance options from --peers, --loan-rate/--loan-class and --purchase."""
    from lcasolve.errors import InputError

    out: dict[str, Any] = {}
    if args.peers:
        from pathlib import Path

        try:
            lines = Path(args.peers).read_text(encoding="utf-8").split()
            out["peers"] = [float(x.split(",")[0]) for x in lines if x.strip()]
        except ValueError as exc:
            raise InputError(f"{args.peers}: peers must be one number per line ({exc})") from None
    if args.loan_class or args.loan_rate is not None:
        if args.loan_rate is None or not args.loan_class:
            raise InputError("PCF-linked pricing needs --loan-rate and at least one --loan-class")
        classes = {}
        for item in args.loan_class:
            try:
                name, rest = item.split("=", 1)
                bound, spread = rest.split(":", 1)
                classes[name] = (float(bound), float(spread))
            except ValueError:
                raise InputError(f"--loan-class {item!r}: expected NAME=BOUND:SPREAD") from None
        out["pricing"] = {"base_rate": args.loan_rate, "classes": classes}
    if args.purchase is not None:
        out["procurement"] = {
            "purchase": args.purchase,
            "annual_cost": args.annual_cost,
            "years": args.years,
            "discount_rate": args.discount,
            "budget": args.budget,
        }
    return out


def _names(table: Any, tag: str, column: str) -> dict[str, str]:
    """``{tag value: display name}`` from a tag table's ``<tag>_name`` column."""
    out: dict[str, str] = {}
    for code, name in zip(table[tag].tolist(), table[column].tolist(), strict=True):
        if str(code).strip() not in ("", "nan") and str(name).strip() not in ("", "nan"):
            out.setdefault(str(code), str(name))
    return out


def _check_targets(args: argparse.Namespace) -> None:
    """Before any computation: refuse existing outputs without --overwrite, --pact without input."""
    from pathlib import Path

    from lcasolve.errors import OutputExistsError, UsageError

    for option in ("html", "pact", "xlsx"):
        target = getattr(args, option)
        if target and Path(target).exists() and not args.overwrite:
            raise OutputExistsError(f"{target} exists; give --overwrite to replace it")
    if args.pact and not (args.company and args.reference_year):
        missing = " and ".join(
            o
            for o, v in (
                ("--company NAME", args.company),
                ("--reference-year YEAR", args.reference_year),
            )
            if not v
        )
        raise UsageError(f"--pact needs {missing} (PACT requires --company and --reference-year)")
    for option in ("html", "pact", "xlsx"):
        if getattr(args, option):
            check_output(getattr(args, option), f"--{option}", overwrite=True)
    check_run_file(args)
