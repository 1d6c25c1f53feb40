"""Reference data of openLCA JSON-LD: unit groups, flow properties, categories and flows.

:class:`Reference` collects them from every input (files passed as ``reference_data``
contribute only these), checks each flow's type and typed fields when it is added, and refuses
a flow id defined twice with another ``flowType`` or factor. :func:`conversion` gives the factor
from an exchange's unit to its flow's reference unit, ``unit.conversionFactor /
flowPropertyFactor.conversionFactor``; :func:`flow_record` the flow as the assembly needs it.
Errors name the file, the field and the missing id (:class:`~lcasolve.errors.DataFileError`,
:class:`~lcasolve.errors.MissingReferenceError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lcasolve.errors import DataFileError, MissingReferenceError
from lcasolve.io._fields import field_flag, field_list, field_number, field_ref_id, field_text
from lcasolve.io.records import FlowRecord

__all__ = [
    "KIND",
    "Reference",
    "check_flow",
    "conversion",
    "flow_record",
    "location_name",
    "same_flow",
]

#: olca-schema flowType -> the kind of flow lcasolve's records use
KIND = {"ELEMENTARY_FLOW": "elementary", "PRODUCT_FLOW": "product", "WASTE_FLOW": "waste"}


@dataclass
class Reference:
    """Units, flow properties, categories and flows of all inputs."""

    units: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # id -> group, f, name
    group_unit: dict[str, str] = field(default_factory=dict)  # group -> reference unit name
    property_group: dict[str, str] = field(default_factory=dict)  # flow property -> group
    categories: dict[str, tuple[str, str | None]] = field(
        default_factory=dict
    )  # id -> name, parent
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    flow_where: dict[str, str] = field(default_factory=dict)
    _factors: dict[str, dict[str | None, float]] = field(default_factory=dict)

    def add(self, folder: str, where: str, data: dict[str, Any]) -> None:
        """Take in one parsed document of ``folder`` (``unit_groups``, ``flows``, ...).

        Raises
        ------
        DataFileError
            A document without ``@id``, a field of the wrong type, or a flow defined again
            with another ``flowType`` or factor (naming both files).
        """
        oid = data.get("@id")
        if not oid:
            raise DataFileError(f"{where}: no @id")
        if folder == "unit_groups":
            ref = ""
            for u in field_list(data, "units", where):
                if not u.get("@id") or not isinstance(u["@id"], str):
                    raise DataFileError(f"{where}: a unit of unit group {oid} has no string @id")
                self.units[u["@id"]] = (
                    oid,
                    field_number(u, "conversionFactor", f"{where} (unit {u['@id']})", 1.0),
                    u.get("name", ""),
                )
                if field_flag(u, ("referenceUnit", "isRefUnit"), f"{where} (unit {u['@id']})"):
                    ref = u.get("name", "")
            self.group_unit[oid] = ref
        elif folder == "flow_properties":
            group = field_ref_id(data, "unitGroup", where)
            if group:
                self.property_group[oid] = group
        elif folder == "categories":
            parent = data.get("category")
            self.categories[oid] = (data.get("name", ""), parent.get("@id") if parent else None)
        elif folder == "flows":
            check_flow(data, where)
            if oid in self.flows and not same_flow(self.flows[oid], data):
                raise DataFileError(
                    f"{where}: flow {oid} is defined again, differently, in "
                    f"{self.flow_where[oid]} (flowType or a flow property's factor differs); "
                    f"refusing to pick one"
                )
            self.flows[oid] = data
            self.flow_where[oid] = where

    def category_path(self, category: Any) -> str:
        """``a/b/c`` of a category reference (v1) or path string (v2)."""
        if isinstance(category, str):
            return category
        if not isinstance(category, dict):
            return ""
        names, cid, seen = [], category.get("@id"), set()
        while cid and cid in self.categories and cid not in seen:
            seen.add(cid)
            name, cid = self.categories[cid]
            names.append(name)
        if not names and category.get("name"):
            names = [category["name"]]
        return "/".join(reversed(names))

    def property_factors(self, fid: str) -> dict[str | None, float]:
        """Flow property id -> the flow's conversion factor for it (cached per flow)."""
        got = self._factors.get(fid)
        if got is None:
            where = self.flow_where.get(fid, fid)
            got = self._factors[fid] = {
                field_ref_id(p, "flowProperty", where): field_number(
                    p, "conversionFactor", f"{where} (flow properties)", 1.0
                )
                for p in field_list(self.flows[fid], "flowProperties", where)
            }
        return got

    def unit_name(self, property_id: str | None) -> str:
        """Name of the reference unit of a flow property's unit group ('' if unknown)."""
        group = self.property_group.get(property_id or "")
        return self.group_unit.get(group or "", "")


def location_name(loc: Any) -> str:
    """The name (else code) of a location reference, or a location given as text."""
    if isinstance(loc, dict):
        return str(loc.get("name") or loc.get("code") or "")
    return str(loc or "")


def check_flow(data: dict[str, Any], where: str) -> None:
    """A flow needs a known ``flowType`` (else CO2 could become a product) and typed fields."""
    kind = data.get("flowType")
    if not isinstance(kind, str) or kind not in KIND:
        raise DataFileError(
            f"{where}: flow {data.get('@id')} has flowType {kind!r}; expected one of "
            f"{', '.join(KIND)}"
        )
    for key in ("name", "cas"):
        field_text(data, key, where)
    for p in field_list(data, "flowProperties", where):
        field_ref_id(p, "flowProperty", where)
        field_number(p, "conversionFactor", f"{where} (flow properties)", 1.0)
        field_flag(p, ("referenceFlowProperty", "isRefFlowProperty"), where)


def same_flow(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two definitions of one flow id agree.

    Same ``flowType`` and the same factor for every flow property both list (one may list
    more properties, as the USLCI transport zips do).
    """

    def factors(d: dict[str, Any]) -> dict[Any, Any]:
        return {
            (p.get("flowProperty") or {}).get("@id"): p.get("conversionFactor", 1.0)
            for p in d.get("flowProperties") or []
        }

    fa, fb = factors(a), factors(b)
    return a.get("flowType") == b.get("flowType") and all(fa[k] == fb[k] for k in fa.keys() & fb)


def flow_record(ref: Reference, fid: str) -> FlowRecord:
    """The flow ``fid`` as the assembly's :class:`~lcasolve.io.records.FlowRecord`."""
    data = ref.flows[fid]
    kind = KIND[data["flowType"]]  # checked by check_flow
    props = data.get("flowProperties") or []
    refprop = next(
        (p for p in props if p.get("referenceFlowProperty") or p.get("isRefFlowProperty")),
        props[0] if props else {},
    )
    unit = ref.unit_name((refprop.get("flowProperty") or {}).get("@id"))
    return FlowRecord(
        id=fid,
        name=data.get("name", ""),
        kind=kind,
        unit=unit,
        compartment=ref.category_path(data.get("category")),
        cas=(data.get("cas") or "").strip(),
        location=location_name(data.get("location")),
    )


def conversion(ref: Reference, ex: dict[str, Any], fid: str, where: str) -> float:
    """Factor from the exchange's unit to the flow's reference unit."""
    unit_id = field_ref_id(ex, "unit", where)
    prop_id = field_ref_id(ex, "flowProperty", where)
    if unit_id is None:
        return 1.0
    if unit_id not in ref.units:
        raise MissingReferenceError(
            f"{where}: unit {ex['unit'].get('name', '')!r} ({unit_id}) is in no unit group of the "
            f"inputs (pass the database with openLCA's reference units as reference_data)"
        )
    group, unit_factor, _ = ref.units[unit_id]
    flow = ref.flows[fid]
    factors = ref.property_factors(fid)
    if prop_id is None:
        prop_id = next(
            (p for p, g in ref.property_group.items() if g == group and p in factors), None
        )
    if prop_id not in factors:
        raise MissingReferenceError(
            f"{where}: flow {flow.get('name', '')!r} ({fid}) has no factor for the flow property "
            f"{prop_id} of the exchange"
        )
    if prop_id in ref.property_group and ref.property_group[prop_id] not in ref.group_unit:
        raise MissingReferenceError(
            f"{where}: flow property {prop_id} refers to the unit group "
            f"{ref.property_group[prop_id]}, which no input defines"
        )
    if prop_id in ref.property_group and ref.property_group[prop_id] != group:
        raise DataFileError(
            f"{where}: unit {unit_id} does not belong to the unit group of flow property {prop_id}"
        )
    if prop_id not in ref.property_group:
        raise MissingReferenceError(f"{where}: flow property {prop_id} has no known unit group")
    if factors[prop_id] == 0:
        raise DataFileError(f"{where}: flow {fid} has a zero conversion factor for {prop_id}")
    return unit_factor / factors[prop_id]
