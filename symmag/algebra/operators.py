"""SymPy-level operator symbols, and the conversion into canonical form.

Users and ``derivations/printed.py`` write operators the way SymPy users do:
``Moment("x")`` is M0^x, ``Spin("y", i)`` is S_i^y, combined with SymPy
arithmetic, ``sympy.physics.quantum`` Commutator/AntiCommutator/Dagger and
``Sum(..., (i, 1, N))``.  These classes build on ``sympy.physics.quantum``
(printing, Dagger, Commutator.doit through the ``_eval_commutator_*`` hook);
:func:`to_op` turns such an expression into a canonical :class:`~symmag.algebra.su2.Op`
and refuses, with one clear message, anything that is not a polynomial in the
known generators.  Nothing here evaluates strings: expressions come from
Python code (trusted) or from :func:`parse_operator` (a restricted grammar).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.physics.quantum import AntiCommutator, Commutator, Dagger, HermitianOperator

from ..conventions import AXES, N, gamma, hbar
from ..errors import SymmagInputError
from . import su2
from .su2 import Op


def _axis_symbol(a) -> sp.Symbol:
    name = AXES[a] if isinstance(a, int) else str(a)
    if name not in AXES:
        raise SymmagInputError(f"unknown axis {a!r}; expected x, y or z")
    return sp.Symbol(name)


class Moment(HermitianOperator):
    """M0^a, a component of the collective moment M0 = gamma sum_i S_i (6)."""

    def __new__(cls, axis):
        return super().__new__(cls, _axis_symbol(axis))

    @property
    def axis(self) -> int:
        return AXES.index(self.args[0].name)

    def _latex(self, printer, *args):
        return rf"\hat{{M}}_{{0}}^{{{self.args[0]}}}"

    def _sympystr(self, printer, *args):
        return f"M0{self.args[0]}"

    def _eval_commutator_Moment(self, other, **hints):
        # (8): [M0^a, M0^b] = i hbar gamma eps^{abc} M0^c
        a, b = self.axis, other.axis
        return sp.Add(*(sp.I * hbar * gamma * su2.levi_civita(a, b, c) * Moment(c)
                        for c in range(3)))


class Spin(HermitianOperator):
    """S_i^a, the spin of site i (a SymPy symbol)."""

    def __new__(cls, axis, site):
        site = su2.strict_sympify(site)  # a string is refused, never evaluated
        if not isinstance(site, sp.Symbol):
            raise SymmagInputError(f"a site must be a symbol, got {site}")
        return super().__new__(cls, _axis_symbol(axis), site)

    @property
    def axis(self) -> int:
        return AXES.index(self.args[0].name)

    @property
    def site(self) -> sp.Symbol:
        return self.args[1]

    def _latex(self, printer, *args):
        return rf"\hat{{S}}_{{{printer._print(self.site)}}}^{{{self.args[0]}}}"

    def _sympystr(self, printer, *args):
        return f"S{self.args[0]}[{self.site}]"

    def _eval_commutator_Spin(self, other, **hints):
        if self.site != other.site:
            return sp.S.Zero  # distinct symbols are distinct sites
        a, b = self.axis, other.axis
        return sp.Add(*(sp.I * hbar * su2.levi_civita(a, b, c) * Spin(c, self.site)
                        for c in range(3)))


def moment_vector() -> tuple[Moment, Moment, Moment]:
    return (Moment("x"), Moment("y"), Moment("z"))


def spin_vector(site) -> tuple[Spin, Spin, Spin]:
    return (Spin("x", site), Spin("y", site), Spin("z", site))


def _has_operator(e: sp.Basic) -> bool:
    return not e.is_commutative or e.has(Moment, Spin)


def to_op(expr, bind: Mapping | None = None) -> Op:
    """Canonical form of a SymPy operator expression.

    Raises :class:`SymmagInputError` for an unknown operator, a non-polynomial
    function of an operator (``sin(M0x)``, ``1/M0x``), or a sum over anything
    but a site index from 1 to N.  ``bind`` maps noncommutative symbols that
    stand for operators in a printed equation (e.g. the paper's M-hat) to the
    operators of the case at hand.
    """
    if isinstance(expr, Op):
        return expr
    expr = su2.strict_sympify(expr)  # a string is refused, never evaluated
    if bind is not None and not isinstance(bind, Mapping):
        raise SymmagInputError(f"bind must be a mapping symbol -> operator, got {type(bind).__name__}")
    try:
        return _convert(expr, dict(bind or {}))
    except RecursionError:  # an expression tree deeper than Python's stack
        raise SymmagInputError("the expression is nested too deeply to convert") from None


def _convert(e: sp.Basic, bind: dict) -> Op:
    if e in bind:
        return Op.coerce(bind[e])
    if isinstance(e, Moment):
        return su2.M0(e.axis)
    if isinstance(e, Spin):
        return su2.S(e.site, e.axis)
    if not _has_operator(e):
        if isinstance(e, sp.Expr):
            return Op.scalar(e)
        raise SymmagInputError(f"not an expression: {e}")
    if isinstance(e, sp.Add):
        out = Op()
        for a in e.args:
            out = out + _convert(a, bind)
        return out
    if isinstance(e, sp.Mul):
        out = Op.scalar(1)
        for a in e.args:  # SymPy keeps noncommutative factors in order
            out = out * _convert(a, bind)
        return out
    if isinstance(e, sp.Pow):
        n = e.exp
        if not (n.is_Integer and n >= 0) or _has_operator(n):
            raise SymmagInputError(f"non-polynomial dependence on an operator: {e}")
        return _convert(e.base, bind) ** int(n)
    if isinstance(e, Commutator):
        return su2.commutator(_convert(e.args[0], bind), _convert(e.args[1], bind))
    if isinstance(e, AntiCommutator):
        return su2.anticommutator(_convert(e.args[0], bind), _convert(e.args[1], bind))
    if isinstance(e, Dagger):
        return _convert(e.args[0], bind).adjoint()
    if isinstance(e, sp.Sum):
        return _convert_sum(e, bind)
    if isinstance(e, (sp.Function, sp.Derivative, sp.Integral)) or e.is_Function:
        raise SymmagInputError(f"non-polynomial dependence on an operator: {e}")
    raise SymmagInputError(f"unknown operator: {e}")


def _convert_sum(e: sp.Sum, bind: dict) -> Op:
    body, *limits = e.args
    for idx, lo, hi in reversed(limits):
        if not (lo == 1 and hi == N):
            raise SymmagInputError(f"a site sum must run from 1 to N, got {idx} = {lo}..{hi}")
    def nest(expr, lims):
        if not lims:
            return _convert(expr, bind)
        (idx, _, _), rest = lims[0], lims[1:]
        return su2.site_sum(lambda j: nest(expr.xreplace({idx: j}), rest))

    # the outermost limit is the last one in SymPy's Sum
    return nest(body, list(reversed(limits)))


# -- a restricted grammar for operator strings (no eval) -----------------------------
def parse_operator(text: str, symbols: dict[str, sp.Symbol] | None = None) -> Op:
    """Parse an operator polynomial from text without evaluating Python.

    Grammar: numbers, ``I``, c-number names listed in ``symbols`` (plus
    ``hbar``, ``gamma``, ``N``), generators ``M0x`` ``M0y`` ``M0z`` and
    ``Sx[i]`` ``Sy[i]`` ``Sz[i]``, ``+ - * / **`` (integer exponents),
    parentheses, and ``[A, B]`` / ``{A, B}`` for (anti)commutators.  Anything
    else is an error naming the offending token.  ``symbols`` maps names to
    SymPy expressions (strings refused); a name the grammar already means
    (``gamma``, ``I``, ``M0x``, ``pi``, ... : ``symmag.algebra.parsing.RESERVED``) is
    refused.  Size, nesting and time are bounded (``symmag.algebra.parsing``'s limits).
    """
    from .parsing import parse

    return parse(text, symbols or {})


__all__ = [
    "AntiCommutator",
    "Commutator",
    "Dagger",
    "Moment",
    "Spin",
    "moment_vector",
    "parse_operator",
    "spin_vector",
    "to_op",
]
