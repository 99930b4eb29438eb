"""Closures of the correlation hierarchy (beyond the paper, which stops at "has to be
truncated", Sec. IV).

Work with the raw symmetrized moments mu_w = Tr{rho W(w)} = V <W(w)>, so that
<M0^a> = m^a = mu_a/V and G^w = 2^(n-1) mu_w/V (the convention of
:mod:`symmag.algebra.expectation`).  Symmetrized (Weyl) moments combine like classical
moments, so the classical closures apply to them:

* mean field: mu_w = prod_{a in w} mu_a (all correlations factorize);
* cumulant expansion at order k: every joint cumulant of more than k indices is zero,
  and mu_w for |w| > k follows from the moment-cumulant relation over set partitions
  (the closure QuantumCumulants.jl applies to operator averages).

* lowest order (the paper's (72)-(76), generalized): the one-point equations exact, the
  two-point functions evolved by the part of H linear in M0 alone -- the zeroth order in the
  interaction of (68)-(69), where rho_lambda(t) -> rho_0(t0) in the interaction picture of the
  Zeeman term (for the paper's G^ab = I delta^az delta^bz along the field this is G frozen).

Each closure returns a closed system {symbol: d symbol/dt} of SymPy expressions in the
kept symbols and the parameters; its assumptions are in the docstrings.  :func:`close`
takes a closure by name (:data:`CLOSURES`), the form ``symmag compare`` and
:mod:`derivations.models` use.

May use: :mod:`symmag.theory.hierarchy`, :mod:`symmag.algebra.expectation`, :mod:`symmag.algebra.su2`, SymPy.

Limits: closure orders up to ``hierarchy.MAX_ORDER``, and a cumulant of at most
:data:`MAX_CUMULANT_WORD` indices (its set partitions are enumerated).
"""

from __future__ import annotations

import itertools
from functools import cache

import sympy as sp
from sympy.utilities.iterables import multiset_partitions

from ..algebra.expectation import Correlation, check_word, correlation_symbol
from ..algebra.su2 import Op
from ..conventions import V
from ..errors import SymmagInputError
from .hierarchy import _hamiltonian, check_order, correlation_rate

Word = tuple[int, ...]

#: Most indices of a moment expressed through cumulants: Bell(8) = 4140 set partitions
#: take about 3.5 s, Bell(9) = 21147 about 24 s.
MAX_CUMULANT_WORD = 8


def _check_cumulant_word(word) -> Word:
    word = check_word(word)
    if len(word) > MAX_CUMULANT_WORD:
        raise SymmagInputError(
            f"a moment of {len(word)} indices through cumulants exceeds the limit "
            f"symmag.theory.closures.MAX_CUMULANT_WORD = {MAX_CUMULANT_WORD}")
    return word


def moment(word: Word) -> sp.Expr:
    """mu_w = V <W(w)> in correlation symbols."""
    n = len(word)
    sym = correlation_symbol(tuple(sorted(word)))
    return V * sym if n == 1 else V * sym / 2 ** (n - 1)


def correlation_from_moment(word: Word, mu: sp.Expr) -> sp.Expr:
    """The correlation symbol's value given its raw moment mu_w."""
    n = len(word)
    return mu / V if n == 1 else 2 ** (n - 1) * mu / V


def _partitions(word: Word):
    """Set partitions of the positions of ``word`` (as lists of index tuples)."""
    for part in multiset_partitions(list(range(len(word)))):
        yield [tuple(word[i] for i in block) for block in part]


@cache
def cumulant(word: Word) -> sp.Expr:
    """The joint cumulant of the indices in ``word``, through moments (Moebius inversion)."""
    word = tuple(sorted(_check_cumulant_word(word)))
    total = moment(word)
    for part in _partitions(word):
        if len(part) == 1:
            continue
        prod = sp.S.One
        for block in part:
            prod *= cumulant(tuple(sorted(block)))
        total -= prod
    return sp.expand(total)


def cumulant_closure_moment(word: Word, order: int) -> sp.Expr:
    """mu_w with every cumulant of more than ``order`` indices set to zero."""
    word = tuple(sorted(_check_cumulant_word(word)))
    order = check_order(order, "the cumulant order")
    total = sp.S.Zero
    for part in _partitions(word):
        if any(len(block) > order for block in part):
            continue
        prod = sp.S.One
        for block in part:
            prod *= moment(block) if len(block) == 1 else cumulant(tuple(sorted(block)))
        total += prod
    return sp.expand(total)


def _words(order: int):
    for n in range(1, order + 1):
        yield from itertools.combinations_with_replacement(range(3), n)


def _close(hamiltonian, order: int, closure_value, label: str = "") -> dict[sp.Symbol, sp.Expr]:
    order = check_order(order, "the closure order")
    hamiltonian = _hamiltonian(hamiltonian)
    kept = {correlation_symbol(w) for w in _words(order)}
    system = {}
    for w in _words(order):
        rate = correlation_rate(w, hamiltonian, label)
        replace = {}
        for s in rate.free_symbols:
            if isinstance(s, Correlation) and s not in kept:
                replace[s] = correlation_from_moment(s.word, closure_value(s.word))
        system[correlation_symbol(w)] = sp.expand(rate.xreplace(replace))
    return system


def mean_field(hamiltonian, order: int = 1) -> dict[sp.Symbol, sp.Expr]:
    """Closed equations for the correlations up to ``order`` with every higher moment
    factorized: mu_w = prod mu_a.  Assumes an uncorrelated (product) state at all times."""
    def value(word):
        out = sp.S.One
        for a in word:
            out *= moment((a,))
        return out

    return _close(hamiltonian, order, value)


def cumulant_expansion(hamiltonian, order: int = 2) -> dict[sp.Symbol, sp.Expr]:
    """Closed equations for the correlations up to ``order``, with the cumulants of more
    than ``order`` indices set to zero (order 1 is the mean field)."""
    order = check_order(order, "the cumulant order")
    return _close(hamiltonian, order, lambda word: cumulant_closure_moment(word, order))


def is_closed(system: dict[sp.Symbol, sp.Expr]) -> bool:
    """No correlation symbol on a right-hand side outside the system's own variables."""
    kept = set(system)
    for rhs in system.values():
        if any(isinstance(s, Correlation) and s not in kept for s in rhs.free_symbols):
            return False
    return True


def linear_part(hamiltonian) -> Op:
    """The part of ``hamiltonian`` of degree one in M0 in the symmetrized (Weyl) basis -- the Zeeman
    part -M0 . H_eff of the paper's models.  Not the degree-one terms of the canonical (PBW) form:
    those carry the i gamma hbar M0 of reordering a symmetric product, which is not Hermitian."""
    from ..algebra.expectation import weyl_decomposition
    from ..algebra.su2 import M0

    h = _hamiltonian(hamiltonian)
    if any(k and k[0] != "M" for k in h.terms):
        raise SymmagInputError("the closures need a Hamiltonian polynomial in M0 (no per-site operators)")
    coefficient = [sp.S.Zero] * 3
    for k, c in h.terms.items():
        for w, cw in weyl_decomposition(k[1]) if k else ():
            if len(w) == 1:
                coefficient[w[0]] += c * cw
    return sum((sp.expand(coefficient[a]) * M0(a) for a in range(3)), Op())


def lowest_order(hamiltonian, label: str = "") -> dict[sp.Symbol, sp.Expr]:
    """The one-point equations under the whole ``hamiltonian``, the two-point functions G^{ab} under
    its linear part alone (:func:`linear_part`): the zeroth order of (68)-(69) in everything beyond
    the Zeeman term, so G^{ab}(t) is the free precession of G^{ab}(t0).  Closed for a quadratic H."""
    h = _hamiltonian(hamiltonian)
    free = linear_part(h)
    system = {correlation_symbol((a,), label): correlation_rate((a,), h, label) for a in range(3)}
    for w in itertools.combinations_with_replacement(range(3), 2):
        system[correlation_symbol(w, label)] = correlation_rate(w, free, label)
    if not is_closed(system):
        raise SymmagInputError("the lowest order is closed only for a Hamiltonian of degree <= 2 in M0")
    return system


#: The closures by name, lowest truncation first: the keys of :func:`close`.
CLOSURES = ("lowest", "mean field", "cumulant 2", "cumulant 3", "cumulant 4")


def close(hamiltonian, closure: str) -> dict[sp.Symbol, sp.Expr]:
    """The closed system of ``hamiltonian`` under the closure named ``closure`` (:data:`CLOSURES`;
    "cumulant k" for any k up to ``hierarchy.MAX_ORDER``)."""
    if closure == "lowest":
        return lowest_order(hamiltonian)
    if closure == "mean field":
        return mean_field(hamiltonian, 1)
    if isinstance(closure, str) and closure.startswith("cumulant "):
        k = closure.split(" ", 1)[1]
        if k.isdigit():
            return cumulant_expansion(hamiltonian, int(k))
    raise SymmagInputError(f"unknown closure {closure!r}; one of {', '.join(CLOSURES)} (or cumulant k)")
