"""c-number fields and the functional derivative that defines moment operators.

The moment operator is M = -dH/dH_ext (4).  symmag takes the derivative with
respect to the components of H_eff, under the convention (``field-derivative``
in :mod:`symmag.conventions`) that dH_eff/dH_ext is the identity with the
c-number magnetization M held fixed.  Coefficients may depend on H_eff through
any SymPy expression (e.g. M x H_eff); operators enter polynomially.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from .algebra import Op
from .conventions import AXES, t


def vector_function(name: str, latex_name: str | None = None, of=t) -> tuple[sp.Expr, ...]:
    """A 3-vector of real functions of ``of`` (default t): name_x(t), name_y(t), name_z(t)."""
    out = []
    for ax in AXES:
        f = sp.Function(f"{name}_{ax}", real=True)
        out.append(f(of) if of is not None else sp.Symbol(f"{name}_{ax}", real=True))
    return tuple(out)


def vector_symbol(name: str) -> tuple[sp.Symbol, ...]:
    """A 3-vector of real symbols name_x, name_y, name_z."""
    return tuple(sp.Symbol(f"{name}_{ax}", real=True) for ax in AXES)


#: The effective field H_eff(t) of (3), components as functions of time.
H_eff = vector_function("H_eff")
#: The c-number magnetization M(t) of (5).
M = vector_function("M")


def functional_derivative(op, variables: Sequence[sp.Expr]) -> tuple[Op, ...]:
    """(d op / d v for v in variables), differentiating the c-number coefficients."""
    op = Op.coerce(op)
    return tuple(op.diff(v) for v in variables)


def magnetic_moment(hamiltonian, field: Sequence[sp.Expr] = H_eff) -> tuple[Op, Op, Op]:
    """M = -dH/dH_ext (4), taken as -dH/dH_eff at fixed c-number M."""
    return tuple(-d for d in functional_derivative(hamiltonian, field))  # type: ignore[return-value]
