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

import sympy as sp

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


def latex(expr: sp.Basic) -> str:
    """LaTeX of a c-number expression with the paper's symbol names."""
    return sp.latex(expr, symbol_names=LATEX_NAMES)

