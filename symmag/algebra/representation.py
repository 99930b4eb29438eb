"""Identities that hold only for a given spin length (off by default).

The algebra of :mod:`symmag.algebra.su2` is the enveloping algebra of su(2) at
every site: it knows nothing of the spin length s.  A step that needs, e.g.,
{S^a, S^b}_+ = (hbar^2/2) delta^{ab} (s = 1/2) or the Casimir
S.S = s(s+1) hbar^2 declares a :class:`Representation` and calls
:func:`represent`; nothing here is applied implicitly, and the step's record
lists the representation among its assumptions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import sympy as sp

from ..conventions import N, hbar
from .su2 import UNIT_SITE, Key, Op, Word, expand_collective, levi_civita, pbw, site_key

IDENTITIES = {
    "pauli-product": "S^a S^b = (hbar^2/4) delta^{ab} + (i hbar/2) eps^{abc} S^c at every site "
    "(spin 1/2 only)",
    "casimir": "S^x S^x + S^y S^y + S^z S^z = s(s+1) hbar^2 at every site",
}


@dataclass(frozen=True)
class Representation:
    """Every site carries spin ``spin``; ``identities`` are the ones applied."""

    spin: sp.Rational
    identities: tuple[str, ...] = ()

    def __post_init__(self):
        s = sp.Rational(self.spin)
        if s <= 0 or (2 * s).q != 1:
            raise ValueError(f"spin must be a positive multiple of 1/2, got {self.spin}")
        object.__setattr__(self, "spin", s)
        ids = self.identities or (("pauli-product",) if s == sp.Rational(1, 2) else ("casimir",))
        for name in ids:
            if name not in IDENTITIES:
                raise ValueError(f"unknown identity {name!r}; known: {', '.join(IDENTITIES)}")
        if "pauli-product" in ids and s != sp.Rational(1, 2):
            raise ValueError("the Pauli product rule holds for spin 1/2 only")
        object.__setattr__(self, "identities", tuple(ids))

    @property
    def casimir(self) -> sp.Expr:
        return self.spin * (self.spin + 1) * hbar**2

    def describe(self) -> str:
        rules = "; ".join(IDENTITIES[n] for n in self.identities)
        return f"representation: spin s = {self.spin} at every site ({rules})"

    def reduce_word(self, word: Word) -> dict[Word, sp.Expr]:
        """One site's word as a combination of words reduced by the identities."""
        return dict(_reduce(word, self.spin, self.identities))


@cache
def _reduce(word: Word, spin: sp.Rational, ids: tuple[str, ...]) -> tuple[tuple[Word, sp.Expr], ...]:
    out: dict[Word, sp.Expr] = defaultdict(lambda: sp.S.Zero)
    if "pauli-product" in ids:
        if len(word) <= 1:
            return ((word, sp.S.One),)
        a, b, rest = word[0], word[1], word[2:]
        if a == b:
            for w, c in _reduce(rest, spin, ids):
                out[w] += hbar**2 / 4 * c
        else:
            cc = 3 - a - b
            for w, c in _reduce((cc, *rest), spin, ids):
                out[w] += UNIT_SITE / 2 * levi_civita(a, b, cc) * c
    else:  # casimir: PBW words with at most one z
        for w, k, c in pbw(word):
            coeff = c * UNIT_SITE**k
            if w.count(2) < 2:
                out[w] += coeff
                continue
            pre = w[:-2]  # w ends in z z, since it is sorted
            terms = ((pre, spin * (spin + 1) * hbar**2), (pre + (0, 0), -1), (pre + (1, 1), -1))
            for w2, c2 in terms:
                for w3, c3 in _reduce(w2, spin, ids):
                    out[w3] += coeff * c2 * c3
    return tuple((w, sp.expand(c)) for w, c in sorted(out.items()) if sp.expand(c) != 0)


def _site_term(free: dict, bound: list[Word], coeff: sp.Expr, acc: dict) -> None:
    """Add coeff * (product over sites) to acc, removing sites whose word is empty.

    An empty bound word is summed out: sum over a site distinct from the m
    other sites of the term gives (N - m).  An empty free word at site f lifts
    the restriction b != f of the bound sites: sum_{b != f} g(b) =
    sum_b g(b) - g(f)."""
    for n, w in enumerate(bound):
        if not w:
            others = len(free) + len(bound) - 1
            _site_term(free, bound[:n] + bound[n + 1 :], coeff * (N - others), acc)
            return
    for s, w in free.items():
        if not w:
            rest = {k: v for k, v in free.items() if k != s}
            _site_term(rest, bound, coeff, acc)
            for n, bw in enumerate(bound):
                _site_term({**rest, s: bw}, bound[:n] + bound[n + 1 :], -coeff, acc)
            return
    acc[site_key(free, bound)].append(coeff)


def represent(op: Op, rep: Representation) -> Op:
    """Apply ``rep``'s identities at every site.  Collective monomials are first
    written through the sites (M0 = gamma sum_i S_i, eq. (6))."""
    import itertools

    acc: dict[Key, list] = defaultdict(list)
    for k, c in op.terms.items():
        if not k:
            acc[k].append(c)
            continue
        site_terms = expand_collective(k[1]).terms if k[0] == "M" else {k: sp.S.One}
        for sk, sc in site_terms.items():
            if not sk:
                acc[sk].append(c * sc)
                continue
            names = [s for s, _ in sk[1]]
            words = [w for _, w in sk[1]] + list(sk[2])
            options = [list(rep.reduce_word(w).items()) for w in words]
            for combo in itertools.product(*options):
                cc = c * sc
                for _, ci in combo:
                    cc = cc * ci
                free = {s: combo[n][0] for n, s in enumerate(names)}
                bound = [combo[len(names) + m][0] for m in range(len(sk[2]))]
                _site_term(free, bound, cc, acc)
    return Op({k: sp.Add(*cs) for k, cs in acc.items()})
