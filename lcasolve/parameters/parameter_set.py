"""Named parameters in scopes, dependent parameters and matrix entries defined by formulas.

A :class:`ParameterSet` holds global, database and process-scoped parameters (each a value with
an optional stats_arrays distribution, or a formula of other parameters) and the matrix entries
whose amounts are formulas. A formula of a process sees that process's parameters first, then
the database's, then the global ones; a database formula sees database and global parameters; a
global formula sees global parameters only. Evaluation is vectorized: give any input parameter
K samples and every dependent parameter and entry gets K values in one pass.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError, ParameterCycleError, UnknownParameterError, format_ids
from lcasolve.model.entries import UNCERTAINTY_DTYPE
from lcasolve.parameters._evaluate import Value
from lcasolve.parameters._graph import dependency_order
from lcasolve.parameters.formula import Formula

__all__ = [
    "DATABASE",
    "MATRICES",
    "FormulaEntry",
    "Parameter",
    "ParameterSet",
    "apply_parameters",
    "check_positions",
    "scope_label",
]

#: The scope of database parameters (SimaPro's "Database Input/Calculated parameters").
DATABASE = "@database"
#: The matrices whose entries may be formulas.
MATRICES = ("technosphere", "biosphere", "characterization")

Key = tuple[Hashable, str]  # (scope, case-folded name)


def scope_label(scope: Hashable) -> str:
    """Describe a scope for messages: ``global``, ``database`` or ``process 'ID'``."""
    if scope is None:
        return "global"
    if scope == DATABASE:
        return "database"
    return f"process {scope!r}"


def _chain(scope: Hashable) -> tuple[Hashable, ...]:
    if scope is None:
        return (None,)
    if scope == DATABASE:
        return (DATABASE, None)
    return (scope, DATABASE, None)


@dataclass(frozen=True, eq=False)
class Parameter:
    """One named parameter.

    Attributes
    ----------
    name : str
        The name as written (formulas match it ignoring case and surrounding spaces).
    value : float
        The value (for a dependent parameter: the value the source stored, if any, else NaN).
    formula : Formula or None
        For a dependent parameter, its definition.
    scope : hashable or None
        None for a global parameter, :data:`DATABASE`, or the id of the activity it belongs to.
    uncertainty : numpy.ndarray or None
        One stats_arrays record (:data:`~lcasolve.model.entries.UNCERTAINTY_DTYPE`, shape ``()``)
        for an input parameter with a distribution.
    description : str
        Free text from the source.
    """

    name: str
    value: float = float("nan")
    formula: Formula | None = None
    scope: Hashable = None
    uncertainty: np.ndarray | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.formula is None and not np.isfinite(self.value):
            raise InputError(
                f"{scope_label(self.scope)} parameter {self.name!r} has neither a finite value "
                f"nor a formula (value {self.value})"
            )
        if self.uncertainty is not None:
            record = np.asarray(self.uncertainty)
            if record.dtype != UNCERTAINTY_DTYPE or record.shape != ():
                raise InputError(
                    f"parameter {self.name!r}: uncertainty must be one record of "
                    f"UNCERTAINTY_DTYPE, got dtype {record.dtype} and shape {record.shape}"
                )
            if self.formula is not None and int(record["uncertainty_type"]) > 1:
                raise InputError(
                    f"parameter {self.name!r} has a formula and a distribution; only input "
                    "parameters can be uncertain"
                )

    @property
    def key(self) -> Key:
        """``(scope, case-folded name)``."""
        return (self.scope, self.name.strip().casefold())

    @property
    def is_input(self) -> bool:
        """Whether the parameter is given (no formula)."""
        return self.formula is None

    @property
    def is_uncertain(self) -> bool:
        """Whether the parameter has a distribution (stats_arrays type > 1)."""
        return self.uncertainty is not None and int(self.uncertainty["uncertainty_type"]) > 1


@dataclass(frozen=True, eq=False)
class FormulaEntry:
    """A matrix entry whose amount is a formula: ``value = factor * formula``.

    Attributes
    ----------
    matrix : {"technosphere", "biosphere", "characterization"}
        Which matrix of the system.
    entry : int
        The entry's index in that matrix's :class:`~lcasolve.model.entries.Entries`.
    row, col : int
        The entry's position (checked against the system before use).
    formula : Formula
        The amount in the source's unit and sign; its ``where`` names the exchange.
    factor : float
        Sign, unit conversion and allocation: the matrix value is ``factor * amount``.
    scope : hashable or None
        The scope whose parameters the formula sees (the activity id; None for global only).
    """

    matrix: str
    entry: int
    row: int
    col: int
    formula: Formula
    factor: float = 1.0
    scope: Hashable = None

    def __post_init__(self) -> None:
        if self.matrix not in MATRICES:
            raise InputError(f"formula entries belong to one of {MATRICES}, got {self.matrix!r}")


@dataclass(frozen=True, eq=False)
class _Plan:
    order: tuple[Key, ...]  # dependent parameters, dependencies first
    bindings: Mapping[Key, Mapping[str, Key]]  # formula -> name in formula -> parameter key
    entry_bindings: tuple[Mapping[str, Key], ...]


@dataclass(frozen=True, eq=False)
class ParameterSet:
    """Parameters and formula entries of one system; immutable.

    Attributes
    ----------
    parameters : tuple of Parameter
        Every parameter (unique by scope and name, ignoring case).
    entries : tuple of FormulaEntry
        Matrix entries defined by formulas.
    """

    parameters: tuple[Parameter, ...] = ()
    entries: tuple[FormulaEntry, ...] = ()
    _by_key: Mapping[Key, Parameter] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "entries", tuple(self.entries))
        by_key: dict[Key, Parameter] = {}
        for p in self.parameters:
            if p.key in by_key:
                raise InputError(
                    f"{scope_label(p.scope)} parameter {p.name!r} is defined twice "
                    f"(names ignore case)"
                )
            by_key[p.key] = p
        object.__setattr__(self, "_by_key", by_key)
        self._plan  # noqa: B018 - unknown names and cycles are reported at construction

    def __len__(self) -> int:
        return len(self.parameters)

    def __repr__(self) -> str:
        inputs = sum(p.is_input for p in self.parameters)
        uncertain = sum(p.is_uncertain for p in self.parameters)
        return (
            f"<ParameterSet {len(self.parameters)} parameters ({inputs} input, {uncertain} "
            f"uncertain), {len(self.entries)} formula entries>"
        )

    # ------------------------------------------------------------------ lookup
    def get(self, name: str, scope: Hashable = None) -> Parameter:
        """Return the parameter of that name defined in exactly that scope.

        Raises
        ------
        UnknownParameterError
            Naming the scopes where a parameter of that name exists, if any.
        """
        key = (scope, str(name).strip().casefold())
        if key in self._by_key:
            return self._by_key[key]
        elsewhere = [scope_label(p.scope) for p in self.parameters if p.key[1] == key[1]]
        hint = f"; {format_ids(elsewhere)} has one" if elsewhere else ""
        raise UnknownParameterError(str(name), hint=f"not in the {scope_label(scope)} scope{hint}")

    def resolve(self, name: Hashable) -> Key:
        """Turn an override's name into a parameter key.

        Parameters
        ----------
        name : str or tuple
            ``"NAME"`` (a global parameter, else the database's), ``"PROCESS_ID/NAME"`` (a
            process's own) or ``(scope, name)``.

        Returns
        -------
        tuple
            ``(scope, case-folded name)``.

        Raises
        ------
        UnknownParameterError
            Naming the scopes where a parameter of that name exists.
        """
        if isinstance(name, tuple):
            scope, text = name
            return self.get(str(text), scope).key
        text = str(name)
        folded = text.strip().casefold()
        for scope in (None, DATABASE):
            if (scope, folded) in self._by_key:
                return (scope, folded)
        if "/" in text:
            head, tail = text.rsplit("/", 1)
            for scope in {p.scope for p in self.parameters if p.key[1] == tail.strip().casefold()}:
                if scope is not None and str(scope) == head.strip():
                    return (scope, tail.strip().casefold())
        owners = sorted(str(p.scope) for p in self.parameters if p.key[1] == folded)
        hint = "no global or database parameter of that name"
        if owners:
            hint += f"; processes with one: {format_ids(owners, 5)}"
            hint += f" (write {owners[0]}/{text.strip()} for the first)"
        raise UnknownParameterError(text, hint=hint)

    @property
    def inputs(self) -> tuple[Parameter, ...]:
        """The input parameters (those without a formula)."""
        return tuple(p for p in self.parameters if p.is_input)

    @property
    def uncertain(self) -> tuple[Parameter, ...]:
        """The input parameters with a distribution."""
        return tuple(p for p in self.parameters if p.is_uncertain)

    # ------------------------------------------------------------------ plan
    @cached_property
    def _plan(self) -> _Plan:
        bindings: dict[Key, dict[str, Key]] = {}
        for p in self.parameters:
            if p.formula is not None:
                bindings[p.key] = self._bind(p.formula, p.scope)
        depends = {key: frozenset(b.values()) for key, b in bindings.items()}
        spell = {key: self._spell(key) for key in depends}
        try:
            order = dependency_order(depends, spell=spell)  # type: ignore[arg-type]
        except ParameterCycleError as exc:
            raise ParameterCycleError(exc.cycle) from None
        entry_bindings = tuple(self._bind(e.formula, e.scope) for e in self.entries)
        return _Plan(tuple(order), bindings, entry_bindings)  # type: ignore[arg-type]

    def _spell(self, key: Key) -> str:
        p = self._by_key[key]
        return p.name.strip() if p.scope is None else f"{scope_label(p.scope)}/{p.name.strip()}"

    def _bind(self, formula: Formula, scope: Hashable) -> dict[str, Key]:
        out: dict[str, Key] = {}
        for name in formula.names:
            for level in _chain(scope):
                if (level, name) in self._by_key:
                    out[name] = (level, name)
                    break
            else:
                raise UnknownParameterError(formula._spelling(name), formula.text, formula.where)
        return out

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, overrides: Mapping[Hashable, object] | None = None) -> dict[Key, Value]:
        """Values of every parameter: inputs (with overrides), then the dependent ones.

        Parameters
        ----------
        overrides : Mapping, optional
            Parameter (``"NAME"``, ``"PROCESS_ID/NAME"`` or ``(scope, name)``) -> value or 1-d
            array of K samples. Overriding a dependent parameter replaces its formula.

        Returns
        -------
        dict
            ``(scope, case-folded name)`` -> float or K values.
        """
        values: dict[Key, Value] = {p.key: p.value for p in self.parameters if p.is_input}
        fixed: set[Key] = set()
        length: int | None = None
        for name, raw in (overrides or {}).items():
            key = self.resolve(name)
            array = np.asarray(raw, dtype=float)
            if array.ndim > 1 or not np.all(np.isfinite(array)):
                raise InputError(
                    f"parameter {self._spell(key)!r}: the value must be a finite number or a 1-d "
                    f"array of finite samples"
                )
            if array.ndim == 1:
                if length is not None and array.shape[0] != length:
                    raise InputError(
                        f"parameter {self._spell(key)!r} has {array.shape[0]} samples, others "
                        f"have {length}"
                    )
                length = array.shape[0]
            values[key] = array if array.ndim else float(array)
            fixed.add(key)
        plan = self._plan
        for key in plan.order:
            if key in fixed:
                continue
            env = {name: values[ref] for name, ref in plan.bindings[key].items()}
            values[key] = self._by_key[key].formula.evaluate(env, prepared=True)  # type: ignore[union-attr]
        return values

    def evaluate_formula(
        self,
        formula: Formula | str,
        scope: Hashable = None,
        values: Mapping[Key, Value] | None = None,
    ) -> Value:
        """Evaluate any formula as if it were defined in ``scope``.

        Parameters
        ----------
        formula : Formula or str
            The formula (parsed when a string).
        scope : hashable, optional
            The activity id whose parameters it sees (then the database's and global ones).
        values : Mapping, optional
            From :meth:`evaluate` (default: the set's own values).

        Returns
        -------
        float or numpy.ndarray
        """
        if isinstance(formula, str):
            formula = Formula.parse(formula, where=scope_label(scope))
        values = self.evaluate() if values is None else values
        env = {name: values[ref] for name, ref in self._bind(formula, scope).items()}
        return formula.evaluate(env, prepared=True)

    def entry_values(self, values: Mapping[Key, Value]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Matrix values of the formula entries for parameter values from :meth:`evaluate`.

        Parameters
        ----------
        values : Mapping
            As returned by :meth:`evaluate`.

        Returns
        -------
        dict
            Matrix name -> (entry indices, values of shape ``(n,)`` or ``(n, K)``).
        """
        length = max((np.shape(v)[0] for v in values.values() if np.ndim(v)), default=None)
        counts = {m: 0 for m in MATRICES}
        for entry in self.entries:
            counts[entry.matrix] += 1
        shape = () if length is None else (length,)
        # each entry's values are written into its row of the result (no stacking copy)
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {
            m: (np.empty(c, dtype=np.int64), np.empty((c, *shape))) for m, c in counts.items() if c
        }
        filled = dict.fromkeys(out, 0)
        for entry, binding in zip(self.entries, self._plan.entry_bindings, strict=True):
            env = {name: values[ref] for name, ref in binding.items()}
            amount = entry.formula.evaluate(env, prepared=True)
            index, vals = out[entry.matrix]
            row = filled[entry.matrix]
            filled[entry.matrix] = row + 1
            index[row] = entry.entry
            if length is None:
                vals[row] = entry.factor * float(amount)
            else:
                np.multiply(entry.factor, np.asarray(amount, dtype=float), out=vals[row])
        return out

    def with_values(self, overrides: Mapping[Hashable, object]) -> ParameterSet:
        """Return a new set with values fixed: each named parameter becomes an input of that value.

        Its formula (for a dependent parameter) and its distribution no longer apply.

        Parameters
        ----------
        overrides : Mapping
            Parameter -> number (see :meth:`evaluate`).

        Returns
        -------
        ParameterSet
        """
        changed: dict[Key, float] = {}
        for name, raw in overrides.items():
            value = np.asarray(raw, dtype=float)
            if value.ndim or not np.isfinite(value):
                raise InputError(f"parameter {name!r}: expected one finite number, got {raw!r}")
            changed[self.resolve(name)] = float(value)
        params = []
        for p in self.parameters:
            if p.key in changed:  # a fixed value: formula and distribution no longer apply
                p = Parameter(p.name, changed[p.key], None, p.scope, None, p.description)
            params.append(p)
        return ParameterSet(tuple(params), self.entries)

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: scope, name, value (evaluated), formula, distribution."""
        values = self.evaluate()
        rows: list[dict[str, Any]] = [
            {
                "scope": "global" if p.scope is None else p.scope,
                "name": p.name,
                "value": float(values[p.key]),
                "formula": "" if p.formula is None else p.formula.text,
                "uncertainty_type": 0
                if p.uncertainty is None
                else int(p.uncertainty["uncertainty_type"]),
                "description": p.description,
            }
            for p in self.parameters
        ]
        columns = ["scope", "name", "value", "formula", "uncertainty_type", "description"]
        return pd.DataFrame(rows, columns=columns)

    def scopes(self) -> Iterable[Hashable]:
        """The scopes that hold parameters."""
        return list(dict.fromkeys(p.scope for p in self.parameters))


def apply_parameters(system: Any, overrides: Mapping[Hashable, object] | None = None) -> Any:
    """Return the system with its formula entries evaluated for the given parameter values.

    Parameters
    ----------
    system : System
        A system with a :class:`ParameterSet` (``system.parameters``).
    overrides : Mapping, optional
        Parameter -> number (see :meth:`ParameterSet.evaluate`).

    Returns
    -------
    System
        A new system: matrix values from the formulas, ``parameters`` with the overrides fixed.

    Raises
    ------
    InputError
        If the system has no parameters, or its matrices no longer hold the entries the formulas
        were read for (e.g. after the characterization was replaced).
    """
    import dataclasses

    params = system.parameters
    if params is None:
        raise InputError("this system has no parameters (its source defined none)")
    new_params = params.with_values(overrides) if overrides else params
    updated = new_params.entry_values(new_params.evaluate())
    changes: dict[str, Any] = {"parameters": new_params}
    for matrix, (index, values) in updated.items():
        entries = getattr(system, matrix)
        check_positions(params, matrix, entries)
        value = entries.value.copy()
        value[index] = values
        changes[matrix] = entries.with_values(value)
    return dataclasses.replace(system, **changes)


def check_positions(params: ParameterSet, matrix: str, entries: Any) -> None:
    """Raise :class:`InputError` unless every formula entry of ``matrix`` sits where it was read.

    Parameters
    ----------
    params : ParameterSet
        The parameters.
    matrix : str
        ``"technosphere"``, ``"biosphere"`` or ``"characterization"``.
    entries : Entries
        That matrix of the system.
    """
    mine = [e for e in params.entries if e.matrix == matrix]
    if not mine:
        return
    index = np.asarray([e.entry for e in mine], dtype=np.int64)
    rows = np.asarray([e.row for e in mine], dtype=np.int64)
    cols = np.asarray([e.col for e in mine], dtype=np.int64)
    inside = index < len(entries)
    ok = inside.copy()
    ok[inside] = (entries.row[index[inside]] == rows[inside]) & (
        entries.col[index[inside]] == cols[inside]
    )
    if not ok.all():
        bad = mine[int(np.flatnonzero(~ok)[0])]
        raise InputError(
            f"the {matrix} no longer holds the entries its formulas were read for "
            f"({bad.formula.where or bad.formula.text}): the matrix was replaced after reading"
        )
