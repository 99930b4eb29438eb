"""Sec. II A, Zeeman precession: eqs. (1)-(16).

Conventions: gamma's sign is left open unless a step says otherwise; (16) is
the one result that needs gamma = -|gamma|, and a separate step shows that
the printed form holds for that sign only.  hbar is symbolic; the moment
operator is -dH/dH_ext at fixed c-number M.  Numeric steps use hbar = 1,
gamma = -1.3 and a field H_eff(t) that changes direction, so the Zeeman
Hamiltonians at different times do not commute.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symmag.algebra.fields import H_eff, magnetic_moment
from symmag.algebra.matrices import SpinSystem
from symmag.algebra.numeric import central_difference, expm_hermitian, ordered_exponential, propagator
from symmag.algebra.su2 import M0, M0_vector, Op, S, commutator, cross, dot, levi_civita, site_sum
from symmag.checking.assumptions import cached as cache
from symmag.checking.derivation import Derivation, Derived, Equal, Erratum, NumericEqual, Step, definition
from symmag.checking.dimensions import TABLE, E, T
from symmag.conventions import V, gamma, gamma_abs, hbar, t

from . import printed
from .printed import R0, mat

DIMENSIONS = {
    **TABLE,
    "drho_dt": 1 / T, "rho": sp.S.One, "drho_0_dt": 1 / T, "dI0_dt": E, "I0_t": E * T,
    "I0_t0": E * T, "U_t_t0": sp.S.One, "U_t0_t": sp.S.One, "Texp_plus": sp.S.One,
    "M_0": TABLE["M"], "Ssum": E * T,
}

# numeric set-up shared by the numeric steps (see module docstring)
HBAR_NUM, GAMMA_NUM, T0, T1 = 1.0, -1.3, 0.0, 0.9


def field_numeric(tt: float) -> np.ndarray:
    """H_eff(t) for the numeric checks: it turns and grows, so H0(t) H0(t') != H0(t') H0(t)."""
    return np.array([0.8 * np.cos(1.1 * tt), 0.5 * np.sin(0.7 * tt) + 0.2, 1.0 + 0.3 * tt])


# -- symbolic results, computed once and reused by several steps -------------------------
@cache
def zeeman_hamiltonian() -> Op:
    """H0 = -gamma sum_i S_i . H_eff(t)  (3), over symbolic N."""
    return -gamma * site_sum(lambda i: dot([S(i, a) for a in range(3)], H_eff))


@cache
def moment_from_hamiltonian() -> tuple[Op, Op, Op]:
    """-dH0/dH_ext, the package's own functional derivative (4) applied to (3)."""
    return magnetic_moment(zeeman_hamiltonian())


def lvn_derivative(x: Op, h0: Op) -> Op:
    """dX/dt = dX/dt|explicit + (1/(i hbar))[X, H0], the left side of (10)."""
    return x.diff(t) + commutator(x, h0) / (sp.I * hbar)


@cache
def invariant() -> Op:
    """I0 = sum_i S_i . R0(t)  (14)."""
    return site_sum(lambda i: dot([S(i, a) for a in range(3)], R0))


@cache
def invariant_condition() -> Op:
    """The left side of (10) for the ansatz (14), in canonical form."""
    return lvn_derivative(invariant(), zeeman_hamiltonian())


def r0_derivatives() -> list[sp.Expr]:
    return [sp.Derivative(r, t) for r in R0]


@cache
def r0_equation_solved() -> dict:
    """Solve 'invariant_condition() = 0' for dR0/dt: the three Sigma_i S_i^a are
    distinct canonical monomials, so every coefficient must vanish."""
    coeffs = [invariant_condition().terms[("S", (), ((a,),))] for a in range(3)]
    sol = sp.solve(coeffs, r0_derivatives(), dict=True)
    if len(sol) != 1:
        raise ValueError(f"expected one solution for dR0/dt, got {sol}")
    return sol[0]


# -- claims -----------------------------------------------------------------------
def eq6():
    return Equal(moment_from_hamiltonian(), tuple(gamma * site_sum(lambda i, a=a: S(i, a))
                                                  for a in range(3)))


def eq8():
    m = moment_from_hamiltonian()  # per-site form over symbolic N
    lhs = tuple(tuple(commutator(m[a], m[b]) for b in range(3)) for a in range(3))
    rhs = tuple(
        tuple(sum(sp.I * hbar * gamma * levi_civita(a, b, c) * M0(c) for c in range(3))
              for b in range(3))
        for a in range(3)
    )
    return Equal(lhs, rhs)


def eq7():
    system = SpinSystem(3, 1, hbar=HBAR_NUM, gamma=GAMMA_NUM)
    rng = np.random.default_rng(7)
    a = rng.normal(size=(system.dim,) * 2) + 1j * rng.normal(size=(system.dim,) * 2)
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    vol = 2.5
    lhs = [np.trace(rho @ system.collective(c)) / vol for c in range(3)]
    rhs = [GAMMA_NUM / vol * sum(np.trace(rho @ system.site(i, c)) for i in range(3))
           for c in range(3)]
    values = {gamma: GAMMA_NUM, V: vol, mat("rho_0"): rho,
              **{sp.Symbol(f"M_0_{ax}"): lhs[c] for c, ax in enumerate("xyz")},
              **{mat(f"Ssum_{ax}"): sum(system.site(i, c) for i in range(3)) for c, ax in enumerate("xyz")}}
    return NumericEqual(lhs, rhs, 1e-12, "3 sites of spin 1, random density matrix, V = 2.5", values)


def eq11_powers():
    """d(I0^k)/dt = 0 for k <= 4 once R0 obeys (15): checked in the collective
    form I0 = M0.R0/gamma, H0 = -M0.H_eff (equal to (14) and (3) by (6))."""
    i0 = dot(M0_vector(), R0) / gamma
    h0 = -dot(M0_vector(), H_eff)
    sol = r0_equation_solved()
    lhs = tuple(lvn_derivative(i0**k, h0).xreplace(sol) for k in range(1, 5))
    return Equal(lhs, (0, 0, 0, 0))


def _precess_r0(r_init: np.ndarray) -> callable:
    """R0(t) from (15), dR0/dt = gamma R0 x H_eff, dense output."""
    from scipy.integrate import solve_ivp  # here: importing SciPy costs every check ~0.4 s

    sol = solve_ivp(lambda tt, r: GAMMA_NUM * np.cross(r, field_numeric(tt)), (T0 - 0.1, T1 + 0.1),
                    r_init, method="DOP853", rtol=1e-13, atol=1e-14, dense_output=True)
    return sol.sol


def _zeeman_matrix(system: SpinSystem, tt: float) -> np.ndarray:
    h = field_numeric(tt)
    return -sum(system.collective(a) * h[a] for a in range(3))


def _invariant_matrix(system: SpinSystem, r: np.ndarray) -> np.ndarray:
    return sum(system.collective(a) * r[a] for a in range(3)) / system.gamma


def eq11_numeric():
    """rho0 = exp(-beta I0)/Z0 solves (9): i hbar drho0/dt = [H0, rho0]."""
    lhs, rhs = [], []
    for n_sites, spin in ((3, "1/2"), (2, 1), (4, "1/2")):
        system = SpinSystem(n_sites, spin, hbar=HBAR_NUM, gamma=GAMMA_NUM)
        r0 = _precess_r0(np.array([0.3, -0.4, 0.9]))

        def rho0(tt, system=system, r0=r0):
            x = expm_hermitian(_invariant_matrix(system, r0(tt)), -0.7)
            return x / np.trace(x)

        lhs.append(1j * HBAR_NUM * central_difference(rho0, T1, 1e-3))
        h = _zeeman_matrix(system, T1)
        rhs.append(h @ rho0(T1) - rho0(T1) @ h)
    return NumericEqual(np.concatenate([x.ravel() for x in lhs]),
                        np.concatenate([x.ravel() for x in rhs]), 1e-8,
                        "N = 3 and 4 sites of spin 1/2, N = 2 of spin 1, beta = 0.7, t = 0.9, "
                        "five-point difference h = 1e-3")


@cache
def _propagation():
    system = SpinSystem(2, "1/2", hbar=HBAR_NUM, gamma=GAMMA_NUM)
    u = propagator(lambda tt: _zeeman_matrix(system, tt), T0, T1, HBAR_NUM)
    return system, u


def eq12():
    system, u = _propagation()
    r0 = _precess_r0(np.array([0.3, -0.4, 0.9]))
    i_t, i_t0 = _invariant_matrix(system, r0(T1)), _invariant_matrix(system, r0(T0))
    rhs = u @ i_t0 @ np.linalg.inv(u)
    values = {mat("I0_t"): i_t, mat("U_t_t0"): u, mat("I0_t0"): i_t0, mat("U_t0_t"): u.conj().T}
    return NumericEqual(i_t, rhs, 1e-9, "2 spins 1/2, t0 = 0, t = 0.9, propagator by DOP853",
                        values=values)


def eq13():
    system, u = _propagation()
    h = lambda tt: _zeeman_matrix(system, tt)  # noqa: E731
    anti = ordered_exponential(h, T0, T1, +1, later_left=False, hbar=HBAR_NUM)
    literal = ordered_exponential(h, T0, T1, +1, later_left=True, hbar=HBAR_NUM)
    values = {mat("U_t0_t"): u.conj().T, mat("Texp_plus"): literal}
    return NumericEqual(anti, np.linalg.inv(u), 1e-6,
                        "2 spins 1/2, t0 = 0, t = 0.9, midpoint product of 4000 factors", values=values)


def eq15():
    """(10) for the ansatz (14): the condition dI0/dt = 0 shown in canonical form; its check
    is that its left side is sum_i S_i . (dR0/dt - gamma R0 x H_eff) and its right side the 0
    of (10)."""
    v = [sp.Derivative(R0[a], t) - gamma * cross(R0, H_eff)[a] for a in range(3)]
    closed_form = site_sum(lambda i: dot([S(i, a) for a in range(3)], v))
    return Derived(result=Equal(invariant_condition(), 0),
                   by=lambda r: Equal((r.lhs, r.rhs), (closed_form, 0)))


def eq16():
    """The solution of (15) for dR0/dt, with gamma = -|gamma|; checked by substituting it back
    into the invariant condition (10), which must vanish canonically."""
    sol = r0_equation_solved()
    sign = {gamma: -gamma_abs}
    rhs = tuple(sp.factor(sol[d].subs(sign)) for d in r0_derivatives())
    condition = invariant_condition().subs(sign)
    return Derived(result=Equal(tuple(r0_derivatives()), rhs),
                   by=lambda r: Equal(condition.subs(dict(zip(r.lhs, r.rhs))), 0))


def eq16_sign():
    """The form -|gamma| R0 x H_eff against the sign-free solution of (15): for which
    gamma do they agree?"""
    sol = r0_equation_solved()
    residual = sp.expand(sol[r0_derivatives()[0]] + gamma_abs * cross(R0, H_eff)[0])
    return Equal(tuple(sp.solve(residual, gamma)), (-gamma_abs,))


def eq16_from_average():
    """The alternative route below (16): d<M0>/dt = <(i/hbar)[H0, M0]> = gamma <M0> x H_eff."""
    h0 = -dot(M0_vector(), H_eff)
    lhs = tuple(sp.I / hbar * commutator(h0, m) for m in M0_vector())
    return Equal(lhs, tuple(gamma * x for x in cross(M0_vector(), H_eff)))



DERIVATION = Derivation(
    name="sec2a_zeeman",
    cost=1.2,  # seconds in one process, 2026-11-24: a scheduling hint
    title="Zeeman precession and the Lewis-Riesenfeld invariant",
    section="II A",
    printed_table=printed.table,
    dimensions=DIMENSIONS,
    steps=(
        definition("lvn-equation", "1", "Liouville-von Neumann equation, the starting point."),
        definition("hamiltonian-split", "2", "H = H0 + lambda H_I."),
        Step(
            id="zeeman-hamiltonian", equation="3", printed="3", kind="definition",
            claim=lambda: Equal(sp.Symbol("H_0"), zeeman_hamiltonian()),
            statement="Zeeman Hamiltonian of N spins in the effective field H_eff(t).",
            conventions=("gamma-sign-open", "distinct-site-symbols"),
        ),
        definition("moment-operator-definition", "4", "M = -dH/dH_ext, the response to the field.",
                    conventions=("field-derivative",)),
        definition("magnetization-definition", "5", "M = <M> = Tr{rho M}/V.",
                    conventions=("average-per-volume",)),
        Step(
            id="moment-operator", equation="6", printed="6", claim=eq6,
            statement="M0 = -dH0/dH_ext = gamma sum_i S_i, from the functional derivative of (3).",
            conventions=("field-derivative", "gamma-sign-open"),
        ),
        Step(
            id="zeeman-magnetization", equation="7", printed="7", claim=eq7,
            statement="M0 = <M0>_0 = (gamma/V) sum_i Tr{rho0 S_i}: (5) applied to (6), by "
            "linearity of the trace; evaluated on explicit matrices.",
            conventions=("average-per-volume",),
        ),
        Step(
            id="moment-algebra", equation="8", printed="8", claim=eq8,
            statement="[M0^a, M0^b] = i hbar gamma eps^{abc} M0^c from the per-site algebra "
            "[S_i^a, S_j^b] = i hbar delta_ij eps^{abc} S_i^c, over symbolic N.",
            conventions=("gamma-sign-open", "hbar-symbolic", "summation-convention"),
        ),
        definition("zeeman-lvn", "9", "LvN equation for rho0 with H0."),
        definition("invariant-definition", "10", "I0 is a dynamical invariant: dI0/dt = 0."),
        definition("invariant-density", "11", "rho0 = exp(-beta I0)/Z0."),
        Step(
            id="invariant-powers", equation="11", claim=eq11_powers,
            statement="d(I0^k)/dt = 0 for k = 1..4 in canonical form, once R0 obeys (15): every "
            "power of the invariant is invariant, the algebraic core of (11).",
            conventions=("gamma-sign-open",),
        ),
        Step(
            id="invariant-density-solves-lvn", equation="11", claim=eq11_numeric,
            statement="rho0 = exp(-beta I0)/Z0 satisfies (9) with a time-dependent H_eff(t) "
            "(matrix exponential; the full exponential series is not symbolic).",
        ),
        Step(
            id="invariant-propagation", equation="12", printed="12", claim=eq12,
            statement="I0(t) = U(t,t0) I0(t0) U(t0,t) with U from a fine ODE solve.",
        ),
        Step(
            id="propagator-ordering", equation="13", printed="13", claim=eq13,
            statement="U(t0,t) = U(t,t0)^{-1} is the anti-time-ordered exp{(i/hbar) int H0}.",
            erratum=Erratum(
                "(13) writes U(t0,t) = T exp{(i/hbar) int_t0^t H0} with T the time ordering; the "
                "inverse of the propagator U(t,t0) = T exp{-(i/hbar) int H0}, which (12) and "
                "(18)-(19) need, is the anti-time-ordered exponential; the two differ when H0(t) at "
                "different times do not commute (a field that turns).",
                # max |printed - derived|/scale of the rhs on eq13's set-up (2 spins 1/2, the
                # turning field, t = 0.9); the lhs agree (U(t0,t) = U(t,t0)^dagger)
                gap=0.0759),
        ),
        definition("invariant-ansatz", "14", "I0 = sum_i S_i . R0(t), linear like H0."),
        Step(
            id="invariant-condition", equation="15", printed="15", claim=eq15,
            statement="(10) for the ansatz (14) is sum_i S_i . (dR0/dt - gamma R0 x H_eff) = 0; the "
            "three sum_i S_i^a are distinct canonical monomials, so I0 is invariant exactly when "
            "dR0/dt = gamma R0 x H_eff.",
            conventions=("gamma-sign-open", "distinct-site-symbols"),
        ),
        Step(
            id="precession-equation", equation="16", printed="16", claim=eq16,
            statement="dR0/dt = -|gamma| R0 x H_eff solves (15) for gamma = -|gamma| "
            "(substituted back: the invariant condition vanishes canonically).",
            conventions=("gamma-negative",),
        ),
        Step(
            id="precession-sign", equation="16", claim=eq16_sign,
            statement="The printed (16) agrees with the sign-free solution dR0/dt = gamma R0 x H_eff "
            "of (15) only for gamma = -|gamma|; for gamma > 0 the precession sense reverses.",
            conventions=("gamma-sign-open",),
        ),
        Step(
            id="precession-from-average", equation="16", claim=eq16_from_average,
            statement="Alternative route below (16): (i/hbar)[H0, M0] = gamma M0 x H_eff, so "
            "dM0/dt = gamma M0 x H_eff = (16) with R0 = M0 (for gamma = -|gamma|).",
            conventions=("gamma-sign-open",),
        ),
    ),
)
