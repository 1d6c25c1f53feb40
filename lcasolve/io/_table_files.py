"""Raw tables of the tables format: CSV files, zips, folders and Excel workbooks as strings.

:func:`read_tables` gives each table as a :class:`Table` of stripped strings with the source line
of every row; the cell parsers (:func:`number`, :func:`flag`, :func:`unit_factor`,
:func:`uncertainty`) turn cells into values with errors naming the file (or workbook sheet) and
line. :mod:`lcasolve.io.tables` builds the system from them.
"""

from __future__ import annotations

import csv
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

from lcasolve.errors import DataFileError, InvalidUncertaintyError, MissingExtraError
from lcasolve.io._files import read_member
from lcasolve.io.distributions import bounded, lognormal, no_distribution, normal
from lcasolve.io.units import conversion_factor

__all__ = [
    "TABLES",
    "Table",
    "flag",
    "number",
    "activity_frame",
    "flow_frame",
    "read_tables",
    "uncertainty",
    "unique_ids",
    "unit_factor",
]

#: Table names; the first three are required.
TABLES = ("activities", "exchanges", "flows", "characterization", "parameters")
_REQUIRED = {
    "activities": ("id", "name"),
    "exchanges": ("activity", "kind"),
    "flows": ("id", "name"),
    "characterization": ("category", "flow"),
    "parameters": ("name",),
}
#: at least one of these columns: a value or the formula that gives it
_VALUE_COLUMNS = {
    "exchanges": ("amount", "formula"),
    "characterization": ("factor", "formula"),
    "parameters": ("value", "formula"),
}

_TRUE = {"1", "true", "yes", "y", "x", "waste"}
_FALSE = {"", "0", "false", "no", "n"}


@dataclass(frozen=True, eq=False)
class Table:
    """One table as strings, with the source line of each row.

    Attributes
    ----------
    name : str
        One of :data:`TABLES`.
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

    def records(self) -> list[dict[str, str]]:
        """The rows as ``{column: cell}``."""
        return self.frame.to_dict(orient="records")  # type: ignore[return-value]

    def column(self, col: str) -> list[str]:
        """A column as strings ("" when the column is absent)."""
        if col in self.frame.columns:
            return self.frame[col].tolist()
        return [""] * len(self.frame)


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
    either = _VALUE_COLUMNS.get(name, ())
    if either and not any(c in header for c in either):
        missing.append(either[0])
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
    _check_workbook_parts(path)
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
            where = f"{path.name}, sheet {sheet.title}"
            try:  # read-only sheets are parsed while iterating: XML errors surface here
                rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            except Exception as exc:  # noqa: BLE001 - openpyxl and its XML parser raise many types
                raise DataFileError(f"{where}: cannot read the sheet ({exc})") from None
            lines = list(range(1, len(rows) + 1))
            tables[name] = _make_table(name, where, rows, lines)
    finally:
        book.close()
    return tables


def _check_workbook_parts(path: Path) -> None:
    """Refuse a workbook whose XML parts declare a DOCTYPE, or whose parts are zip bombs.

    Excel never writes a document type declaration; one in a workbook can only bring entities
    (expansion bombs, external references), so it is refused before openpyxl parses anything.
    Every part is inflated through :func:`~lcasolve.io._files.read_member` (capped).
    """
    from lcasolve.io._files import open_zip, read_member

    with open_zip(path) as z:
        for info in z.infolist():
            if info.is_dir() or not info.filename.lower().endswith((".xml", ".rels")):
                continue
            data = read_member(z, info, f"{path.name}:{info.filename}")
            if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
                raise DataFileError(
                    f"{path.name}: part {info.filename} declares a DOCTYPE or entities, which "
                    f"workbooks never need (refused: entity expansion and external references)"
                )


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
def number(table: Table, i: int, col: str, text: str, default: float | None = None) -> float:
    """The number in cell ``text`` of row ``i`` (``default`` when empty, else an error)."""
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


def flag(table: Table, i: int, col: str, text: str) -> bool:
    """A true/false cell (``1``/``yes``/``x``/``waste`` or ``0``/``no``/empty)."""
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise DataFileError(f"{table.where(i)}: {col} {text!r} is not true/false")


def unit_factor(table: Table, i: int, given: str, expected: str, what: str) -> float:
    """Factor converting an amount in ``given`` units to ``expected`` units."""
    factor = conversion_factor(given, expected)
    if factor is None:
        raise DataFileError(
            f"{table.where(i)}: unit {given!r} cannot be converted to {expected!r}, the unit "
            f"of {what}"
        )
    return factor


def uncertainty(table: Table, i: int, amount: float, row: dict[str, str]) -> np.void:
    """One stats_arrays record (source sign) from the uncertainty columns of row ``i``."""
    dist = row.get("distribution", "").lower()
    pedigree = row.get("pedigree", "") or None
    where = table.where(i)
    if dist in ("", "none", "undefined", "0", "1") and not pedigree:
        return no_distribution(amount)
    num = lambda col: number(table, i, col, row.get(col, ""))  # noqa: E731
    if pedigree and dist not in ("", "none", "lognormal", "2"):
        raise InvalidUncertaintyError(
            f"{where}: a pedigree applies to lognormal distributions only"
        )
    if dist in ("lognormal", "2", "", "none"):
        if amount == 0:
            raise InvalidUncertaintyError(f"{where}: a lognormal amount cannot be 0")
        gsd = number(table, i, "gsd", row.get("gsd", ""), default=1.0)
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
        mode = number(table, i, "mode", row.get("mode", ""), default=amount)
        rec = bounded(amount, "triangular", num("min"), num("max"), mode, where)
    else:
        raise InvalidUncertaintyError(
            f"{where}: unknown distribution {dist!r} (none, lognormal, normal, uniform, triangular)"
        )
    return no_distribution(amount) if rec is None else rec


def unique_ids(table: Table, col: str) -> list[str]:
    """The non-empty, unique ids of a column (an error names the line of a repeat)."""
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


def activity_frame(table: Table) -> tuple[pd.DataFrame, np.ndarray]:
    """The activities table as a frame (tags kept) and the reference amounts."""
    ids = unique_ids(table, "id")
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
        [number(table, i, "amount", t, 1.0) for i, t in enumerate(table.column("amount"))]
    )
    waste = np.array([flag(table, i, "waste", t) for i, t in enumerate(table.column("waste"))])
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


def flow_frame(table: Table) -> pd.DataFrame:
    """The flows table as a frame (extra columns kept)."""
    ids = unique_ids(table, "id")
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object)})
    for col in ("name", "compartment", "unit", "cas"):
        frame[col] = table.column(col)
    for col in table.frame.columns:
        if col not in frame.columns:
            frame[col] = table.column(col)
    return frame
