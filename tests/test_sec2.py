"""Sec. II as `symmag check` reports it: every equation listed, none failed,
and statuses that follow the printed table and the derivation."""

from __future__ import annotations

import pytest
import sympy as sp

import derivations.printed as printed
from derivations import sec2a_zeeman, sec2b_interactions
from symmag import dterm as dterm_module
from symmag.derivation import Printed


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


def test_perturbed_16_flips_to_erratum(monkeypatch):
    p = printed.PRINTED["16"]
    monkeypatch.setitem(printed.PRINTED, "16", Printed(lhs=p.lhs, rhs=tuple(-x for x in p.rhs)))
    assert by_id(sec2a_zeeman.DERIVATION, "precession-equation").status == "erratum"


def test_perturbed_30_flips_to_erratum(monkeypatch):
    p = printed.PRINTED["30"]
    monkeypatch.setitem(printed.PRINTED, "30", Printed(lhs=p.lhs, rhs=tuple(2 * x for x in p.rhs)))
    assert by_id(sec2b_interactions.DERIVATION, "d-term").status == "erratum"


def test_dimensionally_wrong_printed_definition_is_erratum(monkeypatch):
    # (2) without the lambda: H_I alone is not an energy
    monkeypatch.setitem(printed.PRINTED, "2", Printed(lhs=sp.Symbol("H"),
                                                      rhs=sp.Symbol("H_0") + sp.Symbol("H_I")))
    r = by_id(sec2a_zeeman.DERIVATION, "hamiltonian-split")
    assert r.status == "erratum" and "dimension" in r.detail


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
