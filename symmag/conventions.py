"""One place for the conventions every derivation states (issue: core, item 5).

Everything here is data: symbols and short statements.  A derivation step
names the conventions it relies on by key (``Step.conventions``), and the
record prints the statement, so a reader sees e.g. which sign of gamma a
result needs.

Units: the paper mixes conventions (Gaussian-style fields, a volume V in the
average (5)).  symmag keeps hbar, gamma and V symbolic and never substitutes
numbers for them in a symbolic check; dimensions are tracked abstractly.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter

#: Planck's constant over 2 pi.  The extraction prints it as ``~``.
hbar = sp.Symbol("hbar", positive=True)
#: Gyromagnetic ratio, sign left open.  The paper writes both gamma and -|gamma|.
gamma = sp.Symbol("gamma", real=True, nonzero=True)
#: |gamma|, used where the paper writes -|gamma| (eq. (16), (29), (41)).
gamma_abs = sp.Symbol("gamma_abs", positive=True)
#: Volume of the system in the average (5): <A> = Tr{rho A} / V.
V = sp.Symbol("V", positive=True)
#: Number of sites (spins); symbolic, never hard-wired.
N = sp.Symbol("N", integer=True, positive=True)
#: Time.
t = sp.Symbol("t", real=True)

AXES = ("x", "y", "z")

#: Statements a step can cite by key.  Keep them one sentence each.
STATEMENTS: dict[str, str] = {
    "gamma-sign-open": "gamma is a nonzero real symbol; no sign is assumed.",
    "gamma-negative": "gamma = -|gamma| (electron-like moment), as the paper "
    "writes in (16), (29) and (41).",
    "gamma-positive": "gamma = +|gamma|.",
    "hbar-symbolic": "hbar is kept as a positive symbol; no units are substituted.",
    "average-per-volume": "<A> = Tr{rho A}/V as in (5), so <1> = 1/V.",
    "field-derivative": "dH_eff/dH_ext = 1 (the identity) with the c-number "
    "magnetization M held fixed, so -dH/dH_ext is taken at fixed M.",
    "distinct-site-symbols": "distinct site symbols (i, j, ...) label distinct "
    "sites; a sum over a site runs over all N sites unless restricted.",
    "summation-convention": "repeated Cartesian indices are summed over x, y, z.",
}

#: LaTeX names of the symbols, as the paper writes them.
LATEX_NAMES: dict[sp.Symbol, str] = {
    hbar: r"\hbar",
    gamma: r"\gamma",
    gamma_abs: r"|\gamma|",
    V: "V",
    N: "N",
    t: "t",
}


#: How the derivations' names print, as the paper writes them (regex on the whole name,
#: tried in order; "{a}" is a trailing Cartesian axis).  Placeholders of printed equations
#: (M_I, D_I, H_r^d, ...) and the names given apart where the extraction lost overbars
#: (lambdabar46, lambdabar49) are here; anything else falls back to SymPy's own rules.
PAPER_NAMES: tuple[tuple[str, str], ...] = (
    (r"H_eff_(?P<a>[xyz])", r"H_{{\mathrm{{eff}}}}^{{{a}}}"),
    (r"H_ext", r"H_{{\mathrm{{ext}}}}"),
    (r"MhatI_(?P<a>[xyz])", r"\hat{{M}}_{{I}}^{{{a}}}"),
    (r"MhatId_(?P<a>[xyz])", r"\hat{{M}}_{{I,d}}^{{{a}}}"),
    (r"MhatIn_(?P<a>[xyz])", r"\hat{{M}}_{{I,n}}^{{{a}}}"),
    (r"DhatI_(?P<a>[xyz])", r"\hat{{D}}_{{I}}^{{{a}}}"),
    (r"dMhatI_dt_(?P<a>[xyz])", r"\dot{{\hat{{M}}}}_{{I}}^{{{a}}}"),
    (r"dMI_int_dt_(?P<a>[xyz])", r"\dot{{\hat{{M}}}}_{{I,\mathrm{{int}}}}^{{{a}}}"),
    (r"Hdr_(?P<a>[xyz])", r"H_{{r}}^{{d,{a}}}"),
    (r"Hnr_(?P<a>[xyz])", r"H_{{r}}^{{n,{a}}}"),
    (r"Mtot_(?P<a>[xyz])", r"\hat{{M}}_{{\mathrm{{tot}}}}^{{{a}}}"),
    (r"Ssum_(?P<a>[xyz])", r"\textstyle\sum_{{i}}\hat{{S}}_{{i}}^{{{a}}}"),
    (r"DIavg_(?P<a>[xyz])", r"\langle\hat{{D}}_{{I}}^{{{a}}}\rangle"),
    (r"Cavg_(?P<a>[xyz])", r"\tfrac{{\lambda}}{{i\hbar}}\langle[\hat{{M}}^{{{a}}},\hat{{H}}_{{I}}]\rangle"),
    (r"D_(?P<a>[xyz])", r"D^{{{a}}}"),
    # the named matrices of the printed (10)-(28), checked on explicit matrices
    (r"MI_int_(?P<a>[xyz])", r"\hat{{M}}_{{I,\mathrm{{int}}}}^{{{a}}}"),
    (r"M0_int_(?P<a>[xyz])", r"\hat{{M}}_{{0,\mathrm{{int}}}}^{{{a}}}"),
    (r"dM0_int_dt_(?P<a>[xyz])", r"\dot{{\hat{{M}}}}_{{0,\mathrm{{int}}}}^{{{a}}}"),
    (r"dMI_dt_(?P<a>[xyz])", r"\dot{{\hat{{M}}}}_{{I}}^{{{a}}}"),
    (r"DI_(?P<a>[xyz])", r"\hat{{D}}_{{I}}^{{{a}}}"),
    (r"MI_(?P<a>[xyz])", r"\hat{{M}}_{{I}}^{{{a}}}"),
    (r"dM_dt_(?P<a>[xyz])", r"\dot{{M}}^{{{a}}}"),
    (r"M_0_(?P<a>[xyz])", r"M_{{0}}^{{{a}}}"),
    (r"H_ext_(?P<a>[xyz])", r"H_{{\mathrm{{ext}}}}^{{{a}}}"),
    (r"Hdr(?P<n>46|49)_(?P<a>[xyz])", r"H_{{r}}^{{d,{a}}}\big|_{{({n})}}"),
    (r"H_int", r"\hat{{H}}_{{\mathrm{{int}}}}"),
    (r"I0", r"\hat{{I}}_{{0}}"),
    (r"I0_t", r"\hat{{I}}_{{0}}(t)"),
    (r"I0_t0", r"\hat{{I}}_{{0}}(t_{{0}})"),
    (r"dI0_dt", r"\frac{{d\hat{{I}}_{{0}}}}{{dt}}"),
    (r"drho_0_dt", r"\frac{{d\hat{{\rho}}_{{0}}}}{{dt}}"),
    (r"drho_int_dt", r"\frac{{d\hat{{\rho}}_{{\mathrm{{int}}}}}}{{dt}}"),
    (r"dG_(?P<a>[xyz])(?P<b>[xyz])", r"\dot{{G}}^{{{a}{b}}}"),
    (r"Gp_(?P<a>[xyz])(?P<b>[xyz])(?P<c>[xyz])", r"G^{{{a}{b}{c}}}"),  # (71), the nested anticommutator
    (r"drho_dt", r"\frac{{d\hat{{\rho}}}}{{dt}}"),
    (r"rho_int", r"\hat{{\rho}}_{{\mathrm{{int}}}}"),
    (r"rho_lambda", r"\hat{{\rho}}_{{\lambda}}"),
    (r"Texp_plus", r"T\!\exp_{{+}}"),
    (r"Texp_minus", r"T\!\exp_{{-}}"),
    (r"U_t0_t", r"U(t_{{0}},t)"),
    (r"U_t_t0", r"U(t,t_{{0}})"),
    (r"Integral_of_commutator", r"\textstyle\int_{{t_{{0}}}}^{{t}}[\hat{{H}}_{{I}},\hat{{\rho}}_{{0}}]\,dt'"),
    (r"M_z_inf", r"M_{{z}}(\infty)"),
    (r"lambdabar46_reversal", r"\bar{{\lambda}}_{{0}}^{{(46)}}\big|_{{\mathrm{{rev}}}}"),
    (r"lambdabar(?P<n>46|49)", r"\bar{{\lambda}}_{{0}}^{{({n})}}"),
    (r"lambda0_(?P<n>\d+)_ansatz", r"\lambda_{{0}}^{{({n})}}\big|_{{\mathrm{{ansatz}}}}"),
    (r"lambda0_(?P<n>\d+)", r"\lambda_{{0}}^{{({n})}}"),
    (r"alpha0_(?P<n>\d+)_ansatz", r"\alpha_{{0}}^{{({n})}}\big|_{{\mathrm{{ansatz}}}}"),
    (r"alpha0_(?P<n>\d+)", r"\alpha_{{0}}^{{({n})}}"),
    # the readings of Sec. III B: Gilbert damping, gamma_eff/gamma and the dM/dt coefficient of D
    (r"alpha_eff_M_(?P<n>\d+)", r"\alpha_{{\mathrm{{eff}}}}^{{({n})}} M"),
    (r"alpha_eff_(?P<n>\d+)", r"\alpha_{{\mathrm{{eff}}}}^{{({n})}}"),
    (r"gamma_ratio_(?P<n>\d+)", r"\gamma_{{\mathrm{{eff}}}}^{{({n})}}/\gamma"),
    (r"c_rate_(?P<n>\d+)", r"c_{{\dot{{M}}}}^{{({n})}}"),
    (r"prec_rate", r"\omega_{{\mathrm{{prec}}}}"),
    (r"relax_rate", r"\Gamma_{{\mathrm{{relax}}}}"),
    (r"rate_(?P<n>\d+)", r"\Gamma^{{({n})}}"),
    (r"taubar", r"\bar{{\tau}}"),
    (r"kappa_plus", r"\kappa_{{+}}"),
    (r"kappa_minus", r"\kappa_{{-}}"),
    (r"gamma_tot_plus", r"\gamma_{{\mathrm{{tot}},+}}"),
    (r"gamma_tot_minus", r"\gamma_{{\mathrm{{tot}},-}}"),
    (r"gamma_tot", r"\gamma_{{\mathrm{{tot}}}}"),
    (r"sign_kappa_plus", r"\operatorname{{sign}}\kappa_{{+}}"),
    (r"sign_kappa_minus", r"\operatorname{{sign}}\kappa_{{-}}"),
    (r"gamma_abs", r"|\gamma|"),
)


def paper_name(name: str) -> str | None:
    """LaTeX of a symbol or function name as the paper writes it, or None (SymPy's rules)."""
    for pattern, template in PAPER_NAMES:
        m = re.fullmatch(pattern, name)
        if m:
            return template.format(**m.groupdict())
    return None


class PaperLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the paper's names (LATEX_NAMES, PAPER_NAMES), functions of t
    printed without "(t)", and powers of superscripted operators parenthesized."""

    def __init__(self, symbol_names: dict | None = None):
        self.names = {**LATEX_NAMES, **(symbol_names or {})}
        super().__init__({"symbol_names": self.names})

    def _print_Symbol(self, expr, style="plain"):
        if expr in self.names:
            return self.names[expr]
        return paper_name(expr.name) or super()._print_Symbol(expr, style)

    def _print_Pow(self, expr):
        base, e = expr.args
        if e.is_Integer and e > 1 and not base.is_Symbol:
            b = self._print(base)
            if "^" in b and not b.startswith(r"\left("):  # e.g. an operator's M_0^x
                return rf"\left({b}\right)^{{{e}}}"
        return super()._print_Pow(expr)

    def _print_Function(self, expr, exp=None):
        if not isinstance(expr, sp.core.function.AppliedUndef):
            return super()._print_Function(expr, exp)
        fname = type(expr).__name__
        name = paper_name(fname) or super()._print_Symbol(sp.Symbol(fname))
        if expr.args != (t,):  # a function of t prints as the paper writes it: M_x, not M_x(t)
            name += r"\left(" + ", ".join(self._print(a) for a in expr.args) + r"\right)"
        if exp is None:
            return name
        return rf"\left({name}\right)^{{{exp}}}" if "^" in name else f"{name}^{{{exp}}}"


def latex(expr: sp.Basic, symbol_names: dict | None = None) -> str:
    """LaTeX of a c-number expression with the paper's symbol names."""
    return PaperLatexPrinter(symbol_names).doprint(expr)
