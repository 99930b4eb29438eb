"""What a person reads: LaTeX and plain text of relations, sides and residuals.

Display only -- nothing here is checked, and nothing checked passes through here
(:mod:`symmag.derivation` calls these on the results of its checks).  May use
:mod:`symmag.algebra` and SymPy's printers; must not import :mod:`symmag.derivation`.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .algebra import Op
from .conventions import latex


def side_latex(x) -> str:
    """One side of a relation: an operator, a c-number, or a tuple of components."""
    if isinstance(x, Op):
        return x.latex()
    if isinstance(x, (tuple, list)):
        return r"\left(" + ", ".join(side_latex(e) for e in x) + r"\right)"
    return latex(sp.sympify(x))


def relation_latex(lhs, rhs, rel: str = "=") -> str:
    """``lhs rel rhs`` in LaTeX (``rel`` e.g. ``=`` or ``\\parallel``)."""
    return f"{side_latex(lhs)} {rel} {side_latex(rhs)}"


def parts_latex(parts: list[tuple[int, Any]], n_components: int) -> str | None:
    """The non-vanishing components ``(index, expression)`` of a residual; None when none."""
    if not parts:
        return None
    tex = [(n, p.latex() if isinstance(p, Op) else latex(p)) for n, p in parts]
    if n_components == 1:
        return tex[0][1]
    return r",\quad ".join(f"[{n}]:\\ {p}" for n, p in tex)


def side_text(x) -> str:
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(side_text(e) for e in x) + ")"
    return str(x) if isinstance(x, Op) else sp.sstr(sp.sympify(x))


def relation_text(lhs, rhs, rel: str = "=") -> str:
    """``lhs rel rhs`` as plain text."""
    return f"{side_text(lhs)} {rel} {side_text(rhs)}"


def parts_text(parts: list[tuple[int, Any]], n_components: int) -> str | None:
    if not parts:
        return None
    if n_components == 1:
        return side_text(parts[0][1])
    return "; ".join(f"[{n}]: {side_text(p)}" for n, p in parts)
