"""Sec. IV (62)-(67) as `symmag check` reports it."""

from __future__ import annotations

import pytest

import derivations.printed as printed
from derivations import sec4_spin_spin
from symmag.derivation import Printed


@pytest.fixture(scope="module")
def results():
    return {r.id: r for r in sec4_spin_spin.DERIVATION.run()}


def test_equations_62_to_76_listed_none_failed(results):
    assert {str(n) for n in range(62, 77)} <= {r.equation for r in results.values()}
    assert not [r.id for r in results.values() if r.status == "failed"]


def test_self_interaction_depends_on_spin_length(results):
    assert results["correlation-sites"].status == "erratum"
    half = results["self-term-spin-half"]
    assert half.status == "verified" and any("spin s = 1/2" in a for a in half.assumptions)
    assert results["self-term-spin-one"].status == "verified"


def test_perturbed_64_flips(monkeypatch):
    p = printed.PRINTED["64"]
    monkeypatch.setitem(printed.PRINTED, "64", Printed(lhs=p.lhs, rhs=tuple(-x for x in p.rhs)))
    assert next(r.status for r in sec4_spin_spin.DERIVATION.run() if r.id == "spin-spin-d") == "erratum"


def test_lowest_order_frequency_sign_is_explained(results):
    r = results["lowest-order-frequency"]
    assert r.status == "erratum" and "neither sign" in r.detail
    assert results["lowest-order-sign"].status == "verified"
    assert results["lowest-order-d-with-11"].status == "verified"
