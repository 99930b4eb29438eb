"""Sec. IV, spin-spin interactions: eqs. (62)-(71).

The lowest order (72)-(76) is taken in the static field H_eff = H_z z (the removable
assumption STATIC_FIELD of sec3a_rsi) with the paper's initial correlations; the sign of gamma
is stated per step, and (72) is checked against the density operator (11) of Sec. II.

Conventions: gamma's sign open; lambda is the coupling of (63), a new parameter
whose dimension (63) fixes as 1/(E T^2 [M]^2); G^{ab} = <[M0^a, M0^b]_+> is
symmag's correlation symbol (symmag.algebra.expectation).  The self-interaction terms
i = j are kept explicit; spin-length identities are used only in steps that
declare a Representation, or, for the self part Q0^{ab} of the initial correlations, through
the removable assumption SPIN_HALF_SELF (key "spin-half").
"""

from __future__ import annotations

import sympy as sp

from symmag.algebra.expectation import correlation_symbol, expectation
from symmag.algebra.fields import H_eff, M
from symmag.algebra.representation import Representation, represent
from symmag.algebra.su2 import M0, M0_vector, Op, S, anticommutator, cross, dot, same_operator, site_sum
from symmag.checking.assumptions import Assumption
from symmag.checking.assumptions import cached as cache
from symmag.checking.derivation import Derivation, Derived, Equal, Erratum, definition, step
from symmag.checking.dimensions import L3, M_DIM, TABLE, E, H, T
from symmag.conventions import N, V, gamma, gamma_abs, hbar
from symmag.theory.dterm import dterm

from . import printed
from .models import spin_spin_coupling as coupling  # J^{ab} of (63), written once
from .models import spin_spin_interaction
from .printed import J_ex, lam
from .sec3a_rsi import STATIC_FIELD

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
              "<[M0^a, M0^b]_+>_0": (E / H) ** 2 / L3,
              # a c-number shift of G; D-hat's change from the i = j terms (an operator, E/H per M0)
              "c": (E / H) ** 2 / L3, **{f"DeltaD_{a}": E / (H * T) for a in "xyz"},
              # the self part of G0 (67); one-site averages Tr{rho1 S} and pair traces (no 1/V)
              **{f"Q0_{a}{b}": (E / H) ** 2 / L3 for a in "xyz" for b in "xyz"},
              **{f"s_{a}": E * T for a in "xyz"}, **{f"P_{a}{b}": (E * T) ** 2 for a in "xyz" for b in "xyz"}}

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
    """D-hat = 0 for the standard ansatz (62) as written, -2J sum_{i,j} S_i . S_j: it does not
    depend on the field and commutes with M0 (so D = <D-hat> = 0 for every state)."""
    d = dterm(exchange_sites())
    return Equal(d.d_operator, (0, 0, 0))


@cache
def interaction_sites():
    return pair_sum(lambda i, j: sum(coupling(a, b) * S(i, a) * S(j, b)
                                     for a in range(3) for b in range(3)))


@cache
def interaction_collective():
    """(63) summed over all sites, J^{ab} M0^a M0^b/gamma^2 by (6): the paper's spin-spin
    interaction as derivations.models writes it once."""
    return spin_spin_interaction()


def coupling_symmetric():
    """J^{ab} = lambda M^a M^b is symmetric, which is what makes (63) Hermitian: (lambda H_I)^dagger
    = lambda H_I canonically."""
    h = interaction_sites()
    return Equal(h.adjoint(), h)


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


@cache
def rate_of_moment() -> tuple:
    """d<M0^a>/dt under lambda H_I alone, written by symmag.theory.hierarchy (its own commutator with
    the symmetrized word): a second route to D, since M_I = 0 makes D = <(1/(i hbar))[M0,
    lambda H_I]>."""
    from symmag.theory.hierarchy import correlation_rate

    return tuple(correlation_rate((a,), interaction_collective()) for a in range(3))


def eq64():
    """D from symmag.theory.dterm and the expectation map, in correlation symbols; checked against
    the hierarchy's rate of <M0> (printed: (lambda/gamma) M x Omega, Omega bound to (65))."""
    dsym = tuple(sp.Symbol(f"D_{ax}", real=True) for ax in "xyz")
    return Derived(result=Equal(dsym, spin_spin_d()), by=lambda r: Equal(r.rhs, rate_of_moment()))


def bind64():
    return {**{sp.Symbol(f"D_{ax}", real=True): x for ax, x in zip("xyz", spin_spin_d())},
            **{sp.Symbol(f"Omega_{ax}", real=True): x for ax, x in zip("xyz", omega())}}


def self_term(a: int, b: int):
    return gamma**2 * site_sum(lambda i: anticommutator(S(i, a), S(i, b)))


def unit_distinct_pairs(a: int, b: int):
    """sum_i sum_{j != i} S_i^a S_j^b."""
    return site_sum(lambda i: site_sum(lambda j: S(i, a) * S(j, b), exclude=(i,)))


def distinct_pairs(a: int, b: int):
    return 2 * gamma**2 * unit_distinct_pairs(a, b)


def eq67():
    """[M0^a, M0^b]_+ = 2 gamma^2 sum_{i != j} S_i^a S_j^b + gamma^2 sum_i [S_i^a, S_i^b]_+."""
    lhs = tuple(tuple(anticommutator(M0(a), M0(b)) for b in range(3)) for a in range(3))
    rhs = tuple(tuple(distinct_pairs(a, b) + self_term(a, b) for b in range(3)) for a in range(3))
    return Equal(lhs, rhs)


def eq67_residual():
    """The pinned erratum of (67), typed: printed - derived = -gamma^2 sum_i [S_i^a, S_i^b]_+,
    the self-interaction terms (67) leaves out."""
    return tuple(tuple(-gamma**2 * site_sum(lambda i, a=a, b=b: S(i, a) * S(i, b) + S(i, b) * S(i, a))
                       for b in range(3)) for a in range(3))


def self_term_spin_half():
    """For s = 1/2 the self term is the c-number gamma^2 N hbar^2/2 delta^{ab}."""
    return Equal(tuple(self_term(a, b) for a in range(3) for b in range(3)),
                 tuple(gamma**2 * N * hbar**2 / 2 * (1 if a == b else 0)
                       for a in range(3) for b in range(3)))


def _shift_diagonal(x, c):
    """x with G^{ab} -> G^{ab} + c delta^{ab}."""
    return x.xreplace({correlation_symbol((a, a)): correlation_symbol((a, a)) + c for a in range(3)})


def self_term_drops_out_of_d():
    """G^{ab} -> G^{ab} + c delta^{ab} (c any c-number) in (65) and in symmag.theory.dterm's D: Omega
    changes by c M, D not at all."""
    c = sp.Symbol("c", real=True)
    d = spin_spin_d()
    return Equal(tuple(sp.expand(_shift_diagonal(w, c) - w) for w in omega())
                 + tuple(sp.expand(_shift_diagonal(x, c)) for x in d),
                 tuple(c * M[a] for a in range(3)) + tuple(d))


def distinct_interaction_sites():
    """(63) without its i = j terms: sum_i sum_{j != i} J^{ab} S_i^a S_j^b."""
    return site_sum(lambda i: site_sum(lambda j: sum(coupling(a, b) * S(i, a) * S(j, b)
                                                     for a in range(3) for b in range(3)),
                                       exclude=(i,)))


@cache
def self_interaction_d_operator() -> tuple:
    """What the i = j terms of (63) add to D-hat: D-hat of (63) minus D-hat of its i != j part,
    both from symmag.theory.dterm on the per-site operators (free algebra, no spin length)."""
    full = dterm(interaction_sites()).d_operator
    distinct = dterm(distinct_interaction_sites()).d_operator
    return tuple(f - g for f, g in zip(full, distinct))


def self_term_in_64() -> tuple:
    """The same through (64)-(67): D-hat = (lambda/gamma) M x (G-hat M) with G-hat^{ab} =
    [M0^a, M0^b]_+, whose self part (67) is Q^{ab} = gamma^2 sum_i [S_i^a, S_i^b]_+."""
    q_m = [sum((self_term(a, b) * M[b] for b in range(3)), Op()) for a in range(3)]
    return tuple(lam / gamma * (M[(a + 1) % 3] * q_m[(a + 2) % 3] - M[(a + 2) % 3] * q_m[(a + 1) % 3])
                 for a in range(3))


def _nonzero(ops) -> int:
    return int(any(not Op.coerce(x).is_zero() for x in ops))


def self_term_spin_one():
    """For s = 1 the i = j terms of (63) change D-hat: the change, reduced by the Casimir, is
    (lambda/gamma) M x (Q M) with the quadrupole Q^{ab} = gamma^2 sum_i [S_i^a, S_i^b]_+, and it
    is not zero (for s = 1 the reduced degree-2 forms are independent 3 x 3 matrices, so a
    nonzero reduced operator has a state with nonzero average)."""
    shown = tuple(represent(x, SPIN_ONE) for x in self_interaction_d_operator())
    dsym = tuple(sp.Symbol(f"DeltaD_{ax}", real=True) for ax in "xyz")
    return Derived(result=Equal(dsym, shown),
                   by=lambda r: Equal((*r.rhs, _nonzero(represent(Op.coerce(x), SPIN_ONE) for x in r.rhs)),
                                      (*self_term_in_64(), 1)))


def self_term_spin_half_d():
    """For s = 1/2 the i = j terms of (63) add nothing to D-hat."""
    return Equal(self_interaction_d_operator(), (0, 0, 0))


def paper_nested(a: int, b: int, c: int):
    """The paper's G^{abc} of (71) in symmag's correlation symbols."""
    from symmag.algebra.expectation import paper_G3

    return paper_G3(a, b, c)


def rate_69():
    """dG^{ab}/dt generated by symmag.theory.hierarchy for H = lambda H_I, checked against a second
    route: by the Leibniz rule and the symmetry of J, (i/hbar)[J^{cd} M0^c M0^d/gamma^2,
    [M0^a, M0^b]_+] = -(J^{cd}/gamma)(eps^{dae}[M0^c, [M0^e, M0^b]_+]_+ + eps^{dbe}[M0^c,
    [M0^a, M0^e]_+]_+), averaged by the expectation map.  The printed (69) is then compared
    with the paper's nested anticommutators (71) bound to the same symbols."""
    from symmag.algebra.su2 import levi_civita
    from symmag.theory.hierarchy import correlation_rate

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
    return Derived(result=Equal(dsym, rate), by=lambda r: Equal(r.rhs, route))


def bind69():
    return {sp.Symbol(f"Gp_{'xyz'[a]}{'xyz'[b]}{'xyz'[c]}"): paper_nested(a, b, c)
            for a in range(3) for b in range(3) for c in range(3)}


def hierarchy_orders():
    """For the quadratic H of (63) the n-point equation needs (n+1)-point functions, n = 1..3."""
    from symmag.theory.hierarchy import correlation_rate, highest_order

    words = ((0,), (0, 1), (0, 1, 2))
    return Equal(tuple(highest_order(correlation_rate(w, interaction_collective())) for w in words),
                 tuple(len(w) + 1 for w in words))


def nested_vs_weyl():
    """(71) in the Weyl convention: <[[M0^a, M0^b]_+, M0^c]_+> = G^{abc} + a remainder of order
    at most 1 (commutators lower the degree), for every a, b, c."""
    from symmag.theory.hierarchy import highest_order

    orders = [highest_order(sp.expand(paper_nested(a, b, c) - correlation_symbol((a, b, c))))
              for a in range(3) for b in range(3) for c in range(3)]
    return Equal(max(orders), 1)


I_CORR = printed.I_corr
H_Z = printed.H_z


def static_field() -> tuple:
    """H_eff under the static-field assumption of (72)-(76) (H_z z); H_eff(t) without it."""
    return tuple(STATIC_FIELD(h) for h in H_eff)


def self_correlation(a: int, b: int) -> sp.Symbol:
    """Q0^{ab} = gamma^2 <sum_i [S_i^a, S_i^b]_+>_0, the self part of G0^{ab} in (67)."""
    return sp.Symbol(f"Q0_{'xyz'[min(a, b)]}{'xyz'[max(a, b)]}", real=True)


@cache
def _spin_half_self_values() -> dict:
    """Q0^{ab} for s = 1/2: <represent(gamma^2 sum_i [S_i^a, S_i^b]_+, s = 1/2)>_0."""
    return {self_correlation(a, b): expectation(represent(self_term(a, b), SPIN_HALF), "0")
            for a in range(3) for b in range(a, 3)}


def _self_correlations_spin_half(x):
    """Q0^{ab} -> its s = 1/2 value."""
    return x.xreplace(_spin_half_self_values())


#: the spin length behind the lowest order: the self terms of (67) are a c-number
SPIN_HALF_SELF = Assumption(
    "spin-half", "s = 1/2: the self terms gamma^2 <sum_i [S_i^a, S_i^b]_+>_0 of (67) are the c-number "
    "gamma^2 N hbar^2/(2V) delta^{ab} (step self-term-spin-half)", _self_correlations_spin_half)


@cache
def distinct_pair_weight(a: int, b: int) -> sp.Expr:
    """The factor of sum_{i != j} S_i^a S_j^b in (67)'s distinct-site part."""
    part, unit = distinct_pairs(a, b), unit_distinct_pairs(a, b)
    w = sp.cancel(part.coefficients()[0] / unit.coefficients()[0])
    if not same_operator(part, w * unit):
        raise ValueError(f"(67)'s distinct part is not a multiple of the pair sum for {(a, b)}")
    return w


@cache
def lowest_order_correlations() -> dict:
    """G^{ab} ~ G0^{ab} = <[M0^a, M0^b]_+>_0 by (67): the distinct-site part times (72)'s
    I^{ab} = I delta^{az} delta^{bz}, plus the self part Q0^{ab} (its value for s = 1/2 under
    SPIN_HALF_SELF)."""
    i_ab = {(a, b): (I_CORR if a == b == 2 else 0) for a in range(3) for b in range(3)}
    return {correlation_symbol((a, b)): SPIN_HALF_SELF(distinct_pair_weight(a, b) * i_ab[a, b]
                                                       + self_correlation(a, b))
            for a in range(3) for b in range(a, 3)}


@cache
def lowest_order_d() -> tuple:
    return tuple(sp.expand(x.xreplace(lowest_order_correlations())) for x in spin_spin_d())


def eq73_75(component: int):
    """D at lowest order from symmag.theory.dterm's D, checked against the hierarchy's rate of <M0>
    with the same G0."""
    dsym = sp.Symbol(f"D_{'xyz'[component]}", real=True)
    route = sp.expand(rate_of_moment()[component].xreplace(lowest_order_correlations()))
    return Derived(result=Equal(dsym, lowest_order_d()[component]), by=lambda r: Equal(r.rhs, route))


def lowest_order_rate(sign: int, sign_in_d: int | None = None) -> tuple:
    """dM/dt = gamma M x H_eff + D with gamma = sign |gamma| and the static H_eff = H_z z;
    ``sign_in_d`` puts another sign of gamma into D (only to show what mixing the conventions
    gives)."""
    g = sign * gamma_abs
    g_d = g if sign_in_d is None else sign_in_d * gamma_abs
    field = static_field()
    return tuple((g * cross(M, field)[a] + lowest_order_d()[a].subs(gamma, g_d)) for a in range(3))


def mz_constant():
    return Equal(tuple(sp.expand(lowest_order_rate(s)[2]) for s in (-1, 1)), (0, 0))


@cache
def precession_rate(sign: int, sign_in_d: int | None = None) -> sp.Expr:
    """d phi/dt of M_x + i M_y = M_p e^{i phi}: Im((dM_x/dt + i dM_y/dt) conj(M_x + i M_y))/M_p^2
    = (M_x dM_y/dt - M_y dM_x/dt)/M_p^2 for a real rate."""
    rate = lowest_order_rate(sign, sign_in_d)
    return sp.cancel((M[0] * rate[1] - M[1] * rate[0]) / (M[0] ** 2 + M[1] ** 2))


def eq76():
    """With the gamma = -|gamma| of (29): the rate of the azimuth, shown as omega0 times the rate
    in units of omega0 = |gamma| H_z; checked by substituting it back into the rate:
    dM_x/dt = -omegabar0 M_y and dM_y/dt = omegabar0 M_x (a precession about z at omegabar0, no
    other motion in the plane)."""
    rate = precession_rate(-1)
    vel = lowest_order_rate(-1)
    # shown in the printed form's variables: omega0 times the rate in units of |gamma| H_z
    result = Equal(sp.Symbol("omegabar0", real=True),
                   printed.omega0 * sp.expand(rate / (gamma_abs * H_Z)))

    def by(r: Equal) -> Equal:
        w = r.rhs.xreplace(bind76())
        return Equal((vel[0], vel[1]), (-w * M[1], w * M[0]))

    return Derived(result=result, by=by)


def bind76():
    return {printed.omega0: gamma_abs * H_Z}


def eq76_sign():
    """For gamma = +|gamma| the same effective field with the opposite sense of precession; the
    printed (76) (read from the table, omega0 = |gamma| H_z) appears only when (29)'s -|gamma| is
    combined with gamma = +|gamma| in (73)-(74)."""
    p76 = printed.table()["76"].rhs.xreplace(bind76())
    return Equal((sp.expand(precession_rate(1)), sp.expand(precession_rate(-1, sign_in_d=1))),
                 (sp.expand(-precession_rate(-1)), sp.expand(p76)))


def spin_matrices(spin: sp.Rational) -> tuple:
    """S^x, S^y, S^z of one spin ``spin`` as exact SymPy matrices (symbolic hbar)."""
    spin = sp.Rational(spin)
    ms = [spin - k for k in range(int(2 * spin) + 1)]
    n = len(ms)
    plus = sp.zeros(n, n)
    for k in range(1, n):  # S^+ |m> = hbar sqrt(s(s+1) - m(m+1)) |m+1>
        m = ms[k]
        plus[k - 1, k] = hbar * sp.sqrt(spin * (spin + 1) - m * (m + 1))
    sz = sp.diag(*[hbar * m for m in ms])
    return ((plus + plus.T) / 2, (plus - plus.T) / (2 * sp.I), sz)


S_ONE_SITE = tuple(sp.Symbol(f"s_{ax}", real=True) for ax in "xyz")


def pair_count() -> sp.Expr:
    """The number of ordered pairs of distinct sites, sum_i sum_{j != i} 1, from site_sum."""
    return site_sum(lambda i: site_sum(lambda j: Op.scalar(1), exclude=(i,))).scalar_part()


def product_state_pairs() -> tuple:
    """P^{ab} = sum_i sum_{j != i} Tr{rho0 S_i^a S_j^b} in a product state: the pair count times
    s^a s^b."""
    return tuple(pair_count() * S_ONE_SITE[a] * S_ONE_SITE[b] for a in range(3) for b in range(3))


def _trace_of_product(x: sp.Matrix, y: sp.Matrix) -> sp.Expr:
    """Tr{x y}."""
    return sp.expand((x * y).trace())


@cache
def _pair_average_route(spin) -> tuple:
    """For the product state rho0 = rho1 x ... x rho1 (N sites) of a generic one-site matrix rho1
    (entries free symbols, the last diagonal one fixed by Tr rho1 = 1, checked): the two-site
    marginal is (Tr rho1)^(N-2) rho1 x rho1 = rho1 x rho1 and the one-site one rho1, so
    sum_{i != j} <S_i^a S_j^b>_0 = N(N-1) Tr{(rho1 x rho1)(S^a x S^b)} and s^a = Tr{rho1 S^a},
    exactly.  Also returns what makes the matrices spin
    ``spin``: [S^x, S^y] - i hbar S^z (and cyclic) and S.S - s(s+1) hbar^2, entrywise."""
    from sympy.physics.quantum import TensorProduct

    sm = spin_matrices(spin)
    n = int(2 * spin + 1)
    a = sp.Matrix(n, n, sp.symbols(f"a0:{n * n}"))
    a[-1, -1] = 1 - sum(a[k, k] for k in range(n - 1))
    if sp.expand(a.trace()) != 1:  # the marginals below need Tr rho1 = 1
        raise ValueError("the one-site matrix is not normalized")
    rho2 = TensorProduct(a, a)
    # ordered pairs of distinct sites counted another way: all pairs minus the i = j ones
    one = Op.scalar(1)
    count = (site_sum(lambda i: site_sum(lambda j: one)) - site_sum(lambda i: one)).scalar_part()
    route = {(x, y): count * _trace_of_product(rho2, TensorProduct(sm[x], sm[y]))
             for x in range(3) for y in range(3)}
    # the one-site averages entrywise, not through _trace_of_product: a trace that is wrong in
    # one route cannot agree with the other by the same mistake
    s_avg = tuple(sp.expand(sum(a[i, j] * sm[c][j, i] for i in range(n) for j in range(n))) for c in range(3))
    algebra = [sm[c] * sm[(c + 1) % 3] - sm[(c + 1) % 3] * sm[c] - sp.I * hbar * sm[(c + 2) % 3]
               for c in range(3)]
    algebra.append(sum((m * m for m in sm), sp.zeros(n, n)) - spin * (spin + 1) * hbar**2 * sp.eye(n))
    return route, s_avg, tuple(sp.expand(e) for m in algebra for e in m)


def product_state_correlations():
    """rho0 = exp(-beta I0)/Z0 with I0 = sum_i S_i . R0 (11), (14): a sum of one-site terms that
    commute (distinct sites), so rho0 = prod_i rho1(S_i) is a product of identical one-site
    states.  The expectation of a product of distinct-site operators then factorizes:
    P^{ab} = sum_{i != j} Tr{rho0 S_i^a S_j^b} = N(N - 1) s^a s^b, s = Tr{rho1 S} (traces: (72)'s
    I^{ab} is P^{ab}/V).  Checked exactly: the shown result, each P^{ab} by its label, with
    s^a -> its product-state value, against the two-site marginal of the product state, for a
    generic one-site state of spin 1/2 and of spin 1 (the matrices checked to be spin
    matrices)."""
    labels = {(a, b): sp.Symbol(f"P_{'xyz'[a]}{'xyz'[b]}", real=True) for a in range(3) for b in range(3)}

    def by(r: Equal) -> Equal:
        shown = dict(zip(r.lhs, r.rhs))
        if len(shown) != len(r.rhs) or set(shown) != set(labels.values()):
            raise ValueError("the result must give every P^{ab} once")
        lhs, rhs = [], []
        for spin in (sp.Rational(1, 2), sp.Integer(1)):
            route, s_avg, algebra = _pair_average_route(spin)
            for ab, label in labels.items():
                lhs.append(sp.expand(sp.sympify(shown[label]).xreplace(dict(zip(S_ONE_SITE, s_avg)))))
                rhs.append(sp.expand(route[ab]))
            lhs += algebra
            rhs += [0] * len(algebra)
        return Equal(tuple(lhs), tuple(rhs))

    return Derived(result=Equal(tuple(labels.values()), product_state_pairs()), by=by)


def one_site_moment_along_r0():
    """[S_i . R0, S_i^a] = i hbar (S_i x R0)^a: with rho1 a function of S . R0, Tr{rho1 [S . R0,
    S^a]} = 0 by cyclicity, so s x R0 = 0 -- s = <S>_1 is along R0."""
    from symmag.algebra.fields import vector_function

    r0 = vector_function("R0")
    i = sp.Symbol("i", integer=True, positive=True)
    x = dot([S(i, a) for a in range(3)], r0)
    from symmag.algebra.su2 import commutator

    s_i = [S(i, a) for a in range(3)]
    return Equal(tuple(commutator(x, s_i[a]) for a in range(3)),
                 tuple(sp.I * hbar * c for c in cross(s_i, r0)))


def _eps(a: int, b: int, c: int) -> int:
    from symmag.algebra.su2 import levi_civita

    return levi_civita(a, b, c)


def _quadrupole_rate_terms(a: int, b: int, r) -> list:
    """[S . r, [S^a, S^b]_+] = i hbar sum_{e,d} (eps^{aed} r^d [S^e, S^b]_+ + eps^{bed} r^d
    [S^a, S^e]_+), as (coefficient, c, d) for the terms coefficient [S^c, S^d]_+."""
    out = []
    for e in range(3):
        for d in range(3):
            out.append((sp.I * hbar * _eps(a, e, d) * r[d], e, b))
            out.append((sp.I * hbar * _eps(b, e, d) * r[d], a, e))
    return [x for x in out if x[0] != 0]


def lowest_order_d_vanishes_for_11():
    """With (11), for any spin length: G0^{ab} = (67)'s distinct part times the product-state
    pairs (step initial-state-product) per volume, plus the self part Q^{ab} = gamma^2 N
    <[S^a, S^b]_+>_1/V.  rho1 = exp(-beta S . R0)/z commutes with S . R0, so
    <[S . R0, [S^a, S^b]_+]>_1 = 0; the operator identity for that commutator (checked in the
    algebra) averages to linear equations for Q, whose solution is Q = alpha delta + beta R0 R0
    (solved, not assumed).  With s and M = <M0>_0 = gamma N s/V along R0 (step
    one-site-moment-along-r0), Omega is along R0 and D = 0.  (72)'s pattern I^{ab} = I delta^{az}
    delta^{bz} needs s, hence R0 and M0, along z -- then M_x = M_y = 0 and (73)-(74) vanish."""
    from symmag.algebra.su2 import commutator

    r0 = S_ONE_SITE  # R0 along s: the constraint is homogeneous in R0, so s itself will do
    i = sp.Symbol("i", integer=True, positive=True)
    x = dot([S(i, c) for c in range(3)], r0)
    q = {(a, b): sp.Symbol(f"Q_{'xyz'[min(a, b)]}{'xyz'[max(a, b)]}", real=True)
         for a in range(3) for b in range(3)}
    identities_lhs, identities_rhs, constraints = [], [], []
    for a in range(3):
        for b in range(a, 3):
            terms = _quadrupole_rate_terms(a, b, r0)
            identities_lhs.append(commutator(x, anticommutator(S(i, a), S(i, b))))
            identities_rhs.append(sum((k * anticommutator(S(i, c), S(i, d)) for k, c, d in terms), Op()))
            constraints.append(sum(k * q[c, d] for k, c, d in terms))  # its average, by linearity
    (sol,) = sp.solve(constraints, sorted(set(q.values()), key=str), dict=True)
    pairs = product_state_pairs()
    g = {correlation_symbol((a, b)): distinct_pair_weight(a, b) * pairs[3 * a + b] / V
         + gamma**2 * N * q[a, b].xreplace(sol) / V
         for a in range(3) for b in range(a, 3)}
    m0 = tuple(gamma * N * S_ONE_SITE[a] / V for a in range(3))
    d = [sp.cancel(sp.expand(y.xreplace(g).xreplace(dict(zip(M, m0))))) for y in spin_spin_d()]
    return Equal((*identities_lhs, *d), (*identities_rhs, 0, 0, 0))


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
        step("exchange-no-d", "62", exchange_d, "For the standard ansatz (62), D-hat = 0 as an "
             "operator: -2J sum_{i,j} S_i . S_j commutes with M0 and does not depend on the field.",
             conventions=("gamma-sign-open",)),
        definition("spin-spin-interaction", "63", "lambda H_I = sum_{i,j} J^{ab}(M) S_i^a S_j^b, "
                   "J^{ab} = lambda M^a M^b."),
        step("coupling-symmetric", "63", coupling_symmetric, "J^{ab} = lambda M^a M^b = J^{ba} "
             "makes (63) Hermitian: (lambda H_I)^dagger = lambda H_I canonically."),
        step("spin-spin-collective", "63", collective_form, "(63) over all sites equals "
              "J^{ab} M0^a M0^b/gamma^2 canonically."),
        step("spin-spin-no-moment", "63", no_moment, "M_I = 0 from the functional derivative: "
              "(63) does not depend on the field.", conventions=("field-derivative",)),
        step("spin-spin-d", "64", eq64, "D from symmag.theory.dterm and the expectation map, checked "
             "against symmag.theory.hierarchy's d<M0>/dt under lambda H_I (M_I = 0): it is the printed "
             "(lambda/gamma) M x Omega.", printed="64", bind=bind64,
              conventions=("gamma-sign-open", "average-per-volume")),
        definition("omega-definition", "65", "Omega^a = <[M0^a, M0^b]_+> M^b = G^{ab} M^b.",
                   bind=lambda: {sp.Symbol(f"Omega_{ax}", real=True): x
                                 for ax, x in zip("xyz", omega())}),
        definition("anticommutator-definition", "66", "[A, B]_+ = AB + BA."),
        step("correlation-sites", "67", eq67, "[M0^a, M0^b]_+ = 2 gamma^2 sum_{i != j} S_i^a S_j^b "
             "+ gamma^2 sum_i [S_i^a, S_i^b]_+ over symbolic N.", printed="67",
             conventions=("distinct-site-symbols",),
             erratum=Erratum(
                 "(67) keeps only the i != j pairs; the self-interaction terms gamma^2 sum_i "
                 "<[S_i^a, S_i^b]_+> are part of G^{ab}. For s = 1/2 they are the c-number "
                 "gamma^2 N hbar^2/(2V) delta^{ab} and drop out of D (steps below); for s >= 1 "
                 "they do not.",
                 residual=eq67_residual)),
        step("self-term-spin-half", "67", self_term_spin_half, "For s = 1/2: gamma^2 sum_i "
             "[S_i^a, S_i^b]_+ = gamma^2 N hbar^2/2 delta^{ab}.", representation=SPIN_HALF),
        step("self-term-drops-out", "67", self_term_drops_out_of_d, "A c-number delta^{ab} part "
             "of G adds a multiple of M to Omega and nothing to D: G^{ab} -> G^{ab} + c delta^{ab} "
             "in (65) and in symmag.theory.dterm's D."),
        step("self-term-spin-one", "67", self_term_spin_one, "For s = 1 the i = j terms of (63) "
             "change D-hat by (lambda/gamma) M x (Q M), Q^{ab} = gamma^2 sum_i [S_i^a, S_i^b]_+ a "
             "quadrupole the Casimir does not reduce: nonzero, so they contribute to Omega and D.",
             representation=SPIN_ONE),
        step("self-term-spin-half-d", "67", self_term_spin_half_d, "For s = 1/2 the i = j terms "
             "of (63) add nothing to D-hat: D-hat of (63) and of its i != j part agree.",
             representation=SPIN_HALF),
        definition("perturbative-density", "68", "rho_lambda(t) = rho0(t0) + (lambda/(i hbar)) "
                   "int [H_lambda, rho_lambda] dtau, the integral form of (19)."),
        step("correlation-hierarchy", "69", rate_69, "dG^{ab}/dt from symmag.theory.hierarchy agrees with "
             "a Leibniz-rule route and with (69) differentiated (the paper's nested "
             "anticommutators (71)), in the frame of lambda H_I alone.", printed="69", bind=bind69,
             conventions=("gamma-sign-open",)),
        step("hierarchy-orders", "69", hierarchy_orders, "The n-point equation involves "
             "(n+1)-point functions (n = 1, 2, 3): the chain does not close."),
        definition("initial-correlation", "70", "G0^{ab} = <[M0^a, M0^b]_+>_0."),
        step("nested-anticommutator", "71", nested_vs_weyl, "(71) is symmag's Weyl-ordered G^{abc} "
             "plus terms of order at most 1 (symmag.algebra.expectation.paper_G3)."),
        definition("initial-correlations", "72", "sum_i sum_{j != i} <S_i^a S_j^b>_0 = I^{ab} = "
                   "I delta^{az} delta^{bz}; H_eff = H_z z.",
                   bind=lambda: {sp.Symbol(f"C_{'xyz'[a]}{'xyz'[b]}", real=True): sp.Symbol("I_corr_ab")
                                 for a in range(3) for b in range(3)}),
        step("lowest-order-dx", "73", lambda: eq73_75(0), "D_x at lowest order, G ~ G0 = "
             "<[M0^a, M0^b]_+>_0 from (67) and (72); symmag.theory.dterm and symmag.theory.hierarchy "
             "agree for "
             "any self part Q0 of G0 (its s = 1/2 value is what makes the printed form agree).",
             printed="73", conventions=("gamma-sign-open",), assumes=(SPIN_HALF_SELF,)),
        step("lowest-order-dy", "74", lambda: eq73_75(1), "D_y at lowest order.", printed="74",
             conventions=("gamma-sign-open",), assumes=(SPIN_HALF_SELF,)),
        step("lowest-order-dz", "75", lambda: eq73_75(2), "D_z = 0 at lowest order.", printed="75",
             conventions=("gamma-sign-open",), assumes=(SPIN_HALF_SELF,)),
        step("lowest-order-mz-constant", None, mz_constant, "dM_z/dt = 0 at lowest order, for either "
             "sign of gamma: no damping, only a shifted precession about z.",
             assumes=(SPIN_HALF_SELF, STATIC_FIELD)),
        step("lowest-order-frequency", "76", eq76, "With the gamma = -|gamma| of (29) the "
             "precession rate is |gamma|(H_z + 2 lambda I M_z) = omega0 (1 + 2 lambda I M_z/H_z).",
             printed="76", bind=bind76, conventions=("gamma-negative",),
             assumes=(SPIN_HALF_SELF, STATIC_FIELD),
             erratum=Erratum(
                 "The printed omega0 (1 - 2 lambda I M_z/H_z) ('precessing with respect to "
                 "H_z - 2 lambda I M_z') holds for neither sign of gamma used consistently: D of "
                 "(73)-(74) carries gamma too, so the effective field is H_z + 2 lambda I M_z for "
                 "both signs. The printed sign comes from combining (29)'s -|gamma| with "
                 "gamma = +|gamma| in (73)-(74) (step lowest-order-sign).",
                 # printed - derived = omega0 (1 - 2 lambda I M_z/H_z) - omega0 (1 + 2 lambda I M_z/H_z)
                 residual=-4 * printed.omega0 * lam * I_CORR * M[2] / H_Z)),
        step("lowest-order-sign", "76", eq76_sign, "gamma = +|gamma|: rate -|gamma|(H_z + 2 lambda "
             "I M_z) (same field, opposite sense); -|gamma| in (29) with +|gamma| in (73)-(74): "
             "|gamma|(H_z - 2 lambda I M_z), the printed form.", conventions=("gamma-sign-open",),
             assumes=(SPIN_HALF_SELF, STATIC_FIELD)),
        step("initial-state-product", "72", product_state_correlations, "rho0 of (11) is a product "
             "state (I0 is a sum of commuting one-site terms), so the expectation of a product of "
             "distinct-site operators factorizes: sum_{i != j} Tr{rho0 S_i^a S_j^b} = N(N-1) s^a s^b, "
             "s = Tr{rho1 S}: a symbolic proof on the two-site marginal of a generic one-site state "
             "of spin 1/2 and of spin 1."),
        step("one-site-moment-along-r0", "72", one_site_moment_along_r0, "[S . R0, S^a] = i hbar "
             "(S x R0)^a, so Tr{rho1 [S . R0, S]} = 0 for rho1 = exp(-beta S . R0)/z gives "
             "s x R0 = 0: s = <S> is along R0."),
        step("lowest-order-d-with-11", None, lowest_order_d_vanishes_for_11, "With the density "
             "operator (11), for any spin length, Omega and M are both along R0 at lowest order "
             "(G0 from (67)'s distinct part with the product-state pairs, plus the self part, "
             "which the invariance of rho1 under rotations about R0 makes alpha delta + beta R0 R0), "
             "so D = 0; (72) is compatible with (11) only for R0 (and M0) along z, where (73)-(74) "
             "vanish too."),
    ),
)
