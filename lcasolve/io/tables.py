"""Foreground models as CSV tables or an Excel workbook (format ``"tables"``).

A folder (or zip) of ``activities.csv``, ``exchanges.csv``, ``flows.csv`` and optionally
``characterization.csv``, or a workbook with sheets of those names; the layout is documented in
``docs/tables.md``. Every error names the file (or workbook sheet) and the line. With
``background=system`` the exchanges may name the background's product and flow ids, giving one
combined system (foreground activities first).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import (
    DataFileError,
    InputError,
    InvalidUncertaintyError,
    LinkingError,
    MissingExtraError,
)
from lcasolve.io._files import member_names, read_member
from lcasolve.io.distributions import bounded, lognormal, no_distribution, normal, scaled
from lcasolve.io.linking import LinkOptions
from lcasolve.io.units import conversion_factor
from lcasolve.model import UNCERTAINTY_DTYPE, Entries, System, no_uncertainty

__all__ = ["TABLES", "Table", "link_foreground", "read", "read_tables", "sniff"]

#: Table names; the first three are required.
TABLES = ("activities", "exchanges", "flows", "characterization")
_REQUIRED = {
    "activities": ("id", "name"),
    "exchanges": ("activity", "kind", "amount"),
    "flows": ("id", "name"),
    "characterization": ("category", "flow", "factor"),
}
_OPTIONS = {"background", "ambiguous", "unlinked", "allocation", "strict"}
_TRUE = {"1", "true", "yes", "y", "x", "waste"}
_FALSE = {"", "0", "false", "no", "n"}


@dataclass(frozen=True, eq=False)
class Table:
    """One table as strings, with the source line of each row.

    Attributes
    ----------
    name : str
        ``activities``, ``exchanges``, ``flows`` or ``characterization``.
    source : str
        File name (``activities.csv``) or ``workbook.xlsx, sheet activities``.
    frame : pandas.DataFrame
        All cells as stripped strings; columns in lower case.
    lines : list of int
        The file line (CSV) or sheet row (Excel) of each row of ``frame``.
    decimal : str
        Decimal separator of numbers written as text: ``","`` in semicolon-separated CSV files
        (as spreadsheet programs in many locales write them), else ``"."``.
    """

    name: str
    source: str
    frame: pd.DataFrame
    lines: list[int]
    decimal: str = "."

    def where(self, i: int) -> str:
        """``"<source>, line <n>"`` for row ``i``."""
        return f"{self.source}, line {self.lines[i]}"

    def column(self, col: str) -> list[str]:
        """A column as strings ("" when the column is absent)."""
        if col in self.frame.columns:
            return self.frame[col].tolist()
        return [""] * len(self.frame)


def sniff(path: Path) -> bool:
    """A ``.csv``/``.xlsx``/``.xlsm`` file, or a zip or folder of ``activities.csv`` etc."""
    if path.suffix.lower() in {".csv", ".xlsx", ".xlsm"}:
        return True
    names = member_names(path)
    return names is not None and any(
        n.rstrip("/").split("/")[-1] in ("activities.csv", "exchanges.csv") for n in names
    )


# ---------------------------------------------------------------------------- reading raw tables
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value).strip()


def _make_table(
    name: str, source: str, rows: list[list[Any]], lines: list[int], decimal: str = "."
) -> Table:
    if not rows:
        raise DataFileError(f"{source}: the table is empty (no header line)")
    header = [_cell(h).lower() for h in rows[0]]
    while header and header[-1] == "":
        header.pop()
    if "" in header:
        raise DataFileError(
            f"{source}, line {lines[0]}: column {header.index('') + 1} has no header"
        )
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataFileError(f"{source}, line {lines[0]}: duplicate columns {dup}")
    missing = [c for c in _REQUIRED[name] if c not in header]
    if missing:
        raise DataFileError(
            f"{source}, line {lines[0]}: missing required columns {missing} (has {header})"
        )
    data, data_lines = [], []
    for row, line in zip(rows[1:], lines[1:], strict=True):
        cells = [_cell(v) for v in row]
        if not any(cells):
            continue  # blank line
        if cells[0].startswith("#"):
            continue  # comment line
        extra = cells[len(header) :]
        if any(extra):
            raise DataFileError(
                f"{source}, line {line}: {len(cells)} cells but the header has {len(header)}"
            )
        cells = (cells + [""] * len(header))[: len(header)]
        data.append(cells)
        data_lines.append(line)
    frame = pd.DataFrame(data, columns=header, dtype=object)
    return Table(name, source, frame, data_lines, decimal)


def _decode(raw: bytes, where: str) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM) or UTF-16 with its BOM; else an error.

    Other encodings (latin-1, cp1252) are refused rather than guessed, since a wrong guess
    silently changes names and ids.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{where}: invalid UTF-16 text ({exc.reason})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{where}: not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); save "
            f"the table as UTF-8 CSV"
        ) from None


def _read_csv_text(name: str, source: str, text: str) -> Table:
    if text.startswith("\ufeff"):
        text = text[1:]
    first = text.split("\n", 1)[0]
    semicolon = first.count(";") > first.count(",")
    reader = csv.reader(io.StringIO(text), delimiter=";" if semicolon else ",")
    rows, lines = [], []
    try:
        start = 1
        for row in reader:
            rows.append(row)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataFileError(f"{source}, line {reader.line_num}: {exc}") from None
    return _make_table(name, source, rows, lines, "," if semicolon else ".")


def _read_workbook(path: Path) -> dict[str, Table]:
    try:
        import openpyxl
    except ImportError:
        raise MissingExtraError("openpyxl", "excel", "reading Excel workbooks") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise DataFileError(f"{path.name}: cannot read the workbook ({exc})") from None
    tables = {}
    try:
        for sheet in book.worksheets:
            name = sheet.title.strip().lower()
            if name not in TABLES:
                continue
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            lines = list(range(1, len(rows) + 1))
            tables[name] = _make_table(name, f"{path.name}, sheet {sheet.title}", rows, lines)
    finally:
        book.close()
    return tables


def read_tables(paths: Sequence[str | os.PathLike[str]]) -> dict[str, Table]:
    """Read the raw tables from a folder, a zip, a workbook or individual CSV files.

    Parameters
    ----------
    paths : sequence of path-like
        One folder / zip / ``.xlsx`` file, or CSV files named after the tables.

    Returns
    -------
    dict
        ``{table name: Table}``.

    Raises
    ------
    DataFileError
        If a file is missing or unreadable, or a required table is absent.
    """
    tables: dict[str, Table] = {}

    def add(table: Table) -> None:
        if table.name in tables:
            raise DataFileError(
                f"the {table.name} table is given twice: {tables[table.name].source} and "
                f"{table.source}"
            )
        tables[table.name] = table

    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise DataFileError(f"{p}: no such file or folder")
        if p.is_dir():
            for name in TABLES:
                f = p / f"{name}.csv"
                if f.is_file():
                    add(_read_csv_text(name, f.name, _decode(f.read_bytes(), str(f))))
        elif p.suffix.lower() in {".xlsx", ".xlsm"}:
            for table in _read_workbook(p).values():
                add(table)
        elif p.suffix.lower() == ".csv":
            name = p.stem.lower()
            if name not in TABLES:
                raise DataFileError(
                    f"{p.name}: a table file must be named one of "
                    f"{', '.join(t + '.csv' for t in TABLES)}"
                )
            add(_read_csv_text(name, p.name, _decode(p.read_bytes(), str(p))))
        elif zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                for member in z.namelist():
                    stem = member.rsplit("/", 1)[-1]
                    if stem.lower().endswith(".csv") and stem[:-4].lower() in TABLES:
                        where = f"{p}:{member}"
                        text = _decode(read_member(z, z.getinfo(member), where), where)
                        add(_read_csv_text(stem[:-4].lower(), f"{p.name}:{member}", text))
        else:
            raise DataFileError(f"{p}: not a folder, zip, .csv or .xlsx file of tables")
    for name in TABLES[:3]:
        if name not in tables:
            where = ", ".join(str(p) for p in paths)
            raise DataFileError(f"{where}: the required table {name!r} is missing")
    return tables


# ---------------------------------------------------------------------------- value parsing
def _number(table: Table, i: int, col: str, text: str, default: float | None = None) -> float:
    if text == "":
        if default is not None:
            return default
        raise DataFileError(f"{table.where(i)}: column {col!r} is empty")
    try:
        value = float(text.replace(",", ".") if table.decimal == "," else text)
    except ValueError:
        raise DataFileError(f"{table.where(i)}: {col} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataFileError(f"{table.where(i)}: {col} {text!r} is not finite")
    return value


def _flag(table: Table, i: int, col: str, text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise DataFileError(f"{table.where(i)}: {col} {text!r} is not true/false")


def _unit_factor(table: Table, i: int, given: str, expected: str, what: str) -> float:
    """Factor converting an amount in ``given`` units to ``expected`` units."""
    factor = conversion_factor(given, expected)
    if factor is None:
        raise DataFileError(
            f"{table.where(i)}: unit {given!r} cannot be converted to {expected!r}, the unit "
            f"of {what}"
        )
    return factor


def _uncertainty(table: Table, i: int, amount: float, row: dict[str, str]) -> np.void:
    """One stats_arrays record (source sign) from the uncertainty columns of row ``i``."""
    dist = row.get("distribution", "").lower()
    pedigree = row.get("pedigree", "") or None
    where = table.where(i)
    if dist in ("", "none", "undefined", "0", "1") and not pedigree:
        return no_distribution(amount)
    num = lambda col: _number(table, i, col, row.get(col, ""))  # noqa: E731
    if pedigree and dist not in ("", "none", "lognormal", "2"):
        raise InvalidUncertaintyError(
            f"{where}: a pedigree applies to lognormal distributions only"
        )
    if dist in ("lognormal", "2", "", "none"):
        if amount == 0:
            raise InvalidUncertaintyError(f"{where}: a lognormal amount cannot be 0")
        gsd = _number(table, i, "gsd", row.get("gsd", ""), default=1.0)
        if gsd < 1:
            raise InvalidUncertaintyError(
                f"{where}: gsd {gsd} must be >= 1 (geometric standard deviation)"
            )
        rec = lognormal(amount, math.log(gsd) ** 2, pedigree=pedigree, where=where)
    elif dist in ("normal", "3"):
        rec = normal(amount, num("sd"), where=where)
    elif dist in ("uniform", "4"):
        lo, hi = num("min"), num("max")
        if not lo <= amount <= hi:
            raise InvalidUncertaintyError(
                f"{where}: uniform needs min < max and min <= amount <= max, got "
                f"min {lo}, amount {amount}, max {hi}"
            )
        rec = bounded(amount, "uniform", lo, hi, None, where)
    elif dist in ("triangular", "5"):
        mode = _number(table, i, "mode", row.get("mode", ""), default=amount)
        rec = bounded(amount, "triangular", num("min"), num("max"), mode, where)
    else:
        raise InvalidUncertaintyError(
            f"{where}: unknown distribution {dist!r} (none, lognormal, normal, uniform, triangular)"
        )
    return no_distribution(amount) if rec is None else rec


# ---------------------------------------------------------------------------- assembling
def _unique_ids(table: Table, col: str) -> list[str]:
    ids = table.column(col)
    seen: dict[str, int] = {}
    for i, x in enumerate(ids):
        if not x:
            raise DataFileError(f"{table.where(i)}: {col} is empty")
        if x in seen:
            raise DataFileError(
                f"{table.where(i)}: {col} {x!r} is already used on line {table.lines[seen[x]]}"
            )
        seen[x] = i
    return ids


_ACTIVITY_KNOWN = ("id", "name", "product_id", "product", "unit", "location", "amount", "waste")


def _activities(table: Table) -> tuple[pd.DataFrame, np.ndarray]:
    ids = _unique_ids(table, "id")
    names = table.column("name")
    for i, n in enumerate(names):
        if not n:
            raise DataFileError(f"{table.where(i)}: name is empty")
    product_ids = [p or a for p, a in zip(table.column("product_id"), ids, strict=True)]
    dup = pd.Series(product_ids).duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataFileError(f"{table.where(i)}: product_id {product_ids[i]!r} is used twice")
    amounts = np.array(
        [_number(table, i, "amount", t, 1.0) for i, t in enumerate(table.column("amount"))]
    )
    waste = np.array([_flag(table, i, "waste", t) for i, t in enumerate(table.column("waste"))])
    for bad in np.flatnonzero(amounts <= 0):
        raise DataFileError(
            f"{table.where(int(bad))}: amount {amounts[bad]} of the reference product must be > 0 "
            f"(mark waste treatments with the waste column, amounts stay positive)"
        )
    frame = pd.DataFrame(
        {
            "id": pd.Series(ids, dtype=object),
            "name": names,
            "product_id": pd.Series(product_ids, dtype=object),
            "product": [p or n for p, n in zip(table.column("product"), names, strict=True)],
            "unit": table.column("unit"),
            "location": table.column("location"),
            "waste": waste.astype(bool),
        }
    )
    for col in table.frame.columns:
        if col not in _ACTIVITY_KNOWN:
            frame[col] = table.column(col)
    return frame, amounts


def _flows(table: Table) -> pd.DataFrame:
    ids = _unique_ids(table, "id")
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object)})
    for col in ("name", "compartment", "unit", "cas"):
        frame[col] = table.column(col)
    for col in table.frame.columns:
        if col not in frame.columns:
            frame[col] = table.column(col)
    return frame


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
        tables (``activities.csv``, ``exchanges.csv``, ``flows.csv``, ``characterization.csv``).
    background : System, optional
        A database whose product ids (and flow ids) the exchanges may name. The result holds the
        foreground activities first, then the background's.
    **options
        ``ambiguous``, ``unlinked``, ``allocation``, ``strict`` are accepted (and checked) for a
        uniform :func:`lcasolve.load` and have no effect: a table names each provider
        explicitly, so an unknown provider is always an error.

    Returns
    -------
    System

    Raises
    ------
    DataFileError
        Missing tables or columns, bad numbers, duplicate or unknown ids (file and line named).
    LinkingError
        An exchange names a provider that is neither a foreground nor a background product.
    InvalidUncertaintyError
        Inconsistent uncertainty columns (file and line named).
    """
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(f"unknown options for the tables reader: {unknown}")
    LinkOptions(**{k: v for k, v in options.items() if k != "background"})  # checks the values
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    tables = read_tables(paths)
    system = _assemble(tables, background)
    meta: dict[str, Any] = (
        dict(background.metadata) if background is not None else {"format": "tables"}
    )
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


def _assemble(tables: dict[str, Table], bg: System | None) -> System:
    act_t, exc_t, flow_t = tables["activities"], tables["exchanges"], tables["flows"]
    acts, amounts = _activities(act_t)
    nf = len(acts)
    fg_flows = _flows(flow_t)
    if bg is not None:
        bg_ids = {str(x) for x in bg.activities["id"].tolist()}
        bg_products = {str(x) for x in bg.activities["product_id"].tolist()}
        for i, (a, p) in enumerate(zip(acts["id"], acts["product_id"], strict=True)):
            if a in bg_ids or p in bg_products:
                raise DataFileError(
                    f"{act_t.where(i)}: id {a!r} / product id {p!r} is also an id of the "
                    f"background database; give the foreground activity another id"
                )
        bg_flow_ids = {str(x) for x in bg.flows["id"].tolist()}
        fg_flows = fg_flows[~fg_flows["id"].isin(bg_flow_ids)]
        flows = pd.concat([bg.flows, fg_flows], ignore_index=True)
    else:
        flows = fg_flows.reset_index(drop=True)
    m_bg = bg.n_flows if bg is not None else 0
    flow_pos = {fid: m_bg + k for k, fid in enumerate(fg_flows["id"].tolist())}
    n = nf + (bg.n_activities if bg is not None else 0)
    act_pos = {a: j for j, a in enumerate(acts["id"].tolist())}
    prod_pos = {p: j for j, p in enumerate(acts["product_id"].tolist())}
    units = [_text(u) for u in acts["unit"].tolist()]
    waste = acts["waste"].to_numpy(dtype=bool)
    bg_units = [_text(u) for u in bg.activities["unit"].tolist()] if bg is not None else []
    bg_waste = (
        bg.activities["waste"].to_numpy(dtype=bool)
        if bg is not None and "waste" in bg.activities.columns
        else np.zeros(len(bg_units), dtype=bool)
    )
    flow_units = [_text(u) for u in flows["unit"].tolist()]

    t_row, t_col = list(range(nf)), list(range(nf))
    t_val = [(-a if w else a) for a, w in zip(amounts.tolist(), waste.tolist(), strict=True)]
    t_flip = [False] * nf
    t_unc = list(no_uncertainty(np.array(t_val)))
    b_row: list[int] = []
    b_col: list[int] = []
    b_val: list[float] = []
    b_unc: list[np.void] = []
    frame = exc_t.frame
    rows = frame.to_dict(orient="records")
    for i, row in enumerate(rows):
        j = act_pos.get(row["activity"])
        if j is None:
            raise DataFileError(
                f"{exc_t.where(i)}: activity {row['activity']!r} is not in the activities table"
            )
        kind = row["kind"].lower()
        amount = _number(exc_t, i, "amount", row["amount"])
        rec = _uncertainty(exc_t, i, amount, row)
        given_unit = row.get("unit", "")
        if kind == "technosphere":
            pid = row.get("provider", "") or row.get("flow", "")
            if not pid:
                raise DataFileError(f"{exc_t.where(i)}: technosphere exchange without provider")
            r = prod_pos.get(pid, act_pos.get(pid))
            if r is not None:
                unit, is_waste = units[r], bool(waste[r])
            elif bg is not None and (k := _lookup(bg.product_index, pid)) is not None:
                r, unit, is_waste = nf + k, bg_units[k], bool(bg_waste[k])
            else:
                where = " or the background database" if bg is not None else ""
                raise LinkingError(
                    f"{exc_t.where(i)}: provider {pid!r} is not a product of the activities "
                    f"table{where}"
                )
            f = _unit_factor(exc_t, i, given_unit, unit, f"provider {pid!r}")
            rec = scaled(rec, f)
            t_row.append(r)
            t_col.append(j)
            t_val.append(amount * f if is_waste else -amount * f)
            t_flip.append(not is_waste)
            t_unc.append(rec)
        elif kind == "biosphere":
            fid = row.get("flow", "") or row.get("provider", "")
            r = flow_pos.get(fid)
            if r is None and bg is not None:
                r = _lookup(bg.flow_index, fid)
            if r is None:
                raise DataFileError(f"{exc_t.where(i)}: flow {fid!r} is not in the flows table")
            f = _unit_factor(exc_t, i, given_unit, flow_units[r], f"flow {fid!r}")
            b_row.append(r)
            b_col.append(j)
            b_val.append(amount * f)
            b_unc.append(scaled(rec, f))
        else:
            raise DataFileError(
                f"{exc_t.where(i)}: kind {row['kind']!r} must be technosphere or biosphere"
            )

    tech = Entries.create(
        (n, n),
        np.asarray(t_row, dtype=np.int64),
        np.asarray(t_col, dtype=np.int64),
        np.asarray(t_val, dtype=np.float64),
        uncertainty=np.array(t_unc, dtype=UNCERTAINTY_DTYPE),
        flip=np.asarray(t_flip, dtype=bool),
        name="technosphere",
    )
    bio = Entries.create(
        (len(flows), n),
        np.asarray(b_row, dtype=np.int64),
        np.asarray(b_col, dtype=np.int64),
        np.asarray(b_val, dtype=np.float64),
        uncertainty=np.array(b_unc, dtype=UNCERTAINTY_DTYPE),
        name="biosphere",
    )
    cats, char = _characterization(tables.get("characterization"), bg, flow_pos, len(flows))
    if bg is not None:
        tech = Entries.concatenate([tech, _shifted(bg.technosphere, (n, n), nf, nf)])
        bio = Entries.concatenate([bio, _shifted(bg.biosphere, (len(flows), n), 0, nf)])
        bg_acts = bg.activities.copy()
        if "waste" not in bg_acts.columns:
            bg_acts["waste"] = False
        acts = pd.concat([acts, bg_acts], ignore_index=True)
        acts["waste"] = acts["waste"].fillna(False).astype(bool)
        for col in acts.columns:
            if acts[col].dtype == object:
                acts[col] = acts[col].where(acts[col].notna(), "")
    return System(tech, bio, char, acts, flows, cats, {})


def _shifted(e: Entries, shape: tuple[int, int], drow: int, dcol: int) -> Entries:
    return Entries(shape, e.row + drow, e.col + dcol, e.value, e.uncertainty, e.flip)


def _characterization(
    table: Table | None, bg: System | None, flow_pos: dict[str, int], m: int
) -> tuple[pd.DataFrame, Entries]:
    cats = bg.categories.copy() if bg is not None else pd.DataFrame(columns=["id", "name", "unit"])
    names = cats["name"].astype(str).tolist()
    units = cats["unit"].astype(str).tolist()
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    if table is not None:
        for i, row in enumerate(table.frame.to_dict(orient="records")):
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
            rows.append(k)
            cols.append(c)
            vals.append(_number(table, i, "factor", row["factor"]))
    k = len(names)
    cats = cats.reset_index(drop=True)
    fg = Entries.create(
        (k, m),
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        np.asarray(vals, dtype=np.float64),
        name="characterization",
    )
    if bg is None:
        return cats, fg
    return cats, Entries.concatenate([_shifted(bg.characterization, (k, m), 0, 0), fg])
