"""Sec. III B, the general radiation field: eqs. (46)-(55) and the prose claims.

Every modification of the radiation field is a modified Hamiltonian
-M0 . H_r run through the same machinery as Sec. III A: symmag.theory.dterm for M_I,
D_I and D; <M0> = mu M from M = <M> (parallelism as in (35)); |M| conserved.
The derived D is then decomposed on M x dM/dt, dM/dt, M x H_eff and
M x (M x H_eff), and the magnetization equation dM/dt = gamma M x H_eff + D
is read off in Gilbert form: damping alpha_eff and gyromagnetic ratio gamma_eff.
In the static field H_eff = H_z z this gives the precession rate
|gamma_eff| H_z/(1 + alpha_eff^2 M^2) and the relaxation rate alpha_eff M times it; the
same two rates are also obtained directly, by solving dM/dt = gamma M x H_eff + D for
dM/dt in the static field (``direct_rates``), an independent route.

Three readings of "the parameters" after a modification, kept apart for (46) and (49) alike:
the parameters of the ansatz (32) that the modified field is again of; the pair of the form
(41) at a (possibly rescaled) frequency; and the Gilbert damping alpha_eff M of the resulting
equation.  Each is a derived claim of its own.

Removable assumptions (symmag.checking.assumptions): the static field (STATIC_FIELD), |M| conservation
(conserve) and (39) -- applied here in its dimensionless form (40), ``EQ40`` (key "eq39", so
removing EQ39 removes it too).

Named parameters (the extraction prints both barred parameters as lambda0):
lambdabar46 of (46)-(48), dimensionless; lambdabar49 of (49)-(52), read as the
dimensionless lambdabar49 = lambdabar M (the added torque is (lambdabar49/M) M x H_eff).
Held fixed: the original pair (lambda0, alpha0), obeying (40), and the field H_z.
gamma = -|gamma|, omega0 = |gamma| H_z.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from symmag.algebra.expectation import expectation, moment_average
from symmag.algebra.fields import H_eff, M
from symmag.algebra.su2 import M0_vector, cross, dot
from symmag.checking.assumptions import Assumption
from symmag.checking.assumptions import cached as cache
from symmag.checking.derivation import Derivation, Derived, Equal, Erratum, Step, step
from symmag.checking.dimensions import TABLE, E, H
from symmag.conventions import gamma, t
from symmag.theory.dterm import dterm

from . import printed
from .models import field_modification, radiation_field  # (32), (46), (49), (53), written once
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
from .sec3a_rsi import (
    CONSERVED,
    EQ39,
    M2,
    STATIC_FIELD,
    Mdot,
    conserve,
    gilbert_rate,
)
from .sec3a_rsi import DIMENSIONS as SEC3A_DIMENSIONS

DIMENSIONS = {
    **SEC3A_DIMENSIONS, **TABLE,
    "Hdr46": H, "Hdr49": H, "Hnr": H, "MhatIn": E / H, "lambdabar46": sp.S.One,
    "lambdabar49": sp.S.One, "lambda0_46": sp.S.One, "lambda0_49": sp.S.One, "alpha0_49": sp.S.One,
    "alpha0_46": sp.S.One, "omega": SEC3A_DIMENSIONS["omega0"], "taubar": SEC3A_DIMENSIONS["tau"],
    "rate_46": SEC3A_DIMENSIONS["omega0"], "lambdabar46_reversal": sp.S.One,
    "lambda0_46_ansatz": sp.S.One, "alpha0_46_ansatz": sp.S.One, "alpha_eff_M_46": sp.S.One,
    "gamma_ratio_46": sp.S.One, "alpha_eff_53": SEC3A_DIMENSIONS["alpha"],
    "gamma_ratio_53": sp.S.One, "c_rate_53": sp.S.One, "prec_rate": SEC3A_DIMENSIONS["omega0"],
    "relax_rate": SEC3A_DIMENSIONS["omega0"],
}

m = moment_average()
MU = sp.Symbol("mu")
#: the original pair obeys (40); lambda = lambda0/M, alpha = alpha0/M
DIMENSIONLESS = {lam: lam0 / M_mag, alpha: alpha0 / M_mag}
RELATION_40 = {lam0: alpha0 / (1 + alpha0**2)}
#: (39) in its dimensionless form (40), as applied here: lambda0 eliminated.  Same key as EQ39,
#: so that removing (39) removes it as well
EQ40 = Assumption("eq39", "(39) in the dimensionless form (40): lambda0 = alpha0/(1 + alpha0^2), "
                  "lambda0 eliminated", lambda x: x.xreplace(RELATION_40))


def cached_on(*assumptions: Assumption):
    """Cached, keyed only on which of ``assumptions`` are removed (symmag.checking.assumptions.cached)."""
    return cache(on=assumptions)


#: 1/|M| in a Hamiltonian (a positive c-number, constant since |M| is conserved); replaced
#: by 1/sqrt(M . M) after the Hermiticity check, so that every coefficient is exact
M_INV = sp.Symbol("Minv", positive=True)
BACK = {M_INV: 1 / sp.sqrt(M2)}


@dataclass(frozen=True)
class Reading:
    """The derived equation of one modified field, decomposed:
    D = c_rot M x dM/dt + c_rate dM/dt + c_along M
        + gamma (c_prec M x H + c_damp M x (M x H)) + c_along_field M."""

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
    generality in the static field, which is symmetric under rotations about z; in a general
    field H_eff keeps its three components, and every vector here is rotation covariant (built
    from M, dM/dt and H_eff with dot and cross products), so a rotation about z to M_y = 0
    loses nothing either."""
    return x.xreplace({Mdot[1]: _VY}).xreplace({M[1]: 0}).xreplace({_VY: Mdot[1]})


def plane_conserved(x: sp.Expr) -> sp.Expr:
    """plane(conserve(x)), with the plane taken first: the same expression (the substitution
    for dM_z/dt does not involve M_y once M_y = 0), reached through far smaller ones.  Without
    the assumption ``conserve`` only the plane is taken."""
    if not conserve.active:
        return sp.cancel(plane(x))
    return sp.cancel(plane(x).xreplace({Mdot[2]: plane(CONSERVED[Mdot[2]])}))


def _reduce(static: bool):
    """The reduction at the instant: the plane M_y = 0 and |M| conservation, in the static
    field and (H_eff general) in a general field alike -- see plane."""
    return plane_conserved


def _decompose(vec, basis, static: bool = True) -> list[sp.Expr]:
    """Coefficients of vec on an orthogonal basis (checked), by projection."""
    reduce = _reduce(static)
    for i in range(3):
        for j in range(i + 1, 3):
            if reduce(dot(basis[i], basis[j])) != 0:
                raise ValueError("decomposition basis is not orthogonal")
    return [sp.factor(sp.cancel(reduce(dot(vec, b)) / reduce(dot(b, b)))) for b in basis]


def _extra(kind: str) -> tuple:
    """The term that the modification ``kind`` adds to H_r^d of (32): (46), (49), (53) as
    derivations.models writes them, 1/|M| kept as the positive symbol M_INV."""
    return field_modification(kind, M_INV)


def modified_field(kind: str) -> tuple:
    """H_r^d of (32) with the modification ``kind``: "none", "46", "49", "53" or "46+49"."""
    return tuple(a + b for a, b in zip(radiation_field(lam, alpha), _extra(kind)))


def _static(static: bool) -> bool:
    """Is the field static here?  ``static`` asked for, and the assumption not removed."""
    return static and STATIC_FIELD.active


def averaged_d(kind: str, static: bool = True) -> tuple:
    """The averaged D of (30), with <M0> = mu M and mu solved from M = <M0 + M_I>, as
    functions of M, dM/dt and H_eff (H_eff = H_z z when ``static``: STATIC_FIELD)."""
    return _averaged_d(kind, bool(static))


@functools.cache
def _dterm(kind: str):
    """The D-term machinery on -M0 . H_r for the modified field (no assumption applied)."""
    return dterm(-dot(M0_vector(), modified_field(kind)))


@cached_on(STATIC_FIELD)
def _averaged_d(kind: str, static: bool) -> tuple:
    d = _dterm(kind)

    def fix(x):
        x = x.xreplace(BACK)
        return STATIC_FIELD(x) if static else x

    moment = [fix(x) for x in d.moment]
    res = sp.cancel(M[0] - expectation(moment[0]).xreplace({m[b]: MU * M[b] for b in range(3)}))
    (mu,) = sp.solve(sp.numer(sp.together(res)), MU)
    sub = {m[b]: mu * M[b] for b in range(3)}
    return tuple(expectation(fix(x)).xreplace(sub) for x in d.d_operator)


def analyse(kind: str, static: bool = True) -> Reading:
    """Run one modified radiation field through the D-term machinery.  In the static field
    (STATIC_FIELD) at an instant with M in the xz-plane; without it in a general field."""
    return _analyse(kind, _static(static))


@cached_on(STATIC_FIELD, conserve)
def _reduced_d(kind: str, static: bool) -> tuple:
    """D at the instant (see _reduce)."""
    d = averaged_d(kind, static)
    reduce = _reduce(static)
    return tuple(reduce(x) for x in d)


@cached_on(STATIC_FIELD, conserve)
def _analyse(kind: str, static: bool) -> Reading:
    dvec = _reduced_d(kind, static)
    h = [STATIC_FIELD(x) for x in H_eff] if static else list(H_eff)
    no_motion = {x: 0 for x in Mdot}
    no_field = {x: 0 for x in (*H_eff, H_z)}
    free = _decompose([x.xreplace(no_field) for x in dvec], [cross(M, Mdot), Mdot, M], static)
    prec = cross(M, h)
    forced = _decompose([x.xreplace(no_motion) for x in dvec], [prec, cross(M, prec), M], static)
    return Reading(free[0], free[1], sp.factor(forced[0] / gamma),
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
    """In lambda0, alpha0 (lambda = lambda0/M, alpha = alpha0/M), lambda0 eliminated by (40)
    (EQ40).  Rational in M, the parameters and H_z: cancel is exact (and far cheaper than
    simplify)."""
    return sp.factor(sp.cancel(EQ40(in_magnitude(x).xreplace(DIMENSIONLESS))))


def rates(kind: str) -> tuple[sp.Expr, sp.Expr]:
    """(precession rate, relaxation rate) of the derived equation in the static field, in
    units where omega0 = |gamma| H_z, with gamma = -|gamma|: read off the Gilbert form."""
    r = analyse(kind)
    a_eff = dimensionless(r.alpha_eff * M_mag)  # alpha_eff M, dimensionless
    g_ratio = dimensionless(r.gamma_ratio)
    precession = sp.factor(omega0 * g_ratio / (1 + a_eff**2))
    return precession, sp.factor(a_eff * precession)


_VX = sp.Symbol("vx", real=True)


@cached_on(STATIC_FIELD, conserve, EQ40)
def direct_rates(kind: str) -> tuple[sp.Expr, sp.Expr]:
    """The same two rates by an independent route: dM/dt = gamma M x H_eff + D(dM/dt) solved
    for dM/dt (linear) in the static field, at an instant with M = (M_x, 0, M_z), |M|
    conserved; the precession rate is d phi/dt = (dM_y/dt)/M_x and the relaxation rate k is
    read off dM_z/dt = (k/M) M_p^2, as in (43).  Only defined in the static field."""
    if not STATIC_FIELD.active:
        raise ValueError("the precession and relaxation rates are defined in the static field")
    dvec = _reduced_d(kind, True)
    prec = [gamma * plane(x) for x in cross(M, [STATIC_FIELD(h) for h in H_eff])]
    sub = {Mdot[0]: _VX, Mdot[1]: _VY}
    eqs = [sp.expand(sp.numer(sp.together((Mdot[a] - prec[a] - dvec[a]).xreplace(sub))))
           for a in (0, 1)]
    matrix, rhs = sp.linear_eq_to_matrix(eqs, [_VX, _VY])
    vx, vy = matrix.LUsolve(rhs)
    mzdot = conserve(Mdot[2]).xreplace({M[1]: 0, Mdot[0]: vx})  # M . dM/dt = 0 at M_y = 0
    out = []
    for x in (vy / M[0], mzdot * sp.sqrt(M[0] ** 2 + M[2] ** 2) / M[0] ** 2):
        x = dimensionless(sp.cancel(x)).xreplace({gamma: -omega0 / H_z})  # gamma = -|gamma|
        out.append(sp.factor(x))
    return tuple(out)


# -- claims ---------------------------------------------------------------------------------
_RATES = (sp.Symbol("prec_rate", real=True), sp.Symbol("relax_rate", real=True))


_D_SYMBOLS = tuple(sp.Symbol(f"D_{ax}", real=True) for ax in "xyz")


def decomposition(kind: str, static: bool = True):
    """D = c_rot M x dM/dt + c_rate dM/dt + c_prec gamma M x H_eff, with the coefficients of
    the projections: no part along M (so |M| stays conserved) nor along M x (M x H_eff).
    Check: the shown combination is the derived D, every component (at the instant)."""
    static = _static(static)
    r = analyse(kind, static)
    reduce = _reduce(static)
    h = [STATIC_FIELD(x) for x in H_eff] if static else list(H_eff)
    shown = tuple(reduce(r.c_rot * u + r.c_rate * v + gamma * r.c_prec * w)
                  for u, v, w in zip(cross(M, Mdot), Mdot, cross(M, h)))
    dvec = _reduced_d(kind, static)
    return Derived(result=Equal(_D_SYMBOLS, shown), by=lambda r: Equal(r.rhs, dvec))


def original_rates():
    """Without modification the rates read off the Gilbert form are omega0/(1 + alpha0^2)
    and lambda0 omega0 -- checked against the direct solution of the derived equation."""
    closed = (omega0 / (1 + alpha0**2), (alpha0 / (1 + alpha0**2)) * omega0)
    return Derived(result=Equal(_RATES, rates("none")),
                   by=lambda r: Equal(r.rhs + r.rhs, direct_rates("none") + closed))


def rates_read_off():
    """The rates read off the Gilbert form (alpha_eff, gamma_eff) are those of the direct
    solution of the derived equation, for (46) and for (49) (both together: the steps
    combined-rates and combined-general-field)."""
    kinds = ("46", "49")
    return Equal(tuple(x for k in kinds for x in rates(k)), tuple(x for k in kinds for x in direct_rates(k)))


def undamped_frequency(kind: str) -> sp.Expr:
    """The precession frequency of the derived equation without damping (alpha0 -> 0, so
    lambda0 -> 0 by (40)): omega0 for the unmodified field, the frequency that (47) names."""
    prec, _ = rates(kind)
    return sp.factor(sp.limit(prec, alpha0, 0))


def eq47():
    """(47): omega, the precession frequency of the derived equation with (46) at zero
    damping.  Check: the form (41) at frequency omega with the damping alpha0 unchanged and
    lambda0' fixed by the relaxation rate (omega lambda0') reproduces the derived precession
    rate omega (1 - lambda0' alpha0)."""
    prec, relax = direct_rates("46")
    result = Equal(sp.Symbol("omega", real=True), undamped_frequency("46"))
    return Derived(result=result, by=lambda r: Equal(r.rhs * (1 - (relax / r.rhs) * alpha0), prec))


def frequency_46():
    """The pair (lambda0', alpha0') of the form (41) at the derived frequency omega of (47):
    precession omega (1 - lambda0' alpha0'), relaxation omega lambda0' equal to the derived
    rates (of the direct solution)."""
    prec, relax = direct_rates("46")
    omega = undamped_frequency("46")
    l_new, a_new = sp.symbols("l_new a_new", real=True)
    sol = sp.solve([omega * (1 - l_new * a_new) - prec, omega * l_new - relax], [l_new, a_new],
                   dict=True)
    (s,) = sol
    return s[l_new], s[a_new], prec, relax, omega


def eq48():
    """(48): lambda0' of the form (41) at frequency omega; check: omega lambda0' is the derived
    relaxation rate."""
    l_new, _, _, relax, omega = frequency_46()
    return Derived(result=Equal(sp.Symbol("lambda0_46", real=True), sp.factor(l_new)),
                   by=lambda r: Equal(omega * r.rhs, relax))


def damping_46():
    """alpha0' of the form (41) at frequency omega; check: omega (1 - lambda0' alpha0') is the
    derived precession rate."""
    l_new, a_new, prec, _, omega = frequency_46()
    return Derived(result=Equal(sp.Symbol("alpha0_46", real=True), sp.factor(a_new)),
                   by=lambda r: Equal(omega * (1 - l_new * r.rhs), prec))


def _ansatz_pair(kind: str) -> dict:
    """The modified field of ``kind`` written as the ansatz (32) with a new pair (lp, ap):
    the coefficients of H_eff in the difference set to zero (the pair in 1/[M])."""
    lp, ap = sp.symbols("lp ap", real=True)
    eqs = [sp.expand(modified_field(kind)[a] - radiation_field(lp, ap)[a]) for a in range(3)]
    coeffs = sp.Poly(eqs[0], *H_eff).coeffs()
    (s,) = sp.solve(coeffs, [lp, ap], dict=True)
    return {"lp": s[lp], "ap": s[ap]}


def _dimensionless_pair(kind: str) -> tuple[sp.Expr, sp.Expr]:
    """(lambda0', alpha0') = (lp M, ap M) of the ansatz (32) for ``kind``, in lambda0, alpha0."""
    s = _ansatz_pair(kind)
    to_mag = {M_INV: 1 / M_mag}
    return (sp.factor((s["lp"] * M_mag).xreplace(to_mag).xreplace(DIMENSIONLESS)),
            sp.factor(in_magnitude((s["ap"] * M_mag).xreplace(to_mag)).xreplace(DIMENSIONLESS)))


def _ansatz_residual(kind: str, l_new, a_new) -> tuple:
    """modified field - ansatz (32) with the dimensionless pair (l_new, a_new), every component,
    with lambda = lambda0/|M|, alpha = alpha0/|M|, |M| = sqrt(M . M)."""
    mag = sp.sqrt(M2)
    back = {lam: lam0 / mag, alpha: alpha0 / mag, M_INV: 1 / mag, M_mag: mag}
    ansatz = radiation_field(l_new.xreplace(back) / mag, a_new.xreplace(back) / mag)
    return tuple(sp.cancel(sp.expand(x.xreplace(back) - y)) for x, y in zip(modified_field(kind), ansatz))


def ansatz_46():
    """The field (46) is again the ansatz (32): lambda0' = lambda0 (unchanged) and alpha0' =
    alpha0 + lambdabar46/lambda0.  Check: the ansatz with the shown pair is the modified field,
    every component."""
    l_new, a_new = _dimensionless_pair("46")
    lhs = (sp.Symbol("lambda0_46_ansatz", real=True), sp.Symbol("alpha0_46_ansatz", real=True))
    return Derived(result=Equal(lhs, (l_new, a_new)),
                   by=lambda r: Equal(_ansatz_residual("46", *r.rhs), (0, 0, 0)))


def gilbert_46():
    """The Gilbert damping of the equation derived with (46): alpha_eff M = alpha0/(1 -
    lambdabar46 (1 + alpha0^2)), and gamma_eff/gamma = ((1 - lambdabar46)^2 + lambdabar46^2
    alpha0^2)/(1 - lambdabar46 (1 + alpha0^2)).  Check: with the shown pair the Gilbert form
    has the derived (direct) rates: precession |gamma_eff| H_z/(1 + (alpha_eff M)^2), relaxation
    alpha_eff M times it."""
    r46 = analyse("46")
    shown = (dimensionless(r46.alpha_eff * M_mag), dimensionless(r46.gamma_ratio))
    prec, relax = direct_rates("46")
    lhs = (sp.Symbol("alpha_eff_M_46", real=True), sp.Symbol("gamma_ratio_46", real=True))

    def by(r):
        a_eff, g = r.rhs
        denominator = 1 - lb46 * (1 + alpha0**2)
        return Equal((omega0 * g / (1 + a_eff**2), a_eff * omega0 * g / (1 + a_eff**2), a_eff, g),
                     (prec, relax, alpha0 / denominator,
                      ((1 - lb46) ** 2 + lb46**2 * alpha0**2) / denominator))

    return Derived(result=Equal(lhs, shown), by=by)


def _gilbert_pair_roots(l_new, a_new) -> tuple:
    """The lambdabar46 for which a pair obeys (39) in dimensionless form, alpha0 > 0."""
    a_pos = sp.Symbol("alpha0", positive=True)
    residual = EQ40(sp.factor(a_new - l_new / (1 - l_new * a_new))).xreplace({alpha0: a_pos})
    roots = sp.solve(sp.numer(sp.together(residual)), lb46)
    return tuple(sorted((sp.factor(r.xreplace({a_pos: alpha0})) for r in roots), key=sp.default_sort_key))


def gilbert_relation_46():
    """As for (49): the ansatz pair of (46) obeys (39) only for lambdabar46 = 0 or (1 -
    alpha0^2)/(1 + alpha0^2), the pair of (47)-(48) only for lambdabar46 = 0."""
    l_new, a_new, _, _, _ = frequency_46()
    expected = tuple(sorted((sp.Integer(0), (1 - alpha0**2) / (1 + alpha0**2)), key=sp.default_sort_key))
    return Equal((_gilbert_pair_roots(*_dimensionless_pair("46")), _gilbert_pair_roots(l_new, a_new)),
                 (expected, (sp.Integer(0),)))


def relaxation_46():
    """The relaxation rate with (46) is the unmodified one (both by the direct route)."""
    _, relax = rates("46")
    return Derived(result=Equal(sp.Symbol("rate_46", real=True), relax),
                   by=lambda r: Equal((r.rhs, r.rhs), (direct_rates("46")[1], direct_rates("none")[1])))


def bind_lam0():
    return dict(RELATION_40)


def reversal_46():
    """The precession rate of the derived equation changes sign at lambdabar46 =
    1/(1 + alpha0^2); the relaxation rate stays lambda0 omega0 > 0, so M does not turn over.
    Check: the direct precession rate vanishes at the shown threshold, and the relaxation rate
    does not depend on lambdabar46."""
    prec, _ = rates("46")
    (root,) = sp.solve(prec, lb46)
    direct_prec, direct_relax = direct_rates("46")
    return Derived(result=Equal(sp.Symbol("lambdabar46_reversal"), root),
                   by=lambda r: Equal((direct_prec.xreplace({lb46: r.rhs}), sp.diff(direct_relax, lb46)),
                                      (0, 0)))


def eq50_51():
    """(lambda0', alpha0') of the ansatz (32) after (49), and the solution dict (in 1/[M])."""
    l_new, a_new = _dimensionless_pair("49")
    s = _ansatz_pair("49")
    lp, ap = sp.symbols("lp ap", real=True)
    return l_new, a_new, {lp: s["lp"], ap: s["ap"]}


def eq50():
    """(50): lambda0' of the ansatz after (49).  Check: the ansatz (32) with the shown
    lambda0' (and alpha0' of (51)) is the modified field, every component."""
    l_new, a_new, _ = eq50_51()
    return Derived(result=Equal(sp.Symbol("lambda0_49", real=True), l_new),
                   by=lambda r: Equal(_ansatz_residual("49", r.rhs, a_new), (0, 0, 0)))


def eq51():
    """(51): alpha0' of the ansatz after (49).  Check as for (50), with the shown alpha0'."""
    l_new, a_new, _ = eq50_51()
    return Derived(result=Equal(sp.Symbol("alpha0_49", real=True), a_new),
                   by=lambda r: Equal(_ansatz_residual("49", l_new, r.rhs), (0, 0, 0)))


def gilbert_relation_49():
    """The new pair obeys (39) only for lambdabar49 = 0 or -2 lambda0: in general the
    modified ansatz is not Gilbert-like with its own alpha."""
    l_new, a_new, _ = eq50_51()
    a_pos = sp.Symbol("alpha0", positive=True)  # a damping parameter alpha0 > 0
    residual = sp.factor(a_new - l_new / (1 - l_new * a_new))  # (39) in dimensionless form
    residual = EQ40(residual).xreplace({alpha0: a_pos})
    roots = sp.solve(sp.numer(sp.together(residual)), lb49)
    lam0_pos = EQ40(lam0).xreplace({alpha0: a_pos})
    return Equal(tuple(sorted((sp.factor(r) for r in roots), key=sp.default_sort_key)),
                 tuple(sorted((sp.Integer(0), sp.factor(-2 * lam0_pos)), key=sp.default_sort_key)))


def eq52():
    """(52): taubar, the inverse of the relaxation rate read off the Gilbert form.  Check: its
    inverse is the relaxation rate of the direct solution."""
    _, relax = rates("49")
    taubar = sp.factor(1 / relax)
    return Derived(result=Equal(sp.Symbol("taubar", positive=True), taubar),
                   by=lambda r: Equal(1 / r.rhs, direct_rates("49")[1]))


def bind52():
    return {sp.Symbol("tau", positive=True): 1 / (RELATION_40[lam0] * omega0), **RELATION_40}


def rates_49():
    """With the extra torque: precession unchanged, Gilbert damping (lambda0 + lambdabar49)
    (1 + alpha0^2), gyromagnetic ratio renormalised to (1 + alpha0 lambdabar49)^2 +
    lambdabar49^2 -- read off the derived equation."""
    prec, _ = direct_rates("49")
    r = analyse("49")
    a_eff = dimensionless(r.alpha_eff * M_mag)
    g_ratio = dimensionless(r.gamma_ratio)
    return Equal((prec, a_eff, g_ratio),
                 (omega0 / (1 + alpha0**2), sp.factor((EQ40(lam0) + lb49) * (1 + alpha0**2)),
                  (1 + alpha0 * lb49) ** 2 + lb49**2))


def torque_regimes():
    """a = lambdabar49/lambda0: relaxation rate (1 + a) lambda0 omega0 -- zero for a = -1 (no
    damping), negative for a < -1 (M_z -> -M: overturning), larger for a > 0."""
    _, relax = direct_rates("49")
    a = sp.Symbol("a", real=True)
    in_a = sp.factor(relax.xreplace({lb49: a * EQ40(lam0)}))
    return Equal(in_a, (1 + a) * EQ40(lam0) * omega0)


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
    """x at one instant in a frame where M lies along +z, H_eff with all three components and
    dM/dt and dH_eff/dt kept as six independent symbols.  No loss of generality for the
    rotation-covariant vectors of this construction (all built from M, H_eff and their
    derivatives with dot and cross products).  (H_eff is not also turned into the xz-plane: that
    cost nothing to keep general, and a mutant narrowing the frame to H_eff perpendicular to M
    survived.)"""
    derivatives = (*Mdot, *(sp.Derivative(h, t) for h in H_eff))
    x = x.xreplace(dict(zip(derivatives, _DERIVATIVES)))
    return x.xreplace({M[0]: 0, M[1]: 0, M[2]: _M_ALONG_Z})


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
    time-dependent H_eff(t) (not only the static field the reading came from).  Shown: the
    rate at an instant in the generic frame; check: substituted into the derived equation."""
    d = averaged_d("46+49", static=False)
    mag = sp.sqrt(M2)
    dimensionless_pair = {lam: EQ40(lam0) / mag, alpha: alpha0 / mag}
    rate = tuple(sp.cancel(generic_frame(x)) for x in combined_rate())
    d_frame = [sp.cancel(generic_frame(x.xreplace(dimensionless_pair))) for x in d]
    precession = [generic_frame(gamma * x) for x in cross(M, H_eff)]

    def by(r):
        at_rate = dict(zip(_DERIVATIVES[:3], r.rhs))
        return Equal(tuple(sp.cancel(r.rhs[a] - precession[a] - d_frame[a].xreplace(at_rate))
                           for a in range(3)), (0, 0, 0))

    return Derived(result=Equal(_DERIVATIVES[:3], rate), by=by)


def combined_rates():
    """With both modifications the static rates are those of (46) for the precession and of
    (49) for the relaxation (both by the direct route): the two effects add without mixing."""
    both, field, torque = rates("46+49"), direct_rates("46"), direct_rates("49")
    return Equal(both, (field[0], torque[1]))


def _nondissipative():
    r = dterm(-dot(M0_vector(), _extra("53")))
    return tuple(x.xreplace({M_INV: 1 / M_mag}) for x in r.moment_interaction)


def eq54():
    closed = tuple(kappa * lam * M[a] / M_mag * dot(M0_vector(), M) for a in range(3))
    return Equal(_nondissipative(), closed)


def bind54():
    return dict(zip(_nc_vector("MhatIn"), _nondissipative()))


@functools.cache
def _moment_53():
    """M = M0 + M_I,d + M_I,n with both fields (the field of modified_field("53"))."""
    return tuple(x.xreplace(BACK) for x in _dterm("53").moment)


@functools.cache
def _averaged_moment_53() -> tuple:
    """<M0 + M_I,d + M_I,n> through the expectation map, in the symbols m^a of <M0>."""
    return tuple(expectation(x) for x in _moment_53())


#: a direction with rational components: M = M (3, 4, 12)/13, so |M| = M exactly
_POINT = {M[0]: 3 * M_mag / 13, M[1]: 4 * M_mag / 13, M[2]: 12 * M_mag / 13}


def _moment_constraint(m_value, point: bool = False) -> tuple:
    """M - <M0 + M_I,d + M_I,n> with <M0> = m_value, every component (zero on the solution).
    ``point``: at M = M (3, 4, 12)/13 -- a general check for this relation, which involves M
    alone and is rotation covariant (the average of a vector built from M0 and M)."""
    sub = dict(zip(m, m_value))
    out = [M[a] - x.xreplace(sub) for a, x in enumerate(_averaged_moment_53())]
    return tuple(sp.cancel(x.xreplace(_POINT) if point else x) for x in out)


@functools.cache
def moment_relation_53() -> sp.Expr:
    """mu in <M0> = mu M from M = <M0 + M_I,d + M_I,n> (no D needed)."""
    res = _moment_constraint(tuple(MU * x for x in M))[0]
    (mu,) = sp.solve(sp.numer(sp.together(res)), MU)
    return mu


def eq55():
    """(55): <M0> = mu M; check: substituted into M = <M0 + M_I,d + M_I,n>, every component
    vanishes (at M = M (3, 4, 12)/13, where |M| = M: see _moment_constraint)."""
    mu = in_magnitude(moment_relation_53())
    return Derived(result=Equal(m, tuple(mu * x for x in M)),
                   by=lambda r: Equal(_moment_constraint(r.rhs, point=True), (0, 0, 0)))


def _rate_coefficient_53() -> sp.Expr:
    """The coefficient of dM/dt in d<M_I,n>/dt, by differentiating the average of (54)
    directly: <M_I,n> = kappa lambda (M/M)(<M0> . M) with <M0> = mu M of (55), |M| constant."""
    mu = moment_relation_53()
    average = expectation(_nondissipative()[0]).xreplace({m[b]: mu * M[b] for b in range(3)})
    rate = plane_conserved(sp.diff(average, t))  # M . dM/dt = 0: |M| constant
    return sp.factor(in_magnitude(sp.cancel(rate / Mdot[0])))


def nondissipative_gilbert():
    """Keeping dM_I,n/dt, D gains a term c dM/dt with c = kappa lambda M/(1 - lambda alpha M^2
    + kappa lambda M), the rate of <M_I,n>; the Gilbert damping and gyromagnetic ratio of the
    equation are those without H_r^n.  (39) (EQ39) is applied, as the paper proceeds; the
    equality holds without it, and in a general field too (necessity: not needed)."""
    with_n, without = analyse("53"), analyse("none")

    def pair(r):
        return tuple(sp.factor(in_magnitude(plane(EQ39(x)))) for x in (r.alpha_eff, r.gamma_ratio))

    lhs = (sp.Symbol("alpha_eff_53", real=True), sp.Symbol("gamma_ratio_53", real=True),
           sp.Symbol("c_rate_53", real=True))
    shown = (*pair(with_n), sp.factor(in_magnitude(with_n.c_rate)))
    # under (39) the pair without H_r^n is also pinned to what (38)-(39) give, alpha and gamma
    # itself, so a transformation applied to both readings alike cannot pass unseen
    def by(r):
        base = pair(without)
        known = (alpha, 1) if EQ39.active else base
        return Equal((*r.rhs, *base), (*base, _rate_coefficient_53(), *known))

    return Derived(result=Equal(lhs, shown), by=by)


def nondissipative_precession():
    """'The field (53) does not change the magnetization precessional motion': the rates of
    the direct solution with H_r^n are the unmodified ones."""
    return Equal(direct_rates("53"), direct_rates("none"))


_NEG = ("gamma-negative", "field-derivative", "average-per-volume")
#: what a reading in the static field applies
_READ = (STATIC_FIELD, conserve)

DERIVATION = Derivation(
    name="sec3b_general_field",
    cost=5.8,  # seconds in one process, 2026-11-24: a scheduling hint
    title="General radiation field: extra field, extra torque, non-dissipative part",
    section="III B",
    printed_table=printed.table,
    dimensions=DIMENSIONS,
    steps=(
        step("rates-unmodified", None, original_rates, "Reading off the derived equation without "
              "modification: precession omega0/(1 + alpha0^2), relaxation lambda0 omega0; the same "
              "as the direct solution of dM/dt = gamma M x H_eff + D.",
              conventions=_NEG, assumes=(*_READ, EQ40)),
        step("rates-read-off", None, rates_read_off, "For (46) and for (49) the "
              "rates read off the Gilbert form are those of the direct solution of the derived "
              "static equation.", conventions=_NEG, assumes=(*_READ, EQ40)),
        Step(id="extra-parallel-field", equation="46", printed="46", kind="definition",
             statement="H_r^d -> H_r^d - lambdabar46 H_eff, run through the D-term machinery."),
        step("extra-field-decomposition", "46", lambda: decomposition("46"), "With (46), D has no "
              "part along M or M x (M x H_eff): it is c1 M x dM/dt + c2 dM/dt + c3 gamma M x H_eff "
              "(shown in the static field; it holds in a general field too).", conventions=_NEG,
              assumes=_READ),
        step("extra-field-ansatz", "46", ansatz_46, "Read as the ansatz (32), the field (46) has "
              "lambda0' = lambda0 and alpha0' = alpha0 + lambdabar46/lambda0: in this reading the "
              "damping parameter is affected (the paper's 'not affected' holds in the reading of "
              "(47)-(48), step extra-field-damping)."),
        step("extra-field-frequency", "47", eq47, "omega = omega0 (1 - lambdabar46), the "
              "precession frequency of the derived equation at zero damping; in the form (41) at "
              "frequency omega with alpha0 unchanged and lambda0' fixed by the relaxation rate, "
              "the derived precession rate is omega (1 - lambda0' alpha0).", printed="47",
              conventions=_NEG, assumes=(*_READ, EQ40)),
        step("extra-field-lambda", "48", eq48, "The radiation parameter of the form (41) at "
              "frequency omega is lambda0/(1 - lambdabar46) (for any pair lambda0, alpha0: (39) "
              "is not needed).", printed="48", bind=bind_lam0,
              conventions=_NEG, assumes=(*_READ, EQ40)),
        step("extra-field-damping", None, damping_46, "The damping parameter of the form (41) at "
              "frequency omega is alpha0' = alpha0: in the reading of (47)-(48) the additional "
              "field does not affect the damping (for any pair lambda0, alpha0: (39) is not "
              "needed).", printed="prose:damping-46",
              conventions=_NEG, assumes=(*_READ, EQ40)),
        step("extra-field-gilbert-damping", None, gilbert_46, "The Gilbert damping of the "
              "equation derived with (46) is alpha_eff M = alpha0/(1 - lambdabar46 (1 + "
              "alpha0^2)), its gyromagnetic ratio gamma ((1 - lambdabar46)^2 + lambdabar46^2 "
              "alpha0^2)/(1 - lambdabar46 (1 + alpha0^2)): read as the Gilbert damping of the "
              "resulting equation, the damping is affected.", conventions=_NEG,
              assumes=(*_READ, EQ40)),
        step("extra-field-not-gilbert-pair", None, gilbert_relation_46, "The ansatz pair of "
              "(46) obeys (39) only for lambdabar46 = 0 or (1 - alpha0^2)/(1 + alpha0^2), the pair "
              "of (47)-(48) only for lambdabar46 = 0: in general neither is the Gilbert pair of the "
              "derived equation (as for (49)).", conventions=_NEG, assumes=(*_READ, EQ40)),
        step("extra-field-relaxation", None, relaxation_46, "The relaxation rate stays lambda0 "
              "omega0, so the relaxation time is unchanged.", printed="prose:relaxation-46",
              bind=bind_lam0, conventions=_NEG, assumes=(*_READ, EQ40)),
        step("extra-field-reversal", None, reversal_46, "The precession reverses for lambdabar46 > "
              "1/(1 + alpha0^2); the relaxation rate does not depend on lambdabar46.",
              printed="prose:reversal-46", conventions=_NEG, assumes=(*_READ, EQ40),
              erratum=Erratum(
                  "The text puts the reversal at lambdabar0 > 1 and says the magnetization turns "
                  "upside down. The derived equation reverses its precession at lambdabar46 = 1/(1 + "
                  "alpha0^2) (where omega(1 - lambda0' alpha0') = omega0(1 - lambdabar46) - lambda0 "
                  "alpha0 omega0 changes sign), and its relaxation rate lambda0 omega0 > 0 is "
                  "unchanged, so M still relaxes towards +z: it does not turn over.",
                  residual=alpha0**2 / (1 + alpha0**2))),
        Step(id="extra-torque", equation="49", printed="49", kind="definition",
             statement="H_r^d -> H_r^d + (lambdabar49/M) M x H_eff."),
        step("extra-torque-decomposition", "49", lambda: decomposition("49"), "With (49), D has no "
              "part along M or M x (M x H_eff) (shown in the static field; it holds in a general "
              "field too).", conventions=_NEG,
              assumes=_READ),
        step("extra-torque-lambda", "50", eq50, "The modified field is the ansatz (32) with "
              "lambda0 + lambdabar49.", printed="50"),
        step("extra-torque-alpha", "51", eq51, "... and alpha0 lambda0/(lambda0 + "
              "lambdabar49) (so that lambda alpha is unchanged).", printed="51"),
        step("extra-torque-not-gilbert-pair", None, gilbert_relation_49, "The new pair obeys (39) "
              "only for lambdabar49 = 0 or -2 lambda0: alpha0' of (51) is not the Gilbert damping "
              "of the derived equation.", assumes=(EQ40,)),
        step("extra-torque-rates", None, rates_49, "Derived: precession omega0/(1 + alpha0^2) "
              "unchanged; Gilbert damping (lambda0 + lambdabar49)(1 + alpha0^2); the gyromagnetic "
              "ratio is renormalised by (1 + alpha0 lambdabar49)^2 + lambdabar49^2.",
              conventions=_NEG, assumes=(*_READ, EQ40)),
        step("extra-torque-relaxation-time", "52", eq52, "Relaxation rate (lambda0 + lambdabar49) "
              "omega0, so taubar = tau/(1 + lambdabar49/lambda0): shorter for lambdabar49 > 0, "
              "longer for -lambda0 < lambdabar49 < 0.", printed="52", bind=bind52,
              conventions=_NEG, assumes=(*_READ, EQ40)),
        step("extra-torque-regimes", None, torque_regimes, "With a = lambdabar49/lambda0 the "
              "relaxation rate is (1 + a) lambda0 omega0: a = -1 no damping, a < -1 overturning "
              "(M_z -> -M), a > 0 faster relaxation -- as the prose around Figs. 1-2 says.",
              conventions=_NEG, assumes=(*_READ, EQ40)),
        step("overturning-passes-perpendicular", None, perpendicular_crossing, "For a < -1 "
              "(rate r < 0) and 0 < d < 1, M is perpendicular to H_eff (M_z = 0) exactly when "
              "M_p/M reaches its maximum 1, and then turns upside down."),
        step("combined-rates", None, combined_rates, "(46) and (49) together: precession "
              "omega0/(1 + alpha0^2) - lambdabar46 omega0 as with (46) alone, relaxation "
              "(lambda0 + lambdabar49) omega0 as with (49) alone.", conventions=_NEG,
              assumes=(*_READ, EQ40)),
        step("combined-general-field", None, combined_general_field, "With (46) and (49) "
              "together, the Gilbert form read off in the static field solves dM/dt = gamma M x "
              "H_eff + D for D derived in a general, time-dependent field H_eff(t) (checked at an "
              "instant in the frame M || z, H_eff general, by rotation covariance): the "
              "model llg_rsi_extra.", conventions=_NEG, assumes=(*_READ, EQ40)),
        Step(id="non-dissipative-field", equation="53", printed="53", kind="definition",
             statement="H_r^n = kappa lambda (M/M)(M . H_eff), parallel to M."),
        step("non-dissipative-moment", "54", eq54, "M_I,n = kappa lambda (M/M)(M0 . M) from the "
              "functional derivative.", printed="54", bind=bind54, conventions=("field-derivative",)),
        step("non-dissipative-average", "55", eq55, "<M0> = M/(1 - lambda alpha M^2 + kappa "
              "lambda M) with both fields: it solves M = <M0 + M_I,d + M_I,n>.", printed="55",
              erratum=Erratum(
                  "The printed denominator 1 - lambda(alpha M + kappa)M has the opposite sign of "
                  "the kappa term; M = <M0 + M_I,d + M_I,n> with M_I,n of (54) gives 1 - lambda "
                  "alpha M^2 + kappa lambda M -- the combination that (57) also carries.",
                  residual=tuple(2 * kappa * lam * M_mag * x
                                 / ((1 - lam * alpha * M_mag**2 - kappa * lam * M_mag)
                                    * (1 - lam * alpha * M_mag**2 + kappa * lam * M_mag))
                                 for x in M))),
        step("non-dissipative-gilbert", None, nondissipative_gilbert, "Keeping dM_I,n/dt, D "
              "gains kappa lambda M/(1 - lambda alpha M^2 + kappa lambda M) dM/dt, the rate of "
              "<M_I,n>; the equation's Gilbert damping and gyromagnetic ratio are those without "
              "H_r^n: the parallel part does not contribute. The paper proceeds under (39) (and in "
              "the static field); the equality holds without either.", conventions=_NEG,
              assumes=(*_READ, EQ39)),
        step("non-dissipative-precession", None, nondissipative_precession, "The field (53) "
              "does not change the precession or the relaxation rate of the static equation "
              "(direct solution).", conventions=_NEG, assumes=(*_READ, EQ40)),
    ),
)
