"""The general D-term (Sec. II B) against explicit matrices, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symmag import SymmagInputError
from symmag.algebra.fields import H_eff, M
from symmag.algebra.matrices import SpinSystem
from symmag.algebra.numeric import central_difference, time_dependent_matrix
from symmag.algebra.su2 import M0, M0_vector, S, cross, dot, site_sum
from symmag.conventions import gamma, t
from symmag.theory.dterm import dterm, zeeman_hamiltonian

lam, alpha = sp.symbols("lambda alpha", real=True)
CONSTS = {lam: 0.4, alpha: 0.7}
HB, GA = 1.0, -1.3


def field(tt):
    return np.array([0.8 * np.cos(1.1 * tt), 0.5 * np.sin(0.7 * tt) + 0.2, 1.0 + 0.3 * tt])


def mag(tt):
    return np.array([0.3 * np.cos(0.5 * tt), 0.2, 0.9 - 0.1 * tt])


def rsi_interaction():
    """(31)-(32): lambda H_I = -M0 . lambda (M x H_eff - alpha M^2 H_eff)."""
    m2 = sum(m**2 for m in M)
    h_r = [lam * (c - alpha * m2 * h) for c, h in zip(cross(M, H_eff), H_eff)]
    return -dot(M0_vector(), h_r)


def spin_spin_interaction():
    """(63): sum_{i,j} J^{ab} S_i^a S_j^b with J^{ab} = lambda M^a M^b, written per site."""
    def pair(i, j):
        return sum(lam * M[a] * M[b] * S(i, a) * S(j, b) for a in range(3) for b in range(3))
    return site_sum(lambda i: site_sum(lambda j: pair(i, j)))


def _fns():
    out = {}
    for a in range(3):
        out[H_eff[a]] = lambda tt, a=a: field(tt)[a]
        out[M[a]] = lambda tt, a=a: mag(tt)[a]
        out[sp.Derivative(H_eff[a], t)] = lambda tt, a=a: central_difference(lambda s: field(s)[a], tt, 1e-4)
        out[sp.Derivative(M[a], t)] = lambda tt, a=a: central_difference(lambda s: mag(s)[a], tt, 1e-4)
    return out


def direct_d_operator(interaction, system: SpinSystem, tt: float) -> list[np.ndarray]:
    """D-hat of (30) from matrices alone: M_I by a numeric derivative of the
    interaction's matrix in the field, dM_I/dt by a numeric time derivative."""
    hs = sp.symbols("h0:3", real=True)
    plain = interaction.subs(dict(zip(H_eff, hs)))

    def hi(hvec, s):
        vals = {**CONSTS, **dict(zip(hs, hvec)), **dict(zip(M, mag(s))), t: s}
        return system.matrix(plain, vals)

    def m_i(s, a):
        e = np.eye(3)[a] * 1e-4
        return -(hi(field(s) + e, s) - hi(field(s) - e, s)) / 2e-4

    h_full = -sum(system.collective(a) * field(tt)[a] for a in range(3)) + hi(field(tt), tt)
    m = [system.collective(a) + m_i(tt, a) for a in range(3)]
    h = field(tt)
    prec = [m[(a + 1) % 3] * h[(a + 2) % 3] - m[(a + 2) % 3] * h[(a + 1) % 3] for a in range(3)]
    out = []
    for a in range(3):
        rate = central_difference(lambda s, a=a: m_i(s, a), tt, 1e-3)
        out.append(1j / HB * (h_full @ m[a] - m[a] @ h_full) + rate - GA * prec[a])
    return out


@pytest.mark.parametrize("make", [rsi_interaction, spin_spin_interaction], ids=["rsi-31", "ssi-63"])
@pytest.mark.parametrize("spin", ["1/2", "1"])
def test_d_operator_matches_matrices(make, spin):
    system = SpinSystem(2, spin, hbar=HB, gamma=GA)
    interaction = make()
    d = dterm(interaction)
    tt = 0.6
    ours = [time_dependent_matrix(x, system, _fns(), CONSTS)(tt) for x in d.d_operator]
    ref = direct_d_operator(interaction, system, tt)
    scale = max(np.abs(r).max() for r in ref)
    assert scale > 1e-2  # a non-trivial D
    for a in range(3):
        assert np.abs(ours[a] - ref[a]).max() < 1e-6 * scale


def test_spin_spin_has_no_moment_and_collective_d():
    # (63) does not depend on the field: M_I = 0, and D = (lambda/gamma) M x Omega (64)-(65)
    d = dterm(spin_spin_interaction())
    assert all(x.is_zero() for x in d.moment_interaction)
    collective = sum(lam * M[a] * M[b] * M0(a) * M0(b) for a in range(3) for b in range(3)) / gamma**2
    dc = dterm(collective)
    assert dc.d is not None and all(sp.simplify(x) != 0 for x in dc.d)


def test_rsi_moment_is_derived_form_33():
    d = dterm(rsi_interaction())
    m2 = sum(m**2 for m in M)
    expected = [-lam * (alpha * m2 * M0(a) - cross(M0_vector(), M)[a]) for a in range(3)]
    assert all(d.moment_interaction[a] == expected[a] for a in range(3))


def test_zeeman_is_collective_form_of_3():
    h0 = -gamma * site_sum(lambda i: dot([S(i, a) for a in range(3)], H_eff))
    assert zeeman_hamiltonian() == h0


@pytest.mark.parametrize(
    "bad, needle",
    [
        (sp.Symbol("K") * M0(0) * M0(1), "not Hermitian"),  # K complex, product not symmetrized
        (sp.I * M0(0), "not Hermitian"),
        (sp.Symbol("k", real=True) * M0(0) * M0(1), "not Hermitian"),  # real, but not symmetrized
    ],
)
def test_rejects_non_hermitian(bad, needle):
    with pytest.raises(SymmagInputError, match=needle):
        dterm(bad)


def test_rejects_unknown_and_non_polynomial_operators():
    from symmag.algebra.operators import Moment

    with pytest.raises(SymmagInputError, match="unknown operator"):
        dterm(sp.Symbol("A", commutative=False) * Moment("x"))
    with pytest.raises(SymmagInputError, match="non-polynomial"):
        dterm(sp.cos(Moment("z")))


def test_anisotropy_example_from_readme():
    K = sp.Symbol("K", real=True)
    d = dterm(-K * M0(2) * M0(2) / gamma**2)
    from symmag.algebra.expectation import correlation_symbol

    assert d.d == (K / gamma * correlation_symbol("yz"), -K / gamma * correlation_symbol("xz"), 0)
