"""Sec. III C, the magnetization algebra: eqs. (56)-(61) and the sign statements.

The moment operators come from the package's own functional derivative
(Sec. III A-B): M = M0 + M_I,d and M_I,n = kappa lambda (M/|M|)(M0 . M), with |M|
written sqrt(M . M) so that every coefficient is exact.  Their commutators are
computed in canonical form.  The closure condition is taken in the
dimensionless variables lambda0 = lambda|M|, alpha0 = alpha|M| with (40) -- the removable
assumption EQ40 of Sec. III B (key "eq39").  The sign of alpha0 is not restricted: both
signs are checked, with a positive and a negative symbol.  The label kappa_+ is given to
the root of (58) that vanishes as alpha0 -> 0 (kappa_- diverges there), a derived property.
"""

from __future__ import annotations

import sympy as sp

from symmag.algebra.su2 import M0, Op, commutator, dot, levi_civita
from symmag.checking.assumptions import cached as cache
from symmag.checking.derivation import Derivation, Derived, Equal, step
from symmag.checking.dimensions import E, H
from symmag.conventions import gamma, hbar

from . import printed
from .printed import M_mag, _nc_vector, alpha, alpha0, kappa, lam, lam0
from .sec3a_rsi import M as M_vec
from .sec3a_rsi import rsi
from .sec3b_general_field import DIMENSIONS as SEC3B_DIMENSIONS
from .sec3b_general_field import EQ40, _nondissipative, in_magnitude

DIMENSIONS = {**SEC3B_DIMENSIONS, "Mtot": E / H, "gamma_tot": SEC3B_DIMENSIONS["gamma"],
              "gamma_tot_plus": SEC3B_DIMENSIONS["gamma"], "gamma_tot_minus": SEC3B_DIMENSIONS["gamma"],
              "kappa_plus": sp.S.One, "kappa_minus": sp.S.One, "sign_kappa_plus": sp.S.One,
              "sign_kappa_minus": sp.S.One}

MAG = sp.sqrt(dot(M_vec, M_vec))
TO_MAG = {M_mag: MAG}
Q = lam * alpha * dot(M_vec, M_vec)


@cache
def operators():
    """(M-hat, M-hat_I,n, M-hat_tot) from the functional derivative."""
    m_hat = rsi()[0].moment
    m_n = tuple(x.xreplace(TO_MAG) for x in _nondissipative())
    m_tot = tuple(a + b for a, b in zip(m_hat, m_n))
    return m_hat, m_n, m_tot


def table(vec):
    return tuple(tuple(commutator(vec[a], vec[b]) for b in range(3)) for a in range(3))


def combination(c_hat, c_n, m_hat, m_n):
    return tuple(tuple(sum(sp.I * hbar * gamma * levi_civita(a, b, c) * (c_hat * m_hat[c] + c_n * m_n[c])
                           for c in range(3)) for b in range(3)) for a in range(3))


def coefficients_57():
    """The two coefficients of (57), as derived below."""
    return 1 - Q + kappa * lam * MAG, lam * MAG / kappa - 1 + Q


def bind():
    m_hat, m_n, m_tot = operators()
    return {**dict(zip(_nc_vector("Mhat"), m_hat)), **dict(zip(_nc_vector("MhatIn"), m_n)),
            **dict(zip(_nc_vector("Mtot"), m_tot)), **TO_MAG}


def eq56():
    m_hat, m_n, _ = operators()
    return Equal(table(m_hat), combination(1 - Q, lam * MAG / kappa, m_hat, m_n))


def eq57():
    m_hat, m_n, m_tot = operators()
    c_hat, c_n = coefficients_57()
    return Equal(table(m_tot), combination(c_hat, c_n, m_hat, m_n))


def independence():
    """M-hat and M-hat_I,n are independent operator vectors: in the basis M0^x, M0^y, M0^z
    M-hat has the matrix (1 - q) 1 + lambda [. x M] of determinant (1 - q)((1 - q)^2 +
    lambda^2 M^2) and M-hat_I,n has rank one, so (57) closes on M_tot only if its two
    coefficients are equal."""
    m_hat, m_n, _ = operators()
    a_hat = sp.Matrix(3, 3, lambda i, j: m_hat[i].terms.get(("M", (j,)), 0))
    a_n = sp.Matrix(3, 3, lambda i, j: m_n[i].terms.get(("M", (j,)), 0))
    det = sp.factor(a_hat.det())
    # the matrices must be those of the operators: each operator rebuilt from its row
    rebuilt = [vec[i] - sum((a[i, j] * M0(j) for j in range(a.cols)), Op.scalar(0))
               for vec, a in ((m_hat, a_hat), (m_n, a_n)) for i in range(3)]
    return Equal((det, a_n.rank(simplify=True), *rebuilt),
                 (sp.factor((1 - Q) * ((1 - Q) ** 2 + lam**2 * dot(M_vec, M_vec))), 1, *[0] * 6))


DIMLESS = {lam: alpha0 / (1 + alpha0**2) / M_mag, alpha: alpha0 / M_mag}
_A_POS, _A_NEG = sp.Symbol("a", positive=True), sp.Symbol("a", negative=True)


def dimless(x: sp.Expr) -> sp.Expr:
    """lambda = lambda0/M, alpha = alpha0/M, and lambda0 = alpha0/(1 + alpha0^2) by (40)
    (EQ40; without it lambda0 stays)."""
    return EQ40(x.xreplace({lam: lam0 / M_mag, alpha: alpha0 / M_mag}))


def both_signs(x: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """x simplified for alpha0 > 0 and for alpha0 < 0 (a positive and a negative symbol)."""
    values = (_A_POS, _A_NEG)
    if [a.is_positive for a in values] != [True, False]:  # both sides of alpha0 = 0, or no check
        raise ValueError("both_signs needs a positive and a negative alpha0")
    return tuple(sp.simplify(x.xreplace({alpha0: a})) for a in values)


def eq58():
    """(58): the two coefficients of (57) agree iff 1/kappa - kappa = 2/alpha0.  Check: their
    difference is lambda0 (lhs - rhs) of the shown relation, so it vanishes exactly on it."""
    c_hat, c_n = coefficients_57()
    diff = sp.factor(sp.simplify(dimless(scalar(c_n - c_hat))))
    lam0_40 = dimless(lam0)
    return Derived(result=Equal(1 / kappa - kappa, 2 / alpha0),
                   by=lambda r: Equal(diff, sp.factor(lam0_40 * (r.lhs - r.rhs))))


def scalar(x: sp.Expr) -> sp.Expr:
    """A scalar coefficient written with the magnitude symbol M instead of the components."""
    return in_magnitude(x)


def _vanishes_at_zero_damping(root: sp.Expr) -> bool:
    return all(sp.limit(root, alpha0, 0, side) == 0 for side in ("+", "-"))


def eq59():
    """The roots of (58) as derived (closure condition of step closure-condition); kappa_+ is
    the root that vanishes as alpha0 -> 0 from either side, kappa_- the other (it diverges).
    Check: both solve (58), kappa_+ -> 0 and alpha0 kappa_- -> -2 as alpha0 -> 0."""
    c = eq58().result
    k = sp.Symbol("k")
    closure = sp.numer(sp.together((c.lhs - c.rhs).xreplace({kappa: k})))
    roots = sp.solve(closure, k)
    plus = next(r for r in roots if _vanishes_at_zero_damping(r))
    (minus,) = [r for r in roots if r is not plus]
    result = Equal((sp.Symbol("kappa_plus", real=True), sp.Symbol("kappa_minus", real=True)), (plus, minus))

    def by(r):
        kp, km = r.rhs
        return Equal((1 / kp - kp - 2 / alpha0, 1 / km - km - 2 / alpha0,
                      sp.limit(kp, alpha0, 0, "+"), sp.limit(kp, alpha0, 0, "-"),
                      sp.limit(alpha0 * km, alpha0, 0)), (0, 0, 0, 0, -2))

    return Derived(result=result, by=by)


def bind59():
    roots = eq59().result.rhs
    return {sp.Symbol("kappa_plus", real=True): roots[0], sp.Symbol("kappa_minus", real=True): roots[1]}


def gamma_tot(kappa_value):
    c_hat, _ = coefficients_57()
    return sp.simplify(gamma * dimless(scalar(c_hat)).xreplace({kappa: kappa_value}))


def eq60():
    """(60) follows from the canonical identity (57) once its two coefficients agree: check
    that they do for kappa_+ and for kappa_-, for either sign of alpha0."""
    c_hat, c_n = coefficients_57()
    gap = sp.factor(sp.simplify(dimless(scalar(c_hat - c_n))))
    roots = eq59().result.rhs
    checks = tuple(x for k in roots for x in both_signs(gap.xreplace({kappa: k})))
    return Equal(checks, (0, 0, 0, 0))


def eq61():
    """gamma_tot = gamma c_hat of (57) at kappa_+ and kappa_-.  Check: the shown values are
    +gamma/sqrt(1 + alpha0^2) and -gamma/sqrt(1 + alpha0^2), for alpha0 > 0 and alpha0 < 0."""
    (plus, minus) = eq59().result.rhs
    g_plus, g_minus = gamma_tot(plus), gamma_tot(minus)
    target = gamma / sp.sqrt(1 + alpha0**2)

    def by(r):
        return Equal(tuple(x for g, s in zip(r.rhs, (1, -1)) for x in both_signs(g - s * target)),
                     (0, 0, 0, 0))

    return Derived(result=Equal((sp.Symbol("gamma_tot_plus", real=True),
                                 sp.Symbol("gamma_tot_minus", real=True)), (g_plus, g_minus)), by=by)


def bind61():
    g_plus, g_minus = eq61().result.rhs
    return {sp.Symbol("gamma_tot_plus", real=True): g_plus, sp.Symbol("gamma_tot_minus", real=True): g_minus}


def decided_sign(x: sp.Expr) -> sp.Expr:
    """sign(x) as SymPy decides it, for x or 1/x (same sign), rationalized or not."""
    for candidate in (x, sp.radsimp(x), sp.radsimp(1 / x), 1 / x):
        s = sp.sign(sp.factor(candidate))
        if s in (1, -1):
            return s
    raise ValueError(f"the sign of {x} is not decided")


def kappa_signs():
    """The signs of kappa_+ and kappa_- for alpha0 > 0 (the printed claim, there for 0 <
    alpha0 < 1), from the roots of (59) at a positive alpha0.  Check, for every alpha0 != 0:
    kappa_+ (1 + sqrt(1 + alpha0^2)) = alpha0 and kappa_+ kappa_- = -1, so sign(kappa_+) =
    sign(alpha0) = -sign(kappa_-); at a positive alpha0 the shown signs are sign(alpha0) and
    its opposite; at a negative alpha0 both flip."""
    plus, minus = eq59().result.rhs
    root = 1 + sp.sqrt(1 + alpha0**2)
    signs = tuple(decided_sign(k.xreplace({alpha0: _A_POS})) for k in (plus, minus))
    negative = tuple(decided_sign(k.xreplace({alpha0: _A_NEG})) for k in (plus, minus))

    def by(r):
        s_plus, s_minus = r.rhs
        return Equal((sp.simplify(plus * root - alpha0), sp.simplify(plus * minus), sp.sign(root),
                      s_plus - sp.sign(_A_POS), s_minus + s_plus, negative),
                     (0, -1, 1, 0, 0, (-1, 1)))

    return Derived(result=Equal((sp.Symbol("sign_kappa_plus"), sp.Symbol("sign_kappa_minus")), signs),
                   by=by)


def gamma_tot_statements():
    """kappa_+: gamma_tot keeps gamma's sign with |gamma_tot| = |gamma|/sqrt(1 + alpha0^2) <
    |gamma|; kappa_-: the sign flips (a negative gamma becomes positive)."""
    g_plus, g_minus = eq61().result.rhs
    ratio_plus, ratio_minus = sp.simplify(g_plus / gamma), sp.simplify(g_minus / gamma)
    return Equal((sp.simplify(ratio_plus * sp.sqrt(1 + alpha0**2)),
                  sp.simplify(ratio_minus * sp.sqrt(1 + alpha0**2))), (1, -1))


DERIVATION = Derivation(
    name="sec3c_algebra",
    cost=2.0,  # seconds in one process, 2026-11-24: a scheduling hint
    title="Magnetization algebra: closure with kappa_pm and the renormalized gamma",
    section="III C",
    printed_table=printed.table,
    dimensions=DIMENSIONS,
    steps=(
        step("moment-algebra-open", "56", eq56, "[M^a, M^b] in canonical form: it contains "
              "M_I,n, so the algebra of M = M0 + M_I,d alone is not closed.", printed="56",
              bind=bind, conventions=("gamma-sign-open",)),
        step("total-moment-algebra", "57", eq57, "[M_tot^a, M_tot^b] with M_tot = M + M_I,n in "
              "canonical form.", printed="57", bind=bind, conventions=("gamma-sign-open",)),
        step("moment-independence", None, independence, "M and M_I,n are independent, so closure "
              "needs the two coefficients of (57) to be equal."),
        step("closure-condition", "58", eq58, "Equal coefficients, with lambda0 = lambda M, "
              "alpha0 = alpha M and (40): 1/kappa - kappa = 2/alpha0.", printed="58",
              assumes=(EQ40,)),
        step("kappa-roots", "59", eq59, "The two roots of (58), for either sign of alpha0; "
              "kappa_+ is the root that vanishes as alpha0 -> 0 (kappa_- diverges there).",
              printed="59", bind=bind59),
        step("closed-algebra", "60", eq60, "For kappa = kappa_+ and kappa_- (either sign of "
              "alpha0) the two coefficients of the canonical (57) agree, so [M_tot^a, M_tot^b] = "
              "i hbar gamma_tot eps^{abc} M_tot^c.", conventions=("gamma-sign-open",),
              assumes=(EQ40,)),
        step("renormalized-gamma", "61", eq61, "gamma_tot = gamma (1 - lambda0 alpha0 + kappa "
              "lambda0) = +gamma/sqrt(1 + alpha0^2) for kappa_+ and -gamma/sqrt(1 + alpha0^2) "
              "for kappa_-, for either sign of alpha0.", printed="61", bind=bind61,
              conventions=("gamma-sign-open",), assumes=(EQ40,)),
        step("kappa-signs", None, kappa_signs, "kappa_+ > 0 and kappa_- < 0 for every alpha0 > 0 "
              "(not only 0 < alpha0 < 1); for alpha0 < 0 both signs flip (both checked "
              "symbolically).", printed="prose:kappa-signs"),
        step("gamma-tot-signs", None, gamma_tot_statements, "kappa_+: gamma_tot has gamma's sign "
              "and a smaller magnitude; kappa_-: the sign flips, so a negative gamma becomes "
              "positive, as the text says.", conventions=("gamma-sign-open",),
              assumes=(EQ40,)),
    ),
)
