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
absent); flow ids of products are their names. Waste scenarios are read as treatments of their
waste; their ``Separated waste`` and ``Remaining waste`` shares are not applied. Formulas
are bw_simapro_csv's evaluation (amounts as evaluated; the formula text is kept with each
exchange in ``metadata["formulas"]``). Impact methods in the file are not read as categories.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve.errors import DataFileError, InputError, MissingExtraError
from lcasolve.io.assembly import assemble
from lcasolve.io.distributions import no_distribution
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import Problems
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
        if old is None or (kind == "waste" and old.kind == "product"):
            flows[fid] = FlowRecord(
                id=fid,
                name=fname,
                kind=kind,
                unit=unit,
                compartment=compartment,
                cas=str(row.get("cas_number", "") or ""),
                direction=("input" if is_input else "output") if kind == "elementary" else "",
            )
        amount = float(row["amount"])
        line = row.get("line_no", "")
        ewhere = f"{where}:{line} (process {pid})"
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
                uncertainty=_record(row, amount),
                id=f"line {line}",
                where=ewhere,
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
    return p


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
    counts: Counter[str] = Counter()
    seen: dict[str, ProcessRecord] = {}
    for path in map(Path, paths):
        if not path.is_file():
            raise DataFileError(f"{path}: no such SimaPro CSV file")
        parsed = _parse_file(path)
        found = [b for b in parsed.blocks if type(b).__name__ == "Process"]
        if not found:
            raise DataFileError(
                f"{path}: no process in this SimaPro CSV file (kind "
                f"{getattr(parsed.header.get('kind'), 'value', parsed.header.get('kind'))!r})"
            )
        for k, block in enumerate(found, start=1):
            p = _process(block, str(path), f"{path.name}#{k}", flows, formulas)
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
    return assemble(
        processes,
        flows,
        options,
        problems=problems,
        metadata={
            "format": "simapro",
            "files": [str(p) for p in paths],
            "counts": dict(counts),
            "formulas": formulas,
        },
    )
