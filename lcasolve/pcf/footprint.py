"""Product carbon footprint of a functional unit with breakdowns by tag, activity and flow."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve._json import json_text
from lcasolve.errors import InputError
from lcasolve.io._atomic import write_text_atomic
from lcasolve.lca import LCA, contribution_table
from lcasolve.model import System
from lcasolve.pcf.tags import resolve_tags, upstream_values

__all__ = [
    "BOUNDARIES",
    "SCOPE_NAMES",
    "STAGE_NAMES",
    "Footprint",
    "footprint",
    "tag_label",
    "write_text_atomic",
]

#: accepted system boundaries
BOUNDARIES = ("cradle-to-gate", "cradle-to-grave", "gate-to-gate")

#: stages that only a cradle-to-grave study has
_GRAVE_STAGES = {"use", "end of life", "eol", "b", "c", "b1", "c1", "c2", "c3", "c4", "d"}

#: names of the EN 15804 / ISO 21930 life-cycle modules, by lower-case code
STAGE_NAMES: dict[str, str] = {
    "a1": "raw material supply",
    "a2": "transport",
    "a3": "manufacturing",
    "a1-a3": "product stage",
    "a4": "transport to site",
    "a5": "construction, installation",
    "b1": "use",
    "b2": "maintenance",
    "b3": "repair",
    "b4": "replacement",
    "b5": "refurbishment",
    "b6": "operational energy use",
    "b7": "operational water use",
    "c1": "deconstruction, demolition",
    "c2": "transport to waste processing",
    "c3": "waste processing",
    "c4": "disposal",
    "d": "benefits and loads beyond the system boundary",
}

#: GHG Protocol scopes, by number
SCOPE_NAMES: dict[str, str] = {
    "1": "Scope 1 (direct)",
    "2": "Scope 2 (purchased energy)",
    "3": "Scope 3 (other indirect)",
}


@dataclass(frozen=True, eq=False)
class Footprint:
    """Footprint of one functional unit in one category.

    Attributes
    ----------
    system : System
    demand : dict
        Functional unit ``{product id: amount}``.
    category, unit : str
        Category name (e.g. ``"IPCC AR6 GWP100"``) and its unit.
    total : float
        The score ``cᵀ B s``.
    activity_values : numpy.ndarray
        ``(cᵀB)_j s_j`` per activity; sums to ``total``.
    flow_values : numpy.ndarray
        ``c_k g_k`` per elementary flow; sums to ``total``.
    tags : dict
        ``{tag name: per-activity labels}`` (e.g. stage, scope).
    boundary : str
        ``"cradle-to-gate"``, ``"cradle-to-grave"`` or ``"gate-to-gate"``.
    residual : float
        Relative residual of the solve.
    condition, error_bound : float
        Skeel's condition of the technosphere and the bound of the supply's relative error
        (:attr:`lcasolve.LCAResult.condition`, :attr:`~lcasolve.LCAResult.error_bound`).
    tag_names : dict
        ``{tag name: {tag value: display name}}`` given explicitly (e.g. from a tag table's
        ``stage_name`` column); see :meth:`labels`.
    tag_values : dict
        ``{tag name: per-activity values}`` that :meth:`by_tag` sums: each untagged
        (background) activity's share counted in the tag of the tagged exchange that pulls it
        in (:func:`lcasolve.pcf.tags.upstream_values`); a tag missing here sums
        ``activity_values``.
    """

    system: System
    demand: dict[Hashable, float]
    category: str
    unit: str
    total: float
    activity_values: np.ndarray
    flow_values: np.ndarray
    tags: dict[str, np.ndarray] = field(default_factory=dict)
    boundary: str = "cradle-to-gate"
    residual: float = 0.0
    condition: float = float("nan")
    error_bound: float = float("nan")
    tag_names: dict[str, dict[str, str]] = field(default_factory=dict)
    tag_values: dict[str, np.ndarray] = field(default_factory=dict)

    def labels(self, tag: str) -> dict[str, str]:
        """Display labels of the values of a tag, e.g. ``{"A1": "A1 raw material supply"}``.

        A value's name comes from, in this order: :attr:`tag_names`, a column ``<tag>_name`` of
        the activity table (e.g. ``stage_name``), the built-in :data:`STAGE_NAMES` (tag
        ``stage``) and :data:`SCOPE_NAMES` (tag ``scope``). Values without a name are shown as
        they are.

        Parameters
        ----------
        tag : str
            Tag name, e.g. ``"stage"``.

        Returns
        -------
        dict
            ``{tag value: label}`` for every value of :meth:`by_tag`.
        """
        if tag not in self.tags:
            raise InputError(f"no {tag!r} tags in this footprint; tags: {sorted(self.tags)}")
        names: dict[str, str] = {}
        acts = self.system.activities
        column = f"{tag}_name"
        if tag in acts.columns and column in acts.columns:
            for code, name in zip(acts[tag].tolist(), acts[column].tolist(), strict=True):
                if _present(code) and _present(name):
                    names.setdefault(str(code), str(name))
        names.update({str(k): str(v) for k, v in self.tag_names.get(tag, {}).items()})
        values = pd.unique(pd.Series(self.tags[tag], dtype=object))
        return {str(v): tag_label(tag, str(v), names.get(str(v))) for v in values}

    @property
    def functional_unit_label(self) -> str:
        """The functional unit as text: amount, unit and product name (``"1 t Portland cement"``).

        Falls back to ``"<amount> × <product id>"`` for a product the activity table gives no
        unit for.
        """
        acts = self.system.activities
        parts = []
        for pid, amount in self.demand.items():
            unit, name = "", str(pid)
            try:
                row = acts.iloc[self.system.product_position(pid)]
            except (InputError, KeyError, IndexError):
                row = None
            if row is not None:
                if "unit" in acts.columns and _present(row["unit"]):
                    unit = str(row["unit"])
                for col in ("product", "name"):
                    if col in acts.columns and _present(row[col]):
                        name = str(row[col])
                        break
            parts.append(f"{amount:g} {unit} {name}" if unit else f"{amount:g} × {name}")
        return " + ".join(parts)

    def by_tag(self, tag: str) -> pd.DataFrame:
        """Sum of contributions per tag value (``stage``, ``scope``, ...).

        The background (untagged activities) counts in the tag of the tagged exchange that
        pulls it in (see :attr:`tag_values`); ``(untagged)`` is left with what the functional
        unit demands of the background directly.

        Returns
        -------
        pandas.DataFrame
            Columns ``score`` and ``share``, indexed by tag value, in order of first appearance
            in the activity table; the scores sum to :attr:`total`.
        """
        if tag not in self.tags:
            raise InputError(f"no {tag!r} tags in this footprint; tags: {sorted(self.tags)}")
        labels = pd.Series(self.tags[tag], dtype=object)
        values = self.tag_values.get(tag, self.activity_values)
        s = pd.Series(values).groupby(labels.to_numpy(), sort=False).sum()
        s = s[(s != 0) | s.index.isin(pd.unique(labels[values != 0]))]
        order = sorted(s.index, key=_natural)
        out = pd.DataFrame({"score": s.loc[order].to_numpy()}, index=pd.Index(order, name=tag))
        out["share"] = out["score"] / self.total if self.total != 0 else np.nan
        return out

    def by_stage(self) -> pd.DataFrame:
        """Breakdown by life-cycle stage (tag ``stage``)."""
        return self.by_tag("stage")

    def by_scope(self) -> pd.DataFrame:
        """Breakdown by GHG Protocol scope (tag ``scope``)."""
        return self.by_tag("scope")

    def by_activity(self, top: int | None = 10) -> pd.DataFrame:
        """Largest activity contributions (``id``, ``name``, ``score``, ``share``)."""
        return contribution_table(self.activity_values, self.system.activities, top)

    def by_flow(self, top: int | None = 10) -> pd.DataFrame:
        """Largest elementary-flow contributions (``id``, ``name``, ``score``, ``share``)."""
        return contribution_table(self.flow_values, self.system.flows, top)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """JSON-ready summary: total, unit, boundary and every breakdown."""
        out: dict[str, Any] = {
            "functional_unit": {str(k): float(v) for k, v in self.demand.items()},
            "category": self.category,
            "unit": self.unit,
            "boundary": self.boundary,
            "total": float(self.total),
            "residual": float(self.residual),
            "condition": float(self.condition),
            "error_bound": float(self.error_bound),
        }
        for tag in self.tags:
            df = self.by_tag(tag)
            out[f"by_{tag}"] = [
                {tag: str(i), "score": float(r.score), "share": _f(r.share)}
                for i, r in df.iterrows()
            ]
        for name, df in (("by_activity", self.by_activity(top)), ("by_flow", self.by_flow(top))):
            out[name] = [
                {
                    "id": str(r.id),
                    "name": str(r.name),
                    "score": float(r.score),
                    "share": _f(r.share),
                }
                for r in df.itertuples(index=False)
            ]
        return out

    def to_json(self, path: str | Path | None = None, *, top: int = 10) -> str:
        """The summary as JSON text; also written (atomically) to ``path`` if given."""
        text = json_text(self.to_dict(top))
        if path is not None:
            write_text_atomic(Path(path), text + "\n")
        return text

    def to_frame(self) -> pd.DataFrame:
        """One row per activity: ids, names, tags and contribution."""
        acts = self.system.activities
        df = pd.DataFrame({"id": acts["id"].to_numpy(), "name": acts["name"].to_numpy()})
        for tag, labels in self.tags.items():
            df[tag] = labels
        df["score"] = self.activity_values
        df["share"] = self.activity_values / self.total if self.total != 0 else np.nan
        return df

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` as CSV (atomically); returns the path."""
        path = Path(path)
        write_text_atomic(path, self.to_frame().to_csv(index=False))
        return path

    def _repr_html_(self) -> str:
        parts = [
            f"<h4>Product carbon footprint: {self.total:.6g} {self.unit} ({self.category}), "
            f"{self.boundary}</h4>"
        ]
        parts.extend(
            f"<p>By {tag}</p>" + self.by_tag(tag).to_html(float_format="%.4g") for tag in self.tags
        )
        parts.append("<p>Top activities</p>" + self.by_activity(8).to_html(float_format="%.4g"))
        return "\n".join(parts)


def footprint(
    lca_or_system: LCA | System,
    demand: Mapping[Hashable, float],
    category: Hashable | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
    boundary: str | None = None,
    tag_names: Mapping[str, Mapping[Any, str]] | None = None,
    upstream: bool = True,
) -> Footprint:
    """Footprint of a functional unit with its breakdowns.

    Parameters
    ----------
    lca_or_system : LCA or System
        An :class:`~lcasolve.LCA` (its factorization is reused) or a system.
    demand : mapping
        Functional unit ``{product id: amount}``.
    category : id or name, optional
        Impact category; default the one named "IPCC AR6 GWP100" if present, else the only one.
    tags : mapping, optional
        ``{tag name: source}`` where source is None (the activity-table column), a tag table or
        ``{activity id: label}``. Default: every one of ``stage`` and ``scope`` that is a column
        of the activity table.
    boundary : str, optional
        System boundary; default ``cradle-to-grave`` when a use or end-of-life stage carries a
        nonzero contribution, else ``cradle-to-gate``.
    tag_names : mapping, optional
        ``{tag name: {tag value: display name}}``, e.g. ``{"stage": {"A1": "raw materials"}}``;
        see :meth:`Footprint.labels` for the defaults.
    upstream : bool
        Count each background (untagged) activity in the tag of the tagged exchange that
        pulls it in (default); False sums the activities' own contributions only.

    Returns
    -------
    Footprint
    """
    lca = lca_or_system if isinstance(lca_or_system, LCA) else LCA(lca_or_system)
    system = lca.system
    k = _category(system, category)
    res = lca.calculate(demand)
    cb = system.CB.getrow(k).toarray().ravel()
    act = cb * res.supply
    c = system.C.getrow(k).toarray().ravel()
    flow = c * res.inventory
    total = float(c @ res.inventory)
    if tags is None:
        tags = {t: None for t in ("stage", "scope") if t in system.activities.columns}
    resolved = {t: resolve_tags(system, t, src) for t, src in tags.items()}
    if boundary is None:
        boundary = "cradle-to-gate"
        if "stage" in resolved:
            lab = resolved["stage"]
            if any(str(x).strip().lower() in _GRAVE_STAGES for x in lab[act != 0]):
                boundary = "cradle-to-grave"
    if boundary not in BOUNDARIES:
        raise InputError(f"boundary must be one of {BOUNDARIES}, not {boundary!r}")
    values: dict[str, np.ndarray] = {}
    if upstream and resolved:
        lam = lca.hotspot_basis.lam[:, k]
        values = {
            t: upstream_values(system, lab, res.supply, res.f, lam, cb)
            for t, lab in resolved.items()
        }
    cats = system.categories
    return Footprint(
        system=system,
        demand=dict(demand),
        category=str(cats["name"].iloc[k]),
        unit=str(cats["unit"].iloc[k]) if "unit" in cats.columns else "",
        total=total,
        activity_values=act,
        flow_values=flow,
        tags=resolved,
        boundary=boundary,
        residual=float(res.residual),
        condition=float(res.condition),
        error_bound=float(res.error_bound),
        tag_names={
            str(t): {str(k): str(v) for k, v in names.items()}
            for t, names in (tag_names or {}).items()
        },
        tag_values=values,
    )


def tag_label(tag: str, value: str, name: str | None = None) -> str:
    """Display label of one tag value: its code and name, e.g. ``"A1 raw material supply"``.

    Parameters
    ----------
    tag : str
        Tag name; ``stage`` and ``scope`` have built-in names (:data:`STAGE_NAMES`,
        :data:`SCOPE_NAMES`).
    value : str
        The tag value (a code such as ``"A1"`` or ``"2"``).
    name : str, optional
        An explicit name; replaces the built-in one.

    Returns
    -------
    str
        ``"<code> <name>"`` (just the name if it already starts with the code), or the value
        itself when no name is known.
    """
    code = str(value).strip()
    key = code.lower()
    if name is None:
        if tag == "stage":
            name = STAGE_NAMES.get(key.replace(" ", "").replace("–", "-"))
        elif tag == "scope":
            number = key.removeprefix("scope").strip()
            if number in SCOPE_NAMES:
                return SCOPE_NAMES[number]
    if not name:
        return code
    name = str(name).strip()
    if name.lower().startswith(key):
        return name
    return f"{code} {name}"


def _present(x: object) -> bool:
    """True for a value that is not None, NaN or empty text."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return False
    return str(x).strip() != ""


def _category(system: System, category: Hashable | None) -> int:
    if category is not None:
        return system.category_position(category)
    names = system.categories["name"].tolist()
    if "IPCC AR6 GWP100" in names:
        return names.index("IPCC AR6 GWP100")
    if len(names) != 1:
        raise InputError(f"the system has {len(names)} categories; name one of {names}")
    return 0


def _natural(x: object) -> tuple[int, str]:
    s = str(x)
    return (1 if s.startswith("(") else 0, s)


def _f(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)
