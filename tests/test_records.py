"""Derivation records: statuses come from checks, and checks can fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp

import derivations.printed as printed
from derivations import sec2a_zeeman
from symmag.algebra.operators import Moment
from symmag.algebra.su2 import M0, S, site_sum
from symmag.checking.derivation import Derivation, Equal, Printed, Step
from symmag.cli.main import main
from symmag.conventions import gamma, hbar

ROOT = Path(__file__).resolve().parents[1]


def status_of(step_id: str) -> str:
    for r in sec2a_zeeman.DERIVATION.run():
        if r.id == step_id:
            return r.status
    raise KeyError(step_id)


def test_paper_steps_verify():
    assert status_of("moment-operator") == "verified"
    assert status_of("moment-algebra") == "verified"


def test_editing_printed_entry_flips_status(monkeypatch):
    entry = printed.PRINTED["8"]
    # the paper with the opposite sign of the structure constant
    wrong = Printed(lhs=entry.lhs, rhs=tuple(tuple(-x for x in row) for row in entry.rhs),
                    kind=entry.kind)
    monkeypatch.setitem(printed.PRINTED, "8", wrong)
    assert status_of("moment-algebra") == "mismatch"  # a difference nobody recorded
    monkeypatch.setitem(printed.PRINTED, "8", entry)
    assert status_of("moment-algebra") == "verified"


def test_replacing_the_whole_table_is_seen(monkeypatch):
    table = dict(printed.PRINTED)
    table["6"] = Printed(lhs=tuple(Moment(a) for a in range(3)),
                         rhs=tuple(2 * Moment(a) for a in range(3)))
    monkeypatch.setattr(printed, "PRINTED", table)
    assert status_of("moment-operator") == "mismatch"


def test_broken_derived_side_fails_not_erratum(monkeypatch):
    def broken():
        claim = sec2a_zeeman.eq8()
        lhs = [list(row) for row in claim.lhs]
        lhs[0][1] = lhs[0][1] * 2  # drop a factor in the derivation
        return Equal(tuple(map(tuple, lhs)), claim.rhs)

    steps = tuple(
        Step(**{**s.__dict__, "claim": broken}) if s.id == "moment-algebra" else s
        for s in sec2a_zeeman.DERIVATION.steps
    )
    d = Derivation(**{**sec2a_zeeman.DERIVATION.__dict__, "steps": steps})
    result = {r.id: r for r in d.run()}["moment-algebra"]
    assert result.status == "failed"
    assert "residual" in result.detail


def test_crashing_derivation_is_failed_with_reason():
    d = Derivation(name="t", title="t", steps=(Step(id="boom", claim=lambda: 1 / 0),))
    (r,) = d.run()
    assert r.status == "failed" and "ZeroDivisionError" in r.detail


def test_step_needs_a_check_to_be_verified():
    with pytest.raises(ValueError):
        Step(id="x")  # a claim step without a claim
    with pytest.raises(ValueError):
        Step(id="x", kind="unchecked")  # unchecked without a reason


def test_representation_is_recorded_and_used():
    from symmag.algebra.representation import Representation

    i = sp.Symbol("i")
    half = Representation(sp.Rational(1, 2))
    claim = lambda: Equal(S(i, 0) * S(i, 0), hbar**2 / 4)  # noqa: E731
    plain = Derivation("p", "p", (Step(id="sx2", claim=claim),)).run()[0]
    declared = Derivation("d", "d", (Step(id="sx2", claim=claim, representation=half),)).run()[0]
    assert plain.status == "failed"  # not an identity of the algebra
    assert declared.status == "verified"
    assert any("spin s = 1/2" in a for a in declared.assumptions)


def test_site_sum_over_symbolic_n_closes_algebra():
    m = [gamma * site_sum(lambda j, a=a: S(j, a)) for a in range(3)]
    lhs = m[0] * m[1] - m[1] * m[0]
    assert lhs == sp.I * hbar * gamma * M0(2)


def test_check_json_schema(capsys):
    """The schema of `check --json` (on Sec. II A: every derivation writes the same records; the
    paper's whole run is checked line by line in tests/test_report.py from the report's records)."""
    assert main(["check", "--json", str(ROOT / "derivations" / "sec2a_zeeman.py")]) == 0
    out = json.loads(capsys.readouterr().out)
    keys = {"id", "derivation", "equation", "status", "method", "assumptions", "printed",
            "derived", "derived_display", "seconds", "detail", "statement", "reason", "residual",
            "residual_display", "necessity"}
    assert out["results"] and all(set(r) == keys for r in out["results"])
    assert {"total", "verified", "erratum", "mismatch", "failed", "definition",
            "unchecked"} <= set(out["summary"])
    from symmag.checking.derivation import METHODS, STATUSES

    assert all(r["status"] in STATUSES and r["method"] in METHODS for r in out["results"])


def test_check_exit_1_on_failure(tmp_path, capsys):
    mod = tmp_path / "bad_derivation.py"
    mod.write_text(
        "from symmag import Derivation, Step, Equal, M0\n"
        "claim = lambda: Equal(M0(0) * M0(1), M0(1) * M0(0))\n"
        "DERIVATION = Derivation('bad', 'bad', (Step(id='wrong', claim=claim),))\n"
    )
    assert main(["check", str(mod)]) == 1
    assert "failed" in capsys.readouterr().out


def test_jupyter_latex_reprs():
    step = sec2a_zeeman.DERIVATION.run()[7]
    latex = step._repr_latex_()
    assert latex.startswith("$") and latex.endswith("$") and step.status in latex
    table = sec2a_zeeman.DERIVATION._repr_latex_()
    assert "(8)" in table and table.count(r"\\") >= len(sec2a_zeeman.DERIVATION.steps)


def test_parallel_check_matches_serial(capsys):
    paths = ["derivations/sec2a_zeeman.py", "derivations/sec4_spin_spin.py"]
    outputs = []
    for jobs in ("1", "2"):
        assert main(["check", "--json", "--jobs", jobs, *paths]) == 0
        records = json.loads(capsys.readouterr().out)["results"]
        outputs.append([(r["id"], r["status"], r["method"], r["derived"]) for r in records])
    assert outputs[0] == outputs[1]


def test_derived_by_must_be_a_function_of_the_result():
    from symmag.checking.derivation import Derived

    x = sp.Symbol("x")
    static = Step(id="static", claim=lambda: Derived(result=Equal(x, 2), by=Equal(1, 1)))
    (r,) = Derivation("d", "d", (static,)).run()
    assert r.status == "failed" and "function of the result" in r.detail
    # x^2 = 4 solved: substituting the result back checks it, so a wrong result fails
    good = Step(id="good", claim=lambda: Derived(Equal(x, 2), by=lambda r: Equal(r.rhs**2, 4)))
    bad = Step(id="bad", claim=lambda: Derived(Equal(x, 3), by=lambda r: Equal(r.rhs**2, 4)))
    statuses = [r.status for r in Derivation("d", "d", (good, bad)).run()]
    assert statuses == ["verified", "failed"]


def test_definition_that_cannot_be_built_fails():
    def boom():
        raise RuntimeError("boom")

    (r,) = Derivation("d", "d", (Step(id="def", kind="definition", claim=boom),)).run()
    assert r.status == "failed" and "boom" in r.detail


def test_identity_residual_on_matrices():
    from symmag.algebra.matrices import SpinSystem, identity_residual

    system = SpinSystem(2, 1, hbar=0.7, gamma=-1.3)
    assert identity_residual(M0(0) * M0(1) - M0(1) * M0(0), sp.I * hbar * gamma * M0(2), system) < 1e-12
    assert identity_residual(M0(0) * M0(1), M0(1) * M0(0), system) > 0.1


def test_a_by_that_drops_its_result_through_substitution_is_caught():
    """Review finding: with the real result these claims are Equal(x, x) -- the result is gone
    (subs, coeff, limit remove it) -- so the probe must flag them, whatever shortcut it takes."""
    from symmag.checking.derivation import Derived, _ignores_result

    x, m, a = sp.symbols("x M A")
    for by in (lambda r: Equal(x + r.rhs.subs(m, 0), x), lambda r: Equal(x + r.rhs.coeff(x, 0), x)):
        claim = Derived(result=Equal(a, m * x), by=by)
        assert "does not involve" in _ignores_result(claim, claim.check_claim())
