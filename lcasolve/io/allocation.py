"""Allocation of multi-output processes: one column of ``A`` per product.

A process with co-products becomes one column per product, each exchange scaled by the
product's factor (``physical`` and ``economic`` factors per product, summing to 1; ``causal``
factors per product and exchange). Where a process has no usable factors (or with
``allocation="none"``) it keeps its reference product and the co-products are cut off; every
allocated product and every cut-off co-product is listed in the link report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lcasolve.errors import InvalidProductionError
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import Problems, entry

__all__ = ["ALLOCATION_METHODS", "Column", "columns", "is_product_output"]

#: ``process`` uses each process's default method (physical when it names none)
ALLOCATION_METHODS = ("process", "physical", "economic", "causal", "none")


@dataclass
class Column:
    """One column of ``A``: a process (or one product of a multi-output process) and its scale.

    ``factor(exchange)`` is the share of an exchange that this column carries (1 for a process
    with one product).
    """

    id: str
    process: ProcessRecord
    product: ExchangeRecord
    factor: Callable[[ExchangeRecord], float]


def _whole(e: ExchangeRecord) -> float:
    return 1.0


def is_product_output(e: ExchangeRecord, flows: Mapping[str, FlowRecord]) -> bool:
    """A product made (product output, or waste taken in for treatment), not avoided."""
    fl = flows.get(e.flow)
    if fl is None or fl.kind == "elementary" or e.is_avoided:
        return False
    return (fl.kind == "product" and not e.is_input) or (fl.kind == "waste" and e.is_input)


def columns(
    processes: Sequence[ProcessRecord],
    flows: Mapping[str, FlowRecord],
    allocation: str,
    report: list[dict[str, Any]],
    problems: Problems,
) -> list[Column]:
    """One column per process, or per product of an allocated multi-output process.

    A process without exactly one finite, non-zero quantitative reference is a
    :class:`~lcasolve.errors.InvalidProductionError` for ``problems`` and is left out.
    """
    cols: list[Column] = []
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
        others: list[ExchangeRecord] = []
        seen = {ref.flow}
        for e in p.exchanges:
            if e is ref or not is_product_output(e, flows):
                continue
            if e.flow in seen:  # a second exchange of a product flow cannot get its own column
                why = "another product exchange of the process has the same flow"
                report.append(entry("co-product cut off", "cut off", p, e, flows, why))
                continue
            seen.add(e.flow)
            others.append(e)
        if not others:
            cols.append(Column(p.id, p, ref, _whole))
            continue
        method = (
            None
            if allocation == "none"
            else ((p.default_allocation or "physical") if allocation == "process" else allocation)
        )
        factors = _allocation_factors(p, [ref, *others], method) if method else None
        if factors is None:
            why = f"no usable {method} allocation factors" if method else "allocation='none'"
            report.extend(entry("co-product cut off", "cut off", p, e, flows, why) for e in others)
            cols.append(Column(p.id, p, ref, _whole))
            continue
        for prod in [ref, *others]:
            cid = p.id if prod is ref else f"{p.id}/{prod.flow}"
            cols.append(Column(cid, p, prod, factors(prod)))
            report.append(
                entry("allocated", f"{method} allocation", p, prod, flows, f"column {cid}")
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
