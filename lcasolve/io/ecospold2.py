"""EcoSpold2 reader: a zip or folder of ``.spold`` files (one activity dataset each).

Exchanges, by their group:

- ``intermediateExchange`` with ``outputGroup`` 0: the reference product; ``outputGroup`` 2:
  a co-product (by-product); ``outputGroup`` 3: a waste for treatment; ``inputGroup`` 5: a
  product input. Flow ids are the ``intermediateExchangeId``; ``activityLinkId`` names the
  provider when the data give one (used like openLCA's default provider).
- ``elementaryExchange`` with ``outputGroup`` 4 (emission) or ``inputGroup`` 4 (resource);
  flow ids are the ``elementaryExchangeId``, the compartment is ``compartment/subcompartment``.

Waste treatments as ecoinvent writes them: the reference product is the waste with a negative
amount and the By-product classification ``Waste`` (or ``Recyclable``); an activity generating
that waste lists it as an input of a negative amount. The treatment is read as taking in the
waste (production ``-amount`` on the diagonal) and the negative inputs as waste outputs linked
to it, so supplies stay positive. A negative reference product classified otherwise (a sign
flipped by mistake) is refused, as is a positive input of a treated waste.

An activity without an ``outputGroup`` 0 exchange has no reference product, so it cannot be a
column of ``A``; it is left out and listed in the link report (issue ``no reference product``).

ecoinvent's release: the same activity id in several files with different reference products
(its allocated datasets) gives one column per file, with the id ``ACTIVITY_PRODUCT`` (activity
id and product id, as ecoinvent names the files; an activity in one file only keeps its id), so
demand either spelling where it applies; ``activityLinkId`` then links to the linked product's
dataset. The reference exchange's ``productionVolumeAmount`` is the process's production volume
(used by the ``split`` provider policy).

Units: EcoSpold2 exports name the unit of each exchange (``unitName``) and may use different
units for the same flow (kWh and MJ, l and m3, Bq and kBq, ...). Every amount is converted to
the reference unit of its dimension, with the factors of openLCA's reference unit groups
(:mod:`lcasolve.io.units`), so that results agree with the JSON-LD export of the same database.

Uncertainty: ``lognormal`` (``mu`` = ln of the geometric mean, ``variance`` of ln; with
``pedigree=True`` ``varianceWithPedigreeUncertainty`` when given, else the pedigree matrix
scores added with the ecoinvent v3 factors), ``normal`` (``meanValue``, ``variance``),
``triangular`` (``minValue``, ``mostLikelyValue``, ``maxValue``), ``uniform``
(``minValue``, ``maxValue``). Linking, allocation and the report: :mod:`lcasolve.io.assembly`.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve._options import get_options
from lcasolve.errors import (
    DataFileError,
    InputError,
    InvalidProductionError,
    InvalidUncertaintyError,
)
from lcasolve.io._files import member_names, open_zip, read_member
from lcasolve.io.assembly import assemble
from lcasolve.io.distributions import bounded, lognormal, normal, pedigree_or_none, scaled
from lcasolve.io.ecospold2_master import MasterData, exchange_properties, read_master
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import LinkReport, Problems, strict_hint
from lcasolve.io.units import reference_unit
from lcasolve.model import System

__all__ = ["read", "sniff"]

_NS = "{http://www.EcoInvent.org/EcoSpold02}"

_PEDIGREE_KEYS = (
    "reliability",
    "completeness",
    "temporalCorrelation",
    "geographicalCorrelation",
    "furtherTechnologyCorrelation",
)


def sniff(path: Path) -> bool:
    """A ``.spold`` file, or a zip or folder holding ``.spold`` files."""
    if path.suffix.lower() == ".spold":
        return True
    names = member_names(path)
    return names is not None and any(n.lower().endswith(".spold") for n in names)


def _files(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(location, bytes)`` of each ``.spold`` file of a zip, folder or single file."""
    if path.is_dir():
        for n in member_names(path) or ():
            if n.lower().endswith(".spold"):
                yield str(path / n), (path / n).read_bytes()
        return
    if path.suffix.lower() == ".spold":
        yield str(path), path.read_bytes()
        return
    with open_zip(path) as z:
        for info in z.infolist():
            if info.filename.lower().endswith(".spold"):
                where = f"{path}:{info.filename}"
                try:
                    yield where, read_member(z, info, where)
                except OSError as exc:
                    raise DataFileError(f"{where}: cannot be read ({exc})") from None


def _pedigree(ex: ET.Element) -> tuple[int, ...] | None:
    """The five ``pedigreeMatrix`` scores of an exchange's uncertainty, or None."""
    pm = ex.find(f"{_NS}uncertainty/{_NS}pedigreeMatrix")
    if pm is None:
        return None
    return pedigree_or_none([pm.attrib.get(k, "") for k in _PEDIGREE_KEYS])


def _text(el: ET.Element | None, tag: str) -> str:
    child = el.find(_NS + tag) if el is not None else None
    return (child.text or "").strip() if child is not None else ""


def _float(el: ET.Element, attr: str, where: str) -> float:
    try:
        v = float(el.attrib[attr])
    except (KeyError, ValueError):
        raise DataFileError(f"{where}: attribute {attr!r} is missing or not a number") from None
    if not math.isfinite(v):
        raise DataFileError(f"{where}: {attr} is {v}")
    return v


def _uncertainty(
    ex: ET.Element, amount: float, factor: float, where: str, pedigree: bool
) -> np.void | None:
    u = ex.find(_NS + "uncertainty")
    if u is None or len(u) == 0:
        return None
    dist = u[0]
    kind = dist.tag.replace(_NS, "")
    if kind == "lognormal":
        raw = dist.attrib.get("variance", "")
        if raw.strip().lower() in ("inf", "infinity", "nan"):
            # openLCA writes ln(0)² for a geometric standard deviation that was never entered
            # (geomSd 0 in its JSON-LD export of the same data): no spread, as in JSON-LD
            return None
        var = _float(dist, "variance", where)
        scores: tuple[int, ...] | None = None
        if pedigree:
            if "varianceWithPedigreeUncertainty" in dist.attrib:
                var = _float(dist, "varianceWithPedigreeUncertainty", where)
            elif (pm := u.find(_NS + "pedigreeMatrix")) is not None:
                try:
                    scores = tuple(int(pm.attrib.get(k, "1")) for k in _PEDIGREE_KEYS)
                except ValueError:
                    raise InvalidUncertaintyError(
                        f"{where}: pedigree scores {dict(pm.attrib)} are not integers"
                    ) from None
        return lognormal(amount, var, pedigree=scores, where=where)
    if kind == "normal":
        var = _float(dist, "variance", where)
        if var <= 0:
            raise InvalidUncertaintyError(f"{where}: normal variance {var} must be > 0")
        return normal(amount, math.sqrt(var) * abs(factor), where=where)
    if kind in ("triangular", "uniform"):
        lo, hi = _float(dist, "minValue", where) * factor, _float(dist, "maxValue", where) * factor
        mode = _float(dist, "mostLikelyValue", where) * factor if kind == "triangular" else None
        return bounded(amount, kind, lo, hi, mode, where)
    if kind != "undefined":
        raise InvalidUncertaintyError(
            f"{where}: unknown distribution {kind!r} (lognormal, normal, triangular, uniform)"
        )
    return None


#: the groups EcoSpold2 defines for each direction
_GROUPS = {"output": (0, 1, 2, 3, 4), "input": (1, 2, 3, 4, 5)}


def _group(ex: ET.Element, where: str) -> tuple[str, int]:
    """``("output" | "input", group number)``, or ``("", -1)`` when neither is given."""
    for io in ("output", "input"):
        g = ex.find(f"{_NS}{io}Group")
        text = (g.text or "").strip() if g is not None else ""
        if text:
            if not text.isdigit() or int(text) not in _GROUPS[io]:
                raise DataFileError(
                    f"{where}: <{io}Group> is {text!r}; expected one of "
                    f"{', '.join(map(str, _GROUPS[io]))}"
                )
            return io, int(text)
    return "", -1


def _parse(
    where: str,
    data: bytes,
    pedigree: bool,
    flows: dict[str, FlowRecord],
    problems: Problems,
    counts: Counter[str],
    master: MasterData | None = None,
    properties: list[tuple[ProcessRecord, dict[str, Any]]] | None = None,
) -> ProcessRecord | None:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise DataFileError(f"{where}: invalid XML ({exc})") from None
    ds = root.find(_NS + "activityDataset") or root.find(_NS + "childActivityDataset")
    if ds is None:
        raise DataFileError(f"{where}: no activityDataset")
    act = ds.find(f"{_NS}activityDescription/{_NS}activity")
    if act is None or "id" not in act.attrib:
        raise DataFileError(f"{where}: no activity id")
    aid = act.attrib["id"]
    geo = ds.find(f"{_NS}activityDescription/{_NS}geography")
    name, location = _text(act, "activityName"), _text(geo, "shortname")
    if master is not None:
        name = name or master.activity_names.get(act.attrib.get("activityNameId", ""), "")
        geo_id = geo.attrib.get("geographyId", "") if geo is not None else ""
        location = location or master.geographies.get(geo_id, "")
    p = ProcessRecord(
        id=aid,
        name=name,
        location=location,
        type="UNIT_PROCESS" if act.attrib.get("type", "1") == "1" else "LCI_RESULT",
        where=f"{where} (activity {aid})",
    )
    counts["activities"] += 1
    flow_data = ds.find(_NS + "flowData")
    for ex in list(flow_data) if flow_data is not None else []:
        tag = ex.tag.replace(_NS, "")
        if tag not in ("intermediateExchange", "elementaryExchange"):
            continue
        elementary = tag == "elementaryExchange"
        eid = ex.attrib.get("id", "")
        ewhere = f"{where} (activity {aid}, exchange {eid})"

        def one(ex=ex, eid=eid, ewhere=ewhere, elementary=elementary) -> ExchangeRecord | None:
            fid = ex.attrib.get("elementaryExchangeId" if elementary else "intermediateExchangeId")
            if not fid:
                raise DataFileError(f"{ewhere}: no flow id")
            io, group = _group(ex, ewhere)
            if not io:
                raise DataFileError(f"{ewhere}: neither inputGroup nor outputGroup")
            unit = _text(ex, "unitName") or _master(master, elementary, fid, "unit")
            known = reference_unit(unit)
            if known is None:
                raise DataFileError(
                    f"{ewhere}: unknown unit {unit!r} (lcasolve/io/data/units.csv lists the "
                    f"known units)"
                )
            ref_unit, factor = known
            counts["unit conversions"] += factor != 1.0
            amount = _float(ex, "amount", ewhere) * factor
            treatment = False
            if (io, group) == ("output", 0) and not elementary and amount < 0:
                label = _byproduct_class(ex)
                if label not in _WASTE_CLASSES:
                    raise InvalidProductionError(
                        f"{ewhere}: the reference product (outputGroup 0) has the negative "
                        f"amount {amount} but is classified {label or 'not at all'!r}, not "
                        f"'Waste' (ecoinvent's waste treatments carry the By-product "
                        f"classification 'Waste' or 'Recyclable'); refusing to flip its sign"
                    )
                treatment = True  # ecoinvent's waste treatment: it takes in -amount of waste
                counts["waste treatments (negative reference product)"] += 1
            if elementary:
                comp = ex.find(_NS + "compartment")
                compartment = "/".join(
                    t for t in (_text(comp, "compartment"), _text(comp, "subcompartment")) if t
                ) or _master(master, True, fid, "compartment")
                if not compartment and io == "input":
                    # this export names no compartment for most exchanges; inputGroup 4 is
                    # always a resource taken from nature
                    compartment = "natural resource"
                kind = "elementary"
                counts["elementary exchanges"] += 1
            else:
                compartment = ""
                kind = "waste" if (io, group) == ("output", 3) or treatment else "product"
                counts[f"{io}Group {group}"] += 1
            old = flows.get(fid)
            if old is None or (kind == "waste" and old.kind == "product"):
                flows[fid] = FlowRecord(
                    id=fid,
                    name=_text(ex, "name") or _master(master, elementary, fid, "name"),
                    kind=kind,
                    unit=ref_unit,
                    compartment=compartment,
                    cas=ex.attrib.get("casNumber", "") or _master(master, elementary, fid, "cas"),
                )
            elif old.unit != ref_unit:
                raise DataFileError(
                    f"{ewhere}: flow {fid} is in {unit!r} here but in {old.unit!r} elsewhere"
                )
            unc = ex.find(_NS + "uncertainty")
            if unc is not None and len(unc):
                counts[f"uncertainty {unc[0].tag.replace(_NS, '')}"] += 1
            try:
                rec = _uncertainty(ex, amount, factor, ewhere, pedigree)
            except InvalidUncertaintyError as exc:
                if problems.strict:
                    raise strict_hint(exc) from None
                problems.add(InvalidUncertaintyError(f"{exc}; the distribution is dropped"))
                rec = None
            return ExchangeRecord(
                flow=fid,
                amount=-amount if treatment else amount,
                is_input=io == "input" or treatment,
                is_reference=(io, group) == ("output", 0) and not elementary,
                provider=ex.attrib.get("activityLinkId") or None,
                uncertainty=scaled(rec, -1.0) if treatment else rec,
                id=eid,
                where=ewhere,
                pedigree=_pedigree(ex),
            )

        rec = problems.guard(one)
        if rec is not None:
            p.exchanges.append(rec)
            volume = ex.attrib.get("productionVolumeAmount")
            if rec.is_reference and volume and p.production_volume is None:
                p.production_volume = _float(ex, "productionVolumeAmount", ewhere)
            if properties is not None:
                props = problems.guard(partial(exchange_properties, ex, aid, rec.flow, ewhere))
                properties.extend((p, d) for d in props or [])
    return p


#: By-product classifications of a reference product with a negative amount: a treatment
_WASTE_CLASSES = ("waste", "recyclable")


def _byproduct_class(ex: ET.Element) -> str:
    """The exchange's ecoinvent "By-product classification" (lower case), or ``""``."""
    for cls in ex.findall(_NS + "classification"):
        if (
            _text(cls, "classificationSystem") or ""
        ).strip().lower() == "by-product classification":
            return (_text(cls, "classificationValue") or "").strip().lower()
    return ""


def _waste_inputs(
    processes: list[ProcessRecord], flows: dict[str, FlowRecord], problems: Problems
) -> int:
    """Read ecoinvent's waste sent to treatment, a negative input, as the waste output it is.

    A flow that some treatment takes in (a negative reference product, read as the input of
    ``-amount``) is a waste: an activity that generates it lists it as an input of a negative
    amount, which becomes an output of the positive amount (its distribution mirrored), linked to
    the treatment as any waste output is. A positive input of such a waste contradicts that
    convention (a sign lost, or a reference product's sign flipped): a problem naming the
    exchange. Returns the number of inputs turned into outputs.
    """
    wastes = {e.flow for p in processes for e in p.exchanges if e.is_reference and e.is_input}
    turned = 0
    for p in processes:
        for k, e in enumerate(p.exchanges):
            if e.flow not in wastes or e.is_reference or not e.is_input:
                continue
            if e.amount < 0:
                p.exchanges[k] = replace(
                    e, amount=-e.amount, is_input=False, uncertainty=scaled(e.uncertainty, -1.0)
                )
                turned += 1
            elif e.amount > 0:
                name = flows[e.flow].name if e.flow in flows else e.flow
                problems.add(
                    InvalidProductionError(
                        f"{e.where}: an input of {e.amount} of {name!r}, which a waste treatment "
                        f"takes in (its reference product is negative): ecoinvent writes a waste "
                        f"sent to treatment as a negative input; the input is left out"
                    )
                )
                p.exchanges[k] = replace(e, amount=0.0)
    return turned


def _master(master: MasterData | None, elementary: bool, fid: str, key: str) -> str:
    return master.flow(elementary, fid, key) if master is not None else ""


def _split_datasets(processes: list[ProcessRecord], problems: Problems) -> list[ProcessRecord]:
    """Give ecoinvent's allocated datasets distinct ids; drop repeated copies of one dataset.

    ecoinvent ships one file per (activity, reference product): the same activity id in several
    files with different reference products. Those processes get the id
    ``ACTIVITY_PRODUCT`` (activity id, ``_``, product id, as ecoinvent names the files) and
    every ``activityLinkId`` to that activity is read as a link to the dataset of the linked
    product. An activity id in one dataset only keeps the activity id. A second file with the
    same activity and reference product is a copy: an error in strict mode, else left out and
    listed in the problems.
    """
    groups: dict[str, dict[str, ProcessRecord]] = {}
    kept: list[ProcessRecord] = []
    for p in processes:
        ref = next(e.flow for e in p.exchanges if e.is_reference)
        seen = groups.setdefault(p.id, {})
        if ref in seen:
            problems.add(
                DataFileError(
                    f"{p.where}: activity {p.id} with reference product {ref} is already read "
                    f"from {seen[ref].where}"
                    + ("" if problems.strict else "; the copy is left out")
                )
            )
            continue
        seen[ref] = p
        kept.append(p)
    split = {aid for aid, by_ref in groups.items() if len(by_ref) > 1}
    if not split:
        return kept
    for aid in split:
        for ref, p in groups[aid].items():
            p.id = f"{aid}_{ref}"
    for p in kept:
        for e in p.exchanges:
            if e.provider in split:
                e.provider = f"{e.provider}_{e.flow}"
    return kept


def read(
    paths: Sequence[str | os.PathLike[str]],
    *,
    ambiguous: str = "prefer",
    unlinked: str = "cutoff",
    allocation: str = "process",
    strict: bool = True,
    pedigree: bool = False,
    progress: bool | None = None,
    **unused: Any,
) -> System:
    """Read EcoSpold2 zips, folders or ``.spold`` files into one linked system.

    Parameters
    ----------
    paths : sequence of path-like
    ambiguous, unlinked, allocation : str
        Linking and allocation policies, see :class:`lcasolve.io.linking.LinkOptions`.
    strict : bool
        Stop at the first problem (default), or collect them in ``metadata["problems"]``.
    pedigree : bool
        Use the pedigree-widened lognormal variance.
    progress : bool, optional
        Show a progress bar (default: the ``progress`` option).

    Returns
    -------
    System
        ``metadata["counts"]`` holds activity, exchange-group, uncertainty, unit-conversion
        and property counts; ``metadata["link_report"]`` the linking choices;
        ``metadata["properties"]`` the exchanges' properties (one record each, see
        :func:`lcasolve.io.ecospold2_master.exchange_properties`; ``process`` is the column id);
        ``metadata["master_data"]`` the MasterData files used (names, units, compartments and
        CAS numbers a dataset leaves out come from there).
    """
    del unused
    from tqdm.auto import tqdm

    options = LinkOptions(ambiguous, unlinked, allocation, strict)
    problems = Problems(strict)
    flows: dict[str, FlowRecord] = {}
    counts: Counter[str] = Counter()
    processes: list[ProcessRecord] = []
    no_reference: list[ProcessRecord] = []
    show = get_options().progress if progress is None else progress
    properties: list[tuple[ProcessRecord, dict[str, Any]]] = []
    masters: list[str] = []
    for path in map(Path, paths):
        if not path.exists():
            raise DataFileError(f"{path}: no such file or folder")
        master = read_master(path)
        masters += master.files if master is not None else ()
        for where, data in tqdm(list(_files(path)), desc="activities", disable=not show):
            p = problems.guard(
                partial(_parse, where, data, pedigree, flows, problems, counts, master, properties)
            )
            if p is None:
                continue
            if not any(e.is_reference for e in p.exchanges):
                no_reference.append(p)
                continue
            processes.append(p)
    if not processes:
        # in lenient mode every dataset may have been left out: say why, with the first problem
        left_out = [i for i in problems.items if i not in problems.distributions]
        why = f"; {len(left_out)} left out, the first: {left_out[0]}" if left_out else ""
        raise InputError(f"no activities with a reference product in {list(map(str, paths))}{why}")
    counts["waste inputs read as outputs"] = _waste_inputs(processes, flows, problems)
    processes = _split_datasets(processes, problems)
    kept = {id(p) for p in processes}
    counts["properties"] = sum(id(p) in kept for p, _ in properties)
    system = assemble(
        processes,
        flows,
        options,
        problems=problems,
        metadata={
            "format": "ecospold2",
            "files": [str(p) for p in paths],
            "counts": dict(counts),
            "master_data": masters,
            "properties": [{**d, "process": p.id} for p, d in properties if id(p) in kept],
        },
    )
    report = list(system.metadata["link_report"])
    report += [
        {
            "issue": "no reference product",
            "action": "activity left out",
            "process": p.id,
            "process_name": p.name,
            "exchange": "",
            "flow": "",
            "flow_name": "",
            "amount": float("nan"),
            "detail": "no intermediate exchange with outputGroup 0",
        }
        for p in no_reference
    ]
    meta = dict(system.metadata)
    meta["link_report"] = LinkReport(report)
    return replace(system, metadata=meta)
