"""Formulas: parse once, evaluate for one value or K samples, differentiate exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from lcasolve.errors import FormulaEvaluationError, InputError, UnknownParameterError
from lcasolve.parameters._ast import CONSTANTS, Node, Num, names_of
from lcasolve.parameters._derivative import differentiate
from lcasolve.parameters._evaluate import Value, diagnose, evaluate_tree, to_text
from lcasolve.parameters._parser import parse

__all__ = ["Formula", "prepare_values"]


def prepare_values(values: Mapping[str, object]) -> dict[str, Value]:
    """Case-fold and strip names; turn values into floats or 1-d float arrays of one length.

    Names are stripped of surrounding spaces, as openLCA binds them (USLCI has parameters named
    ``"h2o_Lead "`` used by the formula ``"h2o_Lead "``).

    Parameters
    ----------
    values : Mapping
        Name -> number or sequence of K samples.

    Returns
    -------
    dict
        Case-folded name -> float or 1-d array.

    Raises
    ------
    InputError
        When arrays are not 1-d or differ in length, or two names differ only by case.
    """
    env: dict[str, Value] = {}
    length: int | None = None
    for name, raw in values.items():
        key = str(name).strip().casefold()
        if key in env:
            raise InputError(f"two parameters differ only by case: {name!r}")
        array = np.asarray(raw, dtype=float)
        if array.ndim == 0:
            env[key] = float(array)
            continue
        if array.ndim != 1:
            raise InputError(f"parameter {name!r}: samples must be a 1-d array, got {array.shape}")
        if length is not None and array.shape[0] != length:
            raise InputError(
                f"parameter {name!r} has {array.shape[0]} samples, others have {length}"
            )
        length = array.shape[0]
        env[key] = array
    return env


@dataclass(frozen=True)
class Formula:
    """A parsed formula of openLCA's or SimaPro's language.

    Build one with :meth:`parse`; the text is never handed to Python's ``eval``.

    Attributes
    ----------
    text : str
        The formula as written.
    tree : Node
        Its syntax tree.
    where : str
        Where the formula is used (process, exchange, parameter), for error messages.
    """

    text: str
    tree: Node = field(repr=False)
    where: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str, *, decimal: str = ".", where: str = "") -> Formula:
        """Parse a formula.

        Parameters
        ----------
        text : str
            The formula, e.g. ``"longHaul_dist*longHaul_mass_frac"``.
        decimal : {".", ","}
            The decimal mark (``","`` for SimaPro files written with a decimal comma).
        where : str, optional
            Where the formula is used, named in every error.

        Returns
        -------
        Formula

        Raises
        ------
        FormulaSyntaxError
            With the position of the problem.
        """
        return cls(str(text), parse(str(text), decimal, where), where)

    @classmethod
    def constant(cls, value: float, *, where: str = "") -> Formula:
        """Return the formula of a number."""
        return cls(repr(float(value)), Num(float(value)), where)

    @cached_property
    def names(self) -> frozenset[str]:
        """The case-folded names the formula uses, constants (``pi``, ``e``...) excluded."""
        return frozenset(k for k in names_of(self.tree) if k not in CONSTANTS)

    @property
    def is_constant(self) -> bool:
        """Whether the formula uses no parameter."""
        return not names_of(self.tree)

    def __str__(self) -> str:
        return self.text

    def check_names(self, known: Iterable[str]) -> None:
        """Raise :class:`UnknownParameterError` for the first name not in ``known``.

        Parameters
        ----------
        known : iterable of str
            Case-folded names in scope.
        """
        available = set(known)
        for key in sorted(self.names):
            if key not in available:
                raise UnknownParameterError(self._spelling(key), self.text, self.where)

    def _spelling(self, key: str) -> str:
        from lcasolve.parameters._ast import Op, Var

        stack: list[Node] = [self.tree]
        while stack:
            node = stack.pop()
            if isinstance(node, Var) and node.key == key:
                return node.name
            if isinstance(node, Op):
                stack.extend(node.args)
        return key

    def evaluate(self, values: Mapping[str, object], *, prepared: bool = False) -> Value:
        """Evaluate the formula for one set of values or for K samples at once.

        Parameters
        ----------
        values : Mapping
            Name -> number, or -> 1-d array of K samples (names ignore case). Names that are
            also constants (``pi``, ``e``, ``true``, ``false``) take the given value.
        prepared : bool, optional
            Whether ``values`` came from :func:`prepare_values` already (skips the copy).

        Returns
        -------
        float or numpy.ndarray
            A float, or K values when any value is an array.

        Raises
        ------
        UnknownParameterError
            When the formula uses a name that is not given.
        FormulaEvaluationError
            On division by zero or any other non-finite result, naming the operation and the
            first bad sample.
        """
        env = values if prepared else prepare_values(values)
        self.check_names(env)
        result = evaluate_tree(self.tree, env)
        finite = np.isfinite(result)
        if np.all(finite):
            return result
        sample = int(np.flatnonzero(~finite)[0]) if np.ndim(result) else None
        raise FormulaEvaluationError(
            diagnose(self.tree, env, sample), self.text, self.where, sample
        )

    def derivative(self, name: str) -> Formula:
        """Return the exact derivative with respect to a parameter, as a formula.

        Parameters
        ----------
        name : str
            The parameter (case ignored).

        Returns
        -------
        Formula
            ``d self / d name``; ``0`` when the formula does not use the name.
        """
        tree = differentiate(self.tree, str(name).strip().casefold())
        return Formula(to_text(tree), tree, self.where)

    def gradient(self, values: Mapping[str, object]) -> dict[str, Value]:
        """Evaluate the derivative with respect to every name the formula uses.

        Parameters
        ----------
        values : Mapping
            As for :meth:`evaluate`.

        Returns
        -------
        dict
            Case-folded name -> derivative value (float or K values).
        """
        env = prepare_values(values)
        return {
            key: self.derivative(key).evaluate(env, prepared=True) for key in sorted(self.names)
        }
