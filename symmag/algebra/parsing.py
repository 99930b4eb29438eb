"""A restricted grammar for operator polynomials typed as text (no ``eval``).

``sympify``/``parse_expr`` evaluate Python, so untrusted text never goes
through them.  This recursive-descent parser knows only the tokens below and
builds :class:`~symmag.algebra.su2.Op` objects directly::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom ('**' INTEGER)?
    atom    := NUMBER | 'I' | NAME | GENERATOR | '(' expr ')'
             | '[' expr ',' expr ']'          (commutator)
             | '{' expr ',' expr '}'          (anticommutator)
    GENERATOR := 'M0' AXIS | 'S' AXIS '[' NAME ']'

Division is by c-numbers only; exponents are non-negative integers.

Limits (module constants, each named in its error message, so that every input answers
within about two seconds instead of hanging): :data:`MAX_INPUT_LENGTH` characters,
:data:`MAX_NESTING` levels of brackets and signs, :data:`MAX_DIGITS` digits in a number
(typed or computed), exponents up to :data:`MAX_POWER`, a c-number power expanding to at
most :data:`MAX_EXPANDED_TERMS` terms, and one time budget :data:`MAX_SECONDS` over all
the products of a parse (besides the per-product limits of :mod:`symmag.algebra.su2`).  Names
given in ``symbols`` must not shadow a name the grammar already means (``I``, ``hbar``,
``gamma``, ``N``, the generators) nor SymPy's printed constants (``pi``, ``E``, ...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import sympy as sp

from ..conventions import N, gamma, hbar
from ..errors import SymmagInputError
from . import su2
from .su2 import Op

# ASCII only: \d and \s would otherwise accept other scripts' digits and spaces
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?)|(?P<gen>M0[xyz]|S[xyz](?=\s*\[))|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/(),\[\]{}]))",
    re.ASCII,
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*", re.ASCII)

#: Largest exponent.  Canonical forms of high powers grow fast: keep the grammar from stalling.
MAX_POWER = 64
#: Longest input, in characters.  10^4 characters of a sum of 1400 distinct names or 1100
#: distinct sites parse in about 1 s; a product of 1700 c-number factors stops at
#: :data:`MAX_SECONDS`.
MAX_INPUT_LENGTH = 10_000
#: Deepest nesting of brackets ( [ { and longest run of unary signs: five Python frames a
#: level, well below the recursion limit (1000) with room for the algebra's own recursion.
MAX_NESTING = 50
#: Most digits of a number, typed or computed (Python refuses to print an integer of more
#: than 4300 digits).
MAX_DIGITS = 1000
#: The time budget of one parse, in seconds of CPU time, over all its products and
#: reductions (their cost per term varies a hundredfold with the coefficients, so time is
#: what is bounded; CPU time, so that a loaded machine does not fail valid inputs):
#: ``(M0x+M0y+M0z)**10`` takes about 0.6 s, ``**12`` about 1.7 s, ``**64`` stops here.
MAX_SECONDS = 2.0
#: Most terms a c-number power may expand to (``(a+b+c)**64`` would have 2145).
MAX_EXPANDED_TERMS = 2000

BUILTINS = {"hbar": hbar, "gamma": gamma, "N": N, "I": sp.I}
#: Names a user symbol may not take: the grammar's own, and what SymPy prints for its
#: constants (a symbol named ``pi`` would print like pi and mean something else).
RESERVED = frozenset({*BUILTINS, "M0x", "M0y", "M0z", "Sx", "Sy", "Sz",
                      "pi", "E", "oo", "zoo", "nan", "EulerGamma", "Catalan", "GoldenRatio"})
_BUILTIN_NAMES = {str(v): v for v in BUILTINS.values()}  # printed name -> the built-in


def check_symbols(symbols: Mapping) -> dict[str, sp.Expr]:
    """The user's names, checked: each a plain ASCII name not in :data:`RESERVED`, each
    value a commutative SymPy expression (strings refused: they would be evaluated) that
    does not use a symbol printed like a built-in (``Symbol("gamma")`` without gamma's
    assumptions is another symbol that prints the same)."""
    if not isinstance(symbols, Mapping):
        raise SymmagInputError(
            f"symbols must be a mapping name -> SymPy symbol, got {type(symbols).__name__}")
    out = {}
    for name, value in symbols.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise SymmagInputError(f"not a symbol name: {name!r} (letters, digits and _, ASCII)")
        if name in RESERVED:
            raise SymmagInputError(
                f"the symbol name {name!r} is reserved: the grammar already gives it a meaning "
                f"(reserved: {', '.join(sorted(RESERVED))})")
        value = su2.strict_sympify(value)
        if not isinstance(value, sp.Expr) or not value.is_commutative:
            raise SymmagInputError(f"the value of symbol {name!r} must be a commutative SymPy expression")
        for sym in value.free_symbols:
            builtin = _BUILTIN_NAMES.get(sym.name)
            if builtin is not None and sym != builtin:
                raise SymmagInputError(
                    f"the value of symbol {name!r} uses a symbol named {sym.name!r} that is not "
                    f"the built-in {sym.name} (use symmag.conventions.{sym.name})")
        out[name] = value
    return out


def _check_number(text: str) -> None:
    if len(text) > MAX_DIGITS:
        raise SymmagInputError(
            f"a number of {len(text)} characters exceeds the limit "
            f"symmag.algebra.parsing.MAX_DIGITS = {MAX_DIGITS}")


def _bits(c: sp.Expr) -> int:
    """The largest bit length of the numerators and denominators in ``c``."""
    return max((max(abs(r.p).bit_length(), r.q.bit_length()) for r in c.atoms(sp.Rational)), default=1)


_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))


def _scalar_power(c: sp.Expr, n: int) -> sp.Expr:
    """c**n for an expanded c-number, refused before the work when the expansion would
    exceed :data:`MAX_EXPANDED_TERMS` terms or :data:`MAX_DIGITS` digits."""
    k = len(c.args) if c.is_Add else 1
    terms = math.comb(n + k - 1, k - 1)
    if terms > MAX_EXPANDED_TERMS:
        shown = str(terms) if terms < 10**12 else f"about 10^{len(str(terms)) - 1}"
        raise SymmagInputError(
            f"a c-number power would expand to {shown} terms, more than the limit "
            f"symmag.algebra.parsing.MAX_EXPANDED_TERMS = {MAX_EXPANDED_TERMS}")
    # multinomial coefficients are below k**n; numbers of c grow to their n-th power
    if n * (_bits(c) + k.bit_length()) > _MAX_BITS:
        raise SymmagInputError(
            f"a c-number power would have numbers of more than symmag.algebra.parsing.MAX_DIGITS = "
            f"{MAX_DIGITS} digits")
    return c**n


def _check_result(op: Op) -> None:
    for c in op.terms.values():
        if _bits(c) > _MAX_BITS:
            raise SymmagInputError(
                f"the result has a number of more than symmag.algebra.parsing.MAX_DIGITS = "
                f"{MAX_DIGITS} digits")


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            # skip ASCII blanks only: str.strip would also drop the offending Unicode space
            rest = text[pos:].lstrip(" \t\n\r\f\v")
            where = len(text) - len(rest)
            raise SymmagInputError(f"unexpected character {rest[:1]!r} at {where}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    out.append(("end", ""))
    return out


class _Parser:
    def __init__(self, text: str, symbols: dict[str, sp.Expr]):
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.symbols = {**BUILTINS, **symbols}

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise SymmagInputError(
                f"nesting deeper than the limit symmag.algebra.parsing.MAX_NESTING = {MAX_NESTING}")

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
        terms = [self.term()]
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            rhs = self.term()
            terms.append(rhs if op == "+" else -rhs)
        # one sum at the end: adding term by term is quadratic in the number of terms
        return terms[0] if len(terms) == 1 else su2.op_sum(terms)

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
        # a loop, not recursion: a run of signs is as deep as one
        negate, signs = False, 0
        while self.peek()[1] in ("-", "+"):
            negate ^= self.take()[1] == "-"
            signs += 1
            if signs > MAX_NESTING:
                raise SymmagInputError(
                    f"more signs in a row than the limit symmag.algebra.parsing.MAX_NESTING = {MAX_NESTING}")
        val = self.power()
        return -val if negate else val

    def power(self) -> Op:
        base = self.atom()
        if self.peek()[1] == "**":
            self.take()
            kind, val = self.take()
            if kind != "num" or not val.isdigit():
                raise SymmagInputError(
                    f"exponent must be a non-negative integer, got {val or 'end of input'!r}")
            if len(val) > 3 or int(val) > MAX_POWER:
                raise SymmagInputError(
                    f"exponent {val[:20]}{'...' if len(val) > 20 else ''} is larger than {MAX_POWER} "
                    "(the limit symmag.algebra.parsing.MAX_POWER)")
            if base.is_scalar():
                return Op.scalar(_scalar_power(base.scalar_part(), int(val)))
            return base ** int(val)
        return base

    def atom(self) -> Op:
        kind, val = self.take()
        if kind == "num":
            _check_number(val)
            return Op.scalar(sp.Rational(val) if "." in val else sp.Integer(val))
        if kind == "gen":
            if val.startswith("M0"):
                return su2.M0(val[2])
            self.take("[")
            skind, site = self.take()
            if skind != "name":
                raise SymmagInputError(f"a site must be a name, got {site!r}")
            self.take("]")
            return su2.S(sp.Symbol(site), val[1])
        if kind == "name":
            if self.peek()[1] == "(":
                raise SymmagInputError(f"function {val}(...) is not allowed: operators enter polynomially")
            if val not in self.symbols:
                raise SymmagInputError(f"unknown symbol or operator {val!r}")
            return Op.scalar(self.symbols[val])
        if val == "(":
            self.enter()
            out = self.expr()
            self.take(")")
            self.depth -= 1
            return out
        if val in ("[", "{"):
            self.enter()
            a = self.expr()
            self.take(",")
            b = self.expr()
            self.take("]" if val == "[" else "}")
            self.depth -= 1
            return su2.commutator(a, b) if val == "[" else su2.anticommutator(a, b)
        raise SymmagInputError(f"unexpected {val or 'end of input'!r}")


def parse(text: str, symbols: Mapping[str, sp.Expr]) -> Op:
    """The canonical form of ``text``; :class:`SymmagInputError` for anything outside the
    grammar or the limits of the module docstring."""
    if not isinstance(text, str):
        raise SymmagInputError(f"the expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:
        raise SymmagInputError(
            f"the expression has {len(text)} characters, more than the limit "
            f"symmag.algebra.parsing.MAX_INPUT_LENGTH = {MAX_INPUT_LENGTH}")
    if not text.strip():
        raise SymmagInputError("the expression is empty")
    p = _Parser(text, check_symbols(symbols))
    try:
        with su2.work_budget(MAX_SECONDS, "symmag.algebra.parsing.MAX_SECONDS"):
            out = p.expr()
    except RecursionError:  # a safety net: the limits above keep the depth far from it
        raise SymmagInputError("the expression is nested too deeply to reduce") from None
    if p.peek()[0] != "end":
        raise SymmagInputError(f"unexpected {p.peek()[1]!r} after a complete expression")
    _check_result(out)
    return out
