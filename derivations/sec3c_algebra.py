"""Sec. III C, the magnetization algebra: eqs. (56)-(61) and the sign statements.

The moment operators come from the package's own functional derivative
(Sec. III A-B): M = M0 + M_I,d and M_I,n = kappa lambda (M/|M|)(M0 . M), with |M|
written sqrt(M . M) so that every coefficient is exact.  Their commutators are
computed in canonical form.  The closure condition is taken in the
dimensionless variables lambda0 = lambda|M|, alpha0 = alpha|M| with (40).
The sign of alpha0 is not restricted: both signs are checked.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from symmag.algebra import commutator, dot, levi_civita
from symmag.conventions import gamma, hbar
from symmag.derivation import Derivation, Derived, Equal, step
from symmag.dimensions import E, H

from . import printed
from .printed import M_mag, _nc_vector, alpha, alpha0, kappa, lam
from .sec3a_rsi import M as M_vec
from .sec3a_rsi import rsi
from .sec3b_general_field import DIMENSIONS as SEC3B_DIMENSIONS
from .sec3b_general_field import _nondissipative, in_magnitude

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
    return Equal((det, a_n.rank(simplify=True)),
                 (sp.factor((1 - Q) * ((1 - Q) ** 2 + lam**2 * dot(M_vec, M_vec))), 1))


DIMLESS = {lam: alpha0 / (1 + alpha0**2) / M_mag, alpha: alpha0 / M_mag}


def eq58():
    c_hat, c_n = coefficients_57()
    diff = sp.factor(sp.simplify(scalar(c_n - c_hat).xreplace(DIMLESS)))
    lam0 = alpha0 / (1 + alpha0**2)
    return Derived(result=Equal(1 / kappa - kappa, 2 / alpha0),
                   by=Equal(diff, sp.factor(lam0 * (1 / kappa - kappa - 2 / alpha0))))


def scalar(x: sp.Expr) -> sp.Expr:
    """A scalar coefficient written with the magnitude symbol M instead of the components."""
    return in_magnitude(x)


def kappa_roots(a0):
    k = sp.Symbol("k")
    return sp.solve(sp.numer(sp.together(1 / k - k - 2 / a0)), k)


def eq59():
    """The roots of 1/kappa - kappa = 2/alpha0, matched to the printed labels by Vieta's
    formulas (valid for either sign of alpha0)."""
    roots = kappa_roots(alpha0)
    plus = next(r for r in roots if sp.simplify(r - (sp.sqrt(1 + alpha0**2) - 1) / alpha0) == 0)
    minus = next(r for r in roots if r is not plus)
    return Derived(result=Equal((sp.Symbol("kappa_plus", real=True), sp.Symbol("kappa_minus", real=True)),
                                (plus, minus)),
                   by=Equal((sp.simplify(plus + minus), sp.simplify(plus * minus)), (-2 / alpha0, -1)))


def bind59():
    roots = eq59().result.rhs
    return {sp.Symbol("kappa_plus", real=True): roots[0], sp.Symbol("kappa_minus", real=True): roots[1]}


def gamma_tot(kappa_value):
    c_hat, _ = coefficients_57()
    return sp.simplify(gamma * scalar(c_hat).xreplace(DIMLESS).xreplace({kappa: kappa_value}))


def eq60():
    """(60) follows from the canonical identity (57) once its two coefficients agree: check
    that they do for kappa_+ and for kappa_-, for either sign of alpha0."""
    c_hat, c_n = coefficients_57()
    gap = sp.factor(sp.simplify(scalar(c_hat - c_n).xreplace(DIMLESS)))
    roots = eq59().result.rhs
    a_pos, a_neg = sp.Symbol("a", positive=True), sp.Symbol("a", negative=True)
    checks = tuple(sp.simplify(gap.xreplace({kappa: k}).xreplace({alpha0: a}))
                   for k in roots for a in (a_pos, a_neg))
    return Equal(checks, (0, 0, 0, 0))


def eq61():
    (plus, minus) = eq59().result.rhs
    g_plus, g_minus = gamma_tot(plus), gamma_tot(minus)
    a_pos, a_neg = sp.Symbol("a", positive=True), sp.Symbol("a", negative=True)
    target = gamma / sp.sqrt(1 + alpha0**2)
    checks = tuple(sp.simplify((g - s * target).xreplace({alpha0: a}))
                   for g, s in ((g_plus, 1), (g_minus, -1)) for a in (a_pos, a_neg))
    return Derived(result=Equal((sp.Symbol("gamma_tot_plus", real=True),
                                 sp.Symbol("gamma_tot_minus", real=True)), (g_plus, g_minus)),
                   by=Equal(checks, (0, 0, 0, 0)))


def bind61():
    g_plus, g_minus = eq61().result.rhs
    return {sp.Symbol("gamma_tot_plus", real=True): g_plus, sp.Symbol("gamma_tot_minus", real=True): g_minus}


def kappa_signs():
    """kappa_+ = alpha0/(1 + sqrt(1 + alpha0^2)) and kappa_- = -(1 + sqrt(1 + alpha0^2))/alpha0
    after rationalizing, so sign(kappa_+) = sign(alpha0) = -sign(kappa_-) for every alpha0 != 0."""
    plus, minus = eq59().result.rhs
    root = 1 + sp.sqrt(1 + alpha0**2)
    forms = (sp.simplify(plus - alpha0 / root), sp.simplify(minus + root / alpha0), sp.sign(root))
    a = sp.Symbol("a", positive=True)
    signs = (sp.sign(a / root.xreplace({alpha0: a})), sp.sign(-root.xreplace({alpha0: a}) / a))
    return Derived(result=Equal((sp.Symbol("sign_kappa_plus"), sp.Symbol("sign_kappa_minus")), signs),
                   by=Equal(forms, (0, 0, 1)))


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
              "alpha0 = alpha M and (40): 1/kappa - kappa = 2/alpha0.", printed="58"),
        step("kappa-roots", "59", eq59, "The two roots of (58), for either sign of alpha0.",
              printed="59", bind=bind59),
        step("closed-algebra", "60", eq60, "For kappa = kappa_+ and kappa_- (either sign of "
              "alpha0) the two coefficients of the canonical (57) agree, so [M_tot^a, M_tot^b] = "
              "i hbar gamma_tot eps^{abc} M_tot^c.", conventions=("gamma-sign-open",)),
        step("renormalized-gamma", "61", eq61, "gamma_tot = gamma (1 - lambda0 alpha0 + kappa "
              "lambda0) = +gamma/sqrt(1 + alpha0^2) for kappa_+ and -gamma/sqrt(1 + alpha0^2) "
              "for kappa_-, for either sign of alpha0.", printed="61", bind=bind61,
              conventions=("gamma-sign-open",)),
        step("kappa-signs", None, kappa_signs, "kappa_+ > 0 and kappa_- < 0 for every alpha0 > 0 "
              "(not only 0 < alpha0 < 1); for alpha0 < 0 both signs flip.",
              printed="prose:kappa-signs"),
        step("gamma-tot-signs", None, gamma_tot_statements, "kappa_+: gamma_tot has gamma's sign "
              "and a smaller magnitude; kappa_-: the sign flips, so a negative gamma becomes "
              "positive, as the text says.", conventions=("gamma-sign-open",)),
    ),
)
