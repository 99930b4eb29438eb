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

from .printed import alpha, alpha0, lb46, lb49
from .sec3a_rsi import gilbert_rate
from .sec3b_general_field import combined_rate

STATE = sp.symbols("Mx My Mz", real=True)
FIELD = sp.symbols("Hx Hy Hz", real=True)
GAMMA_ABS = sp.Symbol("gamma_abs", positive=True)
ALPHA0 = sp.Symbol("alpha0", positive=True)
#: the two barred parameters of Sec. III B (both printed as lambda0 in the extraction)
LB46, LB49 = lb46, lb49


def _llg_form(rate: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """A derived rate (in M, H_eff and gamma) in the state and parameter symbols, with
    gamma = -|gamma| and alpha = alpha0/|M|, rewritten as a M x H + b M x (M x H) for fast code:
    SymPy finds a and b by projection and the rewrite is checked to reproduce the rate."""
    magnitude = sp.sqrt(dot(STATE, STATE))
    sub = {**dict(zip(M, STATE)), **dict(zip(H_eff, FIELD))}
    rate = [r.xreplace(sub).subs({gamma: -gamma_abs, alpha: alpha0 / magnitude})
            .xreplace({gamma_abs: GAMMA_ABS, alpha0: ALPHA0}) for r in rate]
    prec = cross(STATE, FIELD)
    damp = cross(STATE, prec)
    a = sp.factor(sp.cancel(dot(rate, prec) / dot(prec, prec)))
    b = sp.factor(sp.cancel(dot(rate, damp) / dot(damp, damp)))
    # M x (M x H) = M (M . H) - H |M|^2, which is cheaper to evaluate
    rhs = tuple(a * prec[i] + b * (STATE[i] * dot(STATE, FIELD) - FIELD[i] * dot(STATE, STATE))
                for i in range(3))
    if any(sp.simplify(x - y) != 0 for x, y in zip(rhs, rate)):
        raise AssertionError("the decomposition a M x H + b M x (M x H) does not reproduce the rate")
    return rhs


def llg_rsi() -> Model:
    """(41), the LLG equation of the radiation-spin interaction: the Gilbert equation
    (29)+(38) solved for dM/dt (step llg-form), with lambda and alpha eliminated through
    (39)-(40): alpha = alpha0/|M|, |M| taken from the state."""
    doc = ("LLG equation (41) of the radiation-spin interaction, Saradzhev et al. Sec. III A:\n"
           "dM/dt = -|gamma|/(1 + alpha0^2) [M x H + (alpha0/|M|) M x (M x H)],\n"
           "gamma = -|gamma|, alpha0 = alpha |M| dimensionless, lambda0 = alpha0/(1 + alpha0^2).\n"
           "|M| is conserved by the equation. At M = 0 the damping term is 0/0: the right-hand\n"
           "side is nan there (M = 0 is not a state of this model).")
    return Model("llg_rsi", STATE, (GAMMA_ABS, ALPHA0, *FIELD), _llg_form(gilbert_rate()), doc)


def llg_rsi_extra() -> Model:
    """Sec. III B: the radiation field (32) with the extra parallel field (46) and the extra
    torque (49) together -- the derived equation in Gilbert form (step combined-general-field,
    valid in any time-dependent field), solved for dM/dt."""
    doc = ("The RSI magnetization equation with both Sec. III B modifications of the radiation\n"
           "field, Saradzhev et al. (46) and (49): H_r^d -> H_r^d - lambdabar46 H_eff +\n"
           "(lambdabar49/|M|) M x H_eff. Derived (symmag check, step combined-general-field):\n"
           "dM/dt = -|gamma| [p M x H + (q/|M|) M x (M x H)],\n"
           "p = 1/(1 + alpha0^2) - lambdabar46 (precession), q = lambda0 + lambdabar49 (relaxation),\n"
           "lambda0 = alpha0/(1 + alpha0^2); gamma = -|gamma|; alpha0 of the original pair (40).\n"
           "lambdabar46 = lambdabar49 = 0 gives llg_rsi. |M| is conserved; at M = 0 the\n"
           "right-hand side is nan (M = 0 is not a state of this model).")
    return Model("llg_rsi_extra", STATE, (GAMMA_ABS, ALPHA0, LB46, LB49, *FIELD),
                 _llg_form(combined_rate()), doc)


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


# -- Sec. IV: the spin-spin model (63), truncated ---------------------------------------------
LAMBDA_IV = sp.Symbol("lambda", real=True)
HBAR = sp.Symbol("hbar", positive=True)
_AX = "xyz"


def _spin_spin(name: str, kind: str, doc: str) -> Model:
    """A truncation of the Sec. IV hierarchy (symmag.accuracy.spin_spin_systems) with M =
    <M0>/V closing the self-consistent coupling, V = 1 and gamma = -|gamma|.  State: the
    magnetization (Mx, My, Mz) and, where kept, the symmetrized two-point functions
    G^{ab} = <[M0^a, M0^b]_+> (Gxx, Gxy, ...); frozen ones are parameters."""
    from symmag.accuracy import LAMBDA, spin_spin_systems
    from symmag.conventions import V, hbar
    from symmag.expectation import Correlation, moment_average

    system = spin_spin_systems()[kind]
    m = moment_average()

    def plain(c: Correlation) -> sp.Symbol:
        if len(c.word) == 1:
            return STATE[c.word[0]]
        return sp.Symbol("G" + "".join(_AX[a] for a in c.word), real=True)

    correlations = {c for e in system.values() for c in sp.sympify(e).free_symbols
                    if isinstance(c, Correlation)}
    rename = {c: plain(c) for c in (*system, *correlations)}
    sub = {**dict(zip(M, m)), V: 1, gamma: -gamma_abs}
    rhs = tuple(sp.expand(sp.sympify(system[k]).xreplace(sub).xreplace(rename)
                          .xreplace({**dict(zip(H_eff, FIELD)), gamma_abs: GAMMA_ABS, LAMBDA: LAMBDA_IV,
                                     hbar: HBAR}))
                for k in system)
    state = tuple(rename[k] for k in system)
    frozen = sorted({rename[c] for c in correlations} - set(state), key=lambda s: s.name)
    used = set().union(*(e.free_symbols for e in rhs))
    params = tuple(p for p in (GAMMA_ABS, LAMBDA_IV, HBAR) if p in used) + tuple(FIELD) + tuple(frozen)
    return Model(name, state, params, rhs, doc)


_IV_DOC = ("Saradzhev et al. Sec. IV: the spin-spin interaction (63) with the self-consistent\n"
           "coupling J^ab = lambda M^a M^b, H = -M0 . H + (lambda/gamma^2)(M . M0)^2, M = <M0> (V = 1,\n"
           "M_I = 0), gamma = -|gamma|; the correlation hierarchy (68)-(71) generated by symmag and ")


def spin_spin_lowest() -> Model:
    """(73)-(76) generalized: dM/dt with the two-point functions frozen at their initial values
    (parameters Gxx ... Gzz; the paper's (72) is Gzz = 2 gamma^2 I, the others zero)."""
    return _spin_spin("spin_spin_lowest", "lowest order", _IV_DOC + "truncated at the lowest\n"
                      "order: G^ab frozen at its initial value (parameters). With (72), Gzz = 2 gamma^2 I\n"
                      "and the others 0, this is (73)-(76): precession about H_z + 2 lambda I M_z.")


def spin_spin_mean_field() -> Model:
    """Mean-field closure: every moment factorized (symmag.closures.mean_field)."""
    return _spin_spin("spin_spin_mean_field", "mean field", _IV_DOC + "closed by the mean\n"
                      "field: every symmetrized moment factorized, mu_w = prod mu_a.")


def spin_spin_cumulant2() -> Model:
    """Second-order cumulant closure: three-point cumulants dropped
    (symmag.closures.cumulant_expansion(H, 2)); state M and the six G^{ab}."""
    return _spin_spin("spin_spin_cumulant2", "cumulant 2", _IV_DOC + "closed at second order\n"
                      "in the cumulants: joint cumulants of three indices set to zero; the state carries\n"
                      "the six symmetrized two-point functions G^ab = <[M0^a, M0^b]_+>.")


MODELS = {"llg_rsi": llg_rsi, "llg_rsi_extra": llg_rsi_extra, "spin_spin_lowest": spin_spin_lowest,
          "spin_spin_mean_field": spin_spin_mean_field, "spin_spin_cumulant2": spin_spin_cumulant2}
