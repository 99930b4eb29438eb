"""What a person reads: LaTeX and plain text of relations, sides and residuals.

Display only -- nothing here is checked, and nothing checked passes through here
(:mod:`symmag.checking.derivation` calls these on the results of its checks).  May use
:mod:`symmag.algebra.su2` and SymPy's printers; must not import :mod:`symmag.checking.derivation`.

Every c-number (a side, a component, an operator's coefficient, a residual) goes through
:func:`tidy` before it is printed: an exactly equal, shorter form for the eye --

* common factors pulled out (``factor_terms``);
* small rational functions put over one denominator and factored (``cancel``, ``factor``,
  kept only where they shorten);
* the squared norm of a 3-vector recognised: ``M_x**2 + M_y**2 + M_z**2`` (components
  ``NAME_x``, ``NAME_y``, ``NAME_z`` of one argument, as :func:`symmag.algebra.fields.vector_function`
  makes them) is shown as ``|M|**2`` (LaTeX ``|M|^{2}``).

An operator's terms are shown with their common coefficient pulled out:
``i hbar lambda M_z (-M_y S^x + M_x S^y)``.  The work is bounded: beyond ``TIDY_NODES``
expression nodes nothing is done, ``factor`` runs only below ``FACTOR_NODES`` and
``FACTOR_GENERATORS``, an operator's common factor only below ``OP_NODES``; results
are cached, and deterministic (SymPy's canonical orderings, no hash-order dependence).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from ..conventions import AXES, latex
from .printing import terms_latex
from .su2 import Op

#: above this many expression nodes, only common factors are pulled out
TIDY_NODES = 3000
#: a numerator or denominator is factored only below this many nodes
FACTOR_NODES = 300
#: ... and only with at most this many generators (factoring is exponential in them): a
#: residual of 600 nodes in 10 generators took 8 s to factor, a failed step's display minutes
FACTOR_GENERATORS = 8
#: an operator whose coefficients have more nodes than this is printed as it is
OP_TIDY_NODES = 5000
#: an operator's common coefficient is pulled out only below this many coefficient nodes
OP_NODES = 1500
#: a sum inside an expression is rewritten through norms only below this many nodes
LOCAL_NODES = 300

_AXIS_NAME = re.compile(r"^(?P<base>.+)_(?P<axis>[xyz])$")
#: the norms introduced by :func:`tidy`: symbol -> (LaTeX, text)
_NORMS: dict[sp.Symbol, str] = {}


def _nodes(e, cap: int = 10**6) -> int:
    n = 0
    for _ in sp.preorder_traversal(e):
        n += 1
        if n > cap:
            break
    return n


def _component_triples(e: sp.Expr) -> list[tuple[sp.Expr, sp.Expr, sp.Expr, sp.Symbol]]:
    """(x, y, z, norm) for every 3-vector whose three components occur in ``e``."""
    groups: dict[tuple, dict[str, sp.Expr]] = {}
    for a in e.atoms(AppliedUndef, sp.Symbol):
        name = type(a).__name__ if isinstance(a, AppliedUndef) else a.name
        m = _AXIS_NAME.match(name)
        if m is None:
            continue
        key = (m["base"], isinstance(a, AppliedUndef), a.args)
        groups.setdefault(key, {})[m["axis"]] = a
    out = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], sp.default_sort_key(sp.Tuple(*k[2])))):
        comps = groups[key]
        if len(comps) != 3:
            continue
        x, y, z = (comps[ax] for ax in AXES)
        base_tex = re.sub(r"(_\{x\}|\^\{x\})$", "", latex(x))
        norm = sp.Symbol(f"|{key[0]}|", positive=True)
        _NORMS.setdefault(norm, f"|{base_tex}|")
        out.append((x, y, z, norm))
    return out


def _eliminate(p: sp.Expr, comps: tuple, axis: int, norm: sp.Symbol) -> sp.Expr:
    """The polynomial ``p`` with even powers of component ``axis`` rewritten through the norm."""
    c = comps[axis]
    rest = norm**2 - sum(comps[b] ** 2 for b in range(3) if b != axis)

    def squares(x):
        return x.is_Pow and x.base == c and x.exp.is_Integer and x.exp >= 2

    return sp.expand(p.replace(squares, lambda x: c ** (int(x.exp) % 2) * rest ** (int(x.exp) // 2)))


def _with_norms(p: sp.Expr, triples=None) -> sp.Expr:
    """``p`` (a polynomial in its components) with recognised norms, when that shortens it."""
    for *comps, norm in (_component_triples(p) if triples is None else triples):
        best, size = p, _nodes(p)
        for axis in range(3):
            if not any(q.base == comps[axis] and q.exp.is_Integer and q.exp >= 2 for q in p.atoms(sp.Pow)):
                continue
            cand = _eliminate(p, tuple(comps), axis, norm)
            n = _nodes(cand)
            if n < size:
                best, size = cand, n
                break  # a function of the norm reduces the same way whichever axis goes
        p = best
    return p


def _norms_inside(e: sp.Expr) -> sp.Expr:
    """``e`` with every small sum rewritten through recognised norms where that shortens it
    (e.g. the factor ``M_x**2 + M_y**2 + M_z**2`` of a product)."""
    triples = _component_triples(e)
    if not triples:
        return e
    squares = {c**2 for *comps, _ in triples for c in comps}

    def local(add):
        if _nodes(add, LOCAL_NODES) > LOCAL_NODES or not any(a.has(*squares) for a in add.args):
            return add
        return _with_norms(add, triples)

    return e.replace(lambda x: x.is_Add, local)


def _generators(p: sp.Expr) -> set:
    """The polynomial generators of an expanded ``p`` (cheaply, without building a Poly)."""
    gens = set()
    for term in sp.Add.make_args(p):
        for f in sp.Mul.make_args(term):
            if f.is_Number or f is sp.I:
                continue
            gens.add(f.base if f.is_Pow and f.exp.is_Integer else f)
    return gens


def _shorter_factored(p: sp.Expr) -> sp.Expr:
    """``p`` factored when it is small and that does not lengthen it; else its common factors."""
    if p.is_Atom:
        return p
    if _nodes(p, FACTOR_NODES) > FACTOR_NODES or len(_generators(p)) > FACTOR_GENERATORS \
            or p.has(sp.I):  # over the Gaussian rationals SymPy's factoring is slower still
        return sp.factor_terms(p)
    try:
        f = sp.factor(p)
    except (sp.PolynomialError, NotImplementedError, ValueError, TypeError):
        return sp.factor_terms(p)
    return f if _nodes(f) <= _nodes(p) else sp.factor_terms(p)


def _plain_sign(e: sp.Expr) -> sp.Expr:
    """-(a + b) shown as -a - b (SymPy prints the former with bare parentheses)."""
    if e.is_Mul and e.args[0] is sp.S.NegativeOne and len(e.args) == 2 and e.args[1].is_Add:
        return sp.Add(*[-a for a in e.args[1].args])
    return e


@lru_cache(maxsize=8192)
def _tidy(e: sp.Expr) -> sp.Expr:
    if _nodes(e, TIDY_NODES) > TIDY_NODES:
        return e  # too big to tidy within the budget (and to read in any form)
    candidates = [e]
    try:
        f = _norms_inside(e)
        if not e.has(sp.Integral, sp.Sum, sp.Piecewise) and len(_generators(e)) <= 2 * FACTOR_GENERATORS:
            num, den = sp.fraction(sp.together(f))
            num, den = _with_norms(num), _with_norms(den)
            candidates.append(_shorter_factored(num) / _shorter_factored(den))
        candidates.append(sp.factor_terms(f))
    except (sp.PolynomialError, NotImplementedError, ValueError, TypeError, RecursionError):
        pass
    return _plain_sign(min(candidates, key=_nodes))  # the first of the shortest: deterministic


def tidy(e) -> Any:
    """The display form of a c-number: exactly equal to ``e``, shorter to read (see the
    module docstring).  Anything else (an operator, a matrix, a number) comes back as is."""
    if not isinstance(e, sp.Expr) or e.is_Atom or not e.free_symbols or not e.is_commutative:
        return e
    return _tidy(e)


def _tex(e) -> str:
    return latex(e, _NORMS)


def _op_latex(op: Op) -> str:
    """An operator with tidied coefficients and their common factor pulled out."""
    terms = op.sorted_terms()
    total = 0
    for _, c in terms:
        total += _nodes(c, OP_TIDY_NODES)
        if total > OP_TIDY_NODES:  # far too long to read in any form: not worth the time
            return terms_latex(terms, None, _NORMS)
    terms = [(k, tidy(c)) for k, c in terms]
    if 2 <= len(terms) and sum(_nodes(c, OP_NODES) for _, c in terms) <= OP_NODES:
        marks = [sp.Symbol(f"symmag_term_{n:05d}", commutative=True) for n in range(len(terms))]
        try:
            common, rest = sp.factor_terms(sp.Add(*[c * x for (_, c), x in zip(terms, marks)])) \
                .as_independent(*marks, as_Add=False)
        except (sp.PolynomialError, NotImplementedError, ValueError, TypeError):
            common, rest = sp.S.One, None
        if common != 1 and rest is not None and rest.is_Add:
            inner = [(k, rest.coeff(x)) for (k, _), x in zip(terms, marks)]
            body = terms_latex(inner, None, _NORMS)
            if common == -1:
                return rf"- \left({body}\right)"
            lead = _tex(common)
            if isinstance(common, sp.Add):
                lead = rf"\left({lead}\right)"
            return rf"{lead} \left({body}\right)"
    return terms_latex(terms, None, _NORMS)


def side_latex(x) -> str:
    """One side of a relation: an operator, a c-number, or a tuple of components."""
    if isinstance(x, Op):
        return _op_latex(x)
    if isinstance(x, (tuple, list)):
        return r"\left(" + ", ".join(side_latex(e) for e in x) + r"\right)"
    return _tex(tidy(sp.sympify(x)))


def relation_latex(lhs, rhs, rel: str = "=") -> str:
    """``lhs rel rhs`` in LaTeX (``rel`` e.g. ``=`` or ``\\parallel``)."""
    return f"{side_latex(lhs)} {rel} {side_latex(rhs)}"


def parts_latex(parts: list[tuple[int, Any]], n_components: int) -> str | None:
    """The non-vanishing components ``(index, expression)`` of a residual; None when none."""
    if not parts:
        return None
    tex = [(n, side_latex(p)) for n, p in parts]
    if n_components == 1:
        return tex[0][1]
    return r",\quad ".join(f"[{n}]:\\ {p}" for n, p in tex)


def _op_text(op: Op) -> str:
    if not op.terms:
        return "0"
    from .su2 import key_str

    out = []
    for k, c in op.sorted_terms():
        mono = key_str(k)
        out.append(f"({sp.sstr(tidy(c))})" + (f"*{mono}" if mono else ""))
    return " + ".join(out)


def side_text(x) -> str:
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(side_text(e) for e in x) + ")"
    return _op_text(x) if isinstance(x, Op) else sp.sstr(tidy(sp.sympify(x)))


def relation_text(lhs, rhs, rel: str = "=") -> str:
    """``lhs rel rhs`` as plain text."""
    return f"{side_text(lhs)} {rel} {side_text(rhs)}"


def parts_text(parts: list[tuple[int, Any]], n_components: int) -> str | None:
    if not parts:
        return None
    if n_components == 1:
        return side_text(parts[0][1])
    return "; ".join(f"[{n}]: {side_text(p)}" for n, p in parts)
