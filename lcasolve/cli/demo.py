"""``lcasolve demo``: the carbon footprint of the bundled cement example."""

from __future__ import annotations

import argparse
import time
from collections.abc import Hashable
from typing import Any

import numpy as np

from lcasolve.cli._common import emit

__all__ = ["footprint", "register", "run"]

_STAGES = {"A1": "raw material supply", "A2": "transport", "A3": "manufacturing"}
_SCOPES = {"1": "direct (plant)", "2": "purchased electricity", "3": "other upstream"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``demo`` sub-command."""
    p = sub.add_parser(
        "demo",
        help="carbon footprint of a bundled example (1 t of cement)",
        description="Load the bundled cement example, apply IPCC AR6 GWP100 and print its "
        "cradle-to-gate footprint with breakdowns by stage, scope, activity and gas.",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _grouped(values: np.ndarray, tags: list[str], total: float) -> list[dict[str, Any]]:
    out: dict[str, float] = {}
    for tag, v in zip(tags, values.tolist(), strict=True):
        out[tag] = out.get(tag, 0.0) + v
    return [
        {"tag": k, "score": v, "share": v / total if total else float("nan")}
        for k, v in sorted(out.items())
    ]


def footprint(name: str = "cement", method: str = "IPCC AR6 GWP100", top: int = 8) -> dict:
    """Footprint of a bundled example as a JSON-ready dict.

    Parameters
    ----------
    name : str
        Example name (see :data:`lcasolve.examples.EXAMPLES`).
    method : str
        A shipped method.
    top : int
        Number of activities listed individually.

    Returns
    -------
    dict
        ``total``, ``unit``, ``by_stage``, ``by_scope``, ``top_activities``, ``by_flow``,
        ``residual``, ``seconds`` and a description of the example.
    """
    from lcasolve.examples import example_path, load_example
    from lcasolve.lca import LCA

    start = time.perf_counter()
    system, demand = load_example(name, methods=[method])
    fu: dict[Hashable, float] = {k: v for k, v in demand.items()}  # noqa: C416 (typing)
    result = LCA(system).calculate(fu)
    k = system.category_position(method)
    per_activity = system.CB.getrow(k).toarray().ravel() * result.supply
    total = float(result.scores.iloc[k])
    acts = system.activities
    top_table = result.contributions(method, by="activity", top=top)
    flows = result.contributions(method, by="flow", top=None)
    (pid, amount), *_ = demand.items()
    fu_row = acts.iloc[system.product_position(pid)]
    report = system.metadata["method_match"][method]
    from lcasolve.pcf import footprint as pcf_footprint
    from lcasolve.pcf import ghg_split
    from lcasolve.pcf.disclosure import data_gaps, flow_assumptions
    from lcasolve.pcf.report import DisclosureSection

    lca = LCA(system)
    fp = pcf_footprint(lca, fu, method)
    split = ghg_split(lca, fp).to_dict()
    disclosures = DisclosureSection(flow_assumptions(lca, fp), data_gaps(lca, fp))
    return {
        "example": name,
        "path": str(example_path(name)),
        "functional_unit": f"{amount:g} {fu_row['unit']} {fu_row['product']}",
        "demand": demand,
        "method": method,
        "unit": str(system.categories["unit"].iloc[k]),
        "total": total,
        "by_stage": _grouped(per_activity, acts["stage"].astype(str).tolist(), total),
        "by_scope": _grouped(per_activity, acts["scope"].astype(str).tolist(), total),
        "top_activities": [
            {"id": r.id, "name": r.name, "score": float(r.score), "share": float(r.share)}
            for r in top_table.itertuples(index=False)
        ],
        "by_flow": [
            {"id": r.id, "name": r.name, "score": float(r.score), "share": float(r.share)}
            for r in flows.itertuples(index=False)
        ],
        "flows_characterized": len(report["matched"]),
        "ghg_split": split,
        "disclosures": {
            "assumptions": [a.to_dict() for a in disclosures.assumptions],
            "data_gaps": disclosures.gap_lines(),
        },
        "residual": float(result.residual),
        "seconds": time.perf_counter() - start,
    }


def _text(fp: dict) -> str:
    unit = fp["unit"]
    lines = [
        f"lcasolve demo: {fp['functional_unit']}, cradle to gate (illustrative data)",
        f"  data:   {fp['path']}",
        f"  method: {fp['method']} ({fp['flows_characterized']} flows characterized)",
        "",
        f"Carbon footprint: {fp['total']:,.1f} {unit} per {fp['functional_unit']}",
        "",
        "By life-cycle stage:",
    ]
    for g in fp["by_stage"]:
        label = f"{g['tag']} {_STAGES.get(g['tag'], '')}".strip()
        lines.append(f"  {label:<36} {g['score']:>10,.1f}  {g['share']:>6.1%}")
    lines += ["", "By scope (GHG Protocol):"]
    for g in fp["by_scope"]:
        label = f"scope {g['tag']} {_SCOPES.get(g['tag'], '')}".strip()
        lines.append(f"  {label:<36} {g['score']:>10,.1f}  {g['share']:>6.1%}")
    lines += ["", "Top contributors (direct emissions of each activity):"]
    for a in fp["top_activities"]:
        lines.append(f"  {str(a['name'])[:60]:<60} {a['score']:>10,.1f}  {a['share']:>6.1%}")
    lines += ["", "By greenhouse gas:"]
    width = min(72, max([36, *(len(str(f["name"])) for f in fp["by_flow"])]))
    for f in fp["by_flow"]:
        # names carry their compartment ("Methane, fossil (air/non-urban air or from high
        # stacks)"): as wide as the longest, up to 72 characters
        lines.append(
            f"  {str(f['name'])[:width]:<{width}} {f['score']:>10,.1f}  {f['share']:>6.1%}"
        )
    s = fp["ghg_split"]
    lines += [
        "",
        "By origin (ISO 14067, biogenic CO2 convention 0/0: beside the total):",
        f"  {'fossil':<36} {s['fossil']:>10,.1f}",
        f"  {'land-use change':<36} {s['land_use_change']:>10,.1f}",
        f"  {'biogenic (in the total)':<36} {s['biogenic_in_total']:>10,.1f}",
        f"  {'biogenic CO2 out, kg (not in total)':<36} {s['biogenic_co2_emissions']:>10,.1f}",
        f"  {'biogenic CO2 in, kg (not in total)':<36} {s['biogenic_co2_removals']:>10,.1f}",
        f"  {'aircraft (within fossil)':<36} {s['aircraft']:>10,.1f}",
        "",
        "Assumptions made by flow matching:",
    ]
    d = fp["disclosures"]
    lines += [
        f"  {a['rule']}: {a['amount_kg']:,.1f} kg"
        + ("" if a["share"] is None else f", {a['share']:.1%} of the footprint")
        for a in d["assumptions"]
    ] or ["  none"]
    lines += ["", "Data gaps:"] + [f"  {x}" for x in d["data_gaps"]]
    lines += [
        "",
        f"Scores in {unit}. Relative residual {fp['residual']:.1e}; "
        f"loaded and solved in {fp['seconds']:.2f} s.",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compute and print the example's footprint."""
    fp = footprint()
    emit(args, fp, _text(fp))
    return 0
