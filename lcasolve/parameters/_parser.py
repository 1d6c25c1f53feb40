"""A restricted parser for the formula languages of openLCA and SimaPro.

A tokenizer and a precedence-climbing (Pratt) parser build a tree of :mod:`._ast` nodes; nothing
is ever handed to Python's ``eval``. Precedence, lowest first, as in openLCA's grammar:
``or ||`` < ``xor`` < ``and &&`` < ``not`` (SimaPro's prefix keyword) < comparisons
``< <= = == <> != > >=`` < ``+ -`` < ``* / div mod`` < ``^`` (left-associative) < unary ``- +``,
so ``-2^2`` is 4 and ``2^3^2`` is 64, as openLCA and spreadsheets compute them. Names and
function names ignore case. Function arguments are separated by ``;`` (and by ``,`` where the
decimal mark is ``.``); SimaPro files with a decimal comma are read with ``decimal=","``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lcasolve.errors import FormulaSyntaxError
from lcasolve.parameters._ast import ALIASES, FUNCTIONS, Node, Num, Op, Var

__all__ = ["parse"]

_SYMBOLS: tuple[str, ...] = ("<=", ">=", "<>", "!=", "==", "&&", "||", "+", "-", "*", "/", "^")
_SYMBOLS += ("<", ">", "=", "&", "|", "(", ")", ";", ",")
_CANONICAL = {"==": "=", "!=": "<>", "&&": "and", "&": "and", "||": "or", "|": "or"}
_INFIX_WORDS = {"and", "or", "xor", "div", "mod"}
_BINARY_POWER = {
    "or": 10,
    "xor": 20,
    "and": 30,
    "<": 40,
    "<=": 40,
    "=": 40,
    "<>": 40,
    ">": 40,
    ">=": 40,
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "div": 60,
    "mod": 60,
    "^": 70,
}
_NOT_POWER = 35
_UNARY_POWER = 80


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    pos: int
    value: float = 0.0


def _tokenize(text: str, decimal: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isdigit() or (ch == decimal and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and text[j].isdigit():
                j += 1
            if j < n and text[j] == decimal:
                j += 1
                while j < n and text[j].isdigit():
                    j += 1
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k].isdigit():
                    while k < n and text[k].isdigit():
                        k += 1
                    j = k
                elif not (k < n and (text[k].isalpha() or text[k] == "_")):
                    raise FormulaSyntaxError("incomplete exponent in number", text, i)
            literal = text[i:j].replace(decimal, ".")
            if j < n and (text[j].isalpha() or text[j] == "_"):
                raise FormulaSyntaxError(
                    f"a name cannot start with a digit: {text[i : j + 1]!r}", text, i
                )
            tokens.append(_Token("num", text[i:j], i, float(literal)))
            i = j
        elif ch.isalpha() or ch == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(_Token("name", text[i:j], i))
            i = j
        else:
            for symbol in _SYMBOLS:
                if text.startswith(symbol, i):
                    if symbol == "," and decimal == ",":
                        break
                    tokens.append(_Token("op", _CANONICAL.get(symbol, symbol), i))
                    i += len(symbol)
                    break
            else:
                raise FormulaSyntaxError(f"unexpected character {ch!r}", text, i)
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str, decimal: str, where: str) -> None:
        self.text = text
        self.where = where
        try:
            self.tokens = _tokenize(text, decimal)
        except FormulaSyntaxError as exc:
            raise FormulaSyntaxError(exc.reason, text, exc.position, where) from None
        self.at = 0

    def error(self, message: str, token: _Token) -> FormulaSyntaxError:
        return FormulaSyntaxError(message, self.text, token.pos, self.where)

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, symbol: str) -> _Token:
        token = self.peek()
        if token.kind != "op" or token.text != symbol:
            found = "the end" if token.kind == "end" else repr(token.text)
            raise self.error(f"expected {symbol!r}, found {found}", token)
        return self.take()

    def infix(self, token: _Token) -> str | None:
        if token.kind == "op" and token.text in _BINARY_POWER:
            return token.text
        if token.kind == "name" and token.text.lower() in _INFIX_WORDS:
            return token.text.lower()
        return None

    def expression(self, min_power: int = 0) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            op = self.infix(token)
            if op is None or _BINARY_POWER[op] <= min_power:
                return left
            self.take()
            right = self.expression(_BINARY_POWER[op])
            left = Op(op, (left, right), token.pos)

    def prefix(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return Num(token.value)
        if token.kind == "op" and token.text in ("-", "+"):
            operand = self.expression(_UNARY_POWER)
            return Op("neg", (operand,), token.pos) if token.text == "-" else operand
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "name":
            following = self.peek()
            if following.kind == "op" and following.text == "(":
                return self.call(token)
            lower = token.text.lower()
            if lower == "not":
                return Op("not", (self.expression(_NOT_POWER),), token.pos)
            if lower in _INFIX_WORDS:
                raise self.error(f"{token.text!r} needs a left operand", token)
            return Var(token.text.casefold(), token.text, token.pos)
        if token.kind == "end":
            raise self.error("unexpected end of formula", token)
        raise self.error(f"unexpected {token.text!r}", token)

    def call(self, name: _Token) -> Node:
        lower = name.text.lower()
        canonical = ALIASES.get(lower, lower)
        if canonical not in FUNCTIONS:
            raise self.error(f"unknown function {name.text!r}", name)
        self.expect("(")
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.expression())
            while self.peek().kind == "op" and self.peek().text in (";", ","):
                self.take()
                args.append(self.expression())
        self.expect(")")
        fewest, most = FUNCTIONS[canonical]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = str(fewest) if fewest == most else f"{fewest} or more"
            if most is not None and most != fewest:
                wanted = f"{fewest} to {most}"
            raise self.error(f"{name.text}() takes {wanted} arguments, got {len(args)}", name)
        return Op(canonical, tuple(args), name.pos)


def parse(text: str, decimal: str = ".", where: str = "") -> Node:
    """Parse a formula into a tree.

    Parameters
    ----------
    text : str
        The formula, e.g. ``"if(Coaltype=1; VOC_bit; 0) * 2^-1"``.
    decimal : {".", ","}
        The decimal mark of numbers (SimaPro files may use a comma; then only ``;`` separates
        arguments).
    where : str, optional
        Where the formula is used, named in errors.

    Returns
    -------
    Node
        The tree.

    Raises
    ------
    FormulaSyntaxError
        With the position of the first problem.
    """
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ',', got {decimal!r}")
    parser = _Parser(text, decimal, where)
    if parser.peek().kind == "end":
        raise parser.error("the formula is empty", parser.peek())
    tree = parser.expression()
    rest = parser.peek()
    if rest.kind != "end":
        raise parser.error(f"unexpected {rest.text!r} after a complete expression", rest)
    return tree
