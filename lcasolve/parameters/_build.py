"""Attach the parameters and amount formulas a reader found to the system it assembled."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from lcasolve.errors import FormulaError
from lcasolve.parameters.formula import Formula
from lcasolve.parameters.parameter_set import FormulaEntry, Parameter, ParameterSet

__all__ = ["FormulaSource", "attach_parameters"]

#: (matrix, entry index, formula text, where, factor, scope, decimal mark)
FormulaSource = tuple[str, int, str, str, float, Hashable, str]


def attach_parameters(
    system: Any,
    parameters: Sequence[Parameter],
    sources: Sequence[FormulaSource],
    problems: Any,
) -> Any:
    """Return the system with a :class:`ParameterSet` of the parameters and formula entries.

    A formula that does not parse is a problem for ``problems`` (raised when strict; else listed,
    and the entry keeps the stored amount without its formula). Unknown names and cycles stop a
    strict read; otherwise they are listed and the system is returned without parameters.

    Parameters
    ----------
    system : System
        The assembled system (entry order as the reader added them).
    parameters : sequence of Parameter
        Global, database and process parameters.
    sources : sequence of FormulaSource
        The entries defined by formulas.
    problems : Problems
        The reader's problem collector (``add`` raises when strict).

    Returns
    -------
    System
    """
    if not parameters and not sources:
        return system
    entries: list[FormulaEntry] = []
    for matrix, index, text, where, factor, scope, decimal in sources:
        try:
            formula = Formula.parse(text, decimal=decimal, where=where)
        except FormulaError as exc:
            problems.add(exc)
            continue
        matrix_entries = getattr(system, matrix)
        row, col = int(matrix_entries.row[index]), int(matrix_entries.col[index])
        entries.append(FormulaEntry(matrix, index, row, col, formula, factor, scope))
    try:
        params = ParameterSet(tuple(parameters), tuple(entries))
    except FormulaError as exc:
        problems.add(exc)
        meta = {**system.metadata, "parameters_dropped": str(exc), "problems": list(problems.items)}
        return dataclasses.replace(system, metadata=meta)
    meta = {**system.metadata, "problems": list(problems.items)}
    return dataclasses.replace(system, parameters=params, metadata=meta)


def stored_mismatch(system: Any) -> dict[str, float]:
    """Largest relative difference between formula entries and the stored values, per matrix.

    Parameters
    ----------
    system : System
        A system with parameters, as read (values are the amounts the source stored).

    Returns
    -------
    dict
        Matrix name -> max ``|formula - stored| / |stored|`` (0 where both are 0).
    """
    params = system.parameters
    out: dict[str, float] = {}
    for matrix, (index, values) in params.entry_values(params.evaluate()).items():
        stored = getattr(system, matrix).value[index]
        scale = np.maximum(np.abs(stored), np.finfo(float).tiny)
        diff = np.abs(values - stored)
        out[matrix] = float(np.max(np.where(diff == 0, 0.0, diff / scale)))
    return out
