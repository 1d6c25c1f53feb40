"""Parameters and formulas: openLCA's and SimaPro's formula language, evaluated with numpy.

>>> from lcasolve.parameters import Formula
>>> f = Formula.parse("if(d > 100; d*frac; 0) + 2^-1")
>>> f.evaluate({"d": 200, "frac": 0.25})
50.5
>>> f.evaluate({"d": [50, 200], "frac": 0.25})  # K samples -> K values, one pass
array([ 0.5, 50.5])
>>> str(f.derivative("frac"))
'if(d > 100; d; 0)'

Formulas are parsed by a tokenizer and a precedence-climbing parser into an immutable tree; no
text ever reaches Python's ``eval``. Errors (in :mod:`lcasolve.errors`) name where the formula is
used: :class:`~lcasolve.errors.FormulaSyntaxError` (with the position),
:class:`~lcasolve.errors.UnknownParameterError`, :class:`~lcasolve.errors.ParameterCycleError`
(listing the cycle) and :class:`~lcasolve.errors.FormulaEvaluationError` (division by zero or a
non-finite value, naming the operation).

A :class:`ParameterSet` holds global, database and process-scoped parameters and the matrix
entries defined by formulas; attached to a :class:`~lcasolve.model.System` as
``system.parameters``, ``system.with_parameters({"dist": 120, "PROCESS_ID/frac": 0.3})`` gives
a new system with those entries re-evaluated.
"""

from __future__ import annotations

from lcasolve.parameters._graph import dependency_order
from lcasolve.parameters.analysis import (
    BACKGROUND,
    ParameterMonteCarlo,
    ScenarioResult,
    beats,
    draw_parameters,
    parameter_monte_carlo,
    parameter_sobol,
    solve_scenarios,
)
from lcasolve.parameters.batch import ParameterBatch
from lcasolve.parameters.formula import Formula, prepare_values
from lcasolve.parameters.local import (
    ParameterSensitivity,
    entry_jacobian,
    parameter_sensitivities,
)
from lcasolve.parameters.parameter_set import (
    DATABASE,
    FormulaEntry,
    Parameter,
    ParameterSet,
    apply_parameters,
    scope_label,
)

__all__ = [
    "BACKGROUND",
    "DATABASE",
    "ParameterBatch",
    "ParameterMonteCarlo",
    "ScenarioResult",
    "beats",
    "draw_parameters",
    "parameter_monte_carlo",
    "parameter_sobol",
    "solve_scenarios",
    "Formula",
    "FormulaEntry",
    "Parameter",
    "ParameterSensitivity",
    "ParameterSet",
    "apply_parameters",
    "dependency_order",
    "entry_jacobian",
    "parameter_sensitivities",
    "prepare_values",
    "scope_label",
]
