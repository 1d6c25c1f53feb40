"""Vectorized evaluation of formula trees with numpy, and the diagnosis of a bad value.

Every name is bound to a float or to a 1-d array of K samples; one pass over the tree gives the
K values. Both branches of ``if`` are computed and the condition selects (``numpy.where``), so a
division by zero in the branch not taken does no harm. Only when the result is not finite does
:func:`diagnose` walk the tree again, for the first bad sample alone and along the branches
actually taken, to name the operation that went wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lcasolve.parameters._ast import CONSTANTS, Node, Num, Var, names_of

__all__ = ["Value", "diagnose", "evaluate_tree", "to_text"]

Value = Any  # a float or a numpy array of samples


def _truth(x: Value) -> Value:
    return np.not_equal(x, 0.0)


def _as_float(x: Value) -> Value:
    return np.asarray(x, dtype=float) if np.ndim(x) else float(x)


def _reduce(fn: Callable[[Value, Value], Value]) -> Callable[..., Value]:
    def apply(*args: Value) -> Value:
        out = args[0]
        for item in args[1:]:
            out = fn(out, item)
        return out

    return apply


def _round(x: Value, digits: Value = 0.0) -> Value:
    # Java's Math.round, which openLCA uses: half-way cases go up
    scale = np.power(10.0, np.trunc(digits))
    return np.floor(np.multiply(x, scale) + 0.5) / scale


def _logic(fn: Callable[[Value, Value], Value]) -> Callable[..., Value]:
    def apply(*args: Value) -> Value:
        out = _truth(args[0])
        for item in args[1:]:
            out = fn(out, _truth(item))
        return np.asarray(out, dtype=float)

    return apply


_FUNCTIONS: dict[str, Callable[..., Value]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "^": np.power,
    "div": lambda a, b: np.trunc(np.divide(a, b)),
    "mod": np.fmod,
    "neg": np.negative,
    "<": lambda a, b: np.less(a, b).astype(float),
    "<=": lambda a, b: np.less_equal(a, b).astype(float),
    "=": lambda a, b: np.equal(a, b).astype(float),
    "<>": lambda a, b: np.not_equal(a, b).astype(float),
    ">": lambda a, b: np.greater(a, b).astype(float),
    ">=": lambda a, b: np.greater_equal(a, b).astype(float),
    "and": _logic(np.logical_and),
    "or": _logic(np.logical_or),
    "xor": _logic(np.logical_xor),
    "not": lambda a: np.equal(a, 0.0).astype(float),
    "if": lambda c, a, b: np.where(_truth(c), a, b),
    "abs": np.abs,
    "sqrt": np.sqrt,
    "sqr": np.square,
    "exp": np.exp,
    "ln": np.log,
    "log": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "cot": lambda a: 1.0 / np.tan(a),
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "int": np.trunc,
    "frac": lambda a: np.subtract(a, np.trunc(a)),
    "ceil": np.ceil,
    "floor": np.floor,
    "round": _round,
    "sign": np.sign,
    "min": _reduce(np.minimum),
    "max": _reduce(np.maximum),
    "sum": _reduce(np.add),
    "avg": lambda *args: _reduce(np.add)(*args) / len(args),
}


def _lookup(node: Var, env: Mapping[str, Value]) -> Value:
    if node.key in env:
        return env[node.key]
    return CONSTANTS[node.key]  # callers check the names first


def evaluate_tree(node: Node, env: Mapping[str, Value]) -> Value:
    """Evaluate a tree, without checks; floating-point warnings are silenced.

    Parameters
    ----------
    node : Node
        The tree.
    env : Mapping
        Case-folded name -> float or 1-d array of samples (all arrays of one length).

    Returns
    -------
    float or numpy.ndarray
        A float when every name is bound to a float, else an array of the samples.
    """
    with np.errstate(all="ignore"):
        return _as_float(_walk(node, env))


def _walk(node: Node, env: Mapping[str, Value]) -> Value:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Var):
        return _lookup(node, env)
    args = [_walk(arg, env) for arg in node.args]
    return _FUNCTIONS[node.op](*args)


def diagnose(node: Node, env: Mapping[str, Value], sample: int | None) -> str:
    """Name the operation that first gives a non-finite value, for one sample.

    Parameters
    ----------
    node : Node
        The tree whose value is not finite.
    env : Mapping
        The names' values, as given to :func:`evaluate_tree`.
    sample : int or None
        The sample to follow (None when every value is a float).

    Returns
    -------
    str
        For example ``"division by zero in 'a / b' (b = 0)"``.
    """
    used = names_of(node)
    point = {
        key: float(np.asarray(value)[sample or 0]) if np.ndim(value) else float(value)
        for key, value in env.items()
        if key in used
    }
    with np.errstate(all="ignore"):
        _, reason = _trace(node, point)
    return reason or "the value is not finite"


def _trace(node: Node, point: Mapping[str, float]) -> tuple[float, str]:
    if isinstance(node, Num):
        return node.value, ""
    if isinstance(node, Var):
        value = float(_lookup(node, point))
        return value, "" if np.isfinite(value) else f"parameter {node.name!r} is {value}"
    if node.op == "if":
        cond, reason = _trace(node.args[0], point)
        if reason:
            return cond, reason
        return _trace(node.args[1] if cond != 0 else node.args[2], point)
    values = []
    for arg in node.args:
        value, reason = _trace(arg, point)
        if reason:
            return value, reason
        values.append(value)
    result = float(_FUNCTIONS[node.op](*values))
    if np.isfinite(result):
        return result, ""
    shown = to_text(node)
    if node.op in ("/", "div", "mod") and values[1] == 0:
        return result, f"division by zero in {shown!r} ({to_text(node.args[1])} = 0)"
    args = ", ".join(f"{v:.6g}" for v in values)
    return result, f"{shown!r} is {result} for the argument(s) {args}"


_TEXT_POWER = {
    "or": 10, "xor": 20, "and": 30, "<": 40, "<=": 40, "=": 40, "<>": 40, ">": 40, ">=": 40,
    "+": 50, "-": 50, "*": 60, "/": 60, "div": 60, "mod": 60, "^": 70,
}  # fmt: skip


def to_text(node: Node, parent: int = 0) -> str:
    """Write a tree back as a formula (openLCA syntax, parentheses only where needed).

    Parameters
    ----------
    node : Node
        The tree.
    parent : int, optional
        The binding power of the enclosing operator (for parentheses).

    Returns
    -------
    str
        A formula that parses back to the same tree.
    """
    if isinstance(node, Num):
        text = repr(node.value)
        text = text[:-2] if text.endswith(".0") else text
        return f"({text})" if node.value < 0 and parent else text
    if isinstance(node, Var):
        return node.name
    if node.op == "neg":
        inner = to_text(node.args[0], 80)
        return f"(-{inner})" if parent else f"-{inner}"
    power = _TEXT_POWER.get(node.op)
    if power is not None and len(node.args) == 2:
        left = to_text(node.args[0], power - 1)
        right = to_text(node.args[1], power)
        text = f"{left} {node.op} {right}"
        return f"({text})" if power <= parent else text
    args = "; ".join(to_text(arg) for arg in node.args)
    name = "pow" if node.op == "^" else node.op
    return f"{name}({args})"
