"""What a footprint rests on: assumptions made by flow matching and the data gaps of its chain.

- :func:`flow_assumptions`: every rule of the flow matching that is an assumption rather than a
  value of the method (CO2 of unspecified origin counted as fossil, biogenic CO2 = 0, compartment
  assumed air, ...), with the amount of the flows it was applied to and their share of the total.
- :func:`data_gaps`: the import's link report restricted to the processes the functional unit
  reaches: inputs cut off (no provider, provider outside the data, ambiguous and cut off), with
  their amount per functional unit and, where the data holds a process making the same product,
  an estimate of their share; co-products left out; uncertainty data dropped on import.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from lcasolve.io.report import ImportReport, ImportSummary
from lcasolve.lca import LCA
from lcasolve.pcf.footprint import Footprint

__all__ = [
    "VALUE_RULES",
    "Assumption",
    "DataGaps",
    "Gap",
    "data_gaps",
    "flow_assumptions",
]

#: flow-matching rules that apply the method's own value (everything else is an assumption)
VALUE_RULES = frozenset({"CO2", "IPCC value", "fossil methane", "non-fossil methane"})

_UNCERTAINTY = re.compile(r"distribution|uncertainty|geomSd|pedigree", re.IGNORECASE)
_CUTOFF_PREFIX = re.compile(r"^\s*cut-?off\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Assumption:
    """One flow-matching rule applied to flows of the inventory.

    Attributes
    ----------
    rule : str
        The rule, e.g. ``"CO2 of unspecified origin counts as fossil"``.
    flows : tuple of str
        Names of the flows (with their compartment) it was applied to.
    amount : float
        Their inventory per functional unit, in kg.
    score : float
        Their characterized contribution to the total.
    share : float, optional
        ``score / total``.
    """

    rule: str
    flows: tuple[str, ...]
    amount: float
    score: float
    share: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "rule": self.rule,
            "flows": list(self.flows),
            "amount_kg": self.amount,
            "score": self.score,
            "share": self.share,
        }


def flow_assumptions(lca: LCA, fp: Footprint) -> tuple[Assumption, ...]:
    """Assumptions the shipped method's flow matching made, with their amount and share.

    Parameters
    ----------
    lca : LCA
        The calculation the footprint came from.
    fp : Footprint

    Returns
    -------
    tuple of Assumption
        Largest absolute amount first; empty when the category is not a shipped method (its
        factors came with the data) or no assumption touches a nonzero inventory.
    """
    match = (fp.system.metadata.get("method_match") or {}).get(fp.category)
    if not match:
        return ()
    index = fp.system.flow_index
    g = lca.calculate(fp.demand).inventory
    groups: dict[str, list[tuple[int, float, str]]] = {}
    for row in match["matched"]:
        rule = str(row["rule"])
        pos = index.get(row["flow_id"])
        if rule in VALUE_RULES or pos is None or g[pos] == 0:
            continue
        label = f"{row['flow_name']} ({row['compartment']})" if row["compartment"] else ""
        groups.setdefault(rule, []).append(
            (int(pos), float(row["unit_factor"]), label or str(row["flow_name"]))
        )
    out = []
    for rule, items in groups.items():
        where = np.array([p for p, _, _ in items])
        score = float(fp.flow_values[where].sum())
        out.append(
            Assumption(
                rule=rule,
                flows=tuple(label for _, _, label in items),
                amount=float(sum(g[p] * u for p, u, _ in items)),
                score=score,
                share=score / fp.total if fp.total else None,
            )
        )
    return tuple(sorted(out, key=lambda a: -abs(a.amount)))


@dataclass(frozen=True)
class Gap:
    """An input of a process in the supply chain that is missing from the matrices.

    Attributes
    ----------
    issue, action : str
        From the link report (``unlinked`` / ``cut off``, ``provider outside data`` / ...).
    process, process_name : str
        The consuming process.
    flow, flow_name : str
        The input's flow.
    amount : float, optional
        Amount needed for the functional unit (the exchange × the process's supply), in the
        flow's reference unit; None when the process is split into several activities.
    own : bool
        An input of the product's own process (not further up the chain).
    estimate : float, optional
        Estimated contribution to the footprint: ``amount × λ`` of the process in the data
        that makes the product of the same flow or name.
    share : float, optional
        ``estimate / total``.
    basis : str
        How the estimate was made ("" when there is none).
    """

    issue: str
    action: str
    process: str
    process_name: str
    flow: str
    flow_name: str
    amount: float | None
    own: bool
    estimate: float | None = None
    share: float | None = None
    basis: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class DataGaps:
    """Data gaps of a footprint's supply chain, from the import's link report.

    Attributes
    ----------
    gaps : tuple of Gap
        Inputs cut off in the processes the functional unit reaches, the product's own first.
    processes : int
        Processes the functional unit reaches (nonzero supply).
    ambiguous_linked : int
        Inputs of those processes linked to one of several providers by the linking rules.
    coproducts_left_out : int
        Co-product outputs of those processes left out (not linked, not allocated).
    uncertainty_dropped : int
        Uncertainty distributions dropped on import as invalid (whole data set).
    problems : tuple of str
        Other problems skipped on import (whole data set).
    summary : ImportSummary, optional
        The import report's summary; None when the system carries no import report.
    source : str
        The reader the system came from (``"built in code"`` when none is recorded).
    """

    gaps: tuple[Gap, ...]
    processes: int
    ambiguous_linked: int
    coproducts_left_out: int
    uncertainty_dropped: int
    problems: tuple[str, ...]
    summary: ImportSummary | None
    source: str = ""

    @property
    def own(self) -> tuple[Gap, ...]:
        """Gaps of the product's own process."""
        return tuple(g for g in self.gaps if g.own)

    @property
    def estimated_share(self) -> float:
        """Sum of the absolute estimated shares of the gaps that have an estimate."""
        return float(sum(abs(g.share) for g in self.gaps if g.share is not None))

    @property
    def unestimated(self) -> int:
        """Gaps without an estimate of their share."""
        return sum(1 for g in self.gaps if g.share is None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with every gap."""
        return {
            "processes_reached": self.processes,
            "cut_off_inputs": len(self.gaps),
            "cut_off_inputs_own_process": len(self.own),
            "processes_with_cut_off_inputs": len({g.process for g in self.gaps}),
            "by_issue": dict(Counter(g.issue for g in self.gaps)),
            "estimated": len(self.gaps) - self.unestimated,
            "estimated_share": self.estimated_share,
            "without_estimate": self.unestimated,
            "ambiguous_linked": self.ambiguous_linked,
            "coproducts_left_out": self.coproducts_left_out,
            "uncertainty_dropped": self.uncertainty_dropped,
            "other_problems": len(self.problems),
            "source": self.source,
            "import": None if self.summary is None else self.summary.to_dict(),
            "gaps": [g.to_dict() for g in self.gaps],
        }


def data_gaps(lca: LCA, fp: Footprint) -> DataGaps:
    """The data gaps of a footprint's supply chain.

    Parameters
    ----------
    lca : LCA
        The calculation the footprint came from.
    fp : Footprint

    Returns
    -------
    DataGaps
        Empty gaps (and ``summary`` None) for a system without an import report, e.g. one
        built in code.
    """
    system = fp.system
    meta = system.metadata
    has_report = bool(meta.get("import_report") or meta.get("link_report"))
    report = ImportReport.from_system(system)
    acts = system.activities
    supply = lca.calculate(fp.demand).supply
    proc_col = acts["process_id"] if "process_id" in acts.columns else acts["id"]
    procs = proc_col.astype(str).to_numpy()
    by_process: dict[str, list[int]] = {}
    for j, p in enumerate(procs):
        by_process.setdefault(p, []).append(j)
    reached = {p for p, js in by_process.items() if any(supply[j] != 0 for j in js)}
    own = {procs[system.product_position(pid)] for pid in fp.demand}
    k = system.category_position(fp.category)
    lam: np.ndarray | None = None
    providers = _providers(system)
    gaps: list[Gap] = []
    ambiguous_linked = coproducts = 0
    for e in report.entries:
        proc = str(e.get("process", ""))
        if proc not in reached:
            continue
        action = str(e.get("action", ""))
        issue = str(e.get("issue", ""))
        if issue == "co-product cut off":
            coproducts += 1
            continue
        if action != "cut off":
            ambiguous_linked += issue == "ambiguous"
            continue
        js = by_process[proc]
        amount = float(e["amount"]) * float(supply[js[0]]) if len(js) == 1 else None
        estimate = share = None
        basis = ""
        pos = providers.get(("flow", str(e.get("flow", ""))))
        how = "the process making this flow"
        if pos is None:
            pos = providers.get(("name", _product_key(str(e.get("flow_name", "")))))
            how = "the process whose product has this name (same unit assumed)"
        if pos is not None and amount is not None and np.isfinite(amount):
            if lam is None:
                lam = lca.activity_scores().lam[:, k]
            estimate = amount * float(lam[pos])
            share = estimate / fp.total if fp.total else None
            basis = f"as {acts['name'].iloc[pos]} ({acts['id'].iloc[pos]}), {how}"
        gaps.append(
            Gap(
                issue=issue,
                action=action,
                process=proc,
                process_name=str(e.get("process_name", "")),
                flow=str(e.get("flow", "")),
                flow_name=str(e.get("flow_name", "")),
                amount=amount,
                own=proc in own,
                estimate=estimate,
                share=share,
                basis=basis,
            )
        )
    gaps.sort(key=lambda g: (not g.own, -abs(g.share or 0.0), g.process, g.flow_name))
    dropped = [p for p in report.problems if _UNCERTAINTY.search(p)]
    return DataGaps(
        gaps=tuple(gaps),
        processes=len(reached),
        ambiguous_linked=int(ambiguous_linked),
        coproducts_left_out=coproducts,
        uncertainty_dropped=len(dropped),
        problems=tuple(p for p in report.problems if not _UNCERTAINTY.search(p)),
        summary=report.summary() if has_report else None,
        source=str(meta.get("format") or "built in code"),
    )


def _product_key(name: str) -> str:
    return _CUTOFF_PREFIX.sub("", name).strip().lower()


def _providers(system: Any) -> dict[tuple[str, str], int]:
    """Activity position by product flow id and by product name (names made by one only)."""
    acts = system.activities
    out: dict[tuple[str, str], int] = {}
    if "product_flow" in acts.columns:
        flows = acts["product_flow"].astype(str).tolist()
        counts = Counter(flows)
        out.update({("flow", f): j for j, f in enumerate(flows) if counts[f] == 1})
    col = "product" if "product" in acts.columns else "name"
    names = [_product_key(str(n)) for n in acts[col].tolist()]
    counts = Counter(names)
    out.update({("name", n): j for j, n in enumerate(names) if counts[n] == 1 and n})
    return out
