"""Abstract dimensions: a small table of our own, no SI.

The paper mixes conventions (Gaussian-style fields, a volume V in the average
(5)), so SI units get in the way.  Four base dimensions suffice:

    E  energy      T  time      H  magnetic field      L3  volume

and everything else follows from the Zeeman energy gamma hbar S.H:

    [hbar] = E T, [S_i] = E T, [gamma] = 1/(T H), [M0] = [gamma hbar] = E/H,
    [M] = <M0> = [M0]/L3 (average per volume, (5)), [lambda] = [alpha] = 1/[M],
    [lambda0] = [alpha0] = 1 (READING.md), [t] = T.

:func:`dimension` returns the dimension of an expression (a monomial in the
base symbols) or raises :class:`DimensionError` naming the terms that
disagree.  Tables are plain dicts from a name to a dimension; pass your own
entries with ``extra=`` for symbols of your own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp
from sympy.core.function import AppliedUndef

E, T, H, L3 = sp.symbols("E T H L3", positive=True)
ONE = sp.S.One

M_DIM = E / (H * L3)

#: name -> dimension.  Component suffixes _x, _y, _z are stripped before look-up.
TABLE: dict[str, sp.Expr] = {
    "hbar": E * T,
    "gamma": 1 / (T * H),
    "gamma_abs": 1 / (T * H),
    "gamma_tot": 1 / (T * H),
    "V": L3,
    "N": ONE,
    "t": T,
    "t0": T,
    "tau": T,
    "H_eff": H,
    "H_ext": H,
    "H_z": H,
    "M": M_DIM,
    "M_p": M_DIM,
    "lambda": 1 / M_DIM,
    "lam": 1 / M_DIM,
    "alpha": 1 / M_DIM,
    "lambda0": ONE,
    "alpha0": ONE,
    "kappa": ONE,
    "d": ONE,
    "a": ONE,
    "omega0": 1 / T,
    "beta": 1 / (E * T),  # beta I0 is dimensionless with R0 dimensionless
    "R0": ONE,
    "I0": E * T,
    "H_0": E,
    "H": E,  # the full Hamiltonian (2)
    "H_I": E / (1 / M_DIM),  # lambda H_I is an energy
    "Mhat": E / H,
    "U": ONE,
    "D": M_DIM / T,
    "D_I": E / (H * T),  # an operator: [M0]/T
    "rho": ONE,
    "rho_int": ONE,
    "rho_0": ONE,
    "Z": ONE,
    "Z0": ONE,
}

OPERATOR_DIMENSIONS = {"Moment": E / H, "Spin": E * T}


class DimensionError(ValueError):
    """An expression whose terms have different dimensions."""


class DimensionUnknown(ValueError):
    """An expression the dimension rules do not cover (not an inconsistency)."""


Vec = tuple  # exponents of (E, T, H, L3): dimensions multiply by adding them
_BASE = (E, T, H, L3)
_ONE_VEC: Vec = (0, 0, 0, 0)


def _vec(d: sp.Expr) -> Vec:
    powers = sp.sympify(d).as_powers_dict()
    return tuple(sp.Rational(powers.get(b, 0)) for b in _BASE)


def _expr(v: Vec) -> sp.Expr:
    return sp.Mul(*(b**p for b, p in zip(_BASE, v)))


def _fmt(v: Vec) -> str:
    return "1" if v == _ONE_VEC else str(_expr(v))


def _add(u: Vec, v: Vec) -> Vec:
    return tuple(a + b for a, b in zip(u, v))


def _scale(u: Vec, k) -> Vec:
    return tuple(a * k for a in u)


def _vec_table(table: Mapping[str, sp.Expr]) -> dict[str, Vec]:
    return {k: _vec(v) for k, v in table.items()}


def _lookup(name: str, table: Mapping[str, Vec]) -> Vec:
    if name in table:
        return table[name]
    base = re.sub(r"_(x|y|z)$", "", name)
    if base in table:
        return table[base]
    m = re.fullmatch(r"(m|G)0?\^([xyz]+)", name)  # correlation symbols of symmag.algebra.expectation
    if m:
        return _vec(M_DIM) if m.group(1) == "m" else _vec((E / H) ** len(m.group(2)) / L3)
    raise DimensionUnknown(f"no dimension known for {name!r}; add it to the table")


def dimension(expr, table: Mapping[str, sp.Expr] | None = None) -> sp.Expr:
    """The dimension of ``expr`` (SymPy expression, operator or Op)."""
    return _expr(_dimension(expr, _vec_table(TABLE if table is None else table)))


def _dimension(expr, vt: Mapping[str, Vec]) -> Vec:
    from ..algebra.su2 import Op

    if isinstance(expr, Op):
        return _op_dimension(expr, vt)
    return _dim(sp.sympify(expr), vt)


_OPERATOR_VECS = {k: _vec(v) for k, v in OPERATOR_DIMENSIONS.items()}


def _op_dimension(op, vt) -> Vec:
    dims: dict[Vec, object] = {}
    for k, c in op.terms.items():
        dims.setdefault(_add(_dim(c, vt), _key_dimension(k)), k)
    if not dims:
        return _ONE_VEC  # zero carries any dimension
    if len(dims) > 1:
        raise DimensionError("operator terms of different dimensions: " + ", ".join(map(_fmt, dims)))
    return next(iter(dims))


def _key_dimension(k) -> Vec:
    if not k:
        return _ONE_VEC
    if k[0] == "M":
        return _scale(_OPERATOR_VECS["Moment"], len(k[1]))
    n = sum(len(w) for _, w in k[1]) + sum(len(w) for w in k[2])
    return _scale(_OPERATOR_VECS["Spin"], n)


def _dim(e: sp.Basic, vt) -> Vec:
    from sympy.physics.quantum import AntiCommutator, Commutator, Dagger

    if e.is_Number or e in (sp.I, sp.pi, sp.E):
        return _ONE_VEC
    if type(e).__name__ in _OPERATOR_VECS:
        return _OPERATOR_VECS[type(e).__name__]
    if isinstance(e, sp.Symbol):
        return _lookup(e.name, vt)
    if isinstance(e, AppliedUndef):
        return _lookup(e.func.__name__, vt)
    if isinstance(e, sp.MatrixSymbol):
        return _lookup(str(e.args[0]), vt)
    if isinstance(e, sp.Add):
        dims = {_dim(a, vt) for a in e.args}
        if len(dims) > 1:
            raise DimensionError(f"terms of {e} have dimensions " + " vs ".join(map(_fmt, sorted(dims))))
        return dims.pop()
    if isinstance(e, (sp.Mul, sp.MatMul, Commutator, AntiCommutator)):
        out = _ONE_VEC
        for a in e.args:
            out = _add(out, _dim(a, vt))
        return out
    if isinstance(e, sp.Pow):
        if _dim(e.exp, vt) != _ONE_VEC:
            raise DimensionError(f"exponent of {e} is not dimensionless")
        return _scale(_dim(e.base, vt), e.exp)
    if isinstance(e, sp.Derivative):
        out = _dim(e.expr, vt)
        for v, n in e.variable_count:
            out = _add(out, _scale(_dim(v, vt), -n))
        return out
    if isinstance(e, (sp.Sum, Dagger, sp.Trace)):
        return _dim(e.args[0], vt)
    if isinstance(e, sp.Function):
        for a in e.args:
            if _dim(a, vt) != _ONE_VEC:
                raise DimensionError(f"argument of {e.func.__name__} is not dimensionless: {a}")
        return _ONE_VEC
    if isinstance(e, sp.Integral):
        out = _dim(e.function, vt)
        for lim in e.limits:
            out = _add(out, _dim(lim[0], vt))
        return out
    raise DimensionUnknown(f"no dimension rule for {type(e).__name__}: {e}")


def components(x) -> list:
    """The scalar components of a side: a matrix or array entry by entry, tuples flattened."""
    if isinstance(x, (sp.MatrixBase, sp.NDimArray)):
        return list(x)
    if isinstance(x, (tuple, list)):
        out = []
        for e in x:
            out.extend(components(e))
        return out
    return [x]


def check_relation(lhs, rhs, table: Mapping[str, sp.Expr] | None = None) -> str:
    """Dimension of a relation, componentwise; raises when a side or component disagrees."""

    vt = _vec_table(TABLE if table is None else table)
    ls, rs = components(lhs), components(rhs)
    seen: list[Vec] = []
    for a, b in zip(ls, rs):
        da, db = _nonzero_dim(a, vt), _nonzero_dim(b, vt)
        if da is not None and db is not None and da != db:
            raise DimensionError(f"lhs has dimension {_fmt(da)}, rhs {_fmt(db)}")
        d = da if da is not None else db
        if d is not None and d not in seen:
            seen.append(d)
    return ", ".join(_fmt(d) for d in seen) or "0"


def _nonzero_dim(x, vt):
    from ..algebra.su2 import Op

    if isinstance(x, Op) and x.is_zero():
        return None
    if isinstance(x, sp.ZeroMatrix) or (not isinstance(x, Op) and sp.sympify(x) == 0):
        return None
    return _dimension(x, vt)
