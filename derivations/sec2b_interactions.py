"""Sec. II B, interactions and damping: eqs. (17)-(30).

Two kinds of evidence, kept apart:

* the operator algebra, on a *generic* interaction: lambda H_I is a polynomial of
  degree <= 2 in M0 (all nine symmetrized monomials) with arbitrary real
  coefficient functions h_w(H_eff(t), s(t)), where s(t) stands for every other
  time dependence (the c-number M(t), which d/dH_ext holds fixed, or a clock).  Every identity
  of (21)-(30) is linear in H_I and in its coefficients, so this covers every
  interaction of that degree;
* explicit matrices (3 spins 1/2, hbar = 1, gamma = -1.3, lambda = 0.35) with a
  turning field H_eff(t), a prescribed c-number M(t), and a concrete nonlinear,
  field- and time-dependent interaction, for the interaction-picture steps
  (19), (23)-(25), (27), (28).  Propagators come from a fine ODE solve; time
  derivatives from a five-point difference (h = 1e-3).

The proof of (29)-(30) through the operator algebra does not count as a check
of (24) or (27): those have their own steps.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from symmag.algebra.fields import H_eff, M, magnetic_moment
from symmag.algebra.matrices import SpinSystem
from symmag.algebra.numeric import (
    central_difference,
    propagator,
    random_density_matrix,
    time_dependent_matrix,
)
from symmag.algebra.su2 import M0, M0_vector, Op, commutator, cross, product
from symmag.checking.assumptions import cached as cache
from symmag.checking.derivation import Derivation, Derived, Equal, Erratum, NumericEqual, Step, definition
from symmag.checking.dimensions import M_DIM, TABLE, E, H, T
from symmag.conventions import V, gamma, gamma_abs, hbar, t
from symmag.theory.dterm import d_interaction, dterm, zeeman_hamiltonian

from . import printed
from .printed import _nc_vector, lam, mat
from .sec2a_zeeman import field_numeric

DIMENSIONS = {
    **TABLE,
    "rho_int": sp.S.One, "drho_int_dt": 1 / T, "H_int": E * M_DIM, "U_t0_t": sp.S.One,
    "U_t_t0": sp.S.One, "M0_int": E / H, "MI_int": E / H, "MI": E / H, "dMI_int_dt": E / (H * T),
    "dMI_dt": E / (H * T), "DI": E / (H * T), "dM0_int_dt": E / (H * T), "dM_dt": M_DIM / T,
    "MhatI": E / H, "DhatI": E / (H * T), "Dhat": E / (H * T), "dMhatI_dt": E / (H * T),
    "I": E * T, "Z": sp.S.One, "s": sp.S.One, "f": sp.S.One,
    # generic coefficients: lambda H_I is an energy, M0 carries E/H per factor
    **{"h_" + "".join(w): H for w in ("x", "y", "z")},
    **{"h_" + a + b: H**2 / E for a, b in itertools.combinations_with_replacement("xyz", 2)},
}

# -- the generic interaction (operator-algebra steps) --------------------------------------
@cache
def generic_interaction() -> Op:
    """lambda H_I = sum_w h_w(H_eff, s) W(M0^w), w over words of degree 1 and 2."""
    args = (*H_eff, sp.Function("s", real=True)(t))
    out = Op()
    for degree in (1, 2):
        for w in itertools.combinations_with_replacement(range(3), degree):
            h = sp.Function("h_" + "".join("xyz"[a] for a in w), real=True)(*args)
            orderings = sorted(set(itertools.permutations(w)))
            out = out + h * sum((product(M0(a) for a in p) for p in orderings), Op()) / len(orderings)
    return out


@cache
def generic_dterm():
    return dterm(generic_interaction())


@cache
def generic_rate() -> tuple[Op, ...]:
    """The Heisenberg rate of M = M0 + M_I under H = H0 + lambda H_I."""
    d = generic_dterm()
    # M0 has no explicit time dependence; M_I's comes through its coefficients
    return heisenberg(zeeman_hamiltonian() + d.interaction, d.moment, d.moment_interaction_rate)


def heisenberg(hamiltonian: Op, moment, explicit_rate) -> tuple[Op, ...]:
    """(i/hbar)[H, M^a] + dM^a/dt|explicit: the rate whose average is dM/dt."""
    return tuple(sp.I / hbar * commutator(hamiltonian, m) + r for m, r in zip(moment, explicit_rate))


def eq21():
    d = generic_dterm()
    full = zeeman_hamiltonian() + d.interaction
    return Equal(magnetic_moment(full), tuple(M0(a) + d.moment_interaction[a] for a in range(3)))


def bind_moments():
    d = generic_dterm()
    return {**dict(zip(_nc_vector("Mhat"), d.moment)),
            **dict(zip(_nc_vector("MhatI"), d.moment_interaction)),
            **dict(zip(_nc_vector("DhatI"), d.d_interaction)),
            **dict(zip(_nc_vector("dMhatI_dt"), d.moment_interaction_rate)),
            sp.Symbol("H_0", commutative=False): zeeman_hamiltonian(),
            sp.Symbol("H_I", commutative=False): d.interaction / lam}


def eq24_algebra():
    h0 = zeeman_hamiltonian()
    return Equal(tuple(sp.I / hbar * commutator(h0, m) for m in M0_vector()),
                 tuple(gamma * x for x in cross(M0_vector(), H_eff)))


def eq26_precession():
    """D_I vanishes for a moment that only rescales M0: M_I = f M0 with f(H_eff, M, t)."""
    f = sp.Function("f", real=True)(*H_eff, sp.Function("s", real=True)(t))
    return Equal(d_interaction(tuple(f * m for m in M0_vector())), (0, 0, 0))


D_SYMBOLS = tuple(sp.Symbol(f"D_{ax}", real=True) for ax in "xyz")


def lift_average(expr: sp.Expr, moment, d_operator) -> Op:
    """The operator whose average is ``expr``, an affine function of M = <M-hat> and
    D = <D-hat> with c-number coefficients: <.> is linear and H_eff a c-number, so
    sum_b c_b M^b + sum_b e_b D^b + f is the average of sum_b c_b M-hat^b + e_b D-hat^b + f."""
    variables = (*M, *D_SYMBOLS)
    ops = (*moment, *d_operator)
    out = Op.scalar(expr.xreplace({v: 0 for v in variables}))
    for v, op in zip(variables, ops):
        c = sp.diff(expr, v)
        if any(sp.diff(c, w) != 0 for w in variables):
            raise ValueError(f"not affine in M and D: {expr}")
        if c == 1:  # (skip the coefficient products: D-hat is large)
            out = out + op
        elif c != 0:
            out = out + c * op
    return out


def eq29():
    """dM/dt = -|gamma| M x H_eff + D, checked by lifting the shown rhs back to operators
    (M -> M-hat, D -> D-hat, -|gamma| -> gamma) and comparing with the Heisenberg rate
    (i/hbar)[H, M-hat] + dM-hat/dt, whose average is dM/dt."""
    d = generic_dterm()
    rate = generic_rate()
    rhs = tuple((gamma * cross(M, H_eff)[a] + D_SYMBOLS[a]).subs(gamma, -gamma_abs) for a in range(3))

    def by(r: Equal) -> Equal:
        lifted = tuple(lift_average(x.subs(gamma_abs, -gamma), d.moment, d.d_operator) for x in r.rhs)
        return Equal(rate, lifted)

    return Derived(result=Equal(tuple(sp.Derivative(m, t) for m in M), rhs), by=by)


@cache
def eq30():
    """D-hat is what is left of the Heisenberg rate after the precession; the formula
    of (30) (as implemented by symmag.theory.dterm) must reproduce it."""
    d = generic_dterm()
    rate = generic_rate()
    precession = cross(d.moment, H_eff)
    remainder = tuple(rate[a] - gamma * precession[a] for a in range(3))
    return Equal(remainder, d.d_operator)


def bind_remainder():
    return {**bind_moments(), **dict(zip(_nc_vector("Dhat"), eq30().lhs))}  # eq30 reuses the cache


# -- explicit matrices (interaction-picture steps) ---------------------------------------------
HBAR_NUM, GAMMA_NUM, LAMBDA_NUM, T0, T1, H_STEP, VOL = 1.0, -1.3, 0.35, 0.0, 0.9, 1e-3, 2.0


def m_numeric(tt: float) -> np.ndarray:
    """The prescribed c-number M(t) in the numeric interaction."""
    return np.array([0.3 * np.cos(0.5 * tt), 0.2, 0.9 - 0.1 * tt])


def numeric_interaction() -> Op:
    """A concrete lambda H_I: nonlinear, explicitly time dependent, depending on H_eff and M."""
    mx, my, mz = M0_vector()
    return lam * (sp.sin(t) * mx * mx + H_eff[0] * (my * mz + mz * my) / 2
                  + sum(cross(M, H_eff)[a] * M0(a) for a in range(3)))


def _functions() -> dict:
    """Numeric callables for H_eff(t), M(t) and their time derivatives."""
    out = {}
    for a in range(3):
        out[H_eff[a]] = lambda tt, a=a: field_numeric(tt)[a]
        out[M[a]] = lambda tt, a=a: m_numeric(tt)[a]
        out[sp.Derivative(H_eff[a], t)] = lambda tt, a=a: central_difference(
            lambda s: field_numeric(s)[a], tt, 1e-4)
        out[sp.Derivative(M[a], t)] = lambda tt, a=a: central_difference(
            lambda s: m_numeric(s)[a], tt, 1e-4)
    return out


@cache
def numeric_model():
    system = SpinSystem(3, "1/2", hbar=HBAR_NUM, gamma=GAMMA_NUM)
    d = dterm(numeric_interaction())
    consts = {lam: LAMBDA_NUM}
    fns = _functions()

    def mat_of(op):
        return time_dependent_matrix(op, system, fns, consts)

    h0 = mat_of(zeeman_hamiltonian())
    hi = mat_of(d.interaction)
    mi = [mat_of(x) for x in d.moment_interaction]
    dmi = [mat_of(x.diff(t)) for x in d.moment_interaction]
    di = [mat_of(x) for x in d.d_interaction]
    dop = [mat_of(x) for x in d.d_operator]
    m0 = [system.collective(a) for a in range(3)]
    rho_start = random_density_matrix(system.dim, np.random.default_rng(19))

    @cache
    def u0(tt):
        return propagator(h0, T0, tt, HBAR_NUM)

    @cache
    def u_full(tt):
        return propagator(lambda s: h0(s) + hi(s), T0, tt, HBAR_NUM)

    def rho(tt):
        u = u_full(tt)
        return u @ rho_start @ u.conj().T

    def to_int(x, tt):
        u = u0(tt)
        return u.conj().T @ x @ u

    return dict(system=system, h0=h0, hi=hi, mi=mi, dmi=dmi, di=di, dop=dop, m0=m0,
                u0=u0, rho=rho, to_int=to_int)


SETUP = ("3 spins 1/2, hbar = 1, gamma = -1.3, lambda = 0.35, t0 = 0, t = 0.9, turning H_eff(t), "
         "prescribed M(t), five-point difference h = 1e-3")


def _values(extra: dict) -> dict:
    n = numeric_model()
    u = n["u0"](T1)
    base = {hbar: HBAR_NUM, gamma: GAMMA_NUM, lam: LAMBDA_NUM, V: VOL,
            mat("U_t0_t"): u.conj().T, mat("U_t_t0"): u}
    base.update({H_eff[a]: field_numeric(T1)[a] for a in range(3)})
    base.update(extra)
    return base


def eq19():
    n = numeric_model()
    rho_int = lambda tt: n["to_int"](n["rho"](tt), tt)  # noqa: E731
    lhs = 1j * HBAR_NUM * central_difference(rho_int, T1, H_STEP)
    h_int = n["to_int"](n["hi"](T1), T1)
    r = rho_int(T1)
    rhs = h_int @ r - r @ h_int
    values = _values({mat("drho_int_dt"): lhs / (1j * HBAR_NUM), mat("H_int"): h_int / LAMBDA_NUM,
                      mat("rho_int"): r})
    return NumericEqual(lhs, rhs, 1e-7, SETUP, values)


def eq23():
    n = numeric_model()
    rho, r_int = n["rho"](T1), n["to_int"](n["rho"](T1), T1)
    lhs = [np.trace(rho @ (n["m0"][a] + n["mi"][a](T1))) / VOL for a in range(3)]
    m0_int = [n["to_int"](n["m0"][a], T1) for a in range(3)]
    mi_int = [n["to_int"](n["mi"][a](T1), T1) for a in range(3)]
    rhs = [np.trace(r_int @ (m0_int[a] + mi_int[a])) / VOL for a in range(3)]
    values = _values({mat("rho_int"): r_int,
                      **{mat(f"M0_int_{ax}"): m0_int[a] for a, ax in enumerate("xyz")},
                      **{mat(f"MI_int_{ax}"): mi_int[a] for a, ax in enumerate("xyz")},
                      **{sp.Symbol(f"M_{ax}"): lhs[a] for a, ax in enumerate("xyz")}})
    return NumericEqual(lhs, rhs, 1e-10, SETUP, values)


def _picture_rate(op_of_t) -> np.ndarray:
    n = numeric_model()
    return central_difference(lambda tt: n["to_int"](op_of_t(tt), tt), T1, H_STEP)


def eq24_picture():
    n = numeric_model()
    lhs, rhs = [], []
    h0 = n["h0"](T1)
    for a in range(3):
        m = n["m0"][a]
        lhs.append(_picture_rate(lambda tt, m=m: m))
        rhs.append(1j / HBAR_NUM * n["to_int"](h0 @ m - m @ h0, T1))
    return NumericEqual(np.array(lhs), np.array(rhs), 1e-7, SETUP)


def _mi_int_rates() -> list[np.ndarray]:
    n = numeric_model()
    return [_picture_rate(n["mi"][a]) for a in range(3)]


def eq25():
    n = numeric_model()
    h0 = n["h0"](T1)
    lhs = _mi_int_rates()
    rhs = []
    for a in range(3):
        mi = n["mi"][a](T1)
        rhs.append(1j / HBAR_NUM * n["to_int"](h0 @ mi - mi @ h0, T1)
                   + n["to_int"](n["dmi"][a](T1), T1))
    values = _values({**{mat(f"dMI_int_dt_{ax}"): lhs[a] for a, ax in enumerate("xyz")},
                      mat("H_0"): h0,
                      **{mat(f"MI_{ax}"): n["mi"][a](T1) for a, ax in enumerate("xyz")},
                      **{mat(f"dMI_dt_{ax}"): n["dmi"][a](T1) for a, ax in enumerate("xyz")}})
    return NumericEqual(np.array(lhs), np.array(rhs), 1e-7, SETUP, values)


def eq27():
    n = numeric_model()
    lhs = _mi_int_rates()
    mi_int = [n["to_int"](n["mi"][a](T1), T1) for a in range(3)]
    h = field_numeric(T1)
    prec = [mi_int[(a + 1) % 3] * h[(a + 2) % 3] - mi_int[(a + 2) % 3] * h[(a + 1) % 3]
            for a in range(3)]
    rhs = [GAMMA_NUM * prec[a] + n["to_int"](n["dmi"][a](T1) + n["di"][a](T1), T1) for a in range(3)]
    values = _values({**{mat(f"dMI_int_dt_{ax}"): lhs[a] for a, ax in enumerate("xyz")},
                      **{mat(f"MI_int_{ax}"): mi_int[a] for a, ax in enumerate("xyz")},
                      **{mat(f"dMI_dt_{ax}"): n["dmi"][a](T1) for a, ax in enumerate("xyz")},
                      **{mat(f"DI_{ax}"): n["di"][a](T1) for a, ax in enumerate("xyz")}})
    return NumericEqual(np.array(lhs), np.array(rhs), 1e-7, SETUP, values)


def _magnetization(tt: float) -> np.ndarray:
    n = numeric_model()
    rho = n["rho"](tt)
    return np.array([np.trace(rho @ (n["m0"][a] + n["mi"][a](tt))) / VOL for a in range(3)])


def eq28():
    n = numeric_model()
    lhs = central_difference(_magnetization, T1, H_STEP)
    r_int = n["to_int"](n["rho"](T1), T1)
    h_int = n["to_int"](n["hi"](T1), T1)
    m0_int = [n["to_int"](n["m0"][a], T1) for a in range(3)]
    mi_int = [n["to_int"](n["mi"][a](T1), T1) for a in range(3)]
    dm0 = [_picture_rate(lambda tt, a=a: n["m0"][a]) for a in range(3)]
    dmi = _mi_int_rates()
    rhs = []
    for a in range(3):
        m_int = m0_int[a] + mi_int[a]
        rate = dm0[a] + dmi[a] + (m_int @ h_int - h_int @ m_int) / (1j * HBAR_NUM)
        rhs.append(np.trace(r_int @ rate) / VOL)
    values = _values({mat("rho_int"): r_int, mat("H_int"): h_int / LAMBDA_NUM,
                      **{sp.Symbol(f"dM_dt_{ax}"): lhs[a] for a, ax in enumerate("xyz")},
                      **{mat(f"M0_int_{ax}"): m0_int[a] for a, ax in enumerate("xyz")},
                      **{mat(f"MI_int_{ax}"): mi_int[a] for a, ax in enumerate("xyz")},
                      **{mat(f"dM0_int_dt_{ax}"): dm0[a] for a, ax in enumerate("xyz")},
                      **{mat(f"dMI_int_dt_{ax}"): dmi[a] for a, ax in enumerate("xyz")}})
    return NumericEqual(lhs, np.array(rhs), 1e-7, SETUP, values)


def eq29_numeric():
    """End to end on matrices: dM/dt = gamma M x H_eff + <D-hat> with D-hat from symmag.theory.dterm."""
    n = numeric_model()
    lhs = central_difference(_magnetization, T1, H_STEP)
    m = _magnetization(T1)
    rho = n["rho"](T1)
    dvec = np.array([np.trace(rho @ n["dop"][a](T1)) / VOL for a in range(3)])
    rhs = GAMMA_NUM * np.cross(m, field_numeric(T1)) + dvec
    return NumericEqual(lhs, rhs, 1e-7, SETUP + ", gamma < 0 so gamma = -|gamma|")



_PICTURE = "U(t,t0) is the Schrodinger propagator of H0 and U(t0,t) its inverse (the reading of (13))."

DERIVATION = Derivation(
    name="sec2b_interactions",
    cost=3.1,  # seconds in one process, 2026-11-24: a scheduling hint
    title="Interactions and damping: the general D-term",
    section="II B",
    printed_table=printed.table,
    dimensions=DIMENSIONS,
    steps=(
        definition("full-density", "17", "rho = exp(-beta I)/Z with I the invariant of H."),
        definition("interaction-picture-density", "18", "rho_int = U(t0,t) rho U(t,t0).",
                    assumptions=(_PICTURE,)),
        Step(id="interaction-picture-lvn", equation="19", printed="19", claim=eq19,
             statement="i hbar d rho_int/dt = lambda [H_int, rho_int] on explicit matrices.",
             assumptions=(_PICTURE,)),
        definition("interaction-hamiltonian", "20", "H_int = U(t0,t) H_I U(t,t0)."),
        Step(id="moment-split", equation="21", printed="21", claim=eq21, bind=bind_moments,
             statement="-dH/dH_ext = M0 + M_I for the generic interaction: the derivative of (2) "
             "splits into (6) and (22).", conventions=("field-derivative",)),
        definition("interaction-moment", "22", "M_I = -lambda dH_I/dH_ext.",
                    conventions=("field-derivative",)),
        Step(id="magnetization-interaction-picture", equation="23", printed="23", claim=eq23,
             statement="Tr{rho M}/V = Tr{rho_int (M0,int + M_I,int)}/V.", assumptions=(_PICTURE,)),
        Step(id="zeeman-moment-precession", equation="24", printed="24", claim=eq24_algebra,
             bind=bind_moments,
             statement="(i/hbar)[H0, M0] = gamma M0 x H_eff in canonical form.",
             conventions=("gamma-sign-open", "summation-convention")),
        Step(id="zeeman-moment-picture", equation="24", claim=eq24_picture,
             statement="dM0,int/dt = (i/hbar) U(t0,t)[H0, M0]U(t,t0) on explicit matrices.",
             assumptions=(_PICTURE,)),
        Step(id="interaction-moment-picture", equation="25", printed="25", claim=eq25,
             statement="dM_I,int/dt = (i/hbar)U[H0, M_I]U^-1 + U (dM_I/dt) U^-1 with explicit "
             "time dependence of M_I.", assumptions=(_PICTURE,)),
        definition("deviation-definition", "26", "D_I = (i/hbar)[H0, M_I] - gamma M_I x H_eff.",
                    bind=bind_moments),
        Step(id="deviation-vanishes-for-precession", equation="26", claim=eq26_precession,
             statement="D_I = 0 whenever M_I = f M0 only rescales M0 (f any c-number function of "
             "H_eff, M, t): D_I measures the deviation from pure precession.",
             conventions=("gamma-sign-open",)),
        Step(id="interaction-moment-deviation", equation="27", printed="27", claim=eq27,
             statement="dM_I,int/dt = gamma M_I,int x H_eff + U(dM_I/dt + D_I)U^-1 on explicit "
             "matrices, D_I from symmag.theory.dterm.", assumptions=(_PICTURE,)),
        Step(id="magnetization-rate-picture", equation="28", printed="28", claim=eq28,
             statement="dM/dt = (1/V)Tr{rho_int (dM_int/dt + (lambda/(i hbar))[M_int, H_int])}.",
             assumptions=(_PICTURE,),
             erratum=Erratum(
                 "As printed, (28) leaves the commutator term outside rho_int, where its trace "
                 "vanishes identically; the derivation (trace cyclicity after (19)) puts rho_int in "
                 "front of both terms, and only then does (28) lead to the lambda <[M, H_I]> part of "
                 "(30).",
                 # max |printed - derived|/scale of the rhs on SETUP (the lhs agree): the size of
                 # the dropped lambda <[M_int, H_int]>/(i hbar) term relative to dM/dt
                 gap=0.4205)),
        Step(id="magnetization-equation", equation="29", printed="29", claim=eq29,
             statement="(i/hbar)[H, M] + dM/dt = gamma M x H_eff + D-hat canonically for the generic "
             "interaction; averaging (linear, H_eff a c-number) gives dM/dt = gamma M x H_eff + D, "
             "the printed form for gamma = -|gamma|.",
             conventions=("gamma-negative", "average-per-volume", "field-derivative")),
        Step(id="magnetization-equation-matrices", equation="29", claim=eq29_numeric,
             statement="dM/dt from the exact evolution equals gamma M x H_eff + <D-hat> on explicit "
             "matrices (D-hat from symmag.theory.dterm).", conventions=("gamma-negative",)),
        Step(id="d-term", equation="30", printed="30", claim=eq30, bind=bind_remainder,
             statement="The Heisenberg rate minus the precession gamma M x H_eff equals "
             "lambda (1/(i hbar))[M, H_I] + dM_I/dt + D_I canonically for the generic interaction.",
             conventions=("gamma-sign-open", "field-derivative")),
    ),
)
