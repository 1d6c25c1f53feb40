"""Exact derivatives of formula trees by symbolic differentiation.

``differentiate(tree, key)`` returns the tree of ``d tree / d key`` by the rules of calculus,
folding constants as it builds (``0 * x`` is 0, ``1 * x`` is ``x``). Piecewise functions are
differentiated where they are smooth: comparisons, ``int``, ``round``, ``floor``, ``ceil`` and
``sign`` have derivative 0; ``abs`` gives ``sign``; ``min``/``max``/``if`` pass the derivative of
the branch they select.
"""

from __future__ import annotations

import math

from lcasolve.parameters._ast import Node, Num, Op, Var

__all__ = ["differentiate"]

_ZERO = Num(0.0)
_ONE = Num(1.0)
_FLAT = {"<", "<=", "=", "<>", ">", ">=", "and", "or", "xor", "not", "int", "round", "floor",
         "ceil", "sign", "div"}  # fmt: skip


def _num(node: Node) -> float | None:
    return node.value if isinstance(node, Num) else None


def _add(a: Node, b: Node) -> Node:
    if _num(a) == 0.0:
        return b
    if _num(b) == 0.0:
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value + b.value)
    return Op("+", (a, b))


def _sub(a: Node, b: Node) -> Node:
    if _num(b) == 0.0:
        return a
    if _num(a) == 0.0:
        return _neg(b)
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value - b.value)
    return Op("-", (a, b))


def _neg(a: Node) -> Node:
    if isinstance(a, Num):
        return Num(-a.value)
    if isinstance(a, Op) and a.op == "neg":
        return a.args[0]
    return Op("neg", (a,))


def _mul(a: Node, b: Node) -> Node:
    if _num(a) == 0.0 or _num(b) == 0.0:
        return _ZERO
    if _num(a) == 1.0:
        return b
    if _num(b) == 1.0:
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value * b.value)
    return Op("*", (a, b))


def _div(a: Node, b: Node) -> Node:
    if _num(a) == 0.0:
        return _ZERO
    if _num(b) == 1.0:
        return a
    return Op("/", (a, b))


def _pow(a: Node, b: Node) -> Node:
    if _num(b) == 1.0:
        return a
    if _num(b) == 0.0:
        return _ONE
    return Op("^", (a, b))


def _call(name: str, *args: Node) -> Node:
    return Op(name, tuple(args))


def differentiate(node: Node, key: str) -> Node:
    """Return the tree of the derivative of ``node`` with respect to the name ``key``.

    Parameters
    ----------
    node : Node
        The tree.
    key : str
        The case-folded name to differentiate by.

    Returns
    -------
    Node
        The derivative's tree (``Num(0.0)`` when ``node`` does not use ``key``).
    """
    if isinstance(node, Num):
        return _ZERO
    if isinstance(node, Var):
        return _ONE if node.key == key else _ZERO
    op, args = node.op, node.args
    if op in _FLAT:
        return _ZERO
    da = [differentiate(arg, key) for arg in args]
    if all(_num(d) == 0.0 for d in da):
        return _ZERO
    if op == "if":
        return _call("if", args[0], da[1], da[2])
    if op in ("min", "max"):
        return _select(op, list(args), da)
    if op in ("+", "sum"):
        out = da[0]
        for item in da[1:]:
            out = _add(out, item)
        return out
    if op == "avg":
        return _div(differentiate(Op("sum", args), key), Num(float(len(args))))
    if op == "-":
        return _sub(da[0], da[1])
    if op == "neg":
        return _neg(da[0])
    if op == "*":
        return _add(_mul(da[0], args[1]), _mul(args[0], da[1]))
    if op == "/":
        # (a/b)' = a'/b - a b' / b^2
        return _sub(_div(da[0], args[1]), _div(_mul(args[0], da[1]), _pow(args[1], Num(2.0))))
    if op == "mod":  # fmod(a, b) = a - trunc(a/b) b, trunc piecewise constant
        return _sub(da[0], _mul(_call("int", _div(args[0], args[1])), da[1]))
    if op == "^":
        return _power_rule(args[0], args[1], da[0], da[1])
    return _chain(op, args[0], da[0])


def _select(op: str, args: list[Node], da: list[Node]) -> Node:
    # min(a; b; ...) = a where a is the smallest (the first of equals), folded pairwise
    out_value, out_slope = args[0], da[0]
    for value, slope in zip(args[1:], da[1:], strict=True):
        keep = Op("<=" if op == "min" else ">=", (out_value, value))
        out_slope = _call("if", keep, out_slope, slope)
        out_value = _call(op, out_value, value)
    return out_slope


def _power_rule(a: Node, b: Node, da: Node, db: Node) -> Node:
    if _num(db) == 0.0:
        # (a^b)' = b a^(b-1) a'
        return _mul(_mul(b, _pow(a, _sub(b, _ONE))), da)
    # (a^b)' = a^b (b' ln a + b a'/a)
    return _mul(Op("^", (a, b)), _add(_mul(db, _call("ln", a)), _div(_mul(b, da), a)))


def _chain(op: str, a: Node, da: Node) -> Node:
    outer: Node
    if op == "abs":
        outer = _call("sign", a)
    elif op == "sqrt":
        outer = _div(Num(0.5), _call("sqrt", a))
    elif op == "sqr":
        outer = _mul(Num(2.0), a)
    elif op == "exp":
        outer = _call("exp", a)
    elif op == "ln":
        outer = _div(_ONE, a)
    elif op == "log":
        outer = _div(_ONE, _mul(a, Num(math.log(10.0))))
    elif op == "sin":
        outer = _call("cos", a)
    elif op == "cos":
        outer = _neg(_call("sin", a))
    elif op == "tan":
        outer = _pow(_div(_ONE, _call("cos", a)), Num(2.0))
    elif op == "cot":
        outer = _neg(_pow(_div(_ONE, _call("sin", a)), Num(2.0)))
    elif op == "asin":
        outer = _div(_ONE, _call("sqrt", _sub(_ONE, _pow(a, Num(2.0)))))
    elif op == "acos":
        outer = _neg(_div(_ONE, _call("sqrt", _sub(_ONE, _pow(a, Num(2.0))))))
    elif op == "atan":
        outer = _div(_ONE, _add(_ONE, _pow(a, Num(2.0))))
    elif op == "sinh":
        outer = _call("cosh", a)
    elif op == "cosh":
        outer = _call("sinh", a)
    elif op == "tanh":
        outer = _sub(_ONE, _pow(_call("tanh", a), Num(2.0)))
    elif op == "frac":
        outer = _ONE
    else:  # every operation of FUNCTIONS is handled above or in differentiate
        raise AssertionError(f"no derivative rule for {op!r}")
    return _mul(outer, da)
