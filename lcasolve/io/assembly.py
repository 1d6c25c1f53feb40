"""Assembly of process records into a :class:`~lcasolve.model.System`.

:func:`assemble`

1. allocates multi-output processes (:mod:`lcasolve.io.allocation`);
2. links each product input (and each waste output, and each avoided product) to its providers
   (:mod:`lcasolve.io.linking`);
3. builds ``A`` (production positive on the diagonal, inputs and waste outputs negative, avoided
   products positive, duplicates summed) and ``B`` with their stats_arrays uncertainty, and
   optionally ``C`` from characterization factors given per flow (and direction).

Elementary flows enter ``B`` in their own direction: a resource (compartment naming a resource)
is positive when taken in, any other flow positive when released (brightway's convention, so the
shipped methods' factors apply as they are); an exchange against its flow's direction enters
negative, so an input and an output of the same flow net out (USLCI's "Cooling water" taken and
returned). Flows whose compartment says neither follow the direction most of their exchanges
have. The flow table's ``direction`` column says which one each flow got.

The metadata get ``link_report`` (entries of :func:`lcasolve.io.report.entry`), ``problems``
(skipped with ``strict=False``), ``link_counts`` and ``import_report``, which
:class:`~lcasolve.io.report.ImportReport` reads.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError, InvalidProductionError, MissingReferenceError
from lcasolve.io.allocation import columns
from lcasolve.io.distributions import scaled
from lcasolve.io.linking import Linker, LinkOptions, needs_provider
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import LinkReport, Problems
from lcasolve.model import UNCERTAINTY_DTYPE, IdEntries, System, build_system, no_uncertainty

__all__ = ["Category", "assemble", "compartment_direction"]


@dataclass(frozen=True)
class Category:
    """An impact category read with the data: factors per flow id.

    ``factors`` maps a flow id to its factor (for exchanges in the flow's direction, and its
    negative against it). ``directional``, when given, replaces it: ``(flow id, direction)``
    with direction ``"input"``/``"output"`` to a factor that applies only to exchanges in that
    direction (ILCD's ``exchangeDirection``).
    """

    id: str
    name: str
    unit: str
    factors: Mapping[str, float] = field(default_factory=dict)
    directional: Mapping[tuple[str, str], float] | None = None


def assemble(
    processes: Sequence[ProcessRecord],
    flows: Mapping[str, FlowRecord],
    options: LinkOptions | None = None,
    *,
    problems: Problems | None = None,
    metadata: dict[str, Any] | None = None,
    categories: Sequence[Category] = (),
    parameters: Sequence[Any] = (),
    decimal: str = ".",
) -> System:
    """Link, allocate and build the system.

    Parameters
    ----------
    processes : sequence of ProcessRecord
    flows : mapping of flow id to FlowRecord
    options : LinkOptions, optional
        Linking and allocation policies (default :class:`LinkOptions()`).
    problems : Problems, optional
        The reader's collector (its ``strict`` wins over ``options.strict``).
    metadata : dict, optional
        Stored on the system beside the link report.
    categories : sequence of Category, optional
        Impact categories; a directional factor applies to the flow's exchanges in that
        direction only, so an elementary flow given factors for both directions is split into
        two rows of ``B`` (ids ``flow`` and ``flow/input``).
    parameters : sequence of Parameter, optional
        Global and database parameters (processes carry their own in ``ProcessRecord``);
        with them and the exchanges' ``formula`` the system gets a
        :class:`~lcasolve.parameters.ParameterSet` (``system.parameters``).
    decimal : str, optional
        The decimal mark of the formulas (``","`` for some SimaPro files).

    Returns
    -------
    System
    """
    options = options or LinkOptions()
    problems = problems or Problems(options.strict)
    report: list[dict[str, Any]] = []
    cols = columns(processes, flows, options.allocation, report, problems)
    if not cols:
        raise InputError("no process could be read: " + "; ".join(problems.items[:3]))
    linker = Linker(cols, flows, {p.id for p in processes}, options, report)
    counts = linker.counts
    takes_in = _elementary_directions(processes, flows)
    split_rows = _split_rows(categories)

    tech = _Triplets()
    bio = _Triplets()
    for c in cols:
        p = c.process
        # production on the diagonal: the reference amount of this column's product
        ref_unc = c.product.uncertainty if c.product.amount > 0 else None
        tech.add(c.id, c.id, abs(c.product.amount), 1.0, ref_unc, c.product.pedigree)
        if c.product.formula:
            sign = 1.0 if c.product.amount >= 0 else -1.0
            tech.formula(c.product, sign * c.product.formula_scale, p.id)
        counts["reference"] += 1
        for ex in p.exchanges:
            if ex.is_reference or ex is c.product:
                continue
            fl = flows.get(ex.flow)
            if fl is None:
                problems.add(
                    MissingReferenceError(
                        f"{ex.where}: flow {ex.flow} of exchange {ex.id} is not in the data"
                    )
                )
                continue
            if fl.kind != "elementary" and not needs_provider(ex, flows):
                continue  # co-products of allocated/cut-off processes are handled as columns
            share = c.factor(ex)
            if share == 0.0:
                continue
            amount = ex.amount * share
            unc = scaled(ex.uncertainty, share)
            if fl.kind == "elementary":
                # positive in the flow's own direction, negative against it (see module doc)
                own = ex.is_input == takes_in[ex.flow]
                row = ex.flow if own or ex.flow not in split_rows else _other_row(ex.flow, takes_in)
                sign = 1.0 if own or row != ex.flow else -1.0
                bio.add(row, c.id, amount, sign, unc, ex.pedigree)
                if ex.formula:
                    bio.formula(ex, bio.sign[-1] * share * ex.formula_scale, p.id)
                counts["elementary"] += 1
                continue
            for provider, part in linker.providers(ex, c):
                if provider is c and amount * part >= abs(c.product.amount) and not ex.is_avoided:
                    problems.add(
                        InvalidProductionError(
                            f"{ex.where}: process {p.id} ({p.name!r}) takes in {amount * part} "
                            f"of its own reference product and makes {abs(c.product.amount)}: "
                            f"nothing is left for the rest of the system (check the amounts); "
                            f"the input is cut off"
                        )
                    )
                    continue
                # inputs (and waste outputs) enter A negative; avoided products positive
                tech.add(
                    provider.id,
                    c.id,
                    amount * part,
                    1.0 if ex.is_avoided else -1.0,
                    scaled(unc, part),
                    ex.pedigree,
                )
                if ex.formula:
                    tech.formula(ex, tech.sign[-1] * share * part * ex.formula_scale, p.id)
    meta = dict(metadata or {})
    meta["link_report"] = LinkReport(report)
    meta["problems"] = list(problems.items)
    meta["invalid_distributions"] = list(problems.distributions)
    meta["link_counts"] = dict(counts)
    if tech.pedigree or bio.pedigree:
        meta["pedigree"] = _pedigree_table({"technosphere": tech, "biosphere": bio})
    meta["import_report"] = {
        "format": meta.get("format", ""),
        "policies": {**options.to_dict(), "strict": problems.strict},
        "counts": dict(meta.get("counts", {})),
        "links": dict(counts),
    }
    activities = pd.DataFrame(
        {
            "id": [c.id for c in cols],
            "name": [c.process.name for c in cols],
            "product_id": [c.id for c in cols],
            "product": [
                flows[c.product.flow].name if c.product.flow in flows else "" for c in cols
            ],
            "unit": [flows[c.product.flow].unit if c.product.flow in flows else "" for c in cols],
            "location": [c.process.location for c in cols],
            "process_id": [c.process.id for c in cols],
            "product_flow": [c.product.flow for c in cols],
            "type": [c.process.type for c in cols],
            "category": [c.process.category for c in cols],
        }
    )
    used = sorted(set(bio.row))
    base = [u if u in flows else u.rsplit("/", 1)[0] for u in used]
    flow_table = pd.DataFrame(
        {
            "id": used,
            "name": [flows[f].name for f in base],
            "compartment": [flows[f].compartment for f in base],
            "unit": [flows[f].unit for f in base],
            "cas": [flows[f].cas for f in base],
            "location": [flows[f].location for f in base],
            "direction": [
                ("input" if takes_in[f] else "output") if u == f else _flip(takes_in[f])
                for u, f in zip(used, base, strict=True)
            ],
        }
    )
    char, cat_table = _characterization(categories, used, base, flow_table["direction"].tolist())
    system = build_system(
        tech.entries(),
        bio.entries(),
        char,
        activities=activities,
        flows=flow_table,
        categories=cat_table,
        metadata=meta,
    )
    process_parameters = [q for p in processes for q in p.parameters]
    if not (parameters or process_parameters or tech.sources or bio.sources):
        return system
    from lcasolve.parameters._build import attach_parameters

    sources = [
        (matrix, index, ex.formula, ex.where, factor, scope, decimal)
        for matrix, triplets in (("technosphere", tech), ("biosphere", bio))
        for index, ex, factor, scope in triplets.sources
    ]
    return attach_parameters(system, [*parameters, *process_parameters], sources, problems)


def _flip(takes_in: bool) -> str:
    return "output" if takes_in else "input"


def _split_rows(categories: Sequence[Category]) -> set[str]:
    """Flows with directional factors (their opposite exchanges get a row of their own)."""
    out: set[str] = set()
    for cat in categories:
        for fid, _ in cat.directional or {}:
            out.add(fid)
    return out


def _other_row(fid: str, takes_in: Mapping[str, bool]) -> str:
    return f"{fid}/{_flip(takes_in[fid])}"


def _characterization(
    categories: Sequence[Category], used: list[str], base: list[str], directions: list[str]
) -> tuple[IdEntries | None, pd.DataFrame | None]:
    if not categories:
        return None, None
    rows: list[str] = []
    cols: list[str] = []
    vals: list[float] = []
    for cat in categories:
        for u, f, d in zip(used, base, directions, strict=True):
            if cat.directional is not None:
                value = cat.directional.get((f, d))
            else:
                value = cat.factors.get(f)
                if value is not None and u != f:
                    value = -value  # the row of exchanges against the flow's direction
            if value is None:
                continue
            rows.append(cat.id)
            cols.append(u)
            vals.append(value)
    values = np.asarray(vals, dtype=np.float64)
    char = IdEntries(
        _obj(rows), _obj(cols), values, no_uncertainty(values), np.zeros(len(vals), dtype=bool)
    )
    table = pd.DataFrame(
        {
            "id": [c.id for c in categories],
            "name": [c.name for c in categories],
            "unit": [c.unit for c in categories],
        }
    )
    return char, table


_RESOURCE = re.compile(r"resource|\bin (?:air|ground|water)\b|raw material", re.IGNORECASE)
_EMISSION = re.compile(
    r"emission|\b(?:air|water|soil|atmosphere|stratosphere|ocean|river|lake|groundwater)\b",
    re.IGNORECASE,
)


def compartment_direction(compartment: str) -> str:
    """``"input"`` for a resource compartment, ``"output"`` for an emission one, else ``""``.

    Resources: compartments naming a resource, ``in air``/``in ground``/``in water`` or a raw
    material; emissions: air, water, soil, atmosphere, stratosphere, ocean, river, lake,
    groundwater or ``emission``. Writers use it to put resources on the input side.
    """
    if _RESOURCE.search(compartment):
        return "input"
    if _EMISSION.search(compartment):
        return "output"
    return ""


def _elementary_directions(
    processes: Sequence[ProcessRecord], flows: Mapping[str, FlowRecord]
) -> dict[str, bool]:
    """Per elementary flow id, True when it enters ``B`` positive as an input (a resource)."""
    out: dict[str, bool] = {}
    undecided: set[str] = set()
    for fid, fl in flows.items():
        if fl.kind != "elementary":
            continue
        direction = fl.direction or compartment_direction(fl.compartment)
        if direction in ("input", "output"):
            out[fid] = direction == "input"
        else:
            undecided.add(fid)
    if undecided:
        votes: Counter[str] = Counter()
        for p in processes:
            for ex in p.exchanges:
                if ex.flow in undecided:
                    votes[ex.flow] += 1 if ex.is_input else -1
        out.update((fid, votes[fid] > 0) for fid in undecided)
    return out


class _Triplets:
    """Matrix entries collected as lists: ids, source amounts, signs and optional records."""

    def __init__(self) -> None:
        self.row: list[str] = []
        self.col: list[str] = []
        self.amount: list[float] = []
        self.sign: list[float] = []
        self.records: list[tuple[int, np.void]] = []
        self.sources: list[tuple[int, ExchangeRecord, float, str]] = []
        self.pedigree: list[tuple[int, tuple[int, ...]]] = []

    def add(
        self,
        row: str,
        col: str,
        amount: float,
        sign: float,
        rec: np.void | None,
        pedigree: tuple[int, ...] | None = None,
    ) -> None:
        """One entry ``sign × amount`` (``amount`` in the source sign, ``rec`` its record).

        ``pedigree``: the exchange's five data-quality scores, kept beside the entry.
        """
        if rec is not None:
            self.records.append((len(self.amount), rec))
        if pedigree is not None:
            self.pedigree.append((len(self.amount), pedigree))
        self.row.append(row)
        self.col.append(col)
        self.amount.append(amount)
        self.sign.append(sign)

    def formula(self, ex: ExchangeRecord, factor: float, scope: str) -> None:
        """The last entry added is ``factor ×`` the exchange's formula, in ``scope``."""
        self.sources.append((len(self.amount) - 1, ex, factor, scope))

    def entries(self) -> IdEntries:
        """The entries with their stats_arrays records (source sign) and flip flags."""
        amount = np.asarray(self.amount, dtype=np.float64)
        sign = np.asarray(self.sign, dtype=np.float64)
        unc = no_uncertainty(amount)
        if self.records:
            at = np.fromiter((i for i, _ in self.records), dtype=np.int64, count=len(self.records))
            unc[at] = np.array([r for _, r in self.records], dtype=UNCERTAINTY_DTYPE)
        return IdEntries(_obj(self.row), _obj(self.col), sign * amount, unc, sign < 0)


def _pedigree_table(triplets: Mapping[str, _Triplets]) -> dict[str, list[Any]]:
    """``metadata["pedigree"]``: one row per exchange with data-quality scores.

    Columns ``matrix`` (``technosphere`` or ``biosphere``), ``row`` and ``col`` (the entry's
    product or flow id and activity id, as in the system's tables), ``value`` (the exchange's
    signed entry, before duplicates are summed), ``entry`` (its position among the matrix's
    entries, so that its current value is read after parameters change it) and ``scores``
    (five integers 1-5: reliability, completeness, temporal, geographical, technological; see
    :data:`lcasolve.pcf.quality.INDICATORS`).
    """
    out: dict[str, list[Any]] = {
        "matrix": [],
        "row": [],
        "col": [],
        "value": [],
        "entry": [],
        "scores": [],
    }
    for matrix, t in triplets.items():
        for i, scores in t.pedigree:
            out["entry"].append(i)
            out["matrix"].append(matrix)
            out["row"].append(t.row[i])
            out["col"].append(t.col[i])
            out["value"].append(t.sign[i] * t.amount[i])
            out["scores"].append([int(s) for s in scores])
    return out


def _obj(ids: Sequence[Hashable]) -> np.ndarray:
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out
