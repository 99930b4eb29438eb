"""LaTeX of canonical operators, with the paper's symbol names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from ..conventions import AXES, LATEX_NAMES, latex

if TYPE_CHECKING:  # annotations only: su2.Op.latex imports this module when it prints
    from .su2 import Key, Op


def _power_runs(word: tuple[int, ...]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for a in word:
        if runs and runs[-1][0] == a:
            runs[-1] = (a, runs[-1][1] + 1)
        else:
            runs.append((a, 1))
    return runs


def _factors(name: str, word: tuple[int, ...]) -> str:
    out = []
    for a, n in _power_runs(word):
        g = name.replace("@AX@", AXES[a])
        out.append(g if n == 1 else f"\\left({g}\\right)^{{{n}}}")
    return " ".join(out)


def monomial_latex(k: Key, symbol_names: dict | None = None) -> str:
    """LaTeX of one canonical monomial; bound sites print as k_1, k_2, ...

    A primed sum runs over sites distinct from each other and from the free
    sites of the same term (the convention of :mod:`symmag.algebra.su2`)."""
    if not k:
        return ""
    if k[0] == "M":
        return _factors(r"\hat{M}_{0}^{@AX@}", k[1])
    names = symbol_names or {}
    parts = []
    for s, w in k[1]:
        site = names.get(s, sp.latex(s))
        parts.append(_factors(r"\hat{S}_{" + site + r"}^{@AX@}", w))
    dummies = [f"k_{{{n + 1}}}" for n in range(len(k[2]))]
    for d, w in zip(dummies, k[2]):
        parts.append(_factors(r"\hat{S}_{" + d + r"}^{@AX@}", w))
    body = " ".join(parts)
    if k[2]:
        body = rf"{{\sum_{{{', '.join(dummies)}}}}}' {body}"
    return body


def op_latex(op: Op, symbol_names: dict | None = None) -> str:
    return terms_latex(op.sorted_terms(), symbol_names)


def terms_latex(terms, symbol_names: dict | None = None, coefficient_names: dict | None = None) -> str:
    """LaTeX of ``(key, coefficient)`` pairs in the given order (an operator's terms);
    ``coefficient_names`` name further symbols of the coefficients only (display norms)."""
    names = {**LATEX_NAMES, **(symbol_names or {})}
    cnames = {**names, **(coefficient_names or {})}
    out = []
    for k, c in terms:
        mono = monomial_latex(k, names)
        coeff = latex(c, cnames)
        if not mono:
            term = coeff
        elif c == 1:
            term = mono
        elif c == -1:
            term = "-" + mono
        elif isinstance(c, sp.Add):
            term = rf"\left({coeff}\right) {mono}"
        else:
            term = f"{coeff} {mono}"
        if out and not term.startswith("-"):
            term = "+ " + term
        out.append(term)
    return " ".join(out) if out else "0"
