"""Unit conversion for the readers, from one table (``lcasolve/io/data/units.csv``).

Each unit names the reference unit of its dimension and the factor to it, with the factors of
openLCA's reference unit groups (so that databases exported by openLCA in several formats agree:
``lb`` is 0.4536 kg there). Formats that carry their own unit groups (JSON-LD, ILCD) convert with
those; EcoSpold2 and the tables reader, whose files name units only, convert with this table.
Look-ups are exact first, then case-insensitive (``MJ``/``mj``, ``kWh``/``kwh``).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

__all__ = ["conversion_factor", "reference_unit", "unit_table"]


@cache
def unit_table() -> dict[str, tuple[str, float]]:
    """Unit name -> (reference unit of its dimension, factor to it)."""
    text = resources.files("lcasolve.io").joinpath("data/units.csv").read_text(encoding="utf-8")
    return {
        row["unit"]: (row["reference"], float(row["factor"]))
        for row in csv.DictReader(text.splitlines())
    }


@cache
def _folded() -> dict[str, tuple[str, float]]:
    out: dict[str, tuple[str, float]] = {}
    for unit, value in unit_table().items():
        out.setdefault(unit.lower(), value)
    return out


def reference_unit(unit: str) -> tuple[str, float] | None:
    """``(reference unit, factor)`` of a unit name, or None when the table does not know it."""
    got = unit_table().get(unit)
    return got if got is not None else _folded().get(unit.strip().lower())


def conversion_factor(given: str, expected: str) -> float | None:
    """Factor taking an amount in ``given`` units to ``expected`` units.

    1 for equal names (ignoring case) or when either is empty; None when the units are unknown
    or of different dimensions.
    """
    if not given or not expected or given.strip().lower() == expected.strip().lower():
        return 1.0
    g, e = reference_unit(given), reference_unit(expected)
    if g is None or e is None or g[0] != e[0]:
        return None
    return g[1] / e[1]
