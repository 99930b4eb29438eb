"""Sec. III as `symmag check` reports it."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest
import sympy as sp

import derivations.printed as printed
from derivations import sec3a_rsi
from symmag.algebra.fields import H_eff, M
from symmag.algebra.su2 import cross
from symmag.checking.derivation import Derived, Equal, Printed, run_step
from symmag.cli.main import main


@pytest.fixture(scope="module")
def results():
    return {r.id: r for r in sec3a_rsi.DERIVATION.run()}


def _step(step_id: str):
    return next(s for s in sec3a_rsi.DERIVATION.steps if s.id == step_id)


def status(step_id: str) -> str:
    return run_step(_step(step_id), sec3a_rsi.DERIVATION).status


def _with_result(step_id: str, change):
    """The step, its derived result's rhs replaced by change(rhs), its check ``by`` kept."""
    st = _step(step_id)

    def claim():
        c = st.claim()
        return Derived(Equal(c.result.lhs, change(c.result.rhs)), c.by)

    return dataclasses.replace(st, claim=claim)


@pytest.fixture
def fresh():
    """Clear the module's caches after a test that patches one of its helpers, so no value
    computed from the patched helper outlives it."""
    yield
    for obj in vars(sec3a_rsi).values():
        if callable(getattr(obj, "cache_clear", None)):
            obj.cache_clear()


def _neg(rhs):
    return tuple(-x for x in rhs) if isinstance(rhs, tuple) else -rhs


def test_equations_31_to_45_listed_none_failed(results):
    assert {str(n) for n in range(31, 46)} <= {r.equation for r in results.values()}
    assert not [r.id for r in results.values() if r.status in ("failed", "mismatch", "unchecked")]


def test_errata_of_sec3a_are_the_pinned_three(results):
    assert {r.id for r in results.values() if r.status == "erratum"} == {
        "cancellation", "static-longitudinal", "precession-frequency"}


def test_prose_claims_have_steps(results):
    for step_id in ("parallel-derived", "magnitude-conserved", "relaxation-time", "relaxed-state",
                    "antiparallel-equilibrium", "precession-frequency", "azimuth"):
        assert results[step_id].status in ("verified", "erratum")


def test_cancellation_is_conditional_on_39(results):
    r = results["cancellation"]
    assert r.status == "erratum" and "(39)" in r.detail



@pytest.mark.parametrize("step_id", ["static-transverse", "static-longitudinal", "cancellation",
                                     "interaction-deviation-average", "gilbert-term", "llg-form",
                                     "relaxation-time", "precession-frequency", "azimuth",
                                     "damping-relation", "moment-average", "static-solution-z"])
def test_sign_flipped_result_fails_its_step(step_id):
    """Issue 12: a sign flip of the shown result (e.g. of (42)) is a failed step, never an
    unexplained erratum."""
    assert run_step(_with_result(step_id, _neg), sec3a_rsi.DERIVATION).status == "failed"


def test_sign_flipped_42_makes_symmag_check_exit_1(tmp_path, capsys):
    mod = tmp_path / "wrong42.py"
    mod.write_text(textwrap.dedent("""\
        import dataclasses
        from derivations import sec3a_rsi as S
        from symmag.checking.derivation import Derived, Equal

        st = next(s for s in S.DERIVATION.steps if s.id == "static-transverse")

        def wrong():
            c = st.claim()
            return Derived(Equal(c.result.lhs, -c.result.rhs), c.by)

        DERIVATION = dataclasses.replace(S.DERIVATION, name="wrong42",
                                         steps=(dataclasses.replace(st, claim=wrong),))
        """))
    assert main(["check", "--jobs", "1", str(mod)]) == 1
    assert "static-transverse" in capsys.readouterr().out.strip().splitlines()[-1]


@pytest.mark.parametrize("step_id", ["cancellation", "static-longitudinal", "precession-frequency"])
def test_moved_pin_is_a_mismatch(step_id):
    st = _step(step_id)
    res = st.erratum.residual
    doubled = tuple(2 * x for x in res) if isinstance(res, tuple) else 2 * res
    moved = dataclasses.replace(st, erratum=dataclasses.replace(st.erratum, residual=doubled))
    assert run_step(moved, sec3a_rsi.DERIVATION).status == "mismatch"


def test_43_erratum_expects_the_inconsistent_dimensions():
    st = _step("static-longitudinal")
    assert st.erratum.dimensions
    consistent = dataclasses.replace(st, erratum=dataclasses.replace(st.erratum, dimensions=False))
    assert run_step(consistent, sec3a_rsi.DERIVATION).status == "mismatch"


@pytest.mark.parametrize("key, step_id", [("40", "dimensionless-relation"), ("36", "moment-average"),
                                          ("39", "damping-relation")])
def test_perturbed_printed_is_a_mismatch(monkeypatch, key, step_id):
    p = printed.PRINTED[key]
    wrong = tuple(2 * x for x in p.rhs) if isinstance(p.rhs, tuple) else 2 * p.rhs
    monkeypatch.setitem(printed.PRINTED, key, Printed(lhs=p.lhs, rhs=wrong))
    assert status(step_id) == "mismatch"


def test_broken_derivation_fails(monkeypatch, fresh):
    real = sec3a_rsi.lambda_from_39()
    monkeypatch.setattr(sec3a_rsi, "lambda_from_39", lambda: real * (1 + sp.Symbol("alpha") ** 2))
    sec3a_rsi.d_gilbert.cache_clear()
    assert status("gilbert-term") == "failed"


def test_41_is_derived_from_the_d_term_not_typed():
    """The rate of (41) solves the RSI equation with the derived D and equals the Gilbert form."""
    derived = sec3a_rsi.llg_rate()
    assert all(sp.cancel(a - b) == 0 for a, b in zip(derived, sec3a_rsi.gilbert_rate()))
    assert not hasattr(sec3a_rsi, "llg41_rhs")


def test_41_fails_when_d_is_not_gilbert(monkeypatch, fresh):
    """The check of (41) substitutes the rate into the derived equation: a D with an extra
    torque along M x H_eff makes it fail."""
    real = sec3a_rsi.d_gilbert()
    extra = sp.Rational(1, 100) * sec3a_rsi.gamma
    monkeypatch.setattr(sec3a_rsi, "d_gilbert",
                        lambda: tuple(real[a] + extra * cross(M, H_eff)[a] for a in range(3)))
    assert status("llg-form") == "failed"


def test_39_is_checked_with_the_field_on(monkeypatch, fresh):
    """A D whose M x dM/dt part is right but which carries a field torque fails (39): the
    whole vector D - alpha M x dM/dt is compared, not one component with the field off."""
    real = sec3a_rsi.d_constant()
    k = sp.Symbol("kappa", positive=True)
    monkeypatch.setattr(sec3a_rsi, "d_constant",
                        lambda: tuple(real[a] + k * cross(M, H_eff)[a] for a in range(3)))
    assert status("damping-relation") == "failed"


def test_azimuth_is_integrated_from_the_derived_rate(monkeypatch, fresh):
    """phi(t) comes from the precession rate; a wrong rate makes the azimuth fail against the
    derived equation."""
    real = sec3a_rsi.precession_rate()
    monkeypatch.setattr(sec3a_rsi, "precession_rate", lambda: 2 * real)
    assert status("azimuth") == "failed"
    assert status("precession-frequency") == "failed"


@pytest.fixture(scope="module")
def necessity():
    out = {}
    for sid in ("gilbert-term", "damping-relation", "llg-form", "static-transverse",
                "static-longitudinal", "precession-frequency", "azimuth"):
        r = run_step(_step(sid), sec3a_rsi.DERIVATION, necessity=True)
        out[sid] = {n["key"]: n["verdict"] for n in r.necessity if n["verdict"] != "convention"}
    return out


def test_38_needs_39_and_conservation(necessity):
    assert necessity["gilbert-term"] == {"eq39": "needed", "conserve": "needed"}
    assert necessity["damping-relation"] == {"conserve": "needed"}


def test_41_needs_39_not_imposed_conservation(necessity):
    """Finding: the derived equation conserves |M| by itself, so (41) holds without
    eliminating dM_z/dt; (39) is needed."""
    assert necessity["llg-form"] == {"eq39": "needed", "conserve": "not needed"}


def test_static_steps_need_the_static_field_not_39(necessity):
    """Finding: (42)-(43) and the precession factor |gamma| H_z (1 - lambda alpha M^2) hold for
    independent lambda, alpha; only omega0/(1 + alpha0^2) needs (39)-(40)."""
    for sid in ("static-transverse", "static-longitudinal", "azimuth"):
        assert necessity[sid] == {"static-field": "needed", "eq39": "not needed",
                                  "conserve": "not needed"}
    assert necessity["precession-frequency"] == {"static-field": "needed", "eq39": "needed",
                                                 "conserve": "not needed"}


def test_41_as_printed_holds_without_39(results):
    assert results["llg-printed-general"].status == "verified"


@pytest.fixture(scope="module")
def results_bc():
    from derivations import sec3b_general_field, sec3c_algebra

    out = {}
    for d in (sec3b_general_field.DERIVATION, sec3c_algebra.DERIVATION):
        out.update({r.id: r for r in d.run()})
    return out


def test_equations_46_to_61_listed_none_failed(results_bc):
    assert {str(n) for n in range(46, 62)} <= {r.equation for r in results_bc.values()}
    assert not [r.id for r in results_bc.values() if r.status in ("failed", "mismatch")]


def test_barred_parameters_are_named_apart():
    from derivations.printed import lb46, lb49

    assert lb46 != lb49
    assert "lambdabar46" in printed.PRINTED["46"].reading
    assert "lambdabar49" in printed.PRINTED["49"].reading


def test_relaxation_time_52_matches_derivation(results_bc):
    assert results_bc["extra-torque-relaxation-time"].status == "verified"


def test_perturbed_59_flips(monkeypatch):
    from derivations import sec3c_algebra

    p = printed.PRINTED["59"]
    swapped = Printed(lhs=p.lhs, rhs=(p.rhs[1], p.rhs[0]))  # kappa_+ and kappa_- exchanged
    monkeypatch.setitem(printed.PRINTED, "59", swapped)
    step = next(s for s in sec3c_algebra.DERIVATION.steps if s.id == "kappa-roots")
    assert run_step(step, sec3c_algebra.DERIVATION).status in ("mismatch", "failed")


def test_combined_model_holds_in_a_general_field(results_bc):
    """The model llg_rsi_extra rests on this step: (46) and (49) together, D derived in a
    time-dependent field, satisfied by the Gilbert-form rate."""
    assert results_bc["combined-general-field"].status == "verified"
    assert results_bc["combined-rates"].status == "verified"


def test_combined_general_field_can_fail(monkeypatch):
    """A rate with a damping 1% off leaves a residual in the general-field check."""
    from derivations import sec3b_general_field as g

    right = g.combined_rate()
    off = tuple(r + sp.Rational(1, 100) * g.gamma * cross(M, cross(M, H_eff))[a] for a, r in enumerate(right))
    monkeypatch.setattr(g, "combined_rate", lambda: off)
    step = next(s for s in g.DERIVATION.steps if s.id == "combined-general-field")
    assert next(r.status for r in g.DERIVATION.run() if r.id == step.id) == "failed"
