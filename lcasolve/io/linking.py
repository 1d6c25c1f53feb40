"""Provider choice: which column of ``A`` supplies each product input.

A product input (and a waste output, and an avoided product) is linked to the default provider
when the data name one that is loaded, else to the unique column whose product is that flow.
Inputs with several candidates follow the ``ambiguous`` policy, inputs with none the ``unlinked``
policy (:class:`LinkOptions`); every choice is listed in the link report. A default provider that
is not loaded is not replaced by another provider of the flow: the input is cut off and listed
(``provider outside data``).

The ``split`` policy shares an ambiguous input among the candidates of the closest geography
tier, as an implicit regional supply mix: the candidates in the consumer's own location, else
those sharing a part of its location code (the country: ``SD-CN`` and ``JS-CN``, ``CN`` and
``CN-BJ``), else the global ones (``GLO``, ``RoW``, ``World``), else all of them; by production
volume when every candidate of the tier gives one, else equally.

Under every policy, a process is not a candidate for its own input when other processes make
the flow.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lcasolve.errors import InputError, LinkingError
from lcasolve.io.allocation import ALLOCATION_METHODS, Column
from lcasolve.io.records import ExchangeRecord, FlowRecord
from lcasolve.io.report import entry

__all__ = [
    "AMBIGUOUS_POLICIES",
    "GLOBAL_LOCATIONS",
    "UNLINKED_POLICIES",
    "LinkOptions",
    "Linker",
    "needs_provider",
]

AMBIGUOUS_POLICIES = ("prefer", "cutoff", "error", "split")
UNLINKED_POLICIES = ("cutoff", "error")
#: location codes of the global tier of the ``split`` policy
GLOBAL_LOCATIONS = frozenset({"GLO", "Global", "global", "World", "WORLD", "RoW"})


@dataclass(frozen=True)
class LinkOptions:
    """How a reader links and allocates.

    Attributes
    ----------
    ambiguous : {"prefer", "cutoff", "error", "split"}
        An input with several candidate providers: ``prefer`` picks the provider in the
        consumer's location, else a unit process over an LCI result, else the lowest id;
        ``cutoff`` drops the input; ``error`` raises :class:`~lcasolve.errors.LinkingError`;
        ``split`` shares it among the closest geography tier (module documentation).
    unlinked : {"cutoff", "error"}
        An input with no provider in the data: cut off and listed, or an error.
    allocation : {"process", "physical", "economic", "causal", "none"}
        Allocation of multi-output processes; ``none`` keeps only the reference product.
    strict : bool
        Raise at the first problem, or list problems and leave the offending part out.
    """

    ambiguous: str = "prefer"
    unlinked: str = "cutoff"
    allocation: str = "process"
    strict: bool = True

    def __post_init__(self) -> None:
        if self.ambiguous not in AMBIGUOUS_POLICIES:
            raise InputError(f"ambiguous={self.ambiguous!r}; choose one of {AMBIGUOUS_POLICIES}")
        if self.unlinked not in UNLINKED_POLICIES:
            raise InputError(f"unlinked={self.unlinked!r}; choose one of {UNLINKED_POLICIES}")
        if self.allocation not in ALLOCATION_METHODS:
            raise InputError(f"allocation={self.allocation!r}; choose one of {ALLOCATION_METHODS}")

    def to_dict(self) -> dict[str, Any]:
        """The options as plain data (the import report's ``policies``)."""
        return {
            "ambiguous": self.ambiguous,
            "unlinked": self.unlinked,
            "allocation": self.allocation,
            "strict": self.strict,
        }


def needs_provider(ex: ExchangeRecord, flows: Mapping[str, FlowRecord]) -> bool:
    """Product inputs, waste outputs and avoided products need a provider."""
    kind = flows[ex.flow].kind
    if ex.is_avoided:
        return True
    return (kind == "product" and ex.is_input) or (kind == "waste" and not ex.is_input)


_PARTS = re.compile(r"[-_/ ,]+")


def _parts(location: str) -> set[str]:
    return {x for x in _PARTS.split(location) if x}


class Linker:
    """Chooses providers among the columns of ``A`` and writes the link report.

    Parameters
    ----------
    cols : sequence of Column
        All columns (the candidates are the columns making each flow).
    flows : mapping of flow id to FlowRecord
    process_ids : set of str
        Every process read (a default provider outside it is "outside data").
    options : LinkOptions
    report : list of dict
        Receives the link-report entries.
    """

    def __init__(
        self,
        cols: Sequence[Column],
        flows: Mapping[str, FlowRecord],
        process_ids: set[str],
        options: LinkOptions,
        report: list[dict[str, Any]],
    ) -> None:
        self.flows = flows
        self.process_ids = process_ids
        self.options = options
        self.report = report
        self.counts: Counter[str] = Counter()
        self.by_process_flow: dict[tuple[str, str], Column] = {}
        self.candidates: dict[str, list[Column]] = defaultdict(list)
        for c in cols:
            self.by_process_flow[(c.process.id, c.product.flow)] = c
            self.candidates[c.product.flow].append(c)

    def providers(self, ex: ExchangeRecord, consumer: Column) -> list[tuple[Column, float]]:
        """The provider columns of an exchange with their shares (empty: cut off)."""
        p = consumer.process
        flows = self.flows
        if ex.provider is not None:
            hit = self.by_process_flow.get((ex.provider, ex.flow))
            if hit is not None:
                self.counts["default provider"] += 1
                return [(hit, 1.0)]
            if ex.provider not in self.process_ids:
                self.counts["unlinked"] += 1
                why = f"default provider {ex.provider} is not loaded"
                self.report.append(entry("provider outside data", "cut off", p, ex, flows, why))
                if self.options.unlinked == "error":
                    raise LinkingError(
                        f"{ex.where}: the default provider {ex.provider} of exchange {ex.id} "
                        f"(flow {flows[ex.flow].name!r}) is not in the data"
                    )
                return []
            why = f"default provider {ex.provider} has no column making this flow"
            self.report.append(
                entry("default provider ignored", "linked by flow", p, ex, flows, why)
            )
        found = self.candidates.get(ex.flow, [])
        if len(found) > 1 and consumer in found:
            # a process does not supply its own input when other providers exist
            found = [c for c in found if c is not consumer]
            if len(found) == 1:
                self.counts["ambiguous"] += 1
                why = f"providers: {found[0].id} and the consumer itself"
                self.report.append(
                    entry("ambiguous", f"linked to {found[0].id}", p, ex, flows, why)
                )
                return [(found[0], 1.0)]
        if len(found) == 1:
            self.counts["unique provider"] += 1
            return [(found[0], 1.0)]
        if not found:
            self.counts["unlinked"] += 1
            self.report.append(
                entry("unlinked", "cut off", p, ex, flows, "no provider in the data")
            )
            if self.options.unlinked == "error":
                raise LinkingError(
                    f"{ex.where}: no process in the data provides flow "
                    f"{flows[ex.flow].name!r} ({ex.flow}) for exchange {ex.id}"
                )
            return []
        return self._ambiguous(ex, consumer, found)

    def _ambiguous(
        self, ex: ExchangeRecord, consumer: Column, found: list[Column]
    ) -> list[tuple[Column, float]]:
        p, flows, policy = consumer.process, self.flows, self.options.ambiguous
        self.counts["ambiguous"] += 1
        names = ", ".join(sorted(c.id for c in found))
        if policy == "error":
            raise LinkingError(
                f"{ex.where}: flow {flows[ex.flow].name!r} of exchange {ex.id} has "
                f"{len(found)} providers: {names}"
            )
        if policy == "cutoff":
            self.report.append(entry("ambiguous", "cut off", p, ex, flows, f"providers: {names}"))
            return []
        if policy == "split":
            return self._split(ex, consumer, found, names)
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
        self.report.append(
            entry("ambiguous", f"linked to {pick.id}", p, ex, flows, f"{why}; providers: {names}")
        )
        return [(pick, 1.0)]

    def _split(
        self, ex: ExchangeRecord, consumer: Column, found: list[Column], names: str
    ) -> list[tuple[Column, float]]:
        p = consumer.process
        here = p.location
        mine = _parts(here)
        tiers = (
            ("same location", [c for c in found if here and c.process.location == here]),
            ("same country", [c for c in found if mine & _parts(c.process.location)]),
            ("global", [c for c in found if c.process.location in GLOBAL_LOCATIONS]),
            ("no closer tier", found),
        )
        tier, pool = next((t, cs) for t, cs in tiers if cs)
        pool = sorted(pool, key=lambda c: c.id)
        volumes = [c.process.production_volume for c in pool]
        if all(v is not None and v > 0 for v in volumes):
            total = sum(v for v in volumes if v is not None)
            shares = [float(v) / total for v in volumes if v is not None]
            by = "production volume"
        else:
            shares = [1.0 / len(pool)] * len(pool)
            by = "equal shares"
        self.counts["split"] += 1
        parts = ", ".join(f"{c.id} {s:.6g}" for c, s in zip(pool, shares, strict=True))
        self.report.append(
            entry(
                "ambiguous",
                f"split among {len(pool)}",
                p,
                ex,
                self.flows,
                f"{tier} {here!r}, {by}: {parts}; providers: {names}",
            )
        )
        return list(zip(pool, shares, strict=True))
