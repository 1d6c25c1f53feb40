"""Characterize named elementary flows with a shipped IPCC method.

A flow is matched to an IPCC substance by, in this order: its CAS number, its whole name (with
origin qualifiers such as ", fossil" removed), the ecoinvent inverted name ("Methane,
chlorodifluoro-" -> "chlorodifluoromethane"), the code after the last comma ("..., HFC-134a"),
and its formula; each candidate is also looked up in ``data/synonyms.csv`` (refrigerant numbers,
ecoinvent/USLCI/FEDEFL/GaBi spellings). Comparison ignores case, spaces and punctuation, and
treats "sulphur" as "sulfur".

Only emissions to air are characterized (compartment containing "air", "atmosphere" or
"stratosphere"; a flow without compartment is assumed to go to air and the report says so).
Carbon dioxide and methane follow the IPCC 2021 / ecoinvent convention: non-fossil (biogenic)
CO2 = 0, CO2 uptake from air (a resource) = 0, CO2 from soil or biomass stock or land
transformation = 1, fossil methane and methane from soil or biomass stock take the fossil value,
non-fossil methane its own AR6 value (27.0 for GWP100), methane of unspecified origin the report's
single value. Flow amounts are converted from the flow's mass unit (g, t, lb, ...) to kg.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from lcasolve.methods.ipcc import GWPMethod, _data_text, get_method

__all__ = ["MatchReport", "match_flows"]

#: kg per unit of mass.
_MASS_UNITS = {
    "kg": 1.0,
    "kilogram": 1.0,
    "g": 1e-3,
    "gram": 1e-3,
    "mg": 1e-6,
    "ug": 1e-9,
    "µg": 1e-9,
    "μg": 1e-9,
    "ng": 1e-12,
    "t": 1e3,
    "tonne": 1e3,
    "metric ton": 1e3,
    "kt": 1e6,
    "mt": 1e9,
    "lb": 0.45359237,
    "lbs": 0.45359237,
    "pound": 0.45359237,
    "oz": 0.028349523125,
    "short ton": 907.18474,
    "ton (us)": 907.18474,
}

_QUALIFIERS = {
    "fossil": "fossil",
    "nonfossil": "non-fossil",
    "biogenic": "non-fossil",
    "biotic": "non-fossil",
    "nonfossilresourcecorrection": "non-fossil",
    "resourcecorrection": None,
    "landtransformation": "land",
    "landuse": "land",
    "landusechange": "land",
    "fromsoilorbiomassstock": "land",
    "unspecified": None,
    "unspecifiedorigin": None,
    "inair": "uptake",
    "tosoilorbiomassstock": "to-stock",
}

_GHG_HINT = re.compile(
    r"\b(carbon dioxide|methane|nitrous oxide|dinitrogen monoxide|sulfur hexafluoride|"
    r"nitrogen trifluoride|nitrogen fluoride|(hfc|hcfc|cfc|pfc|fc|hfe|hfo)s?(-[0-9]\w*)?|"
    r"halons?( ?-?[0-9]+)?|perfluoro\w*|\w*fluoro\w*(methane|ethane|propane|butane)\w*|"
    r"\w*fluorocarbons?|greenhouse gas(es)?)\b"
)
_NOT_GHG = re.compile(r"non-methane|other than methane")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).lower().replace("sulphur", "sulfur")
    return re.sub(r"[^a-z0-9=]", "", text)


def _norm_cas(text: str) -> str:
    m = re.fullmatch(r"\s*0*(\d+)-(\d\d)-(\d)\s*", str(text))
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else ""


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, tuple[str, ...]]:
    from io import StringIO

    table = pd.read_csv(StringIO(_data_text("synonyms.csv")), dtype=str, keep_default_na=False)
    out: dict[str, list[str]] = {}
    for alias, target in zip(table["alias"], table["target"], strict=True):
        key = _norm_cas(alias) or _norm(alias)
        out.setdefault(key, []).append(target)
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class _Index:
    keys: Mapping[str, int]  # normalized key -> substance row
    formula: tuple[str, ...]
    gwp: tuple[float, ...]
    label: tuple[str, ...]


@lru_cache(maxsize=16)
def _index(name: str) -> _Index:
    method = get_method(name)
    subs = method.substances
    keys: dict[str, int] = {}
    # later kinds never overwrite earlier ones: CAS, acronym, name, then formula (if unique)
    for col in ("cas", "acronym", "name"):
        for i, value in enumerate(subs[col].tolist()):
            key = _norm_cas(value) if col == "cas" else _norm(value)
            if key and key not in keys:
                keys[key] = i
    formulas = subs["formula"].map(_norm)
    counts = formulas.value_counts()
    for i, key in enumerate(formulas.tolist()):
        if key and counts[key] == 1 and key not in keys:
            keys[key] = i
    labels = [
        f"{n} ({a})" if a and a != n else n
        for n, a in zip(subs["name"].tolist(), subs["acronym"].tolist(), strict=True)
    ]
    return _Index(
        keys=keys,
        formula=tuple(subs["formula"].tolist()),
        gwp=tuple(float(x) for x in subs["gwp"]),
        label=tuple(labels),
    )


def _split_name(name: str) -> tuple[list[str], str | None]:
    """Candidate keys for a flow name (most specific first) and its origin qualifier."""
    name = re.sub(r"\[[^\]]*\]", " ", str(name))  # GaBi "[Inorganic emissions to air]"
    parts = [p.strip() for p in name.split(",") if p.strip()]
    origin: str | None = None
    substantive: list[str] = []
    for p in parts:
        key = _norm(p)
        if key in _QUALIFIERS:
            origin = _QUALIFIERS[key] or origin
        else:
            substantive.append(p)
    if not substantive:
        return [], origin
    candidates = [" ".join(substantive)]
    no_paren = re.sub(r"\([^)]*\)", " ", candidates[0])
    candidates.append(no_paren)
    if len(substantive) >= 2:
        base, rest = substantive[0], substantive[1:]
        # ecoinvent inverted names: "Methane, chlorodifluoro-, HCFC-22" -> chlorodifluoromethane
        candidates.append(rest[0].rstrip("- ") + base)
        candidates.extend(reversed(rest))
    else:
        candidates.append(substantive[0])
    keys = [_norm(c) for c in candidates]
    return [k for k in dict.fromkeys(keys) if len(k) >= 2], origin


def _compartment_kind(compartment: Any) -> str:
    text = "" if compartment is None else str(compartment)
    if text in {"", "nan", "None"}:
        return "unknown"
    low = text.lower()
    if re.search(r"resource|\bin (air|ground|water)\b|raw material|natural", low):
        return "resource"
    if re.search(r"\bair\b|atmosphere|stratosphere", low):
        return "air"
    if re.search(r"water|soil|ground|ocean|river|lake|waste|agricultural|industrial", low):
        return "other"
    return "unknown"


def _unit_factor(unit: Any) -> float | None:
    text = "" if unit is None else str(unit).strip()
    if text in {"", "nan", "None"}:
        return 1.0
    return _MASS_UNITS.get(text.lower())


@lru_cache(maxsize=1)
def _ar6_by_cas() -> dict[str, tuple[str, ...]]:
    subs = get_method("IPCC AR6 GWP100").substances
    out = {}
    for cas, acronym, name, formula in subs[["cas", "acronym", "name", "formula"]].itertuples(
        index=False
    ):
        if _norm_cas(cas):
            out[_norm_cas(cas)] = tuple(_norm(x) for x in (acronym, name, formula) if x)
    return out


def _cas_bridge(cas_key: str, report: str) -> list[str]:
    """AR4/AR5 carry no CAS numbers: find the gas by CAS in AR6, then by its AR6 names."""
    if not cas_key or report == "AR6":
        return []
    return list(_ar6_by_cas().get(cas_key, ()))


def _lookup(index: _Index, keys: list[str]) -> int | None:
    synonyms = _synonyms()
    for key in keys:
        seen: set[str] = set()
        todo = [key]
        while todo:
            k = todo.pop(0)
            if k in seen:
                continue
            seen.add(k)
            if k in index.keys:
                return index.keys[k]
            todo.extend(_norm_cas(t) or _norm(t) for t in synonyms.get(k, ()))
    return None


@dataclass(frozen=True, eq=False)
class MatchReport:
    """Which flows a method characterized, and which greenhouse-gas-looking flows it did not.

    Attributes
    ----------
    method : str
        Method name.
    matched : pandas.DataFrame
        One row per characterized flow: ``flow_id``, ``flow_name``, ``compartment``, ``unit``,
        ``substance`` (the IPCC entry), ``gwp`` (per kg), ``unit_factor`` (kg per flow unit),
        ``factor`` (= gwp x unit_factor, the characterization factor), ``rule`` (why, e.g.
        "non-fossil CO2 = 0").
    unmatched : pandas.DataFrame
        Flows that look like greenhouse gases but got no factor: ``flow_id``, ``flow_name``,
        ``compartment``, ``unit``, ``reason``.
    """

    method: str
    matched: pd.DataFrame
    unmatched: pd.DataFrame

    @property
    def factors(self) -> dict[Hashable, float]:
        """``{flow id: factor}`` for every matched flow with a nonzero factor."""
        m = self.matched[self.matched["factor"] != 0]
        return dict(zip(m["flow_id"].tolist(), m["factor"].astype(float).tolist(), strict=True))

    def to_dict(self) -> dict[str, Any]:
        """Plain lists of records (JSON-serializable), for metadata and ``--json`` output."""
        return {
            "method": self.method,
            "matched": _records(self.matched),
            "unmatched": _records(self.unmatched),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchReport:
        """Rebuild a report from :meth:`to_dict` output."""
        return cls(
            str(data["method"]),
            pd.DataFrame(list(data["matched"]), columns=_MATCHED_COLUMNS),
            pd.DataFrame(list(data["unmatched"]), columns=_UNMATCHED_COLUMNS),
        )

    def summary(self) -> str:
        """One line: counts of matched and unmatched flows."""
        zero = int((self.matched["factor"] == 0).sum())
        return (
            f"{self.method}: {len(self.matched)} flows characterized ({zero} with factor 0 by "
            f"convention), {len(self.unmatched)} greenhouse-gas-like flows left unmatched"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p>{self.summary()}</p><h4>matched</h4>{self.matched.to_html(index=False)}"
            f"<h4>unmatched</h4>{self.unmatched.to_html(index=False)}"
        )


_MATCHED_COLUMNS = [
    "flow_id",
    "flow_name",
    "compartment",
    "unit",
    "substance",
    "gwp",
    "unit_factor",
    "factor",
    "rule",
]
_UNMATCHED_COLUMNS = ["flow_id", "flow_name", "compartment", "unit", "reason"]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _co2_ch4_rule(
    method: GWPMethod, formula: str, origin: str | None, gwp: float
) -> tuple[float, str]:
    if formula == "CO2":
        if origin == "non-fossil":
            return 0.0, "non-fossil (biogenic) CO2 = 0"
        if origin == "land":
            return gwp, "CO2 from land use / soil or biomass stock counts as fossil"
        return gwp, "CO2" if origin == "fossil" else "CO2 of unspecified origin counts as fossil"
    if formula == "CH4":
        if origin in ("fossil", "land"):
            return method.methane["fossil"], (
                "fossil methane"
                if origin == "fossil"
                else "methane from soil/biomass stock: fossil"
            )
        if origin == "non-fossil":
            return method.methane["non-fossil"], "non-fossil methane"
        return method.methane["unspecified"], "methane of unspecified origin"
    return gwp, "IPCC value"


def match_flows(flows: pd.DataFrame, method: str | GWPMethod = "IPCC AR6 GWP100") -> MatchReport:
    """Characterize the elementary flows of a flow table with a shipped IPCC method.

    Parameters
    ----------
    flows : pandas.DataFrame
        A system's flow table: ``id``, ``name``, ``compartment``, ``unit`` and optionally
        ``cas`` and ``formula``.
    method : str or GWPMethod
        A name from :func:`lcasolve.methods.available` (default ``"IPCC AR6 GWP100"``).

    Returns
    -------
    MatchReport
        The factors (``report.factors``), the matched flows and the greenhouse-gas-like flows
        left without a factor, with the reason.

    Examples
    --------
    >>> import pandas as pd
    >>> flows = pd.DataFrame(
    ...     {"id": [1, 2], "name": ["Methane, fossil", "Carbon dioxide, non-fossil"],
    ...      "compartment": ["air", "air"], "unit": ["kg", "kg"]}
    ... )
    >>> match_flows(flows).factors
    {1: 29.8}
    """
    m = method if isinstance(method, GWPMethod) else get_method(method)
    index = _index(m.name)
    cas_col = flows["cas"].tolist() if "cas" in flows.columns else [""] * len(flows)
    formula_col = flows["formula"].tolist() if "formula" in flows.columns else [""] * len(flows)
    comp_col = (
        flows["compartment"].tolist() if "compartment" in flows.columns else [""] * len(flows)
    )
    unit_col = flows["unit"].tolist() if "unit" in flows.columns else [""] * len(flows)
    matched: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    for fid, name, comp, unit, cas, formula in zip(
        flows["id"].tolist(),
        flows["name"].tolist(),
        comp_col,
        unit_col,
        cas_col,
        formula_col,
        strict=True,
    ):
        keys, origin = _split_name(name)
        cas_key = _norm_cas(cas) if isinstance(cas, str) else ""
        form_key = _norm(formula) if isinstance(formula, str) and formula else ""
        candidates = ([cas_key] if cas_key else []) + _cas_bridge(cas_key, m.report)
        candidates += keys + ([form_key] if form_key else [])
        pos = _lookup(index, candidates)
        kind = _compartment_kind(comp)
        base = {"flow_id": fid, "flow_name": name, "compartment": comp, "unit": unit}
        low = str(name).lower().replace("sulphur", "sulfur")
        looks_ghg = bool(_GHG_HINT.search(low)) and not _NOT_GHG.search(low)
        if kind == "resource" or origin == "uptake":
            if pos is not None and index.formula[pos] == "CO2":
                matched.append(
                    {
                        **base,
                        "substance": index.label[pos],
                        "gwp": 0.0,
                        "unit_factor": _unit_factor(unit) or 1.0,
                        "factor": 0.0,
                        "rule": "CO2 uptake from air (resource) = 0",
                    }
                )
            continue
        if pos is None:
            if looks_ghg and kind in ("air", "unknown"):
                unmatched.append({**base, "reason": f"no {m.report} {m.horizon} value found"})
            continue
        if kind == "other" or origin == "to-stock":
            unmatched.append(
                {**base, "reason": "not an emission to air (GWPs apply to emissions to air)"}
            )
            continue
        factor_unit = _unit_factor(unit)
        if factor_unit is None:
            unmatched.append({**base, "reason": f"unit {unit!r} is not a unit of mass"})
            continue
        gwp, rule = _co2_ch4_rule(m, index.formula[pos], origin, index.gwp[pos])
        if kind == "unknown":
            rule += "; compartment unknown, assumed air"
        matched.append(
            {
                **base,
                "substance": index.label[pos],
                "gwp": gwp,
                "unit_factor": factor_unit,
                "factor": gwp * factor_unit,
                "rule": rule,
            }
        )
    return MatchReport(
        m.name,
        pd.DataFrame(matched, columns=_MATCHED_COLUMNS),
        pd.DataFrame(unmatched, columns=_UNMATCHED_COLUMNS),
    )
