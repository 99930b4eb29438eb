"""A restricted grammar for operator polynomials typed as text (no ``eval``).

``sympify``/``parse_expr`` evaluate Python, so untrusted text never goes
through them.  This recursive-descent parser knows only the tokens below and
builds :class:`~symmag.algebra.Op` objects directly::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom ('**' INTEGER)?
    atom    := NUMBER | 'I' | NAME | GENERATOR | '(' expr ')'
             | '[' expr ',' expr ']'          (commutator)
             | '{' expr ',' expr '}'          (anticommutator)
    GENERATOR := 'M0' AXIS | 'S' AXIS '[' NAME ']'

Division is by c-numbers only; exponents are non-negative integers.
"""

from __future__ import annotations

import re

import sympy as sp

from . import algebra
from .algebra import Op
from .conventions import N, gamma, hbar
from .errors import SymmagInputError

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?)|(?P<gen>M0[xyz]|S[xyz](?=\s*\[))|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/(),\[\]{}]))"
)

MAX_POWER = 64  # canonical forms of high powers grow fast: keep the grammar from stalling

BUILTINS = {"hbar": hbar, "gamma": gamma, "N": N, "I": sp.I}


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SymmagInputError(f"unexpected character {text[pos:].strip()[:1]!r} at {pos}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    out.append(("end", ""))
    return out


class _Parser:
    def __init__(self, text: str, symbols: dict[str, sp.Symbol]):
        self.toks = _tokens(text)
        self.i = 0
        self.symbols = {**BUILTINS, **symbols}

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i]

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            found = tok[1] or "end of input"
            raise SymmagInputError(f"expected {value!r}, found {found!r}")
        self.i += 1
        return tok

    def expr(self) -> Op:
        out = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            rhs = self.term()
            out = out + rhs if op == "+" else out - rhs
        return out

    def term(self) -> Op:
        out = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            rhs = self.unary()
            if op == "*":
                out = out * rhs
            else:
                if not rhs.is_scalar():
                    raise SymmagInputError("division by an operator is not polynomial")
                if rhs.scalar_part() == 0:
                    raise SymmagInputError("division by zero")
                out = out / rhs.scalar_part()
        return out

    def unary(self) -> Op:
        if self.peek()[1] in ("-", "+"):
            sign = self.take()[1]
            val = self.unary()
            return -val if sign == "-" else val
        return self.power()

    def power(self) -> Op:
        base = self.atom()
        if self.peek()[1] == "**":
            self.take()
            kind, val = self.take()
            if kind != "num" or not val.isdigit():
                raise SymmagInputError(f"exponent must be a non-negative integer, got {val!r}")
            if int(val) > MAX_POWER:
                raise SymmagInputError(f"exponent {val} is larger than {MAX_POWER}")
            if base.is_scalar():
                return Op.scalar(base.scalar_part() ** int(val))
            return base ** int(val)
        return base

    def atom(self) -> Op:
        kind, val = self.take()
        if kind == "num":
            return Op.scalar(sp.Rational(val) if "." in val else sp.Integer(val))
        if kind == "gen":
            if val.startswith("M0"):
                return algebra.M0(val[2])
            self.take("[")
            skind, site = self.take()
            if skind != "name":
                raise SymmagInputError(f"a site must be a name, got {site!r}")
            self.take("]")
            return algebra.S(sp.Symbol(site), val[1])
        if kind == "name":
            if self.peek()[1] == "(":
                raise SymmagInputError(f"function {val}(...) is not allowed: operators enter polynomially")
            if val not in self.symbols:
                raise SymmagInputError(f"unknown symbol or operator {val!r}")
            return Op.scalar(self.symbols[val])
        if val == "(":
            out = self.expr()
            self.take(")")
            return out
        if val in ("[", "{"):
            a = self.expr()
            self.take(",")
            b = self.expr()
            self.take("]" if val == "[" else "}")
            return algebra.commutator(a, b) if val == "[" else algebra.anticommutator(a, b)
        raise SymmagInputError(f"unexpected {val or 'end of input'!r}")


def parse(text: str, symbols: dict[str, sp.Symbol]) -> Op:
    p = _Parser(text, symbols)
    out = p.expr()
    if p.peek()[0] != "end":
        raise SymmagInputError(f"unexpected {p.peek()[1]!r} after a complete expression")
    return out
