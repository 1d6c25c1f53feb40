"""EcoSpold2 reader: a zip or folder of ``.spold`` files (one activity dataset each).

Exchanges, by their group:

- ``intermediateExchange`` with ``outputGroup`` 0: the reference product; ``outputGroup`` 2:
  a co-product (by-product); ``outputGroup`` 3: a waste for treatment; ``inputGroup`` 5: a
  product input. Flow ids are the ``intermediateExchangeId``; ``activityLinkId`` names the
  provider when the data give one (used like openLCA's default provider).
- ``elementaryExchange`` with ``outputGroup`` 4 (emission) or ``inputGroup`` 4 (resource);
  flow ids are the ``elementaryExchangeId``, the compartment is ``compartment/subcompartment``.

An activity without an ``outputGroup`` 0 exchange has no reference product, so it cannot be a
column of ``A``; it is left out and listed in the link report (issue ``no reference product``).

Units: EcoSpold2 exports name the unit of each exchange (``unitName``) and may use different
units for the same flow (kWh and MJ, l and m3, Bq and kBq, ...). Every amount is converted to
the reference unit of its dimension, with the factors of openLCA's reference unit groups
(:data:`UNITS`), so that results agree with the JSON-LD export of the same database.

Uncertainty: ``lognormal`` (``mu`` = ln of the geometric mean, ``variance`` of ln; with
``pedigree=True`` ``varianceWithPedigreeUncertainty`` when given, else the pedigree matrix
scores added with the ecoinvent v3 factors), ``normal`` (``meanValue``, ``variance``),
``triangular`` (``minValue``, ``mostLikelyValue``, ``maxValue``), ``uniform``
(``minValue``, ``maxValue``). Linking, allocation and the report: :mod:`lcasolve.io._linking`.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve._options import get_options
from lcasolve.errors import DataFileError, InputError, InvalidUncertaintyError
from lcasolve.io._files import open_zip
from lcasolve.io._linking import (
    ExchangeRecord,
    FlowRecord,
    Problems,
    ProcessRecord,
    assemble,
    new_record,
    set_bounded,
)
from lcasolve.model import System
from lcasolve.uncertainty.pedigree import pedigree_variance

__all__ = ["UNITS", "read"]

_NS = "{http://www.EcoInvent.org/EcoSpold02}"

#: unit name -> (reference unit of its dimension, factor to it); openLCA reference data factors
UNITS: dict[str, tuple[str, float]] = {
    "kg": ("kg", 1.0),
    "g": ("kg", 0.001),
    "mg": ("kg", 1e-6),
    "t": ("kg", 1000.0),
    "metric ton": ("kg", 1000.0),
    "sh tn": ("kg", 907.18),
    "lb": ("kg", 0.4536),
    "MJ": ("MJ", 1.0),
    "kJ": ("MJ", 0.001),
    "GJ": ("MJ", 1000.0),
    "kWh": ("MJ", 3.6),
    "MWh": ("MJ", 3600.0),
    "Wh": ("MJ", 0.0036),
    "btu": ("MJ", 0.00106),
    "m3": ("m3", 1.0),
    "l": ("m3", 0.001),
    "dm3": ("m3", 0.001),
    "cu ft": ("m3", 0.02),
    "gal (US fl)": ("m3", 0.00379),
    "kBq": ("kBq", 1.0),
    "Bq": ("kBq", 0.001),
    "MBq": ("kBq", 1000.0),
    "m2": ("m2", 1.0),
    "ha": ("m2", 10000.0),
    "km2": ("m2", 1e6),
    "m": ("m", 1.0),
    "km": ("m", 1000.0),
    "t*km": ("t*km", 1.0),
    "metric ton*km": ("t*km", 1.0),
    "tkm": ("t*km", 1.0),
    "kg*km": ("t*km", 0.001),
    "p*km": ("p*km", 1.0),
    "person*km": ("p*km", 1.0),
    "pkm": ("p*km", 1.0),
    "h": ("d", 1 / 24),
    "hour": ("d", 1 / 24),
    "d": ("d", 1.0),
    "day": ("d", 1.0),
    "a": ("d", 365.0),
    "year": ("d", 365.0),
    "m2*a": ("m2*a", 1.0),
    "m2*year": ("m2*a", 1.0),
    "m3*a": ("m3*a", 1.0),
    "m3*year": ("m3*a", 1.0),
    "unit": ("Item(s)", 1.0),
    "Item(s)": ("Item(s)", 1.0),
    "p": ("Item(s)", 1.0),
}


def _files(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(location, bytes)`` of each ``.spold`` file of a zip, folder or single file."""
    if path.is_dir():
        for f in sorted(path.rglob("*.spold")):
            yield str(f), f.read_bytes()
        return
    if path.suffix.lower() == ".spold":
        yield str(path), path.read_bytes()
        return
    with open_zip(path) as z:
        for info in z.infolist():
            if info.filename.lower().endswith(".spold"):
                try:
                    yield f"{path}:{info.filename}", z.read(info)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise DataFileError(f"{path}:{info.filename}: cannot be read ({exc})") from None


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
    rec = new_record(amount)
    dist = u[0]
    kind = dist.tag.replace(_NS, "")
    if kind == "lognormal":
        raw = dist.attrib.get("variance", "")
        if raw.strip().lower() in ("inf", "infinity", "nan"):
            # openLCA writes ln(0)² for a geometric standard deviation that was never entered
            # (geomSd 0 in its JSON-LD export of the same data): no spread, as in JSON-LD
            return None
        var = _float(dist, "variance", where)
        if pedigree:
            if "varianceWithPedigreeUncertainty" in dist.attrib:
                var = _float(dist, "varianceWithPedigreeUncertainty", where)
            else:
                pm = u.find(_NS + "pedigreeMatrix")
                if pm is not None:
                    keys = (
                        "reliability",
                        "completeness",
                        "temporalCorrelation",
                        "geographicalCorrelation",
                        "furtherTechnologyCorrelation",
                    )
                    scores = tuple(int(pm.attrib.get(k, "1")) for k in keys)
                    if any(s not in range(1, 6) for s in scores):
                        raise InvalidUncertaintyError(f"{where}: pedigree scores {scores} not 1-5")
                    var += pedigree_variance(scores)
        if var < 0:
            raise InvalidUncertaintyError(f"{where}: lognormal variance {var} must be >= 0")
        if var == 0 or amount == 0:
            return None
        rec["uncertainty_type"] = 2
        rec["loc"] = math.log(abs(amount))
        rec["scale"] = math.sqrt(var)
    elif kind == "normal":
        var = _float(dist, "variance", where)
        if var <= 0:
            raise InvalidUncertaintyError(f"{where}: normal variance {var} must be > 0")
        rec["uncertainty_type"] = 3
        rec["scale"] = math.sqrt(var) * abs(factor)
    elif kind in ("triangular", "uniform"):
        lo, hi = _float(dist, "minValue", where) * factor, _float(dist, "maxValue", where) * factor
        mode = _float(dist, "mostLikelyValue", where) * factor if kind == "triangular" else None
        set_bounded(rec, kind, lo, hi, mode, where)
    elif kind != "undefined":
        raise InvalidUncertaintyError(
            f"{where}: unknown distribution {kind!r} (lognormal, normal, triangular, uniform)"
        )
    else:
        return None
    return rec


def _group(ex: ET.Element) -> tuple[str, int]:
    for io in ("output", "input"):
        g = ex.find(f"{_NS}{io}Group")
        if g is not None and (g.text or "").strip():
            return io, int(g.text)  # type: ignore[arg-type]
    return "", -1


def _parse(
    where: str,
    data: bytes,
    pedigree: bool,
    flows: dict[str, FlowRecord],
    problems: Problems,
    counts: Counter[str],
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
    p = ProcessRecord(
        id=aid,
        name=_text(act, "activityName"),
        location=_text(geo, "shortname"),
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
            io, group = _group(ex)
            if not io:
                raise DataFileError(f"{ewhere}: neither inputGroup nor outputGroup")
            unit = _text(ex, "unitName")
            if unit not in UNITS:
                raise DataFileError(f"{ewhere}: unknown unit {unit!r} (known: {sorted(UNITS)})")
            ref_unit, factor = UNITS[unit]
            counts["unit conversions"] += factor != 1.0
            amount = _float(ex, "amount", ewhere) * factor
            if elementary:
                comp = ex.find(_NS + "compartment")
                compartment = "/".join(
                    t for t in (_text(comp, "compartment"), _text(comp, "subcompartment")) if t
                )
                if not compartment and io == "input":
                    # this export names no compartment for most exchanges; inputGroup 4 is
                    # always a resource taken from nature
                    compartment = "natural resource"
                kind = "elementary"
                counts["elementary exchanges"] += 1
            else:
                compartment = ""
                kind = "waste" if (io, group) == ("output", 3) else "product"
                counts[f"{io}Group {group}"] += 1
            old = flows.get(fid)
            if old is None or (kind == "waste" and old.kind == "product"):
                flows[fid] = FlowRecord(
                    id=fid,
                    name=_text(ex, "name"),
                    kind=kind,
                    unit=ref_unit,
                    compartment=compartment,
                    cas=ex.attrib.get("casNumber", ""),
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
                    raise
                problems.add(InvalidUncertaintyError(f"{exc}; the distribution is dropped"))
                rec = None
            return ExchangeRecord(
                flow=fid,
                amount=amount,
                is_input=io == "input",
                is_reference=(io, group) == ("output", 0) and not elementary,
                provider=ex.attrib.get("activityLinkId") or None,
                uncertainty=rec,
                id=eid,
                where=ewhere,
            )

        rec = problems.guard(one)
        if rec is not None:
            p.exchanges.append(rec)
    return p


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
        Linking and allocation policies, see :func:`lcasolve.io._linking.assemble`.
    strict : bool
        Stop at the first problem (default), or collect them in ``metadata["problems"]``.
    pedigree : bool
        Use the pedigree-widened lognormal variance.
    progress : bool, optional
        Show a progress bar (default: the ``progress`` option).

    Returns
    -------
    System
        ``metadata["counts"]`` holds activity, exchange-group, uncertainty and unit-conversion
        counts; ``metadata["link_report"]`` the linking choices.
    """
    del unused
    from tqdm.auto import tqdm

    problems = Problems(strict)
    flows: dict[str, FlowRecord] = {}
    counts: Counter[str] = Counter()
    processes: list[ProcessRecord] = []
    no_reference: list[ProcessRecord] = []
    show = get_options().progress if progress is None else progress
    for path in map(Path, paths):
        if not path.exists():
            raise DataFileError(f"{path}: no such file or folder")
        for where, data in tqdm(list(_files(path)), desc="activities", disable=not show):
            p = problems.guard(partial(_parse, where, data, pedigree, flows, problems, counts))
            if p is None:
                continue
            if not any(e.is_reference for e in p.exchanges):
                no_reference.append(p)
                continue
            processes.append(p)
    if not processes:
        raise InputError(f"no activities with a reference product in {list(map(str, paths))}")
    system = assemble(
        processes,
        flows,
        ambiguous=ambiguous,
        unlinked=unlinked,
        allocation=allocation,
        strict=strict,
        problems=problems,
        metadata={"format": "ecospold2", "files": [str(p) for p in paths], "counts": dict(counts)},
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
    meta["link_report"] = report
    from dataclasses import replace

    return replace(system, metadata=meta)
