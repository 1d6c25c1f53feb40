"""WBCSD PACT (Pathfinder) v3 ProductFootprint JSON of a footprint report.

:func:`to_pact` maps a :class:`~lcasolve.pcf.report.PCFReport` to the PACT v3 data model:
``fossilGhgEmissions``, ``landUseChangeGhgEmissions``, ``biogenicNonCO2Emissions``,
``biogenicCO2Uptake``, ``aircraftGhgEmissions`` from the split by origin, and
``pcfExcludingBiogenicUptake`` / ``pcfIncludingBiogenicUptake`` by the spec's sums of them;
reference period, allocation, data sources, exempted emissions (the estimated share of the inputs
cut off in the data) and a comment with the disclosures. Decimals are written as strings without
exponent, as the spec requires. :func:`validate_pact` checks a document against lcasolve's own
JSON schema of these fields (``lcasolve/pcf/data``, written from the published spec).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve.errors import InputError, MissingExtraError

__all__ = ["PACT_VERSION", "pact_schema", "to_pact", "validate_pact", "write_pact"]

#: the PACT data model version written
PACT_VERSION = "3.0.0"

#: PACT declared units by lower-case unit names found in databases, with the factor to them
_UNITS: dict[str, tuple[str, float]] = {
    "kg": ("kilogram", 1.0),
    "kilogram": ("kilogram", 1.0),
    "t": ("kilogram", 1000.0),
    "tonne": ("kilogram", 1000.0),
    "g": ("kilogram", 0.001),
    "l": ("liter", 1.0),
    "liter": ("liter", 1.0),
    "litre": ("liter", 1.0),
    "m3": ("cubic meter", 1.0),
    "kwh": ("kilowatt hour", 1.0),
    "mj": ("megajoule", 1.0),
    "tkm": ("ton kilometer", 1.0),
    "t*km": ("ton kilometer", 1.0),
    "m2": ("square meter", 1.0),
    "p": ("piece", 1.0),
    "item": ("piece", 1.0),
    "unit": ("piece", 1.0),
    "h": ("hour", 1.0),
}

_SCHEMA = "pact-v3-product-footprint.schema.json"


def decimal(x: float) -> str:
    """A float as a PACT decimal string: positional, shortest round-trip digits, no ``-0``."""
    if not np.isfinite(x):
        raise InputError(f"PACT decimals must be finite, not {x!r}")
    text = np.format_float_positional(float(x), trim="-")
    return "0" if text in ("-0", "0", "+0") else text


def to_pact(
    report: Any,
    *,
    company_name: str,
    company_ids: Sequence[str] | None = None,
    product_ids: Sequence[str] | None = None,
    product_name: str | None = None,
    product_description: str | None = None,
    reference_period: tuple[str, str] | None = None,
    fossil_carbon_content: float = 0.0,
    biogenic_carbon_content: float | None = None,
    primary_data_share: float | None = None,
    standards: Sequence[str] = ("ISO14067", "GHGP-Product"),
    footprint_id: str | None = None,
) -> dict[str, Any]:
    """The report as a PACT v3 ProductFootprint.

    Parameters
    ----------
    report : PCFReport
        With a :class:`~lcasolve.pcf.report.GhgSection` and a
        :class:`~lcasolve.pcf.report.MetadataSection` (as :func:`build_report` makes them).
    company_name : str
    company_ids, product_ids : sequence of str, optional
        URNs; default ``urn:lcasolve:company:<name>`` and ``urn:lcasolve:product:<product id>``.
    product_name, product_description : str, optional
        Default: the product's name in the activity table.
    reference_period : (start, end), optional
        ISO 8601 date-times; default the calendar year of the report's reference year
        (an error when neither is known: the spec requires the period).
    fossil_carbon_content, biogenic_carbon_content : float
        kg C per declared unit (1 kg of product); lcasolve does not compute carbon contents,
        the comment says so.
    primary_data_share : float, optional
        Percent of primary data (not computed by lcasolve).
    standards : sequence of str
        ``crossSectoralStandards``.
    footprint_id : str, optional
        UUID of the footprint (default: a new random one).

    Returns
    -------
    dict
        JSON-ready document; :func:`validate_pact` passes on it. Emissions are per declared
        unit (1 kg of product; a functional unit in t or g is converted),
        ``declaredUnitAmount`` is the functional unit in kg.
    """
    from lcasolve.pcf.report import GhgSection, MetadataSection

    ghg = report.section(GhgSection)
    meta_section = report.section(MetadataSection)
    if ghg is None or meta_section is None:
        raise InputError("a PACT footprint needs the report's split by origin and its metadata")
    s = ghg.split
    meta = meta_section.metadata
    fp = report.footprint
    if len(fp.demand) != 1:
        raise InputError("a PACT footprint is of one product; the functional unit has several")
    (pid, amount), *_ = fp.demand.items()
    acts = fp.system.activities
    row = acts.iloc[fp.system.product_position(pid)]
    unit = str(row["unit"]) if "unit" in acts.columns else ""
    if unit.strip().lower() not in _UNITS:
        raise InputError(
            f"the product's unit {unit!r} has no PACT declared unit; known: {sorted(_UNITS)}"
        )
    declared, factor = _UNITS[unit.strip().lower()]
    if declared != "kilogram":
        raise InputError(
            f"PACT requires productMassPerDeclaredUnit; the product is declared in {declared}, "
            "whose mass lcasolve does not know: declare the footprint per kg"
        )
    per = 1.0 / (amount * factor)  # PACT values are per declared unit (1 kg)
    name = product_name or str(row.get("product", row.get("name", pid)))
    parts = {
        "fossilGhgEmissions": s.fossil * per,
        "landUseChangeGhgEmissions": s.land_use_change * per,
        "biogenicNonCO2Emissions": (s.biogenic_in_total - s.biogenic_co2_in_total) * per,
        "aircraftGhgEmissions": s.aircraft * per,
    }
    uptake = min(s.biogenic_co2_removals, 0.0) * per
    negative = {k: v for k, v in parts.items() if v < 0}
    if negative:
        raise InputError(f"PACT requires these parts >= 0; the footprint has {negative}")
    excluding = (
        parts["fossilGhgEmissions"]
        + parts["landUseChangeGhgEmissions"]
        + parts["biogenicNonCO2Emissions"]
    )
    start, end = _period(reference_period, meta.reference_year)
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": declared,
        "declaredUnitAmount": decimal(amount * factor),
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": start,
        "referencePeriodEnd": end,
        "boundaryProcessesDescription": f"{meta.boundary}; {meta.cutoff_rule}",
        "pcfExcludingBiogenicUptake": decimal(excluding),
        "pcfIncludingBiogenicUptake": decimal(excluding + uptake),
        "fossilCarbonContent": decimal(fossil_carbon_content),
        **{k: decimal(v) for k, v in parts.items()},
        "biogenicCO2Uptake": decimal(uptake),
        "ipccCharacterizationFactors": [_ipcc_report(meta.method_version, fp.category)],
        "crossSectoralStandards": list(standards),
        "exemptedEmissionsPercent": decimal(_exempted(report) * 100.0),
        "exemptedEmissionsDescription": _exempted_text(report),
        "allocationRulesDescription": meta.allocation,
    }
    if biogenic_carbon_content is not None:
        pcf["biogenicCarbonContent"] = decimal(biogenic_carbon_content)
    sources = [
        {"name": Path(d.path).name or d.path, "version": d.version or "unknown"}
        for d in meta.data_sources
    ]
    if sources:
        pcf["secondaryEmissionFactorSources"] = sources
    if primary_data_share is not None:
        pcf["primaryDataShare"] = decimal(primary_data_share)
    slug = "".join(c if c.isalnum() else "-" for c in company_name.strip().lower()).strip("-")
    return {
        "id": footprint_id or str(uuid.uuid4()),
        "specVersion": PACT_VERSION,
        "created": meta.date,
        "status": "Active",
        "companyName": company_name,
        "companyIds": list(company_ids or [f"urn:lcasolve:company:{slug or 'unnamed'}"]),
        "productDescription": product_description or f"{fp.functional_unit_label} ({pid})",
        "productIds": list(product_ids or [f"urn:lcasolve:product:{pid}"]),
        "productNameCompany": name,
        "comment": _comment(report, fossil_carbon_content, biogenic_carbon_content),
        "pcf": pcf,
    }


def write_pact(path: str | Path, document: Mapping[str, Any]) -> Path:
    """Validate ``document`` and write it as JSON, atomically; returns the path."""
    from lcasolve.io._atomic import atomic_path

    validate_pact(document)
    path = Path(path)
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def pact_schema() -> dict[str, Any]:
    """The JSON schema (lcasolve's own) of the PACT v3 ProductFootprint fields it writes."""
    text = resources.files("lcasolve.pcf").joinpath("data", _SCHEMA).read_text(encoding="utf-8")
    return dict(json.loads(text))


def validate_pact(document: Mapping[str, Any]) -> None:
    """Raise :class:`~lcasolve.errors.InputError` naming the first field that breaks the schema.

    Needs the optional package ``jsonschema`` (extra ``pact``).
    """
    try:
        import jsonschema
    except ImportError:
        raise MissingExtraError("jsonschema", "pact", "validating PACT footprints") from None
    validator = jsonschema.Draft202012Validator(pact_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(document)"
        raise InputError(f"PACT footprint invalid at {where}: {e.message}")


def _period(period: tuple[str, str] | None, year: str | None) -> tuple[str, str]:
    if period is not None:
        return str(period[0]), str(period[1])
    if year is None or not str(year).isdigit():
        raise InputError(
            "a PACT footprint needs its reference period: give the reference year "
            "(--reference-year) or the period"
        )
    y = int(year)
    return f"{y:04d}-01-01T00:00:00Z", f"{y + 1:04d}-01-01T00:00:00Z"


def _ipcc_report(version: str, category: str) -> str:
    import re

    m = re.search(r"\bAR(\d+)\b", version) or re.search(r"\bAR(\d+)\b", category)
    if m is None:
        raise InputError(
            f"the IPCC assessment report of the category {category!r} is not known; PACT "
            "requires it (use a shipped IPCC method)"
        )
    return f"AR{m.group(1)}"


def _exempted(report: Any) -> float:
    from lcasolve.pcf.report import DisclosureSection

    d = report.section(DisclosureSection)
    return 0.0 if d is None else d.gaps.estimated_share


def _exempted_text(report: Any) -> str:
    from lcasolve.pcf.report import DisclosureSection

    d = report.section(DisclosureSection)
    if d is None or not d.gaps.gaps:
        return "no input recorded as cut off in the data"
    return " ".join(d.gap_lines()[:1]) + " The percentage counts only the estimated ones."


def _comment(report: Any, fossil_c: float, biogenic_c: float | None) -> str:
    from lcasolve.pcf.report import DisclosureSection, GhgSection, MetadataSection

    meta = report.section(MetadataSection).metadata
    ghg = report.section(GhgSection)
    lines = [
        f"Computed by {meta.software} on {meta.date}; method {meta.method} ({meta.method_version})",
        ghg.convention_text(),
        "Carbon contents are not computed by lcasolve: fossilCarbonContent "
        f"{decimal(fossil_c)} and biogenicCarbonContent "
        f"{'not given' if biogenic_c is None else decimal(biogenic_c)} as supplied.",
    ]
    d = report.section(DisclosureSection)
    if d is not None:
        lines += [
            f"Assumption: {a.rule} ({a.amount:.4g} kg, {a.share:.1%} of the footprint)"
            for a in d.assumptions
            if a.share is not None
        ]
    return "\n".join(lines)
