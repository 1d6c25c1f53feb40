"""Scenario difference files as the Activity Browser and premise write them.

A table (CSV or Excel) with one row per exchange and one column per scenario::

    from key | to key | flow type | <scenario 1> | <scenario 2> | ...

``from key`` / ``to key`` are brightway keys (``"('db', 'code')"``; the code is matched against
the system's ids) — or the columns ``from id`` / ``to id`` give the ids directly. ``flow type`` is
``technosphere`` (an input, entered negative), ``production`` (positive) or ``biosphere``
(as given). The other columns of the format (names, locations, databases, categories) are read
for messages only. Each scenario column gives the exchange amounts that replace the system's
values (entries at one position are replaced together).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import DataFileError

__all__ = ["ExchangeScenarios", "array_scenarios", "read_scenario_file"]

_META = {
    "from activity name", "from reference product", "from location", "from categories",
    "from database", "from key", "from id", "from unit", "to activity name",
    "to reference product", "to location", "to categories", "to database", "to key", "to id",
    "to unit", "flow type",
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class ExchangeScenarios:
    """Matrix entries replaced per scenario.

    Attributes
    ----------
    names : list of str
        Scenario names (the columns of the file).
    entries : dict
        Matrix name -> (entry indices, values ``(n, scenarios)``) in matrix sign.
    """

    names: list[str]
    entries: dict[str, tuple[np.ndarray, np.ndarray]]


def _code(text: Any) -> Hashable:
    value = str(text).strip()
    if value.startswith("("):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        if isinstance(parsed, tuple) and parsed:
            return parsed[-1]  # type: ignore[no-any-return]
    return value


def _lookup(index: Any, key: Hashable) -> int | None:
    for candidate in (key, str(key)):
        if candidate in index:
            return int(index[candidate])
    try:
        number = int(str(key))
    except ValueError:
        return None
    return int(index[number]) if number in index else None


def read_scenario_file(path: str | os.PathLike[str], system: Any) -> ExchangeScenarios:
    """Read a scenario difference file against a system.

    Parameters
    ----------
    path : path-like
        ``.csv`` (comma or semicolon separated) or ``.xlsx``.
    system : System
        The system whose entries the scenarios replace.

    Returns
    -------
    ExchangeScenarios

    Raises
    ------
    DataFileError
        Naming the file and line: a missing column, an unknown id, an exchange that is not in
        the system, a flow type other than the three, or an amount that is not a finite number.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            table = pd.read_excel(path, dtype=object)
        else:
            table = pd.read_csv(path, sep=None, engine="python", dtype=object)
    except (ValueError, OSError, ImportError) as exc:
        raise DataFileError(
            f"{path}: cannot be read as a scenario difference file ({exc})"
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    lower = {c.lower(): c for c in table.columns}
    source = lower.get("from id") or lower.get("from key")
    target = lower.get("to id") or lower.get("to key")
    kind = lower.get("flow type")
    if not (source and target and kind):
        raise DataFileError(
            f"{path}: a scenario difference file needs the columns 'from key' (or 'from id'), "
            f"'to key' (or 'to id') and 'flow type'; found {list(table.columns)}"
        )
    names = [c for c in table.columns if c.lower() not in _META]
    if not names:
        raise DataFileError(f"{path}: no scenario column (every column is exchange metadata)")
    found: dict[str, dict[int, np.ndarray]] = {"technosphere": {}, "biosphere": {}}
    positions: dict[str, dict[tuple[int, int], list[int]]] = {m: {} for m in found}
    for m, at in positions.items():
        entries_m = getattr(system, m)
        for i, key in enumerate(zip(entries_m.row.tolist(), entries_m.col.tolist(), strict=True)):
            at.setdefault(key, []).append(i)
    for line, row in enumerate(table.itertuples(index=False), start=2):
        record = dict(zip(table.columns, row, strict=True))
        flow_type = str(record[kind]).strip().lower()
        where = f"{path}, line {line}"
        a, b = _code(record[source]), _code(record[target])
        col = _lookup(system.activity_index, b)
        if col is None:
            raise DataFileError(f"{where}: 'to' {b!r} is not an activity of the system")
        if flow_type in ("technosphere", "production"):
            # brightway names the producing activity; its reference product is row j of A
            row_pos = _lookup(system.product_index, a)
            matrix = "technosphere"
            if row_pos is None:
                row_pos = _lookup(system.activity_index, a)
            sign = -1.0 if flow_type == "technosphere" else 1.0
        elif flow_type == "biosphere":
            matrix, row_pos, sign = "biosphere", _lookup(system.flow_index, a), 1.0
        else:
            raise DataFileError(
                f"{where}: flow type {record[kind]!r}; expected technosphere, production or "
                "biosphere"
            )
        if row_pos is None:
            what = "product" if matrix == "technosphere" else "flow"
            raise DataFileError(f"{where}: 'from' {a!r} is not a {what} of the system")
        hits = positions[matrix].get((row_pos, col))
        if not hits:
            raise DataFileError(
                f"{where}: the system has no {matrix} exchange from {a!r} to {b!r} (a scenario "
                "can change amounts, not add exchanges)"
            )
        try:
            amounts = np.array([float(record[n]) for n in names])
        except (TypeError, ValueError):
            raise DataFileError(f"{where}: a scenario amount is not a number") from None
        if not np.isfinite(amounts).all():
            raise DataFileError(f"{where}: a scenario amount is not finite")
        first, *others = hits
        found[matrix][first] = sign * amounts
        for other in others:
            found[matrix][other] = np.zeros(len(names))
    entries = {
        m: (np.fromiter(v.keys(), dtype=np.int64), np.vstack(list(v.values())))
        for m, v in found.items()
        if v
    }
    return ExchangeScenarios(names, entries)


def array_scenarios(system: Any) -> ExchangeScenarios:
    """One scenario per column of the system's bw_processing ``array`` resources.

    The datapackage reader keeps them in ``system.metadata["arrays"]`` (matrix sign).

    Raises
    ------
    DataFileError
        When the inputs have no array resource.
    """
    arrays = system.metadata.get("arrays") or {}
    entries = {
        m: (np.asarray(a["entries"], dtype=np.int64), np.asarray(a["values"], dtype=np.float64))
        for m, a in arrays.items()
        if m in ("technosphere", "biosphere")
    }
    if not entries:
        raise DataFileError(
            "the inputs have no bw_processing array resource to take scenarios from"
        )
    width = max(v.shape[1] for _, v in entries.values())
    return ExchangeScenarios([f"column {k}" for k in range(width)], entries)
