"""Format-neutral records that every process-database reader produces.

A reader turns its files into :class:`FlowRecord` and :class:`ProcessRecord` objects (each
process holding its :class:`ExchangeRecord` list), with every amount already converted to its
flow's reference unit (:mod:`lcasolve.io.units`) and every distribution a stats_arrays record
(:mod:`lcasolve.io.distributions`); :func:`lcasolve.io.assembly.assemble` links, allocates and
builds the :class:`~lcasolve.model.System`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FLOW_KINDS", "ExchangeRecord", "FlowRecord", "ProcessRecord"]

#: the kinds of flow a reader may give
FLOW_KINDS = ("elementary", "product", "waste")


@dataclass(frozen=True)
class FlowRecord:
    """A flow: ``kind`` is ``elementary``, ``product`` or ``waste``; ``unit`` its reference unit.

    ``direction`` (elementary flows): ``"input"`` or ``"output"``, the direction in which an
    exchange of this flow enters ``B`` positive; empty to let the assembly infer it from the
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
    provider's process id when the data give one; ``where`` locates it for messages (file,
    process, exchange). ``formula`` is the amount's formula in the source (openLCA's
    ``amountFormula``), in the source unit: ``amount = formula_scale × value of the formula``.
    ``pedigree`` holds the exchange's five data-quality scores (1-5: reliability,
    completeness, temporal, geographical, technological) where the format has them, whether or
    not they widen the uncertainty; the assembly keeps them in ``metadata["pedigree"]``.
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
    formula: str = ""
    formula_scale: float = 1.0
    pedigree: tuple[int, ...] | None = None


@dataclass
class ProcessRecord:
    """A process with its exchanges and allocation factors.

    ``allocation`` maps a method (``physical``, ``economic``) to ``{product flow id: factor}``;
    ``causal`` maps ``(product flow id, exchange flow id)`` to a factor. ``production_volume``
    (of the reference product, in its unit per year) weighs the process among the candidates of
    the ``split`` provider policy when the data give it. ``parameters`` are the process's own
    (:class:`lcasolve.parameters.Parameter` with ``scope`` the process id).
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
    parameters: list[Any] = field(default_factory=list)
    production_volume: float | None = None
