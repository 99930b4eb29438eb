"""Sec. III B-C: the checks see what the steps show (issue 12)."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

import derivations.printed as printed
from derivations import sec3b_general_field as g
from derivations import sec3c_algebra as c
from symmag.checking.assumptions import Assumption, without
from symmag.checking.derivation import Erratum, Printed, check_claim, run_step

_CACHED_B = ("_dterm", "_averaged_d", "_reduced_d", "_analyse", "direct_rates", "_moment_53",
             "moment_relation_53", "_averaged_moment_53", "combined_rate")


def clear_caches():
    for name in _CACHED_B:
        getattr(g, name).cache_clear()
    c.operators.cache_clear()


@pytest.fixture
def fresh():
    """Caches emptied before and after: a patched derivation is recomputed, and leaves nothing."""
    clear_caches()
    yield
    clear_caches()


def run(derivation, step_id: str):
    st = next(s for s in derivation.steps if s.id == step_id)
    return run_step(st, derivation)



def test_eq39_not_needed_for_the_non_dissipative_gilbert_step(monkeypatch):
    """The step applies (39) through EQ39; without it the claim (H_r^n changes neither the damping
    nor gamma) still holds: (39) is not needed (a finding).  An arbitrary substitution in its
    place makes the step fail: under (39) the unmodified pair is also pinned to (alpha, gamma)."""
    st = next(s for s in g.DERIVATION.steps if s.id == "non-dissipative-gilbert")
    assert g.EQ39 in st.assumes
    with without(g.EQ39):
        assert check_claim(st.claim()).ok
    arbitrary = Assumption("eq39", "arbitrary", lambda x: x.xreplace({g.lam: 2 * g.alpha}))
    monkeypatch.setattr(g, "EQ39", arbitrary)
    assert run(g.DERIVATION, "non-dissipative-gilbert").status == "failed"


def test_frequency_47_is_derived_not_printed(monkeypatch):
    """omega comes from the derived equation: a different printed (47) is a mismatch."""
    p = printed.PRINTED["47"]
    assert sp.simplify(g.undamped_frequency("46") - g.omega0 * (1 - g.lb46)) == 0
    monkeypatch.setitem(printed.PRINTED, "47", Printed(lhs=p.lhs, rhs=g.omega0 * (1 + g.lb46)))
    assert run(g.DERIVATION, "extra-field-frequency").status == "mismatch"


def test_wrong_frequency_fails(monkeypatch):
    monkeypatch.setattr(g, "undamped_frequency", lambda kind: g.omega0 * (1 - 2 * g.lb46))
    assert run(g.DERIVATION, "extra-field-frequency").status == "failed"


def test_46_and_49_read_alike():
    """For both modifications: the ansatz parameters and the Gilbert damping of the resulting
    equation are separate derived claims."""
    lam0_40 = g.RELATION_40[g.lam0]
    ansatz = g.ansatz_46().result.rhs
    assert ansatz[0] == g.lam0 and sp.simplify(ansatz[1] - (g.alpha0 + g.lb46 / g.lam0)) == 0
    a_eff = g.gilbert_46().result.rhs[0]
    assert sp.simplify(a_eff - g.alpha0 / (1 - g.lb46 * (1 + g.alpha0**2))) == 0
    assert sp.simplify(g.damping_46().result.rhs - g.alpha0) == 0  # the (47)-(48) reading
    for step_id in ("extra-field-ansatz", "extra-field-gilbert-damping", "extra-field-damping",
                    "extra-torque-lambda", "extra-torque-alpha", "extra-torque-rates"):
        assert run(g.DERIVATION, step_id).status == "verified", step_id
    assert sp.simplify(g.rates_49().lhs[1] - (lam0_40 + g.lb49) * (1 + g.alpha0**2)) == 0


@pytest.mark.parametrize("key, step_id, wrong", [
    ("prose:reversal-46", "extra-field-reversal", sp.Integer(2)),
    ("55", "non-dissipative-average", None),
])
def test_pinned_errata(monkeypatch, key, step_id, wrong):
    """Each erratum holds as pinned; another printed form (or the corrected one) is a mismatch."""
    assert run(g.DERIVATION, step_id).status == "erratum"
    p = printed.PRINTED[key]
    if wrong is None:  # (55) with the sign the derivation gives: agrees, so the pin fails
        m = printed.vector_function("M")
        wrong = tuple(x / (1 - g.lam * g.alpha * g.M_mag**2 + g.kappa * g.lam * g.M_mag) for x in m)
    monkeypatch.setitem(printed.PRINTED, key, Printed(lhs=p.lhs, rhs=wrong))
    assert run(g.DERIVATION, step_id).status == "mismatch"


@pytest.mark.parametrize("step_id", ["extra-field-reversal", "non-dissipative-average"])
def test_moved_pin_is_a_mismatch(step_id):
    st = next(s for s in g.DERIVATION.steps if s.id == step_id)
    res = st.erratum.residual
    moved = tuple(2 * x for x in res) if isinstance(res, tuple) else 2 * res
    moved_step = dataclasses.replace(st, erratum=Erratum(st.erratum.reason, residual=moved))
    assert run_step(moved_step, g.DERIVATION).status == "mismatch"


def test_kappa_plus_is_labelled_by_its_zero_damping_limit(monkeypatch):
    plus, minus = c.eq59().result.rhs
    assert sp.limit(plus, c.alpha0, 0) == 0 and sp.limit(c.alpha0 * minus, c.alpha0, 0) == -2
    p = printed.PRINTED["59"]
    monkeypatch.setitem(printed.PRINTED, "59", Printed(lhs=p.lhs, rhs=(p.rhs[1], p.rhs[0])))
    assert run(c.DERIVATION, "kappa-roots").status == "mismatch"


def test_kappa_signs_checks_negative_alpha0(monkeypatch):
    """The alpha0 < 0 half of the statement is evaluated: with a positive symbol in its place
    the check fails."""
    assert run(c.DERIVATION, "kappa-signs").status == "verified"
    monkeypatch.setattr(c, "_A_NEG", sp.Symbol("a", positive=True))
    assert run(c.DERIVATION, "kappa-signs").status == "failed"


def test_closure_needs_40():
    st = next(s for s in c.DERIVATION.steps if s.id == "closure-condition")
    with without(g.EQ39):  # EQ40 shares the key of (39)
        assert not check_claim(st.claim()).ok


def test_dropped_non_dissipative_term_fails(monkeypatch, fresh):
    """(53) multiplied by 0 in the modified field: the claim (54) on M_I,n fails and
    (55) no longer differs from the printed form as pinned, so `symmag check` exits 1.  (The
    Gilbert step compares two routes from the one Hamiltonian of derivations.models, D's rate
    term and d<M_I,n>/dt, which then agree at zero: it is the printed forms that see the change.)"""
    real = g._extra
    monkeypatch.setattr(g, "_extra", lambda kind: (0, 0, 0) if kind == "53" else real(kind))
    assert run(g.DERIVATION, "non-dissipative-moment").status == "failed"
    assert run(g.DERIVATION, "non-dissipative-average").status == "mismatch"
