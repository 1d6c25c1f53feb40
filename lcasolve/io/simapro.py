"""SimaPro CSV exports, parsed by ``bw_simapro_csv`` (extra ``simapro``).

bw_simapro_csv reads the file (header, delimiter, decimal separator, units, uncertainty as
stats_arrays fields) and evaluates the dataset, database and project parameters and every
amount's formula; this reader turns its process blocks into records for
:func:`lcasolve.io.assembly.assemble`:

- ``Products``: the first is the reference product, the others co-products, with their
  ``allocation`` percentages as physical allocation factors (one column per product, ids
  ``PROCESS/PRODUCT``); ``Avoided products`` are avoided outputs.
- ``Waste treatment``: the process treats that waste (its reference, an input of waste);
  ``Waste to treatment`` outputs link to it by name.
- ``Materials/fuels``, ``Electricity/heat``: product inputs, linked by SimaPro's product name
  to the process that makes that product (SimaPro links by name; the link policies apply).
- ``Resources`` (inputs) and the emission blocks (outputs) are elementary flows, one per
  (name, compartment, sub-compartment, unit).

Process ids are SimaPro's ``Process identifier`` (``FILE#k``, the k-th process of the file, when
absent); flow ids of products are their names. Waste scenarios are treatments of their waste
that pass it on: ``Separated waste`` percentages of the waste, then ``Remaining waste``
percentages of the rest, each section's fractions matched to the scenario's waste by waste type
as SimaPro does (:func:`_fractions`; fractions of other types, and waste no fraction treats, are
listed in the link report). Parameters: the database, project and process input parameters (with
their distributions) and calculated parameters, and each amount's formula, in SimaPro's own
names and syntax, are parsed by :mod:`lcasolve.parameters` (``system.parameters``;
``system.with_parameters({...})`` re-evaluates them); the amounts read are bw_simapro_csv's
evaluation, and each formula is also listed in ``metadata["formulas"]``. A formula lcasolve's
parser refuses is a problem naming file and line. A method export given with a process export
gives its impact and damage categories (``"METHOD | CATEGORY"``, see :func:`_categories`); a
method export alone is an error naming it.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve.errors import DataFileError, InputError, MissingExtraError
from lcasolve.io.assembly import assemble
from lcasolve.io.distributions import no_distribution, scaled
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import LinkReport, Problems, entry
from lcasolve.io.units import conversion_factor
from lcasolve.model import System

__all__ = ["read", "sniff"]

_PRODUCT_INPUTS = ("Materials/fuels", "Electricity/heat")
_ELEMENTARY_OUTPUTS = (
    "Emissions to air",
    "Emissions to water",
    "Emissions to soil",
    "Final waste flows",
    "Non material emissions",
    "Social issues",
    "Economic issues",
)
_FIELDS = ("uncertainty type", "loc", "scale", "shape", "minimum", "maximum", "negative")


def sniff(path: Path) -> bool:
    """A ``.csv`` or ``.txt`` file whose first line is a SimaPro header (``{SimaPro ...}``)."""
    if path.suffix.lower() not in (".csv", ".txt") or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.lstrip(b"\xef\xbb\xbf").lstrip().lower().startswith(b"{simapro")


def _parse_file(path: Path) -> Any:
    try:
        from bw_simapro_csv import SimaProCSV
    except ImportError:
        raise MissingExtraError("bw-simapro-csv", "simapro", "reading SimaPro CSV") from None
    try:
        # read here and parse from memory: the parser leaves its own file handle open
        with path.open(encoding="sloppy-windows-1252") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot be read ({exc})") from None
    try:
        return SimaProCSV(io.StringIO(text), stderr_logs=False, write_logs=False)
    except Exception as exc:  # the parser raises ValueError, pydantic errors, KeyError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(
            f"{path}:{_line_of(path, exc)}: not a readable SimaPro CSV ({first})"
        ) from None


def _line_of(path: Path, exc: Exception) -> int:
    """The line the parser's message points at: a quoted line's content, else 1 (the header)."""
    text = str(exc)
    if "SimaProCSVHeader" in text or "database name" in text:
        return 1
    m = re.search(r"Line (\[.*?\])", text)
    if m:
        cells = [c.strip().strip("'\"") for c in m.group(1).strip("[]").split(",")]
        lines = path.read_text(encoding="latin-1", errors="replace").splitlines()
        for k, line in enumerate(lines, start=1):
            if [c.strip() for c in re.split(r"[;\t]", line)][: len(cells)] == cells:
                return k
    return 1


def _record(row: dict[str, Any], amount: float) -> np.void | None:
    kind = int(row.get("uncertainty type", 0) or 0)
    if kind in (0, 1):
        return None
    rec = no_distribution(amount)
    for f in _FIELDS:
        if f in row and row[f] is not None:
            rec["uncertainty_type" if f == "uncertainty type" else f] = row[f]
    return rec


def _process(
    block: Any,
    where: str,
    fallback: str,
    flows: dict[str, FlowRecord],
    formulas: list[dict[str, Any]],
    decimal: str = ".",
    problems: Problems | None = None,
    report: list[dict[str, Any]] | None = None,
) -> ProcessRecord:
    meta = block.parsed["metadata"]
    pid = str(meta.get("Process identifier") or fallback)
    blocks = block.blocks
    products = list(getattr(blocks.get("Products"), "parsed", []) or [])
    treats = [
        *(getattr(blocks.get("Waste treatment"), "parsed", []) or []),
        *(getattr(blocks.get("Waste scenario"), "parsed", []) or []),
    ]
    name = str(meta.get("Process name") or (products or treats or [{"name": pid}])[0]["name"])
    p = ProcessRecord(
        id=pid,
        name=name,
        category=str(meta.get("Category type", "")),
        type="LCI_RESULT" if meta.get("Type") == "System" else "UNIT_PROCESS",
        where=f"{where} (process {pid})",
    )

    def add(row: dict[str, Any], kind: str, is_input: bool, **flags: Any) -> None:
        fname = str(row["name"])
        unit = str(row.get("unit", ""))
        if kind == "elementary":
            context = tuple(x for x in row.get("context", ()) if x)
            fid = " | ".join((fname, *context, unit))
            compartment = "/".join(context)
        else:
            fid, compartment = fname, ""
        old = flows.get(fid)
        line = row.get("line_no", "")
        ewhere = f"{where}:{line} (process {pid})"
        # a product met in another unit than before: converted to the first one's unit
        known = unit if old is None else old.unit
        factor = conversion_factor(unit, known)
        if factor is None:
            raise DataFileError(
                f"{ewhere}: {fname!r} is in {unit!r} here but in {known!r} elsewhere "
                f"(no conversion between them; lcasolve/io/data/units.csv lists the known units)"
            )
        if old is None or (kind == "waste" and old.kind == "product"):
            flows[fid] = FlowRecord(
                id=fid,
                name=fname,
                kind=kind,
                unit=known,
                compartment=compartment,
                cas=str(row.get("cas_number", "") or ""),
                direction=("input" if is_input else "output") if kind == "elementary" else "",
            )
        amount = float(row["amount"]) * factor
        if row.get("formula"):
            formulas.append(
                {
                    "process": pid,
                    "flow": fid,
                    "line": line,
                    "formula": row["formula"],
                    "amount": amount,
                }
            )
        p.exchanges.append(
            ExchangeRecord(
                flow=fid,
                amount=amount,
                is_input=is_input,
                uncertainty=scaled(_record(row, float(row["amount"])), factor),
                id=f"line {line}",
                where=ewhere,
                formula=_formula_text(row),
                # the formula gives the amount in the file's unit; bw_simapro_csv converted it
                formula_scale=float(row.get("unit conversion factor", 1.0)) * factor,
                **flags,
            )
        )

    for k, row in enumerate(products):
        add(row, "product", False, is_reference=k == 0)
    for k, row in enumerate(treats):
        add(row, "waste", True, is_reference=k == 0 and not products)
    if len(products) > 1:
        p.allocation["physical"] = {
            str(r["name"]): float(r.get("allocation", 0.0)) / 100.0 for r in products
        }
        p.default_allocation = "physical"
    for row in getattr(blocks.get("Avoided products"), "parsed", []) or []:
        add(row, "product", False, is_avoided=True)
    for section in _PRODUCT_INPUTS:
        for row in getattr(blocks.get(section), "parsed", []) or []:
            add(row, "product", True)
    for row in getattr(blocks.get("Waste to treatment"), "parsed", []) or []:
        add(row, "waste", False)
    for row in getattr(blocks.get("Resources"), "parsed", []) or []:
        add(row, "elementary", True)
    for section in _ELEMENTARY_OUTPUTS:
        for row in getattr(blocks.get(section), "parsed", []) or []:
            add(row, "elementary", False)
    for section in ("Input parameters", "Calculated parameters"):
        rows = getattr(blocks.get(section), "parsed", []) or []
        p.parameters += _parameters(rows, pid, where, decimal, problems or Problems(True))
    _scenario_shares(p, blocks, flows, [] if report is None else report)
    return p


def _formula_text(row: dict[str, Any]) -> str:
    """SimaPro's formula of a row as written, with ``**`` (accepted by SimaPro) as ``^``."""
    return str(row.get("original_formula") or "").strip().replace("**", "^")


def _file_decimal(parsed: Any, declared: str) -> str:
    """The decimal mark of a file's formulas: the header's, unless only ``.`` parses them all.

    SimaPro files declaring a decimal comma may still write formulas with points (bw_simapro_csv's
    ``waste.csv``: ``1034*0.6684*0.59*0.03`` under ``{Decimal separator: ,}``).
    """
    if declared == ".":
        return declared
    from lcasolve.errors import FormulaError
    from lcasolve.parameters import Formula

    texts: list[str] = []
    for b in parsed.blocks:
        rows = list(getattr(b, "parsed", []) or []) if isinstance(b.parsed, list) else []
        for sub in getattr(b, "blocks", {}).values():
            rows += list(getattr(sub, "parsed", []) or [])
        texts += [t for r in rows if isinstance(r, dict) and (t := _formula_text(r))]

    def parses(mark: str) -> bool:
        try:
            for t in texts:
                Formula.parse(t, decimal=mark)
        except FormulaError:
            return False
        return True

    return "." if texts and not parses(declared) and parses(".") else declared


#: SimaPro's compartments in methods -> the process export's elementary sections
_METHOD_COMPARTMENTS = {
    "air": "Emissions to air",
    "water": "Emissions to water",
    "soil": "Emissions to soil",
    "raw": "Resources",
    "raw materials": "Resources",
    "waste": "Final waste flows",
    "non mat.": "Non material emissions",
    "non material": "Non material emissions",
    "social": "Social issues",
    "economic": "Economic issues",
}
_UNSPECIFIED = ("", "(unspecified)", "unspecified")


def _categories(parsed: Any, path: Path, flows: Mapping[str, FlowRecord]) -> list[Any]:
    """The impact and damage categories of a method export, as factors per flow of ``flows``.

    A factor for ``(COMPARTMENT, SUBCOMPARTMENT, NAME)`` applies to the elementary flows of that
    name in the matching section of the process export (``Air`` -> ``Emissions to air``, ...);
    a factor for ``(unspecified)`` applies to every sub-compartment without a factor of its own.
    Factors are per the factor's unit and converted to the flow's unit
    (:mod:`lcasolve.io.units`); a unit of another dimension leaves the factor out. Damage
    categories are the weighted sums of their impact categories. Category ids and names:
    ``"METHOD | CATEGORY"``.
    """
    from lcasolve.io.assembly import Category
    from lcasolve.io.units import conversion_factor

    method = next(
        (str(b.parsed.get("Name") or "") for b in parsed.blocks if type(b).__name__ == "Method"),
        path.stem,
    )
    by_key: dict[tuple[str, str, str], list[FlowRecord]] = {}
    for f in flows.values():
        if f.kind != "elementary":
            continue
        top, _, sub = f.compartment.partition("/")
        by_key.setdefault((top.lower(), sub.lower(), f.name.lower()), []).append(f)
    impacts: dict[str, dict[str, float]] = {}
    out = []
    for b in parsed.blocks:
        kind = type(b).__name__
        if kind not in ("ImpactCategory", "DamageCategory"):
            continue
        name = f"{method} | {b.parsed['name']}"
        factors: dict[str, float] = {}
        if kind == "ImpactCategory":
            specific: set[tuple[str, str]] = set()
            cfs = sorted(b.parsed["cfs"], key=lambda c: str(c["context"][1]) in _UNSPECIFIED)
            for cf in cfs:
                top = _METHOD_COMPARTMENTS.get(str(cf["context"][0]).strip().lower(), "").lower()
                sub = str(cf["context"][1]).strip().lower()
                cname = str(cf["name"]).lower()
                if sub in _UNSPECIFIED:
                    hits = [
                        f
                        for (t, s2, n), fs in by_key.items()
                        if t == top and n == cname and (s2, n) not in specific
                        for f in fs
                    ]
                else:
                    specific.add((sub, cname))
                    hits = by_key.get((top, sub, cname), [])
                for f in hits:
                    scale = conversion_factor(f.unit, str(cf["unit"]))
                    if scale is not None and f.id not in factors:
                        factors[f.id] = float(cf["factor"]) * scale
            impacts[str(b.parsed["name"])] = factors
        else:
            for part in b.parsed["impact_categories"]:
                for fid, v in impacts.get(str(part["name"]), {}).items():
                    factors[fid] = factors.get(fid, 0.0) + float(part["factor"]) * v
        out.append(
            Category(id=name, name=name, unit=str(b.parsed.get("unit") or ""), factors=factors)
        )
    return out


#: the file-level parameter blocks (global scope)
_GLOBAL_PARAMETERS = (
    "DatabaseInputParameters",
    "DatabaseCalculatedParameters",
    "ProjectInputParameters",
    "ProjectCalculatedParameters",
)


def _parameters(
    rows: Sequence[dict[str, Any]], scope: Any, where: str, decimal: str, problems: Problems
) -> list[Any]:
    """Input and calculated parameters as :class:`lcasolve.parameters.Parameter`.

    Names and formulas are SimaPro's own (``original_name``, ``original_formula``), parsed by
    :class:`lcasolve.parameters.Formula` with the file's decimal mark; input parameters keep
    their distributions. A formula that does not parse is a problem naming file and line.
    """
    from lcasolve.parameters import Formula, Parameter

    out = []
    for row in rows:
        name = str(row.get("original_name") or row.get("name") or "")
        pwhere = f"{where}:{row.get('line_no', '?')} (parameter {name!r})"
        text = _formula_text(row)

        def one(
            row: dict[str, Any] = row, name: str = name, pw: str = pwhere, t: str = text
        ) -> Any:
            value = float(row.get("amount", float("nan")))
            note = str(row.get("comment") or "")
            if t:
                return Parameter(
                    name, value, Formula.parse(t, decimal=decimal, where=pw), scope, None, note
                )
            rec = _record(row, value)
            return Parameter(
                name, value, None, scope, None if rec is None else np.asarray(rec), note
            )

        got = problems.guard(one)
        if got is not None:
            out.append(got)
    return out


#: waste types that stand for every waste (SimaPro's "All waste types"; empty, "not defined")
_ALL_WASTE_TYPES = ("", "all waste types", "not defined", "unspecified")


def _fractions(
    rows: Sequence[dict[str, Any]], waste: str, waste_type: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The fractions of a ``Separated waste``/``Remaining waste`` section that apply to a waste.

    SimaPro separates a waste by the waste type of its material, with the best-matching
    fractions: those whose waste type is the waste's own name, else those of its waste type,
    else those for all waste types (empty, ``All waste types``, ``not defined``). A waste of no
    specific type is separated by the all-types fractions only: a process export does not say
    what materials such a waste holds, so a ``Paper`` fraction is not taken as applying to all
    of it (the earlier reading, which applied every fraction to the whole waste). openLCA's
    SimaPro import reads the fractions the same way. Returns ``(applied, left out)``.
    """

    def key(text: object) -> str:
        return str(text or "").strip().lower()

    kind = key(waste_type)
    for wanted in (key(waste), kind if kind not in _ALL_WASTE_TYPES else None):
        hits = [r for r in rows if wanted is not None and key(r.get("waste_type")) == wanted]
        if hits:
            break
    else:
        hits = [r for r in rows if key(r.get("waste_type")) in _ALL_WASTE_TYPES]
    return hits, [r for r in rows if not any(r is h for h in hits)]


def _scenario_shares(
    p: ProcessRecord,
    blocks: dict[str, Any],
    flows: dict[str, FlowRecord],
    report: list[dict[str, Any]],
) -> None:
    """Send a waste scenario's waste to its treatments, by waste type.

    Of each section the fractions that match the scenario's waste (:func:`_fractions`) apply:
    ``Separated waste`` percentages of the waste first, then ``Remaining waste`` percentages of
    what is left. Fractions of other waste types are listed in ``report`` (issue ``waste type
    not matched``), as is a share of the waste that no fraction treats (``waste not treated``).
    """
    scenario = getattr(blocks.get("Waste scenario"), "parsed", []) or []
    if not scenario:
        return
    ref = next(e for e in p.exchanges if e.is_reference)
    waste, waste_type = str(scenario[0].get("name", "")), str(scenario[0].get("waste_type") or "")
    left = 1.0
    for section in ("Separated waste", "Remaining waste"):
        rows = getattr(blocks.get(section), "parsed", []) or []
        applied, others = _fractions(rows, waste, waste_type)
        for row in others:
            line = row.get("line_no", "")
            report.append(
                {
                    **entry("waste type not matched", "left out", p, None, flows),
                    "exchange": f"line {line}",
                    "flow": str(row["waste_treatment"]),
                    "flow_name": str(row["waste_treatment"]),
                    "amount": float(row["amount"]),
                    "detail": f"{p.where}, line {line} ({section}): {row['amount']} % of waste "
                    f"type {row.get('waste_type')!r}; the scenario's waste {waste!r} is of "
                    f"type {waste_type or 'none'!r}",
                }
            )
        shares = []
        for row in applied:
            share = float(row["amount"]) / 100.0 * (left if section == "Remaining waste" else 1.0)
            shares.append(share)
            treatment = str(row["waste_treatment"])
            if treatment not in flows:
                flows[treatment] = FlowRecord(treatment, treatment, "waste", flows[ref.flow].unit)
            p.exchanges.append(
                ExchangeRecord(
                    flow=treatment,
                    amount=ref.amount * share,
                    is_input=False,
                    id=f"line {row.get('line_no', '')}",
                    where=f"{p.where}, line {row.get('line_no', '')} ({section})",
                )
            )
        left -= sum(shares)
    if left > 1e-9:
        report.append(
            {
                **entry("waste not treated", "cut off", p, ref, flows),
                "amount": ref.amount * left,
                "detail": f"{left:.6g} of the waste {waste!r} (type {waste_type or 'none'!r}) "
                "matches no separated or remaining fraction",
            }
        )


def read(
    paths: Sequence[str | os.PathLike[str]],
    *,
    ambiguous: str = "prefer",
    unlinked: str = "cutoff",
    allocation: str = "process",
    strict: bool = True,
    **unused: Any,
) -> System:
    """Read SimaPro CSV process exports into one system, linked by product name.

    Parameters
    ----------
    paths : sequence of path-like
        SimaPro CSV files.
    ambiguous, unlinked, allocation, strict
        See :class:`lcasolve.io.linking.LinkOptions`.

    Returns
    -------
    System
        ``metadata["formulas"]`` lists each amount computed from a formula (process, flow,
        line, formula, evaluated amount).

    Raises
    ------
    MissingExtraError
        Without bw-simapro-csv (``pip install 'lcasolve[simapro]'``).
    DataFileError
        A file the parser cannot read (naming file and line), or one without processes.
    """
    del unused
    options = LinkOptions(ambiguous, unlinked, allocation, strict)
    problems = Problems(strict)
    flows: dict[str, FlowRecord] = {}
    processes: list[ProcessRecord] = []
    formulas: list[dict[str, Any]] = []
    parameters: list[Any] = []
    methods: list[tuple[Path, Any]] = []
    decimal = "."
    counts: Counter[str] = Counter()
    seen: dict[str, ProcessRecord] = {}
    waste: list[dict[str, Any]] = []  # waste-scenario fractions left out, untreated shares
    for path in map(Path, paths):
        if not path.is_file():
            raise DataFileError(f"{path}: no such SimaPro CSV file")
        parsed = _parse_file(path)
        found = [b for b in parsed.blocks if type(b).__name__ == "Process"]
        decimal = _file_decimal(parsed, str(parsed.header.get("decimal_separator") or "."))
        for b in parsed.blocks:
            if type(b).__name__ in _GLOBAL_PARAMETERS:
                parameters += _parameters(b.parsed, None, str(path), decimal, problems)
        impacts = [b for b in parsed.blocks if type(b).__name__ == "ImpactCategory"]
        if impacts:
            methods.append((path, parsed))
        if not found:
            if impacts:
                continue
            raise DataFileError(
                f"{path}: no process in this SimaPro CSV file (kind "
                f"{getattr(parsed.header.get('kind'), 'value', parsed.header.get('kind'))!r})"
            )
        for k, block in enumerate(found, start=1):
            p = _process(
                block, str(path), f"{path.name}#{k}", flows, formulas, decimal, problems, waste
            )
            counts["processes"] += 1
            counts["exchanges"] += len(p.exchanges)
            if p.id in seen:
                problems.add(
                    DataFileError(
                        f"{p.where}: process identifier {p.id!r} is also used by process "
                        f"{seen[p.id].name!r} ({seen[p.id].where}); the second is left out"
                    )
                )
                continue
            seen[p.id] = p
            if not any(e.is_reference for e in p.exchanges):
                problems.add(
                    InputError(f"{p.where}: process {p.name!r} has no product or treated waste")
                )
                continue
            processes.append(p)
    if not processes:
        listing = ", ".join(str(p) for p, _ in methods)
        raise DataFileError(
            f"{listing}: no process in this SimaPro CSV file (kind 'methods'); give the method "
            f"file with a process export to read its impact categories"
        )
    categories = [c for path, parsed in methods for c in _categories(parsed, path, flows)]
    counts["impact categories"] = len(categories)
    system = assemble(
        processes,
        flows,
        options,
        categories=categories,
        problems=problems,
        metadata={
            "format": "simapro",
            "files": [str(p) for p in paths],
            "counts": dict(counts),
            "formulas": formulas,
        },
        parameters=parameters,
        decimal=decimal,
    )
    if not waste:
        return system
    kept = {p.id for p in processes}
    meta = dict(system.metadata)
    meta["link_report"] = LinkReport(
        [*meta["link_report"], *(e for e in waste if e["process"] in kept)]
    )
    return replace(system, metadata=meta)
