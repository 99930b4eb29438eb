"""The expectation map <.>: canonical operators -> named correlation symbols.

Ordering convention (fixed here; Sec. IV's hierarchy depends on it)
-----------------------------------------------------------------
Every collective PBW monomial is rewritten in the fully symmetrized (Weyl)
basis, W(M0^{a1} ... M0^{an}) = (1/n!) sum over orderings, plus lower-degree
terms that the algebra (8) supplies.  The averages of the symmetrized
products are the named symbols

    <1>                 = 1/V                      (average per volume, eq. (5))
    <M0^a>              = m^a                      (printed as <M0^a>)
    <W(M0^{a1}..M0^{an})> = G^{a1..an} / 2^(n-1)     (n >= 2)

so that G^{ab} = <[M0^a, M0^b]_+> exactly as the paper defines it below (67).
For n = 3 the paper's (71), G^{abc}_paper = <[[M0^a, M0^b]_+, M0^c]_+>, is the
average of four of the six orderings; its symmetric part is 2^2 W = our
G^{abc}, and the rest is a commutator that the algebra reduces to degree 2:
``expectation(anticommutator(anticommutator(Ma, Mb), Mc))`` gives G^{abc} plus
those lower-order terms (see ``paper_G3``).  The same holds for the nested
anticommutator at any order n: it has 2^(n-1) orderings, hence the
normalisation.  G symbols carry their indices sorted (they are symmetric).

Limits: operators of degree at most :data:`MAX_EXPECTATION_DEGREE`; a word is
symmetrized over its distinct orderings, at most :data:`MAX_ORDERINGS` of them (checked
before the work); one expectation shares one reduction budget
(``algebra.MAX_REDUCTION_WORK``) over all its reorderings.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from functools import cache

import sympy as sp
from sympy.utilities.iterables import multiset_permutations

from ..conventions import AXES, V
from ..errors import SymmagInputError
from .su2 import UNIT_COLLECTIVE, Op, Word, _normalise, pbw, reduction_budget

#: Most distinct orderings of one word symmetrized (a degree-12 word x^4 y^4 z^4 has 34650).
MAX_ORDERINGS = 50_000
#: Highest degree of an operator averaged: the Weyl decomposition of M0x^16 M0y takes about
#: 0.5 s, of degree 20 about 3 s, of degree 40 about 17 s.
MAX_EXPECTATION_DEGREE = 16
_LABEL = re.compile(r"[A-Za-z0-9_]*", re.ASCII)


def check_label(label) -> str:
    """A label is letters, digits and _ (``""`` for <.>, ``"0"`` for <.>_0): it becomes part
    of a symbol name that is parsed back (``G0^xy``)."""
    if not isinstance(label, str) or not _LABEL.fullmatch(label) or len(label) > 20:
        raise SymmagInputError(f"a label is up to 20 letters, digits or _, got {label!r}")
    return label


def check_word(word) -> Word:
    """An index word as a tuple of axes 0-2, from axes or names ("xyz", ("x", 1))."""
    if isinstance(word, str):
        word = tuple(word)
    try:
        items = tuple(word)
    except TypeError:
        raise SymmagInputError(f"a word is a sequence of axes x, y, z or 0, 1, 2, got {word!r}") from None
    out = []
    for a in items:
        if isinstance(a, str) and a in AXES:
            out.append(AXES.index(a))
        elif isinstance(a, int) and not isinstance(a, bool) and 0 <= a <= 2:
            out.append(int(a))
        else:
            raise SymmagInputError(f"a word is a sequence of axes x, y, z or 0, 1, 2, got {word!r}")
    return tuple(out)


def orderings(word: Word) -> int:
    """The number of distinct orderings of ``word`` (a multinomial coefficient)."""
    n = math.factorial(len(word))
    for a in set(word):
        n //= math.factorial(word.count(a))
    return n


def check_orderings(word: Word) -> None:
    n = orderings(word)
    if n > MAX_ORDERINGS:
        raise SymmagInputError(
            f"symmetrizing a word of degree {len(word)} means {n} orderings, more than the limit "
            f"symmag.algebra.expectation.MAX_ORDERINGS = {MAX_ORDERINGS}")


class Correlation(sp.Symbol):
    """A named average: ``m^x`` = <M0^x>, ``G^xy`` = <[M0^x, M0^y]_+>, ... ;
    a trailing label ``0`` (``G0^xy``) marks the average with rho_0."""

    @property
    def word(self) -> Word:
        """The (sorted) component indices: G^xyz -> (0, 1, 2)."""
        return tuple(AXES.index(c) for c in self.name.split("^")[1])

    def _latex(self, printer):
        head, idx = self.name.split("^")
        zero = head.endswith("0")
        if head.rstrip("0") == "m":
            body = rf"\langle \hat{{M}}_{{0}}^{{{idx}}} \rangle"
            return body + ("_{0}" if zero else "")
        return rf"G_{{0}}^{{{idx}}}" if zero else rf"G^{{{idx}}}"


def correlation_symbol(word: Word | str, label: str = "") -> Correlation:
    """G^{a1..an} (n >= 2) or m^a (n = 1) for the (sorted) index word."""
    word = check_word(word)
    check_label(label)
    if not word:
        raise ValueError("the average of the identity is 1/V, not a correlation symbol")
    idx = "".join(AXES[a] for a in sorted(word))
    head = "m" if len(word) == 1 else "G"
    return Correlation(f"{head}{label}^{idx}", real=True)


def moment_average(label: str = "") -> tuple[Correlation, Correlation, Correlation]:
    """(<M0^x>, <M0^y>, <M0^z>) as symbols."""
    return tuple(correlation_symbol((a,), label) for a in range(3))  # type: ignore[return-value]


@cache
def symmetrized(word: Word) -> tuple[tuple[Word, int, sp.Rational], ...]:
    """Canonical form of W(word): ((w, k, c), ...) meaning sum c u^k w."""
    check_orderings(word)
    count = orderings(word)
    out: dict[tuple[Word, int], sp.Rational] = defaultdict(lambda: sp.S.Zero)
    for p in multiset_permutations(list(word)):  # the distinct orderings only
        for w, k, c in pbw(tuple(p)):
            out[(w, k)] += sp.Rational(c, count)
    return tuple((w, k, c) for (w, k), c in sorted(out.items()) if c)


@cache
def weyl_decomposition(word: Word) -> tuple[tuple[Word, sp.Expr], ...]:
    """A sorted (PBW) word as sum coeff * W(w'), w' sorted, deg w' <= deg word."""
    word = tuple(word)
    if word != tuple(sorted(word)):
        raise ValueError("weyl_decomposition expects a PBW (sorted) word")
    out: dict[Word, sp.Expr] = defaultdict(lambda: sp.S.Zero)
    out[word] += 1
    # word = W(word) - (lower terms of W(word))
    for w, k, c in symmetrized(word):
        if w == word and k == 0:
            continue
        for w2, c2 in weyl_decomposition(w):
            out[w2] -= c * UNIT_COLLECTIVE**k * c2
    return tuple((w, sp.expand(c)) for w, c in sorted(out.items()) if sp.expand(c) != 0)


def _average_of_symmetrized(word: Word, label: str) -> sp.Expr:
    if not word:
        return 1 / V
    sym = correlation_symbol(word, label)
    return sym if len(word) == 1 else sym / 2 ** (len(word) - 1)


def expectation(op, label: str = "") -> sp.Expr:
    """<op> as a c-number expression in the symbols above (linear map)."""
    op = Op.coerce(op)
    check_label(label)
    if op.degree() > MAX_EXPECTATION_DEGREE:
        raise SymmagInputError(
            f"the average of an operator of degree {op.degree()} exceeds the limit "
            f"symmag.algebra.expectation.MAX_EXPECTATION_DEGREE = {MAX_EXPECTATION_DEGREE}")
    with reduction_budget():
        return _expectation(op, label)


def _expectation(op: Op, label: str) -> sp.Expr:
    total = []
    for k, c in op.terms.items():
        if not k:
            total.append(c / V)
            continue
        if k[0] != "M":
            raise SymmagInputError(
                "the expectation map takes collective operators (M0); per-site "
                "averages are not named correlation symbols yet"
            )
        for w, cw in weyl_decomposition(k[1]):
            total.append(c * cw * _average_of_symmetrized(w, label))
    return _normalise(sp.Add(*total))


def paper_G3(a: int, b: int, c: int, label: str = "") -> sp.Expr:
    """The paper's G^{abc} (71) = <[[M0^a, M0^b]_+, M0^c]_+> in our symbols."""
    from .su2 import M0, anticommutator

    return expectation(anticommutator(anticommutator(M0(a), M0(b)), M0(c)), label)

