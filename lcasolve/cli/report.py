"""``lcasolve report``: product carbon footprint report (JSON, text and a self-contained HTML)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from lcasolve.cli._common import (
    add_demand_arguments,
    add_input_arguments,
    emit,
    finite_float,
    load_system,
    parse_demand,
)

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``report`` sub-command."""
    p = sub.add_parser("report", help="product carbon footprint report")
    add_input_arguments(p)
    add_demand_arguments(p)
    p.add_argument(
        "--iterations",
        type=int,
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
        "--boundary",
        choices=("cradle-to-gate", "cradle-to-grave", "gate-to-gate"),
        default=None,
        help="system boundary (default: from the stages)",
    )


def run(args: argparse.Namespace) -> int:
    """Compute the footprint, cut-off check, thresholds, cost; print and write the report."""
    from lcasolve.errors import InputError
    from lcasolve.lca import LCA
    from lcasolve.pcf import (
        compare_thresholds,
        cutoff_check,
        external_cost,
        footprint,
        rating,
        read_tag_table,
    )

    if args.iterations < 0:
        raise InputError(f"--iterations must be >= 0, got {args.iterations}")
    if args.out and not args.iterations:
        raise InputError("--out keeps a Monte Carlo run: give --iterations > 0")
    _check_html_target(args)
    start = time.perf_counter()
    demand = parse_demand(args.demand)
    system = load_system(args)
    lca = LCA(system)
    category = args.method[0] if args.method else None
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
    fp = footprint(lca, demand, category, tags=tags, boundary=args.boundary, tag_names=names)
    payload = fp.to_dict(top=args.top)
    payload["cutoff"] = cutoff_check(lca, demand, fp.category).to_dict()
    samples = None
    if args.iterations:
        from lcasolve.montecarlo import MonteCarlo

        res = MonteCarlo(system, demand, categories=[fp.category]).run(
            args.iterations,
            seed=args.seed,
            out=args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=False,
        )
        samples = res.scores[:, 0, 0]
        stats = res.statistics().iloc[0]
        payload["monte_carlo"] = {
            "iterations": res.iterations,
            "seed": args.seed,
            "mean": float(stats["mean"]),
            "std": float(stats["std"]),
            "2.5%": float(stats["2.5%"]),
            "97.5%": float(stats["97.5%"]),
            "n_fallback": int(res.n_fallback),
        }
        if args.out:
            payload["monte_carlo"]["out"] = str(args.out)
    limits = {f"{x:g}": x for x in args.threshold}
    if limits:
        df = compare_thresholds(fp.total, limits, samples)
        payload["thresholds"] = [
            {
                "limit": float(r.limit),
                "exceeds": bool(r.exceeds),
                "distance": float(r.distance),
                "p_exceed": None if samples is None else float(r.p_exceed),
            }
            for r in df.itertuples()
        ]
    if args.benchmark is not None:
        payload["rating"] = rating(fp.total, args.benchmark, samples=samples)
    payload["external_cost"] = external_cost(
        fp.total if samples is None else samples, price=args.price, unit=fp.unit or "kg"
    )
    if samples is not None:
        payload["external_cost"]["deterministic"] = external_cost(
            fp.total, price=args.price, unit=fp.unit or "kg"
        )["cost"]
    if args.html:
        from lcasolve.pcf.html import write_html

        extra = {
            k: payload[k]
            for k in ("cutoff", "monte_carlo", "thresholds", "rating", "external_cost")
            if k in payload
        }
        write_html(
            args.html,
            fp,
            report=extra,
            samples=samples,
            thresholds=limits or None,
            top=args.top,
        )
        payload["html"] = str(args.html)
    payload["seconds"] = time.perf_counter() - start
    emit(args, payload, _text(payload))
    return 0


def _text(p: dict[str, Any]) -> str:
    lines = [
        f"{p['category']}: {p['total']:.6g} {p['unit']} ({p['boundary']})",
    ]
    for key in p:
        if key.startswith("by_") and key not in ("by_activity", "by_flow"):
            tag = key[3:]
            lines.append(f"by {tag}:")
            lines += [f"  {r[tag]:<20} {r['score']:>14.6g}  {r['share'] or 0:7.2%}" for r in p[key]]
    lines.append("top activities:")
    lines += [f"  {r['name'][:50]:<50} {r['score']:>14.6g}" for r in p["by_activity"]]
    c = p["cutoff"]
    lines.append(
        f"cut-off check: {'passes' if c['passes'] else 'fails'} "
        f"(excluded {c['excluded_share']:.2%})"
    )
    if "monte_carlo" in p:
        m = p["monte_carlo"]
        lines.append(
            f"Monte Carlo ({m['iterations']}): mean {m['mean']:.6g}, "
            f"95 % [{m['2.5%']:.6g}, {m['97.5%']:.6g}]"
        )
    for t in p.get("thresholds", []):
        pe = "" if t["p_exceed"] is None else f", P(>) = {t['p_exceed']:.3f}"
        lines.append(f"limit {t['limit']:g}: {'exceeded' if t['exceeds'] else 'met'}{pe}")
    e = p["external_cost"]
    if "deterministic" in e:
        lines.append(
            f"external cost: {e['deterministic']:.4g} {e['currency']} (deterministic; Monte Carlo "
            f"mean {e['mean']:.4g}, 95 % [{e['2.5%']:.4g}, {e['97.5%']:.4g}]) "
            f"at {e['price']:g}/t CO2e"
        )
    else:
        lines.append(f"external cost: {e['cost']:.4g} {e['currency']} at {e['price']:g}/t CO2e")
    if "html" in p:
        lines.append(f"HTML report: {p['html']}")
    return "\n".join(lines)


def _names(table: Any, tag: str, column: str) -> dict[str, str]:
    """``{tag value: display name}`` from a tag table's ``<tag>_name`` column."""
    out: dict[str, str] = {}
    for code, name in zip(table[tag].tolist(), table[column].tolist(), strict=True):
        if str(code).strip() not in ("", "nan") and str(name).strip() not in ("", "nan"):
            out.setdefault(str(code), str(name))
    return out


def _check_html_target(args: argparse.Namespace) -> None:
    """Refuse an existing ``--html`` file unless ``--overwrite``, before any computation."""
    from pathlib import Path

    from lcasolve.errors import OutputExistsError

    if args.html and Path(args.html).exists() and not args.overwrite:
        raise OutputExistsError(f"{args.html} exists; give --overwrite to replace it")
