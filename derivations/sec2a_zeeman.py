"""Sec. II A, Zeeman precession: the Hamiltonian (3), M0 (6) and its algebra (8).

Conventions: gamma's sign is left open (both results hold for either sign);
hbar is symbolic; the moment operator is -dH/dH_ext at fixed c-number M.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from symmag.algebra import M0, S, commutator, dot, levi_civita, site_sum
from symmag.conventions import gamma, hbar
from symmag.derivation import Derivation, Equal, Step
from symmag.dimensions import TABLE
from symmag.fields import H_eff, magnetic_moment

from . import printed


@cache
def zeeman_hamiltonian():
    """H0 = -gamma sum_i S_i . H_eff(t)  (3)."""
    return -gamma * site_sum(lambda i: dot([S(i, a) for a in range(3)], H_eff))


@cache
def moment_from_hamiltonian():
    """-dH0/dH_ext, the package's own functional derivative (4) applied to (3)."""
    return magnetic_moment(zeeman_hamiltonian())


def spin_sum(a: int):
    return site_sum(lambda i: S(i, a))


def eq6():
    # derived lhs: the functional derivative; rhs: gamma times the site sum.
    return Equal(moment_from_hamiltonian(), tuple(gamma * spin_sum(a) for a in range(3)))


def eq8():
    m = moment_from_hamiltonian()  # per-site form over symbolic N
    lhs = tuple(tuple(commutator(m[a], m[b]) for b in range(3)) for a in range(3))
    rhs = tuple(
        tuple(sum(sp.I * hbar * gamma * levi_civita(a, b, c) * M0(c) for c in range(3))
              for b in range(3))
        for a in range(3)
    )
    return Equal(lhs, rhs)


DERIVATION = Derivation(
    name="sec2a_zeeman",
    title="Zeeman precession: M0 and its SU(2) algebra",
    section="II A",
    printed_table=lambda: printed.PRINTED,  # read at run time, never copied
    dimensions=TABLE,
    steps=(
        Step(
            id="zeeman-hamiltonian",
            equation="3",
            printed="3",
            kind="definition",
            claim=lambda: Equal(sp.Symbol("H_0"), zeeman_hamiltonian()),
            statement="Zeeman Hamiltonian of N spins in the effective field H_eff(t).",
            conventions=("gamma-sign-open", "distinct-site-symbols"),
        ),
        Step(
            id="moment-operator",
            equation="6",
            printed="6",
            claim=eq6,
            statement="M0 = -dH0/dH_ext = gamma sum_i S_i, from the functional derivative of (3).",
            conventions=("field-derivative", "gamma-sign-open"),
        ),
        Step(
            id="moment-algebra",
            equation="8",
            printed="8",
            claim=eq8,
            statement="[M0^a, M0^b] = i hbar gamma eps^{abc} M0^c from the per-site algebra "
            "[S_i^a, S_j^b] = i hbar delta_ij eps^{abc} S_i^c, over symbolic N.",
            conventions=("gamma-sign-open", "hbar-symbolic", "summation-convention"),
        ),
    ),
)
