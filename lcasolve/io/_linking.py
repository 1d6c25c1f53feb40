"""Format-neutral process records, linking, allocation and assembly into a :class:`System`.

Readers of process databases (openLCA JSON-LD, EcoSpold2) turn their files into
:class:`ProcessRecord` and :class:`FlowRecord` objects, with every amount already converted to
its flow's reference unit, and call :func:`assemble`, which

1. allocates multi-output processes (one column per product, scaled by the allocation factors)
   or, where a process has no usable factors, keeps its reference product and cuts off the
   co-products;
2. links each product input (and each waste output, and each avoided product) to a provider:
   the default provider when the data name one that is present, else the unique process whose
   reference product is that flow; ambiguous and unlinked inputs follow the ``ambiguous`` /
   ``unlinked`` policies and are always listed in the link report;
3. builds ``A`` (production positive on the diagonal, inputs and waste outputs negative, avoided
   products positive, duplicates summed) and ``B`` with their stats_arrays uncertainty.

Elementary flows enter ``B`` in their own direction: a resource (compartment naming a resource)
is positive when taken in, any other flow positive when released (brightway's convention, so the
shipped methods' factors apply as they are); an exchange against its flow's direction enters
negative, so an input and an output of the same flow net out (USLCI's "Cooling water" taken and
returned). Flows whose compartment says neither follow the direction most of their exchanges
have. The flow table's ``direction`` column says which one each flow got.

Link report entries are dicts with ``issue`` (``ambiguous``, ``unlinked``, ``co-product cut
off``, ``allocated``, ``provider outside data``, ``default provider ignored``), ``action``,
``process``, ``process_name``, ``exchange``, ``flow``, ``flow_name``, ``amount`` and
``detail``; they land in ``system.metadata["link_report"]``, problems skipped with
``strict=False`` in ``metadata["problems"]``, and :class:`ImportReport` reads both
(``ImportReport.from_system``). A default provider that is not loaded is not replaced by
another provider of the flow: the input is cut off and listed (``provider outside data``).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import (
    InputError,
    InvalidProductionError,
    InvalidUncertaintyError,
    LinkingError,
    MissingReferenceError,
)
from lcasolve.model import UNCERTAINTY_DTYPE, IdEntries, System, build_system, no_uncertainty

__all__ = [
    "AMBIGUOUS_POLICIES",
    "ALLOCATION_METHODS",
    "ExchangeRecord",
    "FlowRecord",
    "ImportReport",
    "ProcessRecord",
    "Problems",
    "UNLINKED_POLICIES",
    "assemble",
    "compartment_direction",
    "new_record",
    "scaled_uncertainty",
    "set_bounded",
]

AMBIGUOUS_POLICIES = ("prefer", "cutoff", "error")
UNLINKED_POLICIES = ("cutoff", "error")
#: ``process`` uses each process's default method (physical when it names none)
ALLOCATION_METHODS = ("process", "physical", "economic", "causal", "none")


@dataclass(frozen=True)
class FlowRecord:
    """A flow: ``kind`` is ``elementary``, ``product`` or ``waste``; ``unit`` its reference unit.

    ``direction`` (elementary flows): ``"input"`` or ``"output"``, the direction in which an
    exchange of this flow enters ``B`` positive; empty to let :func:`assemble` infer it from the
    compartment (resources: input) or, failing that, from the exchanges.
    """

    id: str
    name: str
    kind: str
    unit: str = ""
    compartment: str = ""
    cas: str = ""
    location: str = ""
    direction: str = ""


@dataclass(slots=True)
class ExchangeRecord:
    """One exchange of a process, amount in the flow's reference unit (source sign, ≥ 0 usually).

    ``uncertainty`` is a stats_arrays record for the amount (or None); ``provider`` the default
    provider's process id when the data give one; ``where`` locates it for messages.
    """

    flow: str
    amount: float
    is_input: bool
    is_reference: bool = False
    is_avoided: bool = False
    provider: str | None = None
    uncertainty: np.void | None = None
    id: str = ""
    where: str = ""


@dataclass
class ProcessRecord:
    """A process with its exchanges and allocation factors.

    ``allocation`` maps a method (``physical``, ``economic``) to ``{product flow id: factor}``;
    ``causal`` maps ``(product flow id, exchange flow id)`` to a factor.
    """

    id: str
    name: str
    location: str = ""
    type: str = "UNIT_PROCESS"
    exchanges: list[ExchangeRecord] = field(default_factory=list)
    allocation: dict[str, dict[str, float]] = field(default_factory=dict)
    causal: dict[tuple[str, str], float] = field(default_factory=dict)
    default_allocation: str | None = None
    category: str = ""
    where: str = ""


class Problems:
    """Collects problems when ``strict=False``; raises the first one when ``strict=True``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.items: list[str] = []

    def add(self, exc: Exception) -> None:
        """Record ``exc`` (or raise it in strict mode)."""
        if self.strict:
            raise exc
        self.items.append(str(exc))

    def guard(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; on an :class:`InputError` record it and return None."""
        try:
            return fn()
        except InputError as exc:
            self.add(exc)
            return None


_ENTRY_COLUMNS = (
    "issue",
    "action",
    "process",
    "process_name",
    "exchange",
    "flow",
    "flow_name",
    "amount",
    "detail",
)


@dataclass(frozen=True)
class ImportReport:
    """What an import did: counts, every linking and allocation choice, the problems skipped.

    Built from a system's metadata (:meth:`from_system`), so it is available after a round trip
    through the HDF5 store as well.

    Attributes
    ----------
    format : str
        The reader (``jsonld``, ``ecospold2``).
    policies : dict
        ``ambiguous``, ``unlinked``, ``allocation`` and ``strict`` as used.
    counts : dict
        The reader's counts (processes, flows, exchanges, elementary exchanges, unit conversions).
    links : dict
        Exchanges by how they entered the matrices: ``reference``, ``default provider``,
        ``unique provider``, ``ambiguous``, ``unlinked``, ``elementary``.
    entries : tuple of dict
        The link report: one dict per ambiguous, unlinked or cut-off exchange and per allocated
        product (keys ``issue``, ``action``, ``process``, ``process_name``, ``exchange``,
        ``flow``, ``flow_name``, ``amount``, ``detail``).
    problems : tuple of str
        Problems skipped with ``strict=False``, each naming the file, process and exchange.
    """

    format: str = ""
    policies: Mapping[str, Any] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    links: Mapping[str, int] = field(default_factory=dict)
    entries: tuple[Mapping[str, Any], ...] = ()
    problems: tuple[str, ...] = ()

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ImportReport:
        """The report of a system's ``metadata`` (``import_report``, ``link_report``, ...)."""
        head = dict(metadata.get("import_report") or {})
        return cls(
            format=str(head.get("format", metadata.get("format", ""))),
            policies=dict(head.get("policies", {})),
            counts=dict(metadata.get("counts") or head.get("counts") or {}),
            links=dict(metadata.get("link_counts") or head.get("links") or {}),
            entries=tuple(dict(e) for e in metadata.get("link_report") or ()),
            problems=tuple(str(x) for x in metadata.get("problems") or ()),
        )

    @classmethod
    def from_system(cls, system: System) -> ImportReport:
        """The report of an imported system."""
        return cls.from_metadata(system.metadata)

    @property
    def issues(self) -> dict[str, int]:
        """Number of link-report entries per issue."""
        return dict(Counter(str(e.get("issue", "")) for e in self.entries))

    def select(self, issue: str) -> list[Mapping[str, Any]]:
        """The link-report entries of one issue (e.g. ``"ambiguous"``, ``"unlinked"``)."""
        return [e for e in self.entries if e.get("issue") == issue]

    @property
    def allocation(self) -> dict[str, str]:
        """Process id -> allocation applied (``physical allocation``, ...) for split processes."""
        return {str(e["process"]): str(e["action"]) for e in self.select("allocated")}

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-serializable plain data."""
        return {
            "format": self.format,
            "policies": dict(self.policies),
            "counts": dict(self.counts),
            "links": dict(self.links),
            "issues": self.issues,
            "entries": [dict(e) for e in self.entries],
            "problems": list(self.problems),
        }

    def to_frame(self) -> pd.DataFrame:
        """The link report as a table, one row per entry."""
        rows = [{k: e.get(k, "") for k in _ENTRY_COLUMNS} for e in self.entries]
        return pd.DataFrame(rows, columns=list(_ENTRY_COLUMNS))

    def summary(self) -> str:
        """A few readable lines: counts, links, cut-offs, allocation and problems."""
        c, k, issues = self.counts, self.links, self.issues
        lines = [
            f"{self.format or 'import'}: "
            + ", ".join(f"{v} {n.replace('_', ' ')}" for n, v in c.items())
        ]
        if self.policies:
            lines.append("policies: " + ", ".join(f"{n}={v}" for n, v in self.policies.items()))
        lines.append("links: " + ", ".join(f"{v} {n}" for n, v in k.items()))
        if issues:
            lines.append("report: " + ", ".join(f"{v} {n}" for n, v in sorted(issues.items())))
        if self.problems:
            lines.append(f"problems skipped: {len(self.problems)} (first: {self.problems[0]})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def __str__(self) -> str:
        return self.summary()


def scaled_uncertainty(rec: np.void | None, factor: float) -> np.void | None:
    """The record of the same distribution for an amount multiplied by ``factor`` (≠ 0)."""
    if rec is None or factor == 1.0:
        return rec
    out = rec.copy()
    kind = int(rec["uncertainty_type"])
    if kind == 2:
        out["loc"] = rec["loc"] + math.log(abs(factor))
    else:
        out["loc"] = rec["loc"] * factor
        if kind in (3, 12):
            out["scale"] = rec["scale"] * abs(factor)
    lo, hi = rec["minimum"] * factor, rec["maximum"] * factor
    out["minimum"], out["maximum"] = (lo, hi) if factor > 0 else (hi, lo)
    if factor < 0:
        out["negative"] = not bool(rec["negative"])
    return out


_EMPTY = no_uncertainty(np.zeros(1))[0]


def new_record(amount: float) -> np.void:
    """A stats_arrays record of ``amount`` without uncertainty (type 0), to be filled in."""
    rec = _EMPTY.copy()
    rec["loc"] = amount
    rec["negative"] = amount < 0
    return rec


def set_bounded(
    rec: np.void, name: str, lo: float, hi: float, mode: float | None, where: str
) -> None:
    """Make ``rec`` uniform (``mode`` None) or triangular on ``[lo, hi]``, checking the bounds."""
    if not lo < hi or (mode is not None and not lo <= mode <= hi):
        raise InvalidUncertaintyError(
            f"{where}: {name} needs minimum < maximum (and the mode between), got minimum {lo}, "
            f"{'' if mode is None else f'mode {mode}, '}maximum {hi}"
        )
    rec["uncertainty_type"] = 4 if mode is None else 5
    rec["minimum"], rec["maximum"] = lo, hi
    if mode is not None:
        rec["loc"] = mode


def _is_technosphere(ex: ExchangeRecord, flows: dict[str, FlowRecord]) -> bool:
    fl = flows.get(ex.flow)
    return fl is not None and fl.kind != "elementary"


def _links_to_provider(ex: ExchangeRecord, flows: dict[str, FlowRecord]) -> bool:
    """Product inputs, waste outputs and avoided products need a provider."""
    kind = flows[ex.flow].kind
    if ex.is_avoided:
        return True
    return (kind == "product" and ex.is_input) or (kind == "waste" and not ex.is_input)


def _report(
    issue: str, action: str, p: ProcessRecord, ex: ExchangeRecord, flows: dict, detail: str = ""
) -> dict[str, Any]:
    fl = flows.get(ex.flow)
    return {
        "issue": issue,
        "action": action,
        "process": p.id,
        "process_name": p.name,
        "exchange": ex.id,
        "flow": ex.flow,
        "flow_name": fl.name if fl else "",
        "amount": ex.amount,
        "detail": detail,
    }


@dataclass
class _Column:
    """One column of A: a process (or one product of a multi-output process) and its scale."""

    id: str
    process: ProcessRecord
    product: ExchangeRecord
    factor: Callable[[ExchangeRecord], float]


def _columns(
    processes: Sequence[ProcessRecord],
    flows: dict[str, FlowRecord],
    allocation: str,
    report: list[dict[str, Any]],
    problems: Problems,
) -> list[_Column]:
    """One column per process, or per product of an allocated multi-output process."""
    cols: list[_Column] = []
    for p in processes:
        refs = [e for e in p.exchanges if e.is_reference]
        if len(refs) != 1:
            problems.add(
                InvalidProductionError(
                    f"{p.where}: process {p.id} ({p.name!r}) has {len(refs)} quantitative "
                    f"references; exactly one is needed"
                )
            )
            continue
        ref = refs[0]
        if not ref.amount or not math.isfinite(ref.amount):
            problems.add(
                InvalidProductionError(
                    f"{ref.where or p.where}: process {p.id} ({p.name!r}) has a reference "
                    f"amount of {ref.amount}; it must be finite and non-zero"
                )
            )
            continue
        products = [
            e
            for e in p.exchanges
            if _is_technosphere(e, flows)
            and not e.is_avoided
            and (
                (flows[e.flow].kind == "product" and not e.is_input)
                or (flows[e.flow].kind == "waste" and e.is_input)
            )
        ]
        others: list[ExchangeRecord] = []
        seen = {ref.flow}
        for e in products:
            if e is ref:
                continue
            if e.flow in seen:  # a second exchange of a product flow cannot get its own column
                why = "another product exchange of the process has the same flow"
                report.append(_report("co-product cut off", "cut off", p, e, flows, why))
                continue
            seen.add(e.flow)
            others.append(e)
        method = (
            None
            if allocation == "none"
            else ((p.default_allocation or "physical") if allocation == "process" else allocation)
        )
        factors = _allocation_factors(p, [ref, *others], method) if others and method else None
        if others and factors is None:
            why = f"no usable {method} allocation factors" if method else "allocation='none'"
            report.extend(
                _report("co-product cut off", "cut off", p, e, flows, why) for e in others
            )
            cols.append(_Column(p.id, p, ref, lambda e: 1.0))
            continue
        if not others:
            cols.append(_Column(p.id, p, ref, lambda e: 1.0))
            continue
        assert factors is not None
        for prod in [ref, *others]:
            cid = p.id if prod is ref else f"{p.id}/{prod.flow}"
            cols.append(_Column(cid, p, prod, factors(prod)))
            report.append(
                _report("allocated", f"{method} allocation", p, prod, flows, f"column {cid}")
            )
    return cols


def _allocation_factors(
    p: ProcessRecord, products: list[ExchangeRecord], method: str
) -> Callable[[ExchangeRecord], Callable[[ExchangeRecord], float]] | None:
    """Per product, a function giving the share of each exchange; None without usable factors."""
    pids = [e.flow for e in products]
    if method in ("physical", "economic"):
        table = p.allocation.get(method, {})
        found = [table.get(f) for f in pids]
        shares = [s for s in found if s is not None]
        if (
            len(shares) < len(found)
            or any(s < 0 for s in shares)
            or not math.isclose(sum(shares), 1.0, rel_tol=1e-3)
        ):
            return None
        by_flow = dict(zip(pids, shares, strict=True))

        def by_share(prod: ExchangeRecord) -> Callable[[ExchangeRecord], float]:
            share = by_flow[prod.flow]
            return lambda e: share

        return by_share
    if method == "causal":
        own = {id(e) for e in products}
        needed = {(f, e.flow) for f in pids for e in p.exchanges if id(e) not in own}
        if not needed or not needed <= set(p.causal):
            return None

        def by_cause(prod: ExchangeRecord) -> Callable[[ExchangeRecord], float]:
            f = prod.flow
            return lambda e: p.causal[(f, e.flow)]

        return by_cause
    return None


def assemble(
    processes: Sequence[ProcessRecord],
    flows: dict[str, FlowRecord],
    *,
    ambiguous: str = "prefer",
    unlinked: str = "cutoff",
    allocation: str = "process",
    strict: bool = True,
    problems: Problems | None = None,
    metadata: dict[str, Any] | None = None,
) -> System:
    """Link, allocate and build the system.

    Parameters
    ----------
    processes : sequence of ProcessRecord
    flows : dict of flow id to FlowRecord
    ambiguous : {"prefer", "cutoff", "error"}
        An input with several candidate providers: ``prefer`` picks the provider in the
        consumer's location, else a unit process over an LCI result, else the lowest id;
        ``cutoff`` drops the input; ``error`` raises :class:`~lcasolve.errors.LinkingError`.
        Every choice is listed in the link report.
    unlinked : {"cutoff", "error"}
        An input with no provider in the data: cut off and listed, or an error.
    allocation : {"process", "physical", "economic", "causal", "none"}
        Allocation of multi-output processes; ``none`` keeps only the reference product.
    strict : bool
        Raise at the first problem (default) or collect problems into
        ``metadata["problems"]`` and skip the offending process.
    problems : Problems, optional
        The reader's collector (shares ``strict``).
    metadata : dict, optional
        Stored on the system beside the link report.

    Returns
    -------
    System
    """
    if ambiguous not in AMBIGUOUS_POLICIES:
        raise InputError(f"ambiguous={ambiguous!r}; choose one of {AMBIGUOUS_POLICIES}")
    if unlinked not in UNLINKED_POLICIES:
        raise InputError(f"unlinked={unlinked!r}; choose one of {UNLINKED_POLICIES}")
    if allocation not in ALLOCATION_METHODS:
        raise InputError(f"allocation={allocation!r}; choose one of {ALLOCATION_METHODS}")
    problems = problems or Problems(strict)
    report: list[dict[str, Any]] = []
    cols = _columns(processes, flows, allocation, report, problems)
    if not cols:
        raise InputError("no process could be read: " + "; ".join(problems.items[:3]))
    # providers: column of (process id, product flow) and candidates per flow
    by_process_flow: dict[tuple[str, str], _Column] = {}
    candidates: dict[str, list[_Column]] = defaultdict(list)
    for c in cols:
        by_process_flow[(c.process.id, c.product.flow)] = c
        candidates[c.product.flow].append(c)
    process_ids = {p.id for p in processes}
    takes_in = _elementary_directions(processes, flows)

    tech = _Triplets()
    bio = _Triplets()
    counts: Counter[str] = Counter()
    for c in cols:
        p = c.process
        # production on the diagonal: the reference amount of this column's product
        ref_unc = c.product.uncertainty if c.product.amount > 0 else None
        tech.add(c.id, c.id, abs(c.product.amount), 1.0, ref_unc)
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
            if fl.kind != "elementary" and not _links_to_provider(ex, flows):
                continue  # co-products of allocated/cut-off processes are handled as columns
            share = c.factor(ex)
            if share == 0.0:
                continue
            amount = ex.amount * share
            unc = scaled_uncertainty(ex.uncertainty, share)
            if fl.kind == "elementary":
                # positive in the flow's own direction, negative against it (see module doc)
                sign = 1.0 if ex.is_input == takes_in[ex.flow] else -1.0
                bio.add(ex.flow, c.id, amount, sign, unc)
                counts["elementary"] += 1
                continue
            provider = _provider(
                ex,
                c,
                flows,
                candidates,
                by_process_flow,
                process_ids,
                ambiguous,
                unlinked,
                report,
                counts,
            )
            if provider is None:
                continue
            # inputs (and waste outputs) enter A negative; avoided products positive
            tech.add(provider.id, c.id, amount, 1.0 if ex.is_avoided else -1.0, unc)
    meta = dict(metadata or {})
    meta["link_report"] = report
    meta["problems"] = list(problems.items)
    meta["link_counts"] = dict(counts)
    meta["import_report"] = {
        "format": meta.get("format", ""),
        "policies": {
            "ambiguous": ambiguous,
            "unlinked": unlinked,
            "allocation": allocation,
            "strict": problems.strict,
        },
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
    flow_table = pd.DataFrame(
        {
            "id": used,
            "name": [flows[f].name for f in used],
            "compartment": [flows[f].compartment for f in used],
            "unit": [flows[f].unit for f in used],
            "cas": [flows[f].cas for f in used],
            "location": [flows[f].location for f in used],
            "direction": ["input" if takes_in[f] else "output" for f in used],
        }
    )
    return build_system(
        tech.entries(),
        bio.entries(),
        None,
        activities=activities,
        flows=flow_table,
        metadata=meta,
    )


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

    def add(self, row: str, col: str, amount: float, sign: float, rec: np.void | None) -> None:
        """One entry ``sign × amount`` (``amount`` in the source sign, ``rec`` its record)."""
        if rec is not None:
            self.records.append((len(self.amount), rec))
        self.row.append(row)
        self.col.append(col)
        self.amount.append(amount)
        self.sign.append(sign)

    def entries(self) -> IdEntries:
        """The entries with their stats_arrays records (source sign) and flip flags."""
        amount = np.asarray(self.amount, dtype=np.float64)
        sign = np.asarray(self.sign, dtype=np.float64)
        unc = no_uncertainty(amount)
        if self.records:
            at = np.fromiter((i for i, _ in self.records), dtype=np.int64, count=len(self.records))
            unc[at] = np.array([r for _, r in self.records], dtype=UNCERTAINTY_DTYPE)
        return IdEntries(_obj(self.row), _obj(self.col), sign * amount, unc, sign < 0)


def _obj(ids: Sequence[Hashable]) -> np.ndarray:
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out


def _provider(
    ex: ExchangeRecord,
    consumer: _Column,
    flows: dict[str, FlowRecord],
    candidates: dict[str, list[_Column]],
    by_process_flow: dict[tuple[str, str], _Column],
    process_ids: set[str],
    ambiguous: str,
    unlinked: str,
    report: list[dict[str, Any]],
    counts: Counter[str],
) -> _Column | None:
    p = consumer.process
    if ex.provider is not None:
        hit = by_process_flow.get((ex.provider, ex.flow))
        if hit is not None:
            counts["default provider"] += 1
            return hit
        if ex.provider not in process_ids:
            counts["unlinked"] += 1
            report.append(
                _report(
                    "provider outside data",
                    "cut off",
                    p,
                    ex,
                    flows,
                    f"default provider {ex.provider} is not loaded",
                )
            )
            if unlinked == "error":
                raise LinkingError(
                    f"{ex.where}: the default provider {ex.provider} of exchange {ex.id} "
                    f"(flow {flows[ex.flow].name!r}) is not in the data"
                )
            return None
        report.append(
            _report(
                "default provider ignored",
                "linked by flow",
                p,
                ex,
                flows,
                f"default provider {ex.provider} has no column making this flow",
            )
        )
    found = candidates.get(ex.flow, [])
    if len(found) == 1:
        counts["unique provider"] += 1
        return found[0]
    if not found:
        counts["unlinked"] += 1
        report.append(_report("unlinked", "cut off", p, ex, flows, "no provider in the data"))
        if unlinked == "error":
            raise LinkingError(
                f"{ex.where}: no process in the data provides flow {flows[ex.flow].name!r} "
                f"({ex.flow}) for exchange {ex.id}"
            )
        return None
    counts["ambiguous"] += 1
    names = ", ".join(sorted(c.id for c in found))
    if ambiguous == "error":
        raise LinkingError(
            f"{ex.where}: flow {flows[ex.flow].name!r} of exchange {ex.id} has "
            f"{len(found)} providers: {names}"
        )
    if ambiguous == "cutoff":
        report.append(_report("ambiguous", "cut off", p, ex, flows, f"providers: {names}"))
        return None
    same = [c for c in found if c.process.location and c.process.location == p.location]
    unit = [c for c in found if c.process.type == "UNIT_PROCESS"]
    if same:
        pool, why = same, f"same location {p.location!r}"
    elif unit and len(unit) < len(found):
        pool, why = unit, "unit process preferred over LCI result"
    else:
        pool, why = found, "lowest id"
    pick = min(pool, key=lambda c: c.id)
    if len(pool) > 1 and why != "lowest id":
        why += ", then lowest id"
    report.append(
        _report("ambiguous", f"linked to {pick.id}", p, ex, flows, f"{why}; providers: {names}")
    )
    return pick
