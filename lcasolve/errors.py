"""Exceptions raised by lcasolve.

Every error names what is wrong: the activity, flow, file, resource or line. All inherit from
:class:`LcasolveError`; errors about bad input also inherit from :class:`ValueError` so that generic
callers that catch ``ValueError`` keep working.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CorruptChunkWarning",
    "DataFileError",
    "EmptySystemError",
    "FormulaError",
    "FormulaEvaluationError",
    "FormulaSyntaxError",
    "IllConditionedError",
    "IllConditionedWarning",
    "InputError",
    "InvalidParameterError",
    "InvalidProductionError",
    "InvalidSampleError",
    "InvalidSampleWarning",
    "InvalidUncertaintyError",
    "LcasolveError",
    "LcasolveWarning",
    "LinkingError",
    "MissingExtraError",
    "MissingReferenceError",
    "NonFiniteValueError",
    "NotProductiveError",
    "OutputExistsError",
    "OutputWriteError",
    "ParameterCycleError",
    "PatternChangedError",
    "ResumeMismatchError",
    "RunLockedError",
    "ShapeMismatchError",
    "SingularSystemError",
    "UnknownCategoryError",
    "UnknownDemandError",
    "UnknownFormatError",
    "UnknownParameterError",
    "UsageError",
    "format_ids",
]


def format_ids(ids: Iterable[object], limit: int = 10) -> str:
    """Format ids for an error message, at most ``limit`` of them and a count of the rest.

    Parameters
    ----------
    ids : iterable
        The ids to list.
    limit : int, optional
        How many to print before summarizing.

    Returns
    -------
    str
        For example ``"101, 102 and 3 more"``.
    """
    items = list(ids)
    shown = ", ".join(repr(x) if isinstance(x, str) else str(x) for x in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


class LcasolveError(Exception):
    """Base class of every error lcasolve raises on purpose."""


class InputError(LcasolveError, ValueError):
    """Input data or arguments are invalid."""


class ShapeMismatchError(InputError):
    """Matrices or tables do not fit together (e.g. ``B`` has other columns than ``A``)."""


class EmptySystemError(InputError):
    """The technosphere has no activities."""


class NonFiniteValueError(InputError):
    """A matrix entry or parameter is NaN or infinite."""


class InvalidProductionError(InputError):
    """An activity produces zero or a negative amount of its reference product."""


class InvalidParameterError(InputError):
    """An analysis setting is out of range (a cut-off not in (0, 1), a node budget < 1, ...)."""


class InvalidUncertaintyError(InputError):
    """Uncertainty parameters are invalid (unknown distribution, scale <= 0, min > max, ...)."""


class UnknownDemandError(InputError, KeyError):
    """A demand names a product that is not in the system."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownCategoryError(InputError, KeyError):
    """An impact category (method) is not in the system."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownFormatError(InputError):
    """A file is in none of the formats lcasolve reads."""


class DataFileError(InputError):
    """A data file is missing, truncated or corrupt; the message names the file and the part."""


class MissingReferenceError(DataFileError):
    """A data set refers to a flow, unit, unit group or flow property that no input defines.

    The message names the file, the process and exchange, and the missing id; reading the
    reference data along (e.g. ``reference_data=`` for openLCA JSON-LD) usually resolves it.
    """


class LinkingError(InputError):
    """An exchange cannot be linked to a provider under the chosen policy."""


class OutputExistsError(LcasolveError, FileExistsError):
    """An output file exists and neither resume nor overwrite was asked for."""


class OutputWriteError(LcasolveError, OSError):
    """An output could not be written (missing or read-only folder, full disk, quota).

    The message names the output file and the system's reason on one line; the target is left
    as it was and the temporary file is removed.
    """


class RunLockedError(LcasolveError):
    """Another process is writing the same Monte Carlo run file (its lock is held)."""


class SingularSystemError(LcasolveError, ArithmeticError):
    """The technosphere matrix is singular; the message names the activities involved.

    Attributes
    ----------
    activities : list
        Ids of the activities in the dependent set (or the block that contains it).
    """

    def __init__(self, message: str, activities: Iterable[object] = ()) -> None:
        super().__init__(message)
        self.activities = list(activities)


class NotProductiveError(LcasolveError, ArithmeticError):
    """A block of activities that only take inputs from each other amplifies demand.

    For a non-negative demand such a block (spectral radius of its technical coefficients
    ``≥ 1``) gives negative supplies: the numbers would be meaningless. The message names a few
    of the block's activities and their count.

    Attributes
    ----------
    activities : list
        Ids of the block's activities.
    """

    def __init__(self, message: str, activities: Iterable[object] = ()) -> None:
        super().__init__(message)
        self.activities = list(activities)


class PatternChangedError(InputError):
    """A refactorization was given values on another sparsity pattern than the factorized one."""


class IllConditionedError(LcasolveError, ArithmeticError):
    """A solution cannot be trusted: its residual or its forward-error bound is too large.

    Raised when a solve does not reach the required relative residual even after refinement,
    or when the technosphere's condition makes the bound of the solution's relative error
    exceed the limit (see :mod:`lcasolve.solve.conditioning`).

    Attributes
    ----------
    residual : float
        The relative residual (NaN when the residual was fine).
    condition : float
        Skeel's condition estimate (NaN when not computed).
    error_bound : float
        Bound of the relative forward error (NaN when not computed).
    activities : list
        Ids of the activities most involved (empty when unknown).
    """

    def __init__(
        self,
        message: str,
        residual: float = float("nan"),
        *,
        condition: float = float("nan"),
        error_bound: float = float("nan"),
        activities: Iterable[object] = (),
    ) -> None:
        super().__init__(message)
        self.residual = residual
        self.condition = condition
        self.error_bound = error_bound
        self.activities = list(activities)


class InvalidSampleError(LcasolveError, ArithmeticError):
    """Monte Carlo samples drew a production amount ≤ 0 or made a loop unproductive.

    Attributes
    ----------
    iterations : list of int
        The flagged iterations.
    """

    def __init__(self, message: str, iterations: Iterable[int] = ()) -> None:
        super().__init__(message)
        self.iterations = [int(i) for i in iterations]


class LcasolveWarning(UserWarning):
    """Base class of the warnings lcasolve issues."""


class InvalidSampleWarning(LcasolveWarning, RuntimeWarning):
    """A Monte Carlo run kept (flagged) or dropped samples without meaning."""


class IllConditionedWarning(LcasolveWarning, RuntimeWarning):
    """A result's forward-error bound is above the warning level (but below the limit)."""


class CorruptChunkWarning(LcasolveWarning, RuntimeWarning):
    """A resumed Monte Carlo run computes again the chunks of its file that are corrupt."""


class MissingExtraError(LcasolveError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}; "
            f"install it with: pip install 'lcasolve[{extra}]'"
        )
        self.package = package
        self.extra = extra


class FormulaError(InputError):
    """A formula or parameter definition is invalid; the message names where it is used.

    Attributes
    ----------
    formula : str
        The formula's text (empty when the error is about a set of parameters).
    where : str
        The process, exchange or parameter the formula belongs to (may be empty).
    """

    def __init__(self, message: str, formula: str = "", where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.formula = formula
        self.where = where


class FormulaSyntaxError(FormulaError):
    """A formula does not parse; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, formula: str, position: int, where: str = "") -> None:
        super().__init__(
            f"syntax error in formula {formula!r} at position {position + 1}: {message}",
            formula,
            where,
        )
        self.position = position
        self.reason = message


class UnknownParameterError(FormulaError):
    """A formula uses a name that is neither a parameter in scope nor a constant."""

    def __init__(self, name: str, formula: str = "", where: str = "", hint: str = "") -> None:
        text = f"unknown parameter {name!r}"
        if formula:
            text += f" in formula {formula!r}"
        if hint:
            text += f": {hint}"
        super().__init__(text, formula, where)
        self.name = name


class ParameterCycleError(FormulaError):
    """Parameters are defined in terms of each other; ``cycle`` lists them in order."""

    def __init__(self, cycle: Iterable[object], where: str = "") -> None:
        self.cycle = list(cycle)
        chain = " -> ".join(str(c) for c in [*self.cycle, self.cycle[0]]) if self.cycle else ""
        super().__init__(f"parameters depend on each other in a cycle: {chain}", "", where)


class FormulaEvaluationError(FormulaError, NonFiniteValueError):
    """A formula divides by zero or gives a non-finite value (``reason`` says which part)."""

    def __init__(self, message: str, formula: str, where: str = "", sample: int | None = None):
        text = f"formula {formula!r}: {message}"
        if sample is not None:
            text += f" (sample {sample})"
        super().__init__(text, formula, where)
        self.reason = message
        self.sample = sample


class UsageError(InputError):
    """A command-line option or argument is wrong (the CLI exits with status 2)."""


class ResumeMismatchError(UsageError):
    """A run file to resume was made with other settings than the run asked for."""
