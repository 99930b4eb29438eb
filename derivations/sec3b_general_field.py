"""Sec. III B, the general radiation field: eqs. (46)-(55) and the prose claims.

Every modification of the radiation field is a modified Hamiltonian
-M0 . H_r run through the same machinery as Sec. III A: symmag.dterm for M_I,
D_I and D; <M0> = mu M from M = <M> (parallelism as in (35)); |M| conserved.
The derived D is then decomposed on M x dM/dt, dM/dt, M x H_eff and
M x (M x H_eff), and the magnetization equation dM/dt = gamma M x H_eff + D
is read off in Gilbert form: damping alpha_eff and gyromagnetic ratio gamma_eff.
In the static field H_eff = H_z z this gives the precession rate
|gamma_eff| H_z/(1 + alpha_eff^2 M^2) and the relaxation rate alpha_eff M times it.

Named parameters (the extraction prints both barred parameters as lambda0):
lambdabar46 of (46)-(48), dimensionless; lambdabar49 of (49)-(52), read as the
dimensionless lambdabar49 = lambdabar M (the added torque is (lambdabar49/M) M x H_eff).
Held fixed: the original pair (lambda0, alpha0), obeying (40), and the field H_z.
gamma = -|gamma|, omega0 = |gamma| H_z.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from symmag.algebra import M0_vector, cross, dot
from symmag.conventions import gamma, t
from symmag.derivation import Derivation, Derived, Equal, Step, step
from symmag.dimensions import TABLE, E, H
from symmag.dterm import dterm
from symmag.expectation import expectation, moment_average
from symmag.fields import H_eff, M

from . import printed
from .printed import (
    H_z,
    M_mag,
    _nc_vector,
    alpha,
    alpha0,
    kappa,
    lam,
    lam0,
    lb46,
    lb49,
    omega0,
)
from .sec3a_rsi import CONSERVED, M2, STATIC, Mdot, conserve, gilbert_rate, radiation_field
from .sec3a_rsi import DIMENSIONS as SEC3A_DIMENSIONS

DIMENSIONS = {
    **SEC3A_DIMENSIONS, **TABLE,
    "Hdr46": H, "Hdr49": H, "Hnr": H, "MhatIn": E / H, "lambdabar46": sp.S.One,
    "lambdabar49": sp.S.One, "lambda0_46": sp.S.One, "lambda0_49": sp.S.One, "alpha0_49": sp.S.One,
    "alpha0_46": sp.S.One, "omega": SEC3A_DIMENSIONS["omega0"], "taubar": SEC3A_DIMENSIONS["tau"],
    "rate_46": SEC3A_DIMENSIONS["omega0"], "lambdabar46_reversal": sp.S.One,
}

m = moment_average()
MU = sp.Symbol("mu")
#: the original pair obeys (40); lambda = lambda0/M, alpha = alpha0/M
DIMENSIONLESS = {lam: lam0 / M_mag, alpha: alpha0 / M_mag}
RELATION_40 = {lam0: alpha0 / (1 + alpha0**2)}


#: 1/|M| in a Hamiltonian (a positive c-number, constant since |M| is conserved); replaced
#: by 1/sqrt(M . M) after the Hermiticity check, so that every coefficient is exact
M_INV = sp.Symbol("Minv", positive=True)
BACK = {M_INV: 1 / sp.sqrt(M2)}


@dataclass(frozen=True)
class Reading:
    """The derived equation of one modified field, decomposed:
    D = c_rot M x dM/dt + c_rate dM/dt + c_along M
        + gamma (c_prec M x H + c_damp M x (M x H)) + c_along_field M."""

    mu: sp.Expr  # <M0> = mu M
    c_rot: sp.Expr
    c_rate: sp.Expr
    c_prec: sp.Expr
    c_damp: sp.Expr
    c_along: sp.Expr
    c_along_field: sp.Expr

    @property
    def alpha_eff(self) -> sp.Expr:
        return sp.factor(self.c_rot / (1 - self.c_rate))

    @property
    def gamma_ratio(self) -> sp.Expr:
        """gamma_eff/gamma."""
        return sp.factor((1 + self.c_prec) / (1 - self.c_rate))


_VY = sp.Symbol("vy", real=True)


def plane(x: sp.Expr) -> sp.Expr:
    """M in the xz-plane at the instant considered (M_y = 0, dM_y/dt kept): no loss of
    generality in the static field, which is symmetric under rotations about z."""
    return x.xreplace({Mdot[1]: _VY}).xreplace({M[1]: 0}).xreplace({_VY: Mdot[1]})


def plane_conserved(x: sp.Expr) -> sp.Expr:
    """plane(conserve(x)), with the plane taken first: the same expression (the substitution
    for dM_z/dt does not involve M_y once M_y = 0), reached through far smaller ones."""
    return sp.cancel(plane(x).xreplace({Mdot[2]: plane(CONSERVED[Mdot[2]])}))


def _decompose(vec, basis) -> list[sp.Expr]:
    """Coefficients of vec on an orthogonal basis (checked), by projection."""
    def reduce(x):
        return plane_conserved(x)

    for i in range(3):
        for j in range(i + 1, 3):
            if reduce(dot(basis[i], basis[j])) != 0:
                raise ValueError("decomposition basis is not orthogonal")
    return [sp.factor(sp.cancel(reduce(dot(vec, b)) / reduce(dot(b, b)))) for b in basis]


def modified_field(kind: str) -> tuple:
    """H_r^d of (32) with the modification ``kind``: "none", "46", "49", "53" or "46+49"."""
    extra = {
        "none": (0, 0, 0),
        "46": tuple(-lb46 * h for h in H_eff),
        "49": tuple(lb49 * M_INV * c for c in cross(M, H_eff)),
        "53": tuple(kappa * lam * M[a] * M_INV * dot(M, H_eff) for a in range(3)),
        "46+49": tuple(-lb46 * h + lb49 * M_INV * c for h, c in zip(H_eff, cross(M, H_eff))),
    }[kind]
    return tuple(a + b for a, b in zip(radiation_field(lam, alpha), extra))


@cache
def averaged_d(kind: str, static: bool = True) -> tuple[sp.Expr, tuple]:
    """(mu, D): <M0> = mu M from M = <M0 + M_I>, and the averaged D of (30) with it, as
    functions of M, dM/dt and H_eff (H_eff = H_z z when ``static``)."""
    d = dterm(-dot(M0_vector(), modified_field(kind)))
    fix = {**(STATIC if static else {}), **BACK}
    moment = [x.xreplace(fix) for x in d.moment]
    res = sp.cancel(M[0] - expectation(moment[0]).xreplace({m[b]: MU * M[b] for b in range(3)}))
    (mu,) = sp.solve(sp.numer(sp.together(res)), MU)
    sub = {m[b]: mu * M[b] for b in range(3)}
    return mu, tuple(expectation(x.xreplace(fix)).xreplace(sub) for x in d.d_operator)


@cache
def analyse(kind: str, static: bool = True) -> Reading:
    """Run one modified radiation field through the D-term machinery."""
    mu, d = averaged_d(kind, static)
    dvec = [plane_conserved(x) if static else conserve(x) for x in d]
    h = [x.xreplace(STATIC) if static else x for x in H_eff]
    no_motion = {x: 0 for x in Mdot}
    no_field = {x: 0 for x in (*H_eff, H_z)}
    free = _decompose([x.xreplace(no_field) for x in dvec], [cross(M, Mdot), Mdot, M])
    prec = cross(M, h)
    forced = _decompose([x.xreplace(no_motion) for x in dvec], [prec, cross(M, prec), M])
    return Reading(sp.factor(mu), free[0], free[1], sp.factor(forced[0] / gamma),
                   sp.factor(forced[1] / gamma), free[2], forced[2])


def in_magnitude(x: sp.Expr) -> sp.Expr:
    """A scalar that depends on M only through M . M, written with the magnitude M."""
    rest = M[2] ** 2 + (M[1] ** 2 if x.has(M[1]) else 0)  # M_y may be gone (plane)
    y = sp.factor(sp.cancel(x.subs(M[0], sp.sqrt(M_mag**2 - rest))))  # exact: rational in M, M_z
    if y.has(M[1], M[2]):
        y = sp.simplify(y)
    if y.has(M[1], M[2]):
        raise ValueError(f"not a function of |M| alone: {x}")
    return y


def dimensionless(x: sp.Expr) -> sp.Expr:
    # rational in M, the parameters and H_z: cancel is exact (and far cheaper than simplify)
    return sp.factor(sp.cancel(in_magnitude(x).xreplace(DIMENSIONLESS).xreplace(RELATION_40)))


def rates(kind: str) -> tuple[sp.Expr, sp.Expr]:
    """(precession rate, relaxation rate) of the derived equation in the static field, in
    units where omega0 = |gamma| H_z, with gamma = -|gamma|."""
    r = analyse(kind)
    a_eff = dimensionless(r.alpha_eff * M_mag)  # alpha_eff M, dimensionless
    g_ratio = dimensionless(r.gamma_ratio)
    precession = sp.factor(omega0 * g_ratio / (1 + a_eff**2))
    return precession, sp.factor(a_eff * precession)


# -- claims ---------------------------------------------------------------------------------
def decomposition(kind: str, static: bool = True):
    """D has no component along M (so |M| stays conserved) and none along M x (M x H_eff):
    it is c_rot M x dM/dt + c_rate dM/dt + c_prec gamma M x H_eff."""
    r = analyse(kind, static)
    return Equal((r.c_along, r.c_along_field, r.c_damp), (0, 0, 0))


def original_rates():
    """Sanity: with no modification the rates are omega0/(1 + alpha0^2) and lambda0 omega0."""
    prec, relax = rates("none")
    return Equal((prec, relax), (omega0 / (1 + alpha0**2), (alpha0 / (1 + alpha0**2)) * omega0))


def frequency_46():
    """(47)-(48): write the derived static equation in the form (41) with the field rescaled,
    omega = omega0 (1 - lambdabar46); solve for the new lambda0 and alpha0."""
    prec, relax = rates("46")
    omega = omega0 * (1 - lb46)
    l_new, a_new = sp.symbols("l_new a_new", real=True)
    # (41) in the static field: precession omega (1 - l a), relaxation omega l (dimensionless)
    sol = sp.solve([omega * (1 - l_new * a_new) - prec, omega * l_new - relax], [l_new, a_new],
                   dict=True)
    (s,) = sol
    return s[l_new], s[a_new], prec, relax


def eq47():
    """With omega = omega0 (1 - lambdabar46), the form (41) with lambda0' = lambda0/(1 -
    lambdabar46) and alpha0' = alpha0 reproduces both derived rates."""
    prec, relax = rates("46")
    omega = omega0 * (1 - lb46)
    l_new = RELATION_40[lam0] / (1 - lb46)
    form41 = (omega * (1 - l_new * alpha0), omega * l_new)
    return Derived(result=Equal(sp.Symbol("omega", real=True), omega),
                   by=Equal(tuple(sp.factor(x) for x in form41), (prec, relax)))


def eq48():
    l_new, _, _, _ = frequency_46()
    return Derived(result=Equal(sp.Symbol("lambda0_46", real=True), sp.factor(l_new)),
                   by=Equal(sp.factor(l_new * (1 - lb46)), RELATION_40[lam0]))


def damping_46():
    _, a_new, _, _ = frequency_46()
    return Derived(result=Equal(sp.Symbol("alpha0_46", real=True), sp.factor(a_new)),
                   by=Equal(sp.factor(a_new), alpha0))


def relaxation_46():
    _, relax = rates("46")
    return Derived(result=Equal(sp.Symbol("rate_46", real=True), relax),
                   by=Equal(relax, lam0.xreplace(RELATION_40) * omega0))


def bind_lam0():
    return dict(RELATION_40)


def reversal_46():
    """The precession rate of the derived equation changes sign at lambdabar46 =
    1/(1 + alpha0^2); the relaxation rate stays lambda0 omega0 > 0, so M does not turn over."""
    prec, relax = rates("46")
    (root,) = sp.solve(prec, lb46)
    return Derived(result=Equal(sp.Symbol("lambdabar46_reversal"), root),
                   by=Equal((root, sp.diff(relax, lb46)), (1 / (1 + alpha0**2), 0)))


def eq50_51():
    """(50)-(51): the modified field is again of the form (32) with new parameters."""
    lp, ap = sp.symbols("lp ap", real=True)
    modified = [a + lb49 * M_INV * c for a, c in zip(radiation_field(lam, alpha), cross(M, H_eff))]
    ansatz = radiation_field(lp, ap)
    eqs = [sp.expand(modified[a] - ansatz[a]) for a in range(3)]
    coeffs = sp.Poly(eqs[0], *H_eff).coeffs()
    (s,) = sp.solve(coeffs, [lp, ap], dict=True)
    to_mag = {M_INV: 1 / M_mag}
    return (sp.factor((s[lp] * M_mag).xreplace(to_mag).xreplace(DIMENSIONLESS)),
            sp.factor(in_magnitude((s[ap] * M_mag).xreplace(to_mag)).xreplace(DIMENSIONLESS)), s)


def eq50():
    l_new, _, s = eq50_51()
    return Derived(result=Equal(sp.Symbol("lambda0_49", real=True), l_new),
                   by=Equal(sp.factor(sp.expand(radiation_field(*_pair(s))[2]
                                                - radiation_field(lam, alpha)[2]
                                                - lb49 * M_INV * cross(M, H_eff)[2])), 0))


def _pair(s):
    lp, ap = sp.symbols("lp ap", real=True)
    return s[lp], s[ap]


def eq51():
    _, a_new, _ = eq50_51()
    return Derived(result=Equal(sp.Symbol("alpha0_49", real=True), a_new),
                   by=Equal(sp.factor(a_new * (lam0 + lb49) - lam0 * alpha0), 0))


def gilbert_relation_49():
    """The new pair obeys (39) only for lambdabar49 = 0 or -2 lambda0: in general the
    modified ansatz is not Gilbert-like with its own alpha."""
    l_new, a_new, _ = eq50_51()
    a_pos = sp.Symbol("alpha0", positive=True)  # a damping parameter alpha0 > 0
    residual = sp.factor(a_new - l_new / (1 - l_new * a_new))  # (39) in dimensionless form
    residual = residual.xreplace(RELATION_40).xreplace({alpha0: a_pos})
    roots = sp.solve(sp.numer(sp.together(residual)), lb49)
    lam0_pos = RELATION_40[lam0].xreplace({alpha0: a_pos})
    return Equal(tuple(sorted((sp.factor(r) for r in roots), key=sp.default_sort_key)),
                 tuple(sorted((sp.Integer(0), sp.factor(-2 * lam0_pos)), key=sp.default_sort_key)))


def eq52():
    _, relax = rates("49")
    taubar = sp.factor(1 / relax)
    return Derived(result=Equal(sp.Symbol("taubar", positive=True), taubar),
                   by=Equal(relax, (RELATION_40[lam0] + lb49) * omega0))


def bind52():
    return {sp.Symbol("tau", positive=True): 1 / (RELATION_40[lam0] * omega0), **RELATION_40}


def rates_49():
    """With the extra torque: precession unchanged, Gilbert damping (lambda0 + lambdabar49)
    (1 + alpha0^2), gyromagnetic ratio renormalised -- read off the derived equation."""
    prec, _ = rates("49")
    r = analyse("49")
    a_eff = dimensionless(r.alpha_eff * M_mag)
    return Equal((prec, a_eff), (omega0 / (1 + alpha0**2),
                                 sp.factor((RELATION_40[lam0] + lb49) * (1 + alpha0**2))))


def torque_regimes():
    """a = lambdabar49/lambda0: relaxation rate (1 + a) lambda0 omega0 -- zero for a = -1 (no
    damping), negative for a < -1 (M_z -> -M: overturning), larger for a > 0."""
    _, relax = rates("49")
    a = sp.Symbol("a", real=True)
    in_a = sp.factor(relax.xreplace({lb49: a * RELATION_40[lam0]}))
    return Equal(in_a, (1 + a) * RELATION_40[lam0] * omega0)


def perpendicular_crossing():
    """For a < -1 and 0 < d < 1, M_z = M tanh(r (t - t0) + delta) with r < 0, delta > 0
    crosses zero at t* = t0 - delta/r > t0, where M_p/M = 1/cosh(0) = 1 is its maximum."""
    r = sp.Symbol("r", negative=True)
    delta, t, t0 = sp.Symbol("delta", positive=True), sp.Symbol("t", real=True), sp.Symbol("t0", real=True)
    arg = r * (t - t0) + delta
    (t_star,) = sp.solve(arg, t)
    mp = 1 / sp.cosh(arg)
    return Equal((sp.tanh(arg).subs(t, t_star), mp.subs(t, t_star), sp.diff(mp, t).subs(t, t_star),
                  sp.sign(t_star - t0)), (0, 1, 0, 1))


# -- both modifications at once, in any field (the generated model llg_rsi_extra) ---------
_DERIVATIVES = sp.symbols("dM_x dM_y dM_z dH_x dH_y dH_z", real=True)
_M_ALONG_Z = sp.Symbol("M_zeta", positive=True)


def generic_frame(x: sp.Expr) -> sp.Expr:
    """x at one instant in a frame where M lies along +z and H_eff in the xz-plane, with
    dM/dt and dH_eff/dt kept as six independent symbols.  No loss of generality for the
    rotation-covariant vectors of this construction (all built from M, H_eff and their
    derivatives with dot and cross products)."""
    derivatives = (*Mdot, *(sp.Derivative(h, t) for h in H_eff))
    x = x.xreplace(dict(zip(derivatives, _DERIVATIVES)))
    return x.xreplace({M[0]: 0, M[1]: 0, M[2]: _M_ALONG_Z, H_eff[1]: 0})


@cache
def combined_rate() -> tuple:
    """dM/dt with (46) and (49) applied together: the Gilbert form read off the derived
    static equation (damping alpha_eff, gyromagnetic ratio gamma_eff) solved for dM/dt as
    in (41), lambda and alpha eliminated through (39)-(40), |M| = sqrt(M . M); gamma kept as
    a symbol (the caller picks its sign)."""
    r = analyse("46+49")
    a_eff = dimensionless(r.alpha_eff * M_mag)
    g_ratio = dimensionless(r.gamma_ratio)
    return tuple(x.subs({gamma: gamma * g_ratio, alpha: a_eff / sp.sqrt(M2)}, simultaneous=True)
                 for x in gilbert_rate())


def combined_general_field():
    """combined_rate() solves dM/dt = gamma M x H_eff + D(dM/dt), with D derived for a general
    time-dependent H_eff(t) (not only the static field the reading came from)."""
    _, d = averaged_d("46+49", static=False)
    mag = sp.sqrt(M2)
    dimensionless_pair = {lam: RELATION_40[lam0] / mag, alpha: alpha0 / mag}
    rate = [sp.cancel(generic_frame(x)) for x in combined_rate()]
    at_rate = dict(zip(_DERIVATIVES[:3], rate))
    residual = []
    for a in range(3):
        d_a = sp.cancel(generic_frame(d[a].xreplace(dimensionless_pair)))
        precession = generic_frame(gamma * cross(M, H_eff)[a])
        residual.append(sp.cancel(rate[a] - precession - d_a.xreplace(at_rate)))
    return Equal(tuple(residual), (0, 0, 0))


def combined_rates():
    """With both modifications the static rates are those of (46) for the precession and of
    (49) for the relaxation: the two effects add without mixing."""
    both, field, torque = rates("46+49"), rates("46"), rates("49")
    return Equal(both, (field[0], torque[1]))


def _nondissipative():
    r = dterm(-dot(M0_vector(), [kappa * lam * M[a] * M_INV * dot(M, H_eff) for a in range(3)]))
    return tuple(x.xreplace({M_INV: 1 / M_mag}) for x in r.moment_interaction)


def eq54():
    closed = tuple(kappa * lam * M[a] / M_mag * dot(M0_vector(), M) for a in range(3))
    return Equal(_nondissipative(), closed)


def bind54():
    return dict(zip(_nc_vector("MhatIn"), _nondissipative()))


@cache
def moment_relation_53() -> sp.Expr:
    """mu in <M0> = mu M from M = <M0 + M_I,d + M_I,n> (no D needed)."""
    field = [a + kappa * lam * M[i] * M_INV * dot(M, H_eff)
             for i, a in enumerate(radiation_field(lam, alpha))]
    d = dterm(-dot(M0_vector(), field))
    res = sp.cancel(M[0] - expectation(d.moment[0].xreplace(BACK)).xreplace(
        {m[b]: MU * M[b] for b in range(3)}))
    (mu,) = sp.solve(sp.numer(sp.together(res)), MU)
    return mu


def eq55():
    mu = in_magnitude(moment_relation_53())
    return Derived(result=Equal(m, tuple(mu * x for x in M)),
                   by=Equal(sp.factor(1 / mu), sp.factor(1 - lam * alpha * M_mag**2 + kappa * lam * M_mag)))


def nondissipative_gilbert():
    """Keeping dM_I,n/dt, D gains a term along dM/dt, but the Gilbert damping and the
    gyromagnetic ratio of the equation are those without H_r^n (under (39))."""
    with_n, without = analyse("53"), analyse("none")
    under39 = {lam: alpha / (1 + alpha**2 * M_mag**2)}

    def pair(r):
        return tuple(sp.factor(in_magnitude(x).xreplace(under39)) for x in (r.alpha_eff, r.gamma_ratio))

    return Equal(pair(with_n), pair(without))



_NEG = ("gamma-negative", "field-derivative", "average-per-volume")

DERIVATION = Derivation(
    name="sec3b_general_field",
    cost=5.8,  # seconds in one process, 2026-11-24: a scheduling hint
    title="General radiation field: extra field, extra torque, non-dissipative part",
    section="III B",
    printed_table=printed.table,
    dimensions=DIMENSIONS,
    steps=(
        step("rates-unmodified", None, original_rates, "Reading off the derived equation without "
              "modification: precession omega0/(1 + alpha0^2), relaxation lambda0 omega0.",
              conventions=_NEG),
        Step(id="extra-parallel-field", equation="46", printed="46", kind="definition",
             statement="H_r^d -> H_r^d - lambdabar46 H_eff, run through the D-term machinery."),
        step("extra-field-decomposition", "46", lambda: decomposition("46"), "With (46), D has no "
              "part along M or M x (M x H_eff): it is c1 M x dM/dt + c2 dM/dt + c3 gamma M x H_eff "
              "(static field).", conventions=_NEG),
        step("extra-field-frequency", "47", eq47, "Written in the form (41) with omega = omega0 "
              "(1 - lambdabar46), the derived precession rate is omega (1 - lambda0' alpha0') with "
              "the new pair below.", printed="47", conventions=_NEG),
        step("extra-field-lambda", "48", eq48, "The new radiation parameter is lambda0/(1 - "
              "lambdabar46).", printed="48", bind=bind_lam0, conventions=_NEG),
        step("extra-field-damping", None, damping_46, "The new damping parameter alpha0' = alpha0: "
              "the additional field does not affect the damping.", printed="prose:damping-46",
              conventions=_NEG),
        step("extra-field-relaxation", None, relaxation_46, "The relaxation rate stays lambda0 "
              "omega0, so the relaxation time is unchanged.", printed="prose:relaxation-46",
              bind=bind_lam0, conventions=_NEG),
        step("extra-field-reversal", None, reversal_46, "The precession reverses for lambdabar46 > "
              "1/(1 + alpha0^2); the relaxation rate does not depend on lambdabar46.",
              printed="prose:reversal-46", conventions=_NEG,
              reason="The text puts the reversal at lambdabar0 > 1 and says the magnetization turns "
              "upside down. The derived equation reverses its precession at lambdabar46 = 1/(1 + "
              "alpha0^2) (where omega(1 - lambda0' alpha0') = omega0(1 - lambdabar46) - lambda0 "
              "alpha0 omega0 changes sign), and its relaxation rate lambda0 omega0 > 0 is unchanged, "
              "so M still relaxes towards +z: it does not turn over."),
        Step(id="extra-torque", equation="49", printed="49", kind="definition",
             statement="H_r^d -> H_r^d + (lambdabar49/M) M x H_eff."),
        step("extra-torque-decomposition", "49", lambda: decomposition("49"), "With (49), D has no "
              "part along M or M x (M x H_eff) (static field).", conventions=_NEG),
        step("extra-torque-lambda", "50", eq50, "The modified field is the ansatz (32) with "
              "lambda0 + lambdabar49.", printed="50"),
        step("extra-torque-alpha", "51", eq51, "... and alpha0 lambda0/(lambda0 + "
              "lambdabar49) (so that lambda alpha is unchanged).", printed="51"),
        step("extra-torque-not-gilbert-pair", None, gilbert_relation_49, "The new pair obeys (39) "
              "only for lambdabar49 = 0 or -2 lambda0: alpha0' of (51) is not the Gilbert damping "
              "of the derived equation."),
        step("extra-torque-rates", None, rates_49, "Derived: precession omega0/(1 + alpha0^2) "
              "unchanged; Gilbert damping (lambda0 + lambdabar49)(1 + alpha0^2); the gyromagnetic "
              "ratio is renormalised.", conventions=_NEG),
        step("extra-torque-relaxation-time", "52", eq52, "Relaxation rate (lambda0 + lambdabar49) "
              "omega0, so taubar = tau/(1 + lambdabar49/lambda0): shorter for lambdabar49 > 0, "
              "longer for -lambda0 < lambdabar49 < 0.", printed="52", bind=bind52,
              conventions=_NEG),
        step("extra-torque-regimes", None, torque_regimes, "With a = lambdabar49/lambda0 the "
              "relaxation rate is (1 + a) lambda0 omega0: a = -1 no damping, a < -1 overturning "
              "(M_z -> -M), a > 0 faster relaxation -- as the prose around Figs. 1-2 says.",
              conventions=_NEG),
        step("overturning-passes-perpendicular", None, perpendicular_crossing, "For a < -1 "
              "(rate r < 0) and 0 < d < 1, M is perpendicular to H_eff (M_z = 0) exactly when "
              "M_p/M reaches its maximum 1, and then turns upside down."),
        step("combined-rates", None, combined_rates, "(46) and (49) together: precession "
              "omega0/(1 + alpha0^2) - lambdabar46 omega0 as with (46) alone, relaxation "
              "(lambda0 + lambdabar49) omega0 as with (49) alone.", conventions=_NEG),
        step("combined-general-field", None, combined_general_field, "With (46) and (49) "
              "together, the Gilbert form read off in the static field solves dM/dt = gamma M x "
              "H_eff + D for D derived in a general, time-dependent field H_eff(t) (checked at an "
              "instant in the frame M || z, H_eff in the xz-plane, by rotation covariance): the "
              "model llg_rsi_extra.", conventions=_NEG),
        Step(id="non-dissipative-field", equation="53", printed="53", kind="definition",
             statement="H_r^n = kappa lambda (M/M)(M . H_eff), parallel to M."),
        step("non-dissipative-moment", "54", eq54, "M_I,n = kappa lambda (M/M)(M0 . M) from the "
              "functional derivative.", printed="54", bind=bind54, conventions=("field-derivative",)),
        step("non-dissipative-average", "55", eq55, "<M0> = M/(1 - lambda alpha M^2 + kappa "
              "lambda M) with both fields.", printed="55",
              reason="The printed denominator 1 - lambda(alpha M + kappa)M has the opposite sign "
              "of the kappa term; M = <M0 + M_I,d + M_I,n> with M_I,n of (54) gives "
              "1 - lambda alpha M^2 + kappa lambda M -- the combination that (57) also carries."),
        step("non-dissipative-gilbert", None, nondissipative_gilbert, "Keeping dM_I,n/dt, D "
              "gains a term along dM/dt; the equation's Gilbert damping and gyromagnetic ratio are "
              "those without H_r^n (under (39), static field): the parallel part does not "
              "contribute.",
              conventions=_NEG),
    ),
)
