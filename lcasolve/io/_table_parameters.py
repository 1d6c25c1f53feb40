"""Parameters of the tables format: the ``parameters`` table and the ``formula`` cells.

:func:`parameters` reads the ``parameters`` table (global parameters, and an activity's own with
``scope``) as :class:`lcasolve.parameters.Parameter`; :class:`Formulas` evaluates the ``formula``
cells of exchanges and characterization factors with them, by the formula engine of
:mod:`lcasolve.parameters` (a restricted parser, never ``eval``). Errors name the table, line and
parameter or formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lcasolve.errors import DataFileError, ParameterCycleError
from lcasolve.io._table_files import Table, number, uncertainty

__all__ = ["Formulas", "parameters"]

#: what a relative difference between a given amount and its formula's value may be
AGREE = 1e-9


def parameters(table: Table | None, activities: set[str]) -> list[Any]:
    """The rows of the parameters table as :class:`lcasolve.parameters.Parameter`."""
    if table is None:
        return []
    from lcasolve.parameters import Formula, Parameter

    out = []
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(table.records()):
        where = table.where(i)
        name = row["name"]
        if not (
            name and (name[0].isalpha() or name[0] == "_") and name.replace("_", "a").isalnum()
        ):
            raise DataFileError(
                f"{where}: parameter name {name!r} must be a letter or '_' followed by letters, "
                f"digits or '_' (as formulas write it)"
            )
        scope = row.get("scope", "")
        if scope and scope not in activities:
            raise DataFileError(
                f"{where}: scope {scope!r} of parameter {name!r} is not an activity id of the "
                f"activities table (leave it empty for a global parameter)"
            )
        key = (scope, name.casefold())
        if key in seen:
            raise DataFileError(
                f"{where}: parameter {name!r} is already defined on line {table.lines[seen[key]]}"
                f"{f' for activity {scope!r}' if scope else ''} (names ignore case)"
            )
        seen[key] = i
        note = row.get("description", "") or row.get("comment", "")
        text = row.get("formula", "")
        pwhere = f"{where} (parameter {name!r})"
        if text:
            if row.get("distribution", "") or row.get("pedigree", ""):
                raise DataFileError(
                    f"{pwhere}: a parameter with a formula cannot have a distribution (only "
                    f"input parameters are uncertain)"
                )
            value = number(table, i, "value", row.get("value", ""), default=math.nan)
            formula = Formula.parse(text, decimal=table.decimal, where=pwhere)
            out.append(Parameter(name, value, formula, scope or None, None, note))
            continue
        value = number(table, i, "value", row.get("value", ""))
        rec = uncertainty(table, i, value, row)
        unc = np.asarray(rec) if int(rec["uncertainty_type"]) > 1 else None
        out.append(Parameter(name, value, None, scope or None, unc, note))
    return out


@dataclass
class Formulas:
    """The parameters and their values; evaluates the formula cells of the other tables."""

    parameters: list[Any]
    source: str
    _set: Any = field(default=None, init=False)
    _values: Any = field(default=None, init=False)

    def check(self, needed: bool = False) -> None:
        """Build the parameter set and evaluate it (unknown names, cycles, division by zero).

        Without parameters it is built only when ``needed`` (a formula cell).
        """
        if self._set is not None or not (self.parameters or needed):
            return
        from lcasolve.parameters import ParameterSet

        try:
            self._set = ParameterSet(tuple(self.parameters))
        except ParameterCycleError as exc:
            raise ParameterCycleError(exc.cycle, where=self.source) from None
        self._values = self._set.evaluate()

    def value(
        self, table: Table, i: int, col: str, row: dict[str, str], scope: str | None
    ) -> tuple[float, str]:
        """``(value, formula text)`` of a cell whose ``formula`` column may define it."""
        text = row.get("formula", "")
        if not text:
            return number(table, i, col, row.get(col, "")), ""
        from lcasolve.parameters import Formula

        self.check(needed=True)
        where = f"{table.where(i)} (formula of {col})"
        formula = Formula.parse(text, decimal=table.decimal, where=where)
        value = float(self._set.evaluate_formula(formula, scope, self._values))
        given = row.get(col, "")
        if given:
            stored = number(table, i, col, given)
            if abs(stored - value) > AGREE * max(abs(stored), abs(value)):
                raise DataFileError(
                    f"{table.where(i)}: {col} {given} differs from its formula {text!r} = "
                    f"{value:.12g}; leave {col} empty (the formula gives it) or correct it"
                )
        return value, text
