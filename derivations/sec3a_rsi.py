"""Sec. III A, the dissipative radiation field: eqs. (31)-(45) and the prose around them.

Conventions: lambda H_I = -gamma sum_i S_i . H_r^d = -M0 . H_r^d (by (6)) with a
c-number M(t); gamma's sign stays open through (40) and is -|gamma| from (41) on,
as the paper writes; lambda, alpha carry 1/[M] and lambda0 = lambda M, alpha0 = alpha M
are dimensionless (READING.md).  <M0> is written m = (m^x, m^y, m^z).

Finding: the cancellation (37) of <D_I> against lambda <[M, H_I]>/(i hbar) is not
unconditional.  Their sum is gamma lambda M^2 (lambda - alpha + alpha^2 lambda M^2)
/(1 - lambda alpha M^2) M x H_eff, which vanishes exactly when (39) holds -- the
same condition that makes D Gilbert-like (38).

Findings of the assumption re-checks (``symmag check --assumptions``): (41) as printed, in
lambda and alpha, is the RSI equation with the derived D solved for dM/dt for *any* lambda,
alpha (step llg-printed-general): (39) is needed only to read it as the Gilbert equation
with damping alpha (llg-form) and for omega0/(1 + alpha0^2); (42), (43) and the precession
factor |gamma| H_z (1 - lambda alpha M^2) hold without it.  Eliminating dM_z/dt by |M|
conservation is not needed from (41) on: the derived equation conserves |M| by itself.

(41) and everything after it start from the derived equation dM/dt = gamma M x H_eff + D
(``llg_rate``, ``rsi_rate``), never from the printed (41).
"""

from __future__ import annotations

import functools

import sympy as sp

from symmag.algebra.expectation import expectation, moment_average
from symmag.algebra.fields import H_eff, M
from symmag.algebra.su2 import M0_vector, cross, dot
from symmag.checking.assumptions import Assumption
from symmag.checking.assumptions import cached as cache
from symmag.checking.derivation import Derivation, Derived, Equal, Erratum, Step, step
from symmag.checking.dimensions import M_DIM, TABLE, E, H, T
from symmag.conventions import gamma, gamma_abs, t
from symmag.theory.dterm import dterm

from . import printed
from .models import rsi_interaction  # (31)-(32), written once
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
    "phi": sp.S.One,
}

m = moment_average()
M2 = dot(M, M)
Mdot = tuple(sp.Derivative(x, t) for x in M)
STATIC = {H_eff[0]: 0, H_eff[1]: 0, H_eff[2]: H_z}
#: the static field of (42)-(45) and Sec. III B, as a removable assumption
STATIC_FIELD = Assumption("static-field", "static field H_eff = H_z z (H_z constant)",
                          lambda x: x.xreplace(STATIC))


def _cache_flag(f):
    """``cache`` for f(general=False): one entry per value of the flag, however it is passed
    (``f()``, ``f(False)`` and ``f(general=False)`` share one)."""
    inner = cache(lambda general: f(general))

    @functools.wraps(f)
    def wrapper(general: bool = False):
        return inner(bool(general))

    wrapper.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
    return wrapper


@_cache_flag
def rsi(general: bool = False):
    """The D-term machinery of Sec. II on (31)-(32); ``general`` lets lambda and
    alpha depend on t, to keep their derivatives."""
    lam_, alpha_ = (sp.Function("lambda", real=True)(t), sp.Function("alpha", real=True)(t)) \
        if general else (lam, alpha)
    return dterm(rsi_interaction("none", lam_, alpha_)), lam_, alpha_


def along(vec, basis) -> sp.Expr:
    """The coefficient k of vec = k basis, by projection (cancelled, factored); the steps
    then check vec = k basis exactly, so a vec not along basis fails there."""
    return sp.factor(sp.cancel(dot(vec, basis) / dot(basis, basis)))


def avg(op) -> sp.Expr:
    return expectation(op)


@_cache_flag
def constraint(general: bool = False) -> tuple:
    """C = M - <M>, zero by (34): <M> from the expectation map of M = M0 + M_I."""
    d, _, _ = rsi(general)
    return tuple(sp.expand(M[a] - avg(d.moment[a])) for a in range(3))


@_cache_flag
def parallel_substitution(general: bool = False) -> dict:
    """(36) derived: with <M0> = mu M (parallel, step parallel-derived), M . C = 0 is linear
    in mu and fixes it; ``general`` for lambda(t), alpha(t)."""
    mu = sp.Symbol("mu")
    par = {m[a]: mu * M[a] for a in range(3)}
    (sol,) = sp.solve(sp.expand(dot(M, [x.xreplace(par) for x in constraint(general)])), mu)
    return {m[a]: sp.factor(sol) * M[a] for a in range(3)}


# -- (33)-(36) ----------------------------------------------------------------------------
def eq33():
    """M_I,d as the D-term machinery derives it (shown, and compared with the printed form);
    checked against the closed form -lambda (alpha M^2 M0 - M0 x M)."""
    d, _, _ = rsi()
    closed = tuple(-lam * (alpha * M2 * M0_vector()[a] - cross(M0_vector(), M)[a]) for a in range(3))
    return Derived(result=Equal(_nc_vector("MhatId"), d.moment_interaction),
                   by=lambda r: Equal(r.rhs, closed))


def bind33():
    return dict(zip(_nc_vector("MhatId"), rsi()[0].moment_interaction))


def eq34():
    """M = <M0 + M_I,d>, averaged term by term through the expectation map; checked against
    the closed form (1 - lambda alpha M^2) <M0> + lambda <M0> x M."""
    d, _, _ = rsi()
    averaged = tuple(avg(x) for x in d.moment)
    closed = tuple((1 - lam * alpha * M2) * m[a] + lam * cross(m, M)[a] for a in range(3))
    return Derived(result=Equal(tuple(M), averaged), by=lambda r: Equal(r.rhs, closed))


def eq35_first():
    c = constraint()
    return Derived(result=Equal(cross(m, M), tuple(lam * x for x in cross(m, cross(m, M)))),
                   by=lambda r: Equal(tuple(r.lhs[a] - r.rhs[a] for a in range(3)), cross(m, c)))


def eq35_second():
    c = constraint()
    m2 = dot(m, m)
    rhs = tuple(lam * m2 * ((1 - lam * alpha * M2) * m[a] - M[a]) for a in range(3))
    mc = dot(m, c)
    return Derived(result=Equal(cross(m, M), rhs),
                   by=lambda r: Equal(tuple(r.lhs[a] - r.rhs[a] for a in range(3)),
                                      tuple(cross(m, c)[a] + lam * m[a] * mc for a in range(3))))


def eq35_parallel():
    """(1 + lambda^2 |m|^2) m x M is a combination of the components of C, so (34)
    forces m x M = 0 for real lambda: the parallelism is derived, not assumed."""
    c = constraint()
    m2 = dot(m, m)
    mc = dot(m, c)
    combo = tuple(cross(m, c)[a] + lam * m[a] * mc - lam * m2 * c[a] for a in range(3))
    return Equal(tuple((1 + lam**2 * m2) * x for x in cross(m, M)), combo)


def eq36():
    """<M0> = mu M with mu from M . C = 0; substituted back, every component of C vanishes."""
    sub = parallel_substitution()
    return Derived(result=Equal(m, tuple(x.xreplace(sub) for x in m)),
                   by=lambda r: Equal(tuple(x.xreplace(dict(zip(m, r.rhs))) for x in constraint()),
                                      (0, 0, 0)))


# -- (37)-(41) ----------------------------------------------------------------------------
@_cache_flag
def averaged_parts(general: bool = False):
    """<D_I>, lambda <(1/(i hbar))[M, H_I]> and <dM_I/dt> with (36) substituted."""
    d, _, _ = rsi(general)
    sub = parallel_substitution(general)
    d_i = tuple(sp.cancel(avg(x).xreplace(sub)) for x in d.d_interaction)
    rate = tuple(sp.cancel(avg(x).xreplace(sub)) for x in d.moment_interaction_rate)
    comm = tuple(sp.cancel(avg(d.d_operator[a] - d.d_interaction[a] - d.moment_interaction_rate[a])
                           .xreplace(sub)) for a in range(3))
    return d_i, comm, rate


_DSYM = tuple(sp.Symbol(f"DIavg_{ax}", real=True) for ax in "xyz")
_CSYM = tuple(sp.Symbol(f"Cavg_{ax}", real=True) for ax in "xyz")


@cache
def cancellation_coefficient() -> sp.Expr:
    """k in <D_I> + lambda <[M, H_I]>/(i hbar) = k M x H_eff, read off the z component (the
    step cancellation then checks all three)."""
    d_i, comm, _ = averaged_parts()
    return sp.factor(sp.cancel((d_i[2] + comm[2]) / cross(M, H_eff)[2]))


def eq37_cancellation():
    """<D_I> = -lambda <[M, H_I]>/(i hbar) + k M x H_eff, k derived; checked by putting the
    derived commutator average into the result and comparing with the derived <D_I>."""
    d_i, comm, _ = averaged_parts()
    k = cancellation_coefficient()
    result = Equal(_DSYM, tuple(-_CSYM[a] + k * cross(M, H_eff)[a] for a in range(3)))
    return Derived(result=result,
                   by=lambda r: Equal(tuple(x.xreplace(dict(zip(_CSYM, comm))) for x in r.rhs), d_i))


def eq37_condition():
    """k/(gamma lambda M^2) of the cancellation is linear in lambda: it vanishes for one
    lambda only, and that lambda is (39) solved for lambda."""
    f = sp.cancel(cancellation_coefficient() / (gamma * lam * M2))
    roots = sp.solve(sp.numer(sp.together(f)), lam)
    if len(roots) != 1:
        raise ValueError(f"the cancellation factor has roots {roots} in lambda")
    return Derived(result=Equal(lam, roots[0]),
                   by=lambda r: Equal((f.subs(lam, r.rhs), r.rhs), (0, lambda_from_39())))


def eq37_value():
    """<D_I> = k M x (M x H_eff), k by projection; checked: the derived <D_I> is k M x (M x H)."""
    d_i, _, _ = averaged_parts()
    basis = cross(M, cross(M, H_eff))
    k = along(d_i, basis)
    return Derived(result=Equal(_DSYM, tuple(k * x for x in basis)), by=lambda r: Equal(d_i, r.rhs))


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


#: |M| conservation as a removable assumption; ``conserve(x)`` applies it
conserve = Assumption("conserve", "|M| conserved: M . dM/dt = 0 (dM_z/dt eliminated; step "
                      "magnitude-conserved)", lambda x: sp.cancel(x.xreplace(CONSERVED)))
CONSERVE = conserve


@cache
def d_constant() -> tuple:
    """D for constant lambda, alpha, with (36) and |M| conserved."""
    d_i, comm, rate = averaged_parts()
    return tuple(conserve(d_i[a] + comm[a] + rate[a]) for a in range(3))


@cache
def lambda_from_39() -> sp.Expr:
    """(39) solved for lambda: it is linear in lambda."""
    (sol,) = sp.solve(sp.Eq(alpha, lam / (1 - lam * alpha * M2)), lam)
    return sol


#: (39) as a removable assumption: lambda eliminated through (39)
EQ39 = Assumption("eq39", "(39): alpha = lambda/(1 - lambda alpha M^2), lambda eliminated",
                  lambda x: sp.cancel(x.xreplace({lam: lambda_from_39()})))


@cache
def d_gilbert() -> tuple:
    """D (constant lambda, alpha; (36); |M| conserved) under (39)."""
    return tuple(EQ39(x) for x in d_constant())


def eq38():
    """D under (39) is k M x dM/dt, k by projection on M x dM/dt with the field off (|M|
    conserved); checked: the derived D, field on, is k M x dM/dt component by component."""
    dsym = tuple(sp.Symbol(f"D_{ax}", real=True) for ax in "xyz")
    d = d_gilbert()
    k = along([x.xreplace({h: 0 for h in H_eff}) for x in d], [conserve(x) for x in cross(M, Mdot)])
    return Derived(result=Equal(dsym, tuple(k * x for x in cross(M, Mdot))),
                   by=lambda r: Equal(d, tuple(conserve(x) for x in r.rhs)))


def bind38():
    return {**{sp.Symbol(f"D_{ax}", real=True): x for ax, x in zip("xyz", d_gilbert())},
            **({} if not conserve.active else CONSERVED)}


def eq39():
    """The coefficient a of M x dM/dt in D (read off with the field off) is lambda/(1 -
    lambda alpha M^2); then the whole vector D - alpha M x dM/dt, field kept, is
    (a - alpha)(M x dM/dt + gamma lambda M^2 M x H_eff): it vanishes iff alpha = a, i.e. (39)."""
    d = d_constant()
    v = [conserve(x) for x in cross(M, Mdot)]
    a = along([x.xreplace({h: 0 for h in H_eff}) for x in d], v)
    w = [conserve(cross(M, Mdot)[i] + gamma * lam * M2 * cross(M, H_eff)[i]) for i in range(3)]
    return Derived(result=Equal(alpha, a),
                   by=lambda r: Equal(tuple(_cancel(d[i] - alpha * v[i] - (r.rhs - alpha) * w[i])
                                            for i in range(3)), (0, 0, 0)))


def eq40():
    relation = alpha0 / M_mag - (lam0 / M_mag) / (1 - lam0 * alpha0)  # (39) with M^2 = M_mag^2
    (sol,) = sp.solve(relation, lam0)
    return Derived(result=Equal(lam0, sp.factor(sol)), by=lambda r: Equal(relation.subs(lam0, r.rhs), 0))


@cache
def gilbert_rate() -> tuple:
    """The Gilbert form dM/dt = gamma M x H_eff + alpha M x dM/dt, solved for dM/dt (gamma
    open, alpha the Gilbert damping).  Step llg-form shows that the RSI equation, with D
    derived (step gilbert-term), has exactly this solution under (39)."""
    x = sp.symbols("xd0:3")
    eqs = [x[a] - (gamma * cross(M, H_eff)[a] + alpha * cross(M, x)[a]) for a in range(3)]
    return _solve_linear(eqs, list(x), list(x))  # linear in dM/dt (the system of eq41_unique)


def _cancel(x: sp.Expr) -> sp.Expr:
    """x as one cancelled fraction of polynomials (exact: polynomial gcd), cheaper than
    sympy.cancel on the large rational expressions of the D-term; used where only whether
    x vanishes matters."""
    num, den = sp.fraction(sp.together(x))
    if den == 1:
        return sp.expand(num)
    (p, q), _ = sp.parallel_poly_from_expr([num, den], expand=True)
    c, p, q = p.cancel(q)
    return c * p.as_expr() / q.as_expr()


def _rsi_equation(rate, d) -> list:
    """dM/dt - gamma M x H_eff - D at dM/dt = rate, D the derived D-term ``d``, cancelled."""
    at = dict(zip(Mdot, rate))
    return [_cancel(rate[a] - gamma * cross(M, H_eff)[a] - d[a].xreplace(at)) for a in range(3)]


def _det(rows: list) -> sp.Poly:
    """Determinant of a square matrix of Poly entries (Laplace expansion: at most 3 x 3)."""
    if len(rows) == 1:
        return rows[0][0]
    out = None
    for j in range(len(rows)):
        minor = _det([r[:j] + r[j + 1:] for r in rows[1:]])
        term = rows[0][j] * minor if j % 2 == 0 else -(rows[0][j] * minor)
        out = term if out is None else out + term
    return out


def _solve_linear(eqs, unknowns, comps) -> tuple:
    """Solve the linear equations ``eqs`` (one per unknown) for ``unknowns`` by Cramer's rule
    in polynomial arithmetic, and return each of ``comps`` (expressions linear and homogeneous
    in the unknowns) at the solution, cancelled and factored."""
    n = len(unknowns)
    matrix, rhs = sp.linear_eq_to_matrix([sp.numer(sp.together(e)) for e in eqs], unknowns)
    parts = []
    for v in comps:
        num, den = sp.fraction(sp.together(v))
        parts.append(([sp.expand(num).coeff(u) for u in unknowns], den))
    entries = list(matrix) + list(rhs) + [c for cs, den in parts for c in (*cs, den)]
    polys, _ = sp.parallel_poly_from_expr(entries, expand=True)
    a = [polys[i * n:(i + 1) * n] for i in range(n)]
    b = polys[n * n:n * n + n]
    rest = polys[n * n + n:]
    det = _det(a)
    numerators = [_det([row[:i] + [b[k]] + row[i + 1:] for k, row in enumerate(a)]) for i in range(n)]
    out = []
    for k in range(len(comps)):
        cs, den = rest[k * (n + 1):k * (n + 1) + n], rest[k * (n + 1) + n]
        num = sum((c * p for c, p in zip(cs[1:], numerators[1:])), cs[0] * numerators[0])
        c, p, q = num.cancel(den * det)
        out.append(sp.factor(c * p.as_expr() / q.as_expr()))
    return tuple(out)


def _solve_rate(d) -> tuple:
    """dM/dt from the RSI equation (29) dM/dt = gamma M x H_eff + D(dM/dt), which is linear in
    dM/dt, on the equations cleared of their denominators.  With |M| conserved dM_z/dt is
    eliminated and two equations fix dM_x/dt, dM_y/dt (dM_z/dt follows, linear in them)."""
    x = sp.symbols("xd0:3")
    sub = dict(zip(Mdot, x))
    lhs = [conserve(v).xreplace(sub) for v in Mdot]
    eqs = [lhs[a] - gamma * cross(M, H_eff)[a] - d[a].xreplace(sub) for a in range(3)]
    unknowns = [u for u in x if any(e.has(u) for e in eqs)]
    return _solve_linear(eqs[:len(unknowns)], unknowns, lhs)


@cache
def llg_rate() -> tuple:
    """(41) derived: the RSI equation (29) dM/dt = gamma M x H_eff + D, with D derived (step
    gilbert-term: (36), |M| conserved, (39)), solved for dM/dt; gamma open."""
    return _solve_rate(d_gilbert())


@cache
def rsi_rate() -> tuple:
    """The RSI equation (29) with the derived D (d_constant: (36), |M| conserved), lambda and
    alpha independent -- no (39) -- solved for dM/dt; gamma open."""
    return _solve_rate(d_constant())


def eq41():
    """The derived rate with gamma = -|gamma|; checked: it solves the derived equation (all
    three components) and equals the Gilbert form dM/dt = -|gamma| M x H_eff + alpha M x
    dM/dt solved for dM/dt (its only solution: step llg-unique)."""
    rate = tuple(r.subs(gamma, -gamma_abs) for r in llg_rate())
    d = d_gilbert()

    def by(r):
        back = tuple(e.subs(gamma, -gamma_abs) for e in _rsi_equation(
            tuple(x.subs(gamma_abs, -gamma) for x in r.rhs), d))
        gilbert = tuple(r.rhs[a] - g.subs(gamma, -gamma_abs) for a, g in enumerate(gilbert_rate()))
        return Equal((*back, *gilbert), (0,) * 6)

    return Derived(result=Equal(Mdot, rate), by=by)


def eq41_general():
    """The same equation with (39) left out (lambda and alpha independent): the derived rate,
    checked by substitution into the derived equation; it is (41) as printed."""
    rate = tuple(r.subs(gamma, -gamma_abs) for r in rsi_rate())
    d = d_constant()

    def by(r):
        return Equal(tuple(e.subs(gamma, -gamma_abs) for e in _rsi_equation(
            tuple(x.subs(gamma_abs, -gamma) for x in r.rhs), d)), (0, 0, 0))

    return Derived(result=Equal(Mdot, rate), by=by)


def bind41():
    return {lam: lambda_from_39()}


def eq41_unique():
    """The Gilbert equation is linear in dM/dt with matrix 1 - alpha [M x]; its
    determinant 1 + alpha^2 M^2 never vanishes, so (41) is its only solution."""
    mx = sp.Matrix([[0, -M[2], M[1]], [M[2], 0, -M[0]], [-M[1], M[0], 0]])
    return Equal(sp.expand((sp.eye(3) - alpha * mx).det()), sp.expand(1 + alpha**2 * M2))


# -- static field (42)-(45) ----------------------------------------------------------------
@cache
def static_rate() -> tuple:
    """The derived (41) (step llg-form), gamma = -|gamma|, in the static field."""
    return tuple(STATIC_FIELD(r.subs(gamma, -gamma_abs)) for r in llg_rate())


STATIC_BIND = {M_p: sp.sqrt(M[0] ** 2 + M[1] ** 2), M_zf: M[2], omega0: gamma_abs * H_z}


def _static(x: sp.Expr) -> sp.Expr:
    """A printed-symbol expression (M_p, M_z, omega0) in the components, under (39)."""
    return EQ39(x.xreplace(STATIC_BIND).doit())


def _as_lambda(c: sp.Expr) -> sp.Expr:
    """c written as lambda when (39) makes it lambda: the rewrite of step damping-relation."""
    return lam if sp.cancel(c - EQ39(lam)) == 0 else c


def eq42():
    """d M_p^2/dt = 2 (M_x dM_x/dt + M_y dM_y/dt) from the derived (41): its coefficient c in
    -2 c omega0 M_z M_p^2 (derived), written lambda when (39) makes it lambda; checked: the
    result is the derived d M_p^2/dt, and c = lambda by (39)."""
    rate = static_rate()
    dmp2 = 2 * M[0] * rate[0] + 2 * M[1] * rate[1]
    shape = -2 * omega0 * M_zf * M_p**2
    c = _as_lambda(sp.factor(sp.cancel(dmp2 / _static(shape))))

    def by(r):
        return Equal((_static(r.rhs) - dmp2, EQ39(sp.cancel(r.rhs / shape)) - EQ39(lam)), (0, 0))

    return Derived(result=Equal(sp.Derivative(M_p**2, t), c * shape), by=by)


def eq43():
    """d M_z/dt from the derived (41): c omega0 M_p^2 with c derived, written lambda when (39)
    makes it lambda; checked as (42)."""
    rate = static_rate()
    shape = omega0 * M_p**2
    c = _as_lambda(sp.factor(sp.cancel(rate[2] / _static(shape))))

    def by(r):
        return Equal((_static(r.rhs) - rate[2], EQ39(sp.cancel(r.rhs / shape)) - EQ39(lam)), (0, 0))

    return Derived(result=Equal(sp.Derivative(M_zf, t), c * shape), by=by)


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
#: the argument of (44)-(45) with k = lambda0 omega0
ARG0 = ARG.subs(K, lam0 * omega0)
RATE0 = lam0 * omega0  # (43) with lambda = lambda0/M and M_p^2 = M^2 - M_z^2: dM_z/dt = RATE0/M (M^2 - M_z^2)


def eq44():
    """Checked: the shown M_z solves (43) (lambda = lambda0/M, M_p^2 = M^2 - M_z^2) and
    M_z(t0) = M tanh(delta)."""
    def by(r):
        ode = sp.diff(r.rhs, t) - RATE0 / M_mag * (M_mag**2 - r.rhs**2)
        return Equal((rational_in_exp(ode, ARG0), r.rhs.subs(t, t0)), (0, M_mag * sp.tanh(DELTA)))

    return Derived(result=Equal(M_zf, mz_solution().subs(K, lam0 * omega0)), by=by)


def eq45():
    """Checked: the shown M_p with the M_z of (44) gives M_p^2 + M_z^2 = M^2, solves (42) and
    M_p(t0) = M sqrt(1 - d^2)."""
    mz = mz_solution().subs(K, lam0 * omega0)

    def by(r):
        mp = r.rhs
        return Equal((rational_in_exp(mp**2 + mz**2 - M_mag**2, ARG0),
                      rational_in_exp(sp.diff(mp**2, t) + 2 * RATE0 / M_mag * mz * mp**2, ARG0),
                      rational_in_exp(mp.subs(t, t0) - M_mag * sp.sqrt(1 - sp.tanh(DELTA) ** 2), DELTA)),
                     (0, 0, 0))

    return Derived(result=Equal(M_p, mp_solution().subs(K, lam0 * omega0)), by=by)


def _bind_static_solution():
    """The printed initial condition d = M_z(t0)/M as tanh(delta) (the lhs M_z, M_p are the
    same placeholders on both sides)."""
    return {d_init: sp.tanh(DELTA)}


_KP = sp.Symbol("k", positive=True)


def relaxation_rate():
    """-lim_{t->oo} d ln M_p/dt for k = lambda0 omega0 > 0 and |d| < 1."""
    mp = mp_solution().subs(K, _KP)
    return sp.limit(-sp.diff(sp.log(mp), t), t, sp.oo), _KP


def relaxation_time():
    """tau = 1/rate; checked: d/dt [ln M_p + (t - t0)/tau] -> 0 as t -> oo, i.e. M_p ~
    exp(-(t - t0)/tau) (a rational function of u = exp(k (t - t0) + delta), u -> oo)."""
    rate, kp = relaxation_rate()
    tau = sp.Symbol("tau", positive=True)
    mp = mp_solution().subs(K, kp)
    arg = ARG.subs(K, kp)

    def by(r):
        inv = 1 / r.rhs.subs(lam0, kp / omega0)
        return Equal(sp.limit(rational_in_exp(sp.diff(sp.log(mp), t) + inv, arg), _U, sp.oo), 0)

    return Derived(result=Equal(tau, (1 / rate).subs(kp, lam0 * omega0)), by=by)


def relaxed_state():
    """lim M_z for k > 0 (shown) and k < 0; checked: each limit is a fixed point of (43)
    (dM_z/dt = k/M (M^2 - M_z^2) = 0 there) and a stable one for the sign of k."""
    kp, kn = _KP, sp.Symbol("k", negative=True)
    mz = mz_solution()
    up, down = sp.limit(mz.subs(K, kp), t, sp.oo), sp.limit(mz.subs(K, kn), t, sp.oo)
    x = sp.Symbol("x", real=True)
    flow = K / M_mag * (M_mag**2 - x**2)
    slope = sp.diff(flow, x)

    def by(r):
        return Equal((flow.subs(x, r.rhs), flow.subs(x, down),
                      sp.sign(slope.subs({x: r.rhs, K: kp})), sp.sign(slope.subs({x: down, K: kn}))),
                     (0, 0, -1, -1))

    return Derived(result=Equal(sp.Symbol("M_z_inf"), up), by=by)


def antiparallel_equilibrium():
    """M = -M z (d = -1) and M = +M z (d = +1) are stationary under the derived (41) in the
    static field (every component of dM/dt zero there), and the transverse part near them
    grows as d ln M_p^2/dt = +2 lambda0 omega0 at -M z (it does not relax) and decays at
    -2 lambda0 omega0 at +M z (the relaxed state).  Neither is covered by (44)-(45)'s atanh(d)."""
    rate = static_rate()
    growth = sp.cancel((2 * M[0] * rate[0] + 2 * M[1] * rate[1]) / (M[0] ** 2 + M[1] ** 2))
    points = [{M[0]: 0, M[1]: 0, M[2]: sign * M_mag} for sign in (-1, 1)]
    shown = [sp.cancel(r.xreplace(p)) for p in points for r in rate]
    shown += [sp.factor(growth.xreplace(p)) for p in points]
    lam0_ = EQ39(lam) * M_mag  # lambda0 = lambda M, lambda by (39) when it is assumed
    expected = [0] * 6 + [(2 * lam0_ * gamma_abs * H_z).xreplace(points[0]),
                          (-2 * lam0_ * gamma_abs * H_z).xreplace(points[1])]
    return Equal(tuple(shown), tuple(expected))


_MP2 = M[0] ** 2 + M[1] ** 2


def _azimuth_rate(rate) -> sp.Expr:
    """d phi/dt |w|^2 = Im(conj(w) dw/dt) = M_x dM_y/dt - M_y dM_x/dt, w = M_x + i M_y."""
    return M[0] * rate[1] - M[1] * rate[0]


def _from_dimensionless(x: sp.Expr) -> sp.Expr:
    mag = sp.sqrt(M2)
    return x.subs(omega0, gamma_abs * H_z).subs({alpha0: alpha * mag, lam0: lam * mag})


@cache
def precession_rate() -> sp.Expr:
    """d phi/dt of the derived static (41), in omega0 and lambda0 = lambda M, alpha0 = alpha M."""
    mag = sp.sqrt(M2)
    freq = sp.cancel(_azimuth_rate(static_rate()) / _MP2)
    return sp.factor(freq.subs({alpha: alpha0 / mag, lam: lam0 / mag}).subs(H_z, omega0 / gamma_abs))


def precession_frequency():
    """d phi/dt of the transverse part M_x + i M_y under the derived (41) in the static
    field; checked against the derived equation, against |gamma| H_z (1 - lambda alpha M^2)
    (the precession factor of (41) as printed, lambda kept: true with or without (39)) and
    against omega0/(1 + alpha0^2), which is that factor under (39)-(40)."""
    rate = static_rate()

    def by(r):
        val = _from_dimensionless(r.rhs)
        return Equal((val * _MP2 - _azimuth_rate(rate),
                      val - gamma_abs * H_z * (1 - EQ39(lam) * alpha * M2),
                      r.rhs - omega0 / (1 + alpha0**2)), (0, 0, 0))

    return Derived(result=Equal(phi_dot, precession_rate()), by=by)


PHI, PHI0, _S = sp.Function("phi", real=True)(t), sp.Symbol("phi0", real=True), sp.Symbol("s", real=True)


def azimuth():
    """phi(t) = phi0 + int_t0^t (d phi/dt) ds, the derived precession rate integrated (it is
    constant: free of M(t) and t); checked against the derived equation and phi(t0) = phi0."""
    f = precession_rate()
    if f.has(t) or any(f.has(x) for x in M):
        raise ValueError(f"the precession rate {f} depends on M(t): not a uniform precession")
    phi = PHI0 + sp.integrate(f.subs(t, _S), (_S, t0, t))
    rate = static_rate()

    def by(r):
        (phi_t,) = sp.solve(sp.Eq(r.lhs, r.rhs), PHI)  # the shown relation solved for phi(t)
        return Equal((_from_dimensionless(sp.diff(phi_t, t)) * _MP2 - _azimuth_rate(rate),
                      phi_t.subs(t, t0) - PHI0), (0, 0))

    return Derived(result=Equal(PHI, sp.cancel(phi)), by=by)  # cancel: one form whatever the hash seed


_RSI = ("gamma-sign-open", "field-derivative", "average-per-volume")
_NEG = ("gamma-negative",)
#: what the static-field steps apply: the field, and through the derived (41) (39) and |M|
_STATIC_ASSUMES = (STATIC_FIELD, EQ39, conserve)

# -- pinned errata: printed - derived, typed as the expectation (never computed here) ------
CANCELLATION_ERRATUM = Erratum(
    "The two contributions cancel only when lambda - alpha + alpha^2 lambda M^2 = 0, i.e. under "
    "(39), which the paper introduces afterwards; without (39) a torque proportional to "
    "M x H_eff is left.",
    residual=tuple(-gamma * lam * M2 * (lam - alpha + alpha**2 * lam * M2) / (1 - lam * alpha * M2)
                   * cross(M, H_eff)[a] for a in range(3)))
STATIC_LONGITUDINAL_ERRATUM = Erratum(
    "(43) as extracted reads lambda omega0 M_p; the derivation, and the dimensions ([M]/T on "
    "the left), give lambda omega0 M_p^2 -- probably a superscript lost in the extraction.",
    residual=lam * omega0 * (M_p - M_p**2), dimensions=True)
PRECESSION_ERRATUM = Erratum(
    "The text calls omega0 = |gamma| H_z the precession frequency; the derived equation (41) "
    "precesses at omega0/(1 + alpha0^2), which is omega0 only as alpha0 -> 0.",
    residual=omega0 * alpha0**2 / (1 + alpha0**2))

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
        step("moment-average", "36", eq36, "<M0> = mu M with mu fixed by M . C = 0 is "
              "M/(1 - lambda alpha M^2); it makes every component of C vanish.", printed="36"),
        step("interaction-deviation-average", "37", eq37_value, "<D_I> = -gamma lambda/(1 - lambda "
              "alpha M^2) M x (M x H_eff) with (36).", printed="37", part=1,
              conventions=_RSI),
        step("cancellation", "37", eq37_cancellation, "<D_I> + lambda <[M, H_I]>/(i hbar) = gamma "
              "lambda M^2 (lambda - alpha + alpha^2 lambda M^2)/(1 - lambda alpha M^2) M x H_eff "
              "(coefficient derived by projection).",
              printed="37", part=0, conventions=_RSI, erratum=CANCELLATION_ERRATUM),
        step("cancellation-condition", "39", eq37_condition, "The cancellation's coefficient is "
              "linear in lambda and vanishes only at lambda = alpha/(1 + alpha^2 M^2), which is (39) "
              "solved for lambda: the cancellation and the Gilbert form need the same condition."),
        step("d-term-residual", "38", eq38_residual, "Without (39), and with lambda(t), alpha(t) "
              "kept: D - alpha M x dM/dt = (lambda - alpha + alpha^2 lambda M^2)/(1 - lambda alpha "
              "M^2) (M x dM/dt + gamma lambda M^2 M x H_eff) - d(lambda alpha M^2)/dt M/(1 - "
              "lambda alpha M^2).", conventions=_RSI),
        step("magnitude-conserved", "38", eq38_magnitude, "d|M|^2/dt = 2 M . D is proportional "
              "to d(lambda alpha M^2)/dt, which vanishes with lambda0, alpha0 fixed: |M| is "
              "conserved and the time derivatives of lambda and alpha M^2 drop out.",
              conventions=_RSI),
        step("gilbert-term", "38", eq38, "D = alpha M x dM/dt under (39), with |M| conserved: "
              "the coefficient of M x dM/dt read off the derived D, and D equal to it.",
              printed="38", bind=bind38, conventions=_RSI, assumes=(EQ39, conserve)),
        step("damping-relation", "39", eq39, "The coefficient of M x dM/dt in D is lambda/(1 - "
              "lambda alpha M^2) =: a, and D - alpha M x dM/dt = (a - alpha)(M x dM/dt + gamma "
              "lambda M^2 M x H_eff) with the field: D is Gilbert-like with parameter alpha iff (39).",
              printed="39", conventions=_RSI, assumes=(conserve,)),
        step("dimensionless-relation", "40", eq40, "lambda0 = alpha0/(1 + alpha0^2) from (39) with "
              "lambda0 = lambda M, alpha0 = alpha M.", printed="40"),
        step("llg-form", "41", eq41, "The RSI equation dM/dt = gamma M x H_eff + D, with the derived "
              "D, solved for dM/dt with gamma = -|gamma|: it is the Gilbert form solved for dM/dt; "
              "printed and derived agree under (39).", printed="41", bind=bind41,
              conventions=_NEG, assumes=(EQ39, conserve)),
        step("llg-printed-general", "41", eq41_general, "Finding: without (39), lambda and alpha "
              "independent, the RSI equation with the derived D solved for dM/dt is still (41) as "
              "printed, -|gamma| M x [(1 - lambda alpha M^2) H_eff + lambda M x H_eff]: (39) is "
              "needed only to read it as the Gilbert equation with damping alpha (step llg-form).",
              printed="41", conventions=_NEG, assumes=(conserve,)),
        step("llg-unique", "41", eq41_unique, "det(1 - alpha [M x]) = 1 + alpha^2 M^2 > 0: (41) is "
              "the only solution of (29)+(38), so the two are equivalent."),
        step("static-transverse", "42", eq42, "d M_p^2/dt from the derived (41) with H_eff = H_z z: "
              "-2 lambda omega0 M_z M_p^2 (lambda = alpha/(1 + alpha^2 M^2) under (39); the form "
              "holds for independent lambda, alpha as well).",
              printed="42", bind=lambda: STATIC_BIND, conventions=_NEG, assumes=_STATIC_ASSUMES),
        step("static-longitudinal", "43", eq43, "d M_z/dt = lambda omega0 M_p^2 from the derived "
              "(41) (for independent lambda, alpha as well).", printed="43", bind=lambda: STATIC_BIND,
              conventions=_NEG,
              assumes=_STATIC_ASSUMES, erratum=STATIC_LONGITUDINAL_ERRATUM),
        step("separation-of-variables", "44", eq44_45_antiderivative,
              "d/dx [atanh(x/M)/M] = 1/(M^2 - x^2): the antiderivative behind (44)."),
        step("static-solution-z", "44", eq44, "M_z = M tanh(lambda0 omega0 (t - t0) + delta) "
              "with d = tanh(delta) solves (43) with M_z(t0) = M d (|d| < 1); equal to the printed "
              "form.", printed="44", bind=_bind_static_solution),
        step("static-solution-p", "45", eq45, "M_p = M/cosh(lambda0 omega0 (t - t0) + delta): "
              "M_p^2 + M_z^2 = M^2, (42) holds and M_p(t0) = M sqrt(1 - d^2).", printed="45",
              bind=_bind_static_solution),
        step("relaxation-time", None, relaxation_time, "tau = 1/(lambda0 omega0) as "
              "1/(-lim d ln M_p/dt) for lambda0 omega0 > 0 and |d| < 1: M_p ~ exp(-(t - t0)/tau).",
              printed="prose:relaxation-time"),
        step("relaxed-state", None, relaxed_state, "M_z -> M for lambda0 omega0 > 0 and -> -M for "
              "lambda0 omega0 < 0 (|d| < 1), the stable fixed points of (43): M ends parallel to "
              "H_eff in both cases; the printed 'M_z tends to M' assumes H_z > 0.",
              printed="prose:relaxed-state"),
        step("antiparallel-equilibrium", None, antiparallel_equilibrium, "d = -1: M = -M z is "
              "stationary under the derived (41) (dM/dt = 0) and does not relax: near it d ln "
              "M_p^2/dt = +2 lambda0 omega0; d = +1: M = M z is stationary and attracting (-2 "
              "lambda0 omega0), the relaxed state.", conventions=_NEG,
              assumes=_STATIC_ASSUMES),
        step("precession-frequency", None, precession_frequency, "The transverse part of the "
              "derived (41) precesses at d phi/dt = |gamma| H_z (1 - lambda alpha M^2) (for any "
              "lambda, alpha) = omega0/(1 + alpha0^2) (by (39)-(40)).", printed="prose:precession-frequency",
              conventions=_NEG,
              assumes=_STATIC_ASSUMES, erratum=PRECESSION_ERRATUM),
        step("azimuth", None, azimuth, "phi(t) = phi0 + omega0 (t - t0)/(1 + alpha0^2): the derived "
              "precession rate integrated (uniform precession, with or without (39)); the paper "
              "does not give it.", conventions=_NEG,
              assumes=_STATIC_ASSUMES),
    ),
)
