"""Sec. III A, the dissipative radiation field: eqs. (31)-(45) and the prose around them.

Conventions: lambda H_I = -gamma sum_i S_i . H_r^d = -M0 . H_r^d (by (6)) with a
c-number M(t); gamma's sign stays open through (40) and is -|gamma| from (41) on,
as the paper writes; lambda, alpha carry 1/[M] and lambda0 = lambda M, alpha0 = alpha M
are dimensionless (READING.md).  <M0> is written m = (m^x, m^y, m^z).

Finding: the cancellation (37) of <D_I> against lambda <[M, H_I]>/(i hbar) is not
unconditional.  Their sum is gamma lambda M^2 (lambda - alpha + alpha^2 lambda M^2)
/(1 - lambda alpha M^2) M x H_eff, which vanishes exactly when (39) holds -- the
same condition that makes D Gilbert-like (38).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from symmag.algebra import M0_vector, cross, dot
from symmag.conventions import gamma, gamma_abs, t
from symmag.derivation import Derivation, Derived, Equal, Step, step
from symmag.dimensions import M_DIM, TABLE, E, H, T
from symmag.dterm import dterm
from symmag.expectation import expectation, moment_average
from symmag.fields import H_eff, M

from . import printed
from .printed import (
    H_z,
    M_mag,
    M_p,
    M_zf,
    _nc_vector,
    alpha,
    alpha0,
    d_init,
    lam,
    lam0,
    omega0,
    phi_dot,
    t0,
)

DIMENSIONS = {
    **TABLE,
    "Hdr": H, "MhatId": E / H, "DIavg": M_DIM / T, "Cavg": M_DIM / T, "phidot": 1 / T,
    "M_z_inf": M_DIM, "tau": T, "k": 1 / T, "x": M_DIM, "delta": sp.S.One, "phi0": sp.S.One,
}

m = moment_average()
M2 = dot(M, M)
Mdot = tuple(sp.Derivative(x, t) for x in M)
STATIC = {H_eff[0]: 0, H_eff[1]: 0, H_eff[2]: H_z}


def radiation_field(lam_, alpha_) -> tuple:
    """H_r^d = lambda (M x H_eff - alpha M^2 H_eff)  (32)."""
    return tuple(lam_ * (c - alpha_ * M2 * h) for c, h in zip(cross(M, H_eff), H_eff))


@cache
def rsi(general: bool = False):
    """The D-term machinery of Sec. II on (31)-(32); ``general`` lets lambda and
    alpha depend on t, to keep their derivatives."""
    lam_, alpha_ = (sp.Function("lambda", real=True)(t), sp.Function("alpha", real=True)(t)) \
        if general else (lam, alpha)
    return dterm(-dot(M0_vector(), radiation_field(lam_, alpha_))), lam_, alpha_


def parallel_substitution(lam_=lam, alpha_=alpha) -> dict:
    """<M0> = M/(1 - lambda alpha M^2)  (36)."""
    return {m[a]: M[a] / (1 - lam_ * alpha_ * M2) for a in range(3)}


def avg(op) -> sp.Expr:
    return expectation(op)


@cache
def constraint() -> tuple:
    """C = M - <M>, zero by (34): <M> from the expectation map of M = M0 + M_I."""
    d, _, _ = rsi()
    return tuple(sp.expand(M[a] - avg(d.moment[a])) for a in range(3))


# -- (33)-(36) ----------------------------------------------------------------------------
def eq33():
    d, _, _ = rsi()
    closed = tuple(-lam * (alpha * M2 * M0_vector()[a] - cross(M0_vector(), M)[a]) for a in range(3))
    return Equal(d.moment_interaction, closed)


def bind33():
    return dict(zip(_nc_vector("MhatId"), rsi()[0].moment_interaction))


def eq34():
    d, _, _ = rsi()
    averaged = tuple(avg(x) for x in d.moment)
    closed = tuple((1 - lam * alpha * M2) * m[a] + lam * cross(m, M)[a] for a in range(3))
    return Derived(result=Equal(tuple(M), averaged), by=Equal(averaged, closed))


def eq35_first():
    c = constraint()
    lhs = tuple(cross(m, M)[a] - lam * cross(m, cross(m, M))[a] for a in range(3))
    return Derived(result=Equal(cross(m, M), tuple(lam * x for x in cross(m, cross(m, M)))),
                   by=Equal(lhs, cross(m, c)))


def eq35_second():
    c = constraint()
    m2 = dot(m, m)
    rhs = tuple(lam * m2 * ((1 - lam * alpha * M2) * m[a] - M[a]) for a in range(3))
    lhs = tuple(cross(m, M)[a] - rhs[a] for a in range(3))
    mc = dot(m, c)
    return Derived(result=Equal(cross(m, M), rhs),
                   by=Equal(lhs, tuple(cross(m, c)[a] + lam * m[a] * mc for a in range(3))))


def eq35_parallel():
    """(1 + lambda^2 |m|^2) m x M is a combination of the components of C, so (34)
    forces m x M = 0 for real lambda: the parallelism is derived, not assumed."""
    c = constraint()
    m2 = dot(m, m)
    mc = dot(m, c)
    combo = tuple(cross(m, c)[a] + lam * m[a] * mc - lam * m2 * c[a] for a in range(3))
    return Equal(tuple((1 + lam**2 * m2) * x for x in cross(m, M)), combo)


def eq36():
    sub = parallel_substitution()
    back = tuple(sp.simplify(x.xreplace(sub)) for x in constraint())
    return Derived(result=Equal(m, tuple(x.xreplace(sub) for x in m)), by=Equal(back, (0, 0, 0)))


# -- (37)-(41) ----------------------------------------------------------------------------
@cache
def averaged_parts(general: bool = False):
    """<D_I>, lambda <(1/(i hbar))[M, H_I]> and <dM_I/dt> with (36) substituted."""
    d, lam_, alpha_ = rsi(general)
    sub = parallel_substitution(lam_, alpha_)
    d_i = tuple(sp.cancel(avg(x).xreplace(sub)) for x in d.d_interaction)
    rate = tuple(sp.cancel(avg(x).xreplace(sub)) for x in d.moment_interaction_rate)
    comm = tuple(sp.cancel(avg(d.d_operator[a] - d.d_interaction[a] - d.moment_interaction_rate[a])
                           .xreplace(sub)) for a in range(3))
    return d_i, comm, rate


def cancellation_residual() -> tuple:
    """What is left of <D_I> + lambda <[M, H_I]>/(i hbar): zero only under (39)."""
    factor = (lam - alpha + alpha**2 * lam * M2) / (1 - lam * alpha * M2)
    return tuple(gamma * lam * M2 * factor * x for x in cross(M, H_eff))


def bind37():
    d_i, comm, _ = averaged_parts()
    return {**{sp.Symbol(f"DIavg_{ax}", real=True): d_i[a] for a, ax in enumerate("xyz")},
            **{sp.Symbol(f"Cavg_{ax}", real=True): comm[a] for a, ax in enumerate("xyz")}}


def eq37_cancellation():
    d_i, comm, _ = averaged_parts()
    res = cancellation_residual()
    dsym = tuple(sp.Symbol(f"DIavg_{ax}", real=True) for ax in "xyz")
    csym = tuple(sp.Symbol(f"Cavg_{ax}", real=True) for ax in "xyz")
    return Derived(result=Equal(dsym, tuple(-csym[a] + res[a] for a in range(3))),
                   by=Equal(tuple(d_i[a] + comm[a] for a in range(3)), res))


def eq37_condition():
    """The residual's factor vanishes exactly when (39) holds."""
    factor = lam - alpha + alpha**2 * lam * M2
    return Equal(factor, -(alpha - lam / (1 - lam * alpha * M2)) * (1 - lam * alpha * M2))


def eq37_value():
    d_i, _, _ = averaged_parts()
    closed = tuple(-gamma * lam / (1 - lam * alpha * M2) * cross(M, cross(M, H_eff))[a] for a in range(3))
    dsym = tuple(sp.Symbol(f"DIavg_{ax}", real=True) for ax in "xyz")
    return Derived(result=Equal(dsym, closed), by=Equal(d_i, closed))


@cache
def d_general() -> tuple:
    """D of (30) for the RSI with (36), lambda(t) and alpha(t) kept general."""
    d_i, comm, rate = averaged_parts(general=True)
    return tuple(d_i[a] + comm[a] + rate[a] for a in range(3))


def eq38_residual():
    _, lam_, alpha_ = rsi(general=True)
    q = lam_ * alpha_ * M2
    factor = (lam_ - alpha_ + alpha_**2 * lam_ * M2) / (1 - q)
    expected = tuple(factor * (cross(M, Mdot)[a] + gamma * lam_ * M2 * cross(M, H_eff)[a])
                     - sp.diff(q, t) / (1 - q) * M[a] for a in range(3))
    return Equal(tuple(d_general()[a] - alpha_ * cross(M, Mdot)[a] for a in range(3)), expected)


def eq38_magnitude():
    """d|M|^2/dt = 2 M . D (the precession term is normal to M), proportional to
    d(lambda alpha M^2)/dt; with lambda0 = lambda |M| and alpha0 = alpha |M| fixed,
    lambda alpha M^2 = lambda0 alpha0 is constant, so |M| is conserved."""
    _, lam_, alpha_ = rsi(general=True)
    q = lam_ * alpha_ * M2
    rate = 2 * dot(M, d_general())
    mag = sp.sqrt(M2)
    fixed = sp.diff((lam0 / mag) * (alpha0 / mag) * M2, t)
    return Equal((rate, fixed), (-2 * M2 * sp.diff(q, t) / (1 - q), 0))


#: |M| is conserved (step magnitude-conserved): M . dM/dt = 0, imposed by eliminating dM_z/dt
CONSERVED = {Mdot[2]: -(M[0] * Mdot[0] + M[1] * Mdot[1]) / M[2]}


def conserve(x: sp.Expr) -> sp.Expr:
    return sp.cancel(x.xreplace(CONSERVED))


@cache
def d_constant() -> tuple:
    """D for constant lambda, alpha, with (36) and |M| conserved."""
    d_i, comm, rate = averaged_parts()
    return tuple(conserve(d_i[a] + comm[a] + rate[a]) for a in range(3))


def lambda_from_39() -> sp.Expr:
    """(39) solved for lambda: it is linear in lambda."""
    (sol,) = sp.solve(sp.Eq(alpha, lam / (1 - lam * alpha * M2)), lam)
    return sol


def eq38():
    dsym = tuple(sp.Symbol(f"D_{ax}", real=True) for ax in "xyz")
    gilbert = tuple(alpha * x for x in cross(M, Mdot))
    under39 = tuple(sp.cancel(x.xreplace({lam: lambda_from_39()})) for x in d_constant())
    return Derived(result=Equal(dsym, gilbert), by=Equal(under39, tuple(conserve(x) for x in gilbert)))


def bind38():
    return {**{sp.Symbol(f"D_{ax}", real=True): x.xreplace({lam: lambda_from_39()})
               for ax, x in zip("xyz", d_constant())}, **CONSERVED}


def eq39():
    """The coefficient of M x dM/dt in D (no field, |M| conserved) is lambda/(1 - lambda alpha
    M^2); D is Gilbert-like with parameter alpha iff that coefficient is alpha -- (39).  That
    the residual of (38) vanishes only then is the step cancellation-condition."""
    no_field = {h: 0 for h in H_eff}
    coeff = sp.factor(d_constant()[0].xreplace(no_field) / conserve(cross(M, Mdot)[0]))
    return Derived(result=Equal(alpha, coeff), by=Equal(coeff, lam / (1 - lam * alpha * M2)))


def eq40():
    relation = sp.Eq(alpha0 / M_mag, (lam0 / M_mag) / (1 - lam0 * alpha0))  # (39) with M^2 = M_mag^2
    (sol,) = sp.solve(relation, lam0)
    return Derived(result=Equal(lam0, sol), by=Equal(sol, alpha0 / (1 + alpha0**2)))


def gilbert_rate() -> tuple:
    """The Gilbert equation dM/dt = gamma M x H_eff + alpha M x dM/dt, solved for dM/dt."""
    x = sp.symbols("xd0:3")
    eqs = [x[a] - (gamma * cross(M, H_eff)[a] + alpha * cross(M, x)[a]) for a in range(3)]
    matrix, rhs = sp.linear_eq_to_matrix(eqs, x)  # linear in dM/dt (the system of eq41_unique)
    return tuple(sp.factor(sp.cancel(r)) for r in matrix.LUsolve(rhs))


def eq41():
    rate = tuple(sp.factor(r.subs(gamma, -gamma_abs)) for r in gilbert_rate())
    back = tuple(sp.cancel(rate[a] - (-gamma_abs * cross(M, H_eff)[a] + alpha * cross(M, rate)[a]))
                 for a in range(3))  # rational in M, H_eff, alpha: cancel decides zero exactly
    return Derived(result=Equal(Mdot, rate), by=Equal(back, (0, 0, 0)))


def bind41():
    return {lam: lambda_from_39()}


def eq41_unique():
    """The Gilbert equation is linear in dM/dt with matrix 1 - alpha [M x]; its
    determinant 1 + alpha^2 M^2 never vanishes, so (41) is its only solution."""
    mx = sp.Matrix([[0, -M[2], M[1]], [M[2], 0, -M[0]], [-M[1], M[0], 0]])
    return Equal(sp.expand((sp.eye(3) - alpha * mx).det()), sp.expand(1 + alpha**2 * M2))


# -- static field (42)-(45) ----------------------------------------------------------------
def llg41_rhs() -> tuple:
    """The right side of (41) with gamma = -|gamma|, lambda and alpha independent."""
    inner = [(1 - lam * alpha * M2) * H_eff[b] + lam * cross(M, H_eff)[b] for b in range(3)]
    return tuple(-gamma_abs * cross(M, inner)[a] for a in range(3))


STATIC_BIND = {M_p: sp.sqrt(M[0] ** 2 + M[1] ** 2), M_zf: M[2], omega0: gamma_abs * H_z}


def eq42():
    rate = [x.xreplace(STATIC) for x in llg41_rhs()]
    mp2 = M[0] ** 2 + M[1] ** 2
    lhs = sp.expand(2 * M[0] * rate[0] + 2 * M[1] * rate[1])
    result = Equal(sp.diff(mp2, t), -2 * lam * omega0 * M[2] * mp2)
    return Derived(result=result, by=Equal(lhs, -2 * lam * gamma_abs * H_z * M[2] * mp2))


def eq43():
    rate = llg41_rhs()[2].xreplace(STATIC)
    mp2 = M[0] ** 2 + M[1] ** 2
    return Derived(result=Equal(sp.diff(M[2], t), lam * omega0 * mp2),
                   by=Equal(sp.expand(rate), sp.expand(lam * gamma_abs * H_z * mp2)))


K = sp.Symbol("k", real=True)  # the rate lambda0 omega0 of (44)-(45)
DELTA = sp.Symbol("delta", real=True)  # d = tanh(delta): the initial condition for |d| < 1


def mz_solution() -> sp.Expr:
    """Separation of variables in (43) with M_p^2 = M^2 - M_z^2 and lambda = lambda0/M:
    int dM_z/(M^2 - M_z^2) = atanh(M_z/M)/M = (k/M)(t - t0) + const, for |M_z| < M;
    with M_z(t0) = M d and d = tanh(delta)."""
    return M_mag * sp.tanh(K * (t - t0) + DELTA)


def eq44_45_antiderivative():
    x = sp.Symbol("x", real=True)
    return Equal(sp.diff(sp.atanh(x / M_mag) / M_mag, x), 1 / (M_mag**2 - x**2))


def mp_solution() -> sp.Expr:
    return M_mag / sp.cosh(K * (t - t0) + DELTA)


_X, _U = sp.Symbol("x", real=True), sp.Symbol("u", positive=True)


def rational_in_exp(expr: sp.Expr, arg: sp.Expr) -> sp.Expr:
    """expr, a function of hyperbolic functions of ``arg`` alone, as a rational function of
    u = exp(arg), cancelled: zero exactly when expr is identically zero."""
    e = expr.xreplace({arg: _X})
    if e.has(t) and arg.has(t):
        raise ValueError(f"{expr} depends on t other than through {arg}")
    return sp.cancel(sp.together(e.rewrite(sp.exp).subs(sp.exp(_X), _U)))


ARG = K * (t - t0) + DELTA


def eq44():
    mz = mz_solution()
    ode = sp.diff(mz, t) - K / M_mag * (M_mag**2 - mz**2)
    return Derived(result=Equal(M_zf, mz.subs(K, lam0 * omega0)),
                   by=Equal((rational_in_exp(ode, ARG), mz.subs(t, t0)), (0, M_mag * sp.tanh(DELTA))))


def eq45():
    mz, mp = mz_solution(), mp_solution()
    checks = (rational_in_exp(mp**2 + mz**2 - M_mag**2, ARG),
              rational_in_exp(sp.diff(mp**2, t) + 2 * K / M_mag * mz * mp**2, ARG),
              rational_in_exp(mp.subs(t, t0) - M_mag * sp.sqrt(1 - sp.tanh(DELTA) ** 2), DELTA))
    return Derived(result=Equal(M_p, mp.subs(K, lam0 * omega0)), by=Equal(checks, (0, 0, 0)))


def _bind_static_solution():
    return {M_zf: mz_solution().subs(K, lam0 * omega0), M_p: mp_solution().subs(K, lam0 * omega0),
            d_init: sp.tanh(DELTA)}


def relaxation_rate():
    """-lim_{t->oo} d ln M_p/dt for k = lambda0 omega0 > 0 and |d| < 1."""
    kp = sp.Symbol("k", positive=True)
    mp = mp_solution().subs(K, kp)
    return sp.limit(-sp.diff(sp.log(mp), t), t, sp.oo), kp


def relaxation_time():
    rate, kp = relaxation_rate()
    tau = sp.Symbol("tau", positive=True)
    return Derived(result=Equal(tau, (1 / rate).subs(kp, lam0 * omega0)), by=Equal(rate, kp))


def relaxed_state():
    kp, kn = sp.Symbol("k", positive=True), sp.Symbol("k", negative=True)
    mz = mz_solution()
    up, down = sp.limit(mz.subs(K, kp), t, sp.oo), sp.limit(mz.subs(K, kn), t, sp.oo)
    return Derived(result=Equal(sp.Symbol("M_z_inf"), up), by=Equal((up, down), (M_mag, -M_mag)))


def antiparallel_equilibrium():
    """d = -1: M_z = -M for all t solves (43) (M_p = 0) and never relaxes; d = +1: M_z = M
    is stationary too -- the relaxed state itself.  Neither is covered by (44)-(45)'s
    atanh(d)."""
    rates = tuple(K / M_mag * (M_mag**2 - mz**2) for mz in (-M_mag, M_mag))
    return Equal(rates, (0, 0))


def precession_frequency():
    """d phi/dt of the transverse part M_x + i M_y under (41) in the static field."""
    rate = [x.xreplace(STATIC) for x in llg41_rhs()]
    w = M[0] + sp.I * M[1]
    wdot = rate[0] + sp.I * rate[1]
    ratio = sp.simplify(sp.expand(wdot * sp.conjugate(w)) / (M[0] ** 2 + M[1] ** 2))
    freq = sp.simplify(sp.im(ratio))
    closed = gamma_abs * H_z * (1 - lam * alpha * M2)
    # with (39)-(40): 1 - lambda alpha M^2 = 1 - lambda0 alpha0 = 1/(1 + alpha0^2)
    in_alpha0 = sp.simplify(closed.subs(lam, lambda_from_39()).subs(alpha, alpha0 / sp.sqrt(M2)))
    return Derived(result=Equal(phi_dot, in_alpha0.subs(gamma_abs * H_z, omega0)),
                   by=Equal((freq, in_alpha0), (closed, gamma_abs * H_z / (1 + alpha0**2))))


def azimuth():
    """phi(t) = phi0 + omega0 (t - t0)/(1 + alpha0^2): integrating the derived rate."""
    phi0 = sp.Symbol("phi0", real=True)
    phi = phi0 + omega0 * (t - t0) / (1 + alpha0**2)
    return Equal((sp.diff(phi, t), phi.subs(t, t0)), (omega0 / (1 + alpha0**2), phi0))



_RSI = ("gamma-sign-open", "field-derivative", "average-per-volume")
_NEG = ("gamma-negative",)

DERIVATION = Derivation(
    name="sec3a_rsi",
    cost=4.2,  # seconds in one process, 2026-11-24: a scheduling hint
    title="Radiation-spin interaction: Gilbert damping out of equilibrium",
    section="III A",
    printed_table=printed.table,
    dimensions=DIMENSIONS,
    steps=(
        Step(id="rsi-hamiltonian", equation="31", printed="31", kind="definition",
             statement="lambda H_I = -gamma sum_i S_i . H_r^d, the radiation-spin interaction."),
        Step(id="dissipative-field", equation="32", printed="32", kind="definition",
             statement="H_r^d = lambda (M x H_eff - alpha M^2 H_eff), M a c-number."),
        step("rsi-moment", "33", eq33, "M_I,d from the package's functional derivative of (31).",
              printed="33", bind=bind33, conventions=("field-derivative",)),
        step("rsi-magnetization", "34", eq34, "M = <M0 + M_I,d> through the expectation map.",
              printed="34", conventions=("average-per-volume",)),
        step("parallel-first", "35", eq35_first, "<M0> x M = lambda <M0> x (<M0> x M) on the "
              "solutions of (34): the difference is <M0> x C with C = M - <M> = 0.",
              printed="35", part=0),
        step("parallel-second", "35", eq35_second, "= lambda |<M0>|^2 [(1 - lambda alpha M^2)<M0> - M] "
              "on the solutions of (34) (difference <M0> x C + lambda <M0>(<M0> . C)).",
              printed="35", part=1),
        step("parallel-derived", None, eq35_parallel, "(1 + lambda^2 |<M0>|^2) <M0> x M is a "
              "combination of C = 0, so (34) forces <M0> x M = 0 for real lambda."),
        step("moment-average", "36", eq36, "<M0> = M/(1 - lambda alpha M^2) solves (34) once "
              "<M0> is parallel to M.", printed="36"),
        step("interaction-deviation-average", "37", eq37_value, "<D_I> = -gamma lambda/(1 - lambda "
              "alpha M^2) M x (M x H_eff) with (36).", printed="37", part=1, bind=bind37,
              conventions=_RSI),
        step("cancellation", "37", eq37_cancellation, "<D_I> + lambda <[M, H_I]>/(i hbar) = gamma "
              "lambda M^2 (lambda - alpha + alpha^2 lambda M^2)/(1 - lambda alpha M^2) M x H_eff.",
              printed="37", part=0, bind=bind37, conventions=_RSI,
              reason="The two contributions cancel only when lambda - alpha + alpha^2 lambda M^2 = 0, "
              "i.e. under (39), which the paper introduces afterwards; without (39) a torque "
              "proportional to M x H_eff is left."),
        step("cancellation-condition", "39", eq37_condition, "lambda - alpha + alpha^2 lambda M^2 "
              "= 0 is (39): the cancellation and the Gilbert form need the same condition."),
        step("d-term-residual", "38", eq38_residual, "Without (39), and with lambda(t), alpha(t) "
              "kept: D - alpha M x dM/dt = (lambda - alpha + alpha^2 lambda M^2)/(1 - lambda alpha "
              "M^2) (M x dM/dt + gamma lambda M^2 M x H_eff) - d(lambda alpha M^2)/dt M/(1 - "
              "lambda alpha M^2).", conventions=_RSI),
        step("magnitude-conserved", "38", eq38_magnitude, "d|M|^2/dt = 2 M . D is proportional "
              "to d(lambda alpha M^2)/dt, which vanishes with lambda0, alpha0 fixed: |M| is "
              "conserved and the time derivatives of lambda and alpha M^2 drop out.",
              conventions=_RSI),
        step("gilbert-term", "38", eq38, "D = alpha M x dM/dt under (39), with |M| conserved.",
              printed="38", bind=bind38, conventions=_RSI),
        step("damping-relation", "39", eq39, "The coefficient of M x dM/dt in D is lambda/(1 - "
              "lambda alpha M^2); D is Gilbert-like with parameter alpha iff (39).", printed="39",
              conventions=_RSI),
        step("dimensionless-relation", "40", eq40, "lambda0 = alpha0/(1 + alpha0^2) from (39) with "
              "lambda0 = lambda M, alpha0 = alpha M.", printed="40"),
        step("llg-form", "41", eq41, "The Gilbert equation (29)+(38) solved for dM/dt, with "
              "gamma = -|gamma|; printed and derived agree under (39).", printed="41", bind=bind41,
              conventions=_NEG),
        step("llg-unique", "41", eq41_unique, "det(1 - alpha [M x]) = 1 + alpha^2 M^2 > 0: (41) is "
              "the only solution of (29)+(38), so the two are equivalent."),
        step("static-transverse", "42", eq42, "d M_p^2/dt from (41) with H_eff = H_z z.",
              printed="42", bind=lambda: STATIC_BIND, conventions=_NEG),
        step("static-longitudinal", "43", eq43, "d M_z/dt = lambda omega0 M_p^2 from (41).",
              printed="43", bind=lambda: STATIC_BIND, conventions=_NEG,
              reason="(43) as extracted reads lambda omega0 M_p; the derivation, and the dimensions "
              "([M]/T on the left), give lambda omega0 M_p^2 -- probably a superscript lost in "
              "the extraction."),
        step("separation-of-variables", "44", eq44_45_antiderivative,
              "d/dx [atanh(x/M)/M] = 1/(M^2 - x^2): the antiderivative behind (44)."),
        step("static-solution-z", "44", eq44, "M_z = M tanh(lambda0 omega0 (t - t0) + delta) "
              "with d = tanh(delta) solves (43) with M_z(t0) = M d (|d| < 1); equal to the printed "
              "form.", printed="44", bind=_bind_static_solution),
        step("static-solution-p", "45", eq45, "M_p = M/cosh(lambda0 omega0 (t - t0) + delta): "
              "M_p^2 + M_z^2 = M^2, (42) holds and M_p(t0) = M sqrt(1 - d^2).", printed="45",
              bind=_bind_static_solution),
        step("relaxation-time", None, relaxation_time, "tau = 1/(lambda0 omega0) as "
              "1/(-lim d ln M_p/dt) for lambda0 omega0 > 0 and |d| < 1.",
              printed="prose:relaxation-time"),
        step("relaxed-state", None, relaxed_state, "M_z -> M for lambda0 omega0 > 0 and -> -M for "
              "lambda0 omega0 < 0 (|d| < 1): M ends parallel to H_eff in both cases; the printed "
              "'M_z tends to M' assumes H_z > 0.", printed="prose:relaxed-state"),
        step("antiparallel-equilibrium", None, antiparallel_equilibrium, "d = -1: M_z = -M is "
              "stationary (M_p = 0) and does not relax; d = +1: M_z = M is stationary, the "
              "relaxed state itself."),
        step("precession-frequency", None, precession_frequency, "The transverse part precesses "
              "at d phi/dt = |gamma| H_z (1 - lambda alpha M^2) = omega0/(1 + alpha0^2).",
              printed="prose:precession-frequency", conventions=_NEG,
              reason="The text calls omega0 = |gamma| H_z the precession frequency; the derived "
              "equation (41) precesses at omega0/(1 + alpha0^2), which is omega0 only as alpha0 -> 0."),
        step("azimuth", None, azimuth, "phi(t) = phi0 + omega0 (t - t0)/(1 + alpha0^2), the "
              "azimuth of the transverse part, which the paper does not give.", conventions=_NEG),
    ),
)
