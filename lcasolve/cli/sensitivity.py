"""``lcasolve sensitivity``: ranked local sensitivities of the scores of one functional unit."""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    demand_rows,
    emit,
    load_with_demand,
)
from lcasolve.cli._usage import non_negative_int, positive_int
from lcasolve.errors import UsageError

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``sensitivity`` sub-command."""
    p = sub.add_parser(
        "sensitivity",
        help="ranked sensitivities and elasticities of each score to every matrix entry",
    )
    add_input_arguments(p)
    add_accuracy_argument(p)
    add_demand_arguments(p)
    p.add_argument(
        "--rank-by",
        choices=("elasticity", "sensitivity", "importance"),
        default="elasticity",
        help="sort key (absolute value; importance = |sensitivity| x standard deviation)",
    )
    p.add_argument(
        "--parameters",
        action="store_true",
        help="rank the input parameters (exact derivatives through the formulas) instead of "
        "the matrix entries",
    )
    p.add_argument(
        "--sobol",
        type=positive_int,
        default=None,
        metavar="N",
        help="with --parameters: Sobol first-order and total indices (SALib, base sample N, a "
        "power of 2) of the parameters with distributions and of the uncertain exchanges as "
        "one grouped factor 'background', instead of the local derivatives",
    )
    p.add_argument(
        "--fixed-background",
        action="store_true",
        help="with --sobol: hold the exchanges at their values (parameters only)",
    )
    p.add_argument(
        "--seed", type=non_negative_int, default=0, metavar="S", help="with --sobol (default 0)"
    )


#: what each ``--rank-by`` sorts by, for the JSON and the text
RANK_KEYS = {
    "elasticity": "|elasticity| = |dh/dx * x / h|",
    "sensitivity": "|sensitivity| = |dh/dx|",
    "importance": "importance = |dh/dx| * std(x)",
}

#: the columns of a ranked matrix entry in the JSON
ENTRY_COLUMNS = (
    "matrix",
    "row_id",
    "col_id",
    "row_name",
    "col_name",
    "unit",
    "value",
    "std",
    "sensitivity",
    "elasticity",
    "importance",
    "variance_share",
)


def _units(system: Any, top: Any) -> list[str]:
    """Unit of each ranked entry's value: the product's, the flow's, or category per flow."""

    def unit(table: Any, pos: Any) -> str:
        return str(table["unit"].iloc[int(pos)]) if "unit" in table else ""

    out = []
    for matrix, row, col in zip(top["matrix"], top["row"], top["col"], strict=True):
        if matrix == "technosphere":
            out.append(unit(system.activities, row))
        elif matrix == "biosphere":
            out.append(unit(system.flows, row))
        else:
            out.append(f"{unit(system.categories, row)}/{unit(system.flows, col)}")
    return out


def _plain(x: Any) -> Any:
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _header(args: argparse.Namespace, system: Any, demand: Any, subject: str) -> dict[str, Any]:
    """The part of the JSON every ranking shares: demand, method, what is ranked and by what."""
    return {
        "demand": demand_rows(system, demand),
        "method": list(args.method) if args.method else None,
        "ranked": subject,
        "rank_by": args.rank_by,
        "rank_key": RANK_KEYS[args.rank_by],
        "top": args.top,
    }


def _category(system: Any, k: int, score: float, rows: list[dict[str, Any]]) -> dict[str, Any]:
    cats = system.categories
    unit = str(cats["unit"].iloc[k]) if "unit" in cats else ""
    return {
        "id": _plain(cats["id"].iloc[k]),
        "name": str(cats["name"].iloc[k]),
        "unit": unit,
        "score": float(score),
        "rows": rows,
    }


def run(args: argparse.Namespace) -> int:
    """Load, take local sensitivities and print the top ``--top`` entries per category."""
    from lcasolve.lca import LCA
    from lcasolve.sensitivity import local_sensitivities

    if args.sobol is not None and not args.parameters:
        raise UsageError("--sobol needs --parameters")
    if args.fixed_background and args.sobol is None:
        raise UsageError("--fixed-background needs --sobol")
    if args.sobol is not None:
        from lcasolve.errors import InvalidParameterError
        from lcasolve.sensitivity.gsa import check_sobol_size

        try:
            check_sobol_size(args.sobol, "--sobol")
        except InvalidParameterError as exc:
            raise UsageError(str(exc)) from None
    # Sobol indices with the background draw the exchanges: invalid distributions are refused
    # (unless --lenient) as by mc; every other ranking only warns about them
    system, demand = load_with_demand(
        args, sampling=args.sobol is not None and not args.fixed_background
    )
    if args.sobol is not None:
        return _run_sobol(args, system, demand)
    if args.parameters:
        return _run_parameters(args, system, demand)
    start = time.perf_counter()
    # the supply's and the adjoint's solves are checked (error bound) as LCA checks them
    lca = LCA(system, allow_ill_conditioned=args.allow_ill_conditioned)
    local = local_sensitivities(lca, demand)
    seconds = time.perf_counter() - start
    categories: list[dict[str, Any]] = []
    lines: list[str] = []
    for q, k in enumerate(local.categories):
        entry = _category(system, k, local.scores[q], [])
        top = local.top(args.top, system.categories["id"].iloc[k], rank_by=args.rank_by)
        top["unit"] = _units(system, top)
        entry["rows"] = [
            {c: _plain(getattr(r, c)) for c in ENTRY_COLUMNS} for r in top.itertuples()
        ]
        categories.append(entry)
        lines.append(
            f"{entry['name']}: score {entry['score']:.6g} {entry['unit']}".rstrip()
            + f"; top {len(top)} entries by {RANK_KEYS[args.rank_by]}"
        )
        show = top[["matrix", "row_name", "col_name", "value", "sensitivity", "elasticity"]]
        if args.rank_by == "importance":
            show = top[["matrix", "row_name", "col_name", "value", "std", "importance"]]
        lines.append(show.to_string(index=False))
        lines.append("")
    return _emit_ranked(args, system, demand, "matrix entries", categories, lines,
                        local.residual, seconds)  # fmt: skip


def _run_parameters(args: argparse.Namespace, system: Any, demand: Any) -> int:
    """Rank the input parameters by their exact local derivatives."""
    from lcasolve.parameters import parameter_sensitivities

    start = time.perf_counter()
    result = parameter_sensitivities(
        system, demand, allow_ill_conditioned=args.allow_ill_conditioned
    )
    seconds = time.perf_counter() - start
    categories: list[dict[str, Any]] = []
    lines: list[str] = []
    columns = ["parameter", "scope", "name", "value", "std", "sensitivity", "elasticity"]
    columns.append("importance")
    names = system.categories["name"].astype(str).tolist()
    for q, name in enumerate(result.categories):
        top = result.top(args.top, name, rank_by=args.rank_by)
        rows = [{c: _plain(row[c]) for c in columns} for _, row in top.iterrows()]
        entry = _category(system, names.index(name), result.scores[q], rows)
        categories.append(entry)
        lines.append(
            f"{name}: score {entry['score']:.6g} {entry['unit']}".rstrip()
            + f"; top {len(top)} parameters by {RANK_KEYS[args.rank_by]}"
        )
        shown = ["parameter", "value", "sensitivity", "elasticity", "importance"]
        lines.append(top[shown].to_string(index=False))
        lines.append("")
    return _emit_ranked(args, system, demand, "parameters", categories, lines,
                        result.residual, seconds)  # fmt: skip


def _emit_ranked(
    args: argparse.Namespace,
    system: Any,
    demand: Any,
    ranked: str,
    categories: list[dict[str, Any]],
    lines: list[str],
    residual: float,
    seconds: float,
) -> int:
    """Print a local ranking (``ranked``: what its rows are) as JSON or text; exit code 0."""
    lines.append(f"relative residual {residual:.2e}, computed in {seconds:.3f} s")
    payload = {
        **_header(args, system, demand, ranked),
        "categories": categories,
        "residual": residual,
        "seconds": seconds,
    }
    emit(args, payload, "\n".join(lines))
    return 0


def _run_sobol(args: argparse.Namespace, system: Any, demand: Any) -> int:
    """Sobol indices of the parameters (and of the background as one factor) per category."""
    from lcasolve.lca import LCA
    from lcasolve.parameters import parameter_sobol

    background = not args.fixed_background
    start = time.perf_counter()
    scores = LCA(system, allow_ill_conditioned=args.allow_ill_conditioned).calculate(demand)
    categories: list[dict[str, Any]] = []
    lines: list[str] = []
    for k, name in enumerate(system.categories["name"].astype(str)):
        table = parameter_sobol(
            system, demand, args.sobol, args.seed, category=name, background=background,
            allow_ill_conditioned=args.allow_ill_conditioned,
        ).sort_values("ST", ascending=False, kind="stable")  # fmt: skip
        if args.top is not None:
            table = table.head(args.top)
        rows = [
            {"factor": str(f), **{c: _plain(row[c]) for c in table.columns}}
            for f, row in table.iterrows()
        ]
        entry = _category(system, k, scores.score(name), rows)
        categories.append(entry)
        lines.append(
            f"{name}: score {entry['score']:.6g} {entry['unit']}".rstrip()
            + f"; Sobol indices (base sample {args.sobol}), ranked by ST"
        )
        lines.append(table.to_string())
        lines.append("")
    seconds = time.perf_counter() - start
    lines.append(f"computed in {seconds:.2f} s")
    payload = {
        "demand": demand_rows(system, demand),
        "method": list(args.method) if args.method else None,
        "ranked": "parameters (Sobol)",
        "rank_key": "ST",
        "top": args.top,
        "n": args.sobol,
        "seed": args.seed,
        "background": background,
        "categories": categories,
        "seconds": seconds,
    }
    emit(args, payload, "\n".join(lines))
    return 0
