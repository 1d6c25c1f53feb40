"""ecoinvent's EcoSpold2 MasterData and exchange properties, for :mod:`lcasolve.io.ecospold2`.

An ecoinvent release holds, beside its ``datasets/*.spold``, a ``MasterData`` folder with the
valid flows, activity names and geographies. When the input has one, a dataset that leaves a
name, a unit, a compartment or a CAS number out gets it from there (by
``intermediateExchangeId``, ``elementaryExchangeId``, ``activityNameId``, ``geographyId``);
names given inline win.

Properties (``<property>`` of an exchange: carbon content, dry mass, price, ...) are read into
records for ``system.metadata["properties"]``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lcasolve.errors import DataFileError
from lcasolve.io._files import member_names, open_zip, read_member

__all__ = ["MasterData", "exchange_properties", "read_master"]

_NS = "{http://www.EcoInvent.org/EcoSpold02}"
_FILES = (
    "intermediateexchanges.xml",
    "elementaryexchanges.xml",
    "activitynames.xml",
    "geographies.xml",
)


@dataclass(frozen=True)
class MasterData:
    """Look-up tables from a ``MasterData`` folder (empty tables for files it lacks).

    ``intermediate`` and ``elementary`` map a flow id to ``{"name", "unit", "compartment",
    "cas"}`` (the keys the file gives); ``activity_names`` an ``activityNameId`` to the name;
    ``geographies`` a ``geographyId`` to its shortname.
    """

    intermediate: dict[str, dict[str, str]] = field(default_factory=dict)
    elementary: dict[str, dict[str, str]] = field(default_factory=dict)
    activity_names: dict[str, str] = field(default_factory=dict)
    geographies: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def flow(self, elementary: bool, fid: str, key: str) -> str:
        """One field of a flow, or ``""``."""
        table = self.elementary if elementary else self.intermediate
        return table.get(fid, {}).get(key, "")


def _text(el: ET.Element | None, tag: str) -> str:
    child = el.find(_NS + tag) if el is not None else None
    return (child.text or "").strip() if child is not None else ""


def _flows(root: ET.Element, tag: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for el in root.iter(_NS + tag):
        fid = el.attrib.get("id", "")
        if not fid:
            continue
        comp = el.find(_NS + "compartment")
        rec = {
            "name": _text(el, "name"),
            "unit": _text(el, "unitName"),
            "compartment": "/".join(
                t for t in (_text(comp, "compartment"), _text(comp, "subcompartment")) if t
            ),
            "cas": el.attrib.get("casNumber", ""),
        }
        out[fid] = {k: v for k, v in rec.items() if v}
    return out


def read_master(path: Path) -> MasterData | None:
    """The MasterData of a zip or folder (files in a folder named ``MasterData``); None if none.

    Raises
    ------
    DataFileError
        A MasterData file that is not valid XML, naming it.
    """
    names = member_names(path) or []
    wanted: dict[str, str] = {}
    for n in names:
        parts = PurePosixPath(n).parts
        if len(parts) >= 2 and parts[-2].lower() == "masterdata" and parts[-1].lower() in _FILES:
            wanted.setdefault(parts[-1].lower(), n)
    if not wanted:
        return None
    roots: dict[str, ET.Element] = {}
    read: Callable[[str], bytes]
    if path.is_dir():

        def read(n: str) -> bytes:
            return (path / n).read_bytes()

        roots = {k: _parse(f"{path / n}", read(n)) for k, n in wanted.items()}
    else:
        with open_zip(path) as z:
            roots = {
                k: _parse(f"{path}:{n}", read_member(z, z.getinfo(n), f"{path}:{n}"))
                for k, n in wanted.items()
            }
    empty = ET.Element("none")
    names_root = roots.get("activitynames.xml", empty)
    geo_root = roots.get("geographies.xml", empty)
    return MasterData(
        intermediate=_flows(roots.get("intermediateexchanges.xml", empty), "intermediateExchange"),
        elementary=_flows(roots.get("elementaryexchanges.xml", empty), "elementaryExchange"),
        activity_names={
            el.attrib["id"]: _text(el, "name")
            for el in names_root.iter(_NS + "activityName")
            if "id" in el.attrib and _text(el, "name")
        },
        geographies={
            el.attrib["id"]: _text(el, "shortname")
            for el in geo_root.iter(_NS + "geography")
            if "id" in el.attrib and _text(el, "shortname")
        },
        files=tuple(sorted(wanted.values())),
    )


def _parse(where: str, data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise DataFileError(f"{where}: invalid XML ({exc})") from None


def exchange_properties(
    ex: ET.Element, activity: str, flow: str, where: str
) -> list[dict[str, Any]]:
    """The ``<property>`` elements of an exchange as records.

    Keys: ``activity`` (the activity id), ``exchange``, ``flow``, ``property`` (its name),
    ``property_id``, ``amount`` (float), ``unit``, ``defining`` (``isDefiningValue``).

    Raises
    ------
    DataFileError
        A property amount that is not a number, naming the exchange and the property.
    """
    out = []
    for pr in ex.findall(_NS + "property"):
        name = _text(pr, "name")
        raw = pr.attrib.get("amount", "")
        try:
            amount = float(raw)
        except ValueError:
            raise DataFileError(
                f"{where}: property {name or pr.attrib.get('propertyId', '')!r} has the amount "
                f"{raw!r}, not a number"
            ) from None
        out.append(
            {
                "activity": activity,
                "exchange": ex.attrib.get("id", ""),
                "flow": flow,
                "property": name,
                "property_id": pr.attrib.get("propertyId", ""),
                "amount": amount,
                "unit": _text(pr, "unitName"),
                "defining": pr.attrib.get("isDefiningValue", "false") == "true",
            }
        )
    return out
