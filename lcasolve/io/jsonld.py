"""openLCA JSON-LD reader (olca-schema v1 and v2), zip files and folders.

Several inputs are read together: processes in one file may name providers or units in another
(e.g. the uslci-transport and uslci-rail zips with the USLCI zip for the openLCA reference units).
Files passed as ``reference_data`` contribute only units, unit groups, flow properties, flows and
categories, not processes.

Amounts are converted to each flow's reference unit:
``amount × unit.conversionFactor / flowPropertyFactor.conversionFactor`` (the flow's factor for the
exchange's flow property, relative to its reference flow property). Uncertainty becomes a
stats_arrays record: ``LOG_NORMAL_DISTRIBUTION`` (``geomMean``, ``geomSd``) → 2 with
``loc = ln geomMean``, ``scale = ln geomSd``; ``NORMAL_DISTRIBUTION`` (``mean``, ``sd``) → 3;
``UNIFORM_DISTRIBUTION`` → 4; ``TRIANGLE_DISTRIBUTION`` → 5; all scaled by the unit conversion.
With ``pedigree=True`` (default off) an exchange's five-score data-quality entry
(``pedigreeUncertainty`` in v1, ``dqEntry`` in v2, e.g. ``"(1;2;1;3;1)"``) makes it lognormal with
``σ² = σ_b² + Σ σ_i²``, the ``σ_i²`` from the ecoinvent v3 table
(:mod:`lcasolve.uncertainty.pedigree`). The basic variance ``σ_b²`` is ``ln(geomSd)²`` of the
exchange's own lognormal, else ``ln(baseUncertainty)²`` (openLCA stores the basic uncertainty as a
geometric standard deviation, 1 when none was entered). Normal, uniform and triangular exchanges
keep their distribution.

Problems name the file, the process and the exchange: :class:`~lcasolve.errors.DataFileError`
(truncated zip, invalid JSON), :class:`~lcasolve.errors.MissingReferenceError` (a flow, unit, flow
property or unit group no input defines), :class:`~lcasolve.errors.InvalidProductionError` (a zero
or missing quantitative reference), :class:`~lcasolve.errors.InvalidUncertaintyError` (unknown
distribution, invalid parameters). With ``strict=False`` they are collected in
``metadata["problems"]`` and the exchange (or, for a broken reference, the process) is left out;
an invalid distribution drops only the distribution.

Reference data (unit groups, flow properties, categories, flows) and unit conversion:
:mod:`lcasolve.io.jsonld_reference`. Linking, allocation and the link report:
:mod:`lcasolve.io.assembly`.
"""

from __future__ import annotations

import json
import math
import os
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
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
    MissingReferenceError,
)
from lcasolve.io._fields import (
    field_flag,
    field_list,
    field_number,
    field_object,
    field_ref_id,
)
from lcasolve.io._files import member_names, open_zip, read_member
from lcasolve.io.assembly import assemble
from lcasolve.io.distributions import bounded, lognormal, normal, pedigree_or_none
from lcasolve.io.jsonld_reference import Reference, conversion, flow_record, location_name
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, ProcessRecord
from lcasolve.io.report import Problems, strict_hint
from lcasolve.model import System

__all__ = ["read", "sniff"]

_FOLDERS = ("processes", "flows", "flow_properties", "unit_groups", "categories")
_ALLOCATION = {
    "PHYSICAL_ALLOCATION": "physical",
    "ECONOMIC_ALLOCATION": "economic",
    "CAUSAL_ALLOCATION": "causal",
}


def sniff(path: Path) -> bool:
    """A zip or folder with a ``processes/`` folder of JSON files (and no ILCD XML)."""
    names = member_names(path)
    return names is not None and any(
        n.lstrip("./").startswith("processes/") and n.endswith(".json") for n in names
    )


def _loads(raw: bytes) -> Any:
    """Parse one JSON document (orjson when installed: about twice as fast as the json module)."""
    try:
        import orjson
    except ImportError:
        return json.loads(raw.decode("utf-8"))
    return orjson.loads(raw)


def _members(
    path: Path,
    problems: Problems,
    *,
    only: Sequence[str] = _FOLDERS,
    skip: Sequence[str] = (),
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(folder, location, parsed JSON)`` for the JSON files of the folders lcasolve reads.

    A file that cannot be read or parsed is a :class:`DataFileError` for ``problems`` (raised
    when strict, else listed and skipped); an unreadable zip always raises.
    """
    wanted = [f for f in only if f not in skip]
    if path.is_dir():
        for folder in wanted:
            for f in sorted((path / folder).glob("*.json")):
                where = f"{path}/{folder}/{f.name}"
                data = _parse(where, f.read_bytes, problems)
                if data is not None:
                    yield folder, where, data
        return
    with open_zip(path) as z:
        for info in z.infolist():
            folder, _, name = info.filename.lstrip("./").partition("/")
            if folder not in wanted or not name.endswith(".json"):
                continue
            where = f"{path}:{info.filename}"
            data = _parse(where, partial(read_member, z, info, where), problems)
            if data is not None:
                yield folder, where, data


def _count_processes(path: Path) -> int:
    """Number of process files (for the progress bar)."""
    if path.is_dir():
        return sum(1 for _ in (path / "processes").glob("*.json"))
    with open_zip(path) as z:
        names = (n.lstrip("./") for n in z.namelist())
        return sum(1 for n in names if n.startswith("processes/") and n.endswith(".json"))


def _parse(where: str, read: Callable[[], bytes], problems: Problems) -> dict[str, Any] | None:
    try:
        data = _loads(read())
    except ValueError as exc:  # json.JSONDecodeError, orjson.JSONDecodeError, bad UTF-8
        problems.add(DataFileError(f"{where}: invalid JSON ({exc})"))
        return None
    except RecursionError:
        problems.add(DataFileError(f"{where}: JSON nested too deeply to be an olca-schema file"))
        return None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        problems.add(DataFileError(f"{where}: cannot be read ({exc})"))
        return None
    if not isinstance(data, dict):
        problems.add(DataFileError(f"{where}: not a JSON object"))
        return None
    if not isinstance(data.get("@id", ""), str):
        problems.add(DataFileError(f"{where}: '@id' must be a string, not {data['@id']!r:.60}"))
        return None
    return data


def _num(u: dict[str, Any], key: str, where: str) -> float:
    try:
        v = float(u[key])
    except (KeyError, TypeError, ValueError):
        raise InvalidUncertaintyError(f"{where}: uncertainty needs a numeric {key!r}") from None
    if not math.isfinite(v):
        raise InvalidUncertaintyError(f"{where}: uncertainty {key!r} is {v}")
    return v


def _uncertainty(
    ex: dict[str, Any], amount: float, factor: float, where: str, pedigree: bool
) -> np.void | None:
    """stats_arrays record of the converted amount, or None (no uncertainty)."""
    u = field_object(ex, "uncertainty", where)
    kind = u.get("distributionType", "") or ""
    entry = (ex.get("pedigreeUncertainty") or ex.get("dqEntry")) if pedigree else None
    if kind in ("", "NO_DISTRIBUTION") and not entry:
        return None
    variance: float | None = None
    if kind == "LOG_NORMAL_DISTRIBUTION":
        gsd = _num(u, "geomSd", where)
        if gsd < 0 or 0 < gsd < 1:
            raise InvalidUncertaintyError(f"{where}: geomSd {gsd} must be >= 1")
        # openLCA exports 0 for a geometric standard deviation that was never entered
        variance = math.log(gsd) ** 2 if gsd > 0 else None
    elif kind == "NORMAL_DISTRIBUTION":
        sd = _num(u, "sd", where)
        if sd <= 0:  # checked in the source unit, so that the message shows the file's value
            raise InvalidUncertaintyError(f"{where}: normal sd {sd} must be > 0")
        mean = _num(u, "mean", where) * factor if "mean" in u else None
        return normal(amount, sd * abs(factor), mean=mean, where=where)
    elif kind in ("UNIFORM_DISTRIBUTION", "TRIANGLE_DISTRIBUTION"):
        triangle = kind == "TRIANGLE_DISTRIBUTION"
        lo, hi = _num(u, "minimum", where) * factor, _num(u, "maximum", where) * factor
        if factor < 0:
            lo, hi = hi, lo
        mode = _num(u, "mode", where) * factor if triangle else None
        return bounded(amount, kind, lo, hi, mode, where)
    elif kind not in ("", "NO_DISTRIBUTION"):
        raise InvalidUncertaintyError(
            f"{where}: unknown distributionType {kind!r} (LOG_NORMAL_DISTRIBUTION, "
            f"NORMAL_DISTRIBUTION, UNIFORM_DISTRIBUTION, TRIANGLE_DISTRIBUTION)"
        )
    median = abs(_num(u, "geomMean", where) * factor) if u.get("geomMean") else None
    if entry and variance is None:
        # the stated geomSd is the basic uncertainty; without one, openLCA's baseUncertainty
        # (a geometric standard deviation, 1 when not entered) gives it
        base = _num(ex, "baseUncertainty", where) if "baseUncertainty" in ex else 1.0
        if base <= 0:
            raise InvalidUncertaintyError(f"{where}: baseUncertainty {base} must be > 0")
        variance = math.log(base) ** 2
    if variance is None:
        return None
    return lognormal(
        amount, variance, median=median, pedigree=str(entry) if entry else None, where=where
    )


def _process(
    data: dict[str, Any], where: str, ref: Reference, pedigree: bool, problems: Problems
) -> tuple[ProcessRecord, int]:
    pid = data.get("@id", "")
    location = location_name(data.get("location"))
    p = ProcessRecord(
        id=pid,
        name=data.get("name", ""),
        location=location,
        type=data.get("processType", "UNIT_PROCESS"),
        default_allocation=_ALLOCATION.get(data.get("defaultAllocationMethod") or ""),
        category=ref.category_path(data.get("category")),
        where=f"{where} (process {pid})",
    )
    conversions = 0

    def _checked_uncertainty(
        ex: dict[str, Any], amount: float, factor: float, where: str
    ) -> np.void | None:
        """Invalid distributions stop a strict read; otherwise they are listed and dropped."""
        try:
            return _uncertainty(ex, amount, factor, where, pedigree)
        except InvalidUncertaintyError as exc:
            if problems.strict:
                raise strict_hint(exc) from None
            problems.add(InvalidUncertaintyError(f"{exc}; the distribution is dropped"))
            return None

    for i, ex in enumerate(field_list(data, "exchanges", where)):
        eid = ex.get("@id") or str(ex.get("internalId", i))
        ewhere = f"{where} (process {pid}, exchange {eid})"

        def one(
            ex: dict[str, Any] = ex, eid: str = eid, ewhere: str = ewhere
        ) -> tuple[ExchangeRecord, float]:
            fid = field_ref_id(ex, "flow", ewhere)
            if fid not in ref.flows:
                name = field_object(ex, "flow", ewhere).get("name", "")
                label = f"{name!r} ({fid})" if name else str(fid)
                raise MissingReferenceError(f"{ewhere}: the flow {label} is not in the data")
            amount = field_number(ex, "amount", ewhere, 0.0)
            is_reference = field_flag(
                ex, ("isQuantitativeReference", "quantitativeReference"), ewhere
            )
            if is_reference and amount < 0:
                raise InvalidProductionError(
                    f"{ewhere}: the quantitative reference has the negative amount {amount}; "
                    f"a reference flow is given as a positive amount (an input for waste "
                    f"treatment is marked with isInput)"
                )
            factor = conversion(ref, ex, fid, ewhere)
            rec = ExchangeRecord(
                flow=fid,
                amount=amount * factor,
                is_input=field_flag(ex, ("isInput", "input"), ewhere),
                is_reference=is_reference,
                is_avoided=field_flag(ex, ("isAvoidedProduct", "avoidedProduct"), ewhere),
                provider=field_ref_id(ex, "defaultProvider", ewhere),
                uncertainty=_checked_uncertainty(ex, amount * factor, factor, ewhere),
                id=eid,
                where=ewhere,
                formula=str(ex.get("amountFormula") or "").strip(),
                formula_scale=factor,
                pedigree=pedigree_or_none(ex.get("pedigreeUncertainty") or ex.get("dqEntry")),
            )
            return rec, factor

        got = problems.guard(one)
        if got is None:
            if ex.get("isQuantitativeReference") or ex.get("quantitativeReference"):
                raise _SkipProcess
            continue
        conversions += got[1] != 1.0
        p.exchanges.append(got[0])
    p.parameters = _parameters(data.get("parameters") or [], pid, where, problems)
    for f in data.get("allocationFactors", []):
        method = _ALLOCATION.get(f.get("allocationType", ""))
        product = (f.get("product") or {}).get("@id") or f.get("productId")  # v2 or v1
        if method is None or product is None:
            continue
        value = field_number(f, "value", f"{where} (allocation factors)", 0.0)
        if method == "causal":
            flow = ((f.get("exchange") or {}).get("flow") or {}).get("@id")
            if flow:
                p.causal[(product, flow)] = value
        else:
            p.allocation.setdefault(method, {})[product] = value
    return p, conversions


def _parameters(items: list[Any], scope: str | None, where: str, problems: Problems) -> list[Any]:
    """Parameters of a process (``scope`` its id) or global ones (``scope`` None).

    An input parameter (``isInputParameter`` true, or no formula) keeps its value and
    distribution; a dependent one its formula (and the value openLCA stored, if any).
    USLCI-transport writes ``isInputParameter`` as the text ``"FALSE"``.
    """
    from lcasolve.parameters import Formula, Parameter

    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or "")
        pwhere = f"{where} (parameter {name!r})"
        flag = item.get("isInputParameter", item.get("inputParameter"))
        is_input = flag is True or str(flag).strip().lower() == "true"
        text = str(item.get("formula") or "").strip()

        def one(
            item: dict[str, Any] = item,
            name: str = name,
            pwhere: str = pwhere,
            is_input: bool = is_input,
            text: str = text,
        ) -> Any:
            raw = item.get("value")
            try:
                value = float(raw) if raw is not None else float("nan")
            except (TypeError, ValueError):
                raise DataFileError(f"{pwhere}: value {raw!r} is not a number") from None
            if is_input or not text:
                record = _uncertainty(item, value, 1.0, pwhere, False)
                unc = None if record is None else np.asarray(record)
                return Parameter(name, value, None, scope, unc, str(item.get("description") or ""))
            formula = Formula.parse(text, where=pwhere)
            return Parameter(name, value, formula, scope, None, str(item.get("description") or ""))

        got = problems.guard(one)
        if got is not None:
            out.append(got)
    return out


def _redefinitions(data: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Named parameter sets of a product system: name -> {"NAME" or "PROCESS_ID/NAME": value}."""
    sets: dict[str, dict[str, float]] = {}
    groups = data.get("parameterSets") or []
    if data.get("parameterRedefs"):  # olca-schema v1: one unnamed set
        groups = [{"name": "baseline", "parameters": data["parameterRedefs"]}, *groups]
    for group in groups:
        values: dict[str, float] = {}
        for redef in group.get("parameters") or []:
            context = (redef.get("context") or {}).get("@id")
            name = str(redef.get("name") or "").strip()
            if not name or redef.get("value") is None:
                continue
            key = (
                f"{context}/{name}"
                if context and (redef.get("context") or {}).get("@type", "Process") == "Process"
                else name
            )
            values[key] = float(redef["value"])
        label = str(group.get("name") or f"set {len(sets) + 1}")
        sets[f"{data.get('name', data.get('@id', ''))}: {label}"] = values
    return sets


class _SkipProcess(Exception):
    """A process whose reference exchange is broken is left out (strict=False)."""


def read(
    paths: Sequence[str | os.PathLike[str]],
    *,
    ambiguous: str = "prefer",
    unlinked: str = "cutoff",
    allocation: str = "process",
    strict: bool = True,
    pedigree: bool = False,
    reference_data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    progress: bool | None = None,
    **unknown: Any,
) -> System:
    """Read openLCA JSON-LD zips or folders into one linked system.

    Parameters
    ----------
    paths : sequence of path-like
        JSON-LD zip files or folders, read together.
    ambiguous, unlinked, allocation : str
        Linking and allocation policies, see :class:`lcasolve.io.linking.LinkOptions`.
    strict : bool
        Stop at the first problem (default), or collect problems in
        ``system.metadata["problems"]`` and leave out what cannot be read.
    pedigree : bool
        Turn data-quality (pedigree) entries into lognormal spread with the ecoinvent v3
        factors (default off; see the module documentation).
    reference_data : path-like or sequence, optional
        Files whose units, flow properties, flows and categories are used, not their processes.
    progress : bool, optional
        Show a progress bar (default: the ``progress`` option; when it is None, only when
        stderr is a terminal).

    Returns
    -------
    System
        ``metadata`` holds ``link_report``, ``problems``, ``link_counts``, ``counts``
        (processes, flows, exchanges, elementary exchanges, unit conversions) and
        ``import_report``; :meth:`lcasolve.io.report.ImportReport.from_system` reads them.

    Raises
    ------
    DataFileError
        A missing, truncated or unreadable file (always), invalid JSON (when strict).
    MissingReferenceError, InvalidProductionError, InvalidUncertaintyError, LinkingError
        When strict, at the first problem, naming the file, process and exchange.
    InputError
        For an unknown option or policy.
    """
    if unknown:
        raise InputError(
            f"unknown option(s) for the JSON-LD reader: {', '.join(sorted(unknown))} (known: "
            f"ambiguous, unlinked, allocation, strict, pedigree, reference_data, progress)"
        )
    options = LinkOptions(ambiguous, unlinked, allocation, strict)
    if isinstance(reference_data, (str, os.PathLike)):
        reference_data = [reference_data]
    files = [Path(p) for p in paths]
    ref_files = [Path(p) for p in (reference_data or [])]
    for f in [*files, *ref_files]:
        if not f.exists():
            raise DataFileError(f"{f}: no such file or folder")
    problems = Problems(strict)
    ref = Reference()
    # first pass: reference data (units, flow properties, categories, flows) of every input
    for f in [*ref_files, *files]:
        for folder, where, data in _members(f, problems, skip=("processes",)):
            problems.guard(partial(ref.add, folder, where, data))
    from tqdm.auto import tqdm

    show = get_options().progress if progress is None else progress
    if show is None:
        show = sys.stderr.isatty()
    processes: list[ProcessRecord] = []
    conversions = 0
    n_exchanges = 0
    seen: set[str] = set()
    # second pass: processes, one file at a time (the JSON is not kept)
    bar = tqdm(desc="processes", total=sum(map(_count_processes, files)), disable=not show)
    for f in files:
        for _, where, data in _members(f, problems, only=("processes",)):
            bar.update()
            pid = data.get("@id")
            if not pid or pid in seen:
                problems.add(DataFileError(f"{where}: process id {pid!r} is missing or repeated"))
                continue
            seen.add(pid)
            try:
                proc, conv = _process(data, where, ref, pedigree, problems)
            except _SkipProcess:
                continue
            conversions += conv
            n_exchanges += len(data.get("exchanges") or [])
            processes.append(proc)
    bar.close()
    if not processes and not problems.items:
        raise InputError(f"no processes in {', '.join(map(str, files))}")
    global_parameters: list[Any] = []
    parameter_sets: dict[str, dict[str, float]] = {}
    for f in files:
        for folder, where, data in _members(f, problems, only=("parameters", "product_systems")):
            if folder == "parameters":
                global_parameters += _parameters([data], None, where, problems)
            else:
                parameter_sets.update(_redefinitions(data))
    flows = {}
    for fid in ref.flows:
        flows[fid] = flow_record(ref, fid)
    n_elementary = sum(
        1 for p in processes for e in p.exchanges if flows[e.flow].kind == "elementary"
    )
    counts = {
        "processes": len(processes),
        "flows": len(ref.flows),
        "exchanges": n_exchanges,
        "elementary_exchanges": n_elementary,
        "unit_conversions": conversions,
    }
    return assemble(
        processes,
        flows,
        options,
        problems=problems,
        metadata={
            "format": "jsonld",
            "files": [str(f) for f in files],
            "reference_data": [str(f) for f in ref_files],
            "counts": counts,
            "parameter_sets": parameter_sets,
        },
        parameters=global_parameters,
    )
