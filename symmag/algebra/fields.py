"""c-number fields and the functional derivative that defines moment operators.

The moment operator is M = -dH/dH_ext (4).  symmag takes the derivative with
respect to the components of H_eff, under the convention (``field-derivative``
in :mod:`symmag.conventions`) that dH_eff/dH_ext is the identity with the
c-number magnetization M held fixed.  Coefficients may depend on H_eff through
any SymPy expression (e.g. M x H_eff); operators enter polynomially.  Inputs are
sympified strictly: a string is refused, never evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..conventions import AXES, t
from ..errors import SymmagInputError
from .su2 import Op, strict_sympify


def vector_function(name: str, latex_name: str | None = None, of=t) -> tuple[sp.Expr, ...]:
    """A 3-vector of real functions of ``of`` (default t): name_x(t), name_y(t), name_z(t)."""
    out = []
    for ax in AXES:
        f = sp.Function(f"{name}_{ax}", real=True)
        out.append(f(of) if of is not None else sp.Symbol(f"{name}_{ax}", real=True))
    return tuple(out)


#: The effective field H_eff(t) of (3), components as functions of time.
H_eff = vector_function("H_eff")
#: The c-number magnetization M(t) of (5).
M = vector_function("M")


def functional_derivative(op, variables: Sequence[sp.Expr]) -> tuple[Op, ...]:
    """(d op / d v for v in variables), differentiating the c-number coefficients."""
    op = Op.coerce(op)
    return tuple(op.diff(v) for v in check_field(variables, "variables", length=None))


def check_field(field, what: str = "field", length: int | None = 3) -> tuple[sp.Expr, ...]:
    """A sequence of commutative SymPy expressions (``length`` of them), strictly sympified."""
    try:
        items = tuple(field) if not isinstance(field, (str, bytes)) else None
    except TypeError:
        items = None
    if items is None:
        raise SymmagInputError(
            f"the {what} must be a sequence of SymPy expressions, got {type(field).__name__}")
    out = tuple(strict_sympify(x) for x in items)
    if length is not None and len(out) != length:
        raise SymmagInputError(f"the {what} must have {length} components, got {len(out)}")
    if not all(isinstance(x, sp.Expr) and x.is_commutative for x in out):
        raise SymmagInputError(f"the {what} must be commutative SymPy expressions (c-numbers)")
    return out


def check_time(time) -> sp.Symbol:
    if not isinstance(time, sp.Symbol):
        raise SymmagInputError(f"the time must be a SymPy symbol, got {time!r}")
    return time


def magnetic_moment(hamiltonian, field: Sequence[sp.Expr] = H_eff) -> tuple[Op, Op, Op]:
    """M = -dH/dH_ext (4), taken as -dH/dH_eff at fixed c-number M."""
    return tuple(-d for d in functional_derivative(hamiltonian, field))  # type: ignore[return-value]


def total_time_derivative(expr: sp.Expr, time: sp.Symbol = t) -> sp.Expr:
    """d expr/dt by the chain rule, treating every f(t) and its derivatives as
    independent variables first.  Gives the same result as ``sympy.diff`` but
    never builds ``Subs`` objects for functions of functions of t (e.g. a
    coefficient h(H_eff(t), t)), which made ``diff`` slow.  ``expr`` is sympified
    strictly (a string is refused)."""
    expr = strict_sympify(expr)
    time = check_time(time)
    undef = expr.atoms(sp.core.function.AppliedUndef)
    if any(time in u.args and u.args != (time,) for u in undef):
        # h(f(t), t): sympy's Derivative(..., t) would mean the total derivative, so
        # the explicit slot needs Subs; leave that to sympy
        return sp.diff(expr, time)
    derivs = sorted((d for d in expr.atoms(sp.Derivative)
                     if d.variables == (time,) * len(d.variables) and d.expr.args == (time,)),
                    key=sp.default_sort_key)
    funcs = sorted((f for f in undef if f.args == (time,)),
                   key=sp.default_sort_key)
    if not derivs and not funcs:
        return sp.diff(expr, time)
    names = {x: sp.Dummy() for x in [*derivs, *funcs]}
    plain = expr.xreplace({d: names[d] for d in derivs}).xreplace({f: names[f] for f in funcs})
    out = sp.diff(plain, time)
    for x, s in names.items():
        out += sp.diff(plain, s) * sp.Derivative(x, time).doit()
    back = {s: x for x, s in names.items()}
    return out.xreplace(back)
