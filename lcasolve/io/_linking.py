"""Format-neutral process records, linking, allocation and assembly into a :class:`System`.

Readers of process databases (openLCA JSON-LD, EcoSpold2) turn their files into
:class:`ProcessRecord` and :class:`FlowRecord` objects, with every amount already converted to
its flow's reference unit, and call :func:`assemble`, which

1. allocates multi-output processes (one column per product, scaled by the allocation factors)
   or, where a process has no usable factors, keeps its reference product and cuts off the
   co-products;
2. links each product input (and each waste output) to a provider: the default provider when
   the data name one that is present, else the unique process whose reference product is that
   flow; ambiguous and unlinked inputs follow the ``ambiguous`` / ``unlinked`` policies and are
   always listed in the link report;
3. builds ``A`` (production positive on the diagonal, inputs negative, duplicates summed) and
   ``B`` with their stats_arrays uncertainty.

Link report entries are dicts with ``issue`` (``ambiguous``, ``unlinked``, ``co-product cut
off``, ``allocated``, ``provider outside data``), ``action``, ``process``, ``exchange``,
``flow``, ``flow_name`` and ``detail``; they land in ``system.metadata["link_report"]``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError, InvalidUncertaintyError, LinkingError
from lcasolve.model import UNCERTAINTY_DTYPE, IdEntries, System, build_system

__all__ = [
    "AMBIGUOUS_POLICIES",
    "ALLOCATION_METHODS",
    "ExchangeRecord",
    "FlowRecord",
    "ProcessRecord",
    "Problems",
    "assemble",
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
    """A flow: ``kind`` is ``elementary``, ``product`` or ``waste``; ``unit`` its reference unit."""

    id: str
    name: str
    kind: str
    unit: str = ""
    compartment: str = ""
    cas: str = ""


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


def new_record(amount: float) -> np.void:
    """A stats_arrays record of ``amount`` without uncertainty (type 0), to be filled in."""
    rec = np.zeros(1, dtype=UNCERTAINTY_DTYPE)[0]
    rec["loc"] = amount
    for name in ("scale", "shape", "minimum", "maximum"):
        rec[name] = np.nan
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
                InputError(
                    f"{p.where}: process {p.id} ({p.name!r}) has {len(refs)} quantitative "
                    f"references; exactly one is needed"
                )
            )
            continue
        ref = refs[0]
        if not ref.amount or not math.isfinite(ref.amount):
            problems.add(
                InputError(
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
        others = [e for e in products if e is not ref]
        method = (
            None
            if allocation == "none"
            else ((p.default_allocation or "physical") if allocation == "process" else allocation)
        )
        factors = _allocation_factors(p, [ref, *others], method) if others and method else None
        if others and factors is None:
            why = f"no usable {method or 'allocation'} factors"
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
        shares = [table.get(f) for f in pids]
        if any(s is None or s < 0 for s in shares) or not math.isclose(
            sum(shares),
            1.0,
            rel_tol=1e-3,  # type: ignore[arg-type]
        ):
            return None
        by_flow = dict(zip(pids, shares, strict=True))
        return lambda prod: lambda e, s=by_flow[prod.flow]: s
    if method == "causal":
        needed = {(f, e.flow) for f in pids for e in p.exchanges if e not in products}
        if not needed or not needed <= set(p.causal):
            return None
        return lambda prod: lambda e, f=prod.flow: p.causal[(f, e.flow)]
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

    t_row: list[str] = []
    t_col: list[str] = []
    t_val: list[float] = []
    t_unc: list[np.void] = []
    t_flip: list[bool] = []
    b_row: list[str] = []
    b_col: list[str] = []
    b_val: list[float] = []
    b_unc: list[np.void] = []
    counts: Counter[str] = Counter()
    for c in cols:
        p = c.process
        # production on the diagonal: the reference amount of this column's product
        t_row.append(c.id)
        t_col.append(c.id)
        t_val.append(abs(c.product.amount))
        t_flip.append(False)
        t_unc.append(
            c.product.uncertainty
            if c.product.uncertainty is not None and c.product.amount > 0
            else new_record(abs(c.product.amount))
        )
        counts["reference"] += 1
        for ex in p.exchanges:
            if ex is c.product or (ex.is_reference and ex is not c.product):
                continue
            fl = flows.get(ex.flow)
            if fl is None:
                problems.add(
                    InputError(f"{ex.where}: flow {ex.flow} of exchange {ex.id} is not in the data")
                )
                continue
            share = c.factor(ex)
            if share == 0.0:
                continue
            amount = ex.amount * share
            if fl.kind == "elementary":
                # emissions and resources alike enter B with their amount (brightway's
                # convention); the direction is in the flow's compartment
                b_row.append(ex.flow)
                b_col.append(c.id)
                b_val.append(amount)
                b_unc.append(_record(scaled_uncertainty(ex.uncertainty, share), amount))
                counts["elementary"] += 1
                continue
            if not _links_to_provider(ex, flows):
                continue  # co-products of allocated/cut-off processes are handled as columns
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
            sign = 1.0 if ex.is_avoided else -1.0
            t_row.append(provider.id)
            t_col.append(c.id)
            t_val.append(sign * amount)
            t_flip.append(sign < 0)
            t_unc.append(_record(scaled_uncertainty(ex.uncertainty, share), amount))
    meta = dict(metadata or {})
    meta["link_report"] = report
    meta["problems"] = list(problems.items)
    meta["link_counts"] = dict(counts)
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
    used = sorted(set(b_row))
    flow_table = pd.DataFrame(
        {
            "id": used,
            "name": [flows[f].name for f in used],
            "compartment": [flows[f].compartment for f in used],
            "unit": [flows[f].unit for f in used],
            "cas": [flows[f].cas for f in used],
        }
    )
    tech = IdEntries(
        _obj(t_row),
        _obj(t_col),
        np.asarray(t_val, dtype=np.float64),
        _records(t_unc),
        np.asarray(t_flip, dtype=bool),
    )
    bio = IdEntries(
        _obj(b_row),
        _obj(b_col),
        np.asarray(b_val, dtype=np.float64),
        _records(b_unc),
        np.zeros(len(b_val), dtype=bool),
    )
    return build_system(tech, bio, None, activities=activities, flows=flow_table, metadata=meta)


def _record(rec: np.void | None, amount: float) -> np.void:
    """The stats_arrays record of a source amount (none given: no uncertainty)."""
    return rec if rec is not None else new_record(amount)


def _obj(ids: list[Hashable]) -> np.ndarray:
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out


def _records(recs: list[np.void]) -> np.ndarray:
    out = np.zeros(len(recs), dtype=UNCERTAINTY_DTYPE)
    for i, r in enumerate(recs):
        out[i] = r
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
