"""The study's metadata an ISO 14067 report states: scope, data sources, rules, method, software."""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lcasolve.io.report import ImportReport
from lcasolve.pcf.footprint import Footprint

__all__ = ["DataSource", "StudyMetadata", "study_metadata"]

#: publication year of the IPCC assessment reports the shipped methods take their values from
_IPCC_YEARS = {"AR4": "2007", "AR5": "2013", "AR6": "2021"}
_IPCC_SOURCE = "values from USEPA/LCIAformatter IPCC_GWP_values.csv (commit 48d19af)"

_ALLOCATION = {
    "process": "each process's own default allocation as given in the data",
    "physical": "physical allocation",
    "economic": "economic allocation",
    "causal": "causal allocation",
    "none": "no allocation (co-products left out, the whole burden on the reference product)",
}


@dataclass(frozen=True)
class DataSource:
    """One file or folder the system was read from.

    Attributes
    ----------
    path : str
    format : str
        The reader (``jsonld``, ``ecospold2``, ``tables``, ...).
    version : str
        The version given by the user, else ``sha256:<first 16 hex digits>`` of the file's
        content (of a folder's files in name order): it identifies the data exactly.
    """

    path: str
    format: str
    version: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready record."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class StudyMetadata:
    """What the footprint is of, what it rests on and what made it.

    Attributes
    ----------
    functional_unit, boundary : str
    reference_year : str, optional
        The year the data represent (None: not stated, and disclosed as such).
    data_sources : tuple of DataSource
    allocation : str
        The allocation rule applied on import.
    cutoff_rule : str
        How inputs were cut off: the linking policy for inputs without a provider and the
        PAS 2050 limits checked.
    method, method_version : str
        The characterization method (impact category) and the version of its factors.
    software : str
        ``lcasolve <version>``.
    date : str
        ISO 8601 date and time (UTC) the report was made.
    residual, condition, error_bound : float
        Numerical accuracy of the footprint's solve: the relative residual, Skeel's condition
        of the technosphere and the bound of the supply's relative error
        (:mod:`lcasolve.solve.conditioning`; NaN when not computed).
    """

    functional_unit: str
    boundary: str
    reference_year: str | None
    data_sources: tuple[DataSource, ...]
    allocation: str
    cutoff_rule: str
    method: str
    method_version: str
    software: str
    date: str
    residual: float = float("nan")
    condition: float = float("nan")
    error_bound: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata."""
        out = dict(self.__dict__)
        out["data_sources"] = [s.to_dict() for s in self.data_sources]
        return out

    def rows(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs in reading order (for text and HTML)."""
        sources = "; ".join(f"{s.path} ({s.format}, {s.version})" for s in self.data_sources)
        return [
            ("Functional unit", self.functional_unit),
            ("System boundary", self.boundary),
            ("Reference year", self.reference_year or "not stated"),
            ("Data sources", sources or "not recorded (system built in code)"),
            ("Allocation rule", self.allocation),
            ("Cut-off rule", self.cutoff_rule),
            ("Characterization method", self.method),
            ("Method version", self.method_version),
            ("Software", self.software),
            ("Date", self.date),
            ("Numerical accuracy", self.accuracy_text()),
        ]

    def accuracy_text(self) -> str:
        """The error bound, condition and residual in one phrase."""
        if not math.isfinite(self.condition):
            return f"relative residual {self.residual:.1e} (condition not computed)"
        return (
            f"relative error of the supply at most {self.error_bound:.1e} (condition "
            f"{self.condition:.1e}, relative residual {self.residual:.1e})"
        )


def study_metadata(
    fp: Footprint,
    *,
    reference_year: str | int | None = None,
    versions: Mapping[str, str] | None = None,
    each: float = 0.01,
    overall: float = 0.05,
    date: str | None = None,
) -> StudyMetadata:
    """The metadata of a footprint's study, from the system it was computed on.

    Parameters
    ----------
    fp : Footprint
    reference_year : str or int, optional
        Year the data represent.
    versions : mapping, optional
        ``{path or file name: version}`` of the data sources (e.g. ``{"uslci.zip":
        "FY17.Q4.02"}``); sources not named get the hash of their content.
    each, overall : float
        The cut-off limits checked.
    date : str, optional
        Date of the report (default: now, UTC).

    Returns
    -------
    StudyMetadata
    """
    from lcasolve import __version__

    meta = fp.system.metadata
    fmt = str(meta.get("format", ""))
    paths: Sequence[Any] = meta.get("files") or (meta.get("foreground") or {}).get("sources") or ()
    named = {str(k): str(v) for k, v in (versions or {}).items()}
    sources = tuple(
        DataSource(
            path=str(p),
            format=fmt,
            version=named.get(str(p), named.get(Path(str(p)).name, "")) or _content_hash(Path(p)),
        )
        for p in paths
    )
    report = ImportReport.from_system(fp.system)
    policy = str(report.policies.get("allocation", ""))
    allocation = _ALLOCATION.get(policy, policy) if policy else "as in the data (not recorded)"
    if report.allocation:
        allocation += f"; {len(report.allocation)} multi-output processes allocated"
    unlinked = str(report.policies.get("unlinked", ""))
    cutoff = f"PAS 2050 check: each excluded input < {each:.0%}, all together ≤ {overall:.0%}"
    if unlinked:
        cutoff = f"inputs without a provider in the data: {unlinked}; " + cutoff
    return StudyMetadata(
        functional_unit=fp.functional_unit_label,
        boundary=fp.boundary,
        reference_year=None if reference_year is None else str(reference_year),
        data_sources=sources,
        allocation=allocation,
        cutoff_rule=cutoff,
        method=f"{fp.category} [{fp.unit}]" if fp.unit else fp.category,
        method_version=_method_version(fp),
        software=f"lcasolve {__version__}",
        date=date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        residual=float(fp.residual),
        condition=float(fp.condition),
        error_bound=float(fp.error_bound),
    )


def _method_version(fp: Footprint) -> str:
    match = (fp.system.metadata.get("method_match") or {}).get(fp.category)
    if match is None:
        return "factors from the data"
    from lcasolve.methods.ipcc import get_method

    m = get_method(fp.category)
    year = _IPCC_YEARS.get(m.report, "")
    return (
        f"IPCC {m.report} ({year}) {m.horizon}, {_IPCC_SOURCE}; "
        f"{len(match['matched'])} flows matched by name, CAS and compartment"
    )


def _content_hash(path: Path) -> str:
    """``sha256:<16 hex>`` of a file, or of a folder's files in name order ("" if absent)."""
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    else:
        return "not found"
    h = hashlib.sha256()
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        h.update(f.read_bytes())
    return f"sha256:{h.hexdigest()[:16]}"
