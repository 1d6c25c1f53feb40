"""Foreground models as CSV tables or an Excel workbook (format ``"tables"``).

A folder (or zip) of ``activities.csv``, ``exchanges.csv``, ``flows.csv`` and optionally
``characterization.csv`` and ``parameters.csv``, or a workbook with sheets of those names; the
layout is documented in ``docs/tables.md``. Every error names the file (or workbook sheet) and the
line.

The rows become the format-neutral records of :mod:`lcasolve.io.records` and go through the
assembly of every other reader (:func:`lcasolve.io.assembly.assemble`), so the linking options
apply: an exchange whose ``provider`` names an activity (or its product id) links to it; one that
names a product by name (``product`` column) links among the activities making that product by
the ``ambiguous`` policy; a provider or product nobody makes follows the ``unlinked`` policy
(default ``"error"`` here: a table names its providers, so an unknown one is usually a typo).
Every choice is listed in ``metadata["link_report"]``. Amounts (and characterization factors)
may be formulas of the ``parameters`` table, evaluated by :mod:`lcasolve.parameters`; the system
then carries the :class:`~lcasolve.parameters.ParameterSet`.

With ``background=system`` the exchanges may also name the background's product and flow ids,
giving one combined system (foreground activities first).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import DataFileError, InputError, LinkingError
from lcasolve.io._files import member_names
from lcasolve.io._table_files import (
    TABLES,
    Table,
    activity_frame,
    flow_frame,
    read_tables,
    uncertainty,
    unit_factor,
)
from lcasolve.io._table_parameters import Formulas, parameters
from lcasolve.io.assembly import assemble, compartment_direction
from lcasolve.io.distributions import pedigree_or_none, scaled
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import LinkReport
from lcasolve.model import UNCERTAINTY_DTYPE, Entries, System

__all__ = ["TABLES", "Table", "link_foreground", "read", "read_tables", "sniff"]

_OPTIONS = {"background", "ambiguous", "unlinked", "allocation", "strict"}
#: ids of the product flow records (one per product name) and of unknown providers
_PRODUCT = "product:"
_UNKNOWN = "unknown:"


def sniff(path: Path) -> bool:
    """A ``.csv``/``.xlsx``/``.xlsm`` file, or a zip or folder of ``activities.csv`` etc."""
    if path.suffix.lower() in {".csv", ".xlsx", ".xlsm"}:
        return True
    names = member_names(path)
    return names is not None and any(
        n.rstrip("/").split("/")[-1] in ("activities.csv", "exchanges.csv") for n in names
    )


def read(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    background: System | None = None,
    **options: Any,
) -> System:
    """Read a foreground model in tables, optionally linked to a background database.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        A folder or zip of CSV files, an ``.xlsx`` workbook, or CSV files named after the
        tables (``activities.csv``, ``exchanges.csv``, ``flows.csv``, ``characterization.csv``,
        ``parameters.csv``).
    background : System, optional
        A database whose product ids (and flow ids) the exchanges may name. The result holds the
        foreground activities first, then the background's.
    **options
        ``ambiguous`` (``prefer``, ``cutoff``, ``error``, ``split``) for an exchange naming a
        product that several activities make, ``unlinked`` (``error`` by default, or
        ``cutoff``) for a provider or product nobody makes, ``allocation`` and ``strict``, as
        for the other readers (:class:`~lcasolve.io.linking.LinkOptions`).

    Returns
    -------
    System

    Raises
    ------
    DataFileError
        Missing tables or columns, bad numbers, duplicate or unknown ids (file and line named).
    LinkingError
        An unknown provider (``unlinked="error"``), or several providers of a product
        (``ambiguous="error"``).
    InvalidUncertaintyError
        Inconsistent uncertainty columns (file and line named).
    FormulaError
        A formula that does not parse, names an unknown parameter, or cannot be evaluated;
        parameters defined in a cycle (file, line and parameter named).
    """
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(f"unknown options for the tables reader: {unknown}")
    policies = {"unlinked": "error", **{k: v for k, v in options.items() if k != "background"}}
    link = LinkOptions(**policies)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    tables = read_tables(paths)
    system = _Build(tables, background, link).system()
    meta = dict(system.metadata)
    n_bg = background.n_activities if background is not None else 0
    meta["foreground"] = {
        "format": "tables",
        "sources": [str(p) for p in paths],
        "activities": system.n_activities - n_bg,
    }
    return dataclasses.replace(system, metadata=meta)


def link_foreground(
    foreground: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], background: System
) -> System:
    """Link a foreground model in tables to a background system (see :func:`read`)."""
    return read(foreground, background=background)


def _text(value: Any) -> str:
    """A table cell as text, "" for missing values (None, NaN)."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _lookup(index: Any, key: str) -> int | None:
    """Position of ``key`` (or its int spelling) in a mapping of ids."""
    if key in index:
        return int(index[key])
    try:
        alt = int(key)
    except ValueError:
        return None
    return int(index[alt]) if alt in index else None


# ---------------------------------------------------------------------------- building
class _Build:
    """Records from the tables, their assembly, and the combination with a background."""

    def __init__(self, tables: dict[str, Table], bg: System | None, link: LinkOptions) -> None:
        self.tables, self.bg, self.link = tables, bg, link
        act_t = tables["activities"]
        self.acts, self.amounts = activity_frame(act_t)
        ids = self.acts["id"].tolist()
        self.ids = ids
        self.waste = self.acts["waste"].to_numpy(dtype=bool)
        params_t = tables.get("parameters")
        self.formulas = Formulas(
            parameters(params_t, set(ids)), params_t.source if params_t else ""
        )
        fg_flows = flow_frame(tables["flows"])
        if bg is not None:
            bg_ids = {str(x) for x in bg.activities["id"].tolist()}
            bg_products = {str(x) for x in bg.activities["product_id"].tolist()}
            for i, (a, p) in enumerate(zip(ids, self.acts["product_id"], strict=True)):
                if a in bg_ids or p in bg_products:
                    raise DataFileError(
                        f"{act_t.where(i)}: id {a!r} / product id {p!r} is also an id of the "
                        f"background database; give the foreground activity another id"
                    )
            bg_flow_ids = {str(x) for x in bg.flows["id"].tolist()}
            fg_flows = fg_flows[~fg_flows["id"].isin(bg_flow_ids)].reset_index(drop=True)
            self.flow_table = pd.concat([bg.flows, fg_flows], ignore_index=True)
        else:
            self.flow_table = fg_flows.reset_index(drop=True)
        m_bg = bg.n_flows if bg is not None else 0
        self.flow_pos = {fid: m_bg + k for k, fid in enumerate(fg_flows["id"].tolist())}
        self.fg_flows = fg_flows
        # exchanges to background products and flows, as matrix entries
        self.bg_tech: list[_Link] = []
        self.bg_bio: list[_Link] = []

    # ---------------------------------------------------------------- records
    def _flow_records(self) -> tuple[dict[str, FlowRecord], list[str]]:
        """Elementary flows of the foreground and one product flow per product name."""
        act_t = self.tables["activities"]
        flows: dict[str, FlowRecord] = {}
        for row in self.fg_flows.to_dict(orient="records"):
            comp = _text(row["compartment"])
            direction = "input" if compartment_direction(comp) == "input" else "output"
            fid = str(row["id"])
            flows[fid] = FlowRecord(
                fid,
                _text(row["name"]),
                "elementary",
                _text(row["unit"]),
                comp,
                _text(row["cas"]),
                direction=direction,
            )
        product_flow = []
        made: dict[str, int] = {}
        for i, (name, unit, waste) in enumerate(
            zip(self.acts["product"], self.acts["unit"], self.waste, strict=True)
        ):
            key = _PRODUCT + name
            if key in flows and flows[key].kind == "elementary":
                raise DataFileError(
                    f"{act_t.where(i)}: product {name!r} clashes with the flow id {key!r}"
                )
            if key in made:
                first = made[key]
                if unit != self.acts["unit"].iloc[first] or waste != self.waste[first]:
                    raise DataFileError(
                        f"{act_t.where(i)}: product {name!r} is also made on line "
                        f"{act_t.lines[first]} with unit {self.acts['unit'].iloc[first]!r}"
                        f"{' as a waste treatment' if self.waste[first] else ''}; activities "
                        f"making the same product need the same unit and waste flag"
                    )
            else:
                made[key] = i
                flows[key] = FlowRecord(key, name, "waste" if waste else "product", unit)
            product_flow.append(key)
        return flows, product_flow

    def _processes(self) -> tuple[list[ProcessRecord], dict[str, FlowRecord]]:
        act_t, exc_t = self.tables["activities"], self.tables["exchanges"]
        flows, product_flow = self._flow_records()
        processes = [
            ProcessRecord(
                a,
                str(name),
                location=_text(loc),
                exchanges=[
                    ExchangeRecord(
                        product_flow[i],
                        float(self.amounts[i]),
                        is_input=bool(self.waste[i]),
                        is_reference=True,
                        id="reference product",
                        where=act_t.where(i),
                    )
                ],
                where=act_t.where(i),
            )
            for i, (a, name, loc) in enumerate(
                zip(self.ids, self.acts["name"], self.acts["location"], strict=True)
            )
        ]
        act_pos = {a: j for j, a in enumerate(self.ids)}
        prod_pos = {p: j for j, p in enumerate(self.acts["product_id"].tolist())}
        bg = self.bg
        for i, row in enumerate(exc_t.records()):
            where = exc_t.where(i)
            j = act_pos.get(row["activity"])
            if j is None:
                raise DataFileError(
                    f"{where}: activity {row['activity']!r} is not in the activities table"
                )
            kind = row["kind"].lower()
            if kind not in ("technosphere", "biosphere"):
                raise DataFileError(
                    f"{where}: kind {row['kind']!r} must be technosphere or biosphere"
                )
            amount, text = self.formulas.value(exc_t, i, "amount", row, self.ids[j])
            rec = uncertainty(exc_t, i, amount, row)
            given = row.get("unit", "")
            line = f"line {exc_t.lines[i]}"
            if kind == "biosphere":
                fid = row.get("flow", "") or row.get("provider", "")
                fl = flows.get(fid) if fid in self.flow_pos else None
                if fl is not None:
                    f = unit_factor(exc_t, i, given, fl.unit, f"flow {fid!r}")
                    processes[j].exchanges.append(
                        ExchangeRecord(
                            fid,
                            amount * f,
                            fl.direction == "input",
                            id=line,
                            where=where,
                            uncertainty=scaled(rec, f),
                            formula=text,
                            formula_scale=f,
                            pedigree=pedigree_or_none(row.get("pedigree")),
                        )
                    )
                    continue
                k = _lookup(bg.flow_index, fid) if bg is not None else None
                if bg is None or k is None:
                    raise DataFileError(f"{where}: flow {fid!r} is not in the flows table")
                f = unit_factor(exc_t, i, given, _text(bg.flows["unit"].iloc[k]), f"flow {fid!r}")
                self.bg_bio.append(
                    _Link(k, j, amount * f, False, scaled(rec, f), text, f, where, self.ids[j])
                )
                continue
            pid = row.get("provider", "") or row.get("flow", "")
            product = row.get("product", "")
            if pid:
                r = prod_pos.get(pid, act_pos.get(pid))
                if r is not None:
                    key, provider, what = product_flow[r], self.ids[r], f"provider {pid!r}"
                elif bg is not None and (k := _lookup(bg.product_index, pid)) is not None:
                    unit = _text(bg.activities["unit"].iloc[k])
                    is_waste = "waste" in bg.activities.columns and bool(
                        bg.activities["waste"].iloc[k]
                    )
                    f = unit_factor(exc_t, i, given, unit, f"provider {pid!r}")
                    sign = 1.0 if is_waste else -1.0  # waste sent +, inputs -
                    self.bg_tech.append(
                        _Link(
                            len(self.ids) + k,
                            j,
                            sign * amount * f,
                            not is_waste,
                            scaled(rec, f),
                            text,
                            sign * f,
                            where,
                            self.ids[j],
                        )
                    )
                    continue
                else:
                    in_bg = " or the background database" if bg is not None else ""
                    why = f"provider {pid!r} is not a product of the activities table{in_bg}"
                    key, provider, what = self._unknown(flows, where, why, pid), None, ""
            elif product:
                key, provider, what = _PRODUCT + product, None, f"product {product!r}"
                if key not in flows:
                    why = f"product {product!r} is made by no activity of the activities table"
                    key, what = self._unknown(flows, where, why, product), ""
            else:
                raise DataFileError(
                    f"{where}: technosphere exchange without provider (or product name)"
                )
            fl = flows[key]
            f = unit_factor(exc_t, i, given, fl.unit, what) if what else 1.0
            processes[j].exchanges.append(
                ExchangeRecord(
                    key,
                    amount * f,
                    fl.kind != "waste",
                    provider=provider,
                    id=line,
                    where=where,
                    uncertainty=scaled(rec, f),
                    formula=text,
                    formula_scale=f,
                    pedigree=pedigree_or_none(row.get("pedigree")),
                )
            )
        return processes, flows

    def _unknown(self, flows: dict[str, FlowRecord], where: str, why: str, name: str) -> str:
        """A provider nobody makes: an error, or a product flow without provider (cut off)."""
        if self.link.unlinked == "error":
            raise LinkingError(f"{where}: {why}")
        key = _UNKNOWN + name
        flows.setdefault(key, FlowRecord(key, name, "product"))
        return key

    # ---------------------------------------------------------------- system
    def system(self) -> System:
        self.formulas.check()
        processes, flows = self._processes()
        exc_t = self.tables["exchanges"]
        counts = {
            "activities": len(processes),
            "exchanges": len(exc_t.frame),
            "flows": len(self.fg_flows),
        }
        fg = assemble(
            processes,
            flows,
            self.link,
            metadata={"format": "tables", "counts": counts},
            parameters=self.formulas.parameters,
            decimal=exc_t.decimal,
        )
        if fg.activities["id"].tolist() != self.ids:  # one column per activity, in order
            raise InputError("tables: the assembly changed the activities (report this)")
        return self._combine(fg)

    def _combine(self, fg: System) -> System:
        """The foreground's entries in the table's conventions, joined to the background."""
        from lcasolve.parameters import Formula, FormulaEntry, ParameterSet

        bg, nf = self.bg, len(self.ids)
        n = nf + (bg.n_activities if bg is not None else 0)
        m = len(self.flow_table)
        # a waste treatment's row enters A negated: production -amount, waste sent +amount
        t = fg.technosphere
        neg = self.waste[t.row]
        parts = [
            Entries(
                (n, n), t.row, t.col, np.where(neg, -t.value, t.value), t.uncertainty, t.flip ^ neg
            )
        ]
        b = fg.biosphere
        row_map = np.array([self.flow_pos[f] for f in fg.flows["id"]], dtype=np.int64)
        bio_parts = [Entries((m, n), row_map[b.row], b.col, b.value, b.uncertainty, b.flip)]
        entries = []
        for e in fg.parameters.entries if fg.parameters is not None else ():
            if e.matrix == "technosphere":
                factor = -e.factor if self.waste[e.row] else e.factor
                entries.append(dataclasses.replace(e, factor=factor))
            else:
                entries.append(dataclasses.replace(e, row=int(row_map[e.row])))
        decimal = self.tables["exchanges"].decimal
        for matrix, links, start, shape, into in (
            ("technosphere", self.bg_tech, len(t), (n, n), parts),
            ("biosphere", self.bg_bio, len(b), (m, n), bio_parts),
        ):
            into.append(_link_entries(links, shape))
            entries += [
                FormulaEntry(
                    matrix,
                    start + at,
                    x.row,
                    x.col,
                    Formula.parse(x.formula, decimal=decimal, where=x.where),
                    x.factor,
                    x.scope,
                )
                for at, x in enumerate(links)
                if x.formula
            ]
        tech_links, bio_links = parts[-1], bio_parts[-1]
        offset = {"technosphere": len(t) + len(tech_links), "biosphere": len(b) + len(bio_links)}
        parameters = list(self.formulas.parameters)
        acts = self.acts
        if bg is not None:
            parts.append(_shifted(bg.technosphere, (n, n), nf, nf))
            bio_parts.append(_shifted(bg.biosphere, (m, n), 0, nf))
            acts = _with_background(acts, bg.activities)
            if bg.parameters is not None:
                parameters = [*bg.parameters.parameters, *parameters]
                shift = {"technosphere": (nf, nf), "biosphere": (0, nf), "characterization": (0, 0)}
                for e in bg.parameters.entries:
                    dr, dc = shift[e.matrix]
                    entries.append(
                        dataclasses.replace(
                            e,
                            entry=e.entry + offset.get(e.matrix, 0),
                            row=e.row + dr,
                            col=e.col + dc,
                        )
                    )
        cats, char, char_entries = self._characterization(m, FormulaEntry)
        entries += char_entries
        meta = self._metadata(fg)
        params = None
        if parameters or entries:
            try:
                params = ParameterSet(tuple(parameters), tuple(entries))
            except InputError as exc:
                raise InputError(f"tables and background parameters: {exc}") from None
        return System(
            Entries.concatenate(parts),
            Entries.concatenate(bio_parts),
            char,
            acts,
            self.flow_table,
            cats,
            meta,
            params,
        )

    def _metadata(self, fg: System) -> dict[str, Any]:
        own = fg.metadata
        if self.bg is None:
            return dict(own)
        meta = dict(self.bg.metadata)
        for key in ("link_report", "problems", "invalid_distributions"):
            meta[key] = [*own.get(key, []), *self.bg.metadata.get(key, [])]
        meta["link_report"] = LinkReport(meta["link_report"])  # as every reader gives it
        meta["foreground_import_report"] = own.get("import_report", {})
        if "pedigree" in own:  # the foreground's scores beside the background's
            old = self.bg.metadata.get("pedigree") or {k: [] for k in own["pedigree"]}
            n_old = len(old.get("matrix", ()))
            meta["pedigree"] = {
                k: [*own["pedigree"][k], *old.get(k, [None] * n_old)] for k in own["pedigree"]
            }
        return meta

    def _characterization(self, m: int, entry_cls: Any) -> tuple[pd.DataFrame, Entries, list[Any]]:
        table, bg, flow_pos = self.tables.get("characterization"), self.bg, self.flow_pos
        if bg is not None:
            cats = bg.categories.copy()
        else:
            cats = pd.DataFrame(columns=["id", "name", "unit"])
        names = cats["name"].astype(str).tolist()
        units = cats["unit"].astype(str).tolist()
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        formulas: list[tuple[int, str, str]] = []
        if table is not None:
            for i, row in enumerate(table.records()):
                name = row["category"]
                if not name:
                    raise DataFileError(f"{table.where(i)}: category is empty")
                unit = row.get("unit", "")
                if name not in names:
                    names.append(name)
                    units.append(unit)
                    cats.loc[len(cats)] = {"id": name, "name": name, "unit": unit}
                k = names.index(name)
                if unit and units[k] and unit != units[k]:
                    raise DataFileError(
                        f"{table.where(i)}: unit {unit!r} differs from {units[k]!r} given for "
                        f"category {name!r} before"
                    )
                c = flow_pos.get(row["flow"])
                if c is None and bg is not None:
                    c = _lookup(bg.flow_index, row["flow"])
                if c is None:
                    raise DataFileError(
                        f"{table.where(i)}: flow {row['flow']!r} is not in the flows table"
                    )
                value, text = self.formulas.value(table, i, "factor", row, None)
                if text:
                    formulas.append((len(vals), text, f"{table.where(i)} (formula of factor)"))
                rows.append(k)
                cols.append(c)
                vals.append(value)
        k = len(names)
        cats = cats.reset_index(drop=True)
        fg = Entries.create(
            (k, m),
            np.asarray(rows, dtype=np.int64),
            np.asarray(cols, dtype=np.int64),
            np.asarray(vals, dtype=np.float64),
            name="characterization",
        )
        start = 0
        if bg is not None:
            start = len(bg.characterization)
            char = Entries.concatenate([_shifted(bg.characterization, (k, m), 0, 0), fg])
        else:
            char = fg
        from lcasolve.parameters import Formula

        decimal = table.decimal if table is not None else "."
        entries = [
            entry_cls(
                "characterization",
                start + at,
                rows[at],
                cols[at],
                Formula.parse(text, decimal=decimal, where=where),
                1.0,
                None,
            )
            for at, text, where in formulas
        ]
        return cats, char, entries


@dataclass(frozen=True)
class _Link:
    """An exchange to a background product or flow: one matrix entry of the combined system.

    ``value`` is the matrix value, ``record`` the stats_arrays record in the source sign,
    ``factor`` the matrix value per unit of the formula's value (sign and unit conversion).
    """

    row: int
    col: int
    value: float
    flip: bool
    record: np.void
    formula: str
    factor: float
    where: str
    scope: Hashable


def _link_entries(links: list[_Link], shape: tuple[int, int]) -> Entries:
    """The entries of exchanges to the background."""
    return Entries(
        shape,
        np.asarray([x.row for x in links], dtype=np.int64),
        np.asarray([x.col for x in links], dtype=np.int64),
        np.asarray([x.value for x in links], dtype=np.float64),
        np.array([x.record for x in links], dtype=UNCERTAINTY_DTYPE),
        np.asarray([x.flip for x in links], dtype=bool),
    )


def _with_background(acts: pd.DataFrame, bg_acts: pd.DataFrame) -> pd.DataFrame:
    bg_acts = bg_acts.copy()
    if "waste" not in bg_acts.columns:
        bg_acts["waste"] = False
    out = pd.concat([acts, bg_acts], ignore_index=True)
    out["waste"] = out["waste"].fillna(False).astype(bool)
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].where(out[col].notna(), "")
    return out


def _shifted(e: Entries, shape: tuple[int, int], drow: int, dcol: int) -> Entries:
    return Entries(shape, e.row + drow, e.col + dcol, e.value, e.uncertainty, e.flip)
