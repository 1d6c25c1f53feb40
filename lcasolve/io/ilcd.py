"""ILCD reader: a zip or folder of ILCD data sets (EU Environmental Footprint, TianGong).

The archive's ``processes/``, ``flows/``, ``flowproperties/``, ``unitgroups/`` and
``lciamethods/`` folders are read, under an ``ILCD/`` root or not, with ``ILCDLocations.xml``
for location names.

- **Amounts**: ILCD states every exchange in the reference unit of its flow's reference flow
  property; the unit is the reference unit of that property's unit group. Exchanges that carry
  openLCA's extension attributes (``olca:propertyId``, ``olca:unitId``) are converted from that
  property and unit: ``amount × unit factor / the flow's factor for the property``.
  ``resultingAmount`` is used, else ``meanAmount``.
- **Flows**: ``Elementary flow`` (direction from the elementary-flow category: ``Emissions`` out,
  ``Resources`` and ``Land use`` in), ``Product flow``, ``Waste flow`` (other types: product).
- **Processes**: the reference exchange is ``quantitativeReference/referenceToReferenceFlow``
  (a second reference flow is a co-product); the provider of a product input is the process
  whose reference flow is that flow (there are no default providers in ILCD).
- **Uncertainty**: ``log-normal`` with ``relativeStandardDeviation95In`` = ``GSD²`` (the ILCD
  definition: σ = ln(√value)); ``normal`` with ``relativeStandardDeviation95In`` = twice the
  relative standard deviation in percent (σ = value / 200 × |mean|); ``triangular`` and
  ``uniform`` from ``minimumAmount``/``maximumAmount`` (mode: the mean amount). A distribution
  without its spread is a problem (:class:`~lcasolve.errors.InvalidUncertaintyError`); with
  ``strict=False`` it is listed and the amount kept without distribution.
- **Allocation**: an exchange's ``allocations/allocation`` (``internalReferenceToCoProduct``,
  ``allocatedFraction`` in percent) become causal factors; with ``allocation="process"`` a
  process that has them is allocated causally.
- **LCIA methods**: one impact category per method, named by the method's name, unit from its
  reference quantity; a factor applies to its flow in its ``exchangeDirection`` only.

Problems name the file: a flow referenced but absent and an exchange without a flow reference
(:class:`~lcasolve.errors.MissingReferenceError`), unreadable XML or an entity declaration
(:class:`~lcasolve.errors.DataFileError`: documents with ``<!ENTITY`` are refused, so no
external or expanding entities are read). ``strict=True`` stops at the first; ``strict=False``
lists them in the import report and leaves out the exchange (the process, for its reference).
"""

from __future__ import annotations

import math
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

from lcasolve.errors import (
    DataFileError,
    InputError,
    InvalidUncertaintyError,
    MissingReferenceError,
)
from lcasolve.io._files import member_names, open_zip, read_member
from lcasolve.io._halves import available_workers, in_two
from lcasolve.io.assembly import Category, assemble
from lcasolve.io.distributions import bounded, lognormal, normal
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import Problems, strict_hint
from lcasolve.model import System

__all__ = ["read", "sniff"]

_C = "{http://lca.jrc.it/ILCD/Common}"
_NS = {
    "processes": "{http://lca.jrc.it/ILCD/Process}",
    "flows": "{http://lca.jrc.it/ILCD/Flow}",
    "flowproperties": "{http://lca.jrc.it/ILCD/FlowProperty}",
    "unitgroups": "{http://lca.jrc.it/ILCD/UnitGroup}",
    "lciamethods": "{http://lca.jrc.it/ILCD/LCIAMethod}",
}
_OLCA = "{http://openlca.org/ilcd-extensions}"
_FOLDERS = tuple(_NS)
_KIND = {"Elementary flow": "elementary", "Product flow": "product", "Waste flow": "waste"}
_DIRECTION = {"Emissions": "output", "Resources": "input", "Land use": "input"}
_NUMBER = re.compile(r"^\s*([-+]?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?)")


def sniff(path: Path) -> bool:
    """A zip or folder with ILCD ``processes/*.xml`` data sets."""
    names = member_names(path)
    return names is not None and any(
        n.endswith(".xml") and n.rsplit("/", 2)[-2:-1] == ["processes"] for n in names
    )


# ---------------------------------------------------------------------------- archive access
#: the order data sets are read in: reference data before the processes that use them
_RANK = {"unitgroups": 0, "flowproperties": 1, "flows": 2, "processes": 3, "lciamethods": 4}


#: a data set: ``(folder, location, source, zip member, size)``; ``source`` is the zip or the file
_Member = tuple[str, str, "zipfile.ZipFile | Path", "zipfile.ZipInfo | None", int]


def _members(path: Path, stack: ExitStack) -> list[_Member]:
    """Every data set (and the locations file) of a zip or folder."""
    out: list[_Member] = []
    if path.is_dir():
        for n in member_names(path) or ():
            f = path / n
            if f.suffix != ".xml":
                continue
            folder = f.parent.name
            if folder in _FOLDERS or f.name == "ILCDLocations.xml":
                out.append((folder, str(f), f, None, f.stat().st_size))
        return out
    z = stack.enter_context(open_zip(path))
    for info in z.infolist():
        parts = info.filename.rsplit("/", 2)
        folder = parts[-2] if len(parts) > 1 else ""
        if not info.filename.endswith(".xml"):
            continue
        if folder in _FOLDERS or parts[-1] == "ILCDLocations.xml":
            out.append((folder, f"{path}:{info.filename}", z, info, info.file_size))
    return out


def _sorted_members(paths: Sequence[Path], stack: ExitStack) -> list[_Member]:
    """The archives' data sets in reading order: reference data first, processes, methods.

    Within a folder, data sets come in the order of their file names, so a zip and its unpacked
    folder read the same. Each member is inflated only when it is read (:func:`_bytes`), so the
    raw bytes of the archive are never all held at once.
    """
    items = [m for p in paths for m in _members(p, stack)]
    items.sort(key=lambda m: (_RANK.get(m[0], -1), m[1].rsplit("/", 1)[-1]))
    return items


def _bytes(member: _Member, zips: dict[str, zipfile.ZipFile] | None = None) -> bytes:
    """The bytes of a data set; ``zips``: archives reopened by this process (a forked child)."""
    _, where, source, info, _ = member
    if info is None:
        assert isinstance(source, Path)
        return source.read_bytes()
    assert isinstance(source, zipfile.ZipFile)
    if zips is not None:
        name = str(source.filename)
        if name not in zips:
            zips[name] = open_zip(Path(name))
        source = zips[name]
    try:
        return read_member(source, info, where)
    except OSError as exc:
        raise DataFileError(f"{where}: cannot be read ({exc})") from None


def _parser() -> Callable[[bytes], Any]:
    """``fromstring`` of lxml (about 4x faster; the ``fast-xml`` extra) or of the stdlib.

    lxml parses without entity resolution and without network access; the stdlib parser
    (expat) does not fetch external entities. Both see only documents without ``<!ENTITY``.
    """
    try:
        from lxml import etree
    except ImportError:
        return ET.fromstring
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return partial(etree.fromstring, parser=parser)


def _parse(where: str, data: bytes, fromstring: Callable[[bytes], Any] = ET.fromstring) -> Any:
    if b"<!ENTITY" in data:
        raise DataFileError(f"{where}: entity declarations are not accepted in ILCD files")
    try:
        return fromstring(data)
    except (ET.ParseError, SyntaxError) as exc:  # lxml's XMLSyntaxError is a SyntaxError
        raise DataFileError(f"{where}: invalid XML ({exc})") from None


def _text(el: ET.Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _children(parent: Any, tag: str) -> Iterator[Any]:
    """The children of ``parent`` with ``tag``.

    lxml filters them in C (its ``find`` and ``findall`` go through its Python ElementPath,
    several microseconds a call); the stdlib's ``iterfind`` otherwise.
    """
    it = getattr(parent, "iterchildren", None)
    return it(tag) if it is not None else parent.iterfind(tag)  # type: ignore[no-any-return]


@cache
def _steps(path: str) -> tuple[str, ...]:
    """The tags of a path of child tags, ``{namespace}`` kept whole (it holds slashes)."""
    return tuple(re.findall(r"(?:\{[^}]*\})?[^/{]+", path))


def _find(parent: Any, path: str) -> Any:
    """``parent.find(path)`` for a path of child tags (``a/b/c``).

    The first match in document order, as ElementPath gives it.
    """
    return _first(parent, _steps(path))


def _first(parent: Any, steps: tuple[str, ...]) -> Any:
    for child in _children(parent, steps[0]):
        found = _first(child, steps[1:]) if len(steps) > 1 else child
        if found is not None:
            return found
    return None


def _lang(parent: ET.Element | None, tag: str) -> str:
    """The English text of a multi-language element (else the first one)."""
    if parent is None:
        return ""
    found = list(_children(parent, tag))
    for el in found:
        if el.get("{http://www.w3.org/XML/1998/namespace}lang", "en") == "en" and _text(el):
            return _text(el)
    return next((_text(el) for el in found if _text(el)), "")


def _float(text: str, what: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise DataFileError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise DataFileError(f"{where}: {what} is {v}")
    return v


# ---------------------------------------------------------------------------- reference data
@dataclass
class _Flow:
    name: str
    kind: str
    property: str  # reference flow property id
    factors: dict[str, float]  # flow property id -> meanValue
    compartment: str
    direction: str
    cas: str
    location: str


@dataclass
class _Reference:
    unit_groups: dict[str, tuple[str, dict[str, tuple[str, float]]]] = field(default_factory=dict)
    properties: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> name, group
    flows: dict[str, _Flow] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)

    def unit(self, property_id: str) -> str:
        group = self.properties.get(property_id, ("", ""))[1]
        return self.unit_groups.get(group, ("", {}))[0]


def _uuid(root: ET.Element, ns: str, info: str, where: str) -> str:
    uid = _text(_find(root, f"{ns}{info}/{ns}dataSetInformation/{_C}UUID"))
    if not uid:
        raise DataFileError(f"{where}: no common:UUID")
    return uid


def _unit_group(root: ET.Element, where: str, ref: _Reference) -> None:
    ns = _NS["unitgroups"]
    uid = _uuid(root, ns, "unitGroupInformation", where)
    ref_id = _text(
        _find(
            root, f"{ns}unitGroupInformation/{ns}quantitativeReference/{ns}referenceToReferenceUnit"
        )
    )
    units: dict[str, tuple[str, float]] = {}
    for u in root.iterfind(f"{ns}units/{ns}unit"):
        units[u.get("dataSetInternalID", "")] = (
            _text(_find(u, ns + "name")),
            _float(_text(_find(u, ns + "meanValue")) or "1", "unit meanValue", where),
        )
    ref.unit_groups[uid] = (units.get(ref_id, ("", 1.0))[0], units)


def _flow_property(root: ET.Element, where: str, ref: _Reference) -> None:
    ns = _NS["flowproperties"]
    uid = _uuid(root, ns, "flowPropertiesInformation", where)
    name = _lang(_find(root, f"{ns}flowPropertiesInformation/{ns}dataSetInformation"), _C + "name")
    group = _find(
        root,
        f"{ns}flowPropertiesInformation/{ns}quantitativeReference/{ns}referenceToReferenceUnitGroup",
    )
    ref.properties[uid] = (name, group.get("refObjectId", "") if group is not None else "")


def _flow(root: ET.Element, where: str, ref: _Reference) -> None:
    ns = _NS["flows"]
    uid = sys.intern(_uuid(root, ns, "flowInformation", where))
    info = _find(root, f"{ns}flowInformation/{ns}dataSetInformation")
    name = _lang(_find(info, ns + "name") if info is not None else None, ns + "baseName")
    kind_text = _text(_find(root, f"{ns}modellingAndValidation/{ns}LCIMethod/{ns}typeOfDataSet"))
    kind = _KIND.get(kind_text, "product")
    cats = _find(info, f"{ns}classificationInformation") if info is not None else None
    compartment, direction = "", ""
    if cats is not None:
        elementary = [_text(c) for c in cats.iter(_C + "category")]
        classes = [_text(c) for c in cats.iter(_C + "class")]
        compartment = "/".join(elementary or classes)
        if elementary:
            direction = _DIRECTION.get(elementary[0], "")
    ref_prop = _text(
        _find(
            root,
            f"{ns}flowInformation/{ns}quantitativeReference/{ns}referenceToReferenceFlowProperty",
        )
    )
    factors: dict[str, float] = {}
    prop_id = ""
    for fp in root.iterfind(f"{ns}flowProperties/{ns}flowProperty"):
        target = _find(fp, ns + "referenceToFlowPropertyDataSet")
        pid = target.get("refObjectId", "") if target is not None else ""
        factors[pid] = _float(
            _text(_find(fp, ns + "meanValue")) or "1", "flow property meanValue", where
        )
        if fp.get("dataSetInternalID", "") == ref_prop:
            prop_id = pid
    geo = _find(root, f"{ns}flowInformation/{ns}geography/{ns}locationOfSupply")
    ref.flows[uid] = _Flow(
        name=name,
        kind=kind,
        property=prop_id,
        factors=factors,
        compartment=compartment,
        direction=direction if kind == "elementary" else "",
        cas=_text(_find(info, ns + "CASNumber")) if info is not None else "",
        location=_text(geo),
    )


def _locations(root: ET.Element, ref: _Reference) -> None:
    for loc in root.iter("{http://lca.jrc.it/ILCD/Locations}location"):
        ref.locations[loc.get("value", "")] = _text(loc)


# ---------------------------------------------------------------------------- processes
def _uncertainty(kids: dict[str, Any], amount: float, factor: float, where: str) -> Any:
    """The distribution of an exchange from its children named by local tag."""
    kind = _text(kids.get("uncertaintyDistributionType"))
    if kind in ("", "undefined"):
        return None
    rsd = _text(kids.get("relativeStandardDeviation95In"))
    lo_t, hi_t = _text(kids.get("minimumAmount")), _text(kids.get("maximumAmount"))
    if kind == "log-normal" and rsd:
        gsd2 = _float(rsd, "relativeStandardDeviation95In", where)
        if gsd2 < 1:
            raise InvalidUncertaintyError(
                f"{where}: log-normal relativeStandardDeviation95In {gsd2} (GSD²) must be >= 1"
            )
        return lognormal(amount, math.log(math.sqrt(gsd2)) ** 2, where=where)
    if kind == "normal" and rsd:
        percent = _float(rsd, "relativeStandardDeviation95In", where)
        return normal(amount, percent / 200.0 * abs(amount), where=where)
    if kind in ("uniform", "triangular") and lo_t and hi_t:
        lo = _float(lo_t, "minimumAmount", where) * factor
        hi = _float(hi_t, "maximumAmount", where) * factor
        if factor < 0:
            lo, hi = hi, lo
        return bounded(amount, kind, lo, hi, amount if kind == "triangular" else None, where)
    if kind not in ("log-normal", "normal", "uniform", "triangular"):
        raise InvalidUncertaintyError(
            f"{where}: unknown uncertaintyDistributionType {kind!r} (undefined, log-normal, "
            f"normal, triangular, uniform)"
        )
    spread = (
        "relativeStandardDeviation95In"
        if kind in ("log-normal", "normal")
        else ("minimumAmount and maximumAmount")
    )
    raise InvalidUncertaintyError(f"{where}: {kind} uncertainty without a spread ({spread} absent)")


def _conversion(ex: ET.Element, fl: _Flow, ref: _Reference, where: str) -> float:
    """Factor from the exchange's (openLCA extension) property and unit to the reference unit."""
    prop, unit = ex.get(_OLCA + "propertyId"), ex.get(_OLCA + "unitId")
    if not prop and not unit:
        return 1.0
    prop = prop or fl.property
    if prop not in fl.factors or fl.factors[prop] == 0:
        raise MissingReferenceError(f"{where}: the flow has no factor for flow property {prop}")
    factor = 1.0 / fl.factors[prop]
    if unit:
        group = ref.properties.get(prop, ("", ""))[1]
        units = ref.unit_groups.get(group, ("", {}))[1]
        by_id = {k: v for k, v in units.items()}
        match = next((v for v in by_id.values() if v[0] == unit), by_id.get(unit))
        if match is None:
            raise MissingReferenceError(
                f"{where}: unit {unit} is not in the flow property's unit group"
            )
        factor *= match[1]
    return factor


#: the children of an exchange the reader uses (the others are never looked at)
_P = _NS["processes"]
_EXCHANGES = _P + "exchanges"
_EXCHANGE = _P + "exchange"
_EXCHANGE_FIELDS = {
    _P + "referenceToFlowDataSet": 0,
    _P + "meanAmount": 1,
    _P + "resultingAmount": 2,
    _P + "exchangeDirection": 3,
    _P + "uncertaintyDistributionType": 4,
    _P + "relativeStandardDeviation95In": 5,
    _P + "minimumAmount": 6,
    _P + "maximumAmount": 7,
    _P + "allocations": 8,
}
_UNCERTAINTY_FIELDS = (
    "uncertaintyDistributionType",
    "relativeStandardDeviation95In",
    "minimumAmount",
    "maximumAmount",
)


def _exchange_elements(root: Any) -> list[Any]:
    """Each exchange element followed by its used children, in document order.

    lxml filters the tags in C (``iter`` with several tags), so no Python object is made for
    the children the reader does not use (comments, data-source references, texts); the
    standard library's ``iter`` takes one tag, so there the children are filtered here.
    """
    section = next((c for c in root if c.tag == _EXCHANGES), None)
    if section is None:
        return []
    if not isinstance(section, ET.Element):  # lxml
        return list(section.iter(_EXCHANGE, *_EXCHANGE_FIELDS))
    out: list[Any] = []
    for ex in section.iterfind(_EXCHANGE):
        out.append(ex)
        out.extend(c for c in ex if c.tag in _EXCHANGE_FIELDS)
    return out


def _grouped(elements: list[Any]) -> Iterator[tuple[Any, list[Any]]]:
    """``(exchange, [its used children by field position])`` from the flat element list."""
    fields = _EXCHANGE_FIELDS
    ex = None
    kids: list[Any] = []
    for el in elements:
        tag = el.tag
        if tag == _EXCHANGE:
            if ex is not None:
                yield ex, kids
            ex, kids = el, [None] * 9
        else:
            kids[fields[tag]] = el
    if ex is not None:
        yield ex, kids


def _exchange(
    ex: Any,
    kids: list[Any],
    where: str,
    ref: _Reference,
    problems: Problems,
    counts: Counter[str],
    allocations: list[tuple[str, str, float]],
    reference: list[str],
) -> ExchangeRecord:
    """One exchange from its used children (``kids`` by :data:`_EXCHANGE_FIELDS` position)."""
    target = kids[0]
    fid = target.get("refObjectId", "") if target is not None else ""
    if not fid:
        counts["exchanges without flow reference"] += 1
        raise MissingReferenceError(f"{where}: the exchange has no flow reference")
    fid = sys.intern(fid)  # the flow's key in ref.flows: one string object per flow
    fl = ref.flows.get(fid)
    if fl is None:
        counts["exchanges of absent flows"] += 1
        label = _lang(target, _C + "shortDescription")
        raise MissingReferenceError(f"{where}: the flow {label!r} ({fid}) is not in the archive")
    text = _text(kids[2]) or _text(kids[1])
    amount = _float(text or "0", "amount", where)
    factor = _conversion(ex, fl, ref, where)
    if factor != 1.0:
        counts["unit conversions"] += 1
        amount *= factor
    unc = None
    if kids[4] is not None:
        try:
            unc = _uncertainty(
                dict(zip(_UNCERTAINTY_FIELDS, kids[4:8], strict=True)), amount, factor, where
            )
        except InvalidUncertaintyError as exc:
            counts["uncertainty without spread"] += "without a spread" in str(exc)
            if problems.strict:
                raise strict_hint(exc) from None
            problems.add(InvalidUncertaintyError(f"{exc}; the distribution is dropped"))
    direction = _text(kids[3])
    if direction not in ("Input", "Output"):
        raise DataFileError(f"{where}: exchangeDirection {direction!r} is not Input or Output")
    if kids[8] is not None:
        for a in kids[8].iterfind(_P + "allocation"):
            share = _float(a.get("allocatedFraction", "0"), "allocatedFraction", where) / 100
            allocations.append((fid, a.get("internalReferenceToCoProduct", ""), share))
    iid = ex.get("dataSetInternalID", "")
    return ExchangeRecord(
        flow=fid,
        amount=amount,
        is_input=direction == "Input",
        is_reference=iid in reference,
        uncertainty=unc,
        id=iid,
        where=where,
    )


def _process(
    root: ET.Element, where: str, ref: _Reference, problems: Problems, counts: Counter[str]
) -> ProcessRecord | None:
    ns = _P
    info = geo = kind_el = sources = None
    refs: list[str] = []
    for section in root:
        tag = section.tag
        if tag == ns + "processInformation":
            for c in section:
                t = c.tag
                if t == ns + "dataSetInformation":
                    info = c
                elif t == ns + "quantitativeReference":
                    refs = [_text(r) for r in c if r.tag == ns + "referenceToReferenceFlow"]
                elif t == ns + "geography":
                    geo = _find(c, ns + "locationOfOperationSupplyOrProduction")
        elif tag == ns + "modellingAndValidation":
            for c in section:
                t = c.tag
                if t == ns + "LCIMethodAndAllocation":
                    kind_el = _find(c, ns + "typeOfDataSet")
                elif t == ns + "dataSourcesTreatmentAndRepresentativeness":
                    sources = c
    uid = _text(_find(info, _C + "UUID")) if info is not None else ""
    if not uid:
        raise DataFileError(f"{where}: no common:UUID")
    name_el = _find(info, ns + "name") if info is not None else None
    name = "; ".join(
        t
        for t in (
            _lang(name_el, ns + tag)
            for tag in (
                "baseName",
                "treatmentStandardsRoutes",
                "mixAndLocationTypes",
                "functionalUnitFlowProperties",
            )
        )
        if t
    )
    kind = _text(kind_el)
    volume = _NUMBER.match(_lang(sources, ns + "annualSupplyOrProductionVolume"))
    p = ProcessRecord(
        id=uid,
        name=name,
        location=geo.get("location", "") if geo is not None else "",
        type="LCI_RESULT" if kind in ("LCI result", "Partly terminated system") else "UNIT_PROCESS",
        category="/".join(_text(c) for c in (info.iter(_C + "class") if info is not None else ())),
        where=f"{where} (process {uid})",
        production_volume=float(volume.group(1).replace(",", "")) if volume else None,
    )
    internal_flow: dict[str, str] = {}
    allocations: list[tuple[str, str, float]] = []  # (exchange flow, co-product internal id, share)
    broken = False
    reference = refs[:1]
    elementary = counts["elementary exchanges"]
    n = 0
    for ex, kids in _grouped(_exchange_elements(root)):
        n += 1
        iid = ex.get("dataSetInternalID", "")
        ewhere = _exchange_where(where, uid, iid)
        try:
            rec = _exchange(ex, kids, ewhere, ref, problems, counts, allocations, reference)
        except InputError as exc:
            problems.add(exc)
            rec = None
        if rec is None:
            # a broken reference exchange leaves the process out; its other exchanges are
            # still read, so that all of their problems are listed
            broken = broken or (bool(refs) and iid == refs[0])
            continue
        internal_flow[iid] = rec.flow
        elementary += ref.flows[rec.flow].kind == "elementary"
        p.exchanges.append(rec)
    counts["exchanges"] += n
    counts["elementary exchanges"] = elementary
    for fid, product, share in allocations:
        if product in internal_flow:
            p.causal[(internal_flow[product], fid)] = share
    if p.causal:
        p.default_allocation = "causal"
    return None if broken else p


def _exchange_where(where: str, uid: str, iid: str) -> str:
    return f"{where} (process {uid}, exchange {iid})"


def _packed(p: ProcessRecord) -> tuple[Any, ...]:
    """A process record as tuples: what a forked child sends back (a third of the pickle).

    The locations are left out (:func:`_unpacked` makes them again); ILCD exchanges have no
    provider, formula, pedigree or avoided flag.
    """
    exchanges = [
        (e.flow, e.amount, e.is_input, e.is_reference, e.uncertainty, e.id) for e in p.exchanges
    ]
    return (
        p.id,
        p.name,
        p.location,
        p.type,
        p.category,
        p.production_volume,
        p.causal,
        p.default_allocation,
        exchanges,
    )


def _unpacked(t: tuple[Any, ...], where: str) -> ProcessRecord:
    """The process record of :func:`_packed` read from the data set at ``where``."""
    uid, name, location, kind, category, volume, causal, default, exchanges = t
    return ProcessRecord(
        id=uid,
        name=name,
        location=location,
        type=kind,
        category=category,
        where=f"{where} (process {uid})",
        production_volume=volume,
        causal=causal,
        default_allocation=default,
        exchanges=[
            ExchangeRecord(
                flow=flow,
                amount=amount,
                is_input=is_input,
                is_reference=is_reference,
                uncertainty=unc,
                id=iid,
                where=_exchange_where(where, uid, iid),
            )
            for flow, amount, is_input, is_reference, unc, iid in exchanges
        ],
    )


def _method(root: ET.Element, where: str, ref: _Reference) -> Category:
    ns = _NS["lciamethods"]
    uid = _uuid(root, ns, "LCIAMethodInformation", where)
    name = (
        _lang(_find(root, f"{ns}LCIAMethodInformation/{ns}dataSetInformation"), _C + "name") or uid
    )
    quantity = _find(
        root, f"{ns}LCIAMethodInformation/{ns}quantitativeReference/{ns}referenceQuantity"
    )
    unit = ref.unit(quantity.get("refObjectId", "")) if quantity is not None else ""
    if not unit and quantity is not None:
        unit = _lang(quantity, _C + "shortDescription")
    factors: dict[tuple[str, str], float] = {}
    for f in root.iterfind(f"{ns}characterisationFactors/{ns}factor"):
        kids = {c.tag: c for c in f}
        target = kids.get(ns + "referenceToFlowDataSet")
        fid = target.get("refObjectId", "") if target is not None else ""
        direction = _text(kids.get(ns + "exchangeDirection")).lower()
        if not fid or direction not in ("input", "output"):
            raise DataFileError(f"{where}: a factor without flow reference or exchangeDirection")
        value = _float(_text(kids.get(ns + "meanValue")), "meanValue", where)
        location = _text(kids.get(ns + "location"))
        if (fid, direction) not in factors or location in ("", "GLO"):
            factors[(fid, direction)] = value  # a regional factor does not replace the default
    return Category(id=name, name=name, unit=unit, directional=factors)


# ---------------------------------------------------------------------------- reading
def _read_one(
    fn: Callable[..., Any], where: str, data: bytes, fromstring: Callable[[bytes], Any], *args: Any
) -> Any:
    return fn(_parse(where, data, fromstring), where, *args)


#: process sections the reader does not use (texts, reviews, ownership), cut before parsing:
#: about a third of TianGong's bytes
_UNUSED = (b"administrativeInformation", b"technology", b"validation", b"completeness")


def _without_unused(data: bytes) -> bytes:
    """The document without the sections the reader does not use.

    Each is cut only when it appears once, with the default namespace, so that a document with
    other spellings is parsed whole.
    """
    for tag in _UNUSED:
        opening, closing = b"<" + tag + b">", b"</" + tag + b">"
        start, end = data.find(opening), data.find(closing)
        if start < 0 or end < start or data.find(opening, start + 1) >= 0:
            continue
        data = data[:start] + data[end + len(closing) :]
    return data


#: archives with fewer process and method data sets than this are read in one process
_PARALLEL_FROM = 200

#: what reading one process or method data set gave: ``(folder, location, record or category
#: or None, its problems, the invalid distributions among them)``
_Entry = tuple[str, str, Any, list[str], list[str]]


def _read_sets(
    members: Sequence[_Member],
    in_child: bool,
    *,
    fromstring: Callable[[bytes], Any],
    ref: _Reference,
    strict: bool,
) -> tuple[list[_Entry], Counter[str]]:
    """Read process and method data sets, each with its own problems, in order.

    A forked child (``in_child``: it reopens the archives) gives the process records as
    :func:`_packed` tuples, cheaper to send back; :func:`read` merges the entries in reading
    order.
    """
    zips: dict[str, zipfile.ZipFile] | None = {} if in_child else None
    counts: Counter[str] = Counter()
    out: list[_Entry] = []
    try:
        for m in members:
            folder, where = m[0], m[1]
            found = Problems(strict)
            data = _bytes(m, zips)
            if folder == "processes":
                value = found.guard(
                    partial(
                        _read_one,
                        _process,
                        where,
                        _without_unused(data),
                        fromstring,
                        ref,
                        found,
                        counts,
                    )
                )
                if in_child and value is not None:
                    value = _packed(value)
            else:
                value = found.guard(partial(_read_one, _method, where, data, fromstring, ref))
            out.append((folder, where, value, found.items, found.distributions))
    finally:
        for z in (zips or {}).values():
            z.close()
    return out, counts


def read(
    paths: Sequence[str | os.PathLike[str]],
    *,
    ambiguous: str = "prefer",
    unlinked: str = "cutoff",
    allocation: str = "process",
    strict: bool = True,
    methods: bool = True,
    workers: int | None = None,
    **unknown: Any,
) -> System:
    """Read ILCD zips or folders into one linked system.

    Parameters
    ----------
    paths : sequence of path-like
        ILCD archives (zip or folder, with or without the ``ILCD/`` root), read together.
    ambiguous, unlinked, allocation, strict
        Linking, allocation and strictness, see :class:`lcasolve.io.linking.LinkOptions`.
    methods : bool
        Read the archive's LCIA methods as impact categories (default).
    workers : int, optional
        Processes that read the process and method data sets: 2 reads them in two halves at
        once (this process and a forked child, :mod:`lcasolve.io._halves`), 1 in this process;
        the default is 2 where the machine has two CPUs for this process, ``fork`` is available
        and the archive has at least 200 of them. The system is the same either way.

    Returns
    -------
    System
        ``metadata["counts"]``: processes, flows, exchanges, elementary exchanges, absent flows,
        exchanges without flow reference, uncertainty without spread, unit conversions;
        :class:`lcasolve.io.report.ImportReport` reads the link report and the problems.

    Raises
    ------
    DataFileError, MissingReferenceError, InvalidUncertaintyError
        When strict, at the first problem, naming the file, process and exchange.
    InvalidProductionError, LinkingError
        When strict, at the first problem, naming the file, process and exchange.
    """
    if unknown:
        raise InputError(
            f"unknown option(s) for the ILCD reader: {', '.join(sorted(unknown))} (known: "
            f"ambiguous, unlinked, allocation, strict, methods, workers)"
        )
    options = LinkOptions(ambiguous, unlinked, allocation, strict)
    problems = Problems(strict)
    fromstring = _parser()
    ref = _Reference()
    files = [Path(p) for p in paths]
    for f in files:
        if not f.exists():
            raise DataFileError(f"{f}: no such file or folder")
    readers = {"unitgroups": _unit_group, "flowproperties": _flow_property, "flows": _flow}
    counts: Counter[str] = Counter()
    processes: list[ProcessRecord] = []
    categories: list[Category] = []
    seen: set[str] = set()
    in_archive = 0
    with ExitStack() as stack:
        members = _sorted_members(files, stack)
        sets = [m for m in members if m[0] == "processes" or (methods and m[0] == "lciamethods")]
        for m in members:
            folder, where = m[0], m[1]
            if folder in readers:
                problems.guard(
                    partial(_read_one, readers[folder], where, _bytes(m), fromstring, ref)
                )
            elif folder not in ("processes", "lciamethods"):
                root = problems.guard(partial(_parse, where, _bytes(m), fromstring))
                if root is not None:
                    _locations(root, ref)
        if workers is None:
            workers = min(2, available_workers()) if len(sets) >= _PARALLEL_FROM else 1
        work = partial(_read_sets, fromstring=fromstring, ref=ref, strict=strict)
        halves = in_two(work, sets, [m[4] for m in sets], workers=workers)
    for half in halves:
        counts.update(half[1])
    for folder, where, value, items, distributions in (e for half in halves for e in half[0]):
        if folder == "lciamethods" and not processes:
            break
        problems.items.extend(items)
        problems.distributions.extend(distributions)
        if folder == "lciamethods":
            if value is not None:
                categories.append(value)
            continue
        in_archive += 1
        if value is None:
            continue
        if isinstance(value, tuple):  # from the forked child
            value = _unpacked(value, where)
        if value.id in seen:
            problems.add(DataFileError(f"{where}: process id {value.id} is repeated"))
            continue
        seen.add(value.id)
        processes.append(value)
    if not processes:
        raise InputError(f"no processes could be read from {', '.join(map(str, files))}")
    flows = {
        fid: FlowRecord(
            id=fid,
            name=fl.name,
            kind=fl.kind,
            unit=ref.unit(fl.property),
            compartment=fl.compartment,
            cas=fl.cas,
            location=fl.location,
            direction=fl.direction,
        )
        for fid, fl in ref.flows.items()
    }
    referenced = {e.flow for p in processes for e in p.exchanges}
    meta_counts = {
        "processes": len(processes),
        "processes_in_archive": in_archive,
        "flows": len(ref.flows),
        "exchanges": counts["exchanges"],
        "elementary_exchanges": counts["elementary exchanges"],
        "exchanges_of_absent_flows": counts["exchanges of absent flows"],
        "exchanges_without_flow_reference": counts["exchanges without flow reference"],
        "uncertainty_without_spread": counts["uncertainty without spread"],
        "unit_conversions": counts["unit conversions"],
        "referenced_flows": len(referenced),
        "methods": len(categories),
    }
    return assemble(
        processes,
        flows,
        options,
        problems=problems,
        categories=categories,
        metadata={
            "format": "ilcd",
            "files": [str(f) for f in files],
            "counts": meta_counts,
            "locations": dict(ref.locations),
        },
    )
