"""The same operators as explicit matrices: N sites of spin s.

Every identity of :mod:`symmag.algebra.su2` can be evaluated here on a concrete
representation, which backs the algebra with an independent check (a dropped
term shows up as a residual of order one, DESIGN-NOTES.md) and catches bugs in
the reducer itself.  Basis: the tensor product of the |s, m> bases, m from +s
down to -s, site 0 leftmost.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from fractions import Fraction
from functools import cache

import numpy as np
import sympy as sp

from ..conventions import N, gamma, hbar
from .su2 import Key, Op

Number = complex | float | int


def _spin_fraction(s) -> Fraction:
    f = Fraction(str(s)) if not isinstance(s, Fraction) else s
    if f <= 0 or (2 * f).denominator != 1:
        raise ValueError(f"spin must be a positive multiple of 1/2, got {s!r}")
    return f


@cache
def _spin_matrices(s2: int, hbar: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = s2 / 2
    m = s - np.arange(s2 + 1)  # +s ... -s
    sz = np.diag(m).astype(complex)
    # <m+1|S+|m> = sqrt(s(s+1) - m(m+1)) sits just above the diagonal
    sp_ = np.diag(np.sqrt(s * (s + 1) - m[1:] * (m[1:] + 1)), k=1).astype(complex)
    sx = (sp_ + sp_.conj().T) / 2
    sy = (sp_ - sp_.conj().T) / 2j
    out = tuple(hbar * a for a in (sx, sy, sz))
    for a in out:
        a.setflags(write=False)
    return out  # type: ignore[return-value]


def spin_matrices(s, hbar: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(S^x, S^y, S^z) of spin ``s`` (1/2, 1, 3/2, ...) in units where hbar = ``hbar``."""
    return _spin_matrices(int(2 * _spin_fraction(s)), float(hbar))


class SpinSystem:
    """N sites of spin s with numeric hbar and gamma: site and collective matrices."""

    def __init__(self, n_sites: int, spin="1/2", hbar: float = 1.0, gamma: float = 1.0):
        if n_sites < 1:
            raise ValueError("n_sites must be at least 1")
        self.n_sites = n_sites
        self.spin = _spin_fraction(spin)
        self.hbar = float(hbar)
        self.gamma = float(gamma)
        self.d = int(2 * self.spin) + 1
        self.dim = self.d**n_sites
        self._site: dict[tuple[int, int], np.ndarray] = {}

    def site(self, i: int, a: int) -> np.ndarray:
        """S_i^a on the full space."""
        if (i, a) not in self._site:
            single = spin_matrices(self.spin, self.hbar)[a]
            left = np.eye(self.d**i)
            right = np.eye(self.d ** (self.n_sites - i - 1))
            self._site[(i, a)] = np.kron(np.kron(left, single), right)
        return self._site[(i, a)]

    def collective(self, a: int) -> np.ndarray:
        """M0^a = gamma sum_i S_i^a (eq. (6))."""
        return self.gamma * sum(self.site(i, a) for i in range(self.n_sites))

    def default_site_map(self, op: Op) -> dict:
        """Distinct free site symbols on distinct sites, in sorted order."""
        sites = sorted(op.free_sites(), key=lambda s: s.name)
        if len(sites) > self.n_sites:
            raise ValueError(f"{len(sites)} distinct free sites need at least that many spins")
        return {s: n for n, s in enumerate(sites)}

    def word(self, key: Key, site_map: Mapping[sp.Symbol, int]) -> np.ndarray:
        """Matrix of one canonical monomial, free sites placed by ``site_map``."""
        eye = np.eye(self.dim, dtype=complex)
        if not key:
            return eye
        if key[0] == "M":
            out = eye
            for a in key[1]:
                out = out @ self.collective(a)
            return out
        fixed = eye
        used = set()
        for s, w in key[1]:
            if s not in site_map:
                raise ValueError(f"site {s} has no place in site_map")
            i = site_map[s]
            used.add(i)
            for a in w:
                fixed = fixed @ self.site(i, a)
        bound = key[2]
        if not bound:
            return fixed
        free_places = [i for i in range(self.n_sites) if i not in used]
        total = np.zeros_like(eye)
        # sum over distinct sites, distinct from the free ones
        for places in itertools.permutations(free_places, len(bound)):
            m = fixed
            for i, w in zip(places, bound):
                for a in w:
                    m = m @ self.site(i, a)
            total += m
        return total

    def matrix(self, op: Op, values: Mapping[sp.Symbol, Number] | None = None,
               site_map: Mapping[sp.Symbol, int] | None = None) -> np.ndarray:
        """Evaluate ``op``.  ``values`` gives every c-number symbol except hbar,
        gamma and N, which come from this system; distinct free site symbols
        go to distinct sites (default: in sorted order)."""
        subs = {sym: val for sym, val in (values or {}).items()}
        subs.setdefault(N, self.n_sites)
        subs.setdefault(hbar, self.hbar)
        subs.setdefault(gamma, self.gamma)
        if site_map is None:
            site_map = self.default_site_map(op)
        elif len(set(site_map.values())) != len(site_map):
            raise ValueError("distinct site symbols must go to distinct sites")
        out = np.zeros((self.dim, self.dim), dtype=complex)
        for k, c in op.terms.items():
            val = c.subs(subs)
            if val.free_symbols:
                names = ", ".join(sorted(str(s) for s in val.free_symbols))
                raise ValueError(f"no numeric value for symbol(s): {names}")
            out += complex(val) * self.word(k, site_map)
        return out


def identity_residual(lhs, rhs, system: SpinSystem, values=None, site_map=None) -> float:
    """max |lhs - rhs| entry on the explicit matrices of ``system``."""
    diff = Op.coerce(lhs) - Op.coerce(rhs)
    return float(np.max(np.abs(system.matrix(diff, values, site_map)), initial=0.0))
