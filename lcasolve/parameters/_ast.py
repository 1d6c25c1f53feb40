"""The syntax tree of a formula: numbers, names and operations, all immutable.

Operations are named by one canonical string each: ``+ - * / ^ div mod`` (arithmetic), ``neg``
(unary minus), ``< <= = <> > >=`` (comparisons, 1.0 or 0.0), ``and or xor not`` (logic on
"non-zero is true"), ``if`` (three arguments) and the functions of :data:`FUNCTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CONSTANTS", "FUNCTIONS", "Node", "Num", "Op", "Var", "names_of"]


@dataclass(frozen=True, slots=True)
class Num:
    """A number."""

    value: float


@dataclass(frozen=True, slots=True)
class Var:
    """A name: ``key`` is the case-folded name (formulas ignore case), ``name`` as written."""

    key: str
    name: str = field(compare=False)
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Op:
    """An operation ``op`` on ``args``; ``pos`` is the operator's offset in the text."""

    op: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node = Num | Var | Op

#: Functions by canonical name: (fewest arguments, most arguments or None for any number).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "sqrt": (1, 1),
    "sqr": (1, 1),
    "exp": (1, 1),
    "ln": (1, 1),
    "log": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
    "cot": (1, 1),
    "asin": (1, 1),
    "acos": (1, 1),
    "atan": (1, 1),
    "sinh": (1, 1),
    "cosh": (1, 1),
    "tanh": (1, 1),
    "int": (1, 1),
    "frac": (1, 1),
    "ceil": (1, 1),
    "floor": (1, 1),
    "round": (1, 2),
    "sign": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "sum": (1, None),
    "avg": (1, None),
    "^": (2, 2),
    "if": (3, 3),
    "and": (2, None),
    "or": (2, None),
    "not": (1, 1),
}

#: Other spellings of the functions (openLCA and SimaPro), by lower-case name.
ALIASES: dict[str, str] = {
    "iif": "if",
    "iff": "if",
    "trunc": "int",
    "lg": "log",
    "log10": "log",
    "mean": "avg",
    "pow": "^",
    "power": "^",
    "ipower": "^",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "cotan": "cot",
}

#: Named constants; a parameter of the same name takes precedence (as in openLCA).
CONSTANTS: dict[str, float] = {
    "pi": 3.141592653589793,
    "e": 2.718281828459045,
    "true": 1.0,
    "false": 0.0,
}


def names_of(node: Node) -> frozenset[str]:
    """Return the case-folded names a tree uses.

    Parameters
    ----------
    node : Node
        The tree.

    Returns
    -------
    frozenset of str
        Every :class:`Var` key in the tree, constants included.
    """
    found: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Var):
            found.add(item.key)
        elif isinstance(item, Op):
            stack.extend(item.args)
    return frozenset(found)
