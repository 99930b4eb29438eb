"""The paper's equations as numeric models for ``symmag codegen``, built from the
derivations with SymPy doing every substitution (nothing typed from the paper).

Conventions (one naming and one gamma convention for all models): gamma = -|gamma|
(parameter ``gamma_abs`` > 0), the dimensionless damping ``alpha0`` = alpha |M|, the
field components ``Hx, Hy, Hz`` (scalars or per-system arrays, so a time-dependent
field is passed anew at each call), state ``Mx, My, Mz``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from symmag.algebra import cross, dot
from symmag.codegen import Model
from symmag.conventions import gamma, gamma_abs
from symmag.errors import SymmagInputError
from symmag.fields import H_eff, M

from .printed import alpha, alpha0
from .sec3a_rsi import gilbert_rate

STATE = sp.symbols("Mx My Mz", real=True)
FIELD = sp.symbols("Hx Hy Hz", real=True)
GAMMA_ABS = sp.Symbol("gamma_abs", positive=True)
ALPHA0 = sp.Symbol("alpha0", positive=True)


def llg_rsi() -> Model:
    """(41), the LLG equation of the radiation-spin interaction: the Gilbert equation
    (29)+(38) solved for dM/dt (step llg-form), with lambda and alpha eliminated through
    (39)-(40): alpha = alpha0/|M|, |M| taken from the state.

    For fast code the derived rate is written as a M x H + b M x (M x H); SymPy finds a and
    b by projection and the decomposition is checked to reproduce the derived rate."""
    magnitude = sp.sqrt(dot(STATE, STATE))
    sub = {**dict(zip(M, STATE)), **dict(zip(H_eff, FIELD))}
    rate = [r.xreplace(sub).subs({gamma: -gamma_abs, alpha: alpha0 / magnitude})
            .xreplace({gamma_abs: GAMMA_ABS, alpha0: ALPHA0}) for r in gilbert_rate()]
    prec = cross(STATE, FIELD)
    damp = cross(STATE, prec)
    a = sp.factor(sp.cancel(dot(rate, prec) / dot(prec, prec)))
    b = sp.factor(sp.cancel(dot(rate, damp) / dot(damp, damp)))
    # M x (M x H) = M (M . H) - H |M|^2, which is cheaper to evaluate
    rhs = tuple(a * prec[i] + b * (STATE[i] * dot(STATE, FIELD) - FIELD[i] * dot(STATE, STATE))
                for i in range(3))
    if any(sp.simplify(x - y) != 0 for x, y in zip(rhs, rate)):
        raise AssertionError("the decomposition of (41) does not reproduce the derived rate")
    doc = ("LLG equation (41) of the radiation-spin interaction, Saradzhev et al. Sec. III A:\n"
           "dM/dt = -|gamma|/(1 + alpha0^2) [M x H + (alpha0/|M|) M x (M x H)],\n"
           "gamma = -|gamma|, alpha0 = alpha |M| dimensionless, lambda0 = alpha0/(1 + alpha0^2).\n"
           "|M| is conserved by the equation. At M = 0 the damping term is 0/0: the right-hand\n"
           "side is nan there (M = 0 is not a state of this model).")
    return Model("llg_rsi", STATE, (GAMMA_ABS, ALPHA0, *FIELD), rhs, doc)


def gilbert_model(name: str, field: Sequence[sp.Expr], parameters: Sequence[sp.Symbol],
                  doc: str = "") -> Model:
    """The same derived LLG equation (41) with a field H_eff(M) of the user's: ``field`` is
    three SymPy expressions in the state symbols ``Mx, My, Mz`` and in ``parameters`` (which
    come after gamma_abs and alpha0).  The derived rate of llg_rsi is reused with H_eff
    replaced by ``field`` (SymPy substitution; the derivation holds for any c-number field)."""
    base = llg_rsi()
    if len(field) != 3:
        raise SymmagInputError(f"{name}: the field needs 3 components, got {len(field)}")
    rhs = tuple(sp.sympify(r).xreplace(dict(zip(FIELD, field))) for r in base.rhs)
    return Model(name, STATE, (GAMMA_ABS, ALPHA0, *parameters), rhs,
                 doc or f"The LLG equation (41) with the field H_eff(M) = {tuple(field)}.")


MODELS = {"llg_rsi": llg_rsi}
