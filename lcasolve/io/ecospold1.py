"""EcoSpold 1 reader: an XML file of ``<dataset>`` elements, or a zip or folder of such files.

EcoSpold 1 (namespace ``http://www.EcoInvent.org/EcoSpold01``, ecoinvent v1 and the USLCI
releases openLCA exports) has no UUIDs: a dataset is named by its ``number`` (the process id
here) and an exchange by the ``number`` of its flow, which is the same in every dataset that
exchanges the flow (USLCI: 4,083 flows). Exchanges, by their group:

- ``outputGroup`` 0: the reference product; 1: an avoided product; 2: a co-product; 3: a
  waste for treatment; 4: an emission (elementary, compartment ``category/subCategory``).
- ``inputGroup`` 1, 2, 3, 5: a product input; 4: a resource (elementary).

Providers: EcoSpold 1 names no provider; a product input links to the datasets whose
reference product is its flow. When several datasets produce it (USLCI's regional
"Electricity, at grid") and exactly one of them is in the exchange's ``location``, that one is
the provider (EcoSpold 1 identifies a product by name, unit *and location*); otherwise the
linking policy decides (:class:`lcasolve.io.linking.LinkOptions`).

Units: every amount is converted to the reference unit of its dimension with
:mod:`lcasolve.io.units`; a unit that table does not know (USLCI's ``EUR 2000``) stays the
flow's own unit. A flow number met in two unit dimensions or compartments (USLCI's "Water" in
m3 and in kg, "Uranium" in kg and kBq) gives two flows, the later one with the id
``"NUMBER [UNIT, COMPARTMENT]"`` (``counts["flows split by unit or compartment"]``): a product
input in another dimension than its provider's reference product stays unlinked, and the link
report lists it.

Uncertainty (``uncertaintyType``): 1 lognormal with ``standardDeviation95`` the square of the
geometric standard deviation (σ = ln(sd95) / 2), 2 normal with ``standardDeviation95`` = 2σ,
3 triangular (``minValue``, ``mostLikelyValue``, ``maxValue``), 4 uniform (``minValue``,
``maxValue``). Allocation: ``<allocation>`` elements (``referenceToCoProduct``, ``fraction``
in percent, ``referenceToInputOutput``) become causal factors.

The XML is read with :mod:`xml.etree.ElementTree` (no DTDs, no external entities fetched), one
dataset at a time.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any

import numpy as np

from lcasolve.errors import (
    DataFileError,
    InputError,
    InvalidProductionError,
    InvalidUncertaintyError,
)
from lcasolve.io._files import member_names, open_zip
from lcasolve.io.assembly import assemble
from lcasolve.io.distributions import bounded, lognormal, normal
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import Problems, strict_hint
from lcasolve.io.units import reference_unit
from lcasolve.model import System

__all__ = ["read", "sniff"]

_NS = "{http://www.EcoInvent.org/EcoSpold01}"
_MARK = b"EcoInvent.org/EcoSpold01"
_PRODUCT_INPUT_GROUPS = (1, 2, 3, 5)


def _peek(path: Path) -> bool:
    with path.open("rb") as f:
        return _MARK in f.read(4096)


def sniff(path: Path) -> bool:
    """An EcoSpold 1 XML file, or a zip or folder with an ``EcoSpold01`` folder or such files."""
    if path.is_file() and path.suffix.lower() == ".xml":
        return _peek(path)
    names = member_names(path)
    if names is None:
        return False
    if any("ecospold01/" in f"/{n.lower()}" for n in names):
        return True
    if path.is_dir():
        xml = [n for n in names if n.lower().endswith(".xml")]
        return len(xml) <= 5 and any(_peek(path / n) for n in xml)
    return False


@contextmanager
def _opened(path: Path, member: str | None) -> Iterator[IO[bytes]]:
    if member is None:
        with path.open("rb") as f:
            yield f
        return
    with open_zip(path) as z, z.open(member) as f:
        yield f


def _sources(path: Path) -> list[tuple[str, Path, str | None]]:
    """``(location, file, zip member or None)`` of each EcoSpold 1 XML file in ``path``."""
    if path.is_file() and path.suffix.lower() == ".xml":
        return [(str(path), path, None)]
    names = member_names(path) or []
    xml = sorted(
        n for n in names if n.lower().endswith(".xml") and Path(n).name.lower() != "categories.xml"
    )
    if path.is_dir():
        return [(str(path / n), path / n, None) for n in xml]
    return [(f"{path}:{n}", path, n) for n in xml]


def _datasets(where: str, path: Path, member: str | None) -> Iterator[ET.Element]:
    """The ``<dataset>`` elements of one file, each dropped after use."""
    try:
        with _opened(path, member) as f:
            root: ET.Element | None = None
            for event, el in ET.iterparse(f, events=("start", "end")):
                if event == "start":
                    if root is None:
                        root = el
                        if el.tag != _NS + "ecoSpold":
                            raise DataFileError(
                                f"{where}: not EcoSpold 1 (root element {el.tag!r}, expected "
                                f"'ecoSpold' in namespace {_NS[1:-1]})"
                            )
                    continue
                if el.tag == _NS + "dataset":
                    yield el
                    el.clear()
                    if root is not None:
                        root.remove(el)
    except ET.ParseError as exc:
        raise DataFileError(f"{where}: invalid XML ({exc})") from None
    except OSError as exc:
        raise DataFileError(f"{where}: cannot be read ({exc})") from None


def _float(el: ET.Element, attr: str, where: str) -> float:
    try:
        v = float(el.attrib[attr])
    except (KeyError, ValueError):
        raise DataFileError(f"{where}: attribute {attr!r} is missing or not a number") from None
    if not math.isfinite(v):
        raise DataFileError(f"{where}: {attr} is {v}")
    return v


def _uncertainty(ex: ET.Element, amount: float, factor: float, where: str) -> np.void | None:
    kind = ex.attrib.get("uncertaintyType", "").strip()
    if kind in ("", "0"):
        return None
    if kind == "1":
        sd95 = _float(ex, "standardDeviation95", where)
        if sd95 < 1:
            raise InvalidUncertaintyError(
                f"{where}: lognormal standardDeviation95 {sd95} (the squared geometric standard "
                f"deviation) must be >= 1"
            )
        return lognormal(amount, (math.log(sd95) / 2) ** 2, where=where)
    if kind == "2":
        sd95 = _float(ex, "standardDeviation95", where)
        if sd95 <= 0:
            raise InvalidUncertaintyError(f"{where}: normal standardDeviation95 {sd95} must be > 0")
        return normal(amount, sd95 / 2 * abs(factor), where=where)
    if kind in ("3", "4"):
        lo, hi = _float(ex, "minValue", where) * factor, _float(ex, "maxValue", where) * factor
        mode = _float(ex, "mostLikelyValue", where) * factor if kind == "3" else None
        return bounded(amount, "triangular" if kind == "3" else "uniform", lo, hi, mode, where)
    raise InvalidUncertaintyError(
        f"{where}: unknown uncertaintyType {kind!r} (1 lognormal, 2 normal, 3 triangular, "
        f"4 uniform)"
    )


def _group(ex: ET.Element, where: str) -> tuple[str, int]:
    for io, allowed in (("output", (0, 1, 2, 3, 4)), ("input", (1, 2, 3, 4, 5))):
        g = ex.find(f"{_NS}{io}Group")
        text = (g.text or "").strip() if g is not None else ""
        if text:
            if not text.isdigit() or int(text) not in allowed:
                raise DataFileError(
                    f"{where}: <{io}Group> is {text!r}; expected one of "
                    f"{', '.join(map(str, allowed))}"
                )
            return io, int(text)
    raise DataFileError(f"{where}: neither inputGroup nor outputGroup")


class _Reader:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.flows: dict[str, FlowRecord] = {}
        #: (number, unit, compartment) -> flow id
        self.variants: dict[tuple[str, str, str], str] = {}
        self.counts: Counter[str] = Counter()
        #: product-input exchanges with the location they name
        self.located: list[tuple[ExchangeRecord, str]] = []

    def dataset(self, ds: ET.Element, where: str) -> ProcessRecord:
        number = ds.attrib.get("number", "").strip()
        if not number:
            raise DataFileError(f"{where}: a dataset without a number")
        where = f"{where} (dataset {number})"
        info = ds.find(f"{_NS}metaInformation/{_NS}processInformation")
        ref = info.find(_NS + "referenceFunction") if info is not None else None
        if ref is None:
            raise DataFileError(f"{where}: no referenceFunction")
        geo = info.find(_NS + "geography") if info is not None else None
        dsi = info.find(_NS + "dataSetInformation") if info is not None else None
        kind = dsi.attrib.get("type", "1") if dsi is not None else "1"
        p = ProcessRecord(
            id=number,
            name=ref.attrib.get("name", ""),
            location=geo.attrib.get("location", "") if geo is not None else "",
            type="LCI_RESULT" if kind == "2" else "UNIT_PROCESS",
            category="/".join(
                t for t in (ref.attrib.get("category", ""), ref.attrib.get("subCategory", "")) if t
            ),
            where=where,
        )
        self.counts["datasets"] += 1
        flow_data = ds.find(_NS + "flowData")
        for el in list(flow_data) if flow_data is not None else []:
            if el.tag == _NS + "exchange":
                rec = self.problems.guard(partial(self.exchange, el, where))
                if rec is not None:
                    p.exchanges.append(rec)
            elif el.tag == _NS + "allocation":
                self.problems.guard(partial(self.allocation, el, p, where))
        if not any(e.is_reference for e in p.exchanges):
            raise DataFileError(f"{where}: no reference product (no exchange with outputGroup 0)")
        return p

    def exchange(self, ex: ET.Element, where: str) -> ExchangeRecord:
        fid = ex.attrib.get("number", "").strip()
        ewhere = f"{where}, exchange {fid} {ex.attrib.get('name', '')!r}"
        if not fid:
            raise DataFileError(f"{ewhere}: an exchange without a number")
        io, group = _group(ex, ewhere)
        unit = ex.attrib.get("unit", "").strip()
        known = reference_unit(unit)
        ref_unit, factor = known if known is not None else (unit, 1.0)
        self.counts["unit conversions"] += factor != 1.0
        amount = _float(ex, "meanValue", ewhere) * factor
        elementary = group == 4
        is_reference = (io, group) == ("output", 0)
        if is_reference and amount < 0:
            raise InvalidProductionError(
                f"{ewhere}: the reference product (outputGroup 0) has the negative amount "
                f"{amount}; refusing to flip its sign"
            )
        self.counts[f"{io}Group {group}"] += 1
        if elementary:
            kind = "elementary"
            compartment = "/".join(
                t for t in (ex.attrib.get("category", ""), ex.attrib.get("subCategory", "")) if t
            )
        else:
            kind = "waste" if (io, group) == ("output", 3) else "product"
            compartment = ""
        fid = self.flow_id(fid, ex, kind, ref_unit, compartment)
        try:
            unc = _uncertainty(ex, amount, factor, ewhere)
        except InvalidUncertaintyError as exc:
            if self.problems.strict:
                raise strict_hint(exc) from None
            self.problems.add(InvalidUncertaintyError(f"{exc}; the distribution is dropped"))
            unc = None
        if ex.attrib.get("uncertaintyType", "0") not in ("", "0"):
            self.counts[f"uncertaintyType {ex.attrib['uncertaintyType']}"] += 1
        rec = ExchangeRecord(
            flow=fid,
            amount=amount,
            is_input=io == "input",
            is_reference=is_reference,
            is_avoided=(io, group) == ("output", 1),
            uncertainty=unc,
            id=fid,
            where=ewhere,
        )
        if io == "input" and group in _PRODUCT_INPUT_GROUPS:
            self.located.append((rec, ex.attrib.get("location", "").strip()))
        return rec

    def flow_id(self, number: str, ex: ET.Element, kind: str, unit: str, compartment: str) -> str:
        """The flow id of an exchange: its number, qualified when needed.

        A number met before in another unit dimension or compartment (USLCI's "Water" in m3 and
        in kg) gets the id ``"NUMBER [UNIT, COMPARTMENT]"``.
        """
        key = (number, unit, compartment)
        got = self.variants.get(key)
        if got is None:
            got = number if number not in self.flows else f"{number} [{unit}, {compartment}]"
            self.counts["flows split by unit or compartment"] += got != number
            self.variants[key] = got
        old = self.flows.get(got)
        if old is None or (kind == "waste" and old.kind == "product"):
            cas = ex.attrib.get("CASNumber", "").strip()
            self.flows[got] = FlowRecord(
                id=got,
                name=ex.attrib.get("name", ""),
                kind=kind,
                unit=unit,
                compartment=compartment,
                cas="" if cas.lower() in ("nan", "n.a.") else cas,
            )
        return got

    def allocation(self, el: ET.Element, p: ProcessRecord, where: str) -> None:
        product = el.attrib.get("referenceToCoProduct", "").strip()
        fraction = _float(el, "fraction", f"{where}, allocation of {product}") / 100
        for r in el.findall(_NS + "referenceToInputOutput"):
            p.causal[(product, (r.text or "").strip())] = fraction
        p.default_allocation = "causal"


def _providers_by_location(processes: Sequence[ProcessRecord], reader: _Reader) -> int:
    """Name the provider of each product input whose location picks one producer; the count."""
    producers: defaultdict[str, list[ProcessRecord]] = defaultdict(list)
    for p in processes:
        for e in p.exchanges:
            if e.is_reference:
                producers[e.flow].append(p)
    chosen = 0
    for rec, location in reader.located:
        cands = producers.get(rec.flow, [])
        if len(cands) > 1 and location:
            here = [p for p in cands if p.location == location]
            if len(here) == 1:
                rec.provider = here[0].id
                chosen += 1
    return chosen


def read(
    paths: Sequence[str | os.PathLike[str]],
    *,
    ambiguous: str = "prefer",
    unlinked: str = "cutoff",
    allocation: str = "process",
    strict: bool = True,
    **unused: Any,
) -> System:
    """Read EcoSpold 1 files (XML, or zips or folders of them) into one linked system.

    Parameters
    ----------
    paths : sequence of path-like
    ambiguous, unlinked, allocation : str
        Linking and allocation policies, see :class:`lcasolve.io.linking.LinkOptions`.
    strict : bool
        Stop at the first problem (default), or collect them in ``metadata["problems"]``.

    Returns
    -------
    System
        ``metadata["counts"]`` holds dataset, exchange-group, uncertainty-type and
        unit-conversion counts and ``providers by location``; ``metadata["link_report"]``
        the linking choices.
    """
    del unused
    options = LinkOptions(ambiguous, unlinked, allocation, strict)
    problems = Problems(strict)
    reader = _Reader(problems)
    processes: list[ProcessRecord] = []
    for path in map(Path, paths):
        if not path.exists():
            raise DataFileError(f"{path}: no such file or folder")
        sources = _sources(path)
        if not sources:
            raise DataFileError(f"{path}: no EcoSpold 1 XML file in it")
        for where, file, member in sources:
            for ds in _datasets(where, file, member):
                p = problems.guard(partial(reader.dataset, ds, where))
                if p is not None:
                    processes.append(p)
    if not processes:
        raise InputError(f"no datasets in {list(map(str, paths))}")
    counts = dict(reader.counts)
    counts["providers by location"] = _providers_by_location(processes, reader)
    return assemble(
        processes,
        reader.flows,
        options,
        problems=problems,
        metadata={"format": "ecospold1", "files": [str(p) for p in paths], "counts": counts},
    )
