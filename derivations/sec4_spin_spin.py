"""Sec. IV, spin-spin interactions: eqs. (62)-(71).

The lowest order (72)-(76) is taken in the static field H_eff = H_z z with the paper's
initial correlations; the sign of gamma is stated per step, and (72) is checked against
the density operator (11) of Sec. II.  (Closures beyond the paper are not written yet.)

Conventions: gamma's sign open; lambda is the coupling of (63), a new parameter
whose dimension (63) fixes as 1/(E T^2 [M]^2); G^{ab} = <[M0^a, M0^b]_+> is
symmag's correlation symbol (symmag.expectation).  The self-interaction terms
i = j are kept explicit; spin-length identities are used only in steps that
declare a Representation.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from symmag.algebra import M0, M0_vector, S, anticommutator, cross, dot, site_sum
from symmag.conventions import gamma, hbar
from symmag.derivation import Derivation, Derived, Equal, definition, step
from symmag.dimensions import L3, M_DIM, TABLE, E, H, T
from symmag.dterm import dterm
from symmag.expectation import correlation_symbol
from symmag.fields import M
from symmag.representation import Representation, represent

from . import printed
from .printed import J_ex, lam

_LAMBDA_IV = 1 / (E * T**2 * M_DIM**2)  # from (63): J^{ab} S S is an energy, J = lambda M M
DIMENSIONS = {**TABLE, "lambda": _LAMBDA_IV, "H_I": E / _LAMBDA_IV, "J": 1 / (E * T**2),
              "Omega": (E / H) ** 2 / L3 * M_DIM,  # Omega^a = G^{ab} M^b
              **{f"dG_{a}{b}": (E / H) ** 2 / L3 / T for a in "xyz" for b in "xyz"},
              **{f"Gp_{a}{b}{c}": (E / H) ** 3 / L3 for a in "xyz" for b in "xyz" for c in "xyz"},
              # (72): I = sum_{i != j} <S_i S_j>_0, an average per volume of two spins
              "I": (E * T) ** 2 / L3, **{f"C_{a}{b}": (E * T) ** 2 / L3 for a in "xyz" for b in "xyz"},
              "omegabar0": 1 / T, "rho_lambda": sp.S.One, "rho_0": sp.S.One,
              "Integral_of_commutator": E * T / _LAMBDA_IV,  # int dtau [H_lambda, rho]: H_lambda = H_I
              "G0^{ab}": (E / H) ** 2 / L3,
              "<[M0^a, M0^b]_+>_0": (E / H) ** 2 / L3}

SPIN_HALF = Representation(sp.Rational(1, 2))
SPIN_ONE = Representation(1)


def pair_sum(f) -> object:
    """sum_{i,j} f(i, j) over all sites, i = j included."""
    return site_sum(lambda i: site_sum(lambda j: f(i, j)))


def exchange_sites():
    return -2 * J_ex * pair_sum(lambda i, j: dot([S(i, a) for a in range(3)], [S(j, a) for a in range(3)]))


def eq62():
    return Equal(exchange_sites(), -2 * J_ex / gamma**2 * dot(M0_vector(), M0_vector()))


def exchange_d():
    """D = 0 for the standard ansatz: the field-independent -2J M0^2/gamma^2 commutes with M0."""
    d = dterm(-2 * J_ex / gamma**2 * dot(M0_vector(), M0_vector()))
    return Equal(d.d, (0, 0, 0))


def coupling(a: int, b: int) -> sp.Expr:
    """J^{ab} = lambda M^a M^b  (63)."""
    return lam * M[a] * M[b]


@cache
def interaction_sites():
    return pair_sum(lambda i, j: sum(coupling(a, b) * S(i, a) * S(j, b)
                                     for a in range(3) for b in range(3)))


@cache
def interaction_collective():
    return sum(coupling(a, b) * M0(a) * M0(b) for a in range(3) for b in range(3)) / gamma**2


def coupling_symmetric():
    return Equal(tuple(coupling(a, b) - coupling(b, a) for a in range(3) for b in range(3)), (0,) * 9)


def collective_form():
    """(63) over all sites is J^{ab} M0^a M0^b/gamma^2 (by (6)), so the expectation map applies."""
    return Equal(interaction_sites(), interaction_collective())


def no_moment():
    return Equal(dterm(interaction_sites()).moment_interaction, (0, 0, 0))


@cache
def spin_spin_d():
    return dterm(interaction_collective()).d


def omega() -> tuple:
    """Omega^a = G^{ab} M^b  (65)."""
    return tuple(sum(correlation_symbol((a, b)) * M[b] for b in range(3)) for a in range(3))


def eq64():
    dsym = tuple(sp.Symbol(f"D_{ax}", real=True) for ax in "xyz")
    closed = tuple(lam / gamma * cross(M, omega())[a] for a in range(3))
    return Derived(result=Equal(dsym, closed), by=Equal(spin_spin_d(), closed))


def bind64():
    return {**{sp.Symbol(f"D_{ax}", real=True): x for ax, x in zip("xyz", spin_spin_d())},
            **{sp.Symbol(f"Omega_{ax}", real=True): x for ax, x in zip("xyz", omega())}}


def self_term(a: int, b: int):
    return gamma**2 * site_sum(lambda i: anticommutator(S(i, a), S(i, b)))


def distinct_pairs(a: int, b: int):
    return 2 * gamma**2 * site_sum(lambda i: site_sum(lambda j: S(i, a) * S(j, b), exclude=(i,)))


def eq67():
    """[M0^a, M0^b]_+ = 2 gamma^2 sum_{i != j} S_i^a S_j^b + gamma^2 sum_i [S_i^a, S_i^b]_+."""
    lhs = tuple(tuple(anticommutator(M0(a), M0(b)) for b in range(3)) for a in range(3))
    rhs = tuple(tuple(distinct_pairs(a, b) + self_term(a, b) for b in range(3)) for a in range(3))
    return Equal(lhs, rhs)


def self_term_spin_half():
    """For s = 1/2 the self term is the c-number gamma^2 N hbar^2/2 delta^{ab}."""
    from symmag.conventions import N

    return Equal(tuple(self_term(a, b) for a in range(3) for b in range(3)),
                 tuple(gamma**2 * N * hbar**2 / 2 * (1 if a == b else 0)
                       for a in range(3) for b in range(3)))


def self_term_drops_out_of_d():
    """A term c delta^{ab} in G adds c M to Omega, hence (lambda/gamma) c M x M = 0 to D."""
    c = sp.Symbol("c")
    extra = tuple(c * M[a] for a in range(3))
    return Equal(tuple(lam / gamma * cross(M, extra)[a] for a in range(3)), (0, 0, 0))


def self_term_spin_one():
    """For s = 1 the off-diagonal self term sum_i [S_i^x, S_i^y]_+ stays an operator of degree 2
    (a quadrupole): it does not reduce to a c-number and enters Omega, hence D."""
    return Equal(represent(self_term(0, 1), SPIN_ONE).degree(), 2)



def paper_nested(a: int, b: int, c: int):
    """The paper's G^{abc} of (71) in symmag's correlation symbols."""
    from symmag.expectation import paper_G3

    return paper_G3(a, b, c)


def rate_69():
    """dG^{ab}/dt generated by symmag.hierarchy for H = lambda H_I, checked against a second
    route: by the Leibniz rule and the symmetry of J, (i/hbar)[J^{cd} M0^c M0^d/gamma^2,
    [M0^a, M0^b]_+] = -(J^{cd}/gamma)(eps^{dae}[M0^c, [M0^e, M0^b]_+]_+ + eps^{dbe}[M0^c,
    [M0^a, M0^e]_+]_+), averaged by the expectation map.  The printed (69) is then compared
    with the paper's nested anticommutators (71) bound to the same symbols."""
    from symmag.algebra import levi_civita
    from symmag.expectation import expectation
    from symmag.hierarchy import correlation_rate

    def leibniz(a, b):
        ops = sum((coupling(c, d) / gamma * (
            levi_civita(d, a, e) * anticommutator(M0(c), anticommutator(M0(e), M0(b)))
            + levi_civita(d, b, e) * anticommutator(M0(c), anticommutator(M0(a), M0(e))))
            for c in range(3) for d in range(3) for e in range(3)), 0)
        return -expectation(ops)

    rate = tuple(tuple(correlation_rate((a, b), interaction_collective()) for b in range(3))
                 for a in range(3))
    route = tuple(tuple(leibniz(a, b) for b in range(3)) for a in range(3))
    dsym = tuple(tuple(sp.Symbol(f"dG_{'xyz'[a]}{'xyz'[b]}", real=True) for b in range(3))
                 for a in range(3))
    return Derived(result=Equal(dsym, rate), by=Equal(rate, route))


def bind69():
    return {sp.Symbol(f"Gp_{'xyz'[a]}{'xyz'[b]}{'xyz'[c]}"): paper_nested(a, b, c)
            for a in range(3) for b in range(3) for c in range(3)}


def hierarchy_orders():
    """For the quadratic H of (63) the n-point equation needs (n+1)-point functions, n = 1..3."""
    from symmag.hierarchy import correlation_rate, highest_order

    words = {1: (0,), 2: (0, 1), 3: (0, 1, 2)}
    return Equal(tuple(highest_order(correlation_rate(w, interaction_collective())) for w in words.values()),
                 (2, 3, 4))


def nested_vs_weyl():
    """(71) in the Weyl convention: <[[M0^a, M0^b]_+, M0^c]_+> = G^{abc} + a remainder of order
    at most 1 (commutators lower the degree), for every a, b, c."""
    from symmag.hierarchy import highest_order

    orders = [highest_order(sp.expand(paper_nested(a, b, c) - correlation_symbol((a, b, c))))
              for a in range(3) for b in range(3) for c in range(3)]
    return Equal(max(orders), 1)


I_CORR = printed.I_corr
H_Z = printed.H_z


def lowest_order_correlations() -> dict:
    """G^{ab} ~ G0^{ab} = 2 gamma^2 I^{ab} (the distinct-site part (67) with (72)); the
    self terms, a c-number for s = 1/2, drop out of D (steps on (67))."""
    return {correlation_symbol((a, b)): (2 * gamma**2 * I_CORR if a == b == 2 else 0)
            for a in range(3) for b in range(a, 3)}


@cache
def lowest_order_d() -> tuple:
    return tuple(sp.expand(x.xreplace(lowest_order_correlations())) for x in spin_spin_d())


def eq73_75(component: int):
    closed = (2 * lam * gamma * I_CORR * M[1] * M[2], -2 * lam * gamma * I_CORR * M[0] * M[2], 0)[component]
    dsym = sp.Symbol(f"D_{'xyz'[component]}", real=True)
    return Derived(result=Equal(dsym, lowest_order_d()[component]),
                   by=Equal(lowest_order_d()[component], closed))


def lowest_order_rate(sign: int, sign_in_d: int | None = None) -> tuple:
    """dM/dt = gamma M x H_eff + D with gamma = sign |gamma| and H_eff = H_z z; ``sign_in_d``
    puts another sign of gamma into D (only to show what mixing the conventions gives)."""
    from symmag.conventions import gamma_abs

    g = sign * gamma_abs
    g_d = g if sign_in_d is None else sign_in_d * gamma_abs
    field = (0, 0, H_Z)
    return tuple((g * cross(M, field)[a] + lowest_order_d()[a].subs(gamma, g_d)) for a in range(3))


def mz_constant():
    return Equal(tuple(sp.expand(lowest_order_rate(s)[2]) for s in (-1, 1)), (0, 0))


def precession_rate(sign: int, sign_in_d: int | None = None) -> sp.Expr:
    """d phi/dt of M_x + i M_y: the rate is (M_y, -M_x, 0) c, so d phi/dt = -c."""
    rate = lowest_order_rate(sign, sign_in_d)
    w = M[0] + sp.I * M[1]
    ratio = sp.expand((rate[0] + sp.I * rate[1]) * sp.conjugate(w)) / (M[0] ** 2 + M[1] ** 2)
    return sp.simplify(sp.im(ratio))


def eq76():
    """With the gamma = -|gamma| of (29): d phi/dt = |gamma|(H_z + 2 lambda I M_z)."""
    from symmag.conventions import gamma_abs

    rate = precession_rate(-1)
    result = Equal(sp.Symbol("omegabar0", real=True), rate.subs(gamma_abs * H_Z, printed.omega0))
    closed = sp.expand(gamma_abs * (H_Z + 2 * lam * I_CORR * M[2]))
    return Derived(result=result, by=Equal(sp.expand(rate), closed))


def bind76():
    from symmag.conventions import gamma_abs

    return {printed.omega0: gamma_abs * H_Z}


def eq76_sign():
    """For gamma = +|gamma| the same effective field H_z + 2 lambda I M_z, with the opposite
    sense of precession; the printed H_z - 2 lambda I M_z appears only when (29)'s -|gamma|
    is combined with gamma = +|gamma| in (73)-(74)."""
    from symmag.conventions import gamma_abs

    shift = 2 * lam * I_CORR * M[2]
    return Equal((sp.expand(precession_rate(1)), sp.expand(precession_rate(-1, sign_in_d=1))),
                 (sp.expand(-gamma_abs * (H_Z + shift)), sp.expand(gamma_abs * (H_Z - shift))))


def product_state_correlations():
    """rho0 = exp(-beta I0)/Z0 with I0 = sum_i S_i . R0 (11), (14) is a product of identical
    one-site states, so sum_{i != j} <S_i^a S_j^b>_0 = N(N - 1) s^a s^b with s = <S>, parallel
    to R0: checked on explicit matrices (3 sites of spin 1/2 and 1, random R0)."""
    import numpy as np

    from symmag.matrices import SpinSystem
    from symmag.numeric import expm_hermitian

    lhs, rhs = [], []
    rng = np.random.default_rng(72)
    for spin in ("1/2", "1"):
        system = SpinSystem(3, spin, hbar=1.0, gamma=1.0)
        r0 = rng.normal(size=3)
        i0 = sum(system.collective(a) * r0[a] for a in range(3))
        rho = expm_hermitian(i0, -0.8)
        rho /= np.trace(rho)
        s = [np.trace(rho @ system.site(0, a)).real for a in range(3)]
        for a in range(3):
            for b in range(3):
                lhs.append(sum(np.trace(rho @ system.site(i, a) @ system.site(j, b))
                               for i in range(3) for j in range(3) if i != j))
                rhs.append(6 * s[a] * s[b])
    from symmag.derivation import NumericEqual

    return NumericEqual(lhs, rhs, 1e-12, "3 sites of spin 1/2 and 1, beta = 0.8, random R0")


def lowest_order_d_vanishes_for_11():
    """With (11), G^{ab} = 2 gamma^2 N(N-1) s^a s^b/V (+ c delta^{ab}): Omega is along s and
    M = <M0>_0 at zeroth order is along s too, so D = (lambda/gamma) M x Omega = 0. (72)'s
    pattern I^{ab} = I delta^{az} delta^{bz} needs s, hence R0 and M0, along z -- then
    M_x = M_y = 0 and (73)-(74) vanish as well."""
    s_vec = sp.symbols("s_x s_y s_z", real=True)
    n, c, kappa = sp.symbols("N_s c kappa", real=True)
    g = {correlation_symbol((a, b)): 2 * gamma**2 * n * s_vec[a] * s_vec[b] + (c if a == b else 0)
         for a in range(3) for b in range(a, 3)}
    d = [x.xreplace(g).xreplace(dict(zip(M, (kappa * v for v in s_vec)))) for x in spin_spin_d()]
    return Equal(tuple(sp.expand(x) for x in d), (0, 0, 0))


DERIVATION = Derivation(
    name="sec4_spin_spin",
    cost=0.6,  # seconds in one process, 2026-11-24: a scheduling hint
    title="Spin-spin interactions: the D-term through correlation functions",
    section="IV",
    printed_table=printed.table,
    dimensions=DIMENSIONS,
    steps=(
        step("exchange-collective", "62", eq62, "-2J sum_{i,j} S_i . S_j = -2J M0^2/gamma^2 over "
              "symbolic N (i = j included).", printed="62", conventions=("distinct-site-symbols",)),
        step("exchange-no-d", "62", exchange_d, "For the standard ansatz (62), D = 0: M0^2 "
              "commutes with M0 and does not depend on the field.", conventions=("gamma-sign-open",)),
        definition("spin-spin-interaction", "63", "lambda H_I = sum_{i,j} J^{ab}(M) S_i^a S_j^b, "
                   "J^{ab} = lambda M^a M^b."),
        step("coupling-symmetric", "63", coupling_symmetric, "J^{ab} = J^{ba}."),
        step("spin-spin-collective", "63", collective_form, "(63) over all sites equals "
              "J^{ab} M0^a M0^b/gamma^2 canonically."),
        step("spin-spin-no-moment", "63", no_moment, "M_I = 0 from the functional derivative: "
              "(63) does not depend on the field.", conventions=("field-derivative",)),
        step("spin-spin-d", "64", eq64, "D = (lambda/gamma) M x Omega from symmag.dterm and the "
              "expectation map.", printed="64", bind=bind64,
              conventions=("gamma-sign-open", "average-per-volume")),
        definition("omega-definition", "65", "Omega^a = <[M0^a, M0^b]_+> M^b = G^{ab} M^b.",
                   bind=lambda: {sp.Symbol(f"Omega_{ax}", real=True): x
                                 for ax, x in zip("xyz", omega())}),
        definition("anticommutator-definition", "66", "[A, B]_+ = AB + BA."),
        step("correlation-sites", "67", eq67, "[M0^a, M0^b]_+ = 2 gamma^2 sum_{i != j} S_i^a S_j^b "
              "+ gamma^2 sum_i [S_i^a, S_i^b]_+ over symbolic N.", printed="67",
              conventions=("distinct-site-symbols",),
              reason="(67) keeps only the i != j pairs; the self-interaction terms gamma^2 sum_i "
              "<[S_i^a, S_i^b]_+> are part of G^{ab}. For s = 1/2 they are the c-number "
              "gamma^2 N hbar^2/(2V) delta^{ab} and drop out of D (steps below); for s >= 1 "
              "they do not."),
        step("self-term-spin-half", "67", self_term_spin_half, "For s = 1/2: gamma^2 sum_i "
              "[S_i^a, S_i^b]_+ = gamma^2 N hbar^2/2 delta^{ab}.", representation=SPIN_HALF),
        step("self-term-drops-out", "67", self_term_drops_out_of_d, "A c-number delta^{ab} part "
              "of G adds a multiple of M to Omega and nothing to D = (lambda/gamma) M x Omega."),
        step("self-term-spin-one", "67", self_term_spin_one, "For s = 1 the self term sum_i "
              "[S_i^x, S_i^y]_+ stays a degree-2 operator under the Casimir: the i = j terms "
              "contribute to Omega and D.", representation=SPIN_ONE),
        definition("perturbative-density", "68", "rho_lambda(t) = rho0(t0) + (lambda/(i hbar)) "
                   "int [H_lambda, rho_lambda] dtau, the integral form of (19)."),
        step("correlation-hierarchy", "69", rate_69, "dG^{ab}/dt from symmag.hierarchy agrees with "
             "a Leibniz-rule route and with (69) differentiated (the paper's nested "
             "anticommutators (71)), in the frame of lambda H_I alone.", printed="69", bind=bind69,
             conventions=("gamma-sign-open",)),
        step("hierarchy-orders", "69", hierarchy_orders, "The n-point equation involves "
             "(n+1)-point functions (n = 1, 2, 3): the chain does not close."),
        definition("initial-correlation", "70", "G0^{ab} = <[M0^a, M0^b]_+>_0."),
        step("nested-anticommutator", "71", nested_vs_weyl, "(71) is symmag's Weyl-ordered G^{abc} "
             "plus terms of order at most 1 (symmag.expectation.paper_G3)."),
        definition("initial-correlations", "72", "sum_i sum_{j != i} <S_i^a S_j^b>_0 = I^{ab} = "
                   "I delta^{az} delta^{bz}; H_eff = H_z z.",
                   bind=lambda: {sp.Symbol(f"C_{'xyz'[a]}{'xyz'[b]}", real=True): sp.Symbol("I_corr_ab")
                                 for a in range(3) for b in range(3)}),
        step("lowest-order-dx", "73", lambda: eq73_75(0), "D_x at lowest order, G ~ 2 gamma^2 I^{ab}.",
             printed="73", conventions=("gamma-sign-open",)),
        step("lowest-order-dy", "74", lambda: eq73_75(1), "D_y at lowest order.", printed="74",
             conventions=("gamma-sign-open",)),
        step("lowest-order-dz", "75", lambda: eq73_75(2), "D_z = 0 at lowest order.", printed="75",
             conventions=("gamma-sign-open",)),
        step("lowest-order-mz-constant", None, mz_constant, "dM_z/dt = 0 at lowest order, for either "
             "sign of gamma: no damping, only a shifted precession about z."),
        step("lowest-order-frequency", "76", eq76, "With the gamma = -|gamma| of (29) the "
             "precession rate is |gamma|(H_z + 2 lambda I M_z) = omega0 (1 + 2 lambda I M_z/H_z).",
             printed="76", bind=bind76, conventions=("gamma-negative",),
             reason="The printed omega0 (1 - 2 lambda I M_z/H_z) ('precessing with respect to "
             "H_z - 2 lambda I M_z') holds for neither sign of gamma used consistently: D of "
             "(73)-(74) carries gamma too, so the effective field is H_z + 2 lambda I M_z for both "
             "signs. The printed sign comes from combining (29)'s -|gamma| with gamma = +|gamma| "
             "in (73)-(74) (step lowest-order-sign)."),
        step("lowest-order-sign", "76", eq76_sign, "gamma = +|gamma|: rate -|gamma|(H_z + 2 lambda "
             "I M_z) (same field, opposite sense); -|gamma| in (29) with +|gamma| in (73)-(74): "
             "|gamma|(H_z - 2 lambda I M_z), the printed form.", conventions=("gamma-sign-open",)),
        step("initial-state-product", "72", product_state_correlations, "rho0 of (11) is a product "
             "state: sum_{i != j} <S_i^a S_j^b>_0 = N(N-1) s^a s^b, s = <S> along R0."),
        step("lowest-order-d-with-11", None, lowest_order_d_vanishes_for_11, "With the density "
             "operator (11), Omega and M are both along s at lowest order, so D = 0; (72) is "
             "compatible with (11) only for R0 (and M0) along z, where (73)-(74) vanish too."),
    ),
)
