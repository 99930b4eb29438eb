"""The correlation hierarchy against exact evolution on explicit matrices."""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from symmag.algebra.expectation import correlation_symbol
from symmag.algebra.fields import M
from symmag.algebra.matrices import SpinSystem
from symmag.algebra.numeric import random_density_matrix
from symmag.algebra.su2 import M0
from symmag.conventions import V, gamma, hbar
from symmag.theory.hierarchy import correlation_rate, hierarchy

lam = sp.Symbol("lambda", real=True)


def test_three_point_equations_match_liouville_von_neumann():
    """d G^{abc}/dt from the generator equals 4 Tr(-(i/hbar)[H, rho] W(abc))/V on matrices."""
    system = SpinSystem(2, 1, hbar=1.0, gamma=-1.3)
    m_val, lam_val, vol = np.array([0.3, -0.5, 0.8]), 0.7, 1.9
    h_op = sum(lam * M[c] * M[d] * M0(c) * M0(d) for c in range(3) for d in range(3)) / gamma**2
    values = {lam: lam_val, **dict(zip(M, m_val))}
    h = system.matrix(h_op, values)
    rho = random_density_matrix(system.dim, np.random.default_rng(4))
    mats = [system.collective(a) for a in range(3)]

    def weyl(word):
        perms = set(itertools.permutations(word))
        out = sum(np.linalg.multi_dot([mats[a] for a in p]) if len(p) > 1 else mats[p[0]] for p in perms)
        return out / len(perms)

    # numeric values of every correlation symbol up to order 4, from rho
    symbols = {V: vol, hbar: 1.0, gamma: -1.3, **values}
    for n in range(1, 5):
        for w in itertools.combinations_with_replacement(range(3), n):
            scale = 2 ** (n - 1) if n > 1 else 1
            symbols[correlation_symbol(w)] = scale * np.trace(rho @ weyl(w)).real / vol
    drho = -1j / 1.0 * (h @ rho - rho @ h)
    for w in itertools.combinations_with_replacement(range(3), 3):
        exact = 4 * np.trace(drho @ weyl(w)) / vol
        generated = complex(correlation_rate(w, h_op).subs(symbols))
        assert abs(generated - exact) <= 1e-9 * max(1.0, abs(exact))


def test_order_four_hierarchy_is_generated():
    h_op = sum(lam * M[c] * M[d] * M0(c) * M0(d) for c in range(3) for d in range(3)) / gamma**2
    eqs = hierarchy(h_op, 4)
    assert len(eqs) == 3 + 6 + 10 + 15


def test_closures_are_closed_and_consistent():
    from symmag.theory.closures import (
        cumulant_closure_moment,
        cumulant_expansion,
        is_closed,
        mean_field,
        moment,
    )

    h_op = sum(lam * M[c] * M[d] * M0(c) * M0(d) for c in range(3) for d in range(3)) / gamma**2
    for system in (mean_field(h_op, 1), cumulant_expansion(h_op, 2), cumulant_expansion(h_op, 3)):
        assert is_closed(system)
    assert cumulant_expansion(h_op, 1) == mean_field(h_op, 1)
    # no truncation below the order: the closure returns the moment itself
    for w in [(0, 1), (0, 1, 2), (2, 2, 2)]:
        assert sp.expand(cumulant_closure_moment(w, len(w)) - moment(w)) == 0


def test_user_interaction_hierarchy():
    """An anisotropic exchange of the user's choice: J = diag(Jx, Jy, Jz) (not in the paper)."""
    jx, jy, jz = sp.symbols("J_x J_y J_z", real=True)
    h_op = (jx * M0(0) ** 2 + jy * M0(1) ** 2 + jz * M0(2) ** 2) / gamma**2
    rate = correlation_rate((0,), h_op)
    # d<M0^x>/dt = (Jy - Jz)/gamma G^{yz}, the torque of an anisotropic exchange
    assert sp.expand(rate - (jy - jz) / gamma * correlation_symbol((1, 2))) == 0


def test_fast_rates_are_the_operator_algebras_term_for_term():
    """hierarchy's rational tables (symmag.theory.hierarchy._Rates) give the very expression of the generic
    route (commutator as an Op, then the expectation map): the spin-spin model (63) with the easy
    axis to order 3, and a user's H with a cubic term, a c-number, a label, coefficients sympy.expand
    rewrites (exp, a function of a sum) and a float (which takes the generic route)."""
    import itertools

    from derivations.models import spin_spin_axis_hamiltonian
    from symmag.theory.hierarchy import _correlation_rate_generic, _Rates

    a, b, t = sp.symbols("a b t", real=True)
    f = sp.Function("f")
    user = (sp.exp(a + b) * M0(0) * M0(1) * M0(2) + f(t * (a + b)) * M0(1) ** 2 / gamma - a**2 * M0(2)
            + 3 * b + sp.sqrt(a) * M0(0))
    floats = 0.25 * M0(0) * M0(1) + M0(1) * M0(0)
    cases = [(spin_spin_axis_hamiltonian(), 3, ""), (user, 3, "0"), (floats, 2, "")]
    routes = [(r.fast, r.plain) for r in (_Rates(h, label) for h, _, label in cases)]
    assert routes == [(True, True), (True, False), (False, True)]  # each route is exercised
    for h, order, label in cases:
        fast = hierarchy(h, order, label)
        for n in range(1, order + 1):
            for w in itertools.combinations_with_replacement(range(3), n):
                generic = _correlation_rate_generic(w, h, label)
                assert fast[correlation_symbol(w, label)] == generic, (h, w)
                assert sp.expand(fast[correlation_symbol(w, label)] - generic) == 0
