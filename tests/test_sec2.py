"""Sec. II as `symmag check` reports it: every equation listed, none failed,
and statuses that follow the printed table and the derivation."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

import derivations.printed as printed
from derivations import sec2a_zeeman, sec2b_interactions
from symmag.algebra.su2 import S, cross
from symmag.checking.derivation import Derived, Equal, Printed, check_claim, gate, run_step
from symmag.conventions import gamma_abs
from symmag.theory import dterm as dterm_module


@pytest.fixture(scope="module")
def results():
    out = {}
    for d in (sec2a_zeeman.DERIVATION, sec2b_interactions.DERIVATION):
        for r in d.run():
            out[r.id] = r
    return out


def by_id(derivation, step_id):
    return next(r for r in derivation.run() if r.id == step_id)


def test_every_equation_1_to_30_listed_none_failed(results):
    numbers = {r.equation for r in results.values()}
    assert {str(n) for n in range(1, 31)} <= numbers
    assert not [r.id for r in results.values() if r.status == "failed"]


@pytest.mark.parametrize("eq", ["6", "8", "16", "24", "26", "29", "30"])
def test_required_equations_verified_by_operator_algebra(results, eq):
    assert any(r.equation == eq and r.status == "verified" and r.method == "operator-algebra"
               for r in results.values())


def test_numeric_steps_say_so(results):
    for r in results.values():
        if r.method.startswith("numeric"):
            assert r.detail, r.id


def test_precession_sign_is_conditional(results):
    r = results["precession-equation"]
    assert any("gamma = -|gamma|" in a for a in r.assumptions)


def test_perturbed_16_is_a_mismatch(monkeypatch):
    p = printed.PRINTED["16"]
    monkeypatch.setitem(printed.PRINTED, "16", Printed(lhs=p.lhs, rhs=tuple(-x for x in p.rhs)))
    r = by_id(sec2a_zeeman.DERIVATION, "precession-equation")
    assert r.status == "mismatch" and gate([r.as_dict(latex=False)]) == 1


def test_perturbed_30_is_a_mismatch(monkeypatch):
    p = printed.PRINTED["30"]
    monkeypatch.setitem(printed.PRINTED, "30", Printed(lhs=p.lhs, rhs=tuple(2 * x for x in p.rhs)))
    assert by_id(sec2b_interactions.DERIVATION, "d-term").status == "mismatch"


def test_dimensionally_wrong_printed_definition_is_a_mismatch(monkeypatch):
    # (2) without the lambda: H_I alone is not an energy, and no erratum records it
    monkeypatch.setitem(printed.PRINTED, "2", Printed(lhs=sp.Symbol("H"),
                                                      rhs=sp.Symbol("H_0") + sp.Symbol("H_I")))
    r = by_id(sec2a_zeeman.DERIVATION, "hamiltonian-split")
    assert r.status == "mismatch" and "dimension" in r.detail



def _check_with_result(claim, rhs):
    """The step's own check run on another result (same lhs)."""
    return check_claim(Derived(Equal(claim.result.lhs, rhs), claim.by))


def test_wrong_precession_sign_fails_its_own_check():
    claim = sec2a_zeeman.eq16()
    assert check_claim(claim).ok
    assert not _check_with_result(claim, tuple(-x for x in claim.result.rhs)).ok


def test_invariant_condition_that_is_not_zero_fails():
    claim = sec2a_zeeman.eq15()
    assert not _check_with_result(claim, sp.Symbol("c") * S(sp.Symbol("i"), "x")).ok


def test_29_with_the_other_sign_of_gamma_fails_its_own_check():
    from symmag.algebra.fields import H_eff, M

    claim = sec2b_interactions.eq29()
    wrong = tuple(gamma_abs * cross(M, H_eff)[a] + sec2b_interactions.D_SYMBOLS[a] for a in range(3))
    assert not _check_with_result(claim, wrong).ok
    dropped_d = tuple(x - sec2b_interactions.D_SYMBOLS[a] for a, x in enumerate(claim.result.rhs))
    assert not _check_with_result(claim, dropped_d).ok


@pytest.mark.parametrize("module, step_id, gap", [
    (sec2a_zeeman, "propagator-ordering", 0.0759),
    (sec2b_interactions, "magnetization-rate-picture", 0.4205),
])
def test_numeric_errata_pin_their_gap(module, step_id, gap):
    st = next(s for s in module.DERIVATION.steps if s.id == step_id)
    assert st.erratum is not None and st.erratum.gap == gap
    assert run_step(st, module.DERIVATION).status == "erratum"
    moved = dataclasses.replace(st, erratum=dataclasses.replace(st.erratum, gap=1.2 * gap))
    assert run_step(moved, module.DERIVATION).status == "mismatch"
    assert run_step(dataclasses.replace(st, erratum=None), module.DERIVATION).status == "mismatch"


def test_28_printed_with_rho_int_in_front_of_both_terms_agrees(monkeypatch):
    """The reading of the erratum: put rho_int in front of the commutator too, and the printed
    form agrees -- which the pinned erratum then reports as a mismatch (it no longer differs)."""
    from derivations.printed import comm, lam, mat
    from symmag.conventions import V, hbar

    fixed = tuple(sp.Trace(mat("rho_int") * (mat(f"dM0_int_dt_{ax}") + mat(f"dMI_int_dt_{ax}")
                                             + lam / (sp.I * hbar) * comm(mat(f"M0_int_{ax}")
                                                                          + mat(f"MI_int_{ax}"),
                                                                          mat("H_int")))) / V
                  for ax in "xyz")
    p = printed.PRINTED["28"]
    monkeypatch.setitem(printed.PRINTED, "28", Printed(lhs=p.lhs, rhs=fixed))
    r = by_id(sec2b_interactions.DERIVATION, "magnetization-rate-picture")
    assert r.status == "mismatch" and "gap" in r.detail


def test_broken_d_interaction_fails(monkeypatch):
    real = dterm_module.d_interaction

    def dropped_precession(m_i, field=dterm_module.H_eff):
        return tuple(2 * x for x in real(m_i, field))  # a wrong factor in (26)

    for f in (sec2b_interactions.generic_dterm, sec2b_interactions.generic_rate,
              sec2b_interactions.eq30):
        f.cache_clear()
    monkeypatch.setattr(dterm_module, "d_interaction", dropped_precession)
    try:
        assert by_id(sec2b_interactions.DERIVATION, "d-term").status == "failed"
    finally:
        for f in (sec2b_interactions.generic_dterm, sec2b_interactions.generic_rate,
                  sec2b_interactions.eq30):
            f.cache_clear()
