"""Field derivatives: the functional derivative (4) and the chain-rule time derivative."""

from __future__ import annotations

import sympy as sp

from symmag.algebra.fields import H_eff, magnetic_moment, total_time_derivative
from symmag.algebra.su2 import M0
from symmag.conventions import t

f, g = sp.Function("f", real=True)(t), sp.Function("g", real=True)(t)


def test_time_derivative_matches_sympy_on_plain_functions():
    cases = [sp.sin(f) * g**2 + sp.Derivative(f, t) * t, f / (1 + g**2),
             sp.exp(t * f) * sp.Derivative(g, t)]
    for e in cases:
        assert sp.simplify(total_time_derivative(e) - sp.diff(e, t)) == 0


def test_time_derivative_of_nested_function_is_the_chain_rule():
    h = sp.Function("h", real=True)
    p, q = sp.symbols("p q", real=True)
    e = sp.Derivative(h(f, g), f)  # a coefficient like dh/dH_eff of a generic interaction
    ours = total_time_derivative(e)
    # make h concrete and compare with the total derivative of the concrete expression
    concrete = {h: sp.Lambda((p, q), p**3 * sp.sin(q) + p * q)}
    lhs = ours.subs(concrete).doit()
    rhs = sp.diff(e.subs(concrete).doit(), t)
    assert sp.simplify(lhs - rhs) == 0


def test_moment_of_zeeman_term_is_the_moment():
    h0 = -sum(M0(a) * H_eff[a] for a in range(3))
    assert magnetic_moment(h0) == (M0(0), M0(1), M0(2))


def test_explicit_time_slot_falls_back_to_sympy():
    h = sp.Function("h", real=True)
    e = sp.Derivative(h(f, t), f)
    assert total_time_derivative(e) == sp.diff(e, t)
