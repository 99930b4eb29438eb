"""Sec. IV (62)-(76) as `symmag check` reports it."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

import derivations.printed as printed
from derivations import sec4_spin_spin
from symmag.algebra.fields import M
from symmag.algebra.su2 import Op
from symmag.checking.derivation import Derived, Equal, Printed, check_claim, run_step

D = sec4_spin_spin.DERIVATION


@pytest.fixture(scope="module")
def results():
    return {r.id: r for r in D.run(necessity=True)}


def step_of(step_id):
    return next(s for s in D.steps if s.id == step_id)


def verdicts(result) -> dict:
    """The verdicts on the removable assumptions (conventions and stated ones are listed apart)."""
    return {n["key"]: n["verdict"] for n in result.necessity
            if n["verdict"] not in ("convention", "stated")}


def _check_with_result(claim, rhs):
    """The step's own check run on another result (same lhs)."""
    return check_claim(Derived(Equal(claim.result.lhs, rhs), claim.by))


def test_equations_62_to_76_listed_none_failed(results):
    assert {str(n) for n in range(62, 77)} <= {r.equation for r in results.values()}
    assert not [r.id for r in results.values() if r.status in ("failed", "mismatch", "unchecked")]



def test_self_interaction_depends_on_spin_length(results):
    assert results["correlation-sites"].status == "erratum"
    half = results["self-term-spin-half"]
    assert half.status == "verified" and any("spin s = 1/2" in a for a in half.assumptions)
    assert results["self-term-spin-one"].status == "verified"
    assert results["self-term-spin-half-d"].status == "verified"
    # the spin length is a tested assumption: without it neither claim holds
    for step_id in ("self-term-spin-half", "self-term-spin-half-d", "self-term-spin-one"):
        assert verdicts(results[step_id]) == {"representation": "needed"}, step_id


def test_self_terms_change_d_for_spin_one_only():
    """The claim of issue 12: D-hat with and without the i = j terms of (63) differs for s = 1
    and agrees for s = 1/2."""
    from symmag.algebra.representation import represent

    delta = sec4_spin_spin.self_interaction_d_operator()
    assert all(represent(x, sec4_spin_spin.SPIN_HALF).is_zero() for x in delta)
    assert any(not represent(x, sec4_spin_spin.SPIN_ONE).is_zero() for x in delta)
    # a shown change of zero fails its own check (the claim is that D changes)
    claim = sec4_spin_spin.self_term_spin_one()
    assert check_claim(claim, sec4_spin_spin.SPIN_ONE).ok
    assert not _check_with_result(claim, (Op(), Op(), Op())).ok


def test_a_c_number_shift_of_g_changes_omega_not_d():
    claim = sec4_spin_spin.self_term_drops_out_of_d()
    assert check_claim(claim).ok
    c = sp.Symbol("c", real=True)
    assert claim.rhs[:3] == tuple(c * m for m in M)  # Omega moves by c M: not a trivial identity


def test_67_erratum_pins_the_self_terms(results):
    st = step_of("correlation-sites")
    assert st.erratum is not None and run_step(st, D).status == "erratum"
    halved = dataclasses.replace(st.erratum, residual=lambda: tuple(
        tuple(x / 2 for x in row) for row in sec4_spin_spin.eq67_residual()))
    assert run_step(dataclasses.replace(st, erratum=halved), D).status == "mismatch"
    assert run_step(dataclasses.replace(st, erratum=None), D).status == "mismatch"


def test_perturbed_64_is_a_mismatch(monkeypatch):
    p = printed.PRINTED["64"]
    monkeypatch.setitem(printed.PRINTED, "64", Printed(lhs=p.lhs, rhs=tuple(-x for x in p.rhs)))
    assert run_step(step_of("spin-spin-d"), D).status == "mismatch"


def test_lowest_order_frequency_sign_is_explained(results):
    r = results["lowest-order-frequency"]
    assert r.status == "erratum" and "neither sign" in r.detail
    assert results["lowest-order-sign"].status == "verified"
    assert results["lowest-order-d-with-11"].status == "verified"


def test_printed_76_as_the_derived_frequency_fails_its_own_check():
    """The result shown for (76) is checked by substituting it back into the rate; the printed
    omega0 (1 - 2 lambda I M_z/H_z) -- the mutant of issue 12 near old line 262 -- fails."""
    claim = sec4_spin_spin.eq76()
    assert check_claim(claim).ok
    assert not _check_with_result(claim, printed.PRINTED["76"].rhs).ok
    assert not _check_with_result(claim, -claim.result.rhs).ok


def test_76_erratum_pin_is_exact():
    st = step_of("lowest-order-frequency")
    moved = dataclasses.replace(st.erratum, residual=2 * st.erratum.residual)
    assert run_step(dataclasses.replace(st, erratum=moved), D).status == "mismatch"


@pytest.mark.parametrize("component", [0, 1, 2])
def test_wrong_lowest_order_d_fails_its_own_check(component):
    claim = sec4_spin_spin.eq73_75(component)
    assert not _check_with_result(claim, claim.result.rhs + sp.Symbol("x") * M[2]).ok


def test_product_state_factorization_is_symbolic_and_has_teeth(results):
    assert results["initial-state-product"].method == "sympy"
    from symmag.conventions import N

    claim = sec4_spin_spin.product_state_correlations()
    s = sec4_spin_spin.S_ONE_SITE
    # N^2 s^a s^b (i = j counted) instead of N(N-1) s^a s^b
    wrong = tuple(N**2 * s[a] * s[b] for a in range(3) for b in range(3))
    assert not _check_with_result(claim, wrong).ok


def test_assumption_verdicts(results):
    v = {sid: verdicts(results[sid]) for sid in results}
    # the static field and the s = 1/2 self terms are needed for the lowest-order motion
    for sid in ("lowest-order-mz-constant", "lowest-order-frequency", "lowest-order-sign"):
        assert v[sid] == {"spin-half": "needed", "static-field": "needed"}, sid
    # D = 0 for the state (11) needs no spin length: the self part is derived axial about R0
    assert v["lowest-order-d-with-11"] == {} and results["lowest-order-d-with-11"].status == "verified"
    # the two routes to D at lowest order agree for any self correlations: a finding
    for sid in ("lowest-order-dx", "lowest-order-dy", "lowest-order-dz"):
        assert v[sid] == {"spin-half": "not needed"}, sid


def test_73_needs_spin_half_to_match_the_printed_form():
    """Without the s = 1/2 self terms the lowest-order D_x carries (lambda/gamma)(M x Q0 M)_x,
    so it no longer matches the printed (73)."""
    from symmag.checking.assumptions import without

    with without(sec4_spin_spin.SPIN_HALF_SELF):
        r = run_step(step_of("lowest-order-dx"), D)
    assert r.status == "mismatch"


def test_d_vanishes_for_11_because_the_self_part_is_axial():
    """Only the axial self part (alpha delta + beta R0 R0, solved from the invariance of rho1)
    gives D = 0 for (11); a generic symmetric self part Q does not."""
    from symmag.algebra.expectation import correlation_symbol
    from symmag.conventions import N, V, gamma

    s = sec4_spin_spin.S_ONE_SITE
    pairs = sec4_spin_spin.product_state_pairs()
    g = {correlation_symbol((a, b)): sec4_spin_spin.distinct_pair_weight(a, b) * pairs[3 * a + b] / V
         + sp.Symbol(f"Q{a}{b}") for a in range(3) for b in range(a, 3)}
    m0 = dict(zip(M, (gamma * N * x / V for x in s)))
    d = [sp.expand(x.xreplace(g).xreplace(m0)) for x in sec4_spin_spin.spin_spin_d()]
    assert any(x != 0 for x in d)
    assert check_claim(sec4_spin_spin.lowest_order_d_vanishes_for_11()).ok
